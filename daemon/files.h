// Small file-system helpers for folders and files that hold children's data: created 0750 and
// 0640, written whole (temporary file, fsync, rename) so a crash never leaves half a file.
#ifndef CASEWATCH_DAEMON_FILES_H_
#define CASEWATCH_DAEMON_FILES_H_

#include <cstddef>
#include <filesystem>
#include <string_view>

namespace service {

// Creates `dir` (and missing parents) with mode 0750. An existing folder that the group may
// write or others may use (mode & 0027 & ~allowed) is logged as a warning and tightened when
// this process owns it. `allowed` names bits kept as shipped: 0001 on the state folder (0751,
// so that the drop group reaches the inbox by path) and 0020 on the inbox (3770, writable by
// casewatch-drop). Throws std::runtime_error naming the folder when it cannot be created or is
// not writable.
void make_private_dir(const std::filesystem::path& dir, unsigned allowed = 0);

// Removes the temporary files a killed process left in `dir` (and its subfolders when
// `recursive`): dot-files whose names end with `suffix` (".tmp" from write_private_file,
// ".moving" from move_into). Returns how many. For start-up, before anything writes there.
std::size_t remove_stale_temporaries(const std::filesystem::path& dir, std::string_view suffix,
                                     bool recursive);

// Writes `bytes` to `file` with mode 0640, atomically (a temporary name in the same folder,
// fsync, rename). Throws std::runtime_error naming the file.
void write_private_file(const std::filesystem::path& file, std::string_view bytes);

// Moves `file` into `dir` with mode 0640, adding ".1", ".2", ... before the extension when the
// name is taken by another file. Returns the new path. Throws std::runtime_error naming the
// file, the folder and the operation that failed.
// Works across file systems (an inbox on an NFS or SMB share, the archive on local disk): when
// rename() says EXDEV, the file is copied to ".NAME.moving" in `dir`, fsynced, renamed into
// place, the folder fsynced, and only then the original unlinked. A move interrupted by a crash
// completes on the next call for the same file: a stale ".NAME.moving" is overwritten, and when
// `dir` already holds a file of that name with the same bytes (the copy was renamed into place
// but the original not yet unlinked), the original is unlinked and that copy returned.
std::filesystem::path move_into(const std::filesystem::path& file,
                                const std::filesystem::path& dir);

}  // namespace service

#endif  // CASEWATCH_DAEMON_FILES_H_
