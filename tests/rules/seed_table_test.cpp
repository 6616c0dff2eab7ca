#include "tests/support/seed_table.h"

#include <catch2/catch.hpp>
#include <set>

#include "rules/rules.h"
#include "tests/rules/rules_test_util.h"

namespace {

using rules::Date;

rules::Evaluation evaluate_seed(const test_support::SeedTable& seed,
                                const std::vector<rules::Record>& records, Date as_of) {
  rules::RuleSet set;
  set.sources = {seed.source};
  set.rules = {seed.rule};
  std::map<std::string, rules::SourceData, std::less<>> sources;
  sources["cases"] = rules::SourceData{&set.sources[0], as_of, &records, {}};
  return rules::evaluate(set, rules::Calendar(), sources);
}

}  // namespace

TEST_CASE("the crafted extract reproduces the Essex committee table exactly", "[seed]") {
  const auto seed = test_support::essex_seed_table();

  const auto evaluation = evaluate_seed(seed, seed.records, seed.as_of);

  const std::vector<std::string> labels = {
      "Under 1 week",     "1 to 2 weeks",
      "2 to 3 weeks",     "3 to 4 weeks",
      "1 to 2 months",    "2 to 3 months",
      "3 months or more", "Inaccuracies due to involvement end dates"};
  REQUIRE(evaluation.bands.size() == labels.size());
  int total = 0;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    CAPTURE(labels[i]);
    CHECK(evaluation.bands[i] ==
          rules::BandCount{"unallocated", labels[i], test_support::kSeedBandCounts[i]});
    total += evaluation.bands[i].count;
  }
  CHECK(total == test_support::kSeedUnallocated);
  CHECK(evaluation.findings.size() == test_support::kSeedFindings);
  int breaches = 0;
  int untrusted = 0;
  for (const auto& finding : evaluation.findings) {
    if (finding.state == rules::State::kBreach) {
      ++breaches;
    }
    if (finding.state == rules::State::kUntrusted) {
      ++untrusted;
    }
  }
  CHECK(breaches == 48 + 14 + 4);
  CHECK(untrusted == 14);
  CHECK(seed.records.size() > static_cast<std::size_t>(test_support::kSeedUnallocated));
}

TEST_CASE("the seed CSV has the example headers and dd/mm/yyyy dates", "[seed]") {
  const auto seed = test_support::essex_seed_table();
  const std::string csv = test_support::seed_table_csv(seed);
  const auto first_line = csv.substr(0, csv.find('\n'));
  CHECK(first_line ==
        "Case ID,Child ID,Allocated Team,Allocated Worker,Referral Date,Closure Date,Case "
        "Status,Allocation Start,Allocation End");
  const auto second_line = csv.substr(
      first_line.size() + 1, csv.find('\n', first_line.size() + 1) - first_line.size() - 1);
  CHECK(second_line == "CASE-00001,C100007,South Quadrant Team,,22/04/2010,,Open,,");
  CHECK(csv.find("31/02/2010") != std::string::npos);
  CHECK(static_cast<std::size_t>(std::count(csv.begin(), csv.end(), '\n')) ==
        seed.records.size() + 1);
}

