#include <catch2/catch.hpp>

#include "rules/rules.h"
#include "tests/rules/rules_test_util.h"

namespace {

using rules::Date;
using rules::Duration;
using rules::Unit;
using rules_test::d;

rules::Source assessments_source() {
  rules::Source source;
  source.name = "assessments";
  source.key = {"Assessment ID"};
  source.fields = {{"person", {"Child ID"}},     {"team", {"Team"}},
                   {"worker", {"Worker"}},       {"type", {"Type"}},
                   {"started", {"Start"}, true}, {"authorised", {"Authorised"}, true}};
  return source;
}

rules::Rule single_assessment() {
  rules::Rule rule;
  rule.id = "single-assessment";
  rule.kind = rules::RuleKind::kTimescale;
  rule.source = "assessments";
  rule.where = {{"type", {"Single", "C&F"}}};
  rule.start = "started";
  rule.end = "authorised";
  rule.limit = Duration{45, Unit::kWorkingDays};
  rule.warn = Duration{5, Unit::kWorkingDays};
  rule.target_percent = 85;
  return rule;
}

rules::Record assessment(const std::string& key, std::string start, std::string end,
                         std::string type = "Single") {
  return rules::Record{key, {"P-" + key, "Team A", "J Smith", type, start, end}};
}

rules::Evaluation run(const rules::Rule& rule, const std::vector<rules::Record>& records,
                      Date as_of, bool count_start_day = false) {
  rules::RuleSet set;
  set.sources = {assessments_source()};
  set.rules = {rule};
  set.count_start_day = count_start_day;
  std::map<std::string, rules::SourceData, std::less<>> sources;
  sources["assessments"] = rules::SourceData{&set.sources[0], as_of, &records, {}};
  return rules::evaluate(set, rules::Calendar(), sources);
}

}  // namespace

TEST_CASE("an open assessment is due soon, then overdue, band by band", "[timescale]") {
  // Start Mon 4 Jan 2021 + 45wd: due Mon 8 Mar 2021; warn 5wd: from Mon 1 Mar.
  auto [as_of, state, days, band, working_days] =
      GENERATE(table<Date, std::string, int, std::string, int>({
          {d(2021, 2, 26), "", 0, "", 0},
          {d(2021, 3, 1), "due_soon", -7, "Due soon", 40},
          {d(2021, 3, 8), "due_soon", 0, "Due soon", 45},
          {d(2021, 3, 9), "overdue", 1, "Overdue under 1 week", 46},
          {d(2021, 3, 14), "overdue", 6, "Overdue under 1 week", 49},  // Sun: to Fri 12 Mar
          {d(2021, 3, 15), "overdue", 7, "Overdue 1 to 4 weeks", 50},
          {d(2021, 4, 5), "overdue", 28, "Overdue 1 to 4 weeks", 65},
          {d(2021, 4, 6), "overdue", 29, "Overdue 4 weeks or more", 66},
      }));
  CAPTURE(as_of);
  const auto evaluation = run(single_assessment(), {assessment("A1", "2021-01-04", "")}, as_of);
  if (state.empty()) {
    CHECK(evaluation.findings.empty());
    return;
  }
  REQUIRE(evaluation.findings.size() == 1);
  const auto& finding = evaluation.findings[0];
  CHECK(rules::to_string(finding.state) == state);
  CHECK(finding.days == days);
  CHECK(finding.band == band);
  CHECK(finding.start == d(2021, 1, 4));
  CHECK(finding.due == d(2021, 3, 8));
  CHECK(finding.working_days == working_days);
  CHECK(finding.person == "P-A1");
}

TEST_CASE("completed assessments are KPI completions, never findings", "[timescale]") {
  const auto evaluation = run(
      single_assessment(),
      {assessment("A1", "2021-01-04", "2021-03-08"), assessment("A2", "2021-01-04", "2021-03-09"),
       assessment("A3", "2021-01-04", "2021-01-04")},
      d(2021, 6, 1));
  CHECK(evaluation.findings.empty());
  REQUIRE(evaluation.completions.size() == 3);
  CHECK(evaluation.completions[0].in_timescale);
  CHECK_FALSE(evaluation.completions[1].in_timescale);
  CHECK(evaluation.completions[2].in_timescale);
  CHECK(evaluation.completions[1].due == d(2021, 3, 8));
  CHECK(evaluation.completions[1].end == d(2021, 3, 9));
}

TEST_CASE("count_start_day makes a working-day due date one day earlier", "[timescale]") {
  const auto evaluation =
      run(single_assessment(), {assessment("A1", "2021-01-04", "2021-03-08")}, d(2021, 6, 1), true);
  REQUIRE(evaluation.completions.size() == 1);
  CHECK(evaluation.completions[0].due == d(2021, 3, 5));
  CHECK_FALSE(evaluation.completions[0].in_timescale);
}

TEST_CASE("unusable dates are data problems, listed and not aged", "[timescale]") {
  auto [start, end, detail] = GENERATE(table<std::string, std::string, std::string>({
      {"2028-04-28", "2020-09-19", "end 2020-09-19 is before start 2028-04-28"},
      {"", "", "no start date"},
      {"", "2021-02-01", "no start date"},
      {"2021-13-01", "", "start '2021-13-01' is not a date"},
      {"2021-01-04", "soon", "end 'soon' is not a date"},
      {"2021-03-10", "", "start 2021-03-10 is after the extract date 2021-03-09"},
  }));
  CAPTURE(start, end);
  const auto evaluation = run(single_assessment(), {assessment("A1", start, end)}, d(2021, 3, 9));
  REQUIRE(evaluation.findings.size() == 1);
  CHECK(evaluation.findings[0].state == rules::State::kDataProblem);
  CHECK(evaluation.findings[0].band == "Data problems");
  CHECK(evaluation.findings[0].detail == detail);
  CHECK(evaluation.completions.empty());
  CHECK(evaluation.bands.back() == rules::BandCount{"single-assessment", "Data problems", 1});
}

