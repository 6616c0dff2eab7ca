#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "report/report.h"
#include "tests/report/fixture.h"
#include "tests/support/seed_table.h"

using report_test::d;

TEST_CASE("the band table reproduces the Essex committee table from the seed extract",
          "[report][bands]") {
  const auto seed = test_support::essex_seed_table();
  rules::RuleSet rule_set;
  rule_set.sources = {seed.source};
  rule_set.rules = {seed.rule};
  std::map<std::string, rules::SourceData, std::less<>> sources;
  sources["cases"] = rules::SourceData{&rule_set.sources[0], seed.as_of, &seed.records, {}};
  const auto evaluation = rules::evaluate(rule_set, rules::Calendar(), sources);

  report::Review review;
  review.week = rules::iso_week(seed.as_of);
  review.today = seed.as_of;
  report::RuleSection section;
  section.rule = &rule_set.rules[0];
  section.as_of = seed.as_of;
  section.bands = evaluation.bands;
  int over_four_weeks = 0;
  for (const auto& finding : evaluation.findings) {
    section.open.push_back(rules::TrackedFinding{finding, rules::FindingStatus::kNew, seed.as_of, 0,
                                                 std::nullopt, false});
    if (finding.state == rules::State::kBreach) {
      ++over_four_weeks;
    }
  }
  review.sections.push_back(section);

  const auto tables = report::band_tables(review);
  REQUIRE(tables.size() == 1);
  const auto& table = tables[0];
  std::vector<std::string> labels;
  for (const auto& band : rules::default_unallocated_bands()) {
    labels.push_back(band.label);
  }
  labels.emplace_back(rules::kInaccuraciesBand);
  CHECK(table.bands == labels);
  REQUIRE(table.rows.size() == 1);
  CHECK(table.rows[0].counts == std::vector<int>{213, 33, 53, 52, 48, 14, 4, 14});
  CHECK(table.rows[0].total == test_support::kSeedUnallocated);
  CHECK(table.grand_total == 431);

  CHECK(table.rows[0].listed == over_four_weeks);
  CHECK(over_four_weeks == 48 + 14 + 4);  // 1 to 2 months, 2 to 3 months, 3 months or more

  const std::string text = report::render_text(review);
  // A line holding the label, spaces, then the number.
  const auto has_row = [&](const std::string& label, int number) {
    const auto at = text.find("\n  " + label + "  ");
    if (at == std::string::npos) {
      return false;
    }
    const auto end = text.find('\n', at + 1);
    std::string line = text.substr(at + 3 + label.size(), end - at - 3 - label.size());
    line.erase(0, line.find_first_not_of(' '));
    return line == std::to_string(number);
  };
  CHECK(text.find("\nAll unallocated open cases\n==========================\n") !=
        std::string::npos);
  CHECK(has_row("Under 1 week", 213));
  CHECK(has_row("3 months or more", 4));
  CHECK(has_row("Inaccuracies due to involvement end dates", 14));  // never wrapped
  CHECK(has_row("All unallocated open cases", 431));
  CHECK(has_row("Over four weeks (listed)", 66));
  const std::string html = report::render_html(review);
  CHECK(html.find("<td>Inaccuracies due to involvement end dates</td>") != std::string::npos);
  CHECK(html.find("<td>All unallocated open cases</td><td align=\"right\">431</td>") !=
        std::string::npos);
  CHECK(html.find("<td>Over four weeks (listed)</td><td align=\"right\">66</td>") !=
        std::string::npos);
}

TEST_CASE("band tables group unallocated rules with the same bands and total each band",
          "[report][bands]") {
  rules::Rule a = report_test::unallocated_rule();
  rules::Rule b = report_test::unallocated_rule();
  b.id = "unallocated-cp";
  b.title = "CP cases unallocated";
  rules::Rule c;
  c.id = "ia";
  c.kind = rules::RuleKind::kTimescale;
  report::Review review;
  review.sections = {
      {&a,
       d(2026, 11, 20),
       false,
       {},
       {},
       {},
       {{"unallocated", "Under 1 week", 3}, {"unallocated", "Over", 2}}},
      {&b,
       d(2026, 11, 20),
       false,
       {},
       {},
       {},
       {{"unallocated-cp", "Under 1 week", 1}, {"unallocated-cp", "Over", 4}}},
      {&c, d(2026, 11, 20), false, {}, {}, {}, {{"ia", "Overdue", 7}}},
  };
  const auto tables = report::band_tables(review);
  REQUIRE(tables.size() == 1);  // the timescale rule's counts are in its team x state table
  CHECK(tables[0].bands == std::vector<std::string>{"Under 1 week", "Over"});
  REQUIRE(tables[0].rows.size() == 2);
  CHECK(tables[0].rows[1].title == "CP cases unallocated");
  CHECK(tables[0].band_totals == std::vector<int>{4, 6});
  CHECK(tables[0].grand_total == 10);
}

