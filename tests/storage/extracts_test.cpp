#include <catch2/catch.hpp>

#include "storage/storage.h"
#include "tests/storage/storage_test_support.h"

using storage_test::case_record;
using storage_test::date;
using storage_test::extract_info;
using storage_test::ingest;

TEST_CASE("a committed extract is stored with its records, rows and problems",
          "[storage][extract]") {
  storage::History history(":memory:");
  auto writer = history.begin_extract(extract_info("cases", date(2026, 11, 2), "abc123"));
  writer.add(case_record("C1", ""));
  writer.add(case_record("C2", "J Smith"));
  writer.add_problem(rules::Problem{4, "Referral Date", "not a date: '31/02/2026'"});
  const std::int64_t id = writer.commit(3);

  const auto extracts = history.extracts();
  REQUIRE(extracts.size() == 1);
  CHECK(extracts[0].id == id);
  CHECK(extracts[0].file == "cases-2026-11-02.csv");
  CHECK(extracts[0].source == "cases");
  CHECK(extracts[0].sha256 == "abc123");
  CHECK(extracts[0].as_of == date(2026, 11, 2));
  CHECK(extracts[0].rows == 3);
  CHECK(extracts[0].problems == 1);
  CHECK(extracts[0].status == storage::ExtractStatus::kIngested);
  CHECK(extracts[0].handled_at == "2026-11-02T09:30:00Z");
  CHECK(history.problems(id) ==
        std::vector<rules::Problem>{{4, "Referral Date", "not a date: '31/02/2026'"}});
  CHECK(history.current_records("cases") ==
        std::vector<rules::Record>{case_record("C1", ""), case_record("C2", "J Smith")});
}

TEST_CASE("a writer destroyed without commit leaves nothing behind", "[storage][extract]") {
  storage::History history(":memory:");
  ingest(history, "cases", date(2026, 11, 2), {case_record("C1", "")});
  {
    auto writer = history.begin_extract(extract_info("cases", date(2026, 11, 9), "def456"));
    writer.add(case_record("C1", "J Smith"));
    writer.add(case_record("C2", ""));
    writer.add_problem(rules::Problem{2, "Worker", "bad"});
  }
  CHECK(history.extracts().size() == 1);
  CHECK_FALSE(history.find_ingested("def456"));
  CHECK(history.current_records("cases") == std::vector<rules::Record>{case_record("C1", "")});
  CHECK(history.record_history("cases", "C1").size() == 1);

  // The database is usable again: a new writer can start and commit.
  ingest(history, "cases", date(2026, 11, 9), {case_record("C1", "J Smith")});
  CHECK(history.extracts().size() == 2);
}

TEST_CASE("a second writer cannot start while one is open", "[storage][extract]") {
  storage::History history(":memory:");
  auto writer = history.begin_extract(extract_info("cases", date(2026, 11, 2), "a"));
  CHECK_THROWS_AS(history.begin_extract(extract_info("cases", date(2026, 11, 2), "b")),
                  std::logic_error);
}

TEST_CASE("a key repeated within one extract is refused and nothing is stored",
          "[storage][extract]") {
  storage::History history(":memory:");
  ingest(history, "cases", date(2026, 11, 2), {case_record("C1", "")});
  {
    auto writer = history.begin_extract(extract_info("cases", date(2026, 11, 9), "b"));
    SECTION("a key of the snapshot added twice is refused at commit") {
      writer.add(case_record("C1", ""));
      writer.add(case_record("C1", "J Smith"));  // no exception: ingest rejects the file later
      CHECK_THROWS_AS(writer.commit(2), std::logic_error);
    }
    SECTION("a new key added twice is refused at commit") {
      writer.add(case_record("C2", ""));
      writer.add(case_record("C2", ""));
      CHECK_THROWS_AS(writer.commit(2), std::logic_error);
    }
  }
  CHECK(history.extracts().size() == 1);
  CHECK(history.current_records("cases") == std::vector<rules::Record>{case_record("C1", "")});
}

