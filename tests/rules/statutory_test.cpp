// Statutory timescales read as the law reads them, and as the DfE CIN validator reads them when a
// rule asks (count_start_day), on the validator's own unit-test rows: data-to-insight/
// csc-validator-be-cin, rules 8670Q (assessment not authorised within 45 working days of its
// start, reference date Fri 31 Mar 2023) and 8675Q (no ICPC within 15 working days of the
// section 47 start, reference date Thu 31 Mar 2022; ICPCnotRequired excludes). The validator
// flags a row when start < reference date - (N - 1) working days, which is exactly "the
// reference date is after busday_offset(start, N - 1, roll="backward")". Dates counted by hand
// against data/bank-holidays-england-and-wales.csv (no closures fall between the starts and the
// due dates except where a comment says).
#include <catch2/catch.hpp>

#include "rules/rules.h"
#include "tests/rules/rules_test_util.h"

namespace {

using rules::Date;
using rules::Duration;
using rules::Unit;
using rules_test::d;
using rules_test::england;
using rules_test::finding_for;

rules::Source open_work_source() {
  rules::Source source;
  source.name = "work";
  source.fields = {{"person", {"LAchildID"}},    {"started", {"Start"}, true},
                   {"done", {"Done"}, true},     {"icpc_not_required", {"ICPCnotRequired"}},
                   {"team", {"Team"}},           {"worker", {"Worker"}},
                   {"closed", {"Closed"}, true}, {"opened", {"Opened"}, true}};
  return source;
}

rules::Rule timescale(std::string id, int working_days) {
  rules::Rule rule;
  rule.id = std::move(id);
  rule.kind = rules::RuleKind::kTimescale;
  rule.source = "work";
  rule.start = "started";
  rule.end = "done";
  rule.limit = Duration{working_days, Unit::kWorkingDays};
  return rule;
}

// Row values: person, start, done, icpc_not_required, team, worker, closed, opened (= start).
rules::Record row(std::string key, std::string start, std::string done,
                  std::string not_required = "", std::string worker = "J Smith") {
  return rules::Record{key, {key, start, done, not_required, "Team A", worker, "", start}};
}

rules::Evaluation run(rules::RuleSet set, const std::vector<rules::Record>& records, Date as_of) {
  set.sources = {open_work_source()};
  std::map<std::string, rules::SourceData, std::less<>> sources;
  sources["work"] = rules::SourceData{&set.sources[0], as_of, &records, {}};
  return rules::evaluate(set, england(), sources);
}

}  // namespace

TEST_CASE("8670Q's unit-test rows: assessments open at Fri 31 Mar 2023, in both readings",
          "[timescale][validator]") {
  auto [key, start, validator_due, validator_overdue, statute_due, statute_overdue] =
      GENERATE(table<std::string, std::string, Date, bool, Date, bool>({
          // ID2, Sat 15 Oct 2022: Fri 14 Oct is day 1 for the validator (day 45 Thu 15 Dec);
          // by statute Mon 17 Oct is day 1 (day 45 Fri 16 Dec 2022). Both flag it.
          {"ID2", "2022-10-15", d(2022, 12, 15), true, d(2022, 12, 16), true},
          // ID3, Wed 15 Mar 2023: Good Friday 7 Apr, Easter Monday 10 Apr, 1 May and the
          // coronation 8 May are closed; by statute day 45 is Tue 23 May 2023, the validator's
          // day 45 (start = day 1) Mon 22 May. Neither flags it.
          {"ID3", "2023-03-15", d(2023, 5, 22), false, d(2023, 5, 23), false},
          // ID4, Sun 29 Jan 2023: the validator counts Fri 27 Jan as day 1, so day 45 is Thu 30 Mar
          // and it flags the row at 31 Mar; by statute Mon 30 Jan is day 1 and day 45 is Fri 31
          // Mar 2023: due that day, in time.
          {"ID4", "2023-01-29", d(2023, 3, 30), true, d(2023, 3, 31), false},
      }));
  CAPTURE(key);
  for (const bool validator : {true, false}) {
    CAPTURE(validator);
    rules::RuleSet set;
    set.rules = {timescale("8670Q", 45)};
    set.rules[0].count_start_day = validator;
    const auto evaluation = run(set, {row(key, start, "")}, d(2023, 3, 31));
    const rules::Finding* finding = finding_for(evaluation, key);
    const bool overdue = validator ? validator_overdue : statute_overdue;
    if (!overdue) {
      CHECK(finding == nullptr);
      continue;
    }
    REQUIRE(finding != nullptr);
    CHECK(finding->state == rules::State::kOverdue);
    CHECK(finding->due == (validator ? validator_due : statute_due));
  }
  // The due dates themselves, whether listed or not.
  CHECK(rules::due_date(*Date::parse_iso(start), Duration{45, Unit::kWorkingDays}, england(),
                        true) == validator_due);
  CHECK(rules::due_date(*Date::parse_iso(start), Duration{45, Unit::kWorkingDays}, england()) ==
        statute_due);
}

