#include "daemon/control/server.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "daemon/cancel.h"

namespace service {
namespace {

namespace asio = boost::asio;
using asio::local::stream_protocol;
using Clock = std::chrono::steady_clock;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
// The pauses after a failed accept: the first, doubling up to the longest.
constexpr std::chrono::milliseconds kFirstAcceptPause{50};
constexpr std::chrono::milliseconds kLongestAcceptPause{1000};

}  // namespace

// One connection. Owned jointly by its reader and its idle watchdog coroutines.
struct ControlServer::Session {
  explicit Session(stream_protocol::socket s)
      : socket(std::move(s)), timer(socket.get_executor()) {}

  void close() noexcept {
    boost::system::error_code ignored;
    socket.shutdown(stream_protocol::socket::shutdown_both, ignored);
    socket.close(ignored);
    cancel_quietly(timer);
  }

  stream_protocol::socket socket;
  asio::steady_timer timer;
  Clock::time_point deadline;
  Peer peer;
};

ControlServer::ControlServer(asio::io_context& io, ServerOptions options, Identify identify,
                             Handler handler)
    : io_(io),
      options_(std::move(options)),
      identify_(std::move(identify)),
      handler_(std::move(handler)),
      acceptor_(io),
      accept_pause_(io) {}

ControlServer::~ControlServer() { stop(); }

void ControlServer::start() {
  namespace fs = std::filesystem;
  const fs::path& path = options_.socket;
  const fs::path folder = path.parent_path();
  if (!folder.empty() && !fs::exists(folder)) {
    fs::create_directories(folder);
    fs::permissions(folder, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec);
  }
  const auto status = fs::symlink_status(path);
  if (fs::exists(status)) {
    if (!fs::is_socket(status)) {
      throw std::runtime_error(fmt::format("{} exists and is not a socket", path.string()));
    }
    stream_protocol::socket probe(io_);
    boost::system::error_code ec;
    probe.connect(stream_protocol::endpoint(path.string()), ec);
    if (!ec) {
      throw std::runtime_error(fmt::format("another casewatchd is listening on {}", path.string()));
    }
    fs::remove(path);  // stale: its daemon is gone
  }
  acceptor_.open(stream_protocol());
  boost::system::error_code ec;
  const mode_t old_mask = ::umask(0117);
  acceptor_.bind(stream_protocol::endpoint(path.string()), ec);
  ::umask(old_mask);
  if (ec) {
    throw std::runtime_error(fmt::format("cannot bind {}: {}", path.string(), ec.message()));
  }
  bound_ = true;
  acceptor_.listen(asio::socket_base::max_listen_connections);
  acceptor_.non_blocking(true);
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                            fs::perms::group_write);
  if (const auto gid = group_id(options_.group)) {
    if (::chown(path.c_str(), static_cast<uid_t>(-1), static_cast<gid_t>(*gid)) != 0) {
      spdlog::warn("cannot give {} to group {}: {}", path.string(), options_.group,
                   std::system_category().message(errno));
    }
  } else if (!options_.group.empty()) {
    spdlog::warn("socket group {} does not exist; {} keeps its owner's group", options_.group,
                 path.string());
  }
  spawn_accept();
}

void ControlServer::stop() noexcept {
  if (stopped_) {
    return;
  }
  stopped_ = true;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  cancel_quietly(accept_pause_);
  // Half-close: each session still sends the reply it is writing (e.g. to `shutdown`), then
  // reads end-of-file and closes itself.
  for (Session* session : sessions_) {
    session->socket.shutdown(stream_protocol::socket::shutdown_receive, ignored);
  }
  if (bound_) {
    std::error_code also_ignored;
    std::filesystem::remove(options_.socket, also_ignored);
  }
}

void ControlServer::spawn_accept() {
  asio::co_spawn(
      io_,
      [this]() -> asio::awaitable<void> {
        auto pause = kFirstAcceptPause;
        std::int64_t in_a_row = 0;
        for (;;) {
          // Waits for a connection, then accepts it (the acceptor does not block: a peer gone
          // in between is would_block). fail_accepts_with() replaces only the accept.
          auto [ec] = co_await acceptor_.async_wait(stream_protocol::acceptor::wait_read, kTuple);
          // Aborted: stop() closed the acceptor, or the server is gone (so `this` is not read).
          if (ec == asio::error::operation_aborted || stopped_) {
            co_return;
          }
          stream_protocol::socket socket(io_);
          if (!ec && injected_accept_error_) {
            ec = injected_accept_error_;
          } else if (!ec) {
            acceptor_.accept(socket, ec);
          }
          if (ec == asio::error::would_block || ec == asio::error::try_again) {
            continue;
          }
          if (ec == asio::error::connection_aborted) {
            continue;  // that peer left: take the next
          }
          if (ec) {
            // Out of file descriptors (EMFILE, ENFILE) or memory: the connection stays queued,
            // so accepting again at once fails again at once, a busy loop on the loop thread.
            // Pause, doubling up to kLongestAcceptPause; one log line per episode.
            ++accept_failures_;
            if (in_a_row++ == 0) {
              spdlog::error("control socket: accept failed: {}; accepting again after a pause",
                            ec.message());
            }
            accept_pause_.expires_after(pause);
            auto [pause_ec] = co_await accept_pause_.async_wait(kTuple);
            if (pause_ec == asio::error::operation_aborted || stopped_) {
              co_return;
            }
            pause = std::min(pause * 2, kLongestAcceptPause);
            continue;
          }
          if (in_a_row > 0) {
            spdlog::info("control socket: accepting again after {} failed accept{}", in_a_row,
                         in_a_row == 1 ? "" : "s");
            in_a_row = 0;
            pause = kFirstAcceptPause;
          }
          spawn_session(std::move(socket));
        }
      },
      asio::detached);
}