TEST_CASE("change detection keeps one version per change and ends vanished records",
          "[storage][extract]") {
  storage::History history(":memory:");
  ingest(history, "cases", date(2026, 11, 2),
         {case_record("C1", ""), case_record("C2", ""), case_record("C3", "")});
  ingest(history, "cases", date(2026, 11, 9),
         {case_record("C1", ""), case_record("C2", "J Smith"), case_record("C4", "")});

  SECTION("an unchanged record is not rewritten") {
    const auto versions = history.record_history("cases", "C1");
    REQUIRE(versions.size() == 1);
    CHECK(versions[0].valid_from == date(2026, 11, 2));
    CHECK_FALSE(versions[0].valid_to);
  }
  SECTION("a changed record gets a new version and its old one ends") {
    const auto versions = history.record_history("cases", "C2");
    REQUIRE(versions.size() == 2);
    CHECK(versions[0].record == case_record("C2", ""));
    CHECK(versions[0].valid_from == date(2026, 11, 2));
    CHECK(versions[0].valid_to == date(2026, 11, 9));
    CHECK(versions[1].record == case_record("C2", "J Smith"));
    CHECK(versions[1].valid_from == date(2026, 11, 9));
    CHECK_FALSE(versions[1].valid_to);
  }
  SECTION("a record absent from the extract is ended") {
    const auto versions = history.record_history("cases", "C3");
    REQUIRE(versions.size() == 1);
    CHECK(versions[0].valid_to == date(2026, 11, 9));
  }
  SECTION("the current snapshot holds exactly the latest extract") {
    auto records = history.current_records("cases");
    std::sort(records.begin(), records.end(),
              [](const auto& a, const auto& b) { return a.key < b.key; });
    CHECK(records == std::vector<rules::Record>{case_record("C1", ""), case_record("C2", "J Smith"),
                                                case_record("C4", "")});
  }
  SECTION("a record that comes back gets a new version") {
    ingest(history, "cases", date(2026, 11, 16), {case_record("C3", "")});
    const auto versions = history.record_history("cases", "C3");
    REQUIRE(versions.size() == 2);
    CHECK(versions[1].valid_from == date(2026, 11, 16));
    CHECK(history.current_records("cases") == std::vector<rules::Record>{case_record("C3", "")});
  }
}

TEST_CASE("sources keep separate snapshots", "[storage][extract]") {
  storage::History history(":memory:");
  ingest(history, "cases", date(2026, 11, 2), {case_record("K1", "")});
  ingest(history, "assessments", date(2026, 11, 3), {rules::Record{"K1", {"2026-10-01"}}});
  CHECK(history.current_records("cases") == std::vector<rules::Record>{case_record("K1", "")});
  CHECK(history.current_records("assessments") ==
        std::vector<rules::Record>{rules::Record{"K1", {"2026-10-01"}}});
  CHECK(history.current_records("reviews").empty());
}

TEST_CASE("record_on answers what a record looked like on a date", "[storage][extract]") {
  storage::History history(":memory:");
  ingest(history, "cases", date(2026, 11, 2), {case_record("C1", ""), case_record("C2", "")});
  ingest(history, "cases", date(2026, 11, 9), {case_record("C1", "J Smith")});
  ingest(history, "cases", date(2026, 11, 16), {case_record("C1", "A Khan")});

  using Expected = std::optional<rules::Record>;
  auto [on, key, expected] = GENERATE(table<rules::Date, std::string, Expected>({
      {date(2026, 11, 1), "C1", std::nullopt},  // before the first extract
      {date(2026, 11, 2), "C1", case_record("C1", "")},
      {date(2026, 11, 8), "C1", case_record("C1", "")},
      {date(2026, 11, 9), "C1", case_record("C1", "J Smith")},
      {date(2026, 11, 15), "C1", case_record("C1", "J Smith")},
      {date(2026, 11, 16), "C1", case_record("C1", "A Khan")},
      {date(2027, 1, 1), "C1", case_record("C1", "A Khan")},
      {date(2026, 11, 2), "C2", case_record("C2", "")},
      {date(2026, 11, 9), "C2", std::nullopt},  // gone from the 9 Nov extract
      {date(2026, 11, 9), "C9", std::nullopt},  // never seen
  }));
  CAPTURE(on.iso(), key);
  CHECK(history.record_on("cases", key, on) == expected);
}

