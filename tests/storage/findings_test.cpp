#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>

#include <catch2/catch.hpp>

#include "storage/storage.h"
#include "tests/storage/storage_test_support.h"
#include "tests/support/temp_dir.h"

using storage_test::case_record;
using storage_test::date;
using storage_test::ingest;

namespace {

rules::Rule unallocated_rule(std::string fingerprint = "unallocated v1") {
  rules::Rule rule;
  rule.id = "unallocated";
  rule.kind = rules::RuleKind::kUnallocated;
  rule.source = "cases";
  rule.open_values = {"Open"};
  rule.fingerprint = std::move(fingerprint);
  return rule;
}

// An unallocated finding as evaluate() would make it, worked out by hand.
rules::Finding finding(const std::string& key, rules::Date since, rules::Date as_of) {
  rules::Finding f;
  f.rule = "unallocated";
  f.key = key;
  f.person = "P-" + key;
  f.team = "Team A";
  f.band = "1-2 months";
  f.state = rules::State::kBreach;
  f.since = since;
  f.days = as_of - since;
  return f;
}

rules::Evaluation evaluation(std::vector<rules::Finding> findings,
                             std::vector<rules::BandCount> bands = {}) {
  rules::Evaluation result;
  result.findings = std::move(findings);
  result.bands = std::move(bands);
  return result;
}

std::vector<std::string> keys(const std::vector<rules::TrackedFinding>& findings) {
  std::vector<std::string> out;
  out.reserve(findings.size());
  for (const auto& f : findings) {
    out.push_back(f.finding.key);
  }
  return out;
}

std::vector<std::string> keys(const std::vector<rules::ResolvedFinding>& findings) {
  std::vector<std::string> out;
  out.reserve(findings.size());
  for (const auto& f : findings) {
    out.push_back(f.last.key);
  }
  return out;
}

const rules::Date kSince = date(2026, 9, 1);
const rules::Date kWeek1 = date(2026, 11, 2);   // Monday
const rules::Date kWeek2 = date(2026, 11, 9);   // 7 days later
const rules::Date kWeek4 = date(2026, 11, 23);  // 21 days after week 1

// Week 1: C1..C4 unallocated and on the list. Week 2: C1 still unallocated, C2 allocated, C3
// closed, C4 gone from the extract, C5 newly on the list.
struct TwoWeeks {
  storage::History history{":memory:"};
  rules::Source source = storage_test::cases_source();
  rules::Rule rule = unallocated_rule();
  storage::RuleOutcome week1;
  storage::RuleOutcome week2;
  rules::Evaluation week2_evaluation;

  TwoWeeks() {
    ingest(history, "cases", kWeek1,
           {case_record("C1", ""), case_record("C2", ""), case_record("C3", ""),
            case_record("C4", "")});
    week1 = history.apply_evaluation(
        rule, source, kWeek1,
        evaluation({finding("C1", kSince, kWeek1), finding("C2", kSince, kWeek1),
                    finding("C3", kSince, kWeek1), finding("C4", kSince, kWeek1)}));
    ingest(history, "cases", kWeek2,
           {case_record("C1", ""), case_record("C2", "J Smith"),
            case_record("C3", "", "2026-11-05", "Closed"), case_record("C5", "")});
    week2_evaluation =
        evaluation({finding("C1", kSince, kWeek2), finding("C5", date(2026, 10, 1), kWeek2)});
    week2 = history.apply_evaluation(rule, source, kWeek2, week2_evaluation);
  }
};

}  // namespace

TEST_CASE("the first evaluation of a rule is a baseline of new findings", "[storage][findings]") {
  TwoWeeks t;
  CHECK(t.week1.rule == "unallocated");
  CHECK(t.week1.as_of == kWeek1);
  CHECK(t.week1.baseline);
  CHECK(keys(t.week1.open) == std::vector<std::string>{"C1", "C2", "C3", "C4"});
  for (const auto& f : t.week1.open) {
    CHECK(f.status == rules::FindingStatus::kNew);
    CHECK(f.first_seen == kWeek1);
    CHECK(f.weeks_on_list == 0);
  }
  CHECK(t.week1.open[0].finding == finding("C1", kSince, kWeek1));
  CHECK(t.week1.resolved.empty());
  CHECK(t.history.baseline_since("unallocated") == kWeek1);
}