TEST_CASE(
    "8670Q's authorised row (ID1) is never overdue: its end before its start is a data "
    "problem",
    "[timescale][validator]") {
  rules::RuleSet set;
  set.rules = {timescale("8670Q", 45)};
  const auto evaluation = run(set, {row("ID1", "2022-10-15", "2022-05-26")}, d(2023, 3, 31));
  REQUIRE(evaluation.findings.size() == 1);
  CHECK(evaluation.findings[0].state == rules::State::kDataProblem);
}

TEST_CASE("8675Q's unit-test rows: ICPCs at Thu 31 Mar 2022, 'ICPC not required' excluded",
          "[timescale][validator][unless]") {
  rules::RuleSet set;
  set.rules = {timescale("icpc", 15)};
  set.rules[0].unless = {{"icpc_not_required", {"Yes", "a) Yes", "true", "1"}}};
  set.rules[0].count_start_day = true;
  const std::vector<rules::Record> rows = {
      // child1, Sat 29 Jan 2022: the validator's day 1 is Fri 28 Jan, day 15 Thu 17 Feb.
      row("child1", "2022-01-29", "", "false"),
      // child2: a conference (26 May 2000) before its start (26 May 2001): not overdue; here a
      // data problem.
      row("child2", "2001-05-26", "2000-05-26", "false"),
      // child3, Fri 25 Mar 2022: day 15 is Thu 14 Apr 2022 (the day before Good Friday).
      row("child3", "2022-03-25", "", "false"),
      // no start but a conference: the validator ignores it; here a data problem.
      row("child3b", "", "2000-05-26", "false"),
      // child5: no start, no conference, not required: excluded, so not even a data problem.
      row("child5", "", "", "true"),
      // child6, Sat 29 Jan 2022 with ICPCnotRequired "0": not excluded, flagged like child1.
      row("child6", "2022-01-29", "", "0"),
  };
  const auto evaluation = run(set, rows, d(2022, 3, 31));
  std::vector<std::string> overdue;
  std::vector<std::string> problems;
  for (const auto& finding : evaluation.findings) {
    if (finding.state == rules::State::kOverdue) {
      overdue.push_back(finding.key);
    }
    if (finding.state == rules::State::kDataProblem) {
      problems.push_back(finding.key);
    }
  }
  CHECK(overdue == std::vector<std::string>{"child1", "child6"});
  CHECK(problems == std::vector<std::string>{"child2", "child3b"});
  CHECK(finding_for(evaluation, "child1")->due == d(2022, 2, 17));

  // By statute (the [calendar] default): child1 counts from Fri 28 Jan too, but Mon 31 Jan is
  // day 1 and day 15 is Fri 18 Feb 2022; child3's day 15 is Tue 19 Apr (15 and 18 Apr closed).
  set.rules[0].count_start_day.reset();
  const auto statute = run(set, rows, d(2022, 3, 31));
  CHECK(finding_for(statute, "child1")->due == d(2022, 2, 18));
  CHECK(finding_for(statute, "child3") == nullptr);
  CHECK(rules::due_date(d(2022, 3, 25), Duration{15, Unit::kWorkingDays}, england()) ==
        d(2022, 4, 19));
}