TEST_CASE("a week later findings are new, carried or resolved, each with its reason", "[seed]") {
  const auto seed = test_support::essex_seed_table();
  const Date first_as_of = seed.as_of;
  const Date second_as_of = seed.as_of + 7;
  const auto first = evaluate_seed(seed, seed.records, first_as_of);

  // Take three listed cases: allocate one, close one, drop one from the extract.
  std::vector<std::string> listed;
  for (const auto& finding : first.findings) {
    if (finding.state == rules::State::kBreach) {
      listed.push_back(finding.key);
    }
  }
  REQUIRE(listed.size() >= 3);
  const std::string allocated = listed[0];
  const std::string closed = listed[1];
  const std::string vanished = listed[2];
  std::vector<rules::Record> next;
  for (auto record : seed.records) {
    if (record.key == vanished) {
      continue;
    }
    if (record.key == allocated) {
      record.values[2] = "R Patel";
      record.values[6] = second_as_of.iso();
      record.values[7] = "";
    }
    if (record.key == closed) {
      record.values[4] = (second_as_of - 1).iso();
      record.values[5] = "Closed";
    }
    next.push_back(record);
  }
  const auto second = evaluate_seed(seed, next, second_as_of);

  std::set<std::string> before;
  std::set<std::string> after;
  for (const auto& finding : first.findings) {
    before.insert(finding.key);
  }
  for (const auto& finding : second.findings) {
    after.insert(finding.key);
  }
  std::vector<std::string> fresh;
  std::vector<std::string> carried;
  std::vector<rules::ResolvedFinding> resolved;
  for (const auto& key : after) {
    (before.count(key) ? carried : fresh).push_back(key);
  }
  for (const auto& finding : first.findings) {
    if (after.count(finding.key)) {
      continue;
    }
    const rules::Record* now = nullptr;
    for (const auto& record : next) {
      if (record.key == finding.key) {
        now = &record;
      }
    }
    resolved.push_back(
        rules::resolve(finding, first_as_of, seed.rule, seed.source, now, second_as_of));
  }

  // 3 to 4 weeks a week ago (21..28 days) is now 28..35 days: all but the 28-day ones breach.
  // Of the 52 in that band, days cycle 21..28, so those at 22..28 (45 of them) cross.
  CHECK(fresh.size() == 45);
  // Three cases referred 5, 6 and 7 days after the first as-of date are no longer dated in the
  // future: their dates are trusted now, they are young and they leave the list.
  CHECK(carried.size() == test_support::kSeedFindings - 6);
  REQUIRE(resolved.size() == 6);
  std::map<std::string, std::pair<rules::Resolution, std::string>> why;
  for (const auto& r : resolved) {
    CHECK(r.resolved_on == second_as_of);
    CHECK(r.first_seen == first_as_of);
    why[r.last.key] = {r.reason, r.detail};
  }
  CHECK(why[allocated] == std::pair{rules::Resolution::kConditionStopped,
                                    std::string("allocated to R Patel (seen 2010-04-29)")});
  CHECK(why[closed] == std::pair{rules::Resolution::kClosed,
                                 std::string("case closed (closure date 2010-04-28)")});
  CHECK(why[vanished] ==
        std::pair{rules::Resolution::kVanished, std::string("no longer in the extract")});
  int no_longer_listed = 0;
  for (const auto& r : resolved) {
    if (r.reason == rules::Resolution::kConditionStopped && r.detail == "no longer on the list" &&
        r.last.state == rules::State::kUntrusted) {
      ++no_longer_listed;
    }
  }
  CHECK(no_longer_listed == 3);
}

TEST_CASE("resolve explains why a finding left its list", "[history]") {
  const auto seed = test_support::essex_seed_table();
  rules::Finding last;
  last.rule = "unallocated";
  last.key = "K";
  const Date as_of = rules_test::d(2010, 4, 29);
  const auto record = [](std::string worker, std::string closed, std::string status,
                         std::string allocation_end) {
    return rules::Record{
        "K", {"C1", "Team A", worker, "2010-01-01", closed, status, "", allocation_end}};
  };
  auto [now, reason, detail] = GENERATE_REF(table<rules::Record, rules::Resolution, std::string>({
      {record("", "2010-04-28", "Open", ""), rules::Resolution::kClosed,
       "case closed (closure date 2010-04-28)"},
      {record("", "", "Closed", ""), rules::Resolution::kClosed, "case closed (status Closed)"},
      {record("J Smith", "", "Open", ""), rules::Resolution::kConditionStopped,
       "allocated to J Smith (seen 2010-04-29)"},
      {record("J Smith", "", "Open", "2010-04-01"), rules::Resolution::kConditionStopped,
       "no longer on the list"},
  }));
  const auto resolved = rules::resolve(last, as_of - 14, seed.rule, seed.source, &now, as_of);
  CHECK(resolved.reason == reason);
  CHECK(resolved.detail == detail);
  CHECK(resolved.resolved_on == as_of);
  CHECK(resolved.first_seen == as_of - 14);
}

TEST_CASE("resolve says a timescale record completed, and when", "[history]") {
  rules::Source source;
  source.fields = {{"started", {"Start"}, true}, {"authorised", {"Authorised"}, true}};
  rules::Rule rule;
  rule.kind = rules::RuleKind::kTimescale;
  rule.start = "started";
  rule.end = "authorised";
  const rules::Record done{"A1", {"2021-01-04", "2021-03-10"}};
  const rules::Record open{"A1", {"2021-01-04", ""}};
  const Date as_of = rules_test::d(2021, 3, 12);
  CHECK(rules::resolve({}, as_of, rule, source, &done, as_of).detail == "completed on 2021-03-10");
  CHECK(rules::resolve({}, as_of, rule, source, &open, as_of).detail == "no longer on the list");
  CHECK(rules::to_string(rules::resolve({}, as_of, rule, source, nullptr, as_of).reason) ==
        "vanished");
  CHECK(rules::to_string(rules::FindingStatus::kCarried) == "carried");
  CHECK(rules::to_string(rules::State::kDueSoon) == "due_soon");
}