TEST_CASE("a second evaluation carries, opens and resolves findings", "[storage][findings]") {
  TwoWeeks t;
  CHECK_FALSE(t.week2.baseline);
  REQUIRE(keys(t.week2.open) == std::vector<std::string>{"C1", "C5"});
  CHECK(t.week2.open[0].status == rules::FindingStatus::kCarried);
  CHECK(t.week2.open[0].first_seen == kWeek1);
  CHECK(t.week2.open[0].weeks_on_list == 1);
  CHECK(t.week2.open[0].finding == finding("C1", kSince, kWeek2));
  CHECK(t.week2.open[1].status == rules::FindingStatus::kNew);
  CHECK(t.week2.open[1].first_seen == kWeek2);

  REQUIRE(keys(t.week2.resolved) == std::vector<std::string>{"C2", "C3", "C4"});
  using Expected = std::tuple<std::size_t, rules::Resolution, std::string>;
  auto [index, reason, detail] = GENERATE(table<std::size_t, rules::Resolution, std::string>({
      Expected{0, rules::Resolution::kConditionStopped, "allocated to J Smith (seen 2026-11-09)"},
      Expected{1, rules::Resolution::kClosed, "case closed (closure date 2026-11-05)"},
      Expected{2, rules::Resolution::kVanished, "no longer in the extract"},
  }));
  const auto& resolved = t.week2.resolved[index];
  CAPTURE(resolved.last.key);
  CHECK(resolved.reason == reason);
  CHECK(resolved.detail == detail);
  CHECK(resolved.first_seen == kWeek1);
  CHECK(resolved.resolved_on == kWeek2);
  CHECK(resolved.last == finding(resolved.last.key, kSince, kWeek1));
}

TEST_CASE("weeks on the list count whole weeks since the finding opened", "[storage][findings]") {
  TwoWeeks t;
  const auto week4 = t.history.apply_evaluation(t.rule, t.source, kWeek4,
                                                evaluation({finding("C1", kSince, kWeek4)}));
  REQUIRE(keys(week4.open) == std::vector<std::string>{"C1"});
  CHECK(week4.open[0].status == rules::FindingStatus::kCarried);
  CHECK(week4.open[0].weeks_on_list == 3);
  CHECK(keys(week4.resolved) == std::vector<std::string>{"C5"});
  // C5 is still in the snapshot, unallocated: it left the list, its condition stopped.
  CHECK(week4.resolved[0].reason == rules::Resolution::kConditionStopped);

  const auto open = t.history.open_findings("unallocated");
  REQUIRE(open.size() == 1);
  CHECK(open[0].weeks_on_list == 3);
  CHECK(open[0].status == rules::FindingStatus::kCarried);
}

TEST_CASE("evaluating the same rule at the same as-of again changes nothing",
          "[storage][findings]") {
  TwoWeeks t;
  const auto again = t.history.apply_evaluation(t.rule, t.source, kWeek2, t.week2_evaluation);
  CHECK(again.baseline == t.week2.baseline);
  CHECK(keys(again.open) == keys(t.week2.open));
  CHECK(again.open[0].status == rules::FindingStatus::kCarried);
  CHECK(again.open[1].status == rules::FindingStatus::kNew);
  CHECK(keys(again.resolved) == keys(t.week2.resolved));
  CHECK(t.history.resolved_between("unallocated", kWeek1, kWeek4).size() == 3);
  CHECK(t.history.open_findings("unallocated").size() == 2);
}

TEST_CASE("a changed rule definition keeps listed keys and resolves the others as changed",
          "[storage][findings]") {
  TwoWeeks t;
  REQUIRE(t.history.add_note("unallocated", "C1",
                             {"strategy meeting", "jbloggs", "2026-11-10T09:00:00Z"}));
  const auto changed = unallocated_rule("unallocated v2: over_days = 21");
  const auto outcome = t.history.apply_evaluation(changed, t.source, kWeek4,
                                                  evaluation({finding("C1", kSince, kWeek4)}));
  CHECK(outcome.baseline);
  // C1 is listed under both definitions: it keeps its first_seen, weeks and note.
  REQUIRE(keys(outcome.open) == std::vector<std::string>{"C1"});
  CHECK(outcome.open[0].status == rules::FindingStatus::kCarried);
  CHECK(outcome.open[0].first_seen == kWeek1);
  CHECK(outcome.open[0].weeks_on_list == 3);
  REQUIRE(outcome.open[0].latest_note);
  CHECK(outcome.open[0].latest_note->text == "strategy meeting");
  // C5 left because of the change: resolved as such, never as fixed.
  REQUIRE(keys(outcome.resolved) == std::vector<std::string>{"C5"});
  CHECK(outcome.resolved[0].reason == rules::Resolution::kRuleChanged);
  CHECK(outcome.resolved[0].detail == "rule definition changed");
  CHECK(t.history.baseline_since("unallocated") == kWeek4);
  const auto change = t.history.last_definition_change("unallocated");
  REQUIRE(change);
  CHECK(change->on == kWeek4);
  CHECK(change->before == "unallocated v1");
  CHECK(change->after == "unallocated v2: over_days = 21");
  CHECK(t.history.last_fingerprint("unallocated") == "unallocated v2: over_days = 21");

  const auto again = t.history.apply_evaluation(changed, t.source, kWeek4,
                                                evaluation({finding("C1", kSince, kWeek4)}));
  CHECK(again.baseline);
  CHECK(keys(again.resolved) == std::vector<std::string>{"C5"});
  CHECK(again.open[0].first_seen == kWeek1);
}

