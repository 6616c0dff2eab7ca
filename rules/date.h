// Calendar dates, ISO weeks and date parsing. Part of the pure core: no I/O, no clock.
#ifndef CASEWATCH_RULES_DATE_H_
#define CASEWATCH_RULES_DATE_H_

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rules {

// A proleptic Gregorian calendar date, stored as days since 1970-01-01.
// A value type: cheap to copy, totally ordered.
class Date {
 public:
  constexpr Date() = default;  // 1970-01-01
  static constexpr Date from_days(std::int32_t days) { return Date(days); }
  // Returns nullopt when (y, m, d) is not a real date (31 Feb, month 13, year < 1 or > 9999).
  static std::optional<Date> from_ymd(int y, int m, int d);
  // Parses exactly "YYYY-MM-DD"; nullopt for anything else.
  static std::optional<Date> parse_iso(std::string_view text);

  constexpr std::int32_t days() const { return days_; }
  int year() const;
  int month() const;    // 1..12
  int day() const;      // 1..31
  int weekday() const;  // ISO: 1 = Monday … 7 = Sunday
  bool is_weekend() const { return weekday() >= 6; }
  std::string iso() const;  // "YYYY-MM-DD"

  constexpr Date operator+(int n) const { return Date(days_ + n); }
  constexpr Date operator-(int n) const { return Date(days_ - n); }
  constexpr int operator-(Date other) const { return days_ - other.days_; }
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads a defaulted <=>
  constexpr auto operator<=>(const Date&) const = default;

 private:
  constexpr explicit Date(std::int32_t days) : days_(days) {}
  std::int32_t days_ = 0;
};

// Adds calendar months, clamping to the month's end: 31 Jan + 1 = 28 or 29 Feb.
Date add_months(Date date, int months);

// An ISO 8601 week, e.g. 2026-W47 (Monday 16 Nov 2026 … Sunday 22 Nov 2026).
struct IsoWeek {
  int year = 0;  // the ISO week-numbering year
  int week = 0;  // 1..53
  Date monday() const;
  Date sunday() const { return monday() + 6; }
  std::string str() const;  // "2026-W47"
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads a defaulted <=>
  auto operator<=>(const IsoWeek&) const = default;
};
IsoWeek iso_week(Date date);
// Parses "2026-W47" (or "2026W47"); nullopt when malformed or the week does not exist.
std::optional<IsoWeek> parse_iso_week(std::string_view text);

// The first day of the financial year (1 April) that contains `date`.
Date financial_year_start(Date date);

// Parses `text` with a strftime-like `format` made of %d, %m, %Y (four digits, always), %H, %M,
// %S and literal characters. Single-digit days and months are accepted ("4/1/2021").
// A trailing time ("T00:00:00", " 00:00", " 00:00:00.000") is accepted after a date-only format.
// Two-digit years never parse. Returns nullopt when the text does not match or the date is not
// real.
std::optional<Date> parse_date(std::string_view text, std::string_view format);

// Tries each format in order; the first match wins.
std::optional<Date> parse_date_any(std::string_view text, const std::vector<std::string>& formats);

}  // namespace rules

#endif  // CASEWATCH_RULES_DATE_H_
