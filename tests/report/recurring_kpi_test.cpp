// The recurring KPI (DESIGN.md "Recurring", "KPIs"): looked-after reviews held, and held on time,
// per week, month and financial year to date, evaluated from an events source by the rules and
// scored by the report. Calendar: weekends only (holidays are the calendar tests' business), so
// 20 working days are exactly 4 weeks.
#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "report/report.h"
#include "rules/rules.h"
#include "tests/report/fixture.h"
#include "tests/support/lac_reviews.h"

using report_test::d;

namespace {

struct Lac {
  rules::RuleSet set;
  std::vector<rules::Record> periods;
  std::vector<rules::Record> reviews;

  explicit Lac(bool events_source) {
    set.sources = test_support::lac_sources(true);
    rules::Rule rule = test_support::lac_reviews_rule(events_source);
    rule.title = "LAC reviews";
    rule.target_percent = 95;  // NI 66 style
    rule.tolerance = 5;
    set.rules = {rule};
  }

  // A child looked after from `start` whose (first) review was held on `review`.
  void child(std::string id, rules::Date start, rules::Date review) {
    periods.push_back({id, {id, start.iso(), "", review.iso()}});
    reviews.push_back({id + "-1", {id, review.iso()}});
  }

  std::vector<report::Scorecard> scorecards(rules::Date today) {
    std::map<std::string, rules::SourceData, std::less<>> sources;
    sources["periods"] = rules::SourceData{&set.sources[0], today, &periods, {}};
    sources["reviews"] = rules::SourceData{&set.sources[1], today, &reviews, {}};
    const auto evaluation = rules::evaluate(set, rules::Calendar(), sources);
    report::Review review;
    review.today = today;
    review.week = rules::iso_week(today);
    report::RuleSection section;
    section.rule = &set.rules[0];
    section.completions = evaluation.completions;
    for (const auto& finding : evaluation.findings) {
      section.open.push_back(report_test::tracked(finding, rules::FindingStatus::kNew, 0, today));
    }
    review.sections.push_back(section);
    return report::scorecards(review);
  }

  // Four first reviews either side of 1 April 2021 (week 2021-W13 runs Mon 29 Mar to Sun 4 Apr).
  void four_children() {
    // From Mon 1 Feb 2021: due Mon 1 Mar; held Wed 31 Mar 2021: late (financial year 2020-21).
    child("C1", d(2021, 2, 1), d(2021, 3, 31));
    // From Mon 1 Mar 2021: due Mon 29 Mar; held Tue 30 Mar 2021: late.
    child("C3", d(2021, 3, 1), d(2021, 3, 30));
    // From Mon 8 Mar 2021: due Mon 5 Apr; held Thu 1 Apr 2021: on time (2021-22).
    child("C2", d(2021, 3, 8), d(2021, 4, 1));
    // From Mon 15 Mar 2021: due Mon 12 Apr; held Fri 2 Apr 2021: on time.
    child("C4", d(2021, 3, 15), d(2021, 4, 2));
  }
};

}  // namespace

TEST_CASE("reviews held on time are counted per week, month and financial year to date",
          "[report][scorecard][recurring]") {
  // today, week held/on time, month label/held/on time, year label/held/on time, late this week
  auto [today, week_held, week_on_time, month, month_held, month_on_time, year, year_held,
        year_on_time, late] =
      GENERATE(table<rules::Date, int, int, std::string, int, int, std::string, int, int, int>({
          // Wed 31 Mar 2021: the two late March reviews; April's are not held yet.
          {d(2021, 3, 31), 2, 0, "March 2021", 2, 0, "Year to date (from 1 Apr 2020)", 2, 0, 2},
          // Fri 2 Apr 2021: the week still holds all four; the new financial year only April's.
          {d(2021, 4, 2), 4, 2, "April 2021", 2, 2, "Year to date (from 1 Apr 2021)", 2, 2, 2},
      }));
  CAPTURE(today.iso());
  Lac lac(true);
  lac.four_children();
  const auto cards = lac.scorecards(today);
  REQUIRE(cards.size() == 1);
  const auto& card = cards[0];
  CHECK(card.recurring);
  CHECK_FALSE(card.latest_only);
  REQUIRE(card.periods.size() == 3);
  CHECK(card.periods[0].label == "Week 2021-W13");
  CHECK(card.periods[0].kpi.completed == week_held);
  CHECK(card.periods[0].kpi.in_timescale == week_on_time);
  CHECK(card.periods[1].label == month);
  CHECK(card.periods[1].kpi.completed == month_held);
  CHECK(card.periods[1].kpi.in_timescale == month_on_time);
  CHECK(card.periods[2].label == year);
  CHECK(card.periods[2].kpi.completed == year_held);
  CHECK(card.periods[2].kpi.in_timescale == year_on_time);
  CHECK(card.held_late_this_week == late);
  // Against 95% with 5 points of tolerance: 0% and 50% are Red, 100% Green.
  CHECK(card.periods[0].kpi.rag == rules::Rag::kRed);
  CHECK(card.periods[2].kpi.rag == (year_on_time == 2 ? rules::Rag::kGreen : rules::Rag::kRed));
  // Every child's next review (3 months after the first) is not due yet.
  CHECK(card.overdue_in_progress == 0);
}

