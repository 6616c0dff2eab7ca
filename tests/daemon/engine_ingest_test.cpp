// Engine::ingest_file end to end over real files and a real SQLite database, for what the
// re-ingest fast path changes: rows unchanged since the last extract are recognised by their raw
// bytes and not parsed, and everything a full read would find is still found.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "config/config.h"
#include "daemon/once.h"
#include "daemon/work/engine.h"
#include "rules/rules.h"
#include "storage/storage.h"
#include "tests/support/peer_data.h"
#include "tests/support/temp_dir.h"

namespace {

namespace fs = std::filesystem;

constexpr const char* kHeader = "Case ID,Child ID,Worker,Referral Date\n";

std::string config_text() {
  return R"toml([service]
state_dir = "state"

[[source]]
name = "cases"
files = "cases*.csv"
key = ["Case ID"]
max_bad_rows = "20%"
date_formats = ["%d/%m/%Y"]
[source.fields]
person = "Child ID"
worker = "Worker"
opened = "Referral Date"
)toml";
}

class EngineFixture {
 public:
  explicit EngineFixture(const std::string& text = config_text())
      : config_(config::parse_config(text, dir_ / "casewatch.toml")),
        prepared_((service::prepare_state_dir(config_), true)),
        calendar_(config::load_calendar(config_)),
        history_(config_.service.database_file()),
        engine_(config_, calendar_, history_) {}

  // Writes `rows` under `header` as inbox/cases_<as_of>.csv and ingests it (with
  // `for_evaluation`, as a cycle does).
  service::ExtractOutcome ingest(const std::string& as_of, const std::string& rows,
                                 const std::string& header = kHeader, bool for_evaluation = false) {
    const fs::path file = config_.service.inbox_dir() / ("cases_" + as_of + ".csv");
    std::ofstream(file, std::ios::binary) << header << rows;
    return engine_.ingest_file(file, *config_.rules.find_source("cases"), for_evaluation);
  }

  // Writes `bytes` as inbox/`name` and ingests it as `source`.
  service::ExtractOutcome ingest_bytes(const std::string& name, const std::string& bytes,
                                       const std::string& source) {
    const fs::path file = config_.service.inbox_dir() / name;
    std::ofstream(file, std::ios::binary) << bytes;
    return engine_.ingest_file(file, *config_.rules.find_source(source));
  }

  storage::History& history() { return history_; }
  service::Engine& engine() { return engine_; }
  const config::Config& config() const { return config_; }
  const rules::Calendar& calendar() const { return calendar_; }

 private:
  test_support::TempDir dir_;
  config::Config config_;
  bool prepared_;  // the state folders exist before the database is opened in them
  rules::Calendar calendar_;
  storage::History history_;
  service::Engine engine_;
};

// n rows C1..Cn; row i's worker is W<i>, or `changed` for the rows in `change`.
std::string rows(int n, std::initializer_list<int> change = {}, const std::string& changed = "") {
  std::string out;
  for (int i = 1; i <= n; ++i) {
    const bool is_changed = std::find(change.begin(), change.end(), i) != change.end();
    out += "C" + std::to_string(i) + ",P" + std::to_string(i) + "," +
           (is_changed ? changed : "W" + std::to_string(i)) + ",0" + std::to_string(1 + i % 9) +
           "/10/2026\n";
  }
  return out;
}

rules::Record record(int i, const std::string& worker) {
  return rules::Record{"C" + std::to_string(i),
                       {"P" + std::to_string(i), worker, "2026-10-0" + std::to_string(1 + i % 9)}};
}

bool ingested(const service::ExtractOutcome& outcome) {
  return outcome.info.status == storage::ExtractStatus::kIngested;
}

}  // namespace

