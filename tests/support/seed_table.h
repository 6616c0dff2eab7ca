// A crafted `cases` extract that reproduces, exactly, the unallocated-cases table Essex gave its
// scrutiny committee on 13 May 2010 (../shared/seeds/000_4ca41b4fd5c423c1.txt, figures as at
// 22 April 2010): 431 unallocated cases as 213 / 33 / 53 / 52 (under 1 week, 1-2, 2-3, 3-4
// weeks), 48 (1-2 months), 14 (2-3 months), 4 (3 months or more) and 14 inaccuracies due to
// involvement end dates; plus allocated and closed cases that are not counted. Header-only,
// depends on rules only, so rules, ingest, report and end-to-end tests can all reuse it.
#ifndef CASEWATCH_TESTS_SUPPORT_SEED_TABLE_H_
#define CASEWATCH_TESTS_SUPPORT_SEED_TABLE_H_

#include <cctype>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "rules/rules.h"

namespace test_support {

// The seed extract as evaluation sees it, and the unallocated rule that yields the table.
struct SeedTable {
  rules::Source source;                // "cases", fields as in the example config
  rules::Rule rule;                    // id "unallocated", open_values {"Open"}, over_days 28
  std::vector<rules::Record> records;  // values follow source.fields
  rules::Date as_of;                   // Thursday 22 April 2010
};

// The committee's counts, band by band, in the order of the default bands + inaccuracies.
inline constexpr int kSeedBandCounts[] = {213, 33, 53, 52, 48, 14, 4, 14};
inline constexpr int kSeedUnallocated = 431;
inline constexpr int kSeedFindings = 48 + 14 + 4 + 14;  // breaches + inaccuracies

inline rules::Source seed_cases_source() {
  rules::Source source;
  source.name = "cases";
  source.files = "cases*.csv";
  source.key = {"Case ID"};
  source.date_formats = {"%d/%m/%Y", "%Y-%m-%d"};
  source.fields = {
      {"person", {"Child ID"}, false},
      {"team", {"Allocated Team"}, false},
      {"worker", {"Allocated Worker", "Social Worker"}, false},
      {"opened", {"Referral Date"}, true},
      {"closed", {"Closure Date"}, true},
      {"status", {"Case Status"}, false},
      {"allocation_start", {"Allocation Start"}, true},
      {"allocation_end", {"Allocation End"}, true},
  };
  return source;
}

inline SeedTable essex_seed_table() {
  using rules::Date;
  SeedTable seed;
  seed.source = seed_cases_source();
  seed.rule.id = "unallocated";
  seed.rule.kind = rules::RuleKind::kUnallocated;
  seed.rule.source = "cases";
  seed.rule.title = "Unallocated cases";
  seed.rule.open_values = {"Open"};
  seed.rule.over_days = 28;
  seed.as_of = *Date::from_ymd(2010, 4, 22);
  const Date as_of = seed.as_of;

  static constexpr std::string_view kTeams[] = {"North Quadrant Team", "South Quadrant Team",
                                                "West Quadrant Team", "Mid Quadrant Team"};
  int next = 0;
  const auto add = [&](std::string_view worker, std::string opened, std::string closed,
                       std::string status, std::string allocation_start, std::string allocation_end,
                       std::string team = {}) {
    ++next;
    char key[32];
    char person[32];
    std::snprintf(key, sizeof key, "CASE-%05d", next);
    std::snprintf(person, sizeof person, "C%06d", 100000 + next * 7);
    if (team.empty()) team = std::string(kTeams[static_cast<std::size_t>(next) % 4]);
    seed.records.push_back(
        rules::Record{key,
                      {person, team, std::string(worker), std::move(opened), std::move(closed),
                       std::move(status), std::move(allocation_start), std::move(allocation_end)}});
  };

  // Unallocated, aged: {count, first day, last day} per band (days = as-of - since).
  struct Spread {
    int count;
    int first;
    int last;
  };
  static constexpr Spread kBands[] = {{213, 0, 6},  {33, 7, 13},  {53, 14, 20}, {52, 21, 28},
                                      {48, 29, 58}, {14, 59, 89}, {4, 90, 200}};
  int n = 0;
  for (const Spread& band : kBands) {
    for (int i = 0; i < band.count; ++i, ++n) {
      const Date since = as_of - (band.first + i % (band.last - band.first + 1));
      // Every seventh open case has a closure date still in the future: it is open.
      const std::string closed = n % 7 == 3 ? (as_of + 30).iso() : "";
      const std::string team(kTeams[static_cast<std::size_t>(next + 1) % 4]);
      switch (n % 5) {
        case 0:  // no worker at all
          add("", since.iso(), closed, "Open", "", "", team);
          break;
        case 1:  // a pseudo-worker, in any case
          add(n % 2 == 0 ? "DUTY WORKER" : "duty worker", since.iso(), closed, "Open", "", "",
              team);
          break;
        case 2: {  // the team's own name as the worker
          std::string lowered = team;
          for (char& c : lowered) c = static_cast<char>(std::tolower(c));
          add(lowered, since.iso(), closed, "open", "", "", team);
          break;
        }
        case 3:  // a real worker whose allocation ended: unallocated since the end
          add("J Smith", (since - 120).iso(), closed, "Open", (since - 60).iso(), since.iso(),
              team);
          break;
        default:  // a pseudo-worker and an ended allocation
          add(" Unallocated ", (since - 30).iso(), closed, "Open", (since - 20).iso(), since.iso(),
              team);
          break;
      }
    }
  }

  // Inaccuracies due to involvement end dates (14): not aged.
  for (int i = 0; i < 4; ++i) {  // referred after the extract date
    add("", (as_of + 5 + i).iso(), "", "Open", "", "");
  }
  for (int i = 0; i < 4; ++i) {  // allocation ended before it started
    add("A Worker", "2010-01-04", "", "Open", "2010-03-01",
        (*Date::from_ymd(2010, 2, 1) + i).iso());
  }
  add("", "31/02/2010", "", "Open", "", "");  // an impossible referral date, kept as raw text
  for (int i = 0; i < 5; ++i) {               // no referral date and no allocation end
    add("Duty", "", "", "Open", "", "");
  }

  // Not counted: allocated, allocated until a future date, closed by status, closed by date.
  for (int i = 0; i < 40; ++i) {
    add("Social Worker " + std::to_string(i % 9), (as_of - 10 - i).iso(), "", "Open",
        (as_of - 5 - i % 5).iso(), "");
  }
  for (int i = 0; i < 10; ++i) {
    add("K Patel", (as_of - 90).iso(), "", "Open", (as_of - 80).iso(), (as_of + 1 + i).iso());
  }
  for (int i = 0; i < 20; ++i) {
    add("", (as_of - 60).iso(), (as_of - 3).iso(), i % 2 == 0 ? "Closed" : "CLOSED", "", "");
  }
  for (int i = 0; i < 5; ++i) {
    add("Unallocated", (as_of - 60).iso(), (as_of - i).iso(), "Open", "", "");
  }
  return seed;
}

// The records as CSV text with the example `cases` source's headers and dd/mm/yyyy dates (raw
// text that is not an ISO date is written as it is).
inline std::string seed_table_csv(const SeedTable& seed) {
  std::string csv =
      "Case ID,Child ID,Allocated Team,Allocated Worker,Referral Date,Closure Date,Case Status,"
      "Allocation Start,Allocation End\n";
  const auto cell = [&](const std::string& value, bool is_date) {
    if (is_date) {
      if (const auto date = rules::Date::parse_iso(value)) {
        char buffer[32];
        std::snprintf(buffer, sizeof buffer, "%02d/%02d/%04d", date->day(), date->month(),
                      date->year());
        csv += buffer;
        return;
      }
    }
    if (value.find_first_of(",\"\n") != std::string::npos) {
      csv += '"';
      for (char c : value) {
        if (c == '"') csv += '"';
        csv += c;
      }
      csv += '"';
    } else {
      csv += value;
    }
  };
  for (const auto& record : seed.records) {
    csv += record.key;
    for (std::size_t i = 0; i < record.values.size(); ++i) {
      csv += ',';
      cell(record.values[i], seed.source.fields[i].is_date);
    }
    csv += '\n';
  }
  return csv;
}

}  // namespace test_support

#endif  // CASEWATCH_TESTS_SUPPORT_SEED_TABLE_H_