TEST_CASE("the where filter picks the assessment types", "[timescale]") {
  const auto evaluation =
      run(single_assessment(),
          {assessment("A1", "2021-01-04", "", "c&f "), assessment("A2", "2021-01-04", "", "Core")},
          d(2021, 4, 6));
  REQUIRE(evaluation.findings.size() == 1);
  CHECK(evaluation.findings[0].key == "A1");
}

TEST_CASE("an earlier limit applies to records starting before its date", "[timescale]") {
  rules::Rule rule = single_assessment();
  rule.id = "initial-assessment";
  rule.limit = Duration{10, Unit::kWorkingDays};
  rule.earlier_limits = {{d(2010, 4, 1), Duration{7, Unit::kWorkingDays}}};
  const auto evaluation = run(
      rule,
      {assessment("A1", "2010-03-01", "2010-03-10"), assessment("A2", "2010-04-01", "2010-04-19")},
      d(2010, 6, 1));
  REQUIRE(evaluation.completions.size() == 2);
  CHECK(evaluation.completions[0].due == d(2010, 3, 10));  // Mon 1 Mar + 7wd
  CHECK(evaluation.completions[1].due == d(2010, 4, 15));  // Thu 1 Apr + 10wd, weekends only
}

TEST_CASE("band counts list every band with the open records on the list", "[timescale]") {
  const auto evaluation =
      run(single_assessment(),
          {assessment("A1", "2021-01-04", ""), assessment("A2", "2021-02-01", ""),
           assessment("A3", "2020-09-01", ""), assessment("A4", "", "")},
          d(2021, 3, 9));
  const std::vector<rules::BandCount> expected = {
      {"single-assessment", "Due soon", 0},
      {"single-assessment", "Overdue under 1 week", 1},
      {"single-assessment", "Overdue 1 to 4 weeks", 0},
      {"single-assessment", "Overdue 4 weeks or more", 1},
      {"single-assessment", "Data problems", 1},
  };
  CHECK(evaluation.bands == expected);
  std::vector<std::string> keys;
  for (const auto& finding : evaluation.findings) {
    keys.push_back(finding.key);
  }
  CHECK(keys == std::vector<std::string>{"A3", "A1", "A4"});
}

TEST_CASE("configured timescale bands measure from the start", "[timescale]") {
  rules::Rule rule = single_assessment();
  rule.bands = {{"Under 60 days", Duration{60, Unit::kDays}}, {"60 days or more", std::nullopt}};
  const auto evaluation =
      run(rule, {assessment("A1", "2021-01-04", ""), assessment("A2", "2020-09-01", "")},
          d(2021, 3, 9));
  REQUIRE(evaluation.findings.size() == 2);
  CHECK(evaluation.findings[0].band == "60 days or more");
  CHECK(evaluation.findings[1].band == "60 days or more");  // 64 days
  CHECK(evaluation.bands.size() == 3);
}

TEST_CASE("kpi gives Red, Amber or Green against target and tolerance", "[kpi]") {
  auto [in_time, rag] = GENERATE(table<int, rules::Rag>({
      {17, rules::Rag::kGreen},  // 85%
      {18, rules::Rag::kGreen},
      {16, rules::Rag::kAmber},  // 80% = 85 - 5
      {15, rules::Rag::kRed},    // 75%
  }));
  std::vector<rules::Completion> completions;
  completions.reserve(20);
  for (int i = 0; i < 20; ++i) {
    completions.push_back(
        {"sa", "K" + std::to_string(i), d(2026, 4, 1), d(2026, 5, 1), d(2026, 6, 3), i < in_time});
  }
  completions.push_back({"sa", "outside", d(2026, 1, 1), d(2026, 3, 31), d(2026, 3, 4), false});
  completions.push_back({"other", "X", d(2026, 4, 1), d(2026, 5, 1), d(2026, 5, 1), false});
  const auto result = rules::kpi(completions, "sa", d(2026, 4, 1), d(2026, 5, 1), 85, 5);
  CHECK(result.completed == 20);
  CHECK(result.in_timescale == in_time);
  CHECK(result.percent == Approx(in_time * 5.0));
  CHECK(result.rag == rag);
}

TEST_CASE("kpi has no RAG without a target or without completions", "[kpi]") {
  const std::vector<rules::Completion> one = {
      {"sa", "K", d(2026, 4, 1), d(2026, 4, 2), d(2026, 6, 3), true}};
  const auto no_target = rules::kpi(one, "sa", d(2026, 4, 1), d(2026, 4, 30), 0, 5);
  CHECK(no_target.rag == rules::Rag::kNone);
  CHECK(no_target.percent == Approx(100));
  const auto nothing = rules::kpi(one, "sa", d(2026, 5, 1), d(2026, 5, 31), 85, 5);
  CHECK(nothing.completed == 0);
  CHECK(nothing.percent == 0);
  CHECK(nothing.rag == rules::Rag::kNone);
  CHECK(rules::to_string(rules::Rag::kAmber) == "amber");
}
