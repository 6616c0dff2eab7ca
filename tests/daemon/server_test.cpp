#include "daemon/control/server.h"

#include <fmt/format.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <sstream>
#include <vector>

#include "tests/support/temp_dir.h"

namespace {

namespace asio = boost::asio;
using asio::local::stream_protocol;
using service::Permission;

// A hang fails the test after this long instead of blocking the run.
constexpr auto kWatchdog = std::chrono::seconds(5);

// Runs `io` until `done()` holds or the watchdog expires; returns whether it holds.
template <class Done>
bool drive(asio::io_context& io, Done done) {
  const auto give_up = std::chrono::steady_clock::now() + kWatchdog;
  while (!done() && std::chrono::steady_clock::now() < give_up) {
    io.run_one_for(std::chrono::milliseconds(10));
  }
  return done();
}

// A client connection driven by the same io_context as the server.
class Client {
 public:
  Client(asio::io_context& io, const std::filesystem::path& socket) : io_(io), socket_(io) {
    socket_.connect(stream_protocol::endpoint(socket.string()));
  }

  void send(const std::string& bytes) {
    bool sent = false;
    asio::async_write(socket_, asio::buffer(bytes),
                      [&](boost::system::error_code, std::size_t) { sent = true; });
    REQUIRE(drive(io_, [&] { return sent; }));
  }

  // The next line from the server, or nullopt when it closed the connection first.
  std::optional<std::string> next_line() {
    bool done = false;
    boost::system::error_code error;
    std::size_t length = 0;
    asio::async_read_until(socket_, asio::dynamic_buffer(buffer_), '\n',
                           [&](boost::system::error_code ec, std::size_t n) {
                             error = ec;
                             length = n;
                             done = true;
                           });
    REQUIRE(drive(io_, [&] { return done; }));
    if (error) {
      return std::nullopt;
    }
    std::string line = buffer_.substr(0, length - 1);
    buffer_.erase(0, length);
    return line;
  }

  std::optional<std::string> ask(const std::string& line) {
    send(line + "\n");
    return next_line();
  }

 private:
  asio::io_context& io_;
  stream_protocol::socket socket_;
  std::string buffer_;
};

struct Fixture {
  Fixture() {
    table.add("ping", Permission::kRead, [](const service::Request&, const service::Peer& peer) {
      return service::Answer{service::ResultCode::kSuccess, "pong uid " + std::to_string(peer.uid),
                             nullptr};
    });
  }

  service::ServerOptions options() const {
    service::ServerOptions out;
    out.socket = dir / "run" / "control.sock";
    out.group = "";
    out.idle_timeout = std::chrono::seconds(5);
    out.max_connections = 4;
    return out;
  }

  std::unique_ptr<service::ControlServer> make_server(service::ServerOptions opts) {
    return std::make_unique<service::ControlServer>(
        io, std::move(opts),
        [this](std::int64_t uid, std::int64_t gid, std::int64_t pid) {
          ++identified;
          service::Peer peer;
          peer.uid = as_uid.value_or(uid);
          peer.gid = gid;
          peer.pid = pid;
          peer.permission = permission;
          return peer;
        },
        [this](std::string_view line,
               const service::Peer& peer) -> asio::awaitable<service::Reply> {
          ++requests;
          // "hold" waits until the test releases it, as a pool command waits for the pool.
          if (line.find("hold") != std::string_view::npos) {
            ++held;
            co_await release.async_wait(asio::as_tuple(asio::use_awaitable));
          }
          co_return table.handle_line(line, peer);
        });
  }

  test_support::TempDir dir;
  asio::io_context io;
  service::CommandTable table;
  // Who the next peer is: its real uid (SO_PEERCRED) unless as_uid says otherwise.
  Permission permission = Permission::kRead;
  std::optional<std::int64_t> as_uid;
  int identified = 0;
  int requests = 0;
  int held = 0;
  asio::steady_timer release{io, asio::steady_timer::time_point::max()};
};

}  // namespace

