// load_calendar: the shipped bank holiday file plus the config's extra closure days.
#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "config/config.h"

namespace config {
namespace {

std::filesystem::path default_holidays_file() {
  const std::filesystem::path installed =
      std::filesystem::path(CASEWATCH_DATA_DIR) / "bank-holidays-england-and-wales.csv";
  std::error_code ignored;
  if (std::filesystem::exists(installed, ignored)) return installed;
  return std::filesystem::path(CASEWATCH_SOURCE_DATA_DIR) / "bank-holidays-england-and-wales.csv";
}

}  // namespace

rules::Calendar load_calendar(const Config& config) {
  const std::filesystem::path file =
      config.service.holidays_file.empty() ? default_holidays_file() : config.service.holidays_file;
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    throw ConfigError({fmt::format("{}: cannot read the bank holiday file: {}", file.string(),
                                   std::strerror(errno))});
  }
  std::ostringstream text;
  text << in.rdbuf();
  auto holidays = rules::parse_holidays(text.str());
  if (!holidays) {
    throw ConfigError(
        {fmt::format("{}:{}: {}", file.string(), holidays.error().line, holidays.error().message)});
  }
  if (holidays->empty()) {
    throw ConfigError({fmt::format("{}: the bank holiday file lists no days", file.string())});
  }
  std::vector<rules::Holiday> closures = std::move(*holidays);
  closures.insert(closures.end(), config.calendar.extra_closures.begin(),
                  config.calendar.extra_closures.end());
  return rules::Calendar(std::move(closures));
}

}  // namespace config
