#include <sqlite3.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <stdexcept>
#include <string>

#include "storage/storage.h"
#include "tests/support/temp_dir.h"

namespace {

// Runs `sql` on `file` with the plain SQLite API (to prepare foreign or future databases).
void run_sql(const std::filesystem::path& file, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  sqlite3_free(error);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
}

std::string open_error(const std::filesystem::path& file) {
  try {
    storage::History history(file);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("an empty database is migrated to the last schema version, and reopening changes nothing",
          "[storage][open]") {
  test_support::TempDir dir;
  const auto file = dir / "casewatch.db";
  int version = 0;
  {
    storage::History history(file);
    version = history.schema_version();
    CHECK(version >= 1);
    history.set_setting("marker", "kept");
  }
  storage::History reopened(file);
  CHECK(reopened.schema_version() == version);
  CHECK(reopened.setting("marker") == "kept");
}

TEST_CASE("an in-memory database is migrated too", "[storage][open]") {
  storage::History history(":memory:");
  CHECK(history.schema_version() >= 1);
}

TEST_CASE("the database file is created with mode 0640 whatever the umask", "[storage][open]") {
  test_support::TempDir dir;
  const auto file = dir / "casewatch.db";
  const mode_t old_umask = ::umask(0);
  { storage::History history(file); }
  ::umask(old_umask);
  struct stat info {};
  REQUIRE(::stat(file.c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0640);
}

TEST_CASE("a file of garbage bytes is refused as not a casewatch database", "[storage][open]") {
  test_support::TempDir dir;
  const auto file = dir.write("casewatch.db", std::string(4096, 'x'));
  CHECK(open_error(file) ==
        file.string() + ": not a casewatch database or it is corrupt: file is not a database");
}

TEST_CASE("another program's SQLite database is refused", "[storage][open]") {
  test_support::TempDir dir;
  const auto file = dir / "other.db";
  run_sql(file, "CREATE TABLE customers (id INTEGER PRIMARY KEY)");
  CHECK(open_error(file) ==
        file.string() + ": not a casewatch database or it is corrupt: it holds other tables");
}

TEST_CASE("a database written by a newer casewatch is refused with its version",
          "[storage][open]") {
  test_support::TempDir dir;
  const auto file = dir / "casewatch.db";
  int known = 0;
  {
    storage::History history(file);
    known = history.schema_version();
  }
  run_sql(file, "PRAGMA user_version = 99");
  CHECK(open_error(file) == file.string() +
                                ": the database has schema version 99, newer than this "
                                "casewatch knows (" +
                                std::to_string(known) +
                                "); use the casewatch that wrote it or a newer one");
}