TEST_CASE("the control socket answers requests line by line and survives garbage",
          "[daemon][server]") {
  Fixture f;
  auto server = f.make_server(f.options());
  server->start();
  Client client(f.io, f.options().socket);

  CHECK(client.ask(R"({"command": "ping", "id": 1})") ==
        fmt::format(R"({{"result":0,"text":"pong uid {}","id":1}})", ::getuid()));
  CHECK(client.ask("this is not json") == R"({"result":1,"text":"not JSON: syntax error"})");
  CHECK(client.ask(R"({"command": "nope"})") == R"({"result":2,"text":"unknown command 'nope'"})");
  // Two requests in one write get two replies, in order.
  client.send("{\"command\": \"ping\", \"id\": 2}\r\n{\"command\": \"ping\", \"id\": 3}\n");
  CHECK(client.next_line()->find(R"("id":2)") != std::string::npos);
  CHECK(client.next_line()->find(R"("id":3)") != std::string::npos);
  CHECK(f.requests == 5);
}

TEST_CASE("the control socket is 0660 and its new folder 0750", "[daemon][server]") {
  Fixture f;
  auto server = f.make_server(f.options());
  server->start();

  struct stat socket_stat {};
  REQUIRE(::stat(f.options().socket.c_str(), &socket_stat) == 0);
  CHECK((socket_stat.st_mode & 0777) == 0660);
  struct stat folder_stat {};
  REQUIRE(::stat(f.options().socket.parent_path().c_str(), &folder_stat) == 0);
  CHECK((folder_stat.st_mode & 0777) == 0750);
}

TEST_CASE("a line over the cap gets an error reply and the connection is closed",
          "[daemon][server]") {
  Fixture f;
  auto options = f.options();
  options.max_line = 1024;
  auto server = f.make_server(options);
  server->start();
  Client client(f.io, options.socket);

  client.send(std::string(2000, 'x'));
  CHECK(client.next_line() == R"({"result":1,"text":"line longer than 1024 bytes"})");
  CHECK_FALSE(client.next_line());
  CHECK(f.requests == 0);
}

TEST_CASE("an idle or half-open connection is closed after the idle timeout", "[daemon][server]") {
  Fixture f;
  auto options = f.options();
  options.idle_timeout = std::chrono::milliseconds(50);
  auto server = f.make_server(options);
  server->start();
  Client client(f.io, options.socket);

  client.send(R"({"command": "pi)");  // half a request, then silence
  CHECK_FALSE(client.next_line());
  CHECK(drive(f.io, [&] { return server->sessions() == 0; }));
}

TEST_CASE("connections over the cap are told so and closed", "[daemon][server]") {
  Fixture f;
  auto options = f.options();
  options.max_connections = 1;
  auto server = f.make_server(options);
  server->start();
  Client first(f.io, options.socket);
  REQUIRE(first.ask(R"({"command": "ping"})"));

  Client second(f.io, options.socket);
  CHECK(second.next_line() ==
        R"({"result":1,"text":"too many connections (1 open); 4 more are kept for )"
        R"(administrators"})");
  CHECK_FALSE(second.next_line());
  CHECK(first.ask(R"({"command": "ping"})"));
}

TEST_CASE("a peer outside the groups is refused and disconnected", "[daemon][server]") {
  Fixture f;
  f.permission = Permission::kNone;
  auto server = f.make_server(f.options());
  server->start();
  std::vector<std::int64_t> refused;
  server->on_refused([&](const service::Peer& peer) { refused.push_back(peer.uid); });
  Client client(f.io, f.options().socket);

  // Told at once, before it asks anything, and closed: it holds no slot while it idles.
  CHECK(client.next_line() == R"({"result":1,"text":"permission denied"})");
  CHECK_FALSE(client.next_line());
  CHECK(server->sessions() == 0);
  CHECK(refused == std::vector<std::int64_t>{static_cast<std::int64_t>(::getuid())});
  CHECK(server->refusals().not_permitted == 1);
  CHECK(f.requests == 0);
}

