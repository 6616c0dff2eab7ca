#include "daemon/retention.h"

#include <date/date.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::system_clock;
namespace fs = std::filesystem;

Clock::time_point at(int y, unsigned m, unsigned d, int hour = 12) {
  return date::sys_days(date::year(y) / date::month(m) / date::day(d)) + std::chrono::hours(hour);
}

}  // namespace

TEST_CASE("retention deletes kept extracts past their age once a later one of their source is in",
          "[daemon][retention]") {
  // Now is 1 Dec 2026 12:00; archive_days = 30, so the cutoff is 1 Nov 2026 12:00.
  const auto now = at(2026, 12, 1);
  const std::map<std::string, std::optional<Clock::time_point>> latest = {
      {"cases", at(2026, 11, 30)},  // an extract of cases was ingested on 30 Nov
      {"s47", at(2026, 10, 1)},     // s47's latest is older than its kept files
      {"looked_after", std::nullopt},
  };
  const std::vector<service::KeptExtract> kept = {
      {"archive/cases_a.csv", "cases", at(2026, 10, 31)},     // 31 days: deleted
      {"archive/cases_b.csv", "cases", at(2026, 11, 1, 11)},  // 30 days 1 hour: deleted
      {"archive/cases_c.csv", "cases", at(2026, 11, 1, 12)},  // exactly 30 days: kept
      {"archive/cases_d.csv", "cases", at(2026, 11, 15)},     // 16 days: kept
      {"archive/s47_a.csv", "s47", at(2026, 10, 15)},         // no later s47 extract: kept
      {"archive/s47_b.csv", "s47", at(2026, 9, 30)},          // s47 in on 1 Oct: deleted
      {"archive/lac.csv", "looked_after", at(2025, 1, 1)},    // nothing ingested: kept
      {"archive/staff.csv", "", at(2020, 1, 1)},              // matches no source: kept
  };
  const auto latest_of = [&](const std::string& source) { return latest.at(source); };

  CHECK(service::expired_extracts(kept, 30, latest_of, now) ==
        std::vector<fs::path>{"archive/cases_a.csv", "archive/cases_b.csv", "archive/s47_b.csv"});
  CHECK(service::expired_extracts(kept, 0, latest_of, now).empty());
  CHECK(service::expired_extracts(kept, 365, latest_of, now).empty());
}

TEST_CASE("history_years keeps the same day that many years back", "[daemon][retention]") {
  auto [today, years, cutoff] = GENERATE(table<std::string, int, std::string>({
      {"2026-12-01", 6, "2020-12-01"},
      {"2024-02-29", 1, "2023-02-28"},  // no 29 Feb in 2023
      {"2024-02-29", 4, "2020-02-29"},
      {"2026-01-01", 10, "2016-01-01"},
  }));
  CAPTURE(today, years);
  CHECK(service::history_cutoff(*rules::Date::parse_iso(today), years).iso() == cutoff);
}
