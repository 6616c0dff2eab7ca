// The control socket: a Unix stream socket whose sessions read request lines and write reply
// lines. One coroutine per session; lines are capped, idle sessions are closed, and the number of
// sessions is capped. The peer is identified with SO_PEERCRED. What a line means is the
// handler's business (CommandTable::handle_line in the service).
// Not thread-safe: all methods are called from the loop thread.
#ifndef CASEWATCH_DAEMON_CONTROL_SERVER_H_
#define CASEWATCH_DAEMON_CONTROL_SERVER_H_

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "daemon/control/command_table.h"

namespace service {

inline constexpr std::size_t kMaxLineLength = 64 * 1024;

struct ServerOptions {
  std::filesystem::path socket;
  std::string group;  // the socket's group (chown when it exists)
  std::chrono::milliseconds idle_timeout{60000};
  int max_connections = 64;
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

 private:
  struct Session;
  void spawn_accept();
  void spawn_session(boost::asio::local::stream_protocol::socket socket);

  boost::asio::io_context& io_;
  ServerOptions options_;
  Identify identify_;
  Handler handler_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  std::set<Session*> sessions_;  // the live sessions; each is owned by its coroutines
  bool stopped_ = false;
  bool bound_ = false;
};

}  // namespace service

#endif  // CASEWATCH_DAEMON_CONTROL_SERVER_H_
