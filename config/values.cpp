// The value readers every section shares: paths, durations, dates, times of day.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string_view>
#include <utility>

#include "config/readers.h"

namespace config::detail {
namespace {

bool two_digits(std::string_view text, int max, int& value) {
  if (text.size() != 2 || text[0] < '0' || text[0] > '9' || text[1] < '0' || text[1] > '9') {
    return false;
  }
  value = (text[0] - '0') * 10 + (text[1] - '0');
  return value <= max;
}

}  // namespace

fs::path resolve(const fs::path& base, const std::string& text) {
  const fs::path path(text);
  if (path.is_absolute()) {
    return path.lexically_normal();
  }
  return (base / path).lexically_normal();
}

// ---- durations, dates, times ----------------------------------------------------------------

// A rules duration ("45wd", "28d", "2w", "3m").
std::optional<rules::Duration> rule_duration(Table& t, const Value& v, const std::string& key) {
  if (!v.is_string()) {
    return t.type_error(v, key, "a duration such as \"45wd\"");
  }
  auto parsed = rules::parse_duration(v.as_string().str);
  if (!parsed) {
    t.error(v, parsed.error().message);
    return std::nullopt;
  }
  // Bounded so that due dates stay far inside the calendar's range: a century is plenty for
  // any statutory timescale.
  const auto [limit, words] = [&]() -> std::pair<int, const char*> {
    switch (parsed->unit) {
      case rules::Unit::kWorkingDays:
        return {26100, "26100wd"};
      case rules::Unit::kDays:
        return {36525, "36525d"};
      case rules::Unit::kWeeks:
        return {5218, "5218w"};
      case rules::Unit::kMonths:
        return {1200, "1200m"};
    }
    return {0, ""};
  }();
  if (parsed->amount > limit) {
    t.error(v, fmt::format("duration '{}' in '{}' is too long: at most {} (100 years)",
                           v.as_string().str, key, words));
    return std::nullopt;
  }
  return *parsed;
}

std::optional<rules::Duration> rule_duration(Table& t, const std::string& key, bool required) {
  const Value* v = t.find(key, required);
  if (v == nullptr) {
    return std::nullopt;
  }
  return rule_duration(t, *v, key);
}

// The longest service duration: a year (a settle time, timeout or alert age beyond it is a
// typo, and a bound keeps every later sum of times far from overflowing).
constexpr std::int64_t kMaxServiceSeconds = std::int64_t{366} * 86400;

// A service duration: integer seconds or "10s", "5m", "2h", "1d", at most kMaxServiceSeconds.
std::optional<std::chrono::seconds> seconds_duration(Table& t, const std::string& key) {
  const Value* v = t.find(key);
  if (v == nullptr) {
    return std::nullopt;
  }
  const auto too_long = [&] {
    t.error(*v,
            fmt::format("'{}' is too long: at most 366d ({} seconds)", key, kMaxServiceSeconds));
    return std::nullopt;
  };
  if (v->is_integer()) {
    if (v->as_integer() < 0) {
      t.error(*v, fmt::format("'{}' must not be negative", key));
      return std::nullopt;
    }
    if (v->as_integer() > kMaxServiceSeconds) {
      return too_long();
    }
    return std::chrono::seconds(v->as_integer());
  }
  if (!v->is_string()) {
    return t.type_error(*v, key, "a duration such as \"10s\" or \"2h\"");
  }
  const std::string& text = v->as_string().str;
  std::int64_t amount = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), amount);
  const std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
  static const std::map<std::string_view, std::int64_t> kUnits = {
      {"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}};
  const auto it = kUnits.find(unit);
  if (ec != std::errc() || end == text.data() || amount < 0 || it == kUnits.end()) {
    t.error(*v, fmt::format("bad duration '{}': expected a number of seconds, or a number and a "
                            "unit: s (seconds), m (minutes), h (hours) or d (days)",
                            text));
    return std::nullopt;
  }
  if (amount > kMaxServiceSeconds / it->second) {
    return too_long();
  }
  return std::chrono::seconds(amount * it->second);
}

// A service duration that must be whole hours ("26h", "2d").
std::optional<std::chrono::hours> hours_duration(Table& t, const std::string& key) {
  const auto seconds = seconds_duration(t, key);
  if (!seconds) {
    return std::nullopt;
  }
  if (seconds->count() % 3600 != 0) {
    t.error(*t.find(key), fmt::format("'{}' must be a whole number of hours", key));
    return std::nullopt;
  }
  return std::chrono::duration_cast<std::chrono::hours>(*seconds);
}

// A date: a TOML date, or a string in ISO form or one of `formats`.
std::optional<rules::Date> date_value(Table& t, const Value& v, const std::string& key,
                                      const std::vector<std::string>& formats) {
  if (v.is_local_date()) {
    const auto& d = v.as_local_date();
    if (auto date = rules::Date::from_ymd(d.year, d.month + 1, d.day)) {
      return date;
    }
  } else if (v.is_string()) {
    const std::string& text = v.as_string().str;
    if (auto date = rules::Date::parse_iso(text)) {
      return date;
    }
    if (auto date = rules::parse_date_any(text, formats)) {
      return date;
    }
  } else {
    t.error(v, fmt::format("each item of '{}' must be a date, got {}", key, type_name(v)));
    return std::nullopt;
  }
  std::vector<std::string> accepted = {"YYYY-MM-DD"};
  for (const auto& format : formats) {
    if (format != "%Y-%m-%d") {
      accepted.push_back(format);
    }
  }
  const std::string text = v.is_string() ? v.as_string().str : toml::format(v);
  t.error(v, fmt::format("bad date '{}' in '{}': expected {}", text, key, join(accepted, " or ")));
  return std::nullopt;
}

std::optional<rules::Date> date_value(Table& t, const std::string& key, bool required,
                                      const std::vector<std::string>& formats) {
  const Value* v = t.find(key, required);
  if (v == nullptr) {
    return std::nullopt;
  }
  return date_value(t, *v, key, formats);
}

std::optional<std::vector<rules::Date>> dates(Table& t, const std::string& key,
                                              const std::vector<std::string>& formats) {
  const Value* v = t.find(key);
  if (v == nullptr) {
    return std::nullopt;
  }
  if (!v->is_array()) {
    return t.type_error(*v, key, "an array of dates");
  }
  std::vector<rules::Date> out;
  for (const auto& item : v->as_array()) {
    if (auto date = date_value(t, item, key, formats)) {
      out.push_back(*date);
    }
  }
  return out;
}

// "HH:MM" -> a time of day: the one parser of times in the configuration.
std::optional<TimeOfDay> parse_hh_mm(std::string_view text) {
  int hour = 0;
  int minute = 0;
  if (text.size() != 5 || text[2] != ':' || !two_digits(text.substr(0, 2), 23, hour) ||
      !two_digits(text.substr(3), 59, minute)) {
    return std::nullopt;
  }
  return TimeOfDay{hour, minute};
}

}  // namespace config::detail
