#include "daemon/policy/schedule.h"

#include <date/date.h>
#include <date/tz.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <stdexcept>

namespace service {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;

date::local_days to_local_days(rules::Date day) { return date::local_days{days{day.days()}}; }

}  // namespace

const date::time_zone* find_zone(std::string_view name) {
  try {
    return date::locate_zone(name);
  } catch (const std::runtime_error&) {
    throw std::runtime_error(fmt::format("unknown time zone '{}'", name));
  }
}

SysSeconds at_local(rules::Date day, TimeOfDay local, const date::time_zone* zone) {
  const date::local_seconds wanted = to_local_days(day) + hours{local.hour} + minutes{local.minute};
  const date::local_info info = zone->get_info(wanted);
  switch (info.result) {
    case date::local_info::unique:
      return date::sys_seconds{wanted.time_since_epoch() - info.first.offset};
    case date::local_info::nonexistent:
      // The clocks jumped over `wanted`: run at the jump (the end of the first period).
      return info.first.end;
    case date::local_info::ambiguous:
      return date::sys_seconds{wanted.time_since_epoch() - info.first.offset};
  }
  return date::sys_seconds{wanted.time_since_epoch() - info.first.offset};
}

SysSeconds next_weekly_run(SysSeconds now, const WeeklySchedule& schedule,
                           const date::time_zone* zone) {
  const rules::Date today = local_date(now, zone);
  const int ahead = ((schedule.weekday - today.weekday()) % 7 + 7) % 7;
  rules::Date day = today + ahead;
  SysSeconds run = at_local(day, schedule.at, zone);
  while (run <= now) {
    day = day + 7;
    run = at_local(day, schedule.at, zone);
  }
  return run;
}

SysSeconds previous_weekly_run(SysSeconds now, const WeeklySchedule& schedule,
                               const date::time_zone* zone) {
  const rules::Date today = local_date(now, zone);
  const int back = ((today.weekday() - schedule.weekday) % 7 + 7) % 7;
  rules::Date day = today - back;
  SysSeconds run = at_local(day, schedule.at, zone);
  while (run > now) {
    day = day - 7;
    run = at_local(day, schedule.at, zone);
  }
  return run;
}

std::optional<SysSeconds> next_daily_run(SysSeconds now, const std::vector<TimeOfDay>& times,
                                         const date::time_zone* zone) {
  if (times.empty()) {
    return std::nullopt;
  }
  const rules::Date today = local_date(now, zone);
  std::optional<SysSeconds> best;
  // Today and tomorrow always hold a run after `now`; the day after covers a skipped time.
  for (int offset = 0; offset <= 2; ++offset) {
    for (const TimeOfDay& time : times) {
      const SysSeconds run = at_local(today + offset, time, zone);
      if (run > now && (!best || run < *best)) {
        best = run;
      }
    }
  }
  return best;
}

DueReview review_for_run(SysSeconds run, const date::time_zone* zone) {
  const rules::Date day = local_date(run, zone);
  return DueReview{rules::iso_week(day), day, false};
}

std::optional<DueReview> review_due_at_startup(SysSeconds now, const WeeklySchedule& schedule,
                                               const date::time_zone* zone,
                                               const std::optional<std::string>& last_week) {
  if (!last_week) {
    return std::nullopt;
  }
  const auto last = rules::parse_iso_week(*last_week);
  const DueReview latest = review_for_run(previous_weekly_run(now, schedule, zone), zone);
  if (last && *last >= latest.week) {
    return std::nullopt;
  }
  return DueReview{latest.week, local_date(now, zone), true};
}

}  // namespace service
