// Rule::join_contiguous: a looked-after child's SSDA903 episodes joined into periods of care, so
// that a placement change (a new episode starting the day the previous one ceased) does not
// restart the reviews (Care Planning, Placement and Case Review (England) Regulations 2010, reg.
// 33: the first review within 20 working days of the child becoming looked after). Dates worked
// by hand on the England and Wales calendar.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "rules/rules.h"
#include "tests/rules/rules_test_util.h"
#include "tests/support/lac_reviews.h"

namespace {

using rules::Date;
using rules_test::d;
using rules_test::england;
using rules_test::finding_for;

// Episodes: person, started (DECOM), ceased (DEC), legal_status (LS); reviews: person, review.
struct Episodes {
  rules::RuleSet set;
  std::vector<rules::Record> episodes;
  std::vector<rules::Record> reviews;

  explicit Episodes(bool join) {
    set.sources = test_support::lac_sources(false);  // "periods" here holds the episodes
    set.sources[0].fields.push_back({"legal_status", {"LS"}});
    rules::Rule rule = test_support::lac_reviews_rule(true);
    rule.unless = {rules::Filter{"legal_status", {"V3", "V4"}}};
    rule.join_contiguous = join;
    set.rules = {rule};
  }

  void episode(const std::string& child, const std::string& decom, const std::string& dec,
               const std::string& ls = "C2") {
    episodes.push_back({child + "|" + decom, {child, decom, dec, ls}});
  }
  void review(const std::string& child, const std::string& date) {
    reviews.push_back({child + "|" + date, {child, date}});
  }

  rules::Evaluation run(Date as_of) const {
    std::map<std::string, rules::SourceData, std::less<>> sources;
    sources["periods"] = rules::SourceData{&set.sources[0], as_of, &episodes, {}};
    sources["reviews"] = rules::SourceData{&set.sources[1], as_of, &reviews, {}};
    return rules::evaluate(set, england(), sources);
  }
};

}  // namespace

TEST_CASE("a placement change mid-period does not restart the first-review clock",
          "[recurring][periods]") {
  // Looked after from Mon 4 Jan 2021, moved on Mon 18 Jan and again on Mon 25 Jan (each move a
  // new episode starting the day the last ceased), listed out of order. The first review is due
  // 20 working days after 4 Jan: 5-8 Jan days 1-4, 11-15 Jan 5-9, 18-22 Jan 10-14, 25-29 Jan
  // 15-19, Mon 1 Feb day 20. Counting from the last move (25 Jan) would say Mon 22 Feb.
  for (const bool join : {true, false}) {
    Episodes e(join);
    e.episode("C1", "2021-01-25", "");
    e.episode("C1", "2021-01-04", "2021-01-18");
    e.episode("C1", "2021-01-18", "2021-01-25");
    const auto evaluation = e.run(d(2021, 2, 2));
    CAPTURE(join);
    if (join) {
      // One period, keyed by its first episode (the key stays when the child moves again).
      REQUIRE(evaluation.findings.size() == 1);
      const auto& finding = evaluation.findings[0];
      CHECK(finding.key == "C1|2021-01-04");
      CHECK(finding.start == d(2021, 1, 4));
      CHECK(finding.due == d(2021, 2, 1));
      CHECK(finding.days == 1);
      CHECK(finding.working_days == 21);  // 4 Jan is day 0; Tue 2 Feb is day 21
    } else {
      // Each episode is its own period: the open one, from 25 Jan, is due Mon 22 Feb.
      CHECK(evaluation.findings.empty());
    }
  }

  SECTION("the second review counts from the first, held in an earlier episode") {
    Episodes e(true);
    e.episode("C1", "2021-01-04", "2021-01-18");
    e.episode("C1", "2021-01-18", "");
    e.review("C1", "2021-01-28");  // Thu, day 18 of 20: on time
    // The second is due 3 months after the first, Wed 28 Apr 2021.
    const auto evaluation = e.run(d(2021, 4, 29));
    const auto* finding = finding_for(evaluation, "C1|2021-01-04");
    REQUIRE(finding != nullptr);
    CHECK(finding->due == d(2021, 4, 28));
    CHECK(finding->end == d(2021, 1, 28));
    REQUIRE(evaluation.completions.size() == 1);
    CHECK(evaluation.completions[0].key == "C1|2021-01-04");
    CHECK(evaluation.completions[0].due == d(2021, 2, 1));
    CHECK(evaluation.completions[0].in_timescale);
  }
}

