#include "rules/calendar.h"

#include <algorithm>
#include <charconv>

namespace rules {
namespace {

// Day numbers shifted so that 0 is a Monday long before any date we handle (1970-01-01 is a
// Thursday, so Monday 1969-12-29 is day -3), keeping divisions non-negative.
constexpr std::int64_t kMondayOffset = 3 + 7 * 1'000'000LL;

// Weekdays (Monday to Friday) d with base <= d < `day` where base is the shifted Monday 0.
std::int64_t weekdays_before(std::int32_t day) {
  const std::int64_t x = day + kMondayOffset;
  return (x / 7) * 5 + std::min<std::int64_t>(x % 7, 5);
}

// The date of the weekday with 0-based index `index` counted as in weekdays_before.
std::int32_t weekday_at(std::int64_t index) {
  const std::int64_t x = (index / 5) * 7 + index % 5;
  return static_cast<std::int32_t>(x - kMondayOffset);
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t' || text.front() == '\r')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

}  // namespace

Result<std::vector<Holiday>> parse_holidays(std::string_view text) {
  std::vector<Holiday> holidays;
  std::size_t line_number = 0;
  bool header_seen = false;
  while (!text.empty()) {
    const std::size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    ++line_number;
    if (line_number == 1 && line.substr(0, 3) == "\xEF\xBB\xBF") {
      line.remove_prefix(3);
    }
    line = trim(line);
    if (line.empty() || line.front() == '#') {
      continue;
    }
    if (!header_seen && lower(line) == "date,title") {
      header_seen = true;
      continue;
    }
    const std::size_t comma = line.find(',');
    const std::string_view date_text = trim(line.substr(0, comma));
    const auto date = Date::parse_iso(date_text);
    if (!date) {
      return fail("expected a date as YYYY-MM-DD, got '" + std::string(date_text) + "'",
                  line_number, "date");
    }
    const std::string_view title =
        comma == std::string_view::npos ? std::string_view() : trim(line.substr(comma + 1));
    holidays.push_back(Holiday{*date, std::string(title)});
  }
  return holidays;
}

Calendar::Calendar(std::vector<Holiday> closures) : closures_(std::move(closures)) {
  std::stable_sort(closures_.begin(), closures_.end(),
                   [](const Holiday& a, const Holiday& b) { return a.date < b.date; });
  closures_.erase(std::unique(closures_.begin(), closures_.end(),
                              [](const Holiday& a, const Holiday& b) { return a.date == b.date; }),
                  closures_.end());
  for (const auto& holiday : closures_) {
    if (!holiday.date.is_weekend()) {
      weekday_closures_.push_back(holiday.date.days());
    }
  }
}

bool Calendar::is_working_day(Date d) const {
  return !d.is_weekend() &&
         !std::binary_search(weekday_closures_.begin(), weekday_closures_.end(), d.days());
}

Date Calendar::roll_forward(Date d) const {
  while (!is_working_day(d)) {
    d = d + 1;
  }
  return d;
}

Date Calendar::roll_backward(Date d) const {
  while (!is_working_day(d)) {
    d = d - 1;
  }
  return d;
}

std::int64_t Calendar::working_days_before(std::int32_t day) const {
  const auto closed = std::lower_bound(weekday_closures_.begin(), weekday_closures_.end(), day) -
                      weekday_closures_.begin();
  return weekdays_before(day) - closed;
}

int Calendar::working_days(Date a, Date b) const {
  if (b <= a) {
    return 0;
  }
  return static_cast<int>(working_days_before(b.days()) - working_days_before(a.days()));
}

Date Calendar::add_working_days(Date start, int n) const {
  const Date first = roll_backward(start);
  // The wanted day is the working day with index k (working days before it, counted from the
  // base). It is the (k + c)-th weekday, c being the weekday closures on or before it: iterate
  // to that fixed point (c only grows, by the closures in the newly covered stretch).
  const std::int64_t k = working_days_before(first.days()) + n;
  std::int64_t closed =
      n >= 0 ? std::upper_bound(weekday_closures_.begin(), weekday_closures_.end(), first.days()) -
                   weekday_closures_.begin()
             : 0;
  while (true) {
    const std::int32_t day = weekday_at(k + closed);
    const std::int64_t closed_now =
        std::upper_bound(weekday_closures_.begin(), weekday_closures_.end(), day) -
        weekday_closures_.begin();
    if (closed_now == closed) {
      return Date::from_days(day);
    }
    closed = closed_now;
  }
}

std::optional<Date> Calendar::last_listed() const {
  if (closures_.empty()) {
    return std::nullopt;
  }
  return closures_.back().date;
}

std::string Duration::str() const {
  switch (unit) {
    case Unit::kWorkingDays:
      return std::to_string(amount) + "wd";
    case Unit::kDays:
      return std::to_string(amount) + "d";
    case Unit::kWeeks:
      return std::to_string(amount) + "w";
    case Unit::kMonths:
      return std::to_string(amount) + "m";
  }
  return std::to_string(amount) + "?";
}

Result<Duration> parse_duration(std::string_view text) {
  const std::string_view trimmed = trim(text);
  const auto bad = [&] {
    return fail("bad duration '" + std::string(trimmed) +
                "': expected a number and a unit: wd (working days), d (days), w (weeks) or m "
                "(months)");
  };
  int amount = 0;
  const auto [end, ec] = std::from_chars(trimmed.data(), trimmed.data() + trimmed.size(), amount);
  if (ec != std::errc() || amount < 0) {
    return bad();
  }
  const std::string unit =
      lower(trim(std::string_view(end, trimmed.data() + trimmed.size() - end)));
  struct Name {
    std::string_view name;
    Unit unit;
  };
  static constexpr Name kNames[] = {
      {"wd", Unit::kWorkingDays},
      {"working day", Unit::kWorkingDays},
      {"working days", Unit::kWorkingDays},
      {"d", Unit::kDays},
      {"day", Unit::kDays},
      {"days", Unit::kDays},
      {"w", Unit::kWeeks},
      {"week", Unit::kWeeks},
      {"weeks", Unit::kWeeks},
      {"m", Unit::kMonths},
      {"month", Unit::kMonths},
      {"months", Unit::kMonths},
  };
  for (const auto& name : kNames) {
    if (unit == name.name) {
      return Duration{amount, name.unit};
    }
  }
  return bad();
}

Date due_date(Date start, Duration limit, const Calendar& calendar, bool count_start_day) {
  switch (limit.unit) {
    case Unit::kWorkingDays:
      return calendar.add_working_days(start, limit.amount - (count_start_day ? 1 : 0));
    case Unit::kDays:
      return start + limit.amount;
    case Unit::kWeeks:
      return start + 7 * limit.amount;
    case Unit::kMonths:
      return add_months(start, limit.amount);
  }
  return start;
}

bool in_time(Date end, Date due, Duration limit, const Calendar& calendar) {
  if (limit.unit == Unit::kWorkingDays) {
    return calendar.roll_backward(end) <= due;
  }
  return end <= due;
}

}  // namespace rules
