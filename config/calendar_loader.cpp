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
  std::filesystem::path installed =
      std::filesystem::path(CASEWATCH_DATA_DIR) / "bank-holidays-england-and-wales.csv";
  std::error_code ignored;
  if (std::filesystem::exists(installed, ignored)) {
    return installed;
  }
  return std::filesystem::path(CASEWATCH_SOURCE_DATA_DIR) / "bank-holidays-england-and-wales.csv";
}

}  // namespace

std::filesystem::path holidays_file_in_use(const Config& config) {
  return config.service.holidays_file.empty() ? default_holidays_file()
                                              : config.service.holidays_file;
}

std::vector<std::string> restart_needed(const Config& old, const Config& next) {
  const auto& a = old.service;
  const auto& b = next.service;
  std::vector<std::string> out;
  if (a.state_dir != b.state_dir) {
    out.emplace_back("service.state_dir");
  }
  if (a.socket != b.socket) {
    out.emplace_back("service.socket");
  }
  if (a.socket_group != b.socket_group) {
    out.emplace_back("service.socket_group");
  }
  if (a.idle_timeout != b.idle_timeout) {
    out.emplace_back("service.idle_timeout");
  }
  if (a.max_connections != b.max_connections) {
    out.emplace_back("service.max_connections");
  }
  if (old.metrics.address != next.metrics.address || old.metrics.port != next.metrics.port) {
    out.emplace_back("metrics.listen");
  }
  return out;
}

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