TEST_CASE("a stale socket file is replaced, a live one is not", "[daemon][server]") {
  Fixture f;
  const auto path = f.options().socket;

  SECTION("stale: left behind by a daemon that died") {
    {
      std::filesystem::create_directories(path.parent_path());
      stream_protocol::acceptor dead(f.io, stream_protocol::endpoint(path.string()));
    }
    REQUIRE(std::filesystem::exists(path));
    auto server = f.make_server(f.options());
    server->start();
    Client client(f.io, path);
    CHECK(client.ask(R"({"command": "ping"})"));
  }
  SECTION("live: another daemon is listening") {
    auto first = f.make_server(f.options());
    first->start();
    auto second = f.make_server(f.options());
    CHECK_THROWS_WITH(second->start(), "another casewatchd is listening on " + path.string());
  }
  SECTION("not a socket at all") {
    f.dir.write("run/control.sock", "precious");
    auto server = f.make_server(f.options());
    CHECK_THROWS_WITH(server->start(), path.string() + " exists and is not a socket");
    CHECK(test_support::read_file(path) == "precious");
  }
}

TEST_CASE("stop closes the sessions, removes the socket and lets the loop drain",
          "[daemon][server]") {
  Fixture f;
  auto server = f.make_server(f.options());
  server->start();
  Client client(f.io, f.options().socket);
  REQUIRE(client.ask(R"({"command": "ping"})"));

  server->stop();
  server->stop();  // idempotent

  CHECK_FALSE(client.next_line());
  CHECK_FALSE(std::filesystem::exists(f.options().socket));
  CHECK(drive(f.io, [&] { return server->sessions() == 0; }));
  f.io.restart();
  f.io.run_for(std::chrono::seconds(5));
  CHECK(f.io.stopped());  // no work left: run() returns by draining
}

TEST_CASE("a command that waits holds up only its own connection, past the idle timeout",
          "[daemon][server]") {
  Fixture f;
  auto options = f.options();
  options.idle_timeout = std::chrono::milliseconds(200);
  auto server = f.make_server(options);
  server->start();
  Client waiting(f.io, options.socket);
  Client other(f.io, options.socket);

  waiting.send(R"({"command": "ping", "id": "hold"})"
               "\n");
  REQUIRE(drive(f.io, [&] { return f.held == 1; }));
  // Served while the first command waits.
  CHECK(other.ask(R"({"command": "ping", "id": 2})") ==
        fmt::format(R"({{"result":0,"text":"pong uid {}","id":2}})", ::getuid()));
  // `other` idles out; `waiting`, idle for longer, is not closed while its command runs.
  REQUIRE(drive(f.io, [&] { return server->sessions() == 1; }));
  CHECK(other.next_line() == std::nullopt);
  f.release.cancel();
  CHECK(waiting.next_line() ==
        fmt::format(R"({{"result":0,"text":"pong uid {}","id":"hold"}})", ::getuid()));
}

namespace {

// Connects a client as `uid` with `permission` and waits until the server has identified it.
std::unique_ptr<Client> connect_as(Fixture& f, const std::filesystem::path& socket,
                                   std::int64_t uid, Permission permission) {
  f.as_uid = uid;
  f.permission = permission;
  const int before = f.identified;
  auto client = std::make_unique<Client>(f.io, socket);
  REQUIRE(drive(f.io, [&] { return f.identified > before; }));
  return client;
}

service::ServerOptions with_caps(const Fixture& f, int max_connections, int max_per_uid,
                                 int admin_reserve) {
  auto options = f.options();
  options.max_connections = max_connections;
  options.max_per_uid = max_per_uid;
  options.admin_reserve = admin_reserve;
  return options;
}

}  // namespace

