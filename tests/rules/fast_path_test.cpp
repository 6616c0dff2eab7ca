// The evaluation fast paths give exactly what the plain code they replace gives.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <random>
#include <string>

#include "rules/civil.h"
#include "rules/evaluate_internal.h"
#include "rules/rules.h"
#include "tests/rules/rules_test_util.h"

namespace {

using rules::Date;
using rules_test::d;

std::optional<Date> fast_parse(std::string_view text) {
  std::int32_t days = 0;
  if (!rules::civil::parse_iso_days(text, days)) {
    return std::nullopt;
  }
  return Date::from_days(days);
}

}  // namespace

TEST_CASE("The fast ISO parser accepts and rejects exactly what parse_iso does", "[fast]") {
  auto [text, expected] = GENERATE(table<std::string, std::optional<Date>>({
      {"2026-11-16", d(2026, 11, 16)}, {"0001-01-01", d(1, 1, 1)},
      {"9999-12-31", d(9999, 12, 31)}, {"2028-02-29", d(2028, 2, 29)},
      {"2000-02-29", d(2000, 2, 29)},  // divisible by 400: leap
      {"1900-02-29", std::nullopt},    // divisible by 100: not leap
      {"2027-02-29", std::nullopt},    {"2026-04-31", std::nullopt},
      {"0000-01-01", std::nullopt},  // no year 0
      {"2026-00-10", std::nullopt},    {"2026-13-10", std::nullopt},
      {"2026-11-00", std::nullopt},    {"2026-11-6", std::nullopt},
      {"2026/11/16", std::nullopt},    {"2026-11-1a", std::nullopt},
      {"2026-1:-16", std::nullopt},  // ':' is just past '9'
      {"2026-1/-16", std::nullopt},  // '/' is just before '0'
      {" 2026-11-16", std::nullopt},   {"2026-11-16 ", std::nullopt},
      {"+026-11-16", std::nullopt},    {"", std::nullopt},
  }));
  CAPTURE(text);
  CHECK(Date::parse_iso(text) == expected);
  CHECK(fast_parse(text) == expected);
}

TEST_CASE("The fast ISO parser agrees with parse_iso on random near-dates", "[fast]") {
  std::mt19937 random(20261122);  // fixed seed: the same strings every run
  const std::string alphabet = "0123456789-/: T\x80";
  int accepted = 0;
  for (int i = 0; i < 200000; ++i) {
    // A real date (years 1 to 9999) with up to three characters changed, removed or added.
    std::string text =
        Date::from_days(
            d(1, 1, 1).days() +
            static_cast<int>(random() % static_cast<unsigned>(d(9999, 12, 31) - d(1, 1, 1) + 1)))
            .iso();
    const unsigned changes = random() % 4;
    for (unsigned c = 0; c < changes; ++c) {
      const std::size_t at = random() % text.size();
      switch (random() % 3) {
        case 0:
          text[at] = alphabet[random() % alphabet.size()];
          break;
        case 1:
          text.erase(at, 1);
          break;
        default:
          text.insert(at, 1, alphabet[random() % alphabet.size()]);
      }
    }
    const auto expected = Date::parse_iso(text);
    if (expected) {
      ++accepted;
    }
    if (fast_parse(text) != expected) {
      FAIL_CHECK("disagree on '" << text << "'");
    }
  }
  CHECK(accepted > 50000);  // both kinds of string were tried
  CHECK(accepted < 190000);
}

TEST_CASE("Date::iso writes what %04d-%02d-%02d writes", "[fast]") {
  for (int days = d(1, 1, 1).days() - 800; days <= d(9999, 12, 31).days() + 800; days += 37) {
    const Date date = Date::from_days(days);
    char expected[32];
    std::snprintf(expected, sizeof expected, "%04d-%02d-%02d", date.year(), date.month(),
                  date.day());
    REQUIRE(date.iso() == expected);
  }
  CHECK(d(2026, 1, 5).iso() == "2026-01-05");
  CHECK(d(987, 12, 31).iso() == "0987-12-31");
}

TEST_CASE("Matcher matches exactly as matches_any does", "[fast]") {
  const std::vector<std::string> values = {"Unallocated", " Duty Worker\t", "#N/A", "c&f", ""};
  const rules::internal::Matcher matcher(values);
  auto [text, expected] = GENERATE(table<std::string, bool>({
      {"Unallocated", true},
      {"UNALLOCATED", true},
      {"  unallocated\t", true},
      {"Unallocate", false},
      {"Unallocatedd", false},
      {"duty worker", true},
      {"Duty  Worker", false},
      {"Duty", false},
      {"#n/a", true},
      {"C&F", true},
      {"", true},  // the empty value matches an empty (or blank) field
      {"   ", true},
      {"Ünallocated", false},
  }));
  CAPTURE(text);
  CHECK(rules::internal::matches_any(text, values) == expected);
  CHECK(matcher.matches(text) == expected);
}

TEST_CASE("An empty Matcher matches nothing, as matches_any with no values", "[fast]") {
  const rules::internal::Matcher matcher(std::vector<std::string>{});
  CHECK(matcher.empty());
  CHECK_FALSE(matcher.matches(""));
  CHECK_FALSE(matcher.matches("Open"));
}