TEST_CASE("RAG of reviews held on time: Amber within the tolerance", "[report][scorecard]") {
  Lac lac(true);
  // From Mon 15 Mar 2021 the first review is due Mon 12 Apr: 18 held that day and 2 on Tue 13
  // Apr, so 18 of 20 on time: 90%, Amber (95% target, down to 90%).
  for (int i = 0; i < 20; ++i) {
    const bool late = i < 2;
    lac.child("C" + std::to_string(i), d(2021, 3, 15), late ? d(2021, 4, 13) : d(2021, 4, 12));
  }
  const auto cards = lac.scorecards(d(2021, 4, 30));
  REQUIRE(cards.size() == 1);
  const auto& month = cards[0].periods[1];
  CHECK(month.kpi.completed == 20);
  CHECK(month.kpi.in_timescale == 18);
  CHECK(month.kpi.percent == Approx(90.0));
  CHECK(month.kpi.rag == rules::Rag::kAmber);
}

TEST_CASE("with only a latest-review column the KPI counts latest reviews and says so",
          "[report][scorecard][recurring]") {
  Lac lac(false);
  lac.four_children();
  const auto cards = lac.scorecards(d(2021, 4, 2));
  REQUIRE(cards.size() == 1);
  const auto& card = cards[0];
  CHECK(card.latest_only);
  CHECK(card.periods[0].kpi.completed == 4);  // the latest reviews held in week 2021-W13
  CHECK(card.periods[0].kpi.judged == 0);     // none can be judged on time or late
  CHECK(card.periods[0].kpi.rag == rules::Rag::kNone);
  CHECK(card.periods[2].kpi.completed == 2);  // from 1 Apr 2021
  CHECK(card.held_late_this_week == 0);
  report::Review review;  // and the rendering says what it counts
  review.today = d(2021, 4, 2);
  review.week = rules::iso_week(review.today);
  report::RuleSection section;
  section.rule = &lac.set.rules[0];
  section.completions = {
      {"lac-reviews", "C1", d(2021, 2, 1), d(2021, 3, 31), d(2021, 3, 31), false, false}};
  review.sections.push_back(section);
  const std::string text = report::render_text(review);
  CHECK(text.find("Counts the latest event of each record held in the period") !=
        std::string::npos);
  CHECK(text.find("Held late this week") == std::string::npos);
}

TEST_CASE("the scorecard of reviews names what it counts", "[report][scorecard][recurring]") {
  Lac lac(true);
  lac.four_children();
  std::map<std::string, rules::SourceData, std::less<>> sources;
  const rules::Date today = d(2021, 4, 2);
  sources["periods"] = rules::SourceData{&lac.set.sources[0], today, &lac.periods, {}};
  sources["reviews"] = rules::SourceData{&lac.set.sources[1], today, &lac.reviews, {}};
  const auto evaluation = rules::evaluate(lac.set, rules::Calendar(), sources);
  report::Review review;
  review.today = today;
  review.week = rules::iso_week(today);
  report::RuleSection section;
  section.rule = &lac.set.rules[0];
  section.completions = evaluation.completions;
  review.sections.push_back(section);
  const std::string text = report::render_text(review);
  CHECK(text.find("Target 95% held on time; Amber down to 90%.") != std::string::npos);
  CHECK(text.find("Held late this week: 2") != std::string::npos);
  CHECK(text.find("On time") != std::string::npos);
  const std::string html = report::render_html(review);
  CHECK(html.find("Held late this week: <b>2</b>") != std::string::npos);
}