TEST_CASE("the trend counts the latest evaluation of each week over the last 12 weeks",
          "[report][trend]") {
  const auto fixture = report_test::week_47();
  const auto trend = report::trend_table(fixture->review);
  REQUIRE(trend.weeks.size() == 12);
  CHECK(trend.weeks.front() == rules::IsoWeek{2026, 36});
  CHECK(trend.weeks.back() == rules::IsoWeek{2026, 47});
  REQUIRE(trend.rows.size() == 9);  // total + 8 bands of the unallocated rule
  const auto& total = trend.rows[0];
  CHECK(total.band.empty());
  CHECK(total.counts[0] == std::nullopt);  // 7 Aug 2026 is before W36
  CHECK(total.counts[9] == 18);            // W45: 10 + 6 + 2
  CHECK(total.counts[10] == 17);           // W46: 11 + 4 + 2
  CHECK(total.counts[11] == 15);           // W47: 20 Nov (12 + 2 + 1), not 16 Nov
  CHECK(trend.rows[1].band == "Under 1 week");
  CHECK(trend.rows[1].counts[11] == 12);
  CHECK(trend.rows[2].band == "1 to 2 weeks");
  CHECK(trend.rows[2].counts[11] == 0);  // no point for the band at that evaluation
}

TEST_CASE("the trend crosses a year end by ISO weeks", "[report][trend]") {
  rules::Rule rule = report_test::unallocated_rule();
  report::Review review;
  review.week = rules::IsoWeek{2027, 2};
  review.today = d(2027, 1, 15);
  report::RuleSection section;
  section.rule = &rule;
  section.trend = {{"unallocated", "Over", d(2026, 12, 31), 5},  // 2026-W53
                   {"unallocated", "Over", d(2027, 1, 4), 4}};   // 2027-W01
  review.sections.push_back(section);
  const auto trend = report::trend_table(review);
  CHECK(trend.weeks[9] == rules::IsoWeek{2026, 53});
  CHECK(trend.weeks[10] == rules::IsoWeek{2027, 1});
  CHECK(trend.rows[0].counts[9] == 5);
  CHECK(trend.rows[0].counts[10] == 4);
  CHECK(trend.rows[0].counts[11] == std::nullopt);
}

TEST_CASE("the scorecard counts the week, the month and the financial year to date",
          "[report][scorecard]") {
  const auto fixture = report_test::week_47();
  const auto cards = report::scorecards(fixture->review);
  REQUIRE(cards.size() == 2);  // and the recurring rule's, from its latest-event column
  CHECK(cards[1].recurring);
  CHECK(cards[1].latest_only);
  CHECK(cards[1].periods[2].kpi.completed == 0);
  const auto& card = cards[0];
  CHECK(card.title == "Single assessments");
  REQUIRE(card.periods.size() == 3);
  CHECK(card.periods[0].label == "Week 2026-W47");
  CHECK(card.periods[0].kpi.completed == 3);
  CHECK(card.periods[0].kpi.in_timescale == 2);
  CHECK(card.periods[0].kpi.rag == rules::Rag::kRed);
  CHECK(card.periods[1].label == "November 2026");
  CHECK(card.periods[1].kpi.completed == 5);
  CHECK(card.periods[1].kpi.rag == rules::Rag::kAmber);  // 80.0% within 5 points of 85
  CHECK(card.periods[2].label == "Year to date (from 1 Apr 2026)");
  CHECK(card.periods[2].kpi.completed == 7);  // not 31 Mar 2026
  CHECK(card.periods[2].kpi.in_timescale == 6);
  CHECK(card.periods[2].kpi.rag == rules::Rag::kGreen);
  CHECK(card.overdue_in_progress == 1);
}

