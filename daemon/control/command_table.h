// The control protocol: one JSON object per line each way, shaped like ISC Kea's control channel.
//   {"command": "findings", "arguments": {"rule": "unallocated"}, "id": 7}
//   -> {"result": 0, "text": "...", "arguments": {...}, "id": 7}
// result: 0 success, 1 error, 2 unsupported command, 3 empty. A CommandTable maps command names
// to handlers; CommandTable::handle_line is the one catch site for control requests: whatever a
// handler throws becomes a result-1 reply and the daemon lives on. No command waits on SQLite on
// the loop thread: one that writes is a pool command, run on the pool thread after the running
// job (PoolHandler); one that reads the database or is heavy is a reader command, run on the
// reader thread with its read-only connection (ReaderHandler); only the rest runs on the loop.
// Not thread-safe: add() before use; after that the const methods may be called from any thread.
#ifndef CASEWATCH_DAEMON_CONTROL_COMMAND_TABLE_H_
#define CASEWATCH_DAEMON_CONTROL_COMMAND_TABLE_H_

#include <sys/types.h>

#include <boost/json.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace storage {
class History;
}

namespace service {

struct Settings;
struct Reading;  // what a reader command reads with: daemon/control/findings_view.h

inline constexpr int kProtocolVersion = 1;

enum class ResultCode : int { kSuccess = 0, kError = 1, kUnsupported = 2, kEmpty = 3 };

// What a peer may do. Write commands change state (note, run-now, reload, shutdown).
enum class Permission { kNone, kRead, kWrite };

// Who asked, as SO_PEERCRED and the user database tell it.
struct Peer {
  std::int64_t uid = -1;
  std::int64_t gid = -1;
  std::int64_t pid = 0;
  std::string user;  // user name, or "uid 1001" when unknown
  Permission permission = Permission::kNone;
};

// Who may do what: root and the service's own uid may do everything; members of `read_group`
// may use read commands; members of `admin_group` may also use write commands.
struct AccessPolicy {
  std::int64_t service_uid = 0;
  std::optional<std::int64_t> read_group;   // gid of config.service.socket_group, if it exists
  std::optional<std::int64_t> admin_group;  // gid of config.service.admin_group, if it exists
};

// The permission of a peer with `uid` whose groups (primary and supplementary) are `groups`.
Permission permission_for(std::int64_t uid, const std::vector<std::int64_t>& groups,
                          const AccessPolicy& policy);

// The groups of the user `uid` (primary `gid` included) from the user database; {gid} when the
// user is unknown.
std::vector<std::int64_t> groups_of(std::int64_t uid, std::int64_t gid);

// The user name of `uid`, or "uid N" when it has none.
std::string user_name(std::int64_t uid);

// The gid of the group called `name`; nullopt when empty or unknown.
std::optional<std::int64_t> group_id(std::string_view name);

// One parsed request.
struct Request {
  std::string command;
  boost::json::object arguments;
  boost::json::value id;  // echoed in the reply; null when absent
};

// A handler's answer.
struct Answer {
  ResultCode result = ResultCode::kSuccess;
  std::string text;
  boost::json::value arguments;  // null: no "arguments" member in the reply
  // When set, the "arguments" member already serialized (a cached answer: big replies are built
  // once and shared); `arguments` is then ignored. REQUIRES: one JSON value.
  std::shared_ptr<const std::string> serialized_arguments = {};
};

// What one request line produced.
struct Reply {
  std::string line;     // the JSON reply, without the newline
  bool close = false;   // close the connection after sending it (refused peers)
  std::string command;  // for the audit: the command name, or "" when the line had none
  ResultCode result = ResultCode::kSuccess;
};

// The argument `name` as a string; nullopt when absent or null. Throws std::invalid_argument
// "argument \"name\" must be a string" for another type.
std::optional<std::string> string_argument(const Request& request, std::string_view name);

// The argument `name` as a non-negative integer, given as a JSON number or as decimal digits in a
// string (the client passes what was typed); nullopt when absent or null. Throws
// std::invalid_argument "argument \"name\" must be a whole number" otherwise.
std::optional<std::int64_t> id_argument(const Request& request, std::string_view name);

// The reply line for `answer` to a request with `id`.
std::string format_reply(const Answer& answer, const boost::json::value& id);

// A pool command's answer, and what the loop does once it is back.
struct PoolAnswer {
  Answer answer;
  std::function<void()> then = {};  // on the loop thread after the answer; may be empty
};

class CommandTable {
 public:
  using Handler = std::function<Answer(const Request&, const Peer&)>;
  // A command that writes to the database: the service runs it on the pool thread with that
  // thread's connection and the settings of the moment it was asked, so that the loop (and
  // `status`) never waits on SQLite's write lock, which a running ingest holds.
  using PoolHandler =
      std::function<PoolAnswer(const Request&, const Peer&, storage::History&, const Settings&)>;
  // A command that reads the database or takes long: the service runs it on the reader thread,
  // so that the loop never waits for it, nor it for a running job.
  using ReaderHandler = std::function<Answer(const Request&, const Peer&, const Reading&)>;
  // A reader command's answer when the loop has it at hand (a cached one); nullopt: ask the
  // reader thread.
  using QuickHandler = std::function<std::optional<Answer>(const Request&, const Peer&)>;

