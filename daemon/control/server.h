// The control socket: a Unix stream socket whose sessions read request lines and write reply
// lines. One coroutine per session; lines are capped, idle sessions are closed, and the number of
// sessions is capped so that no one can lock administrators out: each uid may hold at most
// max_per_uid sessions, peers other than administrators max_connections in all, and
// administrators (Permission::kWrite: root, the service's user, admin_group) admin_reserve more.
// A peer refused (over a cap, or with no permission at all) is told why in one reply line and
// closed at once, before it holds a slot. The peer is identified with SO_PEERCRED. What a line
// means is the handler's business (CommandTable::handle_line in the service).
// Not thread-safe: all methods are called from the loop thread.
#ifndef CASEWATCH_DAEMON_CONTROL_SERVER_H_
#define CASEWATCH_DAEMON_CONTROL_SERVER_H_

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "daemon/control/command_table.h"

namespace service {

inline constexpr std::size_t kMaxLineLength = std::size_t{64} * 1024;

struct ServerOptions {
  std::filesystem::path socket;
  std::string group;  // the socket's group (chown when it exists)
  std::chrono::milliseconds idle_timeout{60000};
  int max_connections = 64;  // sessions in all, administrators' reserve aside
  int max_per_uid = 16;      // sessions of one uid (administrators: no per-uid cap)
  int admin_reserve = 4;     // sessions beyond max_connections that only administrators may use
  std::size_t max_line = kMaxLineLength;  // bytes, newline excluded
};

class ControlServer {
 public:
  // Turns one request line from `peer` into a reply; it may wait (a command run on the pool)
  // while other sessions are served. `line` and `peer` stay valid until it completes.
  using Handler =
      std::function<boost::asio::awaitable<Reply>(std::string_view line, const Peer& peer)>;
  // Works out a peer's identity and permission from its SO_PEERCRED credentials.
  using Identify = std::function<Peer(std::int64_t uid, std::int64_t gid, std::int64_t pid)>;

  // REQUIRES: io outlives the server.
  ControlServer(boost::asio::io_context& io, ServerOptions options, Identify identify,
                Handler handler);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Creates the socket's folder (0750) when absent, removes a stale socket file, binds, sets the
  // socket to 0660 with the configured group and starts accepting. Throws std::runtime_error
  // (naming the path) when another process is listening there, when the path is not a socket,
  // or when binding fails.
  void start();

  // Stops accepting, ends every session after the reply it is writing and removes the socket
  // file. Idempotent.
  void stop() noexcept;

  std::size_t sessions() const { return sessions_.size(); }

  // Connections refused since start, by why.
  struct Refusals {
    std::int64_t per_uid = 0;        // the uid held max_per_uid sessions
    std::int64_t full = 0;           // max_connections (+ the reserve for administrators) held
    std::int64_t not_permitted = 0;  // the peer may use no command
  };
  const Refusals& refusals() const { return refusals_; }
  // accept() calls that failed (out of file descriptors, say) since start. After each, the
  // server pauses before accepting again (50 ms, doubling up to 1 s) instead of spinning.
  std::int64_t accept_failures() const { return accept_failures_; }
  // Tests: while `error` is set, each accept waits for a connection and then fails with `error`,
  // leaving the connection queued, as accept() does out of file descriptors (EMFILE). An empty
  // error_code accepts for real again. (A lowered RLIMIT_NOFILE cannot stand in for this in the
  // unit tests: the sanitizers' runtime needs descriptors too, and fails first.)
  void fail_accepts_with(boost::system::error_code error) { injected_accept_error_ = error; }
  // Called for each peer refused because it may use no command (for the audit log). Refusals
  // over a cap are counted and logged (a line a minute at most) instead: a flood of them must
  // not become a flood of writes.
  void on_refused(std::function<void(const Peer&)> callback) { on_refused_ = std::move(callback); }

 private:
  struct Session;
  void spawn_accept();
  void spawn_session(boost::asio::local::stream_protocol::socket socket);
  // Why `peer` may not have a session now, or nullopt; counts the refusal.
  std::optional<std::string> refusal(const Peer& peer);
  void log_refusal(const Peer& peer, const std::string& why);

  boost::asio::io_context& io_;
  ServerOptions options_;
  Identify identify_;
  Handler handler_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  boost::asio::steady_timer accept_pause_;  // the pause after a failed accept
  std::set<Session*> sessions_;             // the live sessions; each is owned by its coroutines
  std::map<std::int64_t, int> per_uid_;     // live sessions by uid
  Refusals refusals_;
  std::function<void(const Peer&)> on_refused_;
  std::chrono::steady_clock::time_point last_refusal_log_{};
  std::int64_t unlogged_refusals_ = 0;
  std::int64_t accept_failures_ = 0;
  boost::system::error_code injected_accept_error_;
  bool stopped_ = false;
  bool bound_ = false;
};

}  // namespace service

#endif  // CASEWATCH_DAEMON_CONTROL_SERVER_H_
