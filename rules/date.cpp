#include "rules/date.h"

#include <array>
#include <cstdio>

#include "rules/civil.h"

namespace rules {
namespace {

using civil::civil_from_days;
using civil::days_from_civil;
using civil::days_in_month;
using civil::Ymd;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads between `min` and `max` digits at text[pos]; advances pos. -1 when fewer than min.
int read_number(std::string_view text, std::size_t& pos, int min, int max) {
  int value = 0;
  int n = 0;
  while (pos < text.size() && n < max && is_digit(text[pos])) {
    value = value * 10 + (text[pos] - '0');
    ++pos;
    ++n;
  }
  return n < min ? -1 : value;
}

// A trailing time after a date: "T00:00:00", " 00:00", " 00:00:00.000", "T00:00:00Z".
bool is_trailing_time(std::string_view rest) {
  if (rest.empty()) {
    return true;
  }
  if (rest[0] != 'T' && rest[0] != ' ') {
    return false;
  }
  rest.remove_prefix(1);
  std::size_t pos = 0;
  if (read_number(rest, pos, 1, 2) < 0) {
    return false;
  }
  while (pos < rest.size()) {
    const char c = rest[pos];
    if (!is_digit(c) && c != ':' && c != '.' && c != 'Z' && c != '+' && c != '-') {
      return false;
    }
    ++pos;
  }
  return true;
}

}  // namespace

std::optional<Date> Date::from_ymd(int y, int m, int d) {
  if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) {
    return std::nullopt;
  }
  return Date(days_from_civil(y, m, d));
}

std::optional<Date> Date::parse_iso(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') {
    return std::nullopt;
  }
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!is_digit(text[i])) {
      return std::nullopt;
    }
  }
  const auto num = [&](std::size_t at, std::size_t n) {
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      v = v * 10 + (text[i] - '0');
    }
    return v;
  };
  return from_ymd(num(0, 4), num(5, 2), num(8, 2));
}

int Date::year() const { return civil_from_days(days_).y; }
int Date::month() const { return civil_from_days(days_).m; }
int Date::day() const { return civil_from_days(days_).d; }

int Date::weekday() const {
  // 1970-01-01 was a Thursday (ISO 4).
  const int w = ((days_ % 7) + 7 + 3) % 7;  // 0 = Monday
  return w + 1;
}

std::string Date::iso() const {
  const Ymd c = civil_from_days(days_);
  if (c.y < 0 || c.y > 9999) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02d", c.y, c.m, c.d);
    return buffer;
  }
  // Written by hand: snprintf was a hot spot when many findings are produced.
  std::string text(10, '-');
  const auto put = [&](std::size_t at, int value, int width) {
    for (int i = width - 1; i >= 0; --i) {
      text[at + static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
      value /= 10;
    }
  };
  put(0, c.y, 4);
  put(5, c.m, 2);
  put(8, c.d, 2);
  return text;
}

Date add_months(Date date, int months) {
  const Ymd c = civil_from_days(date.days());
  const int total = c.y * 12 + (c.m - 1) + months;
  const int y = total / 12;
  const int m = total % 12 + 1;
  const int d = std::min(c.d, days_in_month(y, m));
  return Date::from_days(days_from_civil(y, m, d));
}

Date IsoWeek::monday() const {
  // Week 1 contains 4 January.
  const Date jan4 = *Date::from_ymd(year, 1, 4);
  const Date week1_monday = jan4 - (jan4.weekday() - 1);
  return week1_monday + 7 * (week - 1);
}

std::string IsoWeek::str() const {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%04d-W%02d", year, week);
  return buffer;
}

IsoWeek iso_week(Date date) {
  const Date thursday = date + (4 - date.weekday());
  const int year = thursday.year();
  const Date jan1 = *Date::from_ymd(year, 1, 1);
  return IsoWeek{year, (thursday - jan1) / 7 + 1};
}

std::optional<IsoWeek> parse_iso_week(std::string_view text) {
  std::size_t pos = 0;
  const int year = read_number(text, pos, 4, 4);
  if (year < 1) {
    return std::nullopt;
  }
  if (pos < text.size() && text[pos] == '-') {
    ++pos;
  }
  if (pos >= text.size() || (text[pos] != 'W' && text[pos] != 'w')) {
    return std::nullopt;
  }
  ++pos;
  const int week = read_number(text, pos, 2, 2);
  if (week < 1 || pos != text.size()) {
    return std::nullopt;
  }
  const IsoWeek candidate{year, week};
  if (iso_week(candidate.monday()) != candidate) {
    return std::nullopt;
  }
  return candidate;
}

Date financial_year_start(Date date) {
  const int year = date.month() >= 4 ? date.year() : date.year() - 1;
  return *Date::from_ymd(year, 4, 1);
}

std::optional<Date> parse_date(std::string_view text, std::string_view format) {
  // Surrounding spaces are not part of a date.
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  int y = -1;
  int m = -1;
  int d = -1;
  bool has_time = false;
  std::size_t pos = 0;
  for (std::size_t f = 0; f < format.size(); ++f) {
    if (format[f] == '%' && f + 1 < format.size()) {
      const char spec = format[++f];
      switch (spec) {
        case 'Y':
          y = read_number(text, pos, 4, 4);
          if (y < 0) {
            return std::nullopt;
          }
          break;
        case 'm':
          m = read_number(text, pos, 1, 2);
          if (m < 0) {
            return std::nullopt;
          }
          break;
        case 'd':
          d = read_number(text, pos, 1, 2);
          if (d < 0) {
            return std::nullopt;
          }
          break;
        case 'H':
        case 'M':
        case 'S':
          has_time = true;
          if (read_number(text, pos, 1, 2) < 0) {
            return std::nullopt;
          }
          break;
        case '%':
          if (pos >= text.size() || text[pos] != '%') {
            return std::nullopt;
          }
          ++pos;
          break;
        default:
          return std::nullopt;
      }
    } else {
      if (pos >= text.size() || text[pos] != format[f]) {
        return std::nullopt;
      }
      ++pos;
    }
  }
  // A four-digit year must not be followed by more digits ("20211" is not a year).
  if (pos < text.size() && is_digit(text[pos])) {
    return std::nullopt;
  }
  if (pos != text.size() && (has_time || !is_trailing_time(text.substr(pos)))) {
    return std::nullopt;
  }
  if (y < 0 || m < 0 || d < 0) {
    return std::nullopt;
  }
  return Date::from_ymd(y, m, d);
}

std::optional<Date> parse_date_any(std::string_view text, const std::vector<std::string>& formats) {
  for (const auto& format : formats) {
    if (auto date = parse_date(text, format)) {
      return date;
    }
  }
  return std::nullopt;
}

}  // namespace rules
