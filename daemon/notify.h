// systemd's notification protocol (sd_notify): READY=1, STATUS=, RELOADING=1, STOPPING=1 and
// WATCHDOG=1. Each call does nothing when NOTIFY_SOCKET is unset (not started by systemd).
// Thread-safe (sd_notify keeps no state), but the service calls it from the loop thread.
#ifndef CASEWATCH_DAEMON_NOTIFY_H_
#define CASEWATCH_DAEMON_NOTIFY_H_

#include <chrono>
#include <optional>
#include <string_view>

namespace service {

void notify_ready() noexcept;
void notify_status(std::string_view status) noexcept;
// RELOADING=1 with MONOTONIC_USEC (systemd 253's reload protocol; older managers ignore it).
void notify_reloading() noexcept;
void notify_stopping() noexcept;
void notify_watchdog() noexcept;

// How often to send WATCHDOG=1: half of WATCHDOG_USEC when systemd asks for it, else nullopt.
std::optional<std::chrono::microseconds> watchdog_interval() noexcept;

}  // namespace service

#endif  // CASEWATCH_DAEMON_NOTIFY_H_
