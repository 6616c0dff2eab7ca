// The working-day calendar and durations ("45wd", "28d", "2w", "3m").
#ifndef CASEWATCH_RULES_CALENDAR_H_
#define CASEWATCH_RULES_CALENDAR_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rules/date.h"
#include "rules/result.h"

namespace rules {

// A named closure day (a bank holiday or a local office closure).
struct Holiday {
  Date date;
  std::string title;
};

// Parses the shipped holiday data file's text: lines "YYYY-MM-DD,Title", a header line
// "date,title", '#' comments and blank lines. Problems carry the line number.
Result<std::vector<Holiday>> parse_holidays(std::string_view text);

// Monday to Friday except the closure days it was built with. Immutable after construction.
class Calendar {
 public:
  Calendar() = default;  // weekends only
  explicit Calendar(std::vector<Holiday> closures);

  bool is_working_day(Date d) const;
  // The first working day on or after `d`.
  Date roll_forward(Date d) const;
  // The last working day on or before `d`.
  Date roll_backward(Date d) const;
  // Counts working days w with a <= w < b; 0 when b <= a.
  int working_days(Date a, Date b) const;
  // The working days elapsed at `b` on a clock started on `start` (DESIGN.md "Working days"):
  // the working days d with start < d <= b; 0 when b <= start.
  int elapsed_working_days(Date start, Date b) const { return working_days(start + 1, b + 1); }
  // numpy busday_offset(start, n, roll="backward"): the n-th working day after the last working
  // day on or before `start` (so a weekend or bank-holiday start counts from the working day
  // before it). n may be 0 (the start rolled back) or negative.
  Date add_working_days(Date start, int n) const;
  // The last closure day listed, or nullopt when none (used for the "list ends soon" warning).
  std::optional<Date> last_listed() const;
  const std::vector<Holiday>& closures() const { return closures_; }

 private:
  // Working days before `day` counted from a fixed Monday long ago; O(log closures).
  std::int64_t working_days_before(std::int32_t day) const;

  std::vector<Holiday> closures_;               // sorted by date, unique
  std::vector<std::int32_t> weekday_closures_;  // those falling Monday to Friday, as day numbers
};

enum class Unit { kWorkingDays, kDays, kWeeks, kMonths };

// A limit or band bound: N working days, days, weeks (7N days) or calendar months.
struct Duration {
  int amount = 0;
  Unit unit = Unit::kDays;
  std::string str() const;  // "45wd", "28d", "2w", "3m"
  auto operator<=>(const Duration&) const = default;
};

// Parses "45wd", "28d", "2w", "3m" (also "45 working days", "28 days", "2 weeks", "3 months",
// singular or plural). "45 fortnights" gives a Problem whose message names the accepted units.
Result<Duration> parse_duration(std::string_view text);

// The due date of `limit` counted from `start` (DESIGN.md "Working days"):
//   wd: the N-th working day after the start, calendar.add_working_days(start, N) (statute);
//       with count_start_day (the DfE validators' reading) the start is day 1:
//       add_working_days(start, N - 1);
//   d: start + N; w: start + 7N; m: add_months(start, N).
Date due_date(Date start, Duration limit, const Calendar& calendar, bool count_start_day = false);

// Whether a record of `limit` ending on `end` met its due date `due`. For a working-day limit
// the count of working days elapsed at the end decides, so an end on a weekend or bank holiday
// right after the due date is still in time (it is the same count as the working day before);
// other limits compare dates: end <= due.
bool in_time(Date end, Date due, Duration limit, const Calendar& calendar);

}  // namespace rules

#endif  // CASEWATCH_RULES_CALENDAR_H_
