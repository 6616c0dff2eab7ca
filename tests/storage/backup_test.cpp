#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "storage/storage.h"
#include "tests/storage/storage_test_support.h"
#include "tests/support/temp_dir.h"

using storage_test::case_record;
using storage_test::date;
using storage_test::extract_info;
using storage_test::ingest;

namespace {

namespace fs = std::filesystem;

// The first column of every row `sql` returns, on `file` (a connection of its own).
std::vector<std::string> column_of(const fs::path& file, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
  sqlite3_stmt* statement = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr) == SQLITE_OK);
  std::vector<std::string> out;
  while (sqlite3_step(statement) == SQLITE_ROW) {
    out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(statement, 0)));
  }
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return out;
}

std::string integrity_of(const fs::path& file) {
  const auto rows = column_of(file, "PRAGMA integrity_check");
  return rows.empty() ? "" : rows[0];
}

std::vector<rules::Record> many_cases(int count, const std::string& worker) {
  std::vector<rules::Record> out;
  for (int i = 0; i < count; ++i) out.push_back(case_record("C" + std::to_string(i), worker));
  return out;
}

}  // namespace

TEST_CASE("a backup taken while an extract is being written is whole and holds what was committed",
          "[storage][backup]") {
  test_support::TempDir dir;
  const fs::path database = dir.path() / "casewatch.db";
  const fs::path copy = dir.path() / "backup.db";
  storage::History history(database);
  ingest(history, "cases", date(2026, 11, 2), many_cases(3000, ""));

  {
    // An ingest in progress: thousands of new versions written, not yet committed.
    auto writer = history.begin_extract(extract_info("cases", date(2026, 11, 9), "second"));
    writer.add(many_cases(6000, "J Smith"));
    const auto result = storage::backup_database(database, copy);
    CHECK(result.schema_version == history.schema_version());
    CHECK(result.bytes == fs::file_size(copy));
    writer.commit(6000);
  }

  CHECK(integrity_of(copy) == "ok");
  CHECK((fs::status(copy).permissions() & fs::perms::all) ==
        (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read));
  CHECK_FALSE(fs::exists(dir.path() / ".backup.db.tmp"));
  storage::History restored(copy);
  REQUIRE(restored.extracts().size() == 1);
  CHECK(restored.extracts()[0].as_of == date(2026, 11, 2));
  CHECK(restored.current_records("cases").size() == 3000);

  // Taken again after the commit, it holds the second extract too.
  storage::backup_database(database, copy);
  CHECK(storage::History(copy).extracts().size() == 2);
}

TEST_CASE("a backup into a missing folder fails naming it and writes nothing",
          "[storage][backup]") {
  test_support::TempDir dir;
  const fs::path database = dir.path() / "casewatch.db";
  { storage::History history(database); }
  CHECK_THROWS_WITH(storage::backup_database(database, dir.path() / "no" / "backup.db"),
                    Catch::Contains((dir.path() / "no").string()));
  CHECK_THROWS_WITH(storage::backup_database(dir.path() / "absent.db", dir.path() / "b.db"),
                    "no database at " + (dir.path() / "absent.db").string());
  CHECK_FALSE(fs::exists(dir.path() / "b.db"));
}

TEST_CASE("restore replaces the database, keeping the old one beside it", "[storage][backup]") {
  test_support::TempDir dir;
  const fs::path database = dir.path() / "casewatch.db";
  const fs::path copy = dir.path() / "backup.db";
  {
    storage::History history(database);
    ingest(history, "cases", date(2026, 11, 2), many_cases(10, ""));
    storage::backup_database(database, copy);
    ingest(history, "cases", date(2026, 11, 9), many_cases(20, ""));
  }
  const auto result = storage::restore_database(copy, database);
  CHECK(result.schema_version >= 1);
  CHECK(integrity_of(database) == "ok");
  CHECK(storage::History(database).extracts().size() == 1);
  CHECK(storage::History(dir.path() / "casewatch.db.before-restore").extracts().size() == 2);
}

