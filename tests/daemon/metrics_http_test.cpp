#include "daemon/metrics_http.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

const std::string kMetrics = "# TYPE casewatch_up gauge\ncasewatch_up 1\n";

// Runs the loop until `done` or a 10 s watchdog (which fails the test).
template <class Done>
void run_until(asio::io_context& io, Done done) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      FAIL("timed out");
    }
    if (io.stopped()) {
      io.restart();  // it stops whenever it runs out of work
    }
    io.run_one_for(50ms);
  }
}

// Sends `request` on a new connection and returns everything the server writes until it closes.
std::string exchange(asio::io_context& io, std::uint16_t port, const std::string& request) {
  auto reply = std::make_shared<std::optional<std::string>>();
  asio::co_spawn(
      io,
      [&io, port, request, reply]() -> asio::awaitable<void> {
        tcp::socket socket(io);
        auto [ec] = co_await socket.async_connect(
            tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), kTuple);
        std::string data;
        if (!ec) {
          co_await asio::async_write(socket, asio::buffer(request), kTuple);
          co_await asio::async_read(socket, asio::dynamic_buffer(data), kTuple);  // until EOF
        }
        *reply = ec ? "connect failed: " + ec.message() : data;
      },
      asio::detached);
  run_until(io, [&] { return reply->has_value(); });
  return **reply;
}

struct Fixture {
  explicit Fixture(service::MetricsHttpOptions options = {}) {
    options.port = 0;
    server = std::make_unique<service::MetricsHttpServer>(io, options, [this] {
      ++scrapes;
      return kMetrics;
    });
    server->start();
  }
  asio::io_context io;
  int scrapes = 0;
  std::unique_ptr<service::MetricsHttpServer> server;
};

std::string status_line(const std::string& reply) { return reply.substr(0, reply.find("\r\n")); }

}  // namespace

TEST_CASE("GET /metrics answers the rendered metrics as Prometheus text", "[daemon][metrics]") {
  Fixture f;
  const std::string reply =
      exchange(f.io, f.server->port(), "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n");
  CHECK(status_line(reply) == "HTTP/1.1 200 OK");
  CHECK(reply.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n") !=
        std::string::npos);
  CHECK(reply.substr(reply.find("\r\n\r\n") + 4) == kMetrics);
  CHECK(f.scrapes == 1);
}

TEST_CASE("anything but GET /metrics is 404", "[daemon][metrics]") {
  Fixture f;
  for (const std::string request :
       {"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "GET /metrics/x HTTP/1.1\r\nHost: x\r\n\r\n",
        "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
        "DELETE /metrics HTTP/1.1\r\nHost: x\r\n\r\n"}) {
    CAPTURE(request);
    CHECK(status_line(exchange(f.io, f.server->port(), request)) == "HTTP/1.1 404 Not Found");
  }
  CHECK(f.scrapes == 0);
}

TEST_CASE("requests larger than the limit, or with a body, are refused", "[daemon][metrics]") {
  service::MetricsHttpOptions options;
  options.max_request = 1024;
  Fixture f(options);
  const std::string big =
      "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(2000, 'a') + "\r\n\r\n";
  CHECK(status_line(exchange(f.io, f.server->port(), big)) ==
        "HTTP/1.1 431 Request Header Fields Too Large");
  CHECK(
      status_line(exchange(f.io, f.server->port(),
                           "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")) ==
      "HTTP/1.1 400 Bad Request");
  CHECK(status_line(exchange(f.io, f.server->port(), "NOT HTTP\r\n\r\n")) ==
        "HTTP/1.1 400 Bad Request");
  CHECK(f.scrapes == 0);
}

TEST_CASE("connections beyond the limit get 503; idle ones are closed at the timeout",
          "[daemon][metrics]") {
  service::MetricsHttpOptions options;
  options.max_connections = 2;
  options.timeout = 300ms;
  Fixture f(options);
  std::vector<tcp::socket> idle;
  for (int i = 0; i < 2; ++i) {
    idle.emplace_back(f.io);
    idle.back().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), f.server->port()));
  }
  run_until(f.io, [&] { return f.server->connections() == 2; });
  CHECK(status_line(exchange(f.io, f.server->port(), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")) ==
        "HTTP/1.1 503 Service Unavailable");
  // The idle connections send nothing: the server closes them at their deadline.
  run_until(f.io, [&] { return f.server->connections() == 0; });
  CHECK(status_line(exchange(f.io, f.server->port(), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")) ==
        "HTTP/1.1 200 OK");
}

TEST_CASE("after stop the port refuses connections", "[daemon][metrics]") {
  Fixture f;
  const auto port = f.server->port();
  f.server->stop();
  f.server->stop();  // idempotent
  f.io.poll();
  CHECK(exchange(f.io, port, "GET /metrics HTTP/1.1\r\n\r\n").rfind("connect failed", 0) == 0);
}
