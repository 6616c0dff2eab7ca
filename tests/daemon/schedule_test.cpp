#include "daemon/policy/schedule.h"

#include <date/date.h>

#include <catch2/catch.hpp>
#include <sstream>
#include <string>

#include "config/config.h"

namespace {

using service::SysSeconds;
using service::TimeOfDay;
using service::WeeklySchedule;

// A UTC instant written as "2026-03-29 01:00".
SysSeconds utc(const char* text) {
  std::istringstream in(text);
  date::sys_seconds out;
  in >> date::parse("%Y-%m-%d %H:%M", out);
  REQUIRE(!in.fail());
  return out;
}

std::string show(SysSeconds instant) { return date::format("%Y-%m-%d %H:%M", instant); }

const date::time_zone* london() { return service::find_zone("Europe/London"); }

rules::Date day(const char* iso) { return *rules::Date::parse_iso(iso); }

// The schedule `[review] at = "Mon 07:00"` gives, read by config/ as the service reads it.
WeeklySchedule weekly(const char* text) {
  const auto config = config::parse_config(std::string("[review]\nat = \"") + text + "\"\n",
                                           "/etc/casewatch/casewatch.toml");
  return WeeklySchedule{config.review.weekday, config.review.at};
}

}  // namespace

TEST_CASE("next_weekly_run keeps the local wall-clock time across the clock changes",
          "[daemon][schedule]") {
  // Europe/London: BST starts Sun 29 Mar 2026 01:00 UTC and ends Sun 25 Oct 2026 01:00 UTC.
  auto [schedule_text, now, expected] = GENERATE(table<const char*, const char*, const char*>({
      // Monday 07:00: GMT the week before, BST after (06:00 UTC).
      {"Mon 07:00", "2026-03-21 12:00", "2026-03-23 07:00"},
      {"Mon 07:00", "2026-03-28 12:00", "2026-03-30 06:00"},
      // Exactly at a run: the next one is a week later.
      {"Mon 07:00", "2026-03-23 07:00", "2026-03-30 06:00"},
      {"Mon 07:00", "2026-03-23 06:59", "2026-03-23 07:00"},
      // Mon 01:30 around the Sunday/Monday of each change.
      {"Mon 01:30", "2026-03-29 00:30", "2026-03-30 00:30"},
      {"Mon 01:30", "2026-10-25 00:30", "2026-10-26 01:30"},
      {"Mon 01:30", "2026-10-19 00:29", "2026-10-19 00:30"},
      // Sunday 01:30 does not exist on 29 Mar 2026: run at the jump (02:00 BST).
      {"Sun 01:30", "2026-03-28 12:00", "2026-03-29 01:00"},
      // Sunday 01:30 happens twice on 25 Oct 2026: run at the first, and not again at the second.
      {"Sun 01:30", "2026-10-24 12:00", "2026-10-25 00:30"},
      {"Sun 01:30", "2026-10-25 00:30", "2026-11-01 01:30"},
      // Other days of the week, through the year end.
      {"Fri 17:45", "2026-12-31 23:00", "2027-01-01 17:45"},
  }));
  CAPTURE(schedule_text, now);
  CHECK(show(service::next_weekly_run(utc(now), weekly(schedule_text), london())) == expected);
}

TEST_CASE("previous_weekly_run is the latest run at or before now", "[daemon][schedule]") {
  auto [now, expected] = GENERATE(table<const char*, const char*>({
      {"2026-03-30 06:00", "2026-03-30 06:00"},
      {"2026-03-30 05:59", "2026-03-23 07:00"},
      {"2026-04-01 10:00", "2026-03-30 06:00"},
      {"2026-10-26 06:59", "2026-10-19 06:00"},
      {"2026-10-26 07:00", "2026-10-26 07:00"},
  }));
  CAPTURE(now);
  const WeeklySchedule monday_seven{1, {7, 0}};

  CHECK(show(service::previous_weekly_run(utc(now), monday_seven, london())) == expected);
}

