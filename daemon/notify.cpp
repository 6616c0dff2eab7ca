#include "daemon/notify.h"

#include <fmt/format.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include <string>

namespace service {
namespace {

void send(const std::string& message) noexcept { ::sd_notify(0, message.c_str()); }

}  // namespace

void notify_ready() noexcept { ::sd_notify(0, "READY=1"); }

void notify_status(std::string_view status) noexcept { send(fmt::format("STATUS={}", status)); }

void notify_reloading() noexcept {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  const long long usec = static_cast<long long>(now.tv_sec) * 1000000LL + now.tv_nsec / 1000;
  send(fmt::format("RELOADING=1\nMONOTONIC_USEC={}", usec));
}

void notify_stopping() noexcept { ::sd_notify(0, "STOPPING=1"); }

void notify_watchdog() noexcept { ::sd_notify(0, "WATCHDOG=1"); }

std::optional<std::chrono::microseconds> watchdog_interval() noexcept {
  std::uint64_t usec = 0;
  if (::sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::nullopt;
  return std::chrono::microseconds(usec / 2);
}

}  // namespace service
