// [metrics] and [retention]: the settings an operations team turns, not the domain's.
#include <arpa/inet.h>
#include <fmt/format.h>

#include <charconv>

#include "config/readers.h"

namespace config::detail {

namespace {

// "127.0.0.1:9464" or "[::1]:9464" -> address and port; nullopt when malformed.
std::optional<std::pair<std::string, std::uint16_t>> parse_listen(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return std::nullopt;
  }
  std::string host(text.substr(0, colon));
  const std::string_view port_text = text.substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port_text.empty() ||
      port == 0 || port > 65535) {
    return std::nullopt;
  }
  unsigned char buffer[16];
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    if (::inet_pton(AF_INET6, host.c_str(), buffer) != 1) {
      return std::nullopt;
    }
  } else if (::inet_pton(AF_INET, host.c_str(), buffer) != 1) {
    return std::nullopt;
  }
  return std::pair(host, static_cast<std::uint16_t>(port));
}

// A whole number from `min` to `max` under `key`.
std::optional<int> bounded_integer(Table& t, const std::string& key, int min, int max) {
  const auto v = t.integer(key);
  if (!v) {
    return std::nullopt;
  }
  if (*v < min || *v > max) {
    t.error(*t.find(key), fmt::format("'{}' must be between {} and {}", key, min, max));
    return std::nullopt;
  }
  return static_cast<int>(*v);
}

}  // namespace

void read_metrics(Table& t, MetricsConfig& metrics) {
  if (auto v = t.string("listen")) {
    if (auto parsed = parse_listen(*v)) {
      metrics.address = parsed->first;
      metrics.port = parsed->second;
    } else {
      t.error(*t.find("listen"),
              fmt::format("bad address '{}' for 'listen': expected an IP address and a port, "
                          "such as \"127.0.0.1:9464\" or \"[::1]:9464\"",
                          *v));
    }
  }
  t.finish();
}

void read_retention(Table& t, RetentionConfig& retention) {
  if (auto v = bounded_integer(t, "archive_days", 0, 36500)) {
    retention.archive_days = *v;
  }
  if (auto v = bounded_integer(t, "history_years", 0, 100)) {
    retention.history_years = *v;
  }
  t.finish();
}

}  // namespace config::detail
