#include "daemon/notify.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>
#include <system_error>

namespace service {
namespace {

std::atomic<std::int64_t> dropped{0};
std::atomic<std::int64_t> dropped_unlogged{0};
std::atomic<std::int64_t> last_drop_log{0};  // steady clock, ns; 0: never logged

// The address NOTIFY_SOCKET names, as sd_notify() reads it: an absolute path, or '@' and an
// abstract name. False when it is neither (or too long).
bool target(const char* value, sockaddr_un& address, socklen_t& length) noexcept {
  if (value == nullptr || (value[0] != '/' && value[0] != '@')) {
    return false;
  }
  const std::size_t size = std::strlen(value);
  if (size < 2 || size >= sizeof address.sun_path) {
    return false;
  }
  address = sockaddr_un{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, value, size);
  if (value[0] == '@') {
    address.sun_path[0] = '\0';  // abstract: the name's length, no terminating NUL
    length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + size);
  } else {
    length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + size + 1);
  }
  return true;
}

// A line a minute at most, whatever the rate of drops.
void log_drop(const char* socket_name) noexcept {
  ++dropped;
  const std::int64_t unlogged = ++dropped_unlogged;
  const std::int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                               std::chrono::steady_clock::now().time_since_epoch())
                               .count();
  std::int64_t last = last_drop_log.load();
  if (last != 0 && now - last < std::chrono::nanoseconds(std::chrono::minutes(1)).count()) {
    return;
  }
  if (!last_drop_log.compare_exchange_strong(last, now)) {
    return;  // another thread logs it
  }
  dropped_unlogged -= unlogged;
  spdlog::warn(
      "systemd notification socket {} is not being read; dropped {} notification{} rather than "
      "wait (a line a minute at most)",
      socket_name, unlogged, unlogged == 1 ? "" : "s");
}

void send(const std::string& message) noexcept { notify(message); }

}  // namespace

NotifyOutcome notify(std::string_view message) noexcept {
  const char* socket_name = std::getenv("NOTIFY_SOCKET");
  sockaddr_un address{};
  socklen_t length = 0;
  if (!target(socket_name, address, length)) {
    return NotifyOutcome::kNoSocket;
  }
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    return NotifyOutcome::kFailed;
  }
  const ssize_t sent = ::sendto(fd, message.data(), message.size(), MSG_DONTWAIT | MSG_NOSIGNAL,
                                reinterpret_cast<const sockaddr*>(&address), length);
  const int error = errno;
  ::close(fd);
  if (sent == static_cast<ssize_t>(message.size())) {
    return NotifyOutcome::kSent;
  }
  if (sent < 0 && (error == EAGAIN || error == EWOULDBLOCK)) {
    log_drop(socket_name);
    return NotifyOutcome::kDropped;
  }
  return NotifyOutcome::kFailed;
}

std::int64_t notify_dropped() noexcept { return dropped.load(); }

void notify_ready() noexcept { notify("READY=1"); }

void notify_status(std::string_view status) noexcept { send(fmt::format("STATUS={}", status)); }

void notify_reloading() noexcept {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  const long long usec = static_cast<long long>(now.tv_sec) * 1000000LL + now.tv_nsec / 1000;
  send(fmt::format("RELOADING=1\nMONOTONIC_USEC={}", usec));
}

void notify_stopping() noexcept { notify("STOPPING=1"); }

void notify_watchdog() noexcept { notify("WATCHDOG=1"); }

std::optional<std::chrono::microseconds> watchdog_interval() noexcept {
  const auto number = [](const char* text, std::uint64_t& value) {
    if (text == nullptr) {
      return false;
    }
    const char* end = text + std::strlen(text);
    const auto [ptr, ec] = std::from_chars(text, end, value);
    return ec == std::errc() && ptr == end && ptr != text;
  };
  std::uint64_t usec = 0;
  if (!number(std::getenv("WATCHDOG_USEC"), usec) || usec == 0) {
    return std::nullopt;
  }
  if (const char* pid_text = std::getenv("WATCHDOG_PID")) {
    std::uint64_t pid = 0;
    if (!number(pid_text, pid) || pid != static_cast<std::uint64_t>(::getpid())) {
      return std::nullopt;
    }
  }
  return std::chrono::microseconds(usec / 2);
}

}  // namespace service
