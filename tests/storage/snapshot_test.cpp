// The snapshot blob and key index formats, and the extract writer's split interface (match_row,
// classify, write) that lets ingest skip rows it has stored before.
#include <sqlite3.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstddef>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "storage/impl.h"
#include "storage/snapshot_codec.h"
#include "storage/storage.h"
#include "tests/storage/storage_test_support.h"
#include "tests/support/temp_dir.h"

using storage_test::case_record;
using storage_test::date;
using storage_test::extract_info;

namespace {

using Action = storage::PreparedRecord::Action;
using Kind = storage::History::ExtractWriter::RowMatch::Kind;

std::string write_snapshot(const std::vector<storage::SnapshotEntry>& entries) {
  std::string out;
  std::size_t pieces = 0;
  storage::SnapshotWriter writer(entries.size(), [&](std::string_view piece) {
    out.append(piece);
    ++pieces;
  });
  for (const auto& entry : entries) {
    writer.append(entry);
  }
  writer.finish();
  CHECK(pieces >= 1);
  return out;
}

std::vector<storage::SnapshotEntry> read_snapshot(const std::string& bytes) {
  storage::SnapshotReader reader(bytes.data(), bytes.size());
  std::vector<storage::SnapshotEntry> out;
  storage::SnapshotEntry entry;
  while (reader.next(entry)) {
    out.push_back(entry);
  }
  CHECK(out.size() == reader.count());
  return out;
}

std::string corrupt_message(const std::string& bytes) {
  try {
    read_snapshot(bytes);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "no error";
}

// A record prepared as ingest would hand it over: with its raw row's hash and line.
storage::PreparedRecord prepared(const rules::Record& record, std::uint64_t row_hash,
                                 std::size_t line) {
  storage::PreparedRecord out;
  storage::prepare_record(record, out);
  out.row_hash = row_hash;
  out.line = line;
  return out;
}

// Classifies and writes one record the way the daemon's two threads do; returns the action.
Action put(storage::History::ExtractWriter& writer, storage::PreparedRecord record) {
  writer.classify(record);
  writer.write(std::span<const storage::PreparedRecord>(&record, 1));
  return record.action;
}

}  // namespace

TEST_CASE("a snapshot reads back the entries it was written with, in order", "[storage]") {
  const std::string long_key(300, 'k');  // a two-byte length
  const std::vector<storage::SnapshotEntry> entries = {
      {"C1", 0x0123456789abcdefULL, 0, 5},
      {long_key, 1, 0xffffffffffffffffULL, 3},  // a smaller row id than the one before
      {"C|2", 2, 7, -9},
      {"C3", 3, 8, 9'000'000'000'000},
  };
  const std::string bytes = write_snapshot(entries);  // the entries' keys point into it
  const auto read = read_snapshot(bytes);
  REQUIRE(read.size() == entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    CHECK(read[i].key == entries[i].key);
    CHECK(read[i].content_hash == entries[i].content_hash);
    CHECK(read[i].row_hash == entries[i].row_hash);
    CHECK(read[i].row_id == entries[i].row_id);
  }
  const std::string empty = write_snapshot({});
  CHECK(read_snapshot(empty).empty());
}

TEST_CASE("a snapshot larger than one piece is written in pieces that read back whole",
          "[storage]") {
  std::vector<std::string> keys;
  keys.reserve(60'000);
  for (int i = 0; i < 60'000; ++i) {
    keys.push_back("CASE-" + std::to_string(i));
  }
  std::vector<storage::SnapshotEntry> entries;
  entries.reserve(60'000);
  for (int i = 0; i < 60'000; ++i) {
    entries.push_back({keys[static_cast<std::size_t>(i)], static_cast<std::uint64_t>(i),
                       static_cast<std::uint64_t>(i) * 3, static_cast<std::int64_t>(i) * 2});
  }
  std::string bytes;
  std::size_t pieces = 0;
  storage::SnapshotWriter writer(entries.size(), [&](std::string_view piece) {
    bytes.append(piece);
    ++pieces;
  });
  for (const auto& entry : entries) {
    writer.append(entry);
  }
  writer.finish();
  CHECK(pieces == 2);  // 60,000 entries of about 30 bytes: a 1 MiB piece and the rest
  const auto read = read_snapshot(bytes);
  REQUIRE(read.size() == entries.size());
  CHECK(read[59'999].key == "CASE-59999");
  CHECK(read[59'999].row_id == 119'998);
}

TEST_CASE("damaged snapshot bytes are refused as corrupt, not misread", "[storage]") {
  const std::string good = write_snapshot({{"C1", 1, 2, 3}, {"C2", 4, 5, 6}});
  const std::string refused = "corrupt snapshot in the database";
  CHECK(corrupt_message(good) == "no error");
  CHECK(corrupt_message("") == refused);
  CHECK(corrupt_message("XXXX" + good.substr(4)) == refused);          // not the magic
  CHECK(corrupt_message(good.substr(0, good.size() - 1)) == refused);  // cut short
  CHECK(corrupt_message(good + "x") == refused);                       // bytes after the last entry
  std::string huge_count = good;
  huge_count[4] = '\x7f';  // says 127 entries
  CHECK(corrupt_message(huge_count) == refused);
}

TEST_CASE("a key chunk finds every row id of a hash, and none of a hash it lacks", "[storage]") {
  const std::vector<storage::KeyIndexEntry> entries = {{-500, 1}, {-3, 7}, {-3, 9}, {0, 2},
                                                       {42, 4},   {42, 5}, {42, 6}, {900, 3}};
  const std::string chunk = storage::encode_key_chunk(entries);
  CHECK(chunk.size() == 16 * entries.size());
  const auto find = [&](std::int64_t hash) {
    return storage::find_in_key_chunk(chunk.data(), chunk.size(), hash);
  };
  CHECK(find(-500) == std::vector<std::int64_t>{1});
  CHECK(find(-3) == std::vector<std::int64_t>{7, 9});
  CHECK(find(42) == std::vector<std::int64_t>{4, 5, 6});
  CHECK(find(900) == std::vector<std::int64_t>{3});
  CHECK(find(-501).empty());
  CHECK(find(1).empty());
  CHECK(find(901).empty());
  CHECK_THROWS_AS(storage::find_in_key_chunk(chunk.data(), chunk.size() - 1, 0),
                  std::runtime_error);
}

TEST_CASE("rows stored with their raw hash are matched, unparsed, by the next extract",
          "[storage][extract]") {
  storage::History history(":memory:");
  {
    auto writer = history.begin_extract(extract_info("cases", date(2026, 11, 2), "one"));
    CHECK(put(writer, prepared(case_record("C1", "Ann"), 101, 2)) == Action::kInsert);
    CHECK(put(writer, prepared(case_record("C2", "Bob"), 102, 3)) == Action::kInsert);
    CHECK(put(writer, prepared(case_record("C3", "Cat"), 0, 4)) == Action::kInsert);  // no hash
    writer.commit(3);
  }
  auto writer = history.begin_extract(extract_info("cases", date(2026, 11, 9), "two"));
  const auto match = writer.match_row(101, 2);
  CHECK(match.kind == Kind::kUnchanged);
  const auto again = writer.match_row(101, 9);  // the same bytes again, on line 9
  CHECK(again.kind == Kind::kRepeat);
  CHECK(again.first_line == 2);
  CHECK(writer.match_row(103, 3).kind == Kind::kUnknown);  // no record has these bytes
  CHECK(writer.match_row(0, 3).kind == Kind::kUnknown);
  // C3 is read and unchanged; C2 is gone from this extract.
  CHECK(put(writer, prepared(case_record("C3", "Cat"), 303, 4)) == Action::kKeep);
  writer.commit(3);
  CHECK(history.current_records("cases") ==
        std::vector<rules::Record>{case_record("C1", "Ann"), case_record("C3", "Cat")});
  CHECK(history.record_history("cases", "C1").size() == 1);  // not rewritten
  CHECK(history.record_history("cases", "C2").at(0).valid_to == date(2026, 11, 9));

  // The third extract matches C1 by its first bytes still, and C3 by the bytes it was last read
  // from (the record was kept, its raw row is the new one).
  auto third = history.begin_extract(extract_info("cases", date(2026, 11, 16), "three"));
  CHECK(third.match_row(101, 2).kind == Kind::kUnchanged);
  CHECK(third.match_row(303, 3).kind == Kind::kUnchanged);
  third.commit(2);
  CHECK(history.current_records("cases") ==
        std::vector<rules::Record>{case_record("C1", "Ann"), case_record("C3", "Cat")});
}

TEST_CASE("classify tells new, changed, unchanged and repeated records apart",
          "[storage][extract]") {
  storage::History history(":memory:");
  {
    auto writer = history.begin_extract(extract_info("cases", date(2026, 11, 2), "one"));
    put(writer, prepared(case_record("C1", "Ann"), 11, 2));
    put(writer, prepared(case_record("C2", "Bob"), 12, 3));
    put(writer, prepared(case_record("C3", "Cat"), 13, 4));
    writer.commit(3);
  }
  const auto c2_row = history.record_history("cases", "C2");
  auto writer = history.begin_extract(extract_info("cases", date(2026, 11, 9), "two"));
  REQUIRE(writer.match_row(11, 2).kind == Kind::kUnchanged);  // C1 skipped on line 2

  auto changed = prepared(case_record("C2", "Dee"), 22, 3);
  writer.classify(changed);
  CHECK(changed.action == Action::kReplace);
  CHECK(changed.replaces != 0);

  auto same = prepared(case_record("C3", "Cat"), 0, 4);
  writer.classify(same);
  CHECK(same.action == Action::kKeep);

  auto fresh = prepared(case_record("C4", "Eve"), 24, 5);
  writer.classify(fresh);
  CHECK(fresh.action == Action::kInsert);

  // C1 again, read this time: a repeat of the row skipped on line 2, which the reader did not
  // see; C3 again: a repeat of a row the reader did see.
  auto c1_again = prepared(case_record("C1", "Zed"), 31, 6);
  writer.classify(c1_again);
  CHECK(c1_again.action == Action::kRepeat);
  CHECK(c1_again.repeats_skipped_line == 2);
  auto c3_again = prepared(case_record("C3", "Cat"), 0, 7);
  writer.classify(c3_again);
  CHECK(c3_again.action == Action::kRepeat);
  CHECK(c3_again.repeats_skipped_line == 0);
  CHECK_THROWS_AS(writer.commit(6), std::logic_error);
}

TEST_CASE("records written by classify and write are stored as by add", "[storage][extract]") {
  storage::History split(":memory:");
  storage::History plain(":memory:");
  std::vector<rules::Record> first;
  std::vector<rules::Record> second;
  for (int i = 0; i < 1000; ++i) {
    first.push_back(case_record("C" + std::to_string(i), "W" + std::to_string(i % 7)));
    if (i % 10 != 3) {  // every tenth gone
      second.push_back(case_record("C" + std::to_string(i), "W" + std::to_string(i % 9)));
    }
  }
  second.push_back(case_record("C1000", "New"));
  for (const auto* extract : {&first, &second}) {
    const auto as_of = extract == &first ? date(2026, 11, 2) : date(2026, 11, 9);
    storage_test::ingest(plain, "cases", as_of, *extract);
    auto writer = split.begin_extract(extract_info("cases", as_of, "sha-" + as_of.iso()));
    std::vector<storage::PreparedRecord> batch;
    for (std::size_t i = 0; i < extract->size(); ++i) {
      batch.push_back(prepared((*extract)[i], 0, i + 2));
      writer.classify(batch.back());
    }
    writer.write(batch);
    writer.commit(extract->size());
  }
  CHECK(split.current_records("cases") == plain.current_records("cases"));
  for (const char* key : {"C0", "C3", "C13", "C999", "C1000"}) {
    const auto a = split.record_history("cases", key);
    const auto b = plain.record_history("cases", key);
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
      CHECK(a[i].record == b[i].record);
      CHECK(a[i].valid_from == b[i].valid_from);
      CHECK(a[i].valid_to == b[i].valid_to);
    }
  }
  // More new versions than one key chunk holds (256): every one is found by its key.
  for (int i = 0; i < 1000; i += 37) {
    CHECK(split.record_on("cases", "C" + std::to_string(i), date(2026, 11, 2)) ==
          first[static_cast<std::size_t>(i)]);
  }
}

namespace {

// How many snapshot pieces source 1 has, and how many of them are full.
std::pair<int, int> snapshot_pieces(const std::filesystem::path& file) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* statement = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT count(*), coalesce(sum(full), 0) FROM snapshots", -1,
                             &statement, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(statement) == SQLITE_ROW);
  const std::pair<int, int> pieces{sqlite3_column_int(statement, 0),
                                   sqlite3_column_int(statement, 1)};
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return pieces;
}

}  // namespace

TEST_CASE(
    "over many extracts the snapshot is kept as deltas and full pieces without losing "
    "track of a record",
    "[storage][extract]") {
  test_support::TempDir dir;
  const auto file = dir / "casewatch.db";
  storage::History history(file);
  // Extract e has key k unless (k + e) % 7 == 0 (so keys vanish and come back), and changes the
  // worker of every fifth key now and then. A row's raw hash stands for its key and values.
  const auto worker = [](int k, int e) { return "W" + std::to_string((k * e) % 5 == 0 ? e : 0); };
  const auto row_hash = [](const rules::Record& r) {
    return storage::content_hash(r.key + "/" + r.values[2]);
  };
  std::map<std::string, rules::Record> previous;
  int most_pieces = 0;
  for (int e = 1; e <= 16; ++e) {
    const auto as_of = date(2026, 1, 1) + 7 * e;
    auto writer = history.begin_extract(extract_info("cases", as_of, "sha-" + as_of.iso()));
    std::map<std::string, rules::Record> now;
    std::size_t line = 1;
    for (int k = 0; k < 400; ++k) {
      if ((k + e) % 50 == 0) {
        continue;
      }
      const auto r = case_record("C" + std::to_string(k), worker(k, e));
      now[r.key] = r;
      ++line;
      const auto match = writer.match_row(row_hash(r), line);
      const auto before = previous.find(r.key);
      const bool unchanged = before != previous.end() && before->second == r;
      CHECK((match.kind == Kind::kUnchanged) == unchanged);
      if (match.kind == Kind::kUnchanged) {
        continue;
      }
      const Action action = put(writer, prepared(r, row_hash(r), line));
      CHECK(action == (before == previous.end() ? Action::kInsert : Action::kReplace));
    }
    writer.commit(now.size());
    std::vector<rules::Record> expected;
    expected.reserve(now.size());
    for (const auto& [key, record] : now) {
      expected.push_back(record);
    }
    auto current = history.current_records("cases");
    std::sort(current.begin(), current.end(),
              [](const auto& a, const auto& b) { return a.key < b.key; });
    CHECK(current == expected);
    const auto [pieces, full] = snapshot_pieces(file);
    CHECK(full == 1);
    most_pieces = std::max(most_pieces, pieces);
    previous = std::move(now);
  }
  CHECK(most_pieces > 1);                   // deltas were written ...
  CHECK(snapshot_pieces(file).first < 16);  // ... and folded into full pieces again
}

namespace {

// 120,000 records: about 1,800 pages, past SQLite's automatic checkpoint.
std::vector<rules::Record> log_filling_records() {
  std::vector<rules::Record> records;
  records.reserve(120'000);
  for (int i = 0; i < 120'000; ++i) {
    records.push_back(case_record("C" + std::to_string(i), "Worker " + std::to_string(i)));
  }
  return records;
}

}  // namespace

TEST_CASE("an extract's commit leaves its pages in the log until checkpoint() copies them",
          "[storage][extract]") {
  test_support::TempDir dir;
  const auto file = dir / "casewatch.db";
  storage::History history(file);
  auto records = log_filling_records();
  storage_test::ingest(history, "cases", date(2026, 11, 2), records);
  const auto committed = std::filesystem::file_size(file);
  CHECK(std::filesystem::file_size(dir / "casewatch.db-wal") > std::size_t{1000} * 8192);
  CHECK(history.checkpoint());
  CHECK(std::filesystem::file_size(file) > committed + 8'000'000);
  CHECK(history.current_records("cases").size() == records.size());
}

TEST_CASE("a checkpoint in the background copies the log while the connection goes on",
          "[storage][extract]") {
  test_support::TempDir dir;
  const auto file = dir / "casewatch.db";
  storage::History history(file);
  auto records = log_filling_records();
  storage_test::ingest(history, "cases", date(2026, 11, 2), records);
  const auto committed = std::filesystem::file_size(file);
  REQUIRE(std::filesystem::file_size(dir / "casewatch.db-wal") > std::size_t{1000} * 8192);

  auto copy = history.checkpoint_in_background();
  // The connection reads and writes meanwhile.
  CHECK(history.current_records("cases").size() == records.size());
  records.push_back(case_record("C-new", "Ann"));
  storage_test::ingest(history, "cases", date(2026, 11, 9), records);
  CHECK(copy.wait() == std::nullopt);
  CHECK(copy.wait() == std::nullopt);  // once copied, at once
  CHECK(std::filesystem::file_size(file) > committed + 8'000'000);
  CHECK(history.current_records("cases").size() == records.size());
  CHECK(history.latest_extract("cases")->as_of == date(2026, 11, 9));
}

TEST_CASE("a background checkpoint that cannot open the database says why and loses nothing",
          "[storage][extract]") {
  test_support::TempDir dir;
  const auto file = dir / "casewatch.db";
  storage::History history(file);
  storage_test::ingest(history, "cases", date(2026, 11, 2),
                       {case_record("C1", "Ann"), case_record("C2", "Bob")});
  // Its connection opens the file by name: moved away, there is nothing to open.
  std::filesystem::rename(file, dir / "moved.db");
  auto copy = history.checkpoint_in_background();
  const auto error = copy.wait();
  std::filesystem::rename(dir / "moved.db", file);
  REQUIRE(error);
  CHECK(error->find(file.string()) != std::string::npos);
  CHECK(history.current_records("cases") ==
        std::vector<rules::Record>{case_record("C1", "Ann"), case_record("C2", "Bob")});
  CHECK(history.checkpoint());  // a later one copies the log
}

TEST_CASE("a background checkpoint of an in-memory database is done at once", "[storage]") {
  storage::History history(":memory:");
  storage_test::ingest(history, "cases", date(2026, 11, 2), {case_record("C1", "Ann")});
  auto copy = history.checkpoint_in_background();
  CHECK(copy.wait() == std::nullopt);
  CHECK(history.current_records("cases").size() == 1);
}

TEST_CASE("a damaged snapshot is read around from the records and replaced by the next extract",
          "[storage][extract]") {
  test_support::TempDir dir;
  const auto file = dir / "casewatch.db";
  storage::History history(file);
  storage_test::ingest(history, "cases", date(2026, 11, 2),
                       {case_record("C1", "Ann"), case_record("C2", "Bob")});
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "UPDATE snapshots SET entries = x'435753310a00'", nullptr, nullptr,
                         nullptr) == SQLITE_OK);  // "CWS1", says 10 entries, has none
    sqlite3_close(db);
  }
  CHECK(history.current_records("cases") ==
        std::vector<rules::Record>{case_record("C1", "Ann"), case_record("C2", "Bob")});
  auto writer = history.begin_extract(extract_info("cases", date(2026, 11, 9), "two"));
  REQUIRE(writer.snapshot_problem());
  CHECK(*writer.snapshot_problem() == "corrupt snapshot in the database");
  writer.add(case_record("C1", "Ann"));  // unchanged: still told apart from a change
  writer.add(case_record("C3", "Cat"));
  writer.commit(2);
  CHECK(history.record_history("cases", "C1").size() == 1);
  CHECK(history.record_history("cases", "C2").at(0).valid_to == date(2026, 11, 9));
  CHECK(snapshot_pieces(file) == std::pair<int, int>{1, 1});  // a new full piece
  auto third = history.begin_extract(extract_info("cases", date(2026, 11, 16), "three"));
  CHECK_FALSE(third.snapshot_problem());
}

TEST_CASE("a snapshot's size is counted exactly without writing it", "[storage]") {
  const std::string long_key(200, 'k');
  const std::vector<storage::SnapshotEntry> entries = {
      {"C1", 1, 2, 1}, {long_key, 3, 4, 5'000'000'000}, {"C3", 5, 6, 2}, {"C4", 7, 8, -1}};
  storage::SnapshotSize size(entries.size());
  for (const auto& entry : entries) {
    size.append(entry);
  }
  CHECK(size.bytes() == write_snapshot(entries).size());
  CHECK(storage::SnapshotSize(0).bytes() == write_snapshot({}).size());
}

TEST_CASE("a record block gives back its versions in slot order, and refuses damaged bytes",
          "[storage]") {
  std::string block;
  storage::append_block_version(block, "C1",
                                std::string("\x01"
                                            "a",
                                            2));
  storage::append_block_version(block, std::string(300, 'k'), std::string(5000, 'd'));
  storage::append_block_version(block, "C3", "");
  const auto versions = storage::decode_block(block.data(), block.size());
  REQUIRE(versions.size() == 3);
  CHECK(versions[0].key == "C1");
  CHECK(versions[0].data == std::string("\x01"
                                        "a",
                                        2));
  CHECK(versions[1].key == std::string(300, 'k'));
  CHECK(versions[1].data.size() == 5000);
  CHECK(versions[2].key == "C3");
  CHECK(versions[2].data.empty());
  CHECK(storage::decode_block(block.data(), 0).empty());
  CHECK_THROWS_WITH(storage::decode_block(block.data(), block.size() - 1),
                    "corrupt record block in the database");
  CHECK(storage::version_id(7, 5) == storage::kBlockIds + std::int64_t{7} * 64 + 5);
  CHECK(storage::block_of(storage::version_id(7, 5)) == 7);
  CHECK(storage::slot_of(storage::version_id(7, 5)) == 5);
  CHECK_FALSE(storage::is_block_version(123));
}

TEST_CASE("large and small versions share blocks and are each found again", "[storage][extract]") {
  storage::History history(":memory:");
  std::vector<rules::Record> records;
  for (int i = 0; i < 200; ++i) {
    // Every tenth version is larger than a block holds (7 KiB): a block of its own.
    const std::string worker(i % 10 == 0 ? 9000 : 5 + i % 7, static_cast<char>('a' + i % 26));
    records.push_back(case_record("C" + std::to_string(i), worker));
  }
  storage_test::ingest(history, "cases", date(2026, 11, 2), records);
  CHECK(history.current_records("cases") == records);
  for (int i = 0; i < 200; i += 9) {
    CHECK(history.record_on("cases", "C" + std::to_string(i), date(2026, 11, 2)) ==
          records[static_cast<std::size_t>(i)]);
  }
}

TEST_CASE("row ids sort as std::sort sorts them, however wide their range") {
  std::mt19937_64 random(62);
  const auto block_ids = [&](std::size_t n, std::int64_t blocks) {
    std::vector<std::int64_t> ids;
    for (std::size_t i = 0; i < n; ++i) {
      const auto block = static_cast<std::int64_t>(random() % static_cast<std::uint64_t>(blocks));
      const auto slot = static_cast<std::int64_t>(random() % storage::kBlockVersions);
      ids.push_back(storage::version_id(block, slot));
    }
    return ids;
  };
  std::vector<std::vector<std::int64_t>> cases = {
      {},
      {storage::version_id(3, 1), storage::version_id(0, 0), 7},
      block_ids(3000, 100),         // under the radix sort's threshold
      block_ids(50000, 20),         // one 16-bit pass (a narrow range, many repeats)
      block_ids(50000, 1'000'000),  // two passes
      block_ids(50000, 1LL << 35),  // three passes
  };
  // Versions written before blocks (records.id) among block versions: too wide to radix-sort.
  cases.push_back(block_ids(50000, 1000));
  for (std::size_t i = 0; i < cases.back().size(); i += 97) {
    cases.back()[i] = static_cast<std::int64_t>(random() % 100000) + 1;
  }
  // Already sorted but for the last few (an extract's new versions), and descending.
  cases.push_back(block_ids(20000, 5000));
  std::sort(cases.back().begin(), cases.back().end() - 200);
  cases.push_back(block_ids(20000, 5000));
  std::sort(cases.back().rbegin(), cases.back().rend());
  for (std::size_t c = 0; c < cases.size(); ++c) {
    INFO("case " << c);
    std::vector<std::int64_t> expected = cases[c];
    std::sort(expected.begin(), expected.end());
    storage::sort_row_ids(cases[c]);
    CHECK(cases[c] == expected);
  }
}