std::optional<std::string> ControlServer::refusal(const Peer& peer) {
  if (peer.permission == Permission::kNone) {
    ++refusals_.not_permitted;
    return "permission denied";
  }
  const bool admin = peer.permission == Permission::kWrite;
  const std::size_t cap = static_cast<std::size_t>(options_.max_connections) +
                          (admin ? static_cast<std::size_t>(options_.admin_reserve) : 0);
  if (sessions_.size() >= cap) {
    ++refusals_.full;
    return admin ? "too many connections"
                 : fmt::format(
                       "too many connections ({} open); {} more are kept for "
                       "administrators",
                       sessions_.size(), options_.admin_reserve);
  }
  const auto held = per_uid_.find(peer.uid);
  if (!admin && held != per_uid_.end() && held->second >= options_.max_per_uid) {
    ++refusals_.per_uid;
    return fmt::format("too many connections from uid {} ({} open, at most {} per user)", peer.uid,
                       held->second, options_.max_per_uid);
  }
  return std::nullopt;
}

// One line per minute at most, whatever the rate of refusals: a flood must not flood the log.
void ControlServer::log_refusal(const Peer& peer, const std::string& why) {
  const auto now = Clock::now();
  ++unlogged_refusals_;
  if (last_refusal_log_ != Clock::time_point{} &&
      now - last_refusal_log_ < std::chrono::minutes(1)) {
    return;
  }
  spdlog::warn("control socket: refused a connection from uid {} (pid {}): {}{}", peer.uid,
               peer.pid, why,
               unlogged_refusals_ > 1
                   ? fmt::format("; {} refused in all since the last such line", unlogged_refusals_)
                   : std::string());
  last_refusal_log_ = now;
  unlogged_refusals_ = 0;
}

void ControlServer::spawn_session(stream_protocol::socket socket) {
  auto session = std::make_shared<Session>(std::move(socket));
  ucred cred{};
  socklen_t length = sizeof cred;
  if (::getsockopt(session->socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &length) != 0) {
    session->close();
    return;
  }
  session->peer = identify_(cred.uid, cred.gid, cred.pid);
  if (const auto why = refusal(session->peer)) {
    // Told why and closed at once: the reply fits the socket's buffer, so it is not waited for.
    const std::string line = format_reply(Answer{ResultCode::kError, *why, nullptr}, {}) + "\n";
    boost::system::error_code ignored;
    session->socket.non_blocking(true, ignored);
    session->socket.write_some(asio::buffer(line), ignored);
    session->close();
    if (session->peer.permission == Permission::kNone) {
      if (on_refused_) {
        on_refused_(session->peer);
      }
    } else {
      log_refusal(session->peer, *why);
    }
    return;
  }
  session->deadline = Clock::now() + options_.idle_timeout;
  session->timer.expires_at(session->deadline);
  sessions_.insert(session.get());
  ++per_uid_[session->peer.uid];

  // The idle watchdog: closes the session when no whole line arrived before its deadline.
  asio::co_spawn(
      io_,
      [session]() -> asio::awaitable<void> {
        for (;;) {
          co_await session->timer.async_wait(kTuple);
          if (!session->socket.is_open()) {
            co_return;
          }
          if (session->deadline <= Clock::now()) {
            session->close();
            co_return;
          }
          session->timer.expires_at(session->deadline);
        }
      },
      asio::detached);

  asio::co_spawn(
      io_,
      [this, session]() -> asio::awaitable<void> {
        std::string buffer;
        for (;;) {
          auto [ec, n] = co_await asio::async_read_until(
              session->socket, asio::dynamic_buffer(buffer, options_.max_line + 1), '\n', kTuple);
          if (ec == asio::error::not_found) {
            const std::string too_long =
                format_reply(
                    Answer{ResultCode::kError,
                           fmt::format("line longer than {} bytes", options_.max_line), nullptr},
                    {}) +
                "\n";
            co_await asio::async_write(session->socket, asio::buffer(too_long), kTuple);
            break;
          }
          if (ec) {
            break;  // hang-up, EOF, closed by the watchdog or stop()
          }
          std::string_view line(buffer.data(), n - 1);
          if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
          }
          // No idle deadline while the command runs (it may wait behind a job on the pool).
          session->deadline = Clock::time_point::max();
          session->timer.expires_at(session->deadline);
          Reply reply = co_await handler_(line, session->peer);
          session->deadline = Clock::now() + options_.idle_timeout;
          session->timer.expires_at(session->deadline);
          buffer.erase(0, n);
          // The reply and its newline as two buffers: appending the newline could copy a
          // review of megabytes on the loop thread.
          const std::array<asio::const_buffer, 2> out{asio::buffer(reply.line),
                                                      asio::buffer("\n", 1)};
          auto [write_ec, written] = co_await asio::async_write(session->socket, out, kTuple);
          if (write_ec || reply.close) {
            break;
          }
        }
        session->close();
        sessions_.erase(session.get());
        if (const auto held = per_uid_.find(session->peer.uid);
            held != per_uid_.end() && --held->second <= 0) {
          per_uid_.erase(held);
        }
      },
      asio::detached);
}

}  // namespace service
