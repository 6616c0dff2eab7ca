#include "daemon/clock.h"

#include <date/date.h>
#include <date/tz.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

namespace service {
namespace {

// Set once at start-up, before any other thread (use_test_clock); empty: the wall clock.
std::string test_clock_file;  // NOLINT(cert-err58-cpp): a plain string, set once

// The test clock's time at `wall`, or nullopt when its file cannot be read or parsed.
std::optional<SysSeconds> test_clock(std::chrono::system_clock::time_point wall) {
  struct stat info {};
  if (::stat(test_clock_file.c_str(), &info) != 0) {
    return std::nullopt;
  }
  std::ifstream in(test_clock_file);
  std::string text;
  if (!std::getline(in, text)) {
    return std::nullopt;
  }
  const auto set = parse_utc(text);
  if (!set) {
    return std::nullopt;
  }
  const auto written = std::chrono::system_clock::time_point(
      std::chrono::seconds(info.st_mtim.tv_sec) + std::chrono::nanoseconds(info.st_mtim.tv_nsec));
  return std::chrono::floor<std::chrono::seconds>(*set + (wall - written));
}

}  // namespace

SysSeconds now_utc() {
  const auto wall = std::chrono::system_clock::now();
  if (!test_clock_file.empty()) {
    if (const auto test = test_clock(wall)) {
      return *test;
    }
  }
  return std::chrono::floor<std::chrono::seconds>(wall);
}

void use_test_clock(std::string file) { test_clock_file = std::move(file); }

std::string utc_text(SysSeconds instant) { return date::format("%Y-%m-%dT%H:%M:%SZ", instant); }

std::optional<SysSeconds> parse_utc(std::string_view text) {
  std::istringstream in{std::string(text)};
  SysSeconds out;
  in >> date::parse("%Y-%m-%dT%H:%M:%SZ", out);
  if (in.fail()) {
    return std::nullopt;
  }
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