TEST_CASE("findings of other rules in the evaluation are ignored", "[storage][findings]") {
  storage::History history(":memory:");
  const auto source = storage_test::cases_source();
  auto other = finding("C9", kSince, kWeek1);
  other.rule = "caseload";
  const auto outcome = history.apply_evaluation(unallocated_rule(), source, kWeek1,
                                                evaluation({finding("C1", kSince, kWeek1), other}));
  CHECK(keys(outcome.open) == std::vector<std::string>{"C1"});
  CHECK(history.open_findings("caseload").empty());
}

TEST_CASE("a note stays with its finding while open and is refused after it resolves",
          "[storage][findings]") {
  storage::History history(":memory:");
  const auto source = storage_test::cases_source();
  const auto rule = unallocated_rule();
  ingest(history, "cases", kWeek1, {case_record("C1", "")});
  history.apply_evaluation(rule, source, kWeek1, evaluation({finding("C1", kSince, kWeek1)}));

  const rules::Note first{"strategy meeting 3 Dec", "jbloggs", "2026-11-03T10:00:00Z"};
  const rules::Note second{"within a managed process", "akhan", "2026-11-04T11:00:00Z"};
  CHECK(history.add_note("unallocated", "C1", first));
  CHECK(history.add_note("unallocated", "C1", second));
  CHECK_FALSE(history.add_note("unallocated", "C2", first));  // no such finding
  CHECK_FALSE(history.add_note("timescale", "C1", first));

  const auto open = history.open_findings("unallocated");
  REQUIRE(open.size() == 1);
  CHECK(open[0].latest_note == second);

  ingest(history, "cases", kWeek2, {case_record("C1", "")});
  const auto carried =
      history.apply_evaluation(rule, source, kWeek2, evaluation({finding("C1", kSince, kWeek2)}));
  REQUIRE(carried.open.size() == 1);
  CHECK(carried.open[0].latest_note == second);

  history.apply_evaluation(rule, source, kWeek4, evaluation({}));
  CHECK_FALSE(history.add_note("unallocated", "C1", first));

  // The resolved finding carries the last note; the trail keeps both.
  const auto resolved = history.last_resolved("unallocated", "C1");
  REQUIRE(resolved);
  CHECK(resolved->resolved_on == kWeek4);
  CHECK(resolved->last_note == second);
  const auto trail = history.notes("C1");
  REQUIRE(trail.size() == 2);
  CHECK(trail[0].note == first);
  CHECK(trail[1].note == second);
  CHECK(trail[0].rule == "unallocated");
  CHECK(trail[0].finding_first_seen == kWeek1);
  CHECK_FALSE(trail[0].finding_open);

  // Back on the list later: a new finding, and the trail of (rule, key) comes with it.
  const auto reopened = history.apply_evaluation(rule, source, date(2026, 11, 30),
                                                 evaluation({finding("C1", kSince, kWeek4)}));
  REQUIRE(reopened.open.size() == 1);
  CHECK(reopened.open[0].status == rules::FindingStatus::kNew);
  CHECK(reopened.open[0].latest_note == second);
  CHECK(reopened.open[0].earlier_notes == 1);
  CHECK(history.open_count("unallocated") == 1);
  CHECK(history.open_count("nosuchrule") == 0);
}

