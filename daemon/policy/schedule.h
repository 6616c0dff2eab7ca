// Schedules as pure functions: the next weekly review, the next daily fetch, and which review is
// due at start-up. Times are UTC instants (sys_seconds); wall-clock times are read in the
// service's time zone (date/tz.h), so "Mon 07:00" stays 07:00 local across BST/GMT changes.
// Nothing here reads the clock: `now` is always a parameter.
#ifndef CASEWATCH_DAEMON_POLICY_SCHEDULE_H_
#define CASEWATCH_DAEMON_POLICY_SCHEDULE_H_

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "daemon/clock.h"
#include "rules/rules.h"

namespace date {
class time_zone;
}

namespace service {

// A local time of day: the configuration's type, parsed and checked by config/.
using TimeOfDay = config::TimeOfDay;

// A weekly wall-clock time: ISO weekday (1 = Monday … 7 = Sunday) and a time of day.
struct WeeklySchedule {
  int weekday = 1;
  TimeOfDay at{7, 0};
};

// The time zone called `name` ("Europe/London"). Throws std::runtime_error naming it when the
// time zone database does not know it.
const date::time_zone* find_zone(std::string_view name);

// The instant of `local` on the local calendar day `day` in `zone`. A local time skipped by a
// spring-forward change maps to the change itself (the clocks' jump); a local time repeated by
// an autumn change maps to its first occurrence.
SysSeconds at_local(rules::Date day, TimeOfDay local, const date::time_zone* zone);

// The first run of `schedule` strictly after `now`.
SysSeconds next_weekly_run(SysSeconds now, const WeeklySchedule& schedule,
                           const date::time_zone* zone);

// The latest run of `schedule` at or before `now`.
SysSeconds previous_weekly_run(SysSeconds now, const WeeklySchedule& schedule,
                               const date::time_zone* zone);

// The first of `times` (local, every day) strictly after `now`; nullopt when `times` is empty.
std::optional<SysSeconds> next_daily_run(SysSeconds now, const std::vector<TimeOfDay>& times,
                                         const date::time_zone* zone);

// A review to produce now.
struct DueReview {
  rules::IsoWeek week;
  rules::Date today;  // the local date of `now`
  bool late = false;  // its scheduled time passed while the service was down
  bool operator==(const DueReview&) const = default;
};

// The review of the ISO week containing `schedule`'s latest run at or before `now`, when that run
// is later than the last review produced (`last_week`, "2026-W47"), marked late; nullopt when it
// was produced already, or when no review was ever produced (a fresh installation missed
// nothing: the first review is the next scheduled one). Only the latest missed week is due:
// a service down for three weeks produces one late review, never three.
std::optional<DueReview> review_due_at_startup(SysSeconds now, const WeeklySchedule& schedule,
                                               const date::time_zone* zone,
                                               const std::optional<std::string>& last_week);

// The review produced by the run at `run` (a scheduled instant): its local week and date.
DueReview review_for_run(SysSeconds run, const date::time_zone* zone);

}  // namespace service

#endif  // CASEWATCH_DAEMON_POLICY_SCHEDULE_H_
