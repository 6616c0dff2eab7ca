#include <catch2/catch.hpp>

#include "rules/rules.h"
#include "tests/rules/rules_test_util.h"

namespace {

using rules::Date;

using rules_test::d;

}  // namespace

TEST_CASE("parse_date reads the configured formats and rejects guesses", "[date]") {
  auto [text, format, expected] = GENERATE(table<std::string, std::string, std::optional<Date>>({
      {"04/01/2021", "%d/%m/%Y", d(2021, 1, 4)},
      {"4/1/2021", "%d/%m/%Y", d(2021, 1, 4)},   // single-digit day and month
      {"04/01/21", "%d/%m/%Y", std::nullopt},    // two-digit year
      {"31/02/2021", "%d/%m/%Y", std::nullopt},  // not a real date
      {"29/02/2028", "%d/%m/%Y", d(2028, 2, 29)},
      {"29/02/2027", "%d/%m/%Y", std::nullopt},
      {"2021-01-04", "%Y-%m-%d", d(2021, 1, 4)},
      {"2021-01-04T00:00:00", "%Y-%m-%d", d(2021, 1, 4)},  // trailing time
      {"2021-01-04 00:00:00.000", "%Y-%m-%d", d(2021, 1, 4)},
      {" 2021-01-04 ", "%Y-%m-%d", d(2021, 1, 4)},
      {"2021-01-04x", "%Y-%m-%d", std::nullopt},
      {"20211-01-04", "%Y-%m-%d", std::nullopt},
      {"", "%Y-%m-%d", std::nullopt},
      {"13/13/2021", "%d/%m/%Y", std::nullopt},
  }));
  CAPTURE(text, format);
  CHECK(rules::parse_date(text, format) == expected);
}

TEST_CASE("parse_date_any takes the first format that matches", "[date]") {
  const std::vector<std::string> formats = {"%d/%m/%Y", "%Y-%m-%d"};
  CHECK(rules::parse_date_any("2021-01-04", formats) == d(2021, 1, 4));
  CHECK(rules::parse_date_any("04/01/2021", formats) == d(2021, 1, 4));
  CHECK(rules::parse_date_any("01-04-2021", formats) == std::nullopt);
}

TEST_CASE("parse_iso accepts exactly YYYY-MM-DD", "[date]") {
  CHECK(Date::parse_iso("2026-11-16") == d(2026, 11, 16));
  CHECK(Date::parse_iso("2026-11-6") == std::nullopt);
  CHECK(Date::parse_iso("2026-02-30") == std::nullopt);
  CHECK(d(2026, 11, 16).iso() == "2026-11-16");
  CHECK(d(2026, 11, 16).weekday() == 1);
  CHECK(d(2026, 11, 22).weekday() == 7);
  CHECK(d(1969, 12, 31).iso() == "1969-12-31");
}

TEST_CASE("ISO weeks around the new year", "[date]") {
  auto [date, year, week] = GENERATE(table<Date, int, int>({
      {d(2020, 12, 31), 2020, 53},
      {d(2021, 1, 3), 2020, 53},  // Sunday: still the last week of 2020
      {d(2021, 1, 4), 2021, 1},
      {d(2024, 12, 30), 2025, 1},  // Monday: already week 1 of 2025
      {d(2026, 1, 1), 2026, 1},
      {d(2026, 11, 16), 2026, 47},
      {d(2027, 1, 3), 2026, 53},
  }));
  CAPTURE(date.iso());
  CHECK(rules::iso_week(date) == rules::IsoWeek{year, week});
}

TEST_CASE("parse_iso_week reads existing weeks only", "[date]") {
  CHECK(rules::parse_iso_week("2026-W47") == rules::IsoWeek{2026, 47});
  CHECK(rules::parse_iso_week("2026W47") == rules::IsoWeek{2026, 47});
  CHECK(rules::parse_iso_week("2026-W53") == rules::IsoWeek{2026, 53});
  CHECK(rules::parse_iso_week("2025-W53") == std::nullopt);
  CHECK(rules::parse_iso_week("2026-W7") == std::nullopt);
  CHECK(rules::IsoWeek{2026, 47}.monday() == d(2026, 11, 16));
  CHECK(rules::IsoWeek{2026, 47}.sunday() == d(2026, 11, 22));
  CHECK(rules::IsoWeek{2026, 47}.str() == "2026-W47");
}

TEST_CASE("financial_year_start is the 1 April on or before the date", "[date]") {
  CHECK(rules::financial_year_start(d(2026, 3, 31)) == d(2025, 4, 1));
  CHECK(rules::financial_year_start(d(2026, 4, 1)) == d(2026, 4, 1));
  CHECK(rules::financial_year_start(d(2026, 1, 1)) == d(2025, 4, 1));
  CHECK(rules::financial_year_start(d(2026, 12, 31)) == d(2026, 4, 1));
}

TEST_CASE("add_months clamps to the end of the month", "[date]") {
  CHECK(rules::add_months(d(2021, 1, 31), 1) == d(2021, 2, 28));
  CHECK(rules::add_months(d(2028, 1, 31), 1) == d(2028, 2, 29));
  CHECK(rules::add_months(d(2026, 12, 15), 2) == d(2027, 2, 15));
  CHECK(rules::add_months(d(2026, 3, 31), -1) == d(2026, 2, 28));
  CHECK(rules::add_months(d(2026, 1, 15), -1) == d(2025, 12, 15));
}
