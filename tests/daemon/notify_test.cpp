#include "daemon/notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include "tests/support/temp_dir.h"

namespace {

// NOTIFY_SOCKET (or another name) set as systemd sets it, for one test.
class Environment {
 public:
  Environment(const char* name, const std::string& value) : name_(name) {
    ::setenv(name, value.c_str(), 1);
  }
  ~Environment() { ::unsetenv(name_); }
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;

 private:
  const char* name_;
};

// A datagram socket bound where NOTIFY_SOCKET says (a path, or '@' and an abstract name), as
// systemd's; the test reads it, or not.
class Manager {
 public:
  explicit Manager(const std::string& address) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    REQUIRE(address.size() < sizeof sun.sun_path);
    std::memcpy(sun.sun_path, address.data(), address.size());
    socklen_t length = offsetof(sockaddr_un, sun_path) + address.size() + 1;
    if (address[0] == '@') {
      sun.sun_path[0] = '\0';
      length = offsetof(sockaddr_un, sun_path) + address.size();
    }
    REQUIRE(::bind(fd_, reinterpret_cast<const sockaddr*>(&sun), length) == 0);
  }
  ~Manager() { ::close(fd_); }
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  // The next datagram queued, or nullopt when there is none.
  std::optional<std::string> next() {
    char buffer[4096];
    const ssize_t n = ::recv(fd_, buffer, sizeof buffer, MSG_DONTWAIT);
    if (n < 0) {
      return std::nullopt;
    }
    return std::string(buffer, static_cast<std::size_t>(n));
  }

 private:
  int fd_ = -1;
};

void expect_protocol(const std::string& address) {
  Manager manager(address);
  const Environment env("NOTIFY_SOCKET", address);
  service::notify_ready();
  service::notify_status("ingesting cases.csv");
  service::notify_reloading();
  service::notify_watchdog();
  service::notify_stopping();
  CHECK(manager.next() == "READY=1");
  CHECK(manager.next() == "STATUS=ingesting cases.csv");
  const auto reloading = manager.next();
  REQUIRE(reloading);
  CHECK(reloading->starts_with("RELOADING=1\nMONOTONIC_USEC="));
  CHECK(reloading->size() > std::strlen("RELOADING=1\nMONOTONIC_USEC="));
  CHECK(manager.next() == "WATCHDOG=1");
  CHECK(manager.next() == "STOPPING=1");
  CHECK(manager.next() == std::nullopt);
}

}  // namespace

TEST_CASE("a manager that reads gets each notification exactly, at a path or abstract address",
          "[daemon][notify]") {
  test_support::TempDir dir;
  SECTION("a path") { expect_protocol((dir / "notify.sock").string()); }
  SECTION("an abstract address") {
    expect_protocol("@casewatch-notify-test-" + std::to_string(::getpid()));
  }
}

TEST_CASE("a notification socket no one reads: messages are dropped, never waited for",
          "[daemon][notify]") {
  test_support::TempDir dir;
  const std::string path = (dir / "notify.sock").string();
  Manager manager(path);
  const Environment env("NOTIFY_SOCKET", path);
  // sd_notify() blocked here once the socket's queue was full (net.unix.max_dgram_qlen, often
  // 10 to 512 datagrams). A call that blocks hangs the test until ctest's timeout; SIGALRM ends
  // it sooner, and says so.
  ::alarm(60);
  const std::int64_t dropped_before = service::notify_dropped();
  int sent = 0;
  int dropped = 0;
  for (int i = 0; i < 2000; ++i) {
    switch (service::notify("STATUS=" + std::to_string(i))) {
      case service::NotifyOutcome::kSent:
        ++sent;
        break;
      case service::NotifyOutcome::kDropped:
        ++dropped;
        break;
      default:
        FAIL("neither sent nor dropped");
    }
  }
  service::notify_ready();  // dropped too, without waiting
  ::alarm(0);
  CHECK(sent > 0);
  CHECK(dropped + 1 == service::notify_dropped() - dropped_before);
  CHECK(sent + dropped == 2000);
  // What was sent is queued whole and in order: the first `sent` messages.
  for (int i = 0; i < sent; ++i) {
    CHECK(manager.next() == "STATUS=" + std::to_string(i));
  }
  CHECK(manager.next() == std::nullopt);
  // Read, the socket takes messages again.
  CHECK(service::notify("READY=1") == service::NotifyOutcome::kSent);
  CHECK(manager.next() == "READY=1");
}

TEST_CASE("no notification without a usable NOTIFY_SOCKET", "[daemon][notify]") {
  test_support::TempDir dir;
  ::unsetenv("NOTIFY_SOCKET");
  CHECK(service::notify("READY=1") == service::NotifyOutcome::kNoSocket);
  {
    const Environment env("NOTIFY_SOCKET", "relative/notify.sock");
    CHECK(service::notify("READY=1") == service::NotifyOutcome::kNoSocket);
  }
  {
    const Environment env("NOTIFY_SOCKET", "@");
    CHECK(service::notify("READY=1") == service::NotifyOutcome::kNoSocket);
  }
  {
    const Environment env("NOTIFY_SOCKET", (dir / "nobody-listens.sock").string());
    CHECK(service::notify("READY=1") == service::NotifyOutcome::kFailed);
  }
}

TEST_CASE("the watchdog interval is half of WATCHDOG_USEC, for this process only",
          "[daemon][notify]") {
  ::unsetenv("WATCHDOG_USEC");
  ::unsetenv("WATCHDOG_PID");
  CHECK(service::watchdog_interval() == std::nullopt);
  const Environment usec("WATCHDOG_USEC", "30000000");
  CHECK(service::watchdog_interval() == std::chrono::microseconds(15000000));
  {
    const Environment pid("WATCHDOG_PID", std::to_string(::getpid()));
    CHECK(service::watchdog_interval() == std::chrono::microseconds(15000000));
  }
  {
    const Environment pid("WATCHDOG_PID", std::to_string(::getpid() + 1));
    CHECK(service::watchdog_interval() == std::nullopt);  // meant for another process
  }
  {
    const Environment junk("WATCHDOG_USEC", "30s");
    CHECK(service::watchdog_interval() == std::nullopt);
  }
  {
    const Environment zero("WATCHDOG_USEC", "0");
    CHECK(service::watchdog_interval() == std::nullopt);
  }
}
