// Prometheus scraping over HTTP: GET /metrics answers the metrics text (the same as the control
// socket's `metrics` command) on the service's io_context; every other request is 404. Bounded:
// at most `max_connections` at once (others get 503 and are closed), requests of at most
// `max_request` bytes (header and all; larger ones get 431), `timeout` per connection, one
// request per connection. No authentication: listen on loopback or a management network.
// Not thread-safe: all methods are called from the loop thread.
#ifndef CASEWATCH_DAEMON_METRICS_HTTP_H_
#define CASEWATCH_DAEMON_METRICS_HTTP_H_

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>

namespace service {

struct MetricsHttpOptions {
  std::string address = "127.0.0.1";  // an IP address literal
  std::uint16_t port = 9464;          // 0 picks a free port (tests)
  int max_connections = 8;
  std::size_t max_request = std::size_t{8} * 1024;
  std::chrono::milliseconds timeout{10000};
};

class MetricsHttpServer {
 public:
  // The metrics in the Prometheus text format, rendered when a scrape arrives.
  using Render = std::function<std::string()>;

  // REQUIRES: io outlives the server.
  MetricsHttpServer(boost::asio::io_context& io, MetricsHttpOptions options, Render render);
  ~MetricsHttpServer();
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  // Binds and starts accepting. Throws std::runtime_error naming the address when it cannot bind.
  void start();

  // Stops accepting and closes every connection. Idempotent.
  void stop() noexcept;

  // The port bound (the one chosen when options.port was 0).
  std::uint16_t port() const { return port_; }
  std::size_t connections() const { return live_.size(); }

 private:
  struct Connection;
  void spawn_accept();
  void spawn_connection(boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& io_;
  MetricsHttpOptions options_;
  Render render_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::shared_ptr<bool> stopped_;  // shared with the connections, which outlive stop()
  std::uint16_t port_ = 0;
  std::set<Connection*> live_;  // each is owned by its coroutine
};

}  // namespace service

#endif  // CASEWATCH_DAEMON_METRICS_HTTP_H_
