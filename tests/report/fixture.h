// A fixed week of findings for the report tests and golden files: two review rules with items,
// a review rule with nothing on its list, and a caseload rule. Dates worked out by hand.
#ifndef CASEWATCH_TESTS_REPORT_FIXTURE_H_
#define CASEWATCH_TESTS_REPORT_FIXTURE_H_

#include <memory>
#include <string>
#include <vector>

#include "report/report.h"
#include "rules/rules.h"

namespace report_test {

inline rules::Date d(int y, int m, int day) { return *rules::Date::from_ymd(y, m, day); }

// Owns the rules that a Review points at.
struct Fixture {
  std::vector<std::unique_ptr<rules::Rule>> rules;
  report::Review review;

  const rules::Rule* add_rule(rules::Rule rule) {
    rules.push_back(std::make_unique<rules::Rule>(std::move(rule)));
    return rules.back().get();
  }
};

inline rules::TrackedFinding tracked(rules::Finding finding, rules::FindingStatus status, int weeks,
                                     rules::Date first_seen) {
  rules::TrackedFinding item;
  item.finding = std::move(finding);
  item.status = status;
  item.weeks_on_list = weeks;
  item.first_seen = first_seen;
  item.review_status = status;  // the review shows the status relative to the previous review
  item.weeks_on_review = weeks;
  return item;
}

inline rules::Rule unallocated_rule() {
  rules::Rule rule;
  rule.id = "unallocated";
  rule.kind = rules::RuleKind::kUnallocated;
  rule.source = "cases";
  rule.title = "Cases unallocated over 4 weeks";
  rule.over_days = 28;
  return rule;
}

// The week ending Sunday 22 Nov 2026 (2026-W47), evaluated as of Friday 20 Nov 2026.
inline std::unique_ptr<Fixture> week_47() {
  using rules::FindingStatus;
  using rules::State;
  auto fixture = std::make_unique<Fixture>();
  report::Review& review = fixture->review;
  review.week = rules::IsoWeek{2026, 47};
  review.today = d(2026, 11, 22);
  const rules::Date as_of = d(2026, 11, 20);

  // 1. Unallocated: three on the list, one data problem, three resolved.
  {
    report::RuleSection section;
    section.rule = fixture->add_rule(unallocated_rule());
    section.as_of = as_of;
    section.previous_review = d(2026, 11, 13);
    section.previous_week = rules::iso_week(d(2026, 11, 13));

    rules::Finding a{.rule = "unallocated",
                     .key = "C-1001",
                     .person = "P-501",
                     .team = "North Assessment",
                     .worker = "",
                     .band = "2 to 3 months"};
    a.since = d(2026, 9, 1);
    a.days = 80;  // 29 + 31 + 20
    auto item_a = tracked(a, FindingStatus::kCarried, 6, d(2026, 10, 9));
    item_a.latest_note = rules::Note{
        "Within a managed process: strategy meeting 3 Dec; the family is known to the team and a "
        "duty worker visits weekly until allocation, as agreed with the head of service on 12 "
        "November after the legal planning meeting, which also asked for a review in two weeks "
        "and a written plan from the team manager, to be shared with the independent reviewing "
        "officer before the conference.",
        "J Smith", "2026-11-19T10:15:00Z"};

    rules::Finding b{.rule = "unallocated",
                     .key = "C-1002",
                     .person = "P-502",
                     .team = "North Assessment",
                     .worker = "Duty",
                     .band = "1 to 2 months"};
    b.since = d(2026, 10, 12);
    b.days = 39;  // 19 + 20
    auto item_b = tracked(b, FindingStatus::kNew, 0, as_of);
    item_b.silenced = true;

    rules::Finding c{.rule = "unallocated",
                     .key = "C-1003",
                     .person = "P-503",
                     .team = "South & East <Family Support>",
                     .worker = "Team South",
                     .band = "1 to 2 months"};
    c.since = d(2026, 10, 20);
    c.since_at_least = true;
    c.days = 31;  // 11 + 20
    auto item_c = tracked(c, FindingStatus::kCarried, 1, d(2026, 11, 13));
    item_c.latest_note = rules::Note{"Allocation panel \"Tuesday\" agreed O'Neill's transfer",
                                     "uid 1001", "2026-11-18T16:00:00Z"};

    rules::Finding e{.rule = "unallocated",
                     .key = "C-1004",
                     .person = "P-504",
                     .team = "",
                     .worker = "",
                     .band = std::string(rules::kInaccuraciesBand),
                     .state = State::kUntrusted,
                     .detail = "allocation end 2026-01-05 is before allocation start 2026-02-01"};
    auto item_e = tracked(e, FindingStatus::kNew, 0, as_of);

    section.open = {item_c, item_e, item_b, item_a};  // deliberately out of order

    rules::Finding r1{.rule = "unallocated",
                      .key = "C-0990",
                      .person = "P-490",
                      .team = "North Assessment",
                      .worker = "",
                      .band = "1 to 2 months"};
    rules::Finding r2{.rule = "unallocated",
                      .key = "C-0991",
                      .person = "P-491",
                      .team = "South & East <Family Support>",
                      .worker = "",
                      .band = "2 to 3 months"};
    rules::Finding r3{.rule = "unallocated",
                      .key = "C-0992",
                      .person = "P-492",
                      .team = "North Assessment",
                      .worker = "",
                      .band = "1 to 2 months"};
    section.resolved = {
        {r1, d(2026, 10, 2), as_of, rules::Resolution::kConditionStopped,
         "allocated to A Patel (seen 2026-11-20)"},
        {r2, d(2026, 10, 9), as_of, rules::Resolution::kVanished, ""},
        {r3, d(2026, 10, 30), as_of, rules::Resolution::kClosed, ""},
    };

    const int counts[] = {12, 5, 4, 3, 2, 1, 0, 1};
    std::vector<std::string> labels;
    for (const auto& band : rules::default_unallocated_bands()) {
      labels.push_back(band.label);
    }
    labels.emplace_back(rules::kInaccuraciesBand);
    for (std::size_t i = 0; i < labels.size(); ++i) {
      section.bands.push_back({"unallocated", labels[i], counts[i]});
    }
    // History: one point outside the 12 weeks, W45, W46, and two evaluations in W47 (the later
    // one counts).
    const auto point = [&](rules::Date at, int under_week, int one_to_two_months,
                           int two_to_three) {
      section.trend.push_back({"unallocated", "Under 1 week", at, under_week});
      section.trend.push_back({"unallocated", "1 to 2 months", at, one_to_two_months});
      section.trend.push_back({"unallocated", "2 to 3 months", at, two_to_three});
    };
    point(d(2026, 8, 7), 40, 30, 20);
    point(d(2026, 11, 6), 10, 6, 2);
    point(d(2026, 11, 13), 11, 4, 2);
    point(d(2026, 11, 16), 99, 99, 99);
    point(as_of, 12, 2, 1);
    review.sections.push_back(std::move(section));
  }

  // 2. Single assessments (timescale, 45 working days): first list of this rule.
  {
    rules::Rule rule;
    rule.id = "single-assessment";
    rule.kind = rules::RuleKind::kTimescale;
    rule.source = "assessments";
    rule.title = "Single assessments";
    rule.limit = rules::Duration{45, rules::Unit::kWorkingDays};
    rule.target_percent = 85;
    rule.tolerance = 5;
    report::RuleSection section;
    section.rule = fixture->add_rule(rule);
    section.as_of = as_of;
    section.baseline = true;

    rules::Finding a{.rule = "single-assessment",
                     .key = "A-2001",
                     .person = "P-601",
                     .team = "North Assessment",
                     .worker = "B Jones",
                     .band = "",
                     .state = State::kOverdue};
    a.start = d(2026, 8, 3);
    a.due = d(2026, 10, 6);  // 45 working days, one more for the bank holiday of 31 Aug
    a.days = 45;             // 25 + 20
    a.working_days = 80;
    rules::Finding b{.rule = "single-assessment",
                     .key = "A-2002",
                     .person = "P-602",
                     .team = "South & East <Family Support>",
                     .worker = "C O'Brien",
                     .band = "",
                     .state = State::kDueSoon};
    b.start = d(2026, 9, 21);
    b.due = d(2026, 11, 23);
    b.days = -3;
    b.working_days = 44;
    rules::Finding c{.rule = "single-assessment",
                     .key = "A-2003",
                     .person = "P-603",
                     .team = "North Assessment",
                     .worker = "B Jones",
                     .band = "",
                     .state = State::kDataProblem,
                     .detail = "end 2026-09-19 is before start 2026-09-21"};
    section.open = {tracked(b, FindingStatus::kNew, 0, as_of),
                    tracked(a, FindingStatus::kNew, 0, as_of),
                    tracked(c, FindingStatus::kNew, 0, as_of)};
    const auto done = [&](std::string key, rules::Date end, bool in) {
      section.completions.push_back({"single-assessment", std::move(key), end - 60, end, end, in});
    };
    done("A-1", d(2026, 11, 17), true);   // week 47
    done("A-2", d(2026, 11, 18), false);  // week 47
    done("A-3", d(2026, 11, 20), true);   // week 47
    done("A-4", d(2026, 11, 2), true);    // November
    done("A-5", d(2026, 11, 5), true);    // November
    done("A-6", d(2026, 4, 1), true);     // this financial year
    done("A-7", d(2026, 6, 15), true);    // this financial year
    done("A-8", d(2026, 3, 31), false);   // last financial year
    review.sections.push_back(std::move(section));
  }

  // 3. Child protection reviews: nothing on the list.
  {
    rules::Rule rule;
    rule.id = "cp-review";
    rule.kind = rules::RuleKind::kRecurring;
    rule.source = "cp";
    rule.title = "Child protection reviews";
    rule.limit = rules::Duration{3, rules::Unit::kMonths};
    report::RuleSection section;
    section.rule = fixture->add_rule(rule);
    section.as_of = as_of;
    section.previous_review = d(2026, 11, 13);
    section.previous_week = rules::iso_week(d(2026, 11, 13));
    review.sections.push_back(std::move(section));
  }

  // 4. Caseloads: not a review list.
  {
    rules::Rule rule;
    rule.id = "caseload";
    rule.kind = rules::RuleKind::kCaseload;
    rule.source = "cases";
    rule.title = "Caseloads";
    rule.review = false;
    rule.max_cases = 20;
    report::RuleSection section;
    section.rule = fixture->add_rule(rule);
    section.as_of = as_of;
    review.sections.push_back(std::move(section));
    review.caseloads = {{"caseload", "North Assessment", "B Jones", 22},
                        {"caseload", "North Assessment", "D Khan", 18},
                        {"caseload", "South & East <Family Support>", "C O'Brien", 15},
                        {"caseload", "North Assessment", "E Lee", 12},
                        {"caseload", "South & East <Family Support>", "F Ng", 21}};
  }
  return fixture;
}

}  // namespace report_test

#endif  // CASEWATCH_TESTS_REPORT_FIXTURE_H_