TEST_CASE("'ICPC not required' values are excluded whatever their case", "[timescale][unless]") {
  rules::RuleSet set;
  set.rules = {timescale("icpc", 15)};
  set.rules[0].unless = {{"icpc_not_required", {"Yes", "a) Yes", "true", "1"}}};
  auto [value, excluded] = GENERATE(table<std::string, bool>({
      {"Yes", true},
      {"YES", true},
      {" a) yes ", true},
      {"True", true},
      {"1", true},
      {"No", false},
      {"b) No", false},
      {"0", false},
      {"false", false},
      {"", false},
  }));
  CAPTURE(value);
  const auto evaluation = run(set, {row("S1", "2022-01-04", "", value)}, d(2022, 3, 31));
  CHECK(evaluation.findings.size() == (excluded ? 0u : 1u));
}

TEST_CASE("a rule's own count_start_day overrides the calendar's", "[timescale]") {
  // Sun 25 Feb 2024 + 20wd: Fri 22 Mar by statute, Thu 21 Mar in the validators' reading.
  auto [calendar_setting, rule_setting, due] = GENERATE(table<bool, std::optional<bool>, Date>({
      {false, std::nullopt, d(2024, 3, 22)},
      {true, std::nullopt, d(2024, 3, 21)},
      {true, false, d(2024, 3, 22)},
      {false, true, d(2024, 3, 21)},
  }));
  CAPTURE(calendar_setting, rule_setting.has_value());
  rules::RuleSet set;
  set.count_start_day = calendar_setting;
  set.rules = {timescale("first-review", 20)};
  set.rules[0].count_start_day = rule_setting;
  const auto evaluation = run(set, {row("L1", "2024-02-25", "")}, d(2024, 4, 30));
  REQUIRE(evaluation.findings.size() == 1);
  CHECK(evaluation.findings[0].due == due);
  // Working days elapsed at Tue 30 Apr 2024 (Good Friday 29 Mar and Easter Monday 1 Apr
  // closed): Mon 26 Feb to Tue 30 Apr is 9 weeks and 2 days less the two holidays = 45.
  CHECK(evaluation.findings[0].working_days == 45);
}

TEST_CASE("unless drops records on every rule kind", "[unless]") {
  // One record of each kind of interest, its "icpc_not_required" column doubling as a marker.
  auto kind = GENERATE(rules::RuleKind::kUnallocated, rules::RuleKind::kTimescale,
                       rules::RuleKind::kRecurring, rules::RuleKind::kCaseload);
  CAPTURE(rules::to_string(kind));
  rules::Rule rule = timescale("rule", 15);
  rule.kind = kind;
  rule.schedule = {Duration{20, Unit::kWorkingDays}};
  rule.event = "done";
  rule.max_cases = 1;
  // Unallocated: no worker; caseload: two cases of one worker (over 1).
  const std::string worker = kind == rules::RuleKind::kUnallocated ? "" : "J Smith";
  const std::vector<rules::Record> rows = {row("A", "2022-01-04", "", "Keep", worker),
                                           row("B", "2022-01-04", "", "drop", worker)};
  rules::RuleSet set;
  set.rules = {rule};
  const auto all = run(set, rows, d(2022, 6, 1));
  set.rules[0].unless = {{"icpc_not_required", {"Drop"}}};
  const auto kept = run(set, rows, d(2022, 6, 1));
  if (kind == rules::RuleKind::kCaseload) {
    REQUIRE(all.caseloads.size() == 1);
    CHECK(all.caseloads[0].cases == 2);
    REQUIRE(kept.caseloads.size() == 1);
    CHECK(kept.caseloads[0].cases == 1);
    CHECK(kept.findings.empty());  // one case is not over 1
    return;
  }
  CHECK(all.findings.size() == 2);
  REQUIRE(kept.findings.size() == 1);
  CHECK(kept.findings[0].key == "A");
}
