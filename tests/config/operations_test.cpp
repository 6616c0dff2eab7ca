#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "config/config.h"

namespace {

const char* const kFile = "/etc/casewatch/casewatch.toml";

std::vector<std::string> problems(const std::string& text) {
  try {
    config::parse_config(text, kFile);
  } catch (const config::ConfigError& e) {
    return e.messages();
  }
  return {};
}

}  // namespace

TEST_CASE("metrics over HTTP are off and retention keeps 90 days of extracts by default",
          "[config][metrics][retention]") {
  const auto config = config::parse_config("", kFile);
  CHECK_FALSE(config.metrics.enabled());
  CHECK(config.retention.archive_days == 90);
  CHECK(config.retention.history_years == 0);
}

TEST_CASE("[metrics] listen takes an IPv4 or bracketed IPv6 address and a port",
          "[config][metrics]") {
  auto [listen, address, port] = GENERATE(table<std::string, std::string, int>({
      {"127.0.0.1:9464", "127.0.0.1", 9464},
      {"0.0.0.0:80", "0.0.0.0", 80},
      {"[::1]:9464", "::1", 9464},
  }));
  CAPTURE(listen);
  const auto config = config::parse_config("[metrics]\nlisten = \"" + listen + "\"\n", kFile);
  CHECK(config.metrics.enabled());
  CHECK(config.metrics.address == address);
  CHECK(config.metrics.port == port);
}

TEST_CASE("a bad [metrics] listen is an error naming its line", "[config][metrics]") {
  auto listen = GENERATE(as<std::string>{}, "localhost:9464", "127.0.0.1", "127.0.0.1:0",
                         "127.0.0.1:65536", "127.0.0.1:x", "::1:9464", "[::1]", "");
  CAPTURE(listen);
  CHECK(problems("\n[metrics]\nlisten = \"" + listen + "\"\n") ==
        std::vector<std::string>{
            std::string(kFile) + ":3: bad address '" + listen +
            "' for 'listen': expected an IP address and a port, such as \"127.0.0.1:9464\" or "
            "\"[::1]:9464\""});
}

TEST_CASE("[retention] takes whole days and years within bounds", "[config][retention]") {
  const auto config =
      config::parse_config("[retention]\narchive_days = 0\nhistory_years = 7\n", kFile);
  CHECK(config.retention.archive_days == 0);
  CHECK(config.retention.history_years == 7);
  CHECK(problems("[retention]\narchive_days = -1\n") ==
        std::vector<std::string>{std::string(kFile) +
                                 ":2: 'archive_days' must be between 0 and 36500"});
  CHECK(problems("[retention]\nhistory_years = 101\n") ==
        std::vector<std::string>{std::string(kFile) +
                                 ":2: 'history_years' must be between 0 and 100"});
  CHECK(problems("[retention]\narchive_days = \"90d\"\n") ==
        std::vector<std::string>{std::string(kFile) +
                                 ":2: 'archive_days' must be an integer, got a string"});
}