TEST_CASE("restore refuses a file that is not a whole casewatch database", "[storage][backup]") {
  test_support::TempDir dir;
  const fs::path database = dir.path() / "casewatch.db";
  {
    storage::History history(database);
    ingest(history, "cases", date(2026, 11, 2), many_cases(10, ""));
  }
  const fs::path garbage = dir.path() / "garbage.db";
  std::ofstream(garbage) << "not a database at all, just some text that is long enough";
  CHECK_THROWS(storage::restore_database(garbage, database));
  const fs::path empty = dir.path() / "empty.db";
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(empty.c_str(), &db) == SQLITE_OK);
    sqlite3_exec(db, "CREATE TABLE t(x)", nullptr, nullptr, nullptr);
    sqlite3_close(db);
  }
  CHECK_THROWS_WITH(storage::restore_database(empty, database),
                    empty.string() + " is not a casewatch database");
  CHECK(storage::History(database).extracts().size() == 1);
  CHECK_FALSE(fs::exists(dir.path() / "casewatch.db.before-restore"));
}

namespace {

// Inserts a finding (and `notes` notes on it) straight into the database file.
void insert_finding(const fs::path& file, int id, const std::string& status,
                    const std::string& resolved_on, int notes, std::string key = "") {
  if (key.empty()) key = "C" + std::to_string(id);
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
  const std::string resolved = resolved_on.empty() ? "NULL" : "'" + resolved_on + "'";
  std::string sql =
      "INSERT INTO findings (id, rule, key, fingerprint, first_seen, last_seen, status, "
      "resolved_on, person, team, worker, band, state, since_at_least, days, working_days, "
      "assumed_interval, detail, position) VALUES (" +
      std::to_string(id) + ", 'unallocated', '" + key + "', 'f', '2010-01-04', '2010-01-04', '" +
      status + "', " + resolved + ", 'P', 'T', '', 'b', 's', 0, 0, 0, 0, '', 0);";
  for (int n = 0; n < notes; ++n) {
    sql += "INSERT INTO notes (finding_id, rule, key, text, author, at) VALUES (" +
           std::to_string(id) + ", 'unallocated', '" + key +
           "', 'note', 'a', '2010-01-05T09:00:00Z');";
  }
  char* error = nullptr;
  CHECK(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) == SQLITE_OK);
  if (error != nullptr) FAIL(error);
  sqlite3_close(db);
}

}  // namespace

TEST_CASE("pruning deletes exactly the findings resolved before the cutoff, with their notes",
          "[storage][retention]") {
  test_support::TempDir dir;
  const fs::path database = dir.path() / "casewatch.db";
  { storage::History history(database); }
  insert_finding(database, 1, "resolved", "2019-12-31", 2);  // the day before: deleted
  insert_finding(database, 2, "resolved", "2020-01-01", 1);  // the cutoff day itself: kept
  insert_finding(database, 3, "open", "", 1);                // open since 2010: kept
  insert_finding(database, 4, "resolved", "2015-06-30", 0);  // deleted

  const auto pruned = storage::prune_resolved_findings(database, date(2020, 1, 1));
  CHECK(pruned.findings == 2);
  CHECK(pruned.notes == 2);
  CHECK(column_of(database, "SELECT id FROM findings ORDER BY id") ==
        std::vector<std::string>{"2", "3"});
  CHECK(column_of(database, "SELECT finding_id FROM notes ORDER BY 1") ==
        std::vector<std::string>{"2", "3"});

  const auto again = storage::prune_resolved_findings(database, date(2020, 1, 1));
  CHECK(again.findings == 0);
  CHECK(again.notes == 0);
}

TEST_CASE(
    "pruning keeps a key's notes, and the findings they were written on, while the key is "
    "on a list again",
    "[storage][retention]") {
  test_support::TempDir dir;
  const fs::path database = dir.path() / "casewatch.db";
  { storage::History history(database); }
  insert_finding(database, 1, "resolved", "2015-06-30", 1, "C9");  // old, but C9 is open again
  insert_finding(database, 2, "open", "", 1, "C9");
  insert_finding(database, 3, "resolved", "2016-01-01", 0, "C8");  // no notes: deleted
  insert_finding(database, 4, "resolved", "2017-01-01", 1, "C8");  // C8 resolved since: kept
  insert_finding(database, 5, "resolved", "2021-01-01", 0, "C8");

  const auto pruned = storage::prune_resolved_findings(database, date(2020, 1, 1));
  CHECK(pruned.findings == 1);
  CHECK(pruned.notes == 0);
  CHECK(column_of(database, "SELECT id FROM findings ORDER BY id") ==
        std::vector<std::string>{"1", "2", "4", "5"});
  CHECK(column_of(database, "SELECT finding_id FROM notes ORDER BY 1") ==
        std::vector<std::string>{"1", "2", "4"});
}