TEST_CASE("a re-ingest skips unchanged rows unparsed and stores exactly what changed",
          "[daemon][engine]") {
  EngineFixture fixture;
  const auto first = fixture.ingest("2026-11-02", rows(50));
  REQUIRE(ingested(first));
  CHECK(first.unchanged_rows == 0);

  // C7 and C30 change; C50 is gone; C51 is new.
  const auto second =
      fixture.ingest("2026-11-09", rows(49, {7, 30}, "Moved") + "C51,P51,W51,02/11/2026\n");
  REQUIRE(ingested(second));
  CHECK(second.info.rows == 50);
  CHECK(second.unchanged_rows == 47);
  CHECK(second.problems.empty());

  auto& history = fixture.history();
  std::vector<rules::Record> expected;
  for (int i = 1; i <= 49; ++i) {
    expected.push_back(record(i, i == 7 || i == 30 ? "Moved" : "W" + std::to_string(i)));
  }
  expected.push_back(rules::Record{"C51", {"P51", "W51", "2026-11-02"}});
  auto current = history.current_records("cases");
  std::sort(current.begin(), current.end(),
            [](const auto& a, const auto& b) { return a.key < b.key; });
  std::sort(expected.begin(), expected.end(),
            [](const auto& a, const auto& b) { return a.key < b.key; });
  CHECK(current == expected);
  CHECK(history.record_history("cases", "C7").size() == 2);
  CHECK(history.record_history("cases", "C8").size() == 1);  // skipped: not rewritten
  CHECK(history.record_history("cases", "C50").at(0).valid_to ==
        *rules::Date::from_ymd(2026, 11, 9));

  // The third extract still recognises rows by the bytes stored with the second.
  const auto third = fixture.ingest("2026-11-16", rows(49, {7, 30}, "Moved"));
  REQUIRE(ingested(third));
  CHECK(third.unchanged_rows == 49);
}

TEST_CASE("a key on a skipped row and on a row read later rejects the file as a repeated key",
          "[daemon][engine]") {
  EngineFixture fixture;
  REQUIRE(ingested(fixture.ingest("2026-11-02", rows(5))));
  // Line 3 (C2) is unchanged and skipped; line 7 has C2 again with other values.
  const auto outcome = fixture.ingest("2026-11-09", rows(5) + "C2,P2,Other,01/10/2026\n");
  CHECK(outcome.info.status == storage::ExtractStatus::kRejected);
  CHECK(outcome.info.error == "key 'C2' appears on lines 3 and 7");
  CHECK(fixture.history().record_history("cases", "C2").size() == 1);
}

TEST_CASE("a copy of a skipped row is a repeated row, recorded and skipped, not a repeated key",
          "[daemon][engine]") {
  EngineFixture fixture;
  REQUIRE(ingested(fixture.ingest("2026-11-02", rows(5))));
  const std::string c2 = "C2,P2,W2,03/10/2026\n";
  const auto outcome = fixture.ingest("2026-11-09", rows(5) + c2);
  REQUIRE(ingested(outcome));
  REQUIRE(outcome.problems.size() == 1);
  CHECK(outcome.problems[0].line == 7);
  CHECK(outcome.problems[0].message == "the row repeats line 3 exactly; the repeat is skipped");
}

TEST_CASE("an unchanged row with a problem is read again and its problem recorded again",
          "[daemon][engine]") {
  EngineFixture fixture;
  const std::string bad = "C9,P9,W9,31/02/2026\n";  // no 31 February
  const auto first = fixture.ingest("2026-11-02", rows(8) + bad);
  REQUIRE(ingested(first));
  REQUIRE(first.problems.size() == 1);
  const auto second = fixture.ingest("2026-11-09", rows(8) + bad + "C10,P10,W10,01/10/2026\n");
  REQUIRE(ingested(second));
  CHECK(second.unchanged_rows == 8);
  REQUIRE(second.problems.size() == 1);
  CHECK(second.problems[0].line == 10);
  CHECK(second.problems[0].message == first.problems[0].message);
}

TEST_CASE("rows are parsed again when the header changes, and unchanged records are kept",
          "[daemon][engine]") {
  EngineFixture fixture;
  REQUIRE(ingested(fixture.ingest("2026-11-02", rows(5))));
  // The same rows under a header spelt differently: it maps to the same fields, but a row's
  // bytes are only known under the header they were read with.
  const auto outcome = fixture.ingest("2026-11-09", rows(5, {2}, "Moved"),
                                      "case id,CHILD ID,Worker,Referral Date\n");
  REQUIRE(ingested(outcome));
  CHECK(outcome.unchanged_rows == 0);
  CHECK(fixture.history().record_history("cases", "C1").size() == 1);  // the same values
  CHECK(fixture.history().record_history("cases", "C2").size() == 2);
  // Read under the new header, the rows are recognised again the week after.
  const auto after = fixture.ingest("2026-11-16", rows(6, {2}, "Moved"),
                                    "case id,CHILD ID,Worker,Referral Date\n");
  REQUIRE(ingested(after));
  CHECK(after.unchanged_rows == 5);
}

