// backup_database and restore_database (whole-file copies through SQLite's online backup API):
// what the operations team runs on the database file as a whole.
#include <fcntl.h>
#include <fmt/format.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>

#include "storage/storage.h"

namespace storage {
namespace {

namespace fs = std::filesystem;

struct CloseDatabase {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
using Connection = std::unique_ptr<sqlite3, CloseDatabase>;

Connection open_database(const fs::path& file, int flags) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(file.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  Connection connection(db);
  if (rc != SQLITE_OK) {
    throw std::runtime_error(fmt::format("cannot open {}: {}", file.string(),
                                         db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
  }
  sqlite3_busy_timeout(db, 5000);
  return connection;
}

// The single text or integer `sql` returns.
std::string query_one(sqlite3* db, const char* sql, const fs::path& file) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &raw, nullptr) != SQLITE_OK) {
    throw std::runtime_error(fmt::format("{}: {}", file.string(), sqlite3_errmsg(db)));
  }
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> statement(raw, sqlite3_finalize);
  const int rc = sqlite3_step(raw);
  if (rc != SQLITE_ROW) {
    throw std::runtime_error(fmt::format("{}: {}", file.string(), sqlite3_errmsg(db)));
  }
  const unsigned char* text = sqlite3_column_text(raw, 0);
  return text != nullptr ? reinterpret_cast<const char*>(text) : "";
}

// Checks that `db` (the file `file`) is whole and a casewatch database; its schema version.
int check_database(sqlite3* db, const fs::path& file) {
  const std::string integrity = query_one(db, "PRAGMA integrity_check(1)", file);
  if (integrity != "ok") {
    throw std::runtime_error(
        fmt::format("{} fails PRAGMA integrity_check: {}", file.string(), integrity));
  }
  const int version = std::stoi(query_one(db, "PRAGMA user_version", file));
  if (version < 1) {
    throw std::runtime_error(fmt::format("{} is not a casewatch database", file.string()));
  }
  return version;
}

// Copies every page of `from` into `to` in one step (one read transaction on `from`).
void copy_pages(sqlite3* from, sqlite3* to, const fs::path& source, const fs::path& target) {
  sqlite3_backup* backup = sqlite3_backup_init(to, "main", from, "main");
  if (backup == nullptr) {
    throw std::runtime_error(fmt::format("cannot copy {} to {}: {}", source.string(),
                                         target.string(), sqlite3_errmsg(to)));
  }
  int rc = SQLITE_OK;
  do {
    rc = sqlite3_backup_step(backup, -1);
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
      sqlite3_sleep(50);
    }
  } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
  sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) {
    throw std::runtime_error(fmt::format("cannot copy {} to {}: {}", source.string(),
                                         target.string(), sqlite3_errstr(rc)));
  }
}

// A new empty file `path`, 0640 whatever the umask; an existing one is truncated.
void create_private_file(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) {
    throw std::runtime_error(
        fmt::format("cannot create {}: {}", path.string(), std::strerror(errno)));
  }
  ::fchmod(fd, 0640);
  ::close(fd);
}

// Copies `from` to the new file `to` (a temporary one) and checks the copy; its schema version.
int copy_and_check(const fs::path& from, const fs::path& to) {
  create_private_file(to);
  try {
    Connection source = open_database(from, SQLITE_OPEN_READONLY);
    Connection target = open_database(to, SQLITE_OPEN_READWRITE);
    copy_pages(source.get(), target.get(), from, to);
    // A plain rollback-journal file: a backup is one file, whatever the source's journal mode.
    query_one(target.get(), "PRAGMA journal_mode=DELETE", to);
    return check_database(target.get(), to);
  } catch (...) {
    std::error_code ignored;
    fs::remove(to, ignored);
    throw;
  }
}

void rename_or_throw(const fs::path& from, const fs::path& to) {
  if (std::rename(from.c_str(), to.c_str()) != 0) {
    const int error = errno;
    std::error_code ignored;
    fs::remove(from, ignored);
    throw std::runtime_error(fmt::format("cannot rename {} to {}: {}", from.string(), to.string(),
                                         std::strerror(error)));
  }
}

fs::path temporary_beside(const fs::path& file) {
  return file.parent_path() / ("." + file.filename().string() + ".tmp");
}

}  // namespace

CopyResult backup_database(const fs::path& database, const fs::path& target) {
  if (!fs::exists(database)) {
    throw std::runtime_error(fmt::format("no database at {}", database.string()));
  }
  const fs::path temporary = temporary_beside(target);
  CopyResult result;
  result.schema_version = copy_and_check(database, temporary);
  rename_or_throw(temporary, target);
  result.bytes = fs::file_size(target);
  return result;
}

CopyResult restore_database(const fs::path& backup, const fs::path& database) {
  {
    Connection check = open_database(backup, SQLITE_OPEN_READONLY);
    check_database(check.get(), backup);
  }
  const fs::path temporary = temporary_beside(database);
  CopyResult result;
  result.schema_version = copy_and_check(backup, temporary);
  std::error_code ec;
  if (fs::exists(database)) {
    // Fold the old database's write-ahead log into it, so that the copy kept beside is whole.
    Connection old = open_database(database, SQLITE_OPEN_READWRITE);
    query_one(old.get(), "PRAGMA wal_checkpoint(TRUNCATE)", database);
    old.reset();
    fs::path kept = database;
    kept += ".before-restore";
    rename_or_throw(database, kept);
  }
  for (const char* suffix : {"-wal", "-shm"}) {
    fs::path stale = database;
    stale += suffix;
    fs::remove(stale, ec);
  }
  rename_or_throw(temporary, database);
  result.bytes = fs::file_size(database);
  return result;
}

}  // namespace storage
