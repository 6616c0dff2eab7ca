// History::current_view against current_records: random sources ingested into a real database,
// evaluated by every rule kind once from the records as strings (every field) and once from the
// compact view of only the fields the rules read, built straight from the stored snapshot (a
// full piece, then a delta). The two must give exactly the same evaluation.
#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "rules/rules.h"
#include "storage/storage.h"
#include "tests/rules/rules_test_util.h"
#include "tests/storage/storage_test_support.h"
#include "tests/support/temp_dir.h"

namespace {

using rules_test::d;

// A small deterministic generator (splitmix64).
class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(seed) {}
  std::uint64_t below(std::uint64_t n) {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return (z ^ (z >> 31)) % n;
  }
  template <class T>
  const T& pick(const std::vector<T>& values) {
    return values[below(values.size())];
  }

 private:
  std::uint64_t state_;
};

rules::Source make_source(std::string name, const std::vector<std::string>& fields) {
  rules::Source source;
  source.name = std::move(name);
  for (const auto& field : fields) {
    source.fields.push_back({field, {field}, false});
  }
  return source;
}

// Every rule kind over a `cases` source, with filters, and a recurring rule over a `reviews`
// events source.
rules::RuleSet rule_set() {
  rules::RuleSet set;
  set.sources = {make_source("cases", {"person", "team", "worker", "opened", "closed", "status",
                                       "allocation_start", "allocation_end", "type",
                                       "latest_review", "ignored"}),
                 make_source("reviews", {"person", "held", "ignored"})};
  rules::Rule unallocated;
  unallocated.id = "unallocated";
  unallocated.source = "cases";
  unallocated.open_values = {"Open"};
  unallocated.where = {{"type", {"a) Single", "C&F"}}};
  rules::Rule caseload;
  caseload.id = "caseload";
  caseload.kind = rules::RuleKind::kCaseload;
  caseload.source = "cases";
  caseload.open_values = {"Open"};
  caseload.max_cases = 3;
  rules::Rule timescale;
  timescale.id = "timescale";
  timescale.kind = rules::RuleKind::kTimescale;
  timescale.source = "cases";
  timescale.start = "allocation_start";
  timescale.end = "allocation_end";
  timescale.limit = {10, rules::Unit::kWorkingDays};
  timescale.warn = rules::Duration{3, rules::Unit::kWorkingDays};
  timescale.unless = {{"status", {"Closed"}}};
  rules::Rule latest;
  latest.id = "latest";
  latest.kind = rules::RuleKind::kRecurring;
  latest.source = "cases";
  latest.start = "opened";
  latest.end = "closed";
  latest.event = "latest_review";
  latest.schedule = {{20, rules::Unit::kDays}, {3, rules::Unit::kMonths}};
  rules::Rule events;
  events.id = "events";
  events.kind = rules::RuleKind::kRecurring;
  events.source = "cases";
  events.start = "opened";
  events.end = "closed";
  events.events_source = "reviews";
  events.event = "held";
  events.schedule = {{28, rules::Unit::kDays}, {6, rules::Unit::kMonths}};
  set.rules = {unallocated, caseload, timescale, latest, events};
  return set;
}

std::string random_date(Random& random) {
  switch (random.below(12)) {
    case 0:
      return "";
    case 1:
      return "not a date";
    case 2:
      return "31/12/2026";
    default:
      return (d(2025, 1, 1) + static_cast<int>(random.below(700))).iso();
  }
}

rules::Record random_case(Random& random, int id) {
  const std::vector<std::string> teams = {"Team A", "Team B", " team a ", ""};
  const std::vector<std::string> workers = {"Ann", "Bob", "Cy", "Duty", "", "Team B", "N/A"};
  const std::vector<std::string> statuses = {"Open", "open", "Closed", ""};
  const std::vector<std::string> types = {"a) Single", "Single", "C&F", "Family", ""};
  return rules::Record{
      "C" + std::to_string(id),
      {"P" + std::to_string(random.below(400)), random.pick(teams), random.pick(workers),
       random_date(random), random.below(4) == 0 ? random_date(random) : "", random.pick(statuses),
       random_date(random), random.below(3) == 0 ? random_date(random) : "", random.pick(types),
       random_date(random), std::to_string(random.below(1000))}};
}

std::vector<rules::Record> random_reviews(Random& random, int count) {
  std::vector<rules::Record> out;
  out.reserve(count);
  for (int i = 0; i < count; ++i) {
    out.push_back({"R" + std::to_string(i),
                   {"P" + std::to_string(random.below(400)), random_date(random), "x"}});
  }
  return out;
}

auto completion_tuple(const rules::Completion& c) {
  return std::tuple(c.rule, c.key, c.start, c.end, c.due, c.in_timescale, c.judged);
}

void check_same(const rules::Evaluation& got, const rules::Evaluation& expected) {
  CHECK(got.findings.size() == expected.findings.size());
  CHECK(got.findings == expected.findings);
  CHECK(got.bands == expected.bands);
  CHECK(got.team_bands == expected.team_bands);
  REQUIRE(got.completions.size() == expected.completions.size());
  for (std::size_t i = 0; i < got.completions.size(); ++i) {
    CHECK(completion_tuple(got.completions[i]) == completion_tuple(expected.completions[i]));
  }
  REQUIRE(got.caseloads.size() == expected.caseloads.size());
  for (std::size_t i = 0; i < got.caseloads.size(); ++i) {
    CHECK(std::tie(got.caseloads[i].team, got.caseloads[i].worker, got.caseloads[i].cases) ==
          std::tie(expected.caseloads[i].team, expected.caseloads[i].worker,
                   expected.caseloads[i].cases));
  }
}

