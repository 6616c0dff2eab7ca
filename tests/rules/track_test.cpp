// rules::track: the findings lifecycle without a database. Dates worked out by hand.
#include <catch2/catch.hpp>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "rules/rules.h"
#include "tests/rules/rules_test_util.h"

using rules_test::d;

namespace {

rules::Rule unallocated() {
  rules::Rule rule;
  rule.id = "unallocated";
  rule.kind = rules::RuleKind::kUnallocated;
  rule.source = "cases";
  rule.open_values = {"Open"};
  rule.not_a_worker = {"Unallocated"};
  rule.fingerprint = "v1";
  return rule;
}

rules::Finding finding(std::string key) {
  rules::Finding f;
  f.rule = "unallocated";
  f.key = std::move(key);
  f.band = "1-2 months";
  return f;
}

rules::Evaluation listing(std::vector<std::string> keys) {
  rules::Evaluation evaluation;
  for (auto& key : keys) {
    evaluation.findings.push_back(finding(std::move(key)));
  }
  return evaluation;
}

// The source's records now, by key: person, team, worker, closed, status.
struct Records {
  std::map<std::string, rules::Record, std::less<>> by_key;
  rules::RecordNow lookup() const {
    return [this](std::string_view key) -> std::optional<rules::Record> {
      const auto found = by_key.find(key);
      if (found == by_key.end()) {
        return std::nullopt;
      }
      return found->second;
    };
  }
};

rules::Record record(const std::string& key, std::string worker, std::string closed,
                     std::string status) {
  return rules::Record{
      key, {"P-" + key, "Team A", std::move(worker), std::move(closed), std::move(status)}};
}

}  // namespace

TEST_CASE("track: a first evaluation opens every listed finding as NEW and is a baseline") {
  const Records none;
  const auto t = rules::track({}, listing({"C1", "C2"}), unallocated(), rules_test::cases_source(),
                              d(2026, 11, 2), false, none.lookup());
  CHECK(t.baseline);
  REQUIRE(t.listed.size() == 2);
  CHECK(t.listed[0].finding.key == "C1");
  CHECK(t.listed[0].status == rules::FindingStatus::kNew);
  CHECK(t.listed[0].first_seen == d(2026, 11, 2));
  CHECK(t.listed[0].weeks_on_list == 0);
  CHECK(t.resolved.empty());
}

TEST_CASE("track: a key still listed carries its first_seen and whole weeks") {
  // Opened Mon 2 Nov 2026; evaluated Tue 17 Nov: 15 days, 2 whole weeks. Sun 15 Nov: 13 days, 1.
  const std::vector<rules::OpenFinding> before = {{finding("C1"), d(2026, 11, 2)}};
  const Records none;
  struct Row {
    rules::Date as_of;
    int weeks;
  };
  for (const Row row : {Row{d(2026, 11, 17), 2}, Row{d(2026, 11, 15), 1}, Row{d(2026, 11, 9), 1},
                        Row{d(2026, 11, 8), 0}}) {
    const auto t = rules::track(before, listing({"C1"}), unallocated(), rules_test::cases_source(),
                                row.as_of, true, none.lookup());
    CHECK_FALSE(t.baseline);
    REQUIRE(t.listed.size() == 1);
    CHECK(t.listed[0].status == rules::FindingStatus::kCarried);
    CHECK(t.listed[0].first_seen == d(2026, 11, 2));
    CHECK(t.listed[0].weeks_on_list == row.weeks);
  }
}

TEST_CASE("track: a repeated evaluation at the as-of that opened a finding keeps it NEW") {
  const std::vector<rules::OpenFinding> before = {{finding("C1"), d(2026, 11, 2)}};
  const Records none;
  const auto t = rules::track(before, listing({"C1"}), unallocated(), rules_test::cases_source(),
                              d(2026, 11, 2), true, none.lookup());
  REQUIRE(t.listed.size() == 1);
  CHECK(t.listed[0].status == rules::FindingStatus::kNew);
}

