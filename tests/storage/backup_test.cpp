#include <sqlite3.h>

#include <algorithm>
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
  out.reserve(count);
  for (int i = 0; i < count; ++i) {
    out.push_back(case_record("C" + std::to_string(i), worker));
  }
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
  if (key.empty()) {
    key = "C" + std::to_string(id);
  }
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
  if (error != nullptr) {
    FAIL(error);
  }
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

  const auto pruned = storage::prune_history(database, date(2020, 1, 1));
  CHECK(pruned.findings == 2);
  CHECK(pruned.notes == 2);
  CHECK(column_of(database, "SELECT id FROM findings ORDER BY id") ==
        std::vector<std::string>{"2", "3"});
  CHECK(column_of(database, "SELECT finding_id FROM notes ORDER BY 1") ==
        std::vector<std::string>{"2", "3"});

  const auto again = storage::prune_history(database, date(2020, 1, 1));
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

  const auto pruned = storage::prune_history(database, date(2020, 1, 1));
  CHECK(pruned.findings == 1);
  CHECK(pruned.notes == 0);
  CHECK(column_of(database, "SELECT id FROM findings ORDER BY id") ==
        std::vector<std::string>{"1", "2", "4", "5"});
  CHECK(column_of(database, "SELECT finding_id FROM notes ORDER BY 1") ==
        std::vector<std::string>{"1", "2", "4"});
}

TEST_CASE("pruning deletes the record versions an extract before the cutoff ended, and no other",
          "[storage][retention]") {
  test_support::TempDir dir;
  const fs::path database = dir.path() / "casewatch.db";
  {
    storage::History history(database);
    ingest(history, "cases", date(2015, 1, 5),
           {case_record("C1", ""), case_record("C2", ""), case_record("C3", "")});
    // C1 changes and C2 goes: their first versions end on 2 Feb 2015.
    ingest(history, "cases", date(2015, 2, 2),
           {case_record("C1", "J Smith"), case_record("C3", "")});
    // C1's second version ends on 4 Jan 2021, after the cutoff.
    ingest(history, "cases", date(2021, 1, 4),
           {case_record("C1", "A Khan"), case_record("C3", "")});
  }
  const auto blocks = [&] {
    return column_of(database, "SELECT id FROM record_blocks ORDER BY id");
  };
  REQUIRE(blocks().size() == 3);

  const auto pruned = storage::prune_history(database, date(2020, 1, 1));
  CHECK(pruned.record_versions == 2);  // C1 and C2 as of 5 Jan 2015
  CHECK(pruned.findings == 0);
  {
    storage::History history(database);
    const auto c1 = history.record_history("cases", "C1");
    REQUIRE(c1.size() == 2);
    CHECK(c1[0].record == case_record("C1", "J Smith"));
    CHECK(c1[0].valid_from == date(2015, 2, 2));
    CHECK(c1[0].valid_to == date(2021, 1, 4));
    CHECK(c1[1].record == case_record("C1", "A Khan"));
    CHECK(history.record_history("cases", "C2").empty());
    // C3's version of 5 Jan 2015 is still current: kept, in the block it shares.
    const auto c3 = history.record_history("cases", "C3");
    REQUIRE(c3.size() == 1);
    CHECK(c3[0].valid_from == date(2015, 1, 5));
    CHECK_FALSE(c3[0].valid_to);
    auto current = history.current_records("cases");
    std::sort(current.begin(), current.end(),
              [](const auto& a, const auto& b) { return a.key < b.key; });
    CHECK(current ==
          std::vector<rules::Record>{case_record("C1", "A Khan"), case_record("C3", "")});
  }
  CHECK(blocks().size() == 3);  // each still holds a version that is kept
  CHECK(storage::prune_history(database, date(2020, 1, 1)).record_versions == 0);

  // C3 goes on 1 Feb 2021; with a later cutoff the first two blocks hold nothing kept.
  {
    storage::History history(database);
    ingest(history, "cases", date(2021, 2, 1), {case_record("C1", "A Khan")});
  }
  const auto later = storage::prune_history(database, date(2022, 1, 1));
  CHECK(later.record_versions == 2);  // C3 of 5 Jan 2015, C1 of 2 Feb 2015
  CHECK(blocks().size() == 1);
  CHECK(column_of(database,
                  "SELECT DISTINCT e.as_of FROM key_chunks k JOIN extracts e ON "
                  "e.id = k.extract_id ORDER BY 1") == std::vector<std::string>{"2021-01-04"});
  CHECK(integrity_of(database) == "ok");
  storage::History history(database);
  const auto c1 = history.record_history("cases", "C1");
  REQUIRE(c1.size() == 1);
  CHECK(c1[0].record == case_record("C1", "A Khan"));
  CHECK(history.record_history("cases", "C3").empty());
  CHECK(history.current_records("cases") ==
        std::vector<rules::Record>{case_record("C1", "A Khan")});
}

TEST_CASE("pruning deletes record versions written before record blocks, with their index rows",
          "[storage][retention]") {
  test_support::TempDir dir;
  const fs::path database = dir.path() / "casewatch.db";
  {
    storage::History history(database);
    ingest(history, "cases", date(2015, 1, 5), {case_record("C1", "")});
    ingest(history, "cases", date(2015, 2, 2), {case_record("C1", "")});
  }
  // Two versions as migration 1 stored them: L1 ended by the 2 Feb 2015 extract, L2 current.
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(database.c_str(), &db) == SQLITE_OK);
  const std::string sql =
      "INSERT INTO records (id, source_id, key, valid_from, valid_to, hash, data) VALUES "
      "(1, 1, 'L1', 1, NULL, 0, x''), (2, 1, 'L2', 1, NULL, 0, x'');"
      "INSERT INTO record_keys (source_id, key_hash, record_id) VALUES (1, 11, 1), (1, 22, 2);"
      "INSERT INTO record_ends (record_id, extract_id) VALUES (1, 2);";
  REQUIRE(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);

  CHECK(storage::prune_history(database, date(2015, 2, 2)).record_versions == 0);  // ended on it
  CHECK(storage::prune_history(database, date(2015, 2, 3)).record_versions == 1);
  CHECK(column_of(database, "SELECT key FROM records") == std::vector<std::string>{"L2"});
  CHECK(column_of(database, "SELECT record_id FROM record_keys") == std::vector<std::string>{"2"});
  CHECK(column_of(database, "SELECT record_id FROM record_ends WHERE record_id < 100").empty());
}