// Evaluates `set` at `as_of` from the stored records, as strings and as views.
void check_view_matches_records(const storage::History& history, const rules::RuleSet& set,
                                rules::Date as_of) {
  const auto cases = history.current_records("cases");
  const auto reviews = history.current_records("reviews");
  std::map<std::string, rules::SourceData, std::less<>> from_records;
  from_records["cases"] = rules::SourceData{&set.sources[0], as_of, &cases, {}};
  from_records["reviews"] = rules::SourceData{&set.sources[1], as_of, &reviews, {}};
  const auto expected = rules::evaluate(set, rules_test::england(), from_records);

  const auto cases_view = history.current_view("cases", rules::fields_read(set, set.sources[0]));
  const auto reviews_view =
      history.current_view("reviews", rules::fields_read(set, set.sources[1]));
  REQUIRE(cases_view.size() == cases.size());
  REQUIRE(reviews_view.size() == reviews.size());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    REQUIRE(cases_view.key(i) == cases[i].key);
  }
  CHECK_FALSE(cases_view.holds(10));  // "ignored": no rule reads it
  CHECK_FALSE(reviews_view.holds(2));
  std::map<std::string, rules::SourceData, std::less<>> from_views;
  from_views["cases"] = rules::SourceData{&set.sources[0], as_of, nullptr, {}, &cases_view};
  from_views["reviews"] = rules::SourceData{&set.sources[1], as_of, nullptr, {}, &reviews_view};
  const auto got = rules::evaluate(set, rules_test::england(), from_views);
  check_same(got, expected);
  // The data exercises every kind.
  for (const auto& rule : set.rules) {
    INFO(rule.id);
    CHECK(std::any_of(expected.findings.begin(), expected.findings.end(),
                      [&](const rules::Finding& f) { return f.rule == rule.id; }));
  }
}

}  // namespace

TEST_CASE("the stored view evaluates exactly as the stored records, every rule kind") {
  test_support::TempDir dir;
  storage::History history(dir.path() / "casewatch.db");
  const rules::RuleSet set = rule_set();
  for (const std::uint64_t seed : {1u, 2u, 3u}) {
    INFO("seed " << seed);
    Random random(seed);
    std::vector<rules::Record> cases;
    cases.reserve(1500);
    for (int i = 0; i < 1500; ++i) {
      cases.push_back(random_case(random, i));
    }
    const auto reviews = random_reviews(random, 900);
    const rules::Date first = d(2026, 3, 2) + static_cast<int>(seed) * 21;
    storage_test::ingest(history, "cases", first, cases);
    storage_test::ingest(history, "reviews", first, reviews);
    check_view_matches_records(history, set, first);

    // A week later: a tenth of the cases changed, some gone, some new (a snapshot delta).
    for (int i = 0; i < 150; ++i) {
      const auto at = random.below(cases.size());
      cases[at] = random_case(random, static_cast<int>(at));
    }
    cases.erase(cases.begin(), cases.begin() + 40);
    for (int i = 0; i < 30; ++i) {
      cases.push_back(random_case(random, 5000 + i));
    }
    storage_test::ingest(history, "cases", first + 7, cases);
    check_view_matches_records(history, set, first + 7);
  }
}

TEST_CASE("a source of many records is read into its view whole and in order, batch by batch") {
  // Past 32,768 records the view is coded on a thread of its own, 8,192 records a batch: this
  // source fills several batches and ends part-way through one.
  test_support::TempDir dir;
  storage::History history(dir.path() / "casewatch.db");
  const rules::RuleSet set = rule_set();
  Random random(7);
  std::vector<rules::Record> cases;
  cases.reserve(41000);
  for (int i = 0; i < 41000; ++i) {
    cases.push_back(random_case(random, i));
  }
  storage_test::ingest(history, "cases", d(2026, 3, 2), cases);
  storage_test::ingest(history, "reviews", d(2026, 3, 2), random_reviews(random, 300));
  for (const rules::Date as_of : {d(2026, 3, 2), d(2026, 3, 9)}) {
    INFO("as of " << as_of.iso());
    if (as_of == d(2026, 3, 9)) {  // a week later: some changed, some gone, some new
      for (int i = 0; i < 2000; ++i) {
        const auto at = random.below(cases.size());
        cases[at] = random_case(random, static_cast<int>(at));
      }
      cases.erase(cases.begin() + 100, cases.begin() + 600);
      for (int i = 0; i < 700; ++i) {
        cases.push_back(random_case(random, 60000 + i));
      }
      storage_test::ingest(history, "cases", as_of, cases);
    }
    const auto stored = history.current_records("cases");
    const auto uses = rules::fields_read(set, set.sources[0]);
    const auto view = history.current_view("cases", uses);
    REQUIRE(view.size() == stored.size());
    REQUIRE(stored.size() == cases.size());
    std::size_t mismatches = 0;
    for (std::size_t i = 0; i < stored.size(); ++i) {
      mismatches += view.key(i) != stored[i].key ? 1 : 0;
      for (std::size_t f = 0; f < uses.size(); ++f) {
        if (uses[f] != rules::FieldUse::kNone) {
          const std::string_view want = f < stored[i].values.size()
                                            ? std::string_view(stored[i].values[f])
                                            : std::string_view();
          mismatches += view.text(i, static_cast<int>(f)) != want ? 1 : 0;
        }
      }
    }
    CHECK(mismatches == 0);
    check_view_matches_records(history, set, as_of);
  }
}
