#include "daemon/journal.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <memory>
#include <sstream>
#include <string>

#include "tests/support/temp_dir.h"

namespace {

// "device:inode" of an open file, as systemd writes JOURNAL_STREAM.
std::string device_inode(int fd) {
  struct stat st {};
  REQUIRE(::fstat(fd, &st) == 0);
  return fmt::format("{}:{}", static_cast<unsigned long long>(st.st_dev),
                     static_cast<unsigned long long>(st.st_ino));
}

// What `logger` writes for one line at each level, through log_formatter(journal).
std::string lines_at_each_level(bool journal) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_st>(out);
  spdlog::logger logger("test", sink);
  logger.set_formatter(service::log_formatter("casewatchd", journal));
  logger.set_level(spdlog::level::trace);
  logger.error("cannot open {}", "casewatch.db");
  logger.warn("cases_2026-11-23.csv rejected");
  logger.info("ready");
  logger.debug("detail");
  return out.str();
}

}  // namespace

TEST_CASE("stderr is the journal only when JOURNAL_STREAM names its device and inode",
          "[daemon][journal]") {
  test_support::TempDir dir;
  const auto path = dir.path() / "stream";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  REQUIRE(fd >= 0);
  const int other = ::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  REQUIRE(other >= 0);
  const std::string mine = device_inode(fd);

  CHECK(service::stream_is_journal(mine.c_str(), fd));
  CHECK_FALSE(service::stream_is_journal(mine.c_str(), other));
  CHECK_FALSE(service::stream_is_journal(device_inode(other).c_str(), fd));
  CHECK_FALSE(service::stream_is_journal(nullptr, fd));
  CHECK_FALSE(service::stream_is_journal("", fd));
  CHECK_FALSE(service::stream_is_journal("12", fd));
  CHECK_FALSE(service::stream_is_journal("12:x", fd));
  CHECK_FALSE(service::stream_is_journal((mine + "0").c_str(), fd));
  ::close(other);
  ::close(fd);
  CHECK_FALSE(service::stream_is_journal(mine.c_str(), fd));  // closed
}

TEST_CASE("log levels map to syslog priorities", "[daemon][journal]") {
  auto [level, priority] = GENERATE(table<spdlog::level::level_enum, int>({
      {spdlog::level::critical, 2},
      {spdlog::level::err, 3},
      {spdlog::level::warn, 4},
      {spdlog::level::info, 6},
      {spdlog::level::debug, 7},
      {spdlog::level::trace, 7},
  }));
  CAPTURE(level);
  CHECK(service::syslog_priority(level) == priority);
}

TEST_CASE("journal lines start with their priority; other lines are plain", "[daemon][journal]") {
  CHECK(lines_at_each_level(true) ==
        "<3>casewatchd: error: cannot open casewatch.db\n"
        "<4>casewatchd: warning: cases_2026-11-23.csv rejected\n"
        "<6>casewatchd: info: ready\n"
        "<7>casewatchd: debug: detail\n");
  CHECK(lines_at_each_level(false) ==
        "casewatchd: error: cannot open casewatch.db\n"
        "casewatchd: warning: cases_2026-11-23.csv rejected\n"
        "casewatchd: info: ready\n"
        "casewatchd: debug: detail\n");
}

TEST_CASE("errors main prints get the error priority on every line", "[daemon][journal]") {
  CHECK(service::error_lines("a.toml:3: bad\na.toml:9: worse", true) ==
        "<3>a.toml:3: bad\n<3>a.toml:9: worse\n");
  CHECK(service::error_lines("a.toml:3: bad\n", false) == "a.toml:3: bad\n");
}
