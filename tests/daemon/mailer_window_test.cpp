// The exactly-once window of SmtpMailer: send() returns as soon as the server answers the
// message's DATA, before QUIT, so the outbox records "sent" without waiting for the goodbye.
// A scripted SMTP server on loopback (a thread speaking the protocol line by line) records the
// commands in order; the test reads them when send() has returned.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "daemon/mailer.h"

namespace {

class ScriptedSmtpServer {
 public:
  ScriptedSmtpServer() {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::listen(listener_, 4) == 0);
    socklen_t length = sizeof address;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~ScriptedSmtpServer() {
    ::shutdown(listener_, SHUT_RDWR);
    ::close(listener_);
    thread_.join();
  }

  int port() const { return port_; }
  // The commands received so far ("EHLO", "MAIL", "RCPT", "DATA", "QUIT", with "." for the end
  // of a message and "CONNECT" for each connection).
  std::vector<std::string> commands() {
    std::lock_guard lock(mutex_);
    return commands_;
  }
  // Waits (up to 10 s) until `command` was received; false on timeout.
  bool wait_for(const std::string& command) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(10), [&] {
      return std::find(commands_.begin(), commands_.end(), command) != commands_.end();
    });
  }

 private:
  void record(std::string command) {
    std::lock_guard lock(mutex_);
    commands_.push_back(std::move(command));
    changed_.notify_all();
  }

  void serve() {
    for (;;) {
      const int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) {
        return;
      }
      record("CONNECT");
      timeval bound{10, 0};  // a client that hangs does not hang the test
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &bound, sizeof bound);
      talk(fd);
      ::close(fd);
    }
  }

  void talk(int fd) {
    const auto say = [fd](const std::string& line) {
      const std::string out = line + "\r\n";
      return ::write(fd, out.data(), out.size()) == static_cast<ssize_t>(out.size());
    };
    say("220 scripted ESMTP");
    std::string buffer;
    bool in_data = false;
    char chunk[4096];
    for (;;) {
      const std::size_t end = buffer.find("\r\n");
      if (end == std::string::npos) {
        const ssize_t n = ::read(fd, chunk, sizeof chunk);
        if (n <= 0) {
          return;
        }
        buffer.append(chunk, static_cast<std::size_t>(n));
        continue;
      }
      const std::string line = buffer.substr(0, end);
      buffer.erase(0, end + 2);
      if (in_data) {
        if (line == ".") {
          in_data = false;
          record(".");
          say("250 2.0.0 queued");
        }
        continue;
      }
      const std::string verb = line.substr(0, 4);
      record(verb);
      if (verb == "EHLO") {
        say("250-scripted");
        say("250 8BITMIME");
      } else if (verb == "DATA") {
        in_data = true;
        say("354 go ahead");
      } else if (verb == "QUIT") {
        say("221 bye");
        return;
      } else {
        say("250 ok");
      }
    }
  }

  int listener_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> commands_;
};

service::SmtpOptions options_for(int port) {
  service::SmtpOptions options;
  options.server = "smtp://127.0.0.1:" + std::to_string(port);
  options.tls = config::TlsMode::kNone;
  options.connect_timeout = std::chrono::seconds(5);
  options.timeout = std::chrono::seconds(10);
  return options;
}

const std::string kMessage =
    "From: casewatch@council.example\r\nTo: manager@council.example\r\n"
    "Message-ID: <review.2026-W47.all@casewatch>\r\nSubject: review\r\n\r\nbody\r\n";

}  // namespace

TEST_CASE("SmtpMailer returns at the server's answer to DATA, before QUIT",
          "[mailer][smtp][window]") {
  ScriptedSmtpServer server;
  {
    service::SmtpMailer mailer(options_for(server.port()));
    const auto first = mailer.send({"casewatch@council.example", "a@council.example"}, kMessage);
    REQUIRE(first.outcome == service::SendOutcome::kSent);
    CHECK(first.smtp_code == 250);
    // Recorded now, the message is marked sent with no QUIT round trip in the window.
    CHECK(server.commands() ==
          std::vector<std::string>{"CONNECT", "EHLO", "MAIL", "RCPT", "DATA", "."});

    // The next message reuses the connection.
    const auto second = mailer.send({"casewatch@council.example", "b@council.example"}, kMessage);
    REQUIRE(second.outcome == service::SendOutcome::kSent);
    const auto commands = server.commands();
    CHECK(std::count(commands.begin(), commands.end(), "CONNECT") == 1);
    CHECK(std::count(commands.begin(), commands.end(), ".") == 2);
    CHECK(std::count(commands.begin(), commands.end(), "QUIT") == 0);
  }
  // The mailer's end says goodbye.
  CHECK(server.wait_for("QUIT"));
}
