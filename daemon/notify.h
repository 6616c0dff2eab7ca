// systemd's notification protocol (sd_notify): READY=1, STATUS=, RELOADING=1, STOPPING=1 and
// WATCHDOG=1, sent as one datagram each to the Unix socket NOTIFY_SOCKET names (a path, or an
// abstract name written '@name'). Each call does nothing when NOTIFY_SOCKET is unset (not started
// by systemd). Spoken here rather than through libsystemd's sd_notify(), which blocks when no
// one reads the socket (a wedged manager, a test harness): a datagram that cannot be sent at once
// is dropped, and the drops are logged (a line a minute at most). So no call ever blocks.
// Thread-safe, but the service calls these from the loop thread.
#ifndef CASEWATCH_DAEMON_NOTIFY_H_
#define CASEWATCH_DAEMON_NOTIFY_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace service {

void notify_ready() noexcept;
void notify_status(std::string_view status) noexcept;
// RELOADING=1 with MONOTONIC_USEC (systemd 253's reload protocol; older managers ignore it).
void notify_reloading() noexcept;
void notify_stopping() noexcept;
void notify_watchdog() noexcept;

enum class NotifyOutcome {
  kSent,
  kNoSocket,  // NOTIFY_SOCKET unset, or not an absolute path or '@name'
  kDropped,   // the socket's queue is full (no one reads it): sending would block
  kFailed,    // any other error (no one listens there, out of descriptors ...)
};
// Sends `message` (e.g. "READY=1") as one datagram, never waiting; what the calls above use.
NotifyOutcome notify(std::string_view message) noexcept;
// Messages dropped since start (kDropped).
std::int64_t notify_dropped() noexcept;

// How often to send WATCHDOG=1: half of WATCHDOG_USEC when systemd asks for it (and
// WATCHDOG_PID, when set, is this process), else nullopt.
std::optional<std::chrono::microseconds> watchdog_interval() noexcept;

}  // namespace service

#endif  // CASEWATCH_DAEMON_NOTIFY_H_
