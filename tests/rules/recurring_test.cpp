#include <catch2/catch.hpp>

#include "rules/rules.h"
#include "tests/rules/rules_test_util.h"

namespace {

using rules::Date;
using rules::Duration;
using rules::Unit;
using rules_test::d;

struct Fixture {
  rules::RuleSet set;
  std::vector<rules::Record> episodes;
  std::vector<rules::Record> reviews;

  Fixture() {
    rules::Source episodes_source;
    episodes_source.name = "episodes";
    episodes_source.fields = {{"person", {"CHILD"}},
                              {"started", {"DECOM"}, true},
                              {"ended", {"DEC"}, true},
                              {"last_review", {"LAST REVIEW"}, true}};
    rules::Source reviews_source;
    reviews_source.name = "reviews";
    reviews_source.fields = {{"person", {"CHILD"}}, {"review", {"REVIEW"}, true}};
    set.sources = {episodes_source, reviews_source};
    rules::Rule rule;
    rule.id = "lac-review";
    rule.kind = rules::RuleKind::kRecurring;
    rule.source = "episodes";
    rule.start = "started";
    rule.end = "ended";
    rule.schedule = {Duration{20, Unit::kWorkingDays}, Duration{3, Unit::kMonths},
                     Duration{6, Unit::kMonths}};
    rule.events_source = "reviews";
    rule.event = "review";
    set.rules = {rule};
  }

  rules::Evaluation run(Date as_of) {
    std::map<std::string, rules::SourceData, std::less<>> sources;
    sources["episodes"] = rules::SourceData{&set.sources[0], as_of, &episodes, {}};
    sources["reviews"] = rules::SourceData{&set.sources[1], as_of, &reviews, {}};
    return rules::evaluate(set, rules::Calendar(), sources);
  }
};

}  // namespace

TEST_CASE("each review is due a schedule interval after the previous one", "[recurring]") {
  // Looked after from Mon 4 Jan 2021: first review due 20wd later, Mon 1 Feb 2021; then 3
  // months after the first review, then 6 months after each later one.
  auto [reviews, as_of, due, state] =
      GENERATE(table<std::vector<std::string>, Date, Date, std::string>({
          {{}, d(2021, 1, 29), d(2021, 2, 1), ""},
          {{}, d(2021, 2, 2), d(2021, 2, 1), "overdue"},
          {{"2021-01-28"}, d(2021, 4, 29), d(2021, 4, 28), "overdue"},
          {{"2021-01-28"}, d(2021, 4, 28), d(2021, 4, 28), ""},
          {{"2021-04-20", "2021-01-28"}, d(2021, 10, 21), d(2021, 10, 20), "overdue"},
          {{"2021-01-28", "2021-04-20", "2021-10-01"}, d(2022, 4, 2), d(2022, 4, 1), "overdue"},
          // a review before the episode started and one after the as-of date do not count
          {{"2020-12-01", "2021-03-01"}, d(2021, 2, 2), d(2021, 2, 1), "overdue"},
      }));
  Fixture fixture;
  fixture.episodes = {{"E1", {"C1", "2021-01-04", "", ""}}};
  for (const auto& review : reviews) {
    fixture.reviews.push_back({"R", {"C1", review}});
  }
  CAPTURE(reviews, as_of);

  const auto evaluation = fixture.run(as_of);

  if (state.empty()) {
    CHECK(evaluation.findings.empty());
    return;
  }
  REQUIRE(evaluation.findings.size() == 1);
  const auto& finding = evaluation.findings[0];
  CHECK(rules::to_string(finding.state) == state);
  CHECK(finding.due == due);
  CHECK(finding.start == d(2021, 1, 4));
  CHECK(finding.days == as_of - due);
  CHECK_FALSE(finding.assumed_interval);
}

TEST_CASE("a closed episode leaves the population; another child's reviews do not count",
          "[recurring]") {
  Fixture fixture;
  fixture.episodes = {{"E1", {"C1", "2021-01-04", "2021-01-20", ""}},
                      {"E2", {"C2", "2021-01-04", "2021-06-01", ""}}};
  fixture.reviews = {{"R", {"C1", "2021-01-28"}}};
  const auto evaluation = fixture.run(d(2021, 2, 2));
  REQUIRE(evaluation.findings.size() == 1);
  CHECK(evaluation.findings[0].key == "E2");
  CHECK(evaluation.findings[0].person == "C2");
}

