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

using rules_test::england;
using rules_test::shipped_holidays;

}  // namespace

TEST_CASE("the shipped holiday file lists 2009 to 2028 with the one-off days", "[calendar]") {
  const auto holidays = shipped_holidays();
  CHECK(holidays.size() == 165);
  CHECK(holidays.front().date == d(2009, 1, 1));
  CHECK(holidays.back().date == d(2028, 12, 26));
  const auto title_of = [&](Date date) -> std::string {
    for (const auto& holiday : holidays) {
      if (holiday.date == date) {
        return holiday.title;
      }
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

// Every expected date below was counted by hand on a calendar against the shipped file
// data/bank-holidays-england-and-wales.csv: roll a weekend or bank-holiday start back to the
// working day before it, then count N working days after it, skipping Saturdays, Sundays and the
// file's closures. The statutory reading is busday_offset(start, N, roll="backward"); the DfE
// validators' reading (count_start_day) is busday_offset(start, N - 1, roll="backward").
TEST_CASE("working-day due dates: the N-th working day after the start, by statute", "[calendar]") {
  auto [start, limit, due] = GENERATE(table<Date, int, Date>({
      // DESIGN.md: Mon 4 Jan 2021 is a working day; no closure until Good Friday 2 Apr, so
      // 45wd = 9 whole weeks: Mon 8 Mar 2021.
      {d(2021, 1, 4), 45, d(2021, 3, 8)},
      // DESIGN.md: Sat 2 Jan 2021 rolls back past Fri 1 Jan (New Year's Day) to Thu 31 Dec 2020;
      // day 1 is Mon 4 Jan, day 45 = Mon 4 Jan + 44wd = 8 weeks + 4 days: Fri 5 Mar 2021.
      {d(2021, 1, 2), 45, d(2021, 3, 5)},
      // DESIGN.md (reg. 33 first review): Sun 25 Feb 2024 rolls back to Fri 23 Feb; day 1 is
      // Mon 26 Feb, day 20 = 3 weeks + 4 days later: Fri 22 Mar 2024 (Good Friday is 29 Mar).
      {d(2024, 2, 25), 20, d(2024, 3, 22)},
      // DESIGN.md: Good Friday Fri 3 Apr 2026 rolls back to Thu 2 Apr. Day 1 is Tue 7 Apr
      // (Easter Monday 6 Apr closed); 7-10 Apr are days 1-4, then 13 Apr-1 May days 5-19,
      // 5-8 May (4 May closed) 20-23, 11-22 May 24-33, 26-29 May (25 May closed) 34-37,
      // 1-5 Jun 38-42, 8, 9, 10 Jun 43-45: Wed 10 Jun 2026.
      {d(2026, 4, 3), 45, d(2026, 6, 10)},
      // The validator's row read by statute: Sun 29 Jan 2023 rolls back to Fri 27 Jan; no
      // closure until 7 Apr, so day 45 is 9 weeks later: Fri 31 Mar 2023.
      {d(2023, 1, 29), 45, d(2023, 3, 31)},
      // Easter: Sat 4 Apr and Easter Monday 6 Apr 2026 both roll back to Thu 2 Apr; day 19 is
      // Fri 1 May (as above), Mon 4 May is closed, so day 20 is Tue 5 May 2026.
      {d(2026, 4, 4), 20, d(2026, 5, 5)},
      {d(2026, 4, 6), 20, d(2026, 5, 5)},
      // Christmas: Fri 25 Dec 2026 rolls back to Thu 24 Dec (a working day in the shipped file).
      // 28 Dec is the Boxing Day substitute, so day 1 is Tue 29 Dec; 29-31 Dec days 1-3,
      // 1 Jan 2027 closed, 4-8 Jan days 4-8, 11 Jan 9, 12 Jan 10: Tue 12 Jan 2027.
      {d(2026, 12, 25), 10, d(2027, 1, 12)},
      {d(2026, 12, 24), 10, d(2027, 1, 12)},  // Thu 24 Dec itself: the same count
      {d(2026, 12, 24), 1, d(2026, 12, 29)},  // the working day after 24 Dec is 29 Dec
      // Working-day starts over closures.
      {d(2026, 3, 2), 45, d(2026, 5, 7)},     // Good Friday, Easter Monday, 4 May closed
      {d(2026, 11, 16), 45, d(2027, 1, 21)},  // 25 and 28 Dec 2026, 1 Jan 2027 closed
      {d(2010, 4, 1), 10, d(2010, 4, 19)},    // Easter 2010: 2 and 5 Apr closed
      // 0wd: the start rolled back only.
      {d(2021, 1, 2), 0, d(2020, 12, 31)},
      {d(2026, 12, 25), 0, d(2026, 12, 24)},
  }));
  CAPTURE(start.iso(), limit);
  CHECK(rules::due_date(start, Duration{limit, Unit::kWorkingDays}, england()) == due);
  // And the due date is the day the count of elapsed working days reaches N.
  if (limit > 0) {
    CHECK(england().elapsed_working_days(start, due) == limit);
    CHECK(england().elapsed_working_days(start, due - 1) == limit - 1);
  }
}

TEST_CASE(
    "working-day due dates in the validators' reading: the start (or the working day "
    "before it) is day 1",
    "[calendar]") {
  auto [start, limit, due] = GENERATE(table<Date, int, Date>({
      {d(2021, 1, 4), 45, d(2021, 3, 5)},    // Mon 4 Jan is day 1: day 45 is Fri 5 Mar
      {d(2021, 1, 2), 45, d(2021, 3, 4)},    // Thu 31 Dec 2020 is day 1: day 45 Thu 4 Mar
      {d(2024, 2, 25), 20, d(2024, 3, 21)},  // Fri 23 Feb day 1: day 20 Thu 21 Mar 2024
      {d(2026, 4, 3), 45, d(2026, 6, 9)},    // Thu 2 Apr day 1: day 45 Tue 9 Jun 2026
      // DESIGN.md: Sun 29 Jan 2023 counts as Fri 27 Jan = day 1; day 45 is Thu 30 Mar 2023, so
      // the validator flags it at its reference date Fri 31 Mar 2023.
      {d(2023, 1, 29), 45, d(2023, 3, 30)},
      {d(2026, 4, 6), 20, d(2026, 5, 1)},     // Easter Monday: Thu 2 Apr day 1, day 20 Fri 1 May
      {d(2026, 12, 25), 10, d(2027, 1, 11)},  // Christmas: Thu 24 Dec day 1, day 10 Mon 11 Jan
      {d(2026, 11, 16), 45, d(2027, 1, 20)},
      {d(2021, 1, 4), 0, d(2020, 12, 31)},  // 0wd counting the start: the working day before
  }));
  CAPTURE(start.iso(), limit);
  CHECK(rules::due_date(start, Duration{limit, Unit::kWorkingDays}, england(), true) == due);
}

TEST_CASE("elapsed working days count the days after the start up to and including the date",
          "[calendar]") {
  auto [start, at, expected] = GENERATE(table<Date, Date, int>({
      {d(2021, 1, 4), d(2021, 1, 11), 5},  // DESIGN.md: Mon 4 Jan to Mon 11 Jan 2021
      {d(2021, 1, 4), d(2021, 1, 4), 0},   // the start day itself is day 0
      {d(2021, 1, 2), d(2021, 1, 4), 1},   // Saturday start: Mon 4 Jan is day 1
      {d(2021, 1, 2), d(2021, 1, 3), 0},
      {d(2021, 1, 8), d(2021, 1, 16), 5},  // a Saturday end counts as the Friday before
      {d(2021, 1, 11), d(2021, 1, 4), 0},  // backwards
  }));
  CAPTURE(start.iso(), at.iso());
  CHECK(england().elapsed_working_days(start, at) == expected);
}

TEST_CASE("an end on a weekend right after a working-day due date is still in time", "[calendar]") {
  const Duration five{5, Unit::kWorkingDays};
  const Date due = rules::due_date(d(2021, 1, 8), five, england());  // Fri 8 + 5wd = Fri 15 Jan
  CHECK(due == d(2021, 1, 15));
  CHECK(rules::in_time(d(2021, 1, 15), due, five, england()));
  CHECK(rules::in_time(d(2021, 1, 16), due, five, england()));        // Sat: still 5 working days
  CHECK(rules::in_time(d(2021, 1, 17), due, five, england()));        // Sun
  CHECK_FALSE(rules::in_time(d(2021, 1, 18), due, five, england()));  // Mon: the 6th
  // A calendar limit compares dates: 7d from Fri 8 Jan is Fri 15 Jan, and Sat 16 is late.
  const Duration week{7, Unit::kDays};
  CHECK_FALSE(rules::in_time(d(2021, 1, 16), d(2021, 1, 15), week, england()));
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
    for (Date x = a; x < b; x = x + 1) {
      n += calendar.is_working_day(x) ? 1 : 0;
    }
    return n;
  };
  const auto naive_add = [&](Date start, int n) {
    Date x = calendar.roll_backward(start);
    while (n > 0) {
      x = x + 1;
      if (calendar.is_working_day(x)) {
        --n;
      }
    }
    while (n < 0) {
      x = x - 1;
      if (calendar.is_working_day(x)) {
        ++n;
      }
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