TEST_CASE("a gap of one day between episodes starts a new period", "[recurring][periods]") {
  // Ceased Mon 18 Jan 2021, looked after again Tue 19 Jan: a new period, its first review due
  // 20 working days after 19 Jan: 20-22 Jan days 1-3, 25-29 Jan 4-8, 1-5 Feb 9-13, 8-12 Feb
  // 14-18, Mon 15 Feb 19, Tue 16 Feb 20.
  Episodes e(true);
  e.episode("C1", "2021-01-04", "2021-01-18");
  e.episode("C1", "2021-01-19", "");
  CHECK(e.run(d(2021, 2, 16)).findings.empty());
  const auto evaluation = e.run(d(2021, 2, 17));
  REQUIRE(evaluation.findings.size() == 1);
  CHECK(evaluation.findings[0].key == "C1|2021-01-19");
  CHECK(evaluation.findings[0].start == d(2021, 1, 19));
  CHECK(evaluation.findings[0].due == d(2021, 2, 16));
}

TEST_CASE("a child with two periods of care: each has its own first review",
          "[recurring][periods]") {
  // First period: Mon 4 Jan 2021 to Mon 1 Mar 2021 over two episodes, reviewed Fri 29 Jan
  // (due Mon 1 Feb: on time). Second: from Sat 1 May 2021. It counts from Fri 30 Apr; Mon 3
  // May is the Early May bank holiday, so day 1 is Tue 4 May; 4-7 May days 1-4, 10-14 May 5-9,
  // 17-21 May 10-14, 24-28 May 15-19, Mon 31 May the Spring bank holiday: due Tue 1 Jun 2021.
  // The review of Mon 15 Mar 2021, between the periods, belongs to neither.
  Episodes e(true);
  e.episode("C1", "2021-01-04", "2021-01-18");
  e.episode("C1", "2021-01-18", "2021-03-01");
  e.episode("C1", "2021-05-01", "");
  e.review("C1", "2021-01-29");
  e.review("C1", "2021-03-15");

  CHECK(e.run(d(2021, 6, 1)).findings.empty());
  const auto evaluation = e.run(d(2021, 6, 2));
  REQUIRE(evaluation.findings.size() == 1);
  const auto& finding = evaluation.findings[0];
  CHECK(finding.key == "C1|2021-05-01");
  CHECK(finding.start == d(2021, 5, 1));
  CHECK(finding.due == d(2021, 6, 1));
  CHECK_FALSE(finding.end.has_value());
  // The first period's review, held before it ended, counts in the KPIs under its first key.
  REQUIRE(evaluation.completions.size() == 1);
  CHECK(evaluation.completions[0].key == "C1|2021-01-04");
  CHECK(evaluation.completions[0].start == d(2021, 1, 4));
  CHECK(evaluation.completions[0].end == d(2021, 1, 29));
  CHECK(evaluation.completions[0].due == d(2021, 2, 1));
  CHECK(evaluation.completions[0].in_timescale);
}

TEST_CASE("periods: overlaps are not joined, children apart, filters test the last episode",
          "[recurring][periods]") {
  const Date as_of = d(2021, 2, 2);  // 4 Jan starts are due Mon 1 Feb, 18 Jan ones Mon 15 Feb
  SECTION("an episode starting before the previous one ceased is a period of its own") {
    Episodes e(true);
    e.episode("C1", "2021-01-04", "2021-01-20");  // ceased after the next began
    e.episode("C1", "2021-01-18", "");
    CHECK(e.run(as_of).findings.empty());  // the open one counts from 18 Jan
  }
  SECTION("another child's episode starting the day this one ceased is not joined") {
    Episodes e(true);
    e.episode("C1", "2021-01-04", "2021-01-18");
    e.episode("C2", "2021-01-18", "");
    CHECK(e.run(as_of).findings.empty());
  }
  SECTION("a period whose latest episode is a short break (V3) is left out") {
    Episodes e(true);
    e.episode("C1", "2021-01-04", "2021-01-18", "C2");
    e.episode("C1", "2021-01-18", "", "V3");
    CHECK(e.run(as_of).findings.empty());
  }
  SECTION("short breaks that became a care order: the period runs from the first episode") {
    Episodes e(true);
    e.episode("C1", "2021-01-04", "2021-01-18", "V3");
    e.episode("C1", "2021-01-18", "", "C2");
    const auto evaluation = e.run(as_of);
    REQUIRE(evaluation.findings.size() == 1);
    CHECK(evaluation.findings[0].start == d(2021, 1, 4));
    CHECK(evaluation.findings[0].due == d(2021, 2, 1));
  }
  SECTION("an episode without a start date is listed as a data problem, not joined") {
    Episodes e(true);
    e.episode("C1", "2021-01-04", "2021-01-18");
    e.episode("C1", "", "");
    const auto evaluation = e.run(as_of);
    REQUIRE(evaluation.findings.size() == 1);
    CHECK(evaluation.findings[0].key == "C1|");
    CHECK(evaluation.findings[0].state == rules::State::kDataProblem);
  }
}