TEST_CASE("review runs are kept per ISO week with their list, and the previous one is found",
          "[storage][reviews]") {
  storage::History history(":memory:");
  const auto w47 = *rules::parse_iso_week("2026-W47");
  const auto w48 = *rules::parse_iso_week("2026-W48");
  const auto w49 = *rules::parse_iso_week("2026-W49");
  CHECK_FALSE(history.previous_review(w48));
  rules::PublishedReview first{
      w47, date(2026, 11, 16), {{"unallocated", "C1", "1-2 months", rules::State::kBreach, 0}}};
  history.record_review(first, "2026-11-16T07:00:00Z", "review text W47 (first run)");
  // A re-run in the same week replaces the list and the text.
  first.items.push_back({"unallocated", "C2", "2-3 months", rules::State::kBreach, 0});
  history.record_review(first, "2026-11-17T07:00:00Z", "review text W47");
  rules::PublishedReview second{
      w48, date(2026, 11, 23), {{"unallocated", "C1", "1-2 months", rules::State::kBreach, 1}}};
  history.record_review(second, "2026-11-23T07:00:00Z", "review text W48");

  const auto before48 = history.previous_review(w48);
  REQUIRE(before48);
  CHECK(before48->week == w47);
  CHECK(before48->as_of == date(2026, 11, 16));
  REQUIRE(before48->items.size() == 2);
  CHECK(before48->items[1].key == "C2");
  const auto before49 = history.previous_review(w49);
  REQUIRE(before49);
  CHECK(before49->week == w48);
  REQUIRE(before49->items.size() == 1);
  CHECK(before49->items[0].weeks == 1);
  CHECK(history.review_weeks() == std::vector<rules::IsoWeek>{w47, w48});
  CHECK(history.review_text(w47) == "review text W47");
  CHECK_FALSE(history.review_text(w49));
}

TEST_CASE("the trend keeps per-band counts per evaluation, replaced when re-evaluated",
          "[storage][findings]") {
  storage::History history(":memory:");
  const auto source = storage_test::cases_source();
  const auto rule = unallocated_rule();
  auto bands = [](int a, int b) {
    return std::vector<rules::BandCount>{{"unallocated", "Under 1 week", a},
                                         {"unallocated", "1-2 weeks", b},
                                         {"caseload", "Under 1 week", 99}};
  };
  history.apply_evaluation(rule, source, kWeek1, evaluation({}, bands(5, 2)));
  history.apply_evaluation(rule, source, kWeek2, evaluation({}, bands(9, 9)));
  history.apply_evaluation(rule, source, kWeek2, evaluation({}, bands(4, 3)));
  history.apply_evaluation(rule, source, kWeek4, evaluation({}, bands(1, 0)));

  CHECK(history.trend("unallocated", kWeek1, kWeek2) ==
        std::vector<rules::TrendPoint>{{"unallocated", "Under 1 week", kWeek1, 5},
                                       {"unallocated", "1-2 weeks", kWeek1, 2},
                                       {"unallocated", "Under 1 week", kWeek2, 4},
                                       {"unallocated", "1-2 weeks", kWeek2, 3}});
  CHECK(history.trend("unallocated", kWeek4, kWeek4).size() == 2);
  CHECK(history.trend("caseload", kWeek1, kWeek4).empty());
}

TEST_CASE("unallocated spells are replaced, keeping the start of a continuing spell",
          "[storage][findings]") {
  storage::History history(":memory:");
  const auto source = storage_test::cases_source();
  const auto rule = unallocated_rule();
  rules::Evaluation first;
  first.spells = {{"unallocated", "C1", kWeek1}, {"unallocated", "C2", kWeek1}};
  history.apply_evaluation(rule, source, kWeek1, first);
  rules::Evaluation second;
  second.spells = {{"unallocated", "C1", kWeek2}, {"unallocated", "C3", kWeek2}};
  history.apply_evaluation(rule, source, kWeek2, second);

  const auto spells = history.unallocated_spells();
  REQUIRE(spells.count("unallocated") == 1);
  const auto& by_key = spells.at("unallocated");
  CHECK(by_key.size() == 2);
  CHECK(by_key.at("C1") == kWeek1);  // continuing: keeps its first as-of
  CHECK(by_key.at("C3") == kWeek2);
  CHECK(by_key.count("C2") == 0);  // the spell ended
}