  // Registers `name`; `needs` is kRead or kWrite. REQUIRES: `name` not registered yet.
  void add(std::string name, Permission needs, Handler handler);
  void add_pool(std::string name, Permission needs, PoolHandler handler);
  void add_reader(std::string name, Permission needs, ReaderHandler handler,
                  QuickHandler quick = {});

  // A parsed request the peer may make, with its command's handler, pool or reader handler.
  struct Call {
    Request request;
    const Handler* handler = nullptr;
    const PoolHandler* pool = nullptr;
    const ReaderHandler* reader = nullptr;
    const QuickHandler* quick = nullptr;  // with `reader`, when it has one
  };

  // Parses `line` and checks the peer's permission: the refusal as a Reply (garbage -> result 1
  // "not JSON: ...", an unknown command -> result 2, a refused peer -> result 1 "permission
  // denied" and close), else the Call.
  std::variant<Reply, Call> prepare(std::string_view line, const Peer& peer) const;

  // Runs `call` on this thread: its handler, or its pool handler with `history` and `settings`
  // (its follow-up goes to `*then` when given), or its reader handler with `reading`. The catch
  // site: a handler's exception becomes a result-1 reply with its message; a pool command without
  // a history, or a reader command without a reading, answers result 1.
  Reply run(const Call& call, const Peer& peer, storage::History* history = nullptr,
            const Settings* settings = nullptr, std::function<void()>* then = nullptr,
            const Reading* reading = nullptr) const;
  // A reader command's quick answer, when its quick handler has one (a handler's exception
  // becomes a result-1 reply, as in run()).
  std::optional<Reply> run_quick(const Call& call, const Peer& peer) const;

  // The result-1 reply "<command> failed: <what>" to `request`.
  static Reply failed(const Request& request, std::string_view what);

  // prepare() and run() on this thread, a pool command's follow-up right after it (tests, the
  // fuzz harness). Never throws for anything a handler or the line does.
  Reply handle_line(std::string_view line, const Peer& peer, storage::History* history = nullptr,
                    const Settings* settings = nullptr, const Reading* reading = nullptr) const;

  std::vector<std::string> names() const;

 private:
  struct Entry {
    Permission needs = Permission::kRead;
    Handler handler;
    PoolHandler pool;
    ReaderHandler reader;
    QuickHandler quick;
  };
  std::map<std::string, Entry, std::less<>> commands_;
};

}  // namespace service

#endif  // CASEWATCH_DAEMON_CONTROL_COMMAND_TABLE_H_