TEST_CASE("values of any length and content survive the round trip", "[storage][extract]") {
  storage::History history(":memory:");
  const rules::Record record{"K|1", {"", std::string(300, 'a'), "comma, \"quote\"\nline", "é"}};
  ingest(history, "odd", date(2026, 11, 2), {record});
  CHECK(history.current_records("odd") == std::vector<rules::Record>{record});
}

TEST_CASE("find_ingested finds an ingested extract by content hash only", "[storage][extract]") {
  storage::History history(":memory:");
  const std::int64_t id = ingest(history, "cases", date(2026, 11, 2), {case_record("C1", "")});
  auto refused = extract_info("cases", date(2026, 11, 9), "sha-refused");
  refused.status = storage::ExtractStatus::kRejected;
  refused.error = "the column 'Case ID' is missing";
  history.record_refused(refused, {});

  const auto found = history.find_ingested("sha-2026-11-02");
  REQUIRE(found);
  CHECK(found->id == id);
  CHECK(found->as_of == date(2026, 11, 2));
  CHECK_FALSE(history.find_ingested("sha-refused"));
  CHECK_FALSE(history.find_ingested("unknown"));
}

TEST_CASE("a refused file is recorded with its problems and no records", "[storage][extract]") {
  storage::History history(":memory:");
  auto info = extract_info("cases", date(2026, 11, 9), "sha-dup");
  info.status = storage::ExtractStatus::kDuplicate;
  info.error = "already ingested as cases-2026-11-02.csv";
  const std::vector<rules::Problem> problems = {
      {0, "", "already ingested as cases-2026-11-02.csv"}};
  const std::int64_t id = history.record_refused(info, problems);

  const auto extracts = history.extracts();
  REQUIRE(extracts.size() == 1);
  CHECK(extracts[0].status == storage::ExtractStatus::kDuplicate);
  CHECK(extracts[0].error == "already ingested as cases-2026-11-02.csv");
  CHECK(extracts[0].problems == 1);
  CHECK(history.problems(id) == problems);
  CHECK(history.current_records("cases").empty());
  CHECK_FALSE(history.latest_extract("cases"));
}

TEST_CASE("latest_extract is the last ingested extract of the source", "[storage][extract]") {
  storage::History history(":memory:");
  ingest(history, "cases", date(2026, 11, 2), {});
  const std::int64_t id = ingest(history, "cases", date(2026, 11, 9), {});
  ingest(history, "assessments", date(2026, 11, 10), {});
  const auto latest = history.latest_extract("cases");
  REQUIRE(latest);
  CHECK(latest->id == id);
  CHECK(latest->as_of == date(2026, 11, 9));
}

TEST_CASE("extract statuses have their plain names", "[storage][extract]") {
  CHECK(storage::to_string(storage::ExtractStatus::kIngested) == "ingested");
  CHECK(storage::to_string(storage::ExtractStatus::kRejected) == "rejected");
  CHECK(storage::to_string(storage::ExtractStatus::kDuplicate) == "duplicate");
}

TEST_CASE("an extract's hash can be set after it is begun, and finds it only once committed",
          "[storage][extract]") {
  storage::History history(":memory:");
  ingest(history, "cases", date(2026, 11, 2), {case_record("C1", "")});
  auto writer = history.begin_extract(extract_info("cases", date(2026, 11, 9), ""));
  writer.add(case_record("C1", "J Smith"));
  // While the writer is open: an earlier extract is found, this one is not.
  CHECK(history.find_ingested("sha-2026-11-02").has_value());
  CHECK_FALSE(history.find_ingested("late-hash").has_value());
  writer.set_sha256("late-hash");
  const std::int64_t id = writer.commit(1);
  const auto found = history.find_ingested("late-hash");
  REQUIRE(found.has_value());
  CHECK(found->id == id);
  CHECK(found->rows == 1);
}