TEST_CASE("a source with no new extract keeps its findings open", "[storage][findings]") {
  TwoWeeks t;
  // Nothing is applied for week 4: the findings are as week 2 left them.
  const auto open = t.history.open_findings("unallocated");
  CHECK(keys(open) == std::vector<std::string>{"C1", "C5"});
  CHECK(open[0].status == rules::FindingStatus::kCarried);
  CHECK(open[0].weeks_on_list == 1);
  CHECK(open[1].status == rules::FindingStatus::kNew);
}

TEST_CASE("a caseload finding keeps its count in cases, not in days", "[storage][findings]") {
  storage::History history(":memory:");
  const auto source = storage_test::cases_source();
  rules::Rule rule;
  rule.id = "caseload";
  rule.kind = rules::RuleKind::kCaseload;
  rule.source = "cases";
  rule.max_cases = 20;
  rule.fingerprint = "caseload v1";
  rules::Finding over;
  over.rule = "caseload";
  over.key = "B Jones";
  over.worker = "B Jones";
  over.team = "North";
  over.band = "Over 20 cases";
  over.cases = 23;
  history.apply_evaluation(rule, source, kWeek1, evaluation({over}));
  auto stored = history.open_findings("caseload");
  REQUIRE(stored.size() == 1);
  CHECK(stored[0].finding.cases == 23);
  CHECK(stored[0].finding.days == 0);

  over.cases = 25;  // carried, with a new count
  history.apply_evaluation(rule, source, kWeek2, evaluation({over}));
  stored = history.open_findings("caseload");
  REQUIRE(stored.size() == 1);
  CHECK(stored[0].finding.cases == 25);
}

namespace {

// Counts the rows of the findings history written to `file` from now on, by any connection:
// triggers on findings and spells that add to a table of their own.
class RowsTouched {
 public:
  explicit RowsTouched(const std::filesystem::path& file)
      : db_(file.string(), SQLite::OPEN_READWRITE) {
    db_.exec("CREATE TABLE touched (tbl TEXT NOT NULL, op TEXT NOT NULL)");
    for (const char* table : {"findings", "spells"}) {
      for (const char* op : {"INSERT", "UPDATE", "DELETE"}) {
        db_.exec(
            fmt::format("CREATE TRIGGER touched_{0}_{1} AFTER {1} ON {0} BEGIN "
                        "INSERT INTO touched VALUES ('{0}', '{1}'); END",
                        table, op));
      }
    }
  }
  int count(const char* table, const char* op) {
    SQLite::Statement query(db_, "SELECT count(*) FROM touched WHERE tbl = ? AND op = ?");
    query.bind(1, table);
    query.bind(2, op);
    query.executeStep();
    return query.getColumn(0).getInt();
  }
  void clear() { db_.exec("DELETE FROM touched"); }

 private:
  SQLite::Database db_;
};

}  // namespace