// DESIGN.md "Recurring": with only the latest review date, no review yet -> due start + 20wd; a
// latest review on or before start + 20wd + 3m may be the first -> the next is due 3 months
// after it; a later one -> 6 months. The same reviews as one row each give the exact count.
// Looked after from Mon 4 Jan 2021 (weekends-only calendar): first review due Mon 1 Feb 2021;
// the cut-off start + 20wd + 3m is Sat 1 May 2021.
TEST_CASE("latest-review inference against the exact count of an events source", "[recurring]") {
  auto [reviews, as_of, inferred_due, exact_due] =
      GENERATE(table<std::vector<std::string>, Date, Date, Date>({
          // No review yet: due 1 Feb 2021 either way (not inferred: nothing was assumed).
          {{}, d(2021, 6, 1), d(2021, 2, 1), d(2021, 2, 1)},
          // A first review on time, Thu 28 Jan 2021: the second is due 3 months later.
          {{"2021-01-28"}, d(2021, 6, 1), d(2021, 4, 28), d(2021, 4, 28)},
          // A second review held early, Mon 15 Mar 2021, after the first on 28 Jan: the latest
          // (15 Mar) is before the 1 May cut-off, so it may be the first: inferred 15 Jun 2021,
          // while the exact count knows it is the second: 6 months, 15 Sep 2021.
          {{"2021-01-28", "2021-03-15"}, d(2021, 10, 1), d(2021, 6, 15), d(2021, 9, 15)},
          // A late first review, Wed 10 Feb 2021 (due 1 Feb): the second 3 months later.
          {{"2021-02-10"}, d(2021, 6, 1), d(2021, 5, 10), d(2021, 5, 10)},
          // On the cut-off itself, Sat 1 May 2021: may still be the first.
          {{"2021-05-01"}, d(2021, 12, 1), d(2021, 8, 1), d(2021, 8, 1)},
          // A very late first review, Mon 3 May 2021, after the cut-off: read as a later review
          // (6 months, 3 Nov 2021); the exact count says 3 months (3 Aug 2021).
          {{"2021-05-03"}, d(2021, 12, 1), d(2021, 11, 3), d(2021, 8, 3)},
          // Second and third reviews on time: the latest (1 Oct) is long after the cut-off.
          {{"2021-01-28", "2021-04-20", "2021-10-01"}, d(2022, 6, 1), d(2022, 4, 1), d(2022, 4, 1)},
      }));
  CAPTURE(reviews, as_of);
  Fixture exact;
  exact.episodes = {{"E1", {"C1", "2021-01-04", "", ""}}};
  for (const auto& review : reviews) {
    exact.reviews.push_back({"R", {"C1", review}});
  }
  Fixture latest;
  latest.set.rules[0].events_source.clear();
  latest.set.rules[0].event = "last_review";
  latest.episodes = {{"E1", {"C1", "2021-01-04", "", reviews.empty() ? "" : reviews.back()}}};

  const auto by_events = exact.run(as_of);
  const auto by_latest = latest.run(as_of);

  REQUIRE(by_latest.findings.size() == 1);  // every as-of is after both due dates
  CHECK(by_latest.findings[0].due == inferred_due);
  CHECK(by_latest.findings[0].assumed_interval == !reviews.empty());
  REQUIRE(by_events.findings.size() == 1);
  CHECK(by_events.findings[0].due == exact_due);
  CHECK_FALSE(by_events.findings[0].assumed_interval);
}

