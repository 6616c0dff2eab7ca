#include <catch2/catch.hpp>

#include "rules/rules.h"
#include "tests/rules/rules_test_util.h"

namespace {

using rules::Date;
using rules_test::d;

const Date kAsOf = d(2026, 11, 20);  // a Friday

rules::Source cases_source() {
  rules::Source source;
  source.name = "cases";
  source.key = {"Case ID"};
  source.fields = {{"person", {"Child ID"}},
                   {"team", {"Allocated Team"}},
                   {"worker", {"Allocated Worker"}},
                   {"opened", {"Referral Date"}, true},
                   {"closed", {"Closure Date"}, true},
                   {"status", {"Case Status"}},
                   {"allocation_start", {"Allocation Start"}, true},
                   {"allocation_end", {"Allocation End"}, true}};
  return source;
}

rules::Rule unallocated_rule() {
  rules::Rule rule;
  rule.id = "unallocated";
  rule.kind = rules::RuleKind::kUnallocated;
  rule.source = "cases";
  rule.open_values = {"Open"};
  return rule;
}

struct Case {
  std::string key = "K1";
  std::string team = "Team A";
  std::string worker;
  std::string opened;
  std::string closed;
  std::string status = "Open";
  std::string allocation_start;
  std::string allocation_end;
};

rules::Record record(const Case& c) {
  return rules::Record{c.key,
                       {"P-" + c.key, c.team, c.worker, c.opened, c.closed, c.status,
                        c.allocation_start, c.allocation_end}};
}

rules::Evaluation run(
    const rules::Rule& rule, const rules::Source& source, const std::vector<rules::Record>& records,
    Date as_of = kAsOf,
    std::map<std::string, std::unordered_map<std::string, Date>, std::less<>> first_seen = {}) {
  rules::RuleSet set;
  set.sources = {source};
  set.rules = {rule};
  std::map<std::string, rules::SourceData, std::less<>> sources;
  sources["cases"] = rules::SourceData{&set.sources[0], as_of, &records, std::move(first_seen)};
  return rules::evaluate(set, rules::Calendar(), sources);
}

std::string trimmed(std::string text) {
  while (!text.empty() && text.front() == ' ') {
    text.erase(text.begin());
  }
  while (!text.empty() && text.back() == ' ') {
    text.pop_back();
  }
  return text;
}

int counted(const rules::Evaluation& evaluation) {
  int total = 0;
  for (const auto& band : evaluation.bands) {
    total += band.count;
  }
  return total;
}

}  // namespace

