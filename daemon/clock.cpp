#include "daemon/clock.h"

#include <date/date.h>
#include <date/tz.h>

#include <sstream>

namespace service {

SysSeconds now_utc() {
  return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

std::string utc_text(SysSeconds instant) { return date::format("%Y-%m-%dT%H:%M:%SZ", instant); }

std::optional<SysSeconds> parse_utc(std::string_view text) {
  std::istringstream in{std::string(text)};
  SysSeconds out;
  in >> date::parse("%Y-%m-%dT%H:%M:%SZ", out);
  if (in.fail()) return std::nullopt;
  return out;
}

rules::Date local_date(SysSeconds instant, const date::time_zone* zone) {
  const date::local_seconds local = zone->to_local(instant);
  const auto day = date::floor<date::days>(local);
  return rules::Date::from_days(static_cast<std::int32_t>(day.time_since_epoch().count()));
}

std::string local_time_text(SysSeconds instant, const date::time_zone* zone) {
  return date::format("%Y-%m-%d %H:%M %Z",
                      date::make_zoned(zone, std::chrono::floor<std::chrono::minutes>(instant)));
}

}  // namespace service
