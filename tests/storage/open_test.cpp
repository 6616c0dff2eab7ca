#include <fmt/format.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <bit>
#include <catch2/catch.hpp>
#include <stdexcept>
#include <string>

#include "storage/impl.h"
#include "storage/migrations.h"
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

// The first column of the first row `sql` returns on `file`, as text ("" when no row).
std::string query_text(const std::filesystem::path& file, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* statement = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr) == SQLITE_OK);
  std::string out;
  if (sqlite3_step(statement) == SQLITE_ROW) {
    const unsigned char* text = sqlite3_column_text(statement, 0);
    if (text != nullptr) {
      out = reinterpret_cast<const char*>(text);
    }
  }
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return out;
}

std::string open_error(const std::filesystem::path& file) {
  try {
    storage::History history(file);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "no error";
}

std::string open_error_read_only(const std::filesystem::path& file) {
  try {
    const storage::History history(file, storage::History::Access::kReadOnly);
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

TEST_CASE("a new database gets 8 KiB pages", "[storage][open]") {
  test_support::TempDir dir;
  const auto file = dir / "casewatch.db";
  { storage::History history(file); }
  CHECK(query_text(file, "PRAGMA page_size") == "8192");
}

// A database as casewatch left it at schema version 2: records C1 ("a") and C2 ("b") of source
// cases, from one extract, indexed in record_keys.
void write_version_2_database(const std::filesystem::path& file) {
  const auto all = storage::migrations();
  std::string sql = std::string(all[0]) + all[1];
  // data: each value as a one-byte length and its bytes; hash: storage's content hash of data.
  const auto record = [&](int id, const std::string& key, const std::string& value) {
    const std::string data = std::string(1, static_cast<char>(value.size())) + value;
    std::string hex;
    for (const char c : data) {
      hex += fmt::format("{:02x}", static_cast<unsigned char>(c));
    }
    return fmt::format(
        "INSERT INTO records (id, source_id, key, valid_from, hash, data) VALUES ({}, 1, '{}', 1, "
        "{}, x'{}'); INSERT INTO record_keys VALUES (1, {}, {});",
        id, key, std::bit_cast<std::int64_t>(storage::content_hash(data)), hex,
        std::bit_cast<std::int64_t>(storage::content_hash(key)), id);
  };
  sql +=
      "INSERT INTO sources (id, name) VALUES (1, 'cases');"
      "INSERT INTO extracts (id, file, source, sha256, as_of, rows, status, handled_at) VALUES "
      "(1, 'cases-2026-11-02.csv', 'cases', 'abc', '2026-11-02', 2, 'ingested', "
      "'2026-11-02T09:30:00Z');" +
      record(1, "C1", "a") + record(2, "C2", "b") + "PRAGMA user_version = 2;";
  run_sql(file, sql);
}

TEST_CASE(
    "a version-2 database upgrades to the latest version and keeps its records, history "
    "and change detection",
    "[storage]") {
  test_support::TempDir dir;
  const auto file = dir / "casewatch.db";
  const auto first = *rules::Date::from_ymd(2026, 11, 2);
  const auto second = *rules::Date::from_ymd(2026, 11, 9);
  write_version_2_database(file);
  storage::History history(file);
  CHECK(history.schema_version() == static_cast<int>(storage::migrations().size()));
  CHECK(query_text(file, "SELECT count(*) FROM sqlite_schema WHERE name = 'records_current'") ==
        "0");
  CHECK(history.current_records("cases") ==
        std::vector<rules::Record>{{"C1", {"a"}}, {"C2", {"b"}}});
  CHECK(history.record_on("cases", "C2", first) == rules::Record{"C2", {"b"}});

  // The next extract has no snapshot blob to start from: it reads the records instead, and
  // still tells the unchanged C2 from the changed C1.
  storage::ExtractInfo info;
  info.file = "cases-2026-11-09.csv";
  info.source = "cases";
  info.sha256 = "def";
  info.as_of = second;
  info.handled_at = "2026-11-09T09:30:00Z";
  auto writer = history.begin_extract(info);
  writer.add(rules::Record{"C1", {"a2"}});
  writer.add(rules::Record{"C2", {"b"}});
  writer.commit(2);
  CHECK(query_text(file, "SELECT count(*) FROM records") == "2");  // the new version is in a block
  CHECK(query_text(file, "SELECT count(*) FROM record_blocks") == "1");
  const auto c1 = history.record_history("cases", "C1");
  REQUIRE(c1.size() == 2);  // one version found through record_keys, one through key_chunks
  CHECK(c1[0].record == rules::Record{"C1", {"a"}});
  CHECK(c1[0].valid_to == second);
  CHECK(c1[1].record == rules::Record{"C1", {"a2"}});
  CHECK(history.record_on("cases", "C1", first) == rules::Record{"C1", {"a"}});
  CHECK(history.record_on("cases", "C1", second) == rules::Record{"C1", {"a2"}});
  CHECK(history.record_history("cases", "C2").size() == 1);
}

TEST_CASE("a read-only connection reads while another holds the write lock, and writes nothing",
          "[storage][open]") {
  test_support::TempDir dir;
  const auto file = dir / "casewatch.db";
  CHECK(open_error_read_only(file).ends_with("unable to open database file"));  // never created
  CHECK_FALSE(std::filesystem::exists(file));
  storage::History writer(file);
  writer.set_setting("marker", "committed");
  const storage::History reader(file, storage::History::Access::kReadOnly);
  CHECK(reader.schema_version() == writer.schema_version());
  storage::ExtractInfo info;
  info.file = "cases-2026-11-09.csv";
  info.source = "cases";
  info.sha256 = "def";
  info.as_of = *rules::Date::from_ymd(2026, 11, 9);
  info.handled_at = "2026-11-09T09:30:00Z";
  {
    auto extract = writer.begin_extract(info);  // BEGIN IMMEDIATE: the write lock, held
    extract.add(rules::Record{"C1", {"a"}});
    CHECK(reader.setting("marker") == "committed");  // answered at once, not after 5 s
    CHECK_FALSE(reader.latest_extract("cases"));     // the open transaction is not seen
    extract.commit(1);
  }
  CHECK(reader.latest_extract("cases")->file == "cases-2026-11-09.csv");
  storage::History same(file, storage::History::Access::kReadOnly);
  CHECK_THROWS_WITH(same.set_setting("marker", "changed"),
                    Catch::Matchers::Contains("attempt to write a readonly database"));
  CHECK(writer.setting("marker") == "committed");
}

TEST_CASE("a read-only connection refuses a database at another schema version",
          "[storage][open]") {
  test_support::TempDir dir;
  const auto file = dir / "casewatch.db";
  write_version_2_database(file);
  CHECK(open_error_read_only(file) ==
        fmt::format("{}: opened read-only at schema version 2, but this casewatch reads only {} "
                    "(open it read-write once to migrate it)",
                    file.string(), storage::migrations().size()));
  CHECK(query_text(file, "PRAGMA user_version") == "2");  // not migrated
}

TEST_CASE(
    "a version-9 database takes each rule's list as-of from its open findings, which read back "
    "as they were and are not written again when unchanged",
    "[storage]") {
  test_support::TempDir dir;
  const auto file = dir / "casewatch.db";
  const auto all = storage::migrations();
  std::string sql;
  for (std::size_t i = 0; i < 9; ++i) {
    sql += all[i];
  }
  // Before version 10 every open finding was written at every evaluation: last_seen is the
  // list's as-of (2026-11-09). C1 unallocated since 2026-09-01: 69 days then.
  sql +=
      "INSERT INTO evaluations (rule, as_of, fingerprint, baseline) VALUES "
      "('unallocated', '2026-11-02', 'v1', 1), ('unallocated', '2026-11-09', 'v1', 0);"
      "INSERT INTO findings (rule, key, fingerprint, first_seen, last_seen, status, person, team, "
      "worker, band, state, since, since_at_least, days, working_days, assumed_interval, detail, "
      "position) VALUES ('unallocated', 'C1', 'v1', '2026-11-02', '2026-11-09', 'open', 'P1', "
      "'Team A', '', '1-2 months', 'breach', '2026-09-01', 0, 69, 0, 0, '', 0);"
      "PRAGMA user_version = 9;";
  run_sql(file, sql);
  storage::History history(file);
  CHECK(query_text(file, "SELECT rule || ' ' || as_of FROM rule_lists") ==
        "unallocated 2026-11-09");
  auto open = history.open_findings("unallocated");
  REQUIRE(open.size() == 1);
  CHECK(open[0].finding.days == 69);
  CHECK(open[0].status == rules::FindingStatus::kCarried);
  CHECK(open[0].weeks_on_list == 1);

  // A week later C1 is 76 days unallocated and otherwise unchanged: its row is not written.
  rules::Finding c1 = open[0].finding;
  c1.days = 76;
  rules::Evaluation evaluation;
  evaluation.findings = {c1};
  rules::Rule rule;
  rule.id = "unallocated";
  rule.kind = rules::RuleKind::kUnallocated;
  rule.source = "cases";
  rule.fingerprint = "v1";
  rules::Source source;
  source.name = "cases";
  history.apply_evaluation(rule, source, *rules::Date::from_ymd(2026, 11, 16), evaluation);
  CHECK(query_text(file, "SELECT last_seen || ' ' || days FROM findings") == "2026-11-09 69");
  open = history.open_findings("unallocated");
  REQUIRE(open.size() == 1);
  CHECK(open[0].finding.days == 76);
  CHECK(open[0].weeks_on_list == 2);
}