TEST_CASE("next_daily_run picks the first fetch time after now in local time",
          "[daemon][schedule]") {
  const std::vector<TimeOfDay> six_and_eighteen = {{18, 0}, {6, 0}};
  auto [now, expected] = GENERATE(table<const char*, const char*>({
      {"2026-03-28 05:59", "2026-03-28 06:00"},
      {"2026-03-28 10:00", "2026-03-28 18:00"},
      // After 18:00 GMT on Saturday, the next is 06:00 BST on Sunday 29 Mar (05:00 UTC).
      {"2026-03-28 18:00", "2026-03-29 05:00"},
      {"2026-10-24 18:00", "2026-10-25 06:00"},
      {"2026-10-24 16:59", "2026-10-24 17:00"},
  }));
  CAPTURE(now);

  const auto next = service::next_daily_run(utc(now), six_and_eighteen, london());
  REQUIRE(next);
  CHECK(show(*next) == expected);
}

TEST_CASE("next_daily_run has nothing to schedule without times", "[daemon][schedule]") {
  CHECK_FALSE(service::next_daily_run(utc("2026-03-28 05:59"), {}, london()));
}

TEST_CASE("a review missed while the service was down is due once at start-up, marked late",
          "[daemon][schedule]") {
  const WeeklySchedule monday_seven{1, {7, 0}};

  SECTION("two missed weeks give one late review, for the latest week") {
    // Last review: 2026-W12. Down through Mon 23 Mar (W13) and Mon 30 Mar (W14).
    const auto due = service::review_due_at_startup(utc("2026-04-01 10:00"), monday_seven, london(),
                                                    std::string("2026-W12"));
    REQUIRE(due);
    CHECK(due->week.str() == "2026-W14");
    CHECK(due->today == day("2026-04-01"));
    CHECK(due->late);
  }
  SECTION("once it is recorded, it is not due again") {
    CHECK_FALSE(service::review_due_at_startup(utc("2026-04-01 10:00"), monday_seven, london(),
                                               std::string("2026-W14")));
  }
  SECTION("before this week's run time, last week's review is the one that counts") {
    CHECK_FALSE(service::review_due_at_startup(utc("2026-03-30 05:59"), monday_seven, london(),
                                               std::string("2026-W13")));
    const auto due = service::review_due_at_startup(utc("2026-03-30 06:00"), monday_seven, london(),
                                                    std::string("2026-W13"));
    REQUIRE(due);
    CHECK(due->week.str() == "2026-W14");
  }
  SECTION("a fresh installation has missed nothing") {
    CHECK_FALSE(
        service::review_due_at_startup(utc("2026-04-01 10:00"), monday_seven, london(), {}));
  }
  SECTION("across the new year the ISO week year is compared, not the calendar year") {
    // Mon 4 Jan 2027 is in 2027-W01; the last review was 2026-W53 (Mon 28 Dec 2026).
    const auto due = service::review_due_at_startup(utc("2027-01-05 09:00"), monday_seven, london(),
                                                    std::string("2026-W53"));
    REQUIRE(due);
    CHECK(due->week.str() == "2027-W01");
  }
}

TEST_CASE("review_for_run names the local ISO week of the run", "[daemon][schedule]") {
  // 23:30 UTC on Sunday 29 Mar 2026 is already Monday 30 Mar (W14) in London.
  const auto review = service::review_for_run(utc("2026-03-29 23:30"), london());
  CHECK(review.week.str() == "2026-W14");
  CHECK(review.today == day("2026-03-30"));
  CHECK_FALSE(review.late);
}

TEST_CASE("an unknown time zone is named in the error", "[daemon][schedule]") {
  CHECK_THROWS_WITH(service::find_zone("Europe/Atlantis"), "unknown time zone 'Europe/Atlantis'");
}

TEST_CASE("utc_text writes ISO 8601 UTC", "[daemon][schedule]") {
  CHECK(service::utc_text(utc("2026-11-22 09:30")) == "2026-11-22T09:30:00Z");
}

TEST_CASE("parse_utc reads what utc_text writes and nothing else", "[daemon][clock]") {
  CHECK(service::parse_utc("2026-11-22T09:30:00Z") == utc("2026-11-22 09:30"));
  CHECK(service::parse_utc(service::utc_text(utc("1999-12-31 23:59"))) == utc("1999-12-31 23:59"));
  CHECK_FALSE(service::parse_utc("2026-11-22 09:30:00").has_value());
  CHECK_FALSE(service::parse_utc("").has_value());
  CHECK_FALSE(service::parse_utc("yesterday").has_value());
}
