// Howard Hinnant's civil-calendar algorithms (public domain descriptions), days since
// 1970-01-01, and the ISO date text shared by Date and the evaluation fast path. Internal to
// rules/: not in rules.h.
#ifndef CASEWATCH_RULES_CIVIL_H_
#define CASEWATCH_RULES_CIVIL_H_

#include <array>
#include <cstdint>
#include <string_view>

namespace rules::civil {

constexpr std::int32_t days_from_civil(int y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

struct Ymd {
  int y;
  int m;
  int d;
};

constexpr Ymd civil_from_days(std::int32_t z) {
  z += 719468;
  const int era = (z >= 0 ? z : z - 146096) / 146097;
  const int doe = z - era * 146097;
  const int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int y = yoe + era * 400;
  const int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int mp = (5 * doy + 2) / 153;
  const int d = doy - (153 * mp + 2) / 5 + 1;
  const int m = mp < 10 ? mp + 3 : mp - 9;
  return {m <= 2 ? y + 1 : y, m, d};
}

constexpr bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

constexpr int days_in_month(int y, int m) {
  constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[static_cast<std::size_t>(m - 1)];
}

// Exactly Date::parse_iso ("YYYY-MM-DD", a real date, year 1 to 9999) without building an
// optional or looping over an index list: sets `days` and returns true, or returns false.
inline bool parse_iso_days(std::string_view text, std::int32_t& days) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') {
    return false;
  }
  const auto digit = [&](std::size_t i) {
    return static_cast<unsigned>(static_cast<unsigned char>(text[i])) - unsigned{'0'};
  };
  const unsigned y0 = digit(0), y1 = digit(1), y2 = digit(2), y3 = digit(3);
  const unsigned m0 = digit(5), m1 = digit(6), d0 = digit(8), d1 = digit(9);
  if (y0 > 9 || y1 > 9 || y2 > 9 || y3 > 9 || m0 > 9 || m1 > 9 || d0 > 9 || d1 > 9) {
    return false;
  }
  const int y = static_cast<int>(y0 * 1000 + y1 * 100 + y2 * 10 + y3);
  const int m = static_cast<int>(m0 * 10 + m1);
  const int d = static_cast<int>(d0 * 10 + d1);
  if (y < 1 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) {
    return false;
  }
  days = days_from_civil(y, m, d);
  return true;
}

}  // namespace rules::civil

#endif  // CASEWATCH_RULES_CIVIL_H_
