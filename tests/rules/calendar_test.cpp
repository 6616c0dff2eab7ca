#include <catch2/catch.hpp>

#include "rules/rules.h"
#include "tests/rules/rules_test_util.h"
#include "tests/support/temp_dir.h"

namespace {

using rules::Calendar;
using rules::Date;
using rules::Duration;
using rules::Unit;

using rules_test::d;

std::vector<rules::Holiday> shipped_holidays() {
  const auto text =
      test_support::read_file(CASEWATCH_SOURCE_DIR "/data/bank-holidays-england-and-wales.csv");
  auto holidays = rules::parse_holidays(text);
  REQUIRE(holidays.has_value());
  return *holidays;
}

const Calendar& england() {
  static const Calendar calendar(shipped_holidays());
  return calendar;
}

}  // namespace

TEST_CASE("the shipped holiday file lists 2009 to 2028 with the one-off days", "[calendar]") {
  const auto holidays = shipped_holidays();
  CHECK(holidays.size() == 165);
  CHECK(holidays.front().date == d(2009, 1, 1));
  CHECK(holidays.back().date == d(2028, 12, 26));
  const auto title_of = [&](Date date) -> std::string {
    for (const auto& holiday : holidays) {
      if (holiday.date == date) return holiday.title;
    }
    return "(absent)";
  };
  auto [date, title] = GENERATE(table<Date, std::string>({
      {d(2011, 4, 29), "Royal wedding"},
      {d(2012, 6, 4), "Spring bank holiday"},
      {d(2012, 6, 5), "Queen's Diamond Jubilee"},
      {d(2020, 5, 8), "Early May bank holiday (VE day)"},
      {d(2020, 5, 4), "(absent)"},
      {d(2022, 6, 2), "Spring bank holiday"},
      {d(2022, 6, 3), "Platinum Jubilee bank holiday"},
      {d(2022, 9, 19), "Bank Holiday for the State Funeral of Queen Elizabeth II"},
      {d(2023, 5, 8), "Bank holiday for the coronation of King Charles III"},
      {d(2026, 12, 28), "Boxing Day (substitute day)"},
      {d(2027, 12, 27), "Christmas Day (substitute day)"},
      {d(2022, 1, 3), "New Year's Day (substitute day)"},
  }));
  CAPTURE(date.iso());
  CHECK(title_of(date) == title);
  CHECK(england().last_listed() == d(2028, 12, 26));
}

TEST_CASE("parse_holidays names the line of a bad date", "[calendar]") {
  const auto parsed = rules::parse_holidays(
      "# comment\ndate,title\n2026-01-01,New Year\n\n"
      "01/04/2026,Good Friday\n");
  REQUIRE_FALSE(parsed.has_value());
  CHECK(parsed.error() ==
        rules::Problem{5, "date", "expected a date as YYYY-MM-DD, got '01/04/2026'"});
}

TEST_CASE("parse_holidays accepts comments, blank lines, CRLF and a BOM", "[calendar]") {
  const auto parsed = rules::parse_holidays(
      "\xEF\xBB\xBF# source\r\ndate,title\r\n\r\n"
      "2026-12-25,Christmas Day\r\n2026-12-28\r\n");
  REQUIRE(parsed.has_value());
  REQUIRE(parsed->size() == 2);
  CHECK(parsed->at(0).date == d(2026, 12, 25));
  CHECK(parsed->at(0).title == "Christmas Day");
  CHECK(parsed->at(1).title.empty());
}

TEST_CASE("working_days counts working days from the start up to but not including the end",
          "[calendar]") {
  auto [a, b, expected] = GENERATE(table<Date, Date, int>({
      {d(2021, 1, 4), d(2021, 1, 11), 5},     // DESIGN.md: Mon 4 Jan to Mon 11 Jan 2021
      {d(2021, 1, 4), d(2021, 1, 4), 0},      // same day
      {d(2021, 1, 11), d(2021, 1, 4), 0},     // backwards
      {d(2021, 1, 2), d(2021, 1, 4), 0},      // Saturday to Monday
      {d(2021, 1, 2), d(2021, 1, 5), 1},      // the Monday counts
      {d(2020, 12, 24), d(2021, 1, 4), 4},    // 24, 29, 30, 31 Dec (25, 28 Dec, 1 Jan closed)
      {d(2026, 3, 2), d(2026, 5, 7), 45},     // over Easter 2026 and the early May holiday
      {d(2026, 11, 16), d(2027, 1, 21), 45},  // over Christmas 2026 (28 Dec substitute)
  }));
  CAPTURE(a.iso(), b.iso());
  CHECK(england().working_days(a, b) == expected);
}

TEST_CASE("due dates of working-day limits follow numpy busday_offset rolled forward",
          "[calendar]") {
  auto [start, limit, count_start_day, due] = GENERATE(table<Date, int, bool, Date>({
      {d(2021, 1, 4), 45, false, d(2021, 3, 8)},     // DESIGN.md example
      {d(2021, 1, 2), 45, false, d(2021, 3, 8)},     // a Saturday start: due the same day
      {d(2021, 1, 4), 45, true, d(2021, 3, 5)},      // count_start_day: one working day earlier
      {d(2021, 1, 2), 0, false, d(2021, 1, 4)},      // 0wd rolls forward only
      {d(2021, 1, 4), 0, true, d(2020, 12, 31)},     // 0wd counting the start: the day before
      {d(2026, 3, 2), 45, false, d(2026, 5, 7)},     // Good Friday, Easter Monday, 4 May closed
      {d(2026, 11, 16), 45, false, d(2027, 1, 21)},  // 25 and 28 Dec 2026, 1 Jan 2027 closed
      {d(2026, 11, 16), 45, true, d(2027, 1, 20)},
      {d(2026, 12, 24), 1, false, d(2026, 12, 29)},  // the day after 24 Dec is 29 Dec
      {d(2026, 12, 25), 0, false, d(2026, 12, 29)},  // Christmas rolls to 29 Dec
      {d(2010, 4, 1), 10, false, d(2010, 4, 19)},    // Easter 2010: 2 and 5 Apr closed
  }));
  CAPTURE(start.iso(), limit, count_start_day);
  CHECK(rules::due_date(start, Duration{limit, Unit::kWorkingDays}, england(), count_start_day) ==
        due);
}