TEST_CASE("track: findings that leave the list resolve with why, from the record now") {
  const std::vector<rules::OpenFinding> before = {{finding("ALLOC"), d(2026, 10, 1)},
                                                  {finding("CLOSED"), d(2026, 10, 1)},
                                                  {finding("GONE"), d(2026, 10, 5)},
                                                  {finding("STAYS"), d(2026, 10, 5)}};
  Records now;
  now.by_key.emplace("ALLOC", record("ALLOC", "J Smith", "", "Open"));
  now.by_key.emplace("CLOSED", record("CLOSED", "", "2026-11-01", "Open"));
  now.by_key.emplace("STAYS", record("STAYS", "", "", "Open"));
  const rules::Date as_of = d(2026, 11, 2);
  const auto t = rules::track(before, listing({"STAYS", "NEWKEY"}), unallocated(),
                              rules_test::cases_source(), as_of, true, now.lookup());
  REQUIRE(t.listed.size() == 2);
  CHECK(t.listed[0].status == rules::FindingStatus::kCarried);
  CHECK(t.listed[1].status == rules::FindingStatus::kNew);
  REQUIRE(t.resolved.size() == 3);
  CHECK(t.resolved[0].last.key == "ALLOC");
  CHECK(t.resolved[0].reason == rules::Resolution::kConditionStopped);
  CHECK(t.resolved[0].detail == "allocated to J Smith (seen 2026-11-02)");
  CHECK(t.resolved[0].resolved_on == as_of);
  CHECK(t.resolved[0].first_seen == d(2026, 10, 1));
  CHECK(t.resolved[1].reason == rules::Resolution::kClosed);
  CHECK(t.resolved[1].detail == "case closed (closure date 2026-11-01)");
  CHECK(t.resolved[2].last.key == "GONE");
  CHECK(t.resolved[2].reason == rules::Resolution::kVanished);
}

TEST_CASE("track: only the rule's own findings are listed") {
  rules::Evaluation evaluation = listing({"C1"});
  rules::Finding other = finding("C2");
  other.rule = "caseload";
  evaluation.findings.push_back(other);
  const Records none;
  const auto t = rules::track({}, evaluation, unallocated(), rules_test::cases_source(),
                              d(2026, 11, 2), true, none.lookup());
  REQUIRE(t.listed.size() == 1);
  CHECK(t.listed[0].finding.key == "C1");
}

TEST_CASE("track: a changed definition keeps keys listed under both, the rest leave as changed") {
  const std::vector<rules::OpenFinding> before = {{finding("KEPT"), d(2026, 10, 5)},
                                                  {finding("DROPPED"), d(2026, 10, 5)},
                                                  {finding("CLOSED"), d(2026, 10, 5)}};
  Records now;  // DROPPED is still in the extract, unallocated: only the rule changed
  now.by_key.emplace("DROPPED", record("DROPPED", "MASH", "", "Open"));
  now.by_key.emplace("CLOSED", record("CLOSED", "", "2026-11-01", "Open"));
  const auto t = rules::track(before, listing({"KEPT", "FRESH"}), unallocated(),
                              rules_test::cases_source(), d(2026, 11, 2), false, now.lookup());
  CHECK(t.baseline);
  REQUIRE(t.listed.size() == 2);
  CHECK(t.listed[0].status == rules::FindingStatus::kCarried);
  CHECK(t.listed[0].first_seen == d(2026, 10, 5));
  CHECK(t.listed[0].weeks_on_list == 4);  // 28 days
  CHECK(t.listed[1].status == rules::FindingStatus::kNew);
  REQUIRE(t.resolved.size() == 2);
  CHECK(t.resolved[0].last.key == "DROPPED");
  CHECK(t.resolved[0].reason == rules::Resolution::kRuleChanged);
  CHECK(t.resolved[0].detail == "rule definition changed");
  // A case that closed says so, whatever the rule did.
  CHECK(t.resolved[1].last.key == "CLOSED");
  CHECK(t.resolved[1].reason == rules::Resolution::kClosed);
}