TEST_CASE("the unallocated rule sees through every trap in the data", "[unallocated]") {
  // worker, opened, closed, status, allocation start, allocation end ->
  // counted in the band table, listed state ("" = not listed), days, band, detail
  auto [worker, opened, closed, status, start, end, is_counted, state, days, band,
        detail] = GENERATE(table<std::string, std::string, std::string, std::string, std::string,
                                 std::string, int, std::string, int, std::string, std::string>({
      {"", "2026-10-01", "", "Open", "", "", 1, "breach", 50, "1 to 2 months", ""},
      {"DUTY worker", "2026-10-01", "", "Open", "", "", 1, "breach", 50, "1 to 2 months", ""},
      {" #n/a ", "2026-10-01", "", "open", "", "", 1, "breach", 50, "1 to 2 months", ""},
      {"unallocated", "2026-10-01", "", "Open", "", "", 1, "breach", 50, "1 to 2 months", ""},
      {"team a", "2026-10-01", "", "Open", "", "", 1, "breach", 50, "1 to 2 months", ""},
      {"J Smith", "2026-10-01", "", "Open", "", "", 0, "", 0, "", ""},
      // allocation ended: unallocated since the end
      {"J Smith", "2026-01-01", "", "Open", "2026-10-05", "2026-10-10", 1, "breach", 41,
       "1 to 2 months", "allocation ended 2026-10-10"},
      // allocation ending today: unallocated today, not yet listed
      {"J Smith", "2026-01-01", "", "Open", "2026-10-05", "2026-11-20", 1, "", 0, "", ""},
      // allocation ending in the future: still allocated
      {"J Smith", "2026-01-01", "", "Open", "2026-10-05", "2026-11-21", 0, "", 0, "", ""},
      // allocation end before its start: untrusted, not aged
      {"J Smith", "2026-01-01", "", "Open", "2026-10-05", "2026-10-01", 1, "untrusted", 0,
       "Inaccuracies due to involvement end dates",
       "allocation end 2026-10-01 is before allocation start 2026-10-05"},
      // a future closure date on an open case: still open
      {"", "2026-10-01", "2026-12-01", "Open", "", "", 1, "breach", 50, "1 to 2 months", ""},
      {"", "2026-10-01", "2026-11-20", "Open", "", "", 0, "", 0, "", ""},
      {"", "2026-10-01", "", "Closed", "", "", 0, "", 0, "", ""},
      {"", "2026-12-01", "", "Open", "", "", 1, "untrusted", 0,
       "Inaccuracies due to involvement end dates",
       "unallocated since 2026-12-01, after the extract date 2026-11-20"},
      {"", "31/02/2026", "", "Open", "", "", 1, "untrusted", 0,
       "Inaccuracies due to involvement end dates", "open date '31/02/2026' is not a date"},
      {"J Smith", "2026-01-01", "", "Open", "2026-10-05", "01/13/2026", 1, "untrusted", 0,
       "Inaccuracies due to involvement end dates", "allocation end '01/13/2026' is not a date"},
      {"", "", "", "Open", "", "", 1, "untrusted", 0, "Inaccuracies due to involvement end dates",
       "no open date and no allocation end date"},
      // the threshold: 28 days is not over four weeks, 29 is
      {"", "2026-10-23", "", "Open", "", "", 1, "", 0, "", ""},
      {"", "2026-10-22", "", "Open", "", "", 1, "breach", 29, "1 to 2 months", ""},
  }));
  Case c;
  c.worker = worker;
  c.opened = opened;
  c.closed = closed;
  c.status = status;
  c.allocation_start = start;
  c.allocation_end = end;
  CAPTURE(worker, opened, closed, status, start, end);

  const auto evaluation = run(unallocated_rule(), cases_source(), {record(c)});

  CHECK(counted(evaluation) == is_counted);
  if (state.empty()) {
    CHECK(evaluation.findings.empty());
    return;
  }
  REQUIRE(evaluation.findings.size() == 1);
  const rules::Finding& finding = evaluation.findings[0];
  CHECK(rules::to_string(finding.state) == state);
  CHECK(finding.days == days);
  CHECK(finding.band == band);
  CHECK(finding.detail == detail);
  CHECK(finding.person == "P-K1");
  CHECK(finding.team == "Team A");
  CHECK(finding.worker == trimmed(worker));
}

TEST_CASE("the band table lists every band in order, zeros included", "[unallocated]") {
  Case young;
  young.key = "K1";
  young.opened = "2026-11-18";
  Case old;
  old.key = "K2";
  old.opened = "2026-07-01";
  Case untrusted;
  untrusted.key = "K3";
  untrusted.opened = "2027-01-01";

  const auto evaluation =
      run(unallocated_rule(), cases_source(), {record(young), record(old), record(untrusted)});

  const std::vector<rules::BandCount> expected = {
      {"unallocated", "Under 1 week", 1},
      {"unallocated", "1 to 2 weeks", 0},
      {"unallocated", "2 to 3 weeks", 0},
      {"unallocated", "3 to 4 weeks", 0},
      {"unallocated", "1 to 2 months", 0},
      {"unallocated", "2 to 3 months", 0},
      {"unallocated", "3 months or more", 1},
      {"unallocated", "Inaccuracies due to involvement end dates", 1},
  };
  CHECK(evaluation.bands == expected);
}

TEST_CASE("default unallocated bands end where DESIGN.md says", "[unallocated]") {
  // since -> band at as-of Fri 20 Nov 2026
  auto [since, band] = GENERATE(table<Date, std::string>({
      {d(2026, 11, 20), "Under 1 week"},
      {d(2026, 11, 14), "Under 1 week"},   // 6 days
      {d(2026, 11, 13), "1 to 2 weeks"},   // 7 days
      {d(2026, 11, 6), "2 to 3 weeks"},    // 14 days
      {d(2026, 10, 30), "3 to 4 weeks"},   // 21 days
      {d(2026, 10, 23), "3 to 4 weeks"},   // 28 days
      {d(2026, 10, 22), "1 to 2 months"},  // 29 days
      {d(2026, 9, 21), "1 to 2 months"},   // 21 Sep + 2m = 21 Nov > as-of
      {d(2026, 9, 20), "2 to 3 months"},   // 20 Sep + 2m = 20 Nov, reached
      {d(2026, 8, 21), "2 to 3 months"},
      {d(2026, 8, 20), "3 months or more"},
  }));
  CAPTURE(since);
  const auto bands = rules::default_unallocated_bands();
  CHECK(rules::band_for(bands, since, kAsOf, rules::Calendar()) == band);
  Case c;
  c.opened = since.iso();
  const auto evaluation = run(unallocated_rule(), cases_source(), {record(c)});
  for (const auto& count : evaluation.bands) {
    CAPTURE(count.band);
    CHECK(count.count == (count.band == band ? 1 : 0));
  }
}

