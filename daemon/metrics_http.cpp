#include "daemon/metrics_http.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <optional>
#include <stdexcept>
#include <utility>

namespace service {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::string_view kPlainText = "text/plain; charset=utf-8";
constexpr std::string_view kMetricsText = "text/plain; version=0.0.4; charset=utf-8";

http::response<http::string_body> text_response(http::status status, std::string body,
                                                std::string_view content_type) {
  http::response<http::string_body> response{status, 11};
  response.set(http::field::server, "casewatchd");
  response.set(http::field::content_type, content_type);
  response.set(http::field::connection, "close");
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

}  // namespace

// One connection: its stream (with the per-connection deadline). Owned by its coroutine.
struct MetricsHttpServer::Connection {
  explicit Connection(tcp::socket socket) : stream(std::move(socket)) {}
  void close() noexcept {
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream.socket().close(ignored);
  }
  beast::tcp_stream stream;
};

MetricsHttpServer::MetricsHttpServer(asio::io_context& io, MetricsHttpOptions options,
                                     Render render)
    : io_(io),
      options_(std::move(options)),
      render_(std::move(render)),
      acceptor_(io),
      stopped_(std::make_shared<bool>(false)) {}

MetricsHttpServer::~MetricsHttpServer() { stop(); }

void MetricsHttpServer::start() {
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(options_.address, ec);
  if (ec) {
    throw std::runtime_error(fmt::format("metrics: bad address '{}'", options_.address));
  }
  const tcp::endpoint endpoint(address, options_.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) {
    acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  }
  if (!ec) {
    acceptor_.bind(endpoint, ec);
  }
  if (!ec) {
    acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    throw std::runtime_error(fmt::format("metrics: cannot listen on {}:{}: {}", options_.address,
                                         options_.port, ec.message()));
  }
  port_ = acceptor_.local_endpoint().port();
  spawn_accept();
}

void MetricsHttpServer::stop() noexcept {
  if (*stopped_) {
    return;
  }
  *stopped_ = true;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  for (Connection* connection : live_) {
    connection->close();
  }
  live_.clear();
}

void MetricsHttpServer::spawn_accept() {
  asio::co_spawn(
      io_,
      [this, stopped = stopped_]() -> asio::awaitable<void> {
        while (!*stopped) {
          auto [ec, socket] = co_await acceptor_.async_accept(kTuple);
          if (*stopped || ec == asio::error::operation_aborted) {
            co_return;
          }
          if (ec) {
            spdlog::warn("metrics: accept failed: {}", ec.message());
            continue;
          }
          spawn_connection(std::move(socket));
        }
      },
      asio::detached);
}

void MetricsHttpServer::spawn_connection(tcp::socket socket) {
  auto connection = std::make_shared<Connection>(std::move(socket));
  const bool busy = live_.size() >= static_cast<std::size_t>(options_.max_connections);
  live_.insert(connection.get());
  asio::co_spawn(
      io_,
      [this, connection, busy, stopped = stopped_]() -> asio::awaitable<void> {
        auto& stream = connection->stream;
        stream.expires_after(options_.timeout);
        std::optional<http::response<http::string_body>> response;
        if (busy) {
          response = text_response(http::status::service_unavailable, "too many connections\n",
                                   kPlainText);
        } else {
          beast::flat_buffer buffer(options_.max_request);
          http::request_parser<http::empty_body> parser;
          parser.header_limit(static_cast<std::uint32_t>(options_.max_request));
          parser.body_limit(0);
          auto [ec, n] = co_await http::async_read(stream, buffer, parser, kTuple);
          if (*stopped) {
            co_return;  // the server may be gone: touch nothing of it
          }
          if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
            response = text_response(http::status::request_header_fields_too_large,
                                     "request too large\n", kPlainText);
          } else if (ec == http::error::body_limit || ec == http::error::bad_method ||
                     ec == http::error::bad_target || ec == http::error::bad_version ||
                     ec == http::error::bad_field || ec == http::error::bad_value ||
                     ec == http::error::bad_line_ending) {
            response = text_response(http::status::bad_request, "bad request\n", kPlainText);
          } else if (ec) {
            // Timed out, hung up or cancelled before a whole request: nothing to answer.
          } else if (parser.get().method() == http::verb::get &&
                     parser.get().target() == "/metrics") {
            response = text_response(http::status::ok, render_(), kMetricsText);
          } else {
            response = text_response(http::status::not_found, "not found: GET /metrics only\n",
                                     kPlainText);
          }
        }
        if (response && !*stopped) {
          co_await http::async_write(stream, *response, kTuple);
        }
        connection->close();
        if (!*stopped) {
          live_.erase(connection.get());
        }
      },
      asio::detached);
}

}  // namespace service