TEST_CASE("DayMemo computes each day in its window once and days outside it every time", "[fast]") {
  const Date as_of = d(2026, 11, 16);
  rules::internal::DayMemo<int> memo(as_of);
  int calls = 0;
  const auto compute = [&](Date day) {
    ++calls;
    return day - as_of;
  };
  CHECK(memo.get(as_of - 10, compute) == -10);
  CHECK(memo.get(as_of - 10, compute) == -10);
  CHECK(memo.get(as_of + 300, compute) == 300);
  CHECK(memo.get(as_of + 300, compute) == 300);
  CHECK(calls == 2);
  CHECK(memo.get(d(1950, 1, 1), compute) == d(1950, 1, 1) - as_of);  // decades before: outside
  CHECK(memo.get(d(1950, 1, 1), compute) == d(1950, 1, 1) - as_of);
  CHECK(memo.get(d(2100, 1, 1), compute) == d(2100, 1, 1) - as_of);  // far after: outside
  CHECK(calls == 5);
}

TEST_CASE("sort_list_keys gives the list order whether or not keys came in key order", "[fast]") {
  using rules::internal::ListKey;
  std::mt19937 random(1116);
  const auto reference = [](std::vector<ListKey> keys) {
    std::sort(keys.begin(), keys.end(), [](const ListKey& a, const ListKey& b) {
      if (a.rank != b.rank) {
        return a.rank < b.rank;
      }
      if (a.days != b.days) {
        return a.days > b.days;
      }
      if (a.key != b.key) {
        return a.key < b.key;
      }
      return a.index < b.index;
    });
    return keys;
  };
  const auto same = [](const std::vector<ListKey>& a, const std::vector<ListKey>& b) {
    if (a.size() != b.size()) {
      return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (a[i].index != b[i].index) {
        return false;
      }
    }
    return true;
  };
  auto [in_key_order, days_span, size] = GENERATE(table<bool, int, int>({
      {true, 80, 5000},       // the usual case: a counting sort
      {true, 1000000, 3000},  // days too spread for buckets: a stable sort
      {false, 80, 5000},      // keys compared
      {true, 5, 1},
      {true, 5, 0},
  }));
  CAPTURE(in_key_order, days_span, size);
  std::vector<std::string> names;
  names.reserve(size);
  for (int i = 0; i < size; ++i) {
    names.push_back(std::to_string(100000 + random() % 2000));
  }
  if (in_key_order) {
    std::sort(names.begin(), names.end());  // repeats included
  }
  std::vector<ListKey> keys;
  for (int i = 0; i < size; ++i) {
    const int rank = random() % 5 == 0 ? 1 : 0;
    const int days = rank == 1 ? 0 : static_cast<int>(random() % days_span) - days_span / 2;
    keys.push_back(ListKey{rank, days, names[i], static_cast<std::size_t>(i)});
  }
  const std::vector<ListKey> expected = reference(keys);
  rules::internal::sort_list_keys(keys);
  CHECK(same(keys, expected));
}

TEST_CASE("sort_findings orders findings and moves each one intact", "[fast]") {
  std::mt19937 random(2211);
  std::vector<rules::Finding> findings(3);  // before `first`: untouched
  for (int i = 0; i < 2000; ++i) {
    rules::Finding finding;
    finding.key = "K" + std::to_string(random() % 500);
    finding.state = random() % 4 == 0 ? rules::State::kUntrusted : rules::State::kBreach;
    finding.days = finding.state == rules::State::kUntrusted ? 0 : static_cast<int>(random() % 90);
    finding.detail = finding.key + "/" + std::to_string(finding.days) + "/" + std::to_string(i);
    findings.push_back(finding);
  }
  std::vector<rules::Finding> expected = findings;
  std::stable_sort(expected.begin() + 3, expected.end(),
                   [](const rules::Finding& a, const rules::Finding& b) {
                     const int rank_a = a.state == rules::State::kUntrusted ? 1 : 0;
                     const int rank_b = b.state == rules::State::kUntrusted ? 1 : 0;
                     if (rank_a != rank_b) {
                       return rank_a < rank_b;
                     }
                     if (a.days != b.days) {
                       return a.days > b.days;
                     }
                     return a.key < b.key;
                   });
  rules::internal::sort_findings(findings, 3);
  CHECK(findings == expected);
}