TEST_CASE("the financial year to date starts again on 1 April", "[report][scorecard]") {
  // 31 Mar 2027 is a Wednesday and 1 Apr 2027 a Thursday of the same ISO week, 2027-W13.
  auto [today, year_label, year_completed, year_in, month_label, month_completed, month_in] =
      GENERATE(table<rules::Date, std::string, int, int, std::string, int, int>({
          {d(2027, 3, 31), "Year to date (from 1 Apr 2026)", 3, 2, "March 2027", 1, 1},
          {d(2027, 4, 1), "Year to date (from 1 Apr 2027)", 1, 0, "April 2027", 1, 0},
      }));
  CAPTURE(today.iso());
  rules::Rule rule;
  rule.id = "ia";
  rule.kind = rules::RuleKind::kTimescale;
  rule.title = "Initial assessments";
  rule.target_percent = 60;
  rule.tolerance = 10;
  report::Review review;
  review.today = today;
  review.week = rules::iso_week(today);
  report::RuleSection section;
  section.rule = &rule;
  const auto done = [&](rules::Date end, bool in) {
    section.completions.push_back({"ia", end.iso(), end - 10, end, end, in});
  };
  done(d(2026, 3, 31), true);  // the year before
  done(d(2026, 4, 1), true);
  done(d(2026, 10, 10), false);
  done(d(2027, 3, 31), true);
  done(d(2027, 4, 1), false);
  section.completions.push_back(
      {"other-rule", "x", d(2027, 3, 1), d(2027, 3, 31), d(2027, 4, 1), true});
  review.sections.push_back(section);

  const auto cards = report::scorecards(review);
  REQUIRE(cards.size() == 1);
  const auto& periods = cards[0].periods;
  CHECK(periods[0].label == "Week 2027-W13");
  CHECK(periods[0].kpi.completed == 2);
  CHECK(periods[0].kpi.in_timescale == 1);
  CHECK(periods[1].label == month_label);
  CHECK(periods[1].kpi.completed == month_completed);
  CHECK(periods[1].kpi.in_timescale == month_in);
  CHECK(periods[2].label == year_label);
  CHECK(periods[2].kpi.completed == year_completed);
  CHECK(periods[2].kpi.in_timescale == year_in);
}

TEST_CASE("caseloads give workers, average, maximum and workers over the limit per team",
          "[report][caseload]") {
  const auto fixture = report_test::week_47();
  const auto teams = report::team_caseloads(fixture->review);
  REQUIRE(teams.size() == 2);
  CHECK(teams[0].team == "North Assessment");
  CHECK(teams[0].title == "Caseloads");
  CHECK(teams[0].workers == 3);
  CHECK(teams[0].cases == 52);
  CHECK(teams[0].average == Approx(52.0 / 3));
  CHECK(teams[0].maximum == 22);
  CHECK(teams[0].workers_over == 1);
  CHECK(teams[1].team == "South & East <Family Support>");
  CHECK(teams[1].average == Approx(18.0));
  CHECK(teams[1].workers_over == 1);
}

TEST_CASE("a team slice keeps only that team's items and drops whole-service tables",
          "[report][teams]") {
  const auto fixture = report_test::week_47();
  const auto slice = report::for_teams(fixture->review, {"south*"});
  CHECK(slice.team_filter == "south*");
  REQUIRE(slice.sections.size() == 4);
  REQUIRE(slice.sections[0].open.size() == 1);
  CHECK(slice.sections[0].open[0].finding.key == "C-1003");
  REQUIRE(slice.sections[0].resolved.size() == 1);
  CHECK(slice.sections[0].resolved[0].last.key == "C-0991");
  CHECK(slice.sections[0].bands.empty());
  CHECK(slice.sections[0].trend.empty());
  CHECK(slice.sections[1].completions.empty());
  CHECK(slice.caseloads.size() == 2);
  CHECK(report::headline(slice) ==
        "south*: 1 case unallocated over 4 weeks; 0 out of timescale (Single assessments); 0 out "
        "of timescale (Child protection reviews)");

  const std::string text = report::render_text(slice);
  CHECK(text.find("C-1001") == std::string::npos);
  CHECK(text.find("Band table") == std::string::npos);
  CHECK(text.find("teams south* (the whole-service band table, trend and scorecard are in the") !=
        std::string::npos);
}