TEST_CASE("track: an unallocated case whose referral date moved later is a clock restart") {
  rules::Source source = rules_test::cases_source();
  source.fields.push_back({"opened", {"Referral Date"}, true});
  rules::Finding last = finding("EP-1");
  last.since = d(2025, 12, 9);
  const std::vector<rules::OpenFinding> before = {{last, d(2026, 1, 12)}};
  Records now;
  rules::Record moved = record("EP-1", "", "", "Open");
  moved.values.push_back("2026-11-25");
  now.by_key.emplace("EP-1", moved);
  const auto t =
      rules::track(before, listing({}), unallocated(), source, d(2026, 11, 30), true, now.lookup());
  REQUIRE(t.resolved.size() == 1);
  CHECK(t.resolved[0].reason == rules::Resolution::kClockRestarted);
  CHECK(t.resolved[0].detail ==
        "still unallocated: the clock restarted (referral date 9 Dec 2025 \u2192 25 Nov 2026)");

  // Allocated with the same move: a fix, not a restart.
  rules::Record allocated = moved;
  allocated.values[2] = "J Smith";
  now.by_key["EP-1"] = allocated;
  const auto fixed =
      rules::track(before, listing({}), unallocated(), source, d(2026, 11, 30), true, now.lookup());
  REQUIRE(fixed.resolved.size() == 1);
  CHECK(fixed.resolved[0].reason == rules::Resolution::kConditionStopped);
}

TEST_CASE("aged: days counted from a date move with the as-of; counts and zero days do not") {
  struct Row {
    const char* what;
    rules::State state;
    int days;
    int cases;
    int by;
    int days_after;
  };
  // Worked by hand: a finding's days are as_of - since (unallocated) or as_of - due (timescales,
  // reviews), so 7 days later they are 7 more, and 3 days earlier 3 fewer; a caseload finding's
  // measure is its cases (days 0), and untrusted dates and data problems carry 0 days.
  const Row rows[] = {
      {"unallocated 40 days, a week later", rules::State::kBreach, 40, 0, 7, 47},
      {"overdue by 3 days, a week later", rules::State::kOverdue, 3, 0, 7, 10},
      {"due in 2 days, a week later: 5 days overdue", rules::State::kDueSoon, -2, 0, 7, 5},
      {"unallocated 40 days, 3 days earlier", rules::State::kBreach, 40, 0, -3, 37},
      {"the same as-of", rules::State::kBreach, 40, 0, 0, 40},
      {"untrusted dates", rules::State::kUntrusted, 0, 0, 7, 0},
      {"a data problem", rules::State::kDataProblem, 0, 0, 7, 0},
      {"a caseload of 25", rules::State::kBreach, 0, 25, 7, 0},
  };
  for (const Row& row : rows) {
    INFO(row.what);
    rules::Finding f = finding("C1");
    f.state = row.state;
    f.days = row.days;
    f.cases = row.cases;
    f.working_days = 12;
    const rules::Finding after = rules::aged(f, row.by);
    CHECK(after.days == row.days_after);
    CHECK(after.cases == row.cases);
    CHECK(after.working_days == 12);  // left as it was: counting them needs the calendar
    CHECK(after.band == f.band);
    CHECK(after.state == f.state);
  }
}

TEST_CASE("listing_places: listed before untrusted, most days or cases first, then by key") {
  auto with = [](std::string key, rules::State state, int days, int cases = 0) {
    rules::Finding f = finding(std::move(key));
    f.state = state;
    f.days = days;
    f.cases = cases;
    return f;
  };
  const std::vector<rules::Finding> findings = {
      with("C4", rules::State::kUntrusted, 0),    // untrusted: after every listed one
      with("C2", rules::State::kBreach, 40),      // 40 days, key C2: after C1 at 40
      with("C9", rules::State::kBreach, 100),     // most days: first
      with("C1", rules::State::kBreach, 40),      // 40 days, key C1
      with("C3", rules::State::kDataProblem, 0),  // a data problem, key C3: before C4
      with("W1", rules::State::kBreach, 0, 60),   // a caseload of 60 counts as 60
  };
  std::vector<const rules::Finding*> pointers;
  pointers.reserve(findings.size());
  for (const rules::Finding& f : findings) {
    pointers.push_back(&f);
  }
  const std::vector<std::size_t> places = rules::listing_places(pointers);
  CHECK(places == std::vector<std::size_t>{5, 3, 0, 2, 4, 1});
}