TEST_CASE(
    "re-ingesting the public fake SSDA903 reviews skips their rows and finds the same "
    "exact repeats",
    "[daemon][engine]") {
  CASEWATCH_REQUIRE_PEER_DATA(reviews, "csc-validator-be-903/reviews.csv");
  std::string bytes;
  {
    std::ifstream in(reviews, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  EngineFixture fixture(R"toml([service]
state_dir = "state"

[[source]]
name = "reviews"
files = "reviews*.csv"
key = ["CHILD", "REVIEW", "REVIEW_CODE"]
date_formats = ["%d/%m/%Y"]
[source.fields]
person = "CHILD"
review = "REVIEW"
)toml");
  const auto first = fixture.ingest_bytes("reviews_2019-03-31.csv", bytes, "reviews");
  REQUIRE(ingested(first));
  REQUIRE(first.problems.size() == 2);  // two rows repeat an earlier row exactly

  // A week later: the same rows and one more.
  const auto second = fixture.ingest_bytes("reviews_2019-04-07.csv",
                                           bytes + "999999,01/01/2010,01/04/2019,PN6\n", "reviews");
  REQUIRE(ingested(second));
  CHECK(second.info.rows == first.info.rows + 1);
  // Every clean row but those crossing a 1 MiB block of the file (none: it is smaller).
  CHECK(second.unchanged_rows == first.info.rows - 2);
  REQUIRE(second.problems.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(second.problems[i].line == first.problems[i].line);
    CHECK(second.problems[i].message == first.problems[i].message);
  }
  CHECK(fixture.history().current_records("reviews").size() == first.info.rows - 2 + 1);
}

TEST_CASE("a key whose person changed between extracts is a data-quality item naming the key only",
          "[daemon][engine][person]") {
  EngineFixture fixture;
  REQUIRE(ingested(fixture.ingest("2026-11-02",
                                  "C1,P1,W1,01/10/2026\n"
                                  "C2,P2,W2,01/10/2026\n"
                                  "C3,,W3,01/10/2026\n"
                                  "C4,P4,W4,01/10/2026\n"
                                  "C5,P5,W5,01/10/2026\n"
                                  "C6,P6,W6,01/10/2026\n"
                                  "C7,P7,W7,01/10/2026\n")));
  // Line by line (the header is line 1), what each row of the next day's extract is:
  const auto second = fixture.ingest("2026-11-03",
                                     "C1,P9,W1,01/10/2026\n"     // 2: another child: the item
                                     "C2, p2 ,W2,01/10/2026\n"   // 3: same id, other spacing/case
                                     "C3,P3,W3,01/10/2026\n"     // 4: filled in where empty
                                     "C4,P4,Moved,01/10/2026\n"  // 5: same child, new worker
                                     "C5,P5,W5,01/10/2026\n"     // 6: unchanged
                                     "C7,,W7,01/10/2026\n"       // 7: emptied
                                     "C8,P6,W8,01/10/2026\n");   // 8: new key (C6 vanished)
  REQUIRE(ingested(second));
  REQUIRE(second.problems.size() == 1);
  CHECK(second.problems[0] ==
        rules::Problem{2, "Child ID",
                       "key C1 now belongs to a different person than in the previous extract"});
  CHECK(second.info.problems == 1);
  auto& history = fixture.history();
  CHECK(history.problems(second.info.id) == second.problems);
  const auto date = [](int d) { return *rules::Date::from_ymd(2026, 11, d); };
  CHECK(history.person_changes(std::nullopt, date(3)) ==
        std::vector<rules::PersonChange>{{"cases", "cases_2026-11-03.csv", date(3), "C1", 2}});
  CHECK(history.person_changes(date(3), date(30)).empty());  // only extracts after the first date

  // The review lists the key in its data-quality section, and neither child's identifier.
  const auto review = fixture.engine().render_review(rules::iso_week(date(3)), date(3), "text");
  CHECK(review.find("Data quality: keys that now belong to a different person (1)") !=
        std::string::npos);
  CHECK(review.find("C1") != std::string::npos);
  CHECK(review.find("P9") == std::string::npos);
  CHECK(review.find("P1 ") == std::string::npos);

  // C1 back to its first child the day after: a change again, this time on line 2 of that file.
  const auto third = fixture.ingest("2026-11-04", "C1,P1,W1,01/10/2026\n");
  REQUIRE(ingested(third));
  REQUIRE(third.problems.size() == 1);
  CHECK(third.problems[0].line == 2);
  CHECK(history.person_changes(date(3), date(4)).size() == 1);
}

namespace {

// The cases source with the unallocated and caseload rules reading it.
std::string config_with_rules() {
  return R"toml([service]
state_dir = "state"

[[source]]
name = "cases"
files = "cases*.csv"
key = ["Case ID"]
max_bad_rows = "50%"
date_formats = ["%d/%m/%Y"]
[source.fields]
person = "Child ID"
team = "Team"
worker = "Worker"
opened = "Referral Date"
status = "Status"

[[rule]]
id = "unallocated"
kind = "unallocated"
source = "cases"
open_values = ["Open"]
over_days = 28

[[rule]]
id = "caseload"
kind = "caseload"
source = "cases"
open_values = ["Open"]
max_cases = 2
)toml";
}

constexpr const char* kTeamHeader = "Case ID,Child ID,Team,Worker,Referral Date,Status\n";

// What an evaluation lists: findings, bands and the team table.
void check_same_lists(const rules::Evaluation& got, const rules::Evaluation& expected) {
  CHECK(got.findings == expected.findings);
  CHECK(got.bands == expected.bands);
  CHECK(got.team_bands == expected.team_bands);
}

}  // namespace

TEST_CASE(
    "evaluating after an ingest that stored every row anew lists what the stored snapshot "
    "gives",
    "[daemon][engine]") {
  // The ingest keeps the records it stored for the evaluation when they are the source's whole
  // snapshot; a second engine on the same database reads the snapshot back from storage.
  EngineFixture fixture(config_with_rules());
  const auto from_storage = [&] {
    service::Engine fresh(fixture.config(), fixture.calendar(), fixture.history());
    return fresh.evaluate_current();
  };

  // A first extract: unallocated cases in two teams, a worker over the caseload, a bad date
  // (stored as it is, an untrusted finding), a closed case, an exact copy of a row (stored once),
  // quoted fields.
  const std::string first_rows =
      "C1,P1,North,,01/09/2026,Open\n"
      "C2,P2,North,,15/10/2026,Open\n"
      "C3,P3,South,,31/02/2026,Open\n"
      "C4,P4,South,Ann,01/08/2026,Open\n"
      "C5,P5,South,Ann,02/08/2026,Open\n"
      "C6,P6,South,Ann,03/08/2026,Open\n"
      "C7,P7,North,,01/07/2026,Closed\n"
      "C4,P4,South,Ann,01/08/2026,Open\n"
      "\"C8\",P8,\"North, East\",,\"01/06/2026\",Open\n";
  const auto first = fixture.ingest("2026-11-02", first_rows, kTeamHeader, true);
  REQUIRE(ingested(first));
  const auto after_first = fixture.engine().evaluate_current();
  CHECK(after_first.findings.size() == 4);  // C1, C3 (untrusted), C8; Ann over 2 cases
  check_same_lists(after_first, from_storage());

  // Every row changed (C1 allocated, the others re-dated), C7 gone, C9 new: every current
  // record is stored anew again.
  const auto second = fixture.ingest("2026-11-09",
                                     "C1,P1,North,Bob,01/09/2026,Open\n"
                                     "C2,P2,North,,16/10/2026,Open\n"
                                     "C3,P3,South,,30/01/2026,Open\n"
                                     "C4,P4,South,Ann,04/08/2026,Open\n"
                                     "C5,P5,South,Ann,05/08/2026,Open\n"
                                     "C6,P6,South,Ann,06/08/2026,Open\n"
                                     "C8,P8,North,,02/06/2026,Open\n"
                                     "C9,P9,East,,01/05/2026,Open\n",
                                     kTeamHeader, true);
  REQUIRE(ingested(second));
  CHECK(second.unchanged_rows == 0);
  const auto after_second = fixture.engine().evaluate_current();
  CHECK(after_second.findings != after_first.findings);
  check_same_lists(after_second, from_storage());

  // Most rows unchanged: the snapshot is partly the second extract's.
  const auto third = fixture.ingest("2026-11-16",
                                    "C1,P1,North,Bob,01/09/2026,Open\n"
                                    "C2,P2,North,Cat,16/10/2026,Open\n"
                                    "C3,P3,South,,30/01/2026,Open\n"
                                    "C4,P4,South,Ann,04/08/2026,Open\n"
                                    "C5,P5,South,Ann,05/08/2026,Open\n"
                                    "C6,P6,South,Ann,06/08/2026,Open\n"
                                    "C8,P8,North,,02/06/2026,Open\n"
                                    "C9,P9,East,,01/05/2026,Open\n",
                                    kTeamHeader, true);
  REQUIRE(ingested(third));
  CHECK(third.unchanged_rows == 7);
  check_same_lists(fixture.engine().evaluate_current(), from_storage());
}

namespace {

// What a summary shows of a listed finding.
struct Shown {
  rules::Finding finding;
  rules::FindingStatus status;
  rules::Date first_seen;
  int weeks_on_list;
  rules::FindingStatus review_status;
  int weeks_on_review;
  bool operator==(const Shown&) const = default;
};

std::vector<Shown> shown(const std::vector<rules::TrackedFinding>& findings) {
  std::vector<Shown> out;
  out.reserve(findings.size());
  for (const auto& f : findings) {
    out.push_back(Shown{f.finding, f.status, f.first_seen, f.weeks_on_list, f.review_status,
                        f.weeks_on_review});
  }
  return out;
}

}  // namespace

TEST_CASE("a --once run's alerts and summary take the review's lists, as the history stores them",
          "[daemon][engine]") {
  // Two services on the same extracts: one gives run_alerts the review it produced (as --once
  // does), the other lets it read the lists from the history.
  std::string text = config_with_rules();
  const std::string over = "over_days = 28\n";
  text.replace(text.find(over), over.size(), over + "alert_over = 1\nescalate_after = \"8w\"\n");
  EngineFixture given(text);
  EngineFixture read(text);
  const auto cycle = [](EngineFixture& fixture, const std::string& as_of, const std::string& rows) {
    const fs::path file = fixture.config().service.inbox_dir() / ("cases_" + as_of + ".csv");
    std::ofstream(file, std::ios::binary) << kTeamHeader << rows;
    const auto result = fixture.engine().run_cycle();
    REQUIRE(result.extracts.size() == 1);
    REQUIRE(ingested(result.extracts[0]));
  };
  // Week 1: C1 unallocated since July (past escalate_after), C2 since October, Ann over two
  // cases. Week 2: C2 allocated, C3 new.
  const std::vector<std::pair<std::string, std::string>> weeks = {
      {"2026-11-02",
       "C1,P1,North,,01/07/2026,Open\nC2,P2,North,,15/09/2026,Open\n"
       "C4,P4,South,Ann,01/08/2026,Open\nC5,P5,South,Ann,02/08/2026,Open\n"
       "C6,P6,South,Ann,03/08/2026,Open\n"},
      {"2026-11-09",
       "C1,P1,North,,01/07/2026,Open\nC2,P2,North,Bob,15/09/2026,Open\n"
       "C3,P3,South,,01/09/2026,Open\nC4,P4,South,Ann,01/08/2026,Open\n"
       "C5,P5,South,Ann,02/08/2026,Open\nC6,P6,South,Ann,03/08/2026,Open\n"}};
  service::Time now =
      std::chrono::sys_days(std::chrono::year{2026} / 11 / 2) + std::chrono::hours(9);
  for (const auto& [as_of, rows] : weeks) {
    cycle(given, as_of, rows);
    cycle(read, as_of, rows);
    const auto today = *rules::Date::parse_iso(as_of);
    const auto week = rules::iso_week(today);
    report::Review review;
    given.engine().produce_review(week, today, false, now, &review);
    read.engine().produce_review(week, today, false, now);
    const auto decided = given.engine().run_alerts(now, &review);
    const auto expected = read.engine().run_alerts(now);
    CHECK_FALSE(decided.states.empty());
    CHECK(decided.states == expected.states);
    CHECK(decided.notices.size() == expected.notices.size());

    // The summary's findings: the review's, which are the stored ones marked against the
    // review before this week's.
    const auto previous = read.history().previous_review(week);
    std::vector<rules::TrackedFinding> stored;
    for (const auto& rule : read.config().rules.rules) {
      auto open = read.history().open_findings(rule.id);
      rules::mark_against(open, previous ? &*previous : nullptr);
      stored.insert(stored.end(), open.begin(), open.end());
    }
    CHECK(stored.size() == 3);  // C1 and C2, then C1 and C3; Ann
    CHECK(shown(service::review_findings(review)) == shown(stored));
    now += std::chrono::days(7);
  }
}

TEST_CASE("after a cycle the current evaluation is the one a fresh engine computes from storage",
          "[daemon][engine]") {
  // No open date: an unallocated case is listed "since at least" the first extract that showed
  // it unallocated, from the spells the cycle stores. The cycle keeps its own evaluation for the
  // review; it must be what evaluating again with the stored spells gives.
  EngineFixture fixture(R"toml([service]
state_dir = "state"

[[source]]
name = "cases"
files = "cases*.csv"
key = ["Case ID"]
[source.fields]
person = "Child ID"
team = "Team"
worker = "Worker"
status = "Status"

[[source]]
name = "visits"
files = "visits*.csv"
key = ["Visit ID"]
[source.fields]
person = "Child ID"
worker = "Worker"
started = "Due"
completed = "Done"

[[rule]]
id = "unallocated"
kind = "unallocated"
source = "cases"
open_values = ["Open"]
over_days = 5

[[rule]]
id = "caseload"
kind = "caseload"
source = "cases"
open_values = ["Open"]
max_cases = 1

[[rule]]
id = "visits"
kind = "timescale"
source = "visits"
start = "started"
end = "completed"
limit = "10d"
)toml");
  const auto fresh = [&] {
    service::Engine engine(fixture.config(), fixture.calendar(), fixture.history());
    return engine.evaluate_current();
  };
  const auto cycle = [&](const std::string& as_of, const std::string& rows) {
    const fs::path file = fixture.config().service.inbox_dir() / ("cases_" + as_of + ".csv");
    std::ofstream(file, std::ios::binary) << "Case ID,Child ID,Team,Worker,Status\n" << rows;
    const auto result = fixture.engine().run_cycle();
    REQUIRE_FALSE(result.extracts.empty());
    for (const auto& extract : result.extracts) {
      REQUIRE(ingested(extract));
    }
    auto kept = fixture.engine().evaluate_current();
    const auto expected = fresh();
    check_same_lists(kept, expected);
    CHECK(kept.spells == expected.spells);
    CHECK(kept.caseloads == expected.caseloads);
    return kept;
  };
  const auto since_of = [](const rules::Evaluation& evaluation, const std::string& key) {
    for (const auto& f : evaluation.findings) {
      if (f.rule == "unallocated" && f.key == key) {
        return f.since;
      }
    }
    return std::optional<rules::Date>();
  };

  // The first week has visits too (one overdue): later weeks' cycles get cases only, so the
  // visits rule is not evaluated with them and its finding must still be in the evaluation.
  std::ofstream(fixture.config().service.inbox_dir() / "visits_2026-11-02.csv", std::ios::binary)
      << "Visit ID,Child ID,Worker,Due,Done\nV1,P1,Ann,2026-10-01,\nV2,P2,Ann,2026-10-30,\n";
  cycle("2026-11-02", "C1,P1,North,,Open\nC2,P2,North,Ann,Open\nC3,P3,South,,Closed\n");
  // C1 a week unallocated (listed since the first extract), C2 and C4 unallocated from now.
  const auto second = cycle("2026-11-09",
                            "C1,P1,North,,Open\nC2,P2,North,,Open\nC3,P3,South,,Closed\n"
                            "C4,P4,South,,Open\nC5,P5,South,Bob,Open\nC6,P6,South,Bob,Open\n");
  CHECK(since_of(second, "C1") == rules::Date::parse_iso("2026-11-02"));
  CHECK_FALSE(since_of(second, "C2"));  // 0 days: not over 5
  const auto third = cycle("2026-11-16",
                           "C1,P1,North,Ann,Open\nC2,P2,North,,Open\nC3,P3,South,,Closed\n"
                           "C4,P4,South,,Open\nC5,P5,South,Bob,Open\n");
  CHECK_FALSE(since_of(third, "C1"));
  CHECK(std::count_if(third.findings.begin(), third.findings.end(),
                      [](const rules::Finding& f) { return f.rule == "visits"; }) == 1);
  CHECK(since_of(third, "C2") == rules::Date::parse_iso("2026-11-09"));
  CHECK(since_of(third, "C4") == rules::Date::parse_iso("2026-11-09"));
}