TEST_CASE("a week later, only the findings that opened, changed or resolved are written",
          "[storage][findings]") {
  test_support::TempDir dir;
  const auto file = dir.path() / "casewatch.db";
  const auto source = storage_test::cases_source();
  const auto rule = unallocated_rule();
  // 200 cases unallocated since a day of their own in September (C000 the longest).
  constexpr int kCases = 200;
  auto key = [](int i) { return fmt::format("C{:03}", i); };
  auto since = [](int i) { return kSince + i % 20; };
  auto week = [&](rules::Date as_of, int first, int last) {
    rules::Evaluation out;
    for (int i = first; i < last; ++i) {
      out.findings.push_back(finding(key(i), since(i), as_of));
      out.spells.push_back({"unallocated", key(i), since(i)});
    }
    // In the list's order, as evaluate() gives it: most days first, then by key.
    std::stable_sort(out.findings.begin(), out.findings.end(),
                     [](const rules::Finding& a, const rules::Finding& b) {
                       return a.days != b.days ? a.days > b.days : a.key < b.key;
                     });
    return out;
  };
  std::vector<std::string> week2_keys;
  {
    storage::History history(file.string());
    std::vector<rules::Record> records;
    for (int i = 0; i <= kCases; ++i) {
      records.push_back(case_record(key(i), ""));
    }
    ingest(history, "cases", kWeek1, records);
    history.apply_evaluation(rule, source, kWeek1, week(kWeek1, 0, kCases));
    RowsTouched touched(file);

    // A week later every finding's days are 7 more. C000 left the list (allocated), C200 joined
    // it, and C100's team changed: three rows of 200, and one spell begun and one ended.
    ingest(history, "cases", kWeek2, records);
    rules::Evaluation week2 = week(kWeek2, 1, kCases + 1);
    for (rules::Finding& f : week2.findings) {
      if (f.key == "C100") {
        f.team = "Team B";
      }
    }
    const storage::RuleOutcome outcome = history.apply_evaluation(rule, source, kWeek2, week2);
    CHECK(touched.count("findings", "INSERT") == 1);  // C200
    CHECK(touched.count("findings", "UPDATE") == 2);  // C100 changed, C000 resolved
    CHECK(touched.count("findings", "DELETE") == 0);
    CHECK(touched.count("spells", "INSERT") == 1);  // C200's
    CHECK(touched.count("spells", "UPDATE") == 0);
    CHECK(touched.count("spells", "DELETE") == 1);  // C000's
    REQUIRE(outcome.resolved.size() == 1);
    CHECK(outcome.resolved[0].last.key == "C000");
    CHECK(outcome.resolved[0].last.days == kWeek1 - since(0));  // as last seen, in week 1
    for (const auto& tracked : outcome.open) {
      week2_keys.push_back(tracked.finding.key);
    }

    // Evaluated again at the same as-of, nothing is written at all.
    touched.clear();
    history.apply_evaluation(rule, source, kWeek2, week2);
    CHECK(touched.count("findings", "INSERT") + touched.count("findings", "UPDATE") == 0);
    CHECK(touched.count("spells", "INSERT") + touched.count("spells", "DELETE") == 0);
  }

  // Read back (as after a restart), the findings left unwritten show week 2's days and are in
  // the list's order.
  storage::History history(file.string());
  const auto open = history.open_findings("unallocated");
  REQUIRE(open.size() == static_cast<std::size_t>(kCases));
  CHECK(keys(open) == week2_keys);
  for (const auto& tracked : open) {
    INFO(tracked.finding.key);
    const int i = std::stoi(tracked.finding.key.substr(1));
    CHECK(tracked.finding.days == kWeek2 - since(i));
    CHECK(tracked.finding.team == (i == 100 ? "Team B" : "Team A"));
    CHECK(tracked.status ==
          (i == kCases ? rules::FindingStatus::kNew : rules::FindingStatus::kCarried));
    CHECK(tracked.weeks_on_list == (i == kCases ? 0 : 1));
  }
  const auto spells = history.unallocated_spells().at("unallocated");
  CHECK(spells.size() == static_cast<std::size_t>(kCases));
  CHECK(spells.count("C000") == 0);
  CHECK(spells.at("C200") == since(200));
  const auto resolved = history.resolved_between("unallocated", kWeek2, kWeek2);
  REQUIRE(resolved.size() == 1);
  CHECK(resolved[0].last.days == kWeek1 - since(0));
}

TEST_CASE("a finding left unwritten for weeks resolves with the days it was last seen with",
          "[storage][findings]") {
  storage::History history(":memory:");
  const auto source = storage_test::cases_source();
  const auto rule = unallocated_rule();
  ingest(history, "cases", kWeek1, {case_record("C1", ""), case_record("C2", "")});
  history.apply_evaluation(
      rule, source, kWeek1,
      evaluation({finding("C1", kSince, kWeek1), finding("C2", kSince + 1, kWeek1)}));
  ingest(history, "cases", kWeek2, {case_record("C1", ""), case_record("C2", "")});
  history.apply_evaluation(
      rule, source, kWeek2,
      evaluation({finding("C1", kSince, kWeek2), finding("C2", kSince + 1, kWeek2)}));
  // Week 4: C2 allocated. It was written in week 1 only; it was last seen in week 2.
  ingest(history, "cases", kWeek4, {case_record("C1", ""), case_record("C2", "Ann")});
  const auto outcome =
      history.apply_evaluation(rule, source, kWeek4, evaluation({finding("C1", kSince, kWeek4)}));
  REQUIRE(outcome.resolved.size() == 1);
  CHECK(outcome.resolved[0].last.key == "C2");
  CHECK(outcome.resolved[0].last.days == kWeek2 - (kSince + 1));
  const auto open = history.open_findings("unallocated");
  REQUIRE(open.size() == 1);
  CHECK(open[0].finding.days == kWeek4 - kSince);
  CHECK(open[0].weeks_on_list == 3);
  const auto resolved = history.resolved_between("unallocated", kWeek4, kWeek4);
  REQUIRE(resolved.size() == 1);
  CHECK(resolved[0].last.days == kWeek2 - (kSince + 1));
}