TEST_CASE("a full socket refuses ordinary peers at once and still lets administrators in",
          "[daemon][server]") {
  Fixture f;
  const auto options = with_caps(f, 4, 4, 2);
  auto server = f.make_server(options);
  server->start();
  // The cap's worth of idle connections, which never send a byte.
  std::vector<std::unique_ptr<Client>> idle;
  for (std::int64_t uid = 1001; uid <= 1004; ++uid) {
    idle.push_back(connect_as(f, options.socket, uid, Permission::kRead));
  }
  REQUIRE(server->sessions() == 4);

  auto reader = connect_as(f, options.socket, 1005, Permission::kRead);
  CHECK(reader->next_line() ==
        R"({"result":1,"text":"too many connections (4 open); 2 more are kept for )"
        R"(administrators"})");
  CHECK_FALSE(reader->next_line());  // closed at once, not after the idle timeout
  CHECK(server->sessions() == 4);

  // root, the service's user or an admin_group member: `status`, `reload`, `shutdown` get through.
  auto admin = connect_as(f, options.socket, 0, Permission::kWrite);
  CHECK(admin->ask(R"({"command": "ping"})") == R"({"result":0,"text":"pong uid 0"})");
  auto second_admin = connect_as(f, options.socket, 1100, Permission::kWrite);
  CHECK(second_admin->ask(R"({"command": "ping"})") == R"({"result":0,"text":"pong uid 1100"})");
  auto third_admin = connect_as(f, options.socket, 1101, Permission::kWrite);
  CHECK(third_admin->next_line() == R"({"result":1,"text":"too many connections"})");
  CHECK(server->sessions() == 6);
  CHECK(server->refusals().full == 2);
  CHECK(server->refusals().per_uid == 0);

  // A slot freed is a slot for anyone again.
  idle.pop_back();
  REQUIRE(drive(f.io, [&] { return server->sessions() == 5; }));
  second_admin.reset();
  REQUIRE(drive(f.io, [&] { return server->sessions() == 4; }));
  idle.pop_back();
  REQUIRE(drive(f.io, [&] { return server->sessions() == 3; }));
  auto later = connect_as(f, options.socket, 1005, Permission::kRead);
  CHECK(later->ask(R"({"command": "ping"})") == R"({"result":0,"text":"pong uid 1005"})");
}

TEST_CASE("one uid holds at most its share of the sessions; others still get in",
          "[daemon][server]") {
  Fixture f;
  const auto options = with_caps(f, 8, 3, 4);
  auto server = f.make_server(options);
  server->start();
  std::vector<std::unique_ptr<Client>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(connect_as(f, options.socket, 1001, Permission::kRead));
    REQUIRE(held.back()->ask(R"({"command": "ping"})"));
  }
  auto fourth = connect_as(f, options.socket, 1001, Permission::kRead);
  CHECK(
      fourth->next_line() ==
      R"x({"result":1,"text":"too many connections from uid 1001 (3 open, at most 3 per user)"})x");
  CHECK_FALSE(fourth->next_line());
  CHECK(server->refusals().per_uid == 1);

  auto other = connect_as(f, options.socket, 1002, Permission::kRead);
  CHECK(other->ask(R"({"command": "ping"})") == R"({"result":0,"text":"pong uid 1002"})");
  // Administrators have no per-uid cap (only the socket's, with their reserve).
  for (int i = 0; i < 4; ++i) {
    held.push_back(connect_as(f, options.socket, 0, Permission::kWrite));
    CHECK(held.back()->ask(R"({"command": "ping"})") == R"({"result":0,"text":"pong uid 0"})");
  }
  // A session closed gives the uid its slot back.
  held.erase(held.begin());
  REQUIRE(drive(f.io, [&] { return server->sessions() == 7; }));
  auto again = connect_as(f, options.socket, 1001, Permission::kRead);
  CHECK(again->ask(R"({"command": "ping"})") == R"({"result":0,"text":"pong uid 1001"})");
}

