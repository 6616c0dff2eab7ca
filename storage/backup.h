// Backup, restore (backup.cpp) and pruning (prune.cpp) of whole database files: not History
// methods; each uses a connection of its own.
#ifndef CASEWATCH_STORAGE_BACKUP_H_
#define CASEWATCH_STORAGE_BACKUP_H_

#include <cstddef>
#include <cstdint>
#include <filesystem>

#include "rules/rules.h"

namespace storage {

// ---- backup and restore (backup.cpp): whole database files, not History methods.

// What a backup or restore copied.
struct CopyResult {
  std::uintmax_t bytes = 0;  // size of the written file
  int schema_version = 0;    // its PRAGMA user_version
};

// Copies the database `database` to `target` with SQLite's online backup API, in one read
// transaction on a connection of its own: a consistent copy while the service writes (WAL).
// Writes a temporary file beside `target` (0640), checks it with PRAGMA integrity_check, then
// renames it into place. Throws std::runtime_error naming the file on any failure (target
// folder missing, database unreadable, check failed); `target` is then left as it was.
CopyResult backup_database(const std::filesystem::path& database,
                           const std::filesystem::path& target);

// Replaces the database `database` by the backup `backup`, which must pass PRAGMA
// integrity_check and be a casewatch database (user_version >= 1). The current database, if
// any, is kept beside it as `<name>.before-restore`; its -wal and -shm files are removed (they
// belong to it, not to the backup). REQUIRES: no process has `database` open (the caller
// checks that the service is stopped). Throws std::runtime_error naming the file on failure,
// before anything is replaced.
CopyResult restore_database(const std::filesystem::path& backup,
                            const std::filesystem::path& database);

// ---- pruning (prune.cpp): `[retention] history_years`.

// What prune_history deleted.
struct PruneResult {
  std::size_t findings = 0;         // resolved findings
  std::size_t notes = 0;            // their notes
  std::size_t record_versions = 0;  // record versions that stopped being current
};

// Deletes, in one transaction on a connection of its own (the service's stay open):
// - the findings resolved before `before`, with their notes; open findings are never touched.
//   The notes of a (rule, key) are one trail: they (and the findings they were written on) stay
//   while any finding of that (rule, key) is open or resolved on or after `before`;
// - the record versions that stopped being current (changed or dropped) by an extract as of
//   before `before`: their key and values are gone, so `case KEY` no longer shows them. Current
//   versions are never touched, whatever their age.
// Running it again with the same date deletes nothing more. Throws std::runtime_error naming
// the file on database errors; nothing is deleted then.
PruneResult prune_history(const std::filesystem::path& database, rules::Date before);

}  // namespace storage

#endif  // CASEWATCH_STORAGE_BACKUP_H_