TEST_CASE("a writer rolled back after set_sha256 leaves no extract with that hash",
          "[storage][extract]") {
  storage::History history(":memory:");
  {
    auto writer = history.begin_extract(extract_info("cases", date(2026, 11, 9), ""));
    writer.add(case_record("C1", ""));
    writer.set_sha256("late-hash");
  }
  CHECK_FALSE(history.find_ingested("late-hash").has_value());
  CHECK(history.extracts().empty());
}

TEST_CASE("a source's second extract of many records changes, keeps and ends the right ones",
          "[storage][extract]") {
  // Enough records that the writer's snapshot table is sized from the first extract's rows.
  storage::History history(":memory:");
  std::vector<rules::Record> first;
  first.reserve(3000);
  for (int i = 0; i < 3000; ++i) {
    first.push_back(case_record("C" + std::to_string(i), ""));
  }
  ingest(history, "cases", date(2026, 11, 2), first);
  std::vector<rules::Record> second;
  for (int i = 0; i < 3000; i += 2) {
    second.push_back(case_record("C" + std::to_string(i), i % 10 == 0 ? "J Smith" : ""));
  }
  ingest(history, "cases", date(2026, 11, 9), second);
  CHECK(history.current_records("cases").size() == 1500);
  CHECK(history.record_history("cases", "C10").size() == 2);
  CHECK(history.record_history("cases", "C12").size() == 1);
  const auto ended = history.record_history("cases", "C11");
  REQUIRE(ended.size() == 1);
  CHECK(ended[0].valid_to == date(2026, 11, 9));
}

TEST_CASE("records added in a batch are stored as when added one by one", "[storage][extract]") {
  storage::History one_by_one(":memory:");
  storage::History batched(":memory:");
  std::vector<rules::Record> first;
  first.reserve(100);
  for (int i = 0; i < 100; ++i) {
    first.push_back(case_record("C" + std::to_string(i), ""));
  }
  std::vector<rules::Record> second = first;
  second[3] = case_record("C3", "J Smith");
  second.pop_back();  // C99 vanishes
  second.push_back(case_record("C100", ""));
  ingest(one_by_one, "cases", date(2026, 11, 2), first);
  ingest(one_by_one, "cases", date(2026, 11, 9), second);
  for (const auto* records : {&first, &second}) {
    const auto as_of = records == &first ? date(2026, 11, 2) : date(2026, 11, 9);
    auto writer = batched.begin_extract(extract_info("cases", as_of, "sha-" + as_of.iso()));
    writer.add(std::span<const rules::Record>(*records).first(40));
    writer.add(std::span<const rules::Record>(*records).subspan(40));
    writer.commit(records->size());
  }
  CHECK(batched.current_records("cases") == one_by_one.current_records("cases"));
  CHECK(batched.record_history("cases", "C3").size() == 2);
  CHECK(batched.record_history("cases", "C99").at(0).valid_to == date(2026, 11, 9));
}

TEST_CASE("a key repeated within a batch makes commit refuse", "[storage][extract]") {
  storage::History history(":memory:");
  ingest(history, "cases", date(2026, 11, 2), {case_record("C1", "")});
  auto writer = history.begin_extract(extract_info("cases", date(2026, 11, 9), "x"));
  const std::vector<rules::Record> records = {case_record("C1", "A"), case_record("C1", "B")};
  writer.add(std::span<const rules::Record>(records));
  CHECK_THROWS_AS(writer.commit(2), std::logic_error);
}