TEST_CASE("an extra closure day pushes a working-day due date back", "[calendar]") {
  auto closures = shipped_holidays();
  closures.push_back({d(2026, 12, 24), "Office closure"});
  closures.push_back({d(2026, 12, 26), "Saturday closure, ignored"});
  const Calendar calendar(std::move(closures));
  CHECK(rules::due_date(d(2026, 11, 16), Duration{45, Unit::kWorkingDays}, calendar) ==
        d(2027, 1, 22));
  CHECK(calendar.working_days(d(2026, 12, 21), d(2026, 12, 31)) == 5);  // 21-23, 29, 30 Dec
  CHECK_FALSE(calendar.is_working_day(d(2026, 12, 24)));
}

TEST_CASE("due dates of day, week and month limits are calendar arithmetic", "[calendar]") {
  auto [start, limit, due] = GENERATE(table<Date, Duration, Date>({
      {d(2021, 1, 2), Duration{28, Unit::kDays}, d(2021, 1, 30)},  // Saturday start, no roll
      {d(2021, 1, 4), Duration{2, Unit::kWeeks}, d(2021, 1, 18)},
      {d(2021, 1, 31), Duration{1, Unit::kMonths}, d(2021, 2, 28)},
      {d(2028, 1, 31), Duration{1, Unit::kMonths}, d(2028, 2, 29)},  // leap year
      {d(2028, 2, 29), Duration{12, Unit::kMonths}, d(2029, 2, 28)},
      {d(2028, 2, 29), Duration{3, Unit::kMonths}, d(2028, 5, 29)},
      {d(2025, 12, 25), Duration{1, Unit::kDays}, d(2025, 12, 26)},  // holidays ignored
  }));
  CAPTURE(start.iso(), limit.str());
  CHECK(rules::due_date(start, limit, england()) == due);
  CHECK(rules::due_date(start, limit, england(), true) == due);  // count_start_day: wd only
}

TEST_CASE("working_days and add_working_days agree with day-by-day counting", "[calendar]") {
  const Calendar& calendar = england();
  const auto naive_count = [&](Date a, Date b) {
    int n = 0;
    for (Date x = a; x < b; x = x + 1) n += calendar.is_working_day(x) ? 1 : 0;
    return n;
  };
  const auto naive_add = [&](Date start, int n) {
    Date x = calendar.roll_forward(start);
    while (n > 0) {
      x = x + 1;
      if (calendar.is_working_day(x)) --n;
    }
    while (n < 0) {
      x = x - 1;
      if (calendar.is_working_day(x)) ++n;
    }
    return x;
  };
  for (Date a = d(2008, 12, 1); a < d(2029, 2, 1); a = a + 13) {
    for (int n : {-3, -1, 0, 1, 5, 10, 20, 45}) {
      CAPTURE(a.iso(), n);
      REQUIRE(calendar.add_working_days(a, n) == naive_add(a, n));
    }
    for (int span : {0, 1, 6, 30, 90}) {
      CAPTURE(a.iso(), span);
      REQUIRE(calendar.working_days(a, a + span) == naive_count(a, a + span));
    }
  }
}

TEST_CASE("parse_duration reads short and spelled-out units", "[calendar]") {
  auto [text, expected] = GENERATE(table<std::string, Duration>({
      {"45wd", Duration{45, Unit::kWorkingDays}},
      {"28d", Duration{28, Unit::kDays}},
      {"2w", Duration{2, Unit::kWeeks}},
      {"3m", Duration{3, Unit::kMonths}},
      {"45 working days", Duration{45, Unit::kWorkingDays}},
      {"1 working day", Duration{1, Unit::kWorkingDays}},
      {"28 days", Duration{28, Unit::kDays}},
      {"1 day", Duration{1, Unit::kDays}},
      {"2 weeks", Duration{2, Unit::kWeeks}},
      {"1 week", Duration{1, Unit::kWeeks}},
      {"3 months", Duration{3, Unit::kMonths}},
      {"1 Month", Duration{1, Unit::kMonths}},
      {" 7d ", Duration{7, Unit::kDays}},
  }));
  CAPTURE(text);
  const auto parsed = rules::parse_duration(text);
  REQUIRE(parsed.has_value());
  CHECK(*parsed == expected);
}

TEST_CASE("parse_duration names the accepted units when it cannot read a duration", "[calendar]") {
  auto text = GENERATE(as<std::string>{}, "45 fortnights", "wd", "", "-3d", "45");
  CAPTURE(text);
  const auto parsed = rules::parse_duration(text);
  REQUIRE_FALSE(parsed.has_value());
  CHECK(parsed.error().message ==
        "bad duration '" + text +
            "': expected a number and a unit: wd (working days), d (days), w (weeks) or m "
            "(months)");
}

TEST_CASE("Duration::str writes the short form", "[calendar]") {
  CHECK(Duration{45, Unit::kWorkingDays}.str() == "45wd");
  CHECK(Duration{28, Unit::kDays}.str() == "28d");
  CHECK(Duration{2, Unit::kWeeks}.str() == "2w");
  CHECK(Duration{3, Unit::kMonths}.str() == "3m");
}