TEST_CASE("reviews held become KPI completions against the interval they were due in",
          "[recurring]") {
  Fixture fixture;
  fixture.episodes = {{"E1", {"C1", "2021-01-04", "", ""}},
                      {"E2", {"C2", "2021-01-04", "2021-03-01", ""}}};
  // C1: first review Wed 3 Feb 2021 (due Mon 1 Feb: late), second Mon 3 May (due 3 May: on
  // time), recorded twice that day (one review), third Mon 1 Nov 2021 (due 3 Nov: on time).
  // C2 left care on 1 Mar 2021: its review on 28 Jan counts (on time); one on 5 Mar does not.
  fixture.reviews = {{"R1", {"C1", "2021-02-03"}}, {"R2", {"C1", "2021-05-03"}},
                     {"R3", {"C1", "2021-05-03"}}, {"R4", {"C1", "2021-11-01"}},
                     {"R5", {"C2", "2021-01-28"}}, {"R6", {"C2", "2021-03-05"}}};
  const auto evaluation = fixture.run(d(2021, 12, 1));
  REQUIRE(evaluation.completions.size() == 4);
  const auto& c = evaluation.completions;
  CHECK(c[0].key == "E1");
  CHECK(c[0].start == d(2021, 1, 4));
  CHECK(c[0].end == d(2021, 2, 3));
  CHECK(c[0].due == d(2021, 2, 1));
  CHECK_FALSE(c[0].in_timescale);
  CHECK(c[1].start == d(2021, 2, 3));
  CHECK(c[1].due == d(2021, 5, 3));
  CHECK(c[1].in_timescale);
  CHECK(c[2].due == d(2021, 11, 3));
  CHECK(c[2].in_timescale);
  CHECK(c[3].key == "E2");
  CHECK(c[3].end == d(2021, 1, 28));
  CHECK(c[3].in_timescale);
  for (const auto& completion : c) {
    CHECK(completion.judged);
  }
  // C1's next review is due 1 May 2022: nothing listed at 1 Dec 2021; C2 left care.
  CHECK(evaluation.findings.empty());
}

TEST_CASE("a recurring rule whose events source has no extract is not evaluated", "[recurring]") {
  Fixture fixture;
  fixture.episodes = {{"E1", {"C1", "2021-01-04", "", ""}}};
  std::map<std::string, rules::SourceData, std::less<>> sources;
  sources["episodes"] =
      rules::SourceData{&fixture.set.sources[0], d(2021, 6, 1), &fixture.episodes, {}};
  const auto evaluation = rules::evaluate(fixture.set, rules::Calendar(), sources);
  CHECK(evaluation.findings.empty());
  CHECK(evaluation.bands.empty());
}

TEST_CASE("caseloads count open allocated cases per worker and list those over the maximum",
          "[caseload]") {
  rules::Source source;
  source.name = "cases";
  source.fields = {{"team", {"Team"}},
                   {"worker", {"Worker"}},
                   {"closed", {"Closed"}, true},
                   {"allocation_end", {"Allocation End"}, true}};
  rules::Rule rule;
  rule.id = "caseload";
  rule.kind = rules::RuleKind::kCaseload;
  rule.source = "cases";
  rule.max_cases = 2;
  rules::RuleSet set;
  set.sources = {source};
  set.rules = {rule};
  const std::vector<rules::Record> records = {
      {"1", {"Team 1", "A Worker", "", ""}},
      {"2", {"Team 1", "A Worker", "", ""}},
      {"3", {"Team 2", "A Worker", "", ""}},
      {"4", {"Team 1", "B Worker", "", ""}},
      {"5", {"Team 1", "B Worker", "", ""}},
      {"6", {"Team 1", "B Worker", "2021-01-01", ""}},
      {"7", {"Team 1", "B Worker", "", "2021-01-01"}},
      {"8", {"Team 1", "Duty", "", ""}},
      {"9", {"Team 1", "team 1", "", ""}},
  };
  std::map<std::string, rules::SourceData, std::less<>> sources;
  sources["cases"] = rules::SourceData{&set.sources[0], d(2021, 6, 1), &records, {}};

  const auto evaluation = rules::evaluate(set, rules::Calendar(), sources);

  REQUIRE(evaluation.findings.size() == 1);
  const auto& finding = evaluation.findings[0];
  CHECK(finding.key == "A Worker");
  CHECK(finding.worker == "A Worker");
  CHECK(finding.team == "Team 1");
  CHECK(finding.person.empty());
  CHECK(finding.cases == 3);
  CHECK(finding.state == rules::State::kBreach);
  CHECK(finding.band == "Over 2 cases");
  REQUIRE(evaluation.caseloads.size() == 2);
  CHECK(evaluation.caseloads[0].worker == "A Worker");
  CHECK(evaluation.caseloads[0].cases == 3);
  CHECK(evaluation.caseloads[1].worker == "B Worker");
  CHECK(evaluation.caseloads[1].cases == 2);
  CHECK(evaluation.bands == std::vector<rules::BandCount>{{"caseload", "Over 2 cases", 1}});
}
