// Small file-system helpers for folders and files that hold children's data: created 0750 and
// 0640, written whole (temporary file, fsync, rename) so a crash never leaves half a file.
#ifndef CASEWATCH_DAEMON_FILES_H_
#define CASEWATCH_DAEMON_FILES_H_

#include <filesystem>
#include <string_view>

namespace service {

// Creates `dir` (and missing parents) with mode 0750; an existing folder is left as it is.
// Throws std::runtime_error naming the folder when it cannot be created or is not writable.
void make_private_dir(const std::filesystem::path& dir);

// Writes `bytes` to `file` with mode 0640, atomically (a temporary name in the same folder,
// fsync, rename). Throws std::runtime_error naming the file.
void write_private_file(const std::filesystem::path& file, std::string_view bytes);

// Moves `file` into `dir` (rename; same file system), adding ".1", ".2", ... before the
// extension when the name is taken. Returns the new path. Throws on failure.
std::filesystem::path move_into(const std::filesystem::path& file,
                                const std::filesystem::path& dir);

}  // namespace service

#endif  // CASEWATCH_DAEMON_FILES_H_