TEST_CASE("Timescale findings agree with due_date and working_days for any start date", "[fast]") {
  // Starts from decades before the as-of date (outside the per-day memo) to after it, many
  // records sharing each start, in a shuffled key order: every listed finding must carry what
  // the plain functions give, and completions their due dates.
  rules::Source source;
  source.name = "assessments";
  source.key = {"ID"};
  source.fields = {{"person", {"Child"}}, {"team", {"Team"}},           {"worker", {"Worker"}},
                   {"type", {"Type"}},    {"started", {"Start"}, true}, {"ended", {"End"}, true}};
  rules::Rule rule;
  rule.id = "assessment";
  rule.kind = rules::RuleKind::kTimescale;
  rule.source = "assessments";
  rule.start = "started";
  rule.end = "ended";
  rule.limit = rules::Duration{45, rules::Unit::kWorkingDays};
  rule.earlier_limits = {{d(2010, 4, 1), rules::Duration{7, rules::Unit::kWorkingDays}}};
  rule.warn = rules::Duration{5, rules::Unit::kWorkingDays};
  const rules::Calendar calendar({{d(2026, 12, 25), "Christmas Day"},
                                  {d(2026, 12, 28), "Boxing Day (substitute day)"},
                                  {d(1995, 5, 8), "VE Day"}});
  const Date as_of = d(2026, 11, 16);
  std::mt19937 random(45);
  std::vector<rules::Record> records;
  for (int i = 0; i < 6000; ++i) {
    const int back =
        i % 3 == 0 ? static_cast<int>(random() % 12000) : static_cast<int>(random() % 120);
    const Date start = as_of - back + (i % 50 == 0 ? 400 : 0);
    const bool done = i % 7 == 0;
    records.push_back(
        rules::Record{"K" + std::to_string(random() % 100000) + "-" + std::to_string(i),
                      {"P" + std::to_string(i), "Team", "Worker", "Single", start.iso(),
                       done ? (start + 70).iso() : ""}});
  }
  rules::RuleSet set;
  set.sources = {source};
  set.rules = {rule};
  std::map<std::string, rules::SourceData, std::less<>> sources;
  sources["assessments"] = rules::SourceData{&set.sources[0], as_of, &records, {}};
  const rules::Evaluation out = rules::evaluate(set, calendar, sources);

  const auto limit_for = [&](Date start) {
    return start < d(2010, 4, 1) ? rule.earlier_limits[0].limit : rule.limit;
  };
  int listed = 0;
  for (const auto& finding : out.findings) {
    if (finding.state == rules::State::kDataProblem) {
      CHECK(finding.detail.find("is after the extract date") != std::string::npos);
      continue;
    }
    ++listed;
    REQUIRE(finding.start);
    const Date due = rules::due_date(*finding.start, limit_for(*finding.start), calendar);
    CHECK(finding.due == due);
    CHECK(finding.days == as_of - due);
    CHECK(finding.working_days == calendar.elapsed_working_days(*finding.start, as_of));
  }
  CHECK(listed > 2000);
  CHECK(out.completions.size() > 500);
  for (const auto& completion : out.completions) {
    CHECK(completion.due ==
          rules::due_date(completion.start, limit_for(completion.start), calendar));
  }
  // The list order: most overdue first, ties by key.
  for (std::size_t i = 1; i < out.findings.size(); ++i) {
    const auto& a = out.findings[i - 1];
    const auto& b = out.findings[i];
    const int rank_a = a.state == rules::State::kDataProblem ? 1 : 0;
    const int rank_b = b.state == rules::State::kDataProblem ? 1 : 0;
    CHECK((rank_a < rank_b ||
           (rank_a == rank_b && (a.days > b.days || (a.days == b.days && a.key < b.key)))));
  }
}

TEST_CASE("Caseloads of hundreds of workers, spaced variously, match a plain count", "[fast]") {
  rules::Source source;
  source.name = "cases";
  source.fields = {{"team", {"Team"}}, {"worker", {"Worker"}}};
  rules::Rule rule;
  rule.id = "caseload";
  rule.kind = rules::RuleKind::kCaseload;
  rule.source = "cases";
  rule.max_cases = 40;
  rules::RuleSet set;
  set.sources = {source};
  set.rules = {rule};
  std::mt19937 random(900);
  std::vector<rules::Record> records;
  std::map<std::string, int> expected;  // worker -> cases
  for (int i = 0; i < 30000; ++i) {
    const int worker = static_cast<int>(random() % 700);
    const std::string name = "Worker " + std::to_string(worker);
    const std::string team = "Team " + std::to_string(worker % 9);
    // The same worker and team written with and without spaces: distinct texts (so distinct
    // codes in the view) that name one worker and one team.
    const std::string spaced_name[] = {name, " " + name, name + "  "};
    const std::string spaced_team[] = {team, team + " "};
    records.push_back(
        rules::Record{std::to_string(i), {spaced_team[random() % 2], spaced_name[random() % 3]}});
    ++expected[name];
  }
  std::map<std::string, rules::SourceData, std::less<>> sources;
  sources["cases"] = rules::SourceData{&set.sources[0], d(2026, 11, 16), &records, {}};
  const auto evaluation = rules::evaluate(set, rules::Calendar(), sources);

  REQUIRE(evaluation.caseloads.size() == expected.size());
  std::size_t i = 0;
  int over = 0;
  for (const auto& [worker, cases] : expected) {  // both in worker order
    const auto& caseload = evaluation.caseloads[i++];
    CHECK(caseload.worker == worker);
    CHECK(caseload.cases == cases);
    CHECK(caseload.team == "Team " + std::to_string(std::stoi(worker.substr(7)) % 9));
    if (cases > rule.max_cases) {
      ++over;
    }
  }
  CHECK(over > 0);
  CHECK(evaluation.findings.size() == static_cast<std::size_t>(over));
}