TEST_CASE("team globs match whole names, any case, and never an empty team", "[report][teams]") {
  auto [glob, team, kept] = GENERATE(table<std::string, std::string, bool>({
      {"North*", "north assessment", true},
      {"North", "North Assessment", false},
      {"*Family*", "South & East <Family Support>", true},
      {"?orth Assessment", "North Assessment", true},
      {"*", "", false},
  }));
  CAPTURE(glob, team);
  rules::Rule rule = report_test::unallocated_rule();
  report::Review review;
  report::RuleSection section;
  section.rule = &rule;
  rules::Finding finding;
  finding.key = "K";
  finding.team = team;
  section.open.push_back(
      report_test::tracked(finding, rules::FindingStatus::kNew, 0, d(2026, 1, 1)));
  review.sections.push_back(section);
  CHECK(report::for_teams(review, {glob}).sections[0].open.size() == (kept ? 1u : 0u));
}

TEST_CASE("the headline counts breaches and overdue items and names no child", "[report]") {
  const auto fixture = report_test::week_47();
  CHECK(report::headline(fixture->review) ==
        "3 cases unallocated over 4 weeks; 1 out of timescale (Single assessments); 0 out of "
        "timescale (Child protection reviews)");
}

TEST_CASE("describe words an unallocated rule by its threshold", "[report]") {
  auto [over_days, words] = GENERATE(table<int, std::string>({
      {28, "cases unallocated over 4 weeks"},
      {7, "cases unallocated over 1 week"},
      {20, "cases unallocated over 20 days"},
  }));
  rules::Rule rule = report_test::unallocated_rule();
  rule.over_days = over_days;
  CHECK(report::describe(rule) == words);
}

TEST_CASE("long dates read like 23 Nov 2026", "[report]") {
  CHECK(report::long_date(d(2026, 11, 23)) == "23 Nov 2026");
  CHECK(report::long_date(d(2027, 3, 1)) == "1 Mar 2027");
}

TEST_CASE("an alert table marks a since-at-least date and an inferred due date as the lists do",
          "[report][alert]") {
  rules::Rule unallocated = report_test::unallocated_rule();
  rules::Rule recurring;
  recurring.id = "cp-review";
  recurring.kind = rules::RuleKind::kRecurring;
  recurring.limit = rules::Duration{3, rules::Unit::kMonths};
  rules::TrackedFinding exact;
  exact.finding = rules::Finding{.rule = "unallocated", .key = "C-1", .team = "North"};
  exact.finding.since = d(2026, 9, 1);
  rules::TrackedFinding at_least = exact;
  at_least.finding.key = "C-2";
  at_least.finding.since = d(2026, 10, 20);
  at_least.finding.since_at_least = true;
  rules::TrackedFinding inferred;
  inferred.finding = rules::Finding{.rule = "cp-review", .key = "CP-1", .team = "North"};
  inferred.finding.state = rules::State::kOverdue;
  inferred.finding.due = d(2026, 11, 2);
  inferred.finding.assumed_interval = true;
  const std::vector<std::string> fields = {"key", "since", "due"};

  const std::string unallocated_table =
      report::render_alert_table({{&unallocated, exact}, {&unallocated, at_least}}, fields);
  CHECK(unallocated_table.find("2026-09-01") != std::string::npos);  // exact: no mark
  CHECK(unallocated_table.find("2026-09-01*") == std::string::npos);
  CHECK(unallocated_table.find("2026-10-20*") != std::string::npos);
  CHECK(unallocated_table.find("* since at least this date") != std::string::npos);
  CHECK(unallocated_table.find("due date inferred") == std::string::npos);

  const std::string recurring_table = report::render_alert_table({{&recurring, inferred}}, fields);
  CHECK(recurring_table.find("2026-11-02*") != std::string::npos);
  CHECK(recurring_table.find("* due date inferred") != std::string::npos);
  CHECK(recurring_table.find("since at least") == std::string::npos);

  inferred.finding.assumed_interval = false;
  CHECK(report::render_alert_table({{&recurring, inferred}}, fields).find('*') ==
        std::string::npos);
}
