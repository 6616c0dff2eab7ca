#include "daemon/journal.h"

#include <fmt/format.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstdint>
#include <cstdlib>

namespace service {
namespace {

// The "%*" flag: "<N>", the line's syslog priority.
class PriorityFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm& /*time*/,
              spdlog::memory_buf_t& dest) override {
    const std::string prefix = fmt::format("<{}>", syslog_priority(msg.level));
    dest.append(prefix.data(), prefix.data() + prefix.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<PriorityFlag>();
  }
};

bool parse_number(std::string_view text, std::uintmax_t& value) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

}  // namespace

bool stream_is_journal(const char* journal_stream, int fd) noexcept {
  if (journal_stream == nullptr) {
    return false;
  }
  const std::string_view text(journal_stream);
  const auto colon = text.find(':');
  std::uintmax_t device = 0;
  std::uintmax_t inode = 0;
  if (colon == std::string_view::npos || !parse_number(text.substr(0, colon), device) ||
      !parse_number(text.substr(colon + 1), inode)) {
    return false;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return false;
  }
  return static_cast<std::uintmax_t>(st.st_dev) == device &&
         static_cast<std::uintmax_t>(st.st_ino) == inode;
}

int syslog_priority(spdlog::level::level_enum level) noexcept {
  switch (level) {
    case spdlog::level::critical:
      return 2;
    case spdlog::level::err:
      return 3;
    case spdlog::level::warn:
      return 4;
    case spdlog::level::info:
      return 6;
    default:
      return 7;
  }
}

std::unique_ptr<spdlog::formatter> log_formatter(std::string_view program, bool journal) {
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<PriorityFlag>('*');
  formatter->set_pattern(fmt::format("{}{}: %l: %v", journal ? "%*" : "", program));
  return formatter;
}

bool log_to_stderr(std::string_view program) {
  const bool journal = stream_is_journal(std::getenv("JOURNAL_STREAM"), STDERR_FILENO);
  auto logger = spdlog::stderr_logger_mt(std::string(program));
  logger->set_formatter(log_formatter(program, journal));
  spdlog::set_default_logger(std::move(logger));
  return journal;
}

std::string error_lines(std::string_view message, bool journal) {
  std::string out;
  while (!message.empty()) {
    const auto end = message.find('\n');
    const std::string_view line = message.substr(0, end);
    if (journal) {
      out += "<3>";
    }
    out.append(line);
    out += '\n';
    if (end == std::string_view::npos) {
      break;
    }
    message.remove_prefix(end + 1);
  }
  return out;
}

}  // namespace service