TEST_CASE("records prepared apart are stored as when added plainly", "[storage][extract]") {
  storage::History plain(":memory:");
  storage::History prepared(":memory:");
  std::vector<rules::Record> first;
  first.reserve(50);
  for (int i = 0; i < 50; ++i) {
    first.push_back(case_record("C" + std::to_string(i), ""));
  }
  std::vector<rules::Record> second = first;
  second[7] = case_record("C7", "J Smith", "2026-11-08", "Closed");
  second.erase(second.begin() + 20);  // C20 vanishes
  ingest(plain, "cases", date(2026, 11, 2), first);
  ingest(plain, "cases", date(2026, 11, 9), second);
  for (const auto* records : {&first, &second}) {
    const auto as_of = records == &first ? date(2026, 11, 2) : date(2026, 11, 9);
    std::vector<storage::PreparedRecord> ready(records->size());
    for (std::size_t i = 0; i < records->size(); ++i) {
      storage::prepare_record((*records)[i], ready[i]);
    }
    auto writer = prepared.begin_extract(extract_info("cases", as_of, "sha-" + as_of.iso()));
    writer.add(std::span<const storage::PreparedRecord>(ready));
    writer.commit(records->size());
  }
  CHECK(prepared.current_records("cases") == plain.current_records("cases"));
  CHECK(prepared.record_history("cases", "C7").size() == 2);
  CHECK(prepared.record_on("cases", "C7", date(2026, 11, 9)) ==
        case_record("C7", "J Smith", "2026-11-08", "Closed"));
  CHECK(prepared.record_history("cases", "C20").at(0).valid_to == date(2026, 11, 9));
}

TEST_CASE("a prepared record reuses its buffers and matches a fresh one", "[storage][extract]") {
  storage::PreparedRecord reused;
  storage::prepare_record(case_record("C1", "A long worker name to grow the buffer"), reused);
  storage::prepare_record(case_record("C2", "B"), reused);
  storage::PreparedRecord fresh;
  storage::prepare_record(case_record("C2", "B"), fresh);
  CHECK(reused.key == fresh.key);
  CHECK(reused.data == fresh.data);
  CHECK(reused.key_hash == fresh.key_hash);
  CHECK(reused.content_hash == fresh.content_hash);
}

TEST_CASE("the writer reports the keys whose watched field changed, and keeps person changes",
          "[storage][extract][person]") {
  storage::History history(":memory:");
  ingest(history, "cases", date(2026, 11, 2),
         {case_record("C1", ""), case_record("C2", ""), case_record("C3", "")});
  auto writer = history.begin_extract(extract_info("cases", date(2026, 11, 3), "b"));
  writer.watch_field(0);  // person: "P-" + key in case_record
  auto c1 = case_record("C1", "");
  c1.values[0] = "P-X";  // another person
  storage::PreparedRecord prepared;
  storage::prepare_record(c1, prepared);
  prepared.line = 2;
  writer.classify(prepared);
  writer.write(std::span<const storage::PreparedRecord>(&prepared, 1));
  writer.add(case_record("C2", "J Smith"));  // changed, same person
  writer.add(case_record("C3", ""));         // unchanged
  writer.add(case_record("C4", ""));         // new
  const auto changes = writer.field_changes();
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].key == "C1");
  CHECK(changes[0].line == 2);
  CHECK(changes[0].before == "P-C1");
  CHECK(changes[0].after == "P-X");
  writer.add_person_change("C1", 2);
  writer.commit(4);

  CHECK(history.person_changes(std::nullopt, date(2026, 11, 3)) ==
        std::vector<rules::PersonChange>{
            {"cases", "cases-2026-11-03.csv", date(2026, 11, 3), "C1", 2}});
  CHECK(history.person_changes(std::nullopt, date(2026, 11, 2)).empty());
  CHECK(history.person_changes(date(2026, 11, 3), date(2026, 11, 9)).empty());
}

TEST_CASE("a writer that watches no field reports no changes", "[storage][extract][person]") {
  storage::History history(":memory:");
  ingest(history, "cases", date(2026, 11, 2), {case_record("C1", "")});
  auto writer = history.begin_extract(extract_info("cases", date(2026, 11, 3), "b"));
  auto c1 = case_record("C1", "");
  c1.values[0] = "P-X";
  writer.add(c1);
  CHECK(writer.field_changes().empty());
}