// Out of file descriptors, accept() fails (EMFILE, ENFILE) and leaves the connection queued. The
// failure is injected here (fail_accepts_with) rather than made with a lowered RLIMIT_NOFILE:
// the sanitizers' runtime needs descriptors of its own (UBSan checks a vtable through a pipe),
// so in-process it fails in their place. tests/e2e/test_control_socket.py lowers the real limit
// of a running casewatchd.
TEST_CASE("out of file descriptors, the server pauses before accepting again instead of spinning",
          "[daemon][server]") {
  std::ostringstream log;
  const auto saved_logger = spdlog::default_logger();
  auto logger = std::make_shared<spdlog::logger>(
      "test", std::make_shared<spdlog::sinks::ostream_sink_st>(log));
  logger->set_pattern("%l: %v");
  spdlog::set_default_logger(logger);
  struct Restore {
    std::shared_ptr<spdlog::logger> logger;
    ~Restore() { spdlog::set_default_logger(logger); }
  } restore{saved_logger};

  Fixture f;
  auto server = f.make_server(f.options());
  server->start();
  server->fail_accepts_with(asio::error::no_descriptors);
  Client client(f.io, f.options().socket);

  // Each poll_one runs one ready handler: a server that accepted again at once would fail again
  // every few handlers; this one fails, then waits out its first pause (50 ms).
  for (int i = 0; i < 200 && server->accept_failures() == 0; ++i) {
    f.io.poll_one();
  }
  REQUIRE(server->accept_failures() == 1);
  const auto first = std::chrono::steady_clock::now();
  for (int i = 0; i < 200; ++i) {
    f.io.poll_one();
  }
  CHECK(server->accept_failures() <= 2);  // 2 only if those polls outlasted the pause

  // Over 400 ms the pauses (50, 100, 200 ms ...) allow the first failure and three more at most;
  // a fixed 50 ms pause would make 9, a spin thousands.
  const auto until = first + std::chrono::milliseconds(400);
  while (std::chrono::steady_clock::now() < until) {
    f.io.run_one_until(until);
  }
  CHECK(server->accept_failures() >= 2);
  CHECK(server->accept_failures() <= 4);
  CHECK(server->sessions() == 0);
  CHECK(log.str() ==
        "error: control socket: accept failed: Too many open files; accepting again after a "
        "pause\n");

  // Descriptors free again: after its pause (200 or 400 ms) the server takes the waiting
  // connection, and says once how many accepts failed.
  server->fail_accepts_with({});
  const std::int64_t failed = server->accept_failures();
  CHECK(client.ask(R"({"command": "ping", "id": 7})") ==
        fmt::format(R"({{"result":0,"text":"pong uid {}","id":7}})", ::getuid()));
  CHECK(server->sessions() == 1);
  CHECK(server->accept_failures() == failed);
  CHECK(log.str() ==
        fmt::format("error: control socket: accept failed: Too many open files; accepting again "
                    "after a pause\ninfo: control socket: accepting again after {} failed "
                    "accepts\n",
                    failed));

  // A later episode logs again, and starts again from the shortest pause: within 200 ms it
  // fails at once, after 50 ms and after 150 ms (after a 400 ms pause it would fail once).
  log.str("");
  server->fail_accepts_with(asio::error::no_descriptors);
  Client second(f.io, f.options().socket);
  REQUIRE(drive(f.io, [&] { return server->accept_failures() == failed + 1; }));
  const auto again = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
  while (std::chrono::steady_clock::now() < again) {
    f.io.run_one_until(again);
  }
  CHECK(server->accept_failures() >= failed + 2);
  CHECK(log.str() ==
        "error: control socket: accept failed: Too many open files; accepting again after a "
        "pause\n");
  server->fail_accepts_with({});
  CHECK(second.ask(R"({"command": "ping"})"));
  CHECK(server->sessions() == 2);
}