TEST_CASE(
    "without open or allocation end dates a record is unallocated since at least the first "
    "extract that saw it",
    "[unallocated]") {
  rules::Source source = cases_source();
  source.fields.erase(source.fields.begin() + 7);  // allocation_end
  source.fields.erase(source.fields.begin() + 3);  // opened
  const auto row = [](const std::string& key, std::string worker) {
    return rules::Record{key, {"P-" + key, "Team A", worker, "", "Open", ""}};
  };
  const std::vector<rules::Record> records = {row("K1", ""), row("K2", "Duty"),
                                              row("K3", "J Smith")};
  const auto evaluation = run(unallocated_rule(), source, records, kAsOf,
                              {{"unallocated", {{"K1", d(2026, 10, 1)}, {"K3", d(2026, 9, 1)}}}});

  REQUIRE(evaluation.findings.size() == 1);
  const auto& finding = evaluation.findings[0];
  CHECK(finding.key == "K1");
  CHECK(finding.since == d(2026, 10, 1));
  CHECK(finding.since_at_least);
  CHECK(finding.days == 50);
  const std::vector<std::pair<std::string, Date>> expected = {{"K1", d(2026, 10, 1)},
                                                              {"K2", kAsOf}};
  REQUIRE(evaluation.spells.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(evaluation.spells[i].rule == "unallocated");
    CHECK(evaluation.spells[i].key == expected[i].first);
    CHECK(evaluation.spells[i].since == expected[i].second);
  }
  CHECK(counted(evaluation) == 2);
}

TEST_CASE("where filters apply before the rule, ignoring case and spaces", "[unallocated]") {
  rules::Rule rule = unallocated_rule();
  rule.where = {{"team", {" team a"}}};
  Case in_team;
  in_team.key = "K1";
  in_team.opened = "2026-01-01";
  Case other_team = in_team;
  other_team.key = "K2";
  other_team.team = "Team B";

  const auto evaluation = run(rule, cases_source(), {record(in_team), record(other_team)});

  REQUIRE(evaluation.findings.size() == 1);
  CHECK(evaluation.findings[0].key == "K1");
  CHECK(counted(evaluation) == 1);
}

TEST_CASE("findings are ordered most overdue first, ties by key, untrusted last", "[unallocated]") {
  std::vector<rules::Record> records;
  for (const auto& [key, opened] : std::vector<std::pair<std::string, std::string>>{
           {"K1", "2026-10-01"}, {"K2", "bad"}, {"K3", "2026-06-01"}, {"K0", "2026-10-01"}}) {
    Case c;
    c.key = key;
    c.opened = opened;
    records.push_back(record(c));
  }
  const auto evaluation = run(unallocated_rule(), cases_source(), records);
  std::vector<std::string> keys;
  for (const auto& finding : evaluation.findings) {
    keys.push_back(finding.key);
  }
  CHECK(keys == std::vector<std::string>{"K3", "K0", "K1", "K2"});
}

TEST_CASE("configured bands and over_days change the table and the list", "[unallocated]") {
  rules::Rule rule = unallocated_rule();
  rule.over_days = 14;
  rule.bands = {{"Under 2 weeks", rules::Duration{2, rules::Unit::kWeeks}},
                {"2 weeks or more", std::nullopt}};
  Case c;
  c.opened = "2026-11-05";  // 15 days
  const auto evaluation = run(rule, cases_source(), {record(c)});
  REQUIRE(evaluation.findings.size() == 1);
  CHECK(evaluation.findings[0].band == "2 weeks or more");
  CHECK(evaluation.bands.size() == 3);
  CHECK(evaluation.bands.back().band == rules::kInaccuraciesBand);
}
