// libFuzzer harness: the control protocol's request parser and dispatcher
// (service::CommandTable::handle_line), as the socket hands it each line, for a reader and an
// administrator. The table holds the daemon's command names and permissions with handlers that
// read their arguments the way the real ones do (string_argument, id_argument) and echo them.
// Properties: never throws; every reply is one JSON object with an integer "result" 0..3 and a
// string "text", echoing the request's id when it had one; refused peers are closed.
#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "daemon/control/command_table.h"

namespace {

using service::Answer;
using service::CommandTable;
using service::Peer;
using service::Permission;
using service::Request;
using service::ResultCode;

Answer echo(const Request& request) {
  boost::json::object out;
  for (const char* name : {"rule", "key", "text", "team", "week", "source", "status"}) {
    if (const auto value = service::string_argument(request, name)) out[name] = *value;
  }
  for (const char* name : {"id", "limit", "days"}) {
    if (const auto value = service::id_argument(request, name)) out[name] = *value;
  }
  return Answer{ResultCode::kSuccess, "ok " + request.command, out};
}

CommandTable make_table() {
  CommandTable table;
  for (const char* name :
       {"version-get", "status", "findings", "case", "review", "alerts", "outbox", "metrics"}) {
    table.add(name, Permission::kRead, [](const Request& r, const Peer&) { return echo(r); });
  }
  for (const char* name : {"note", "run-now", "reload", "silence", "unsilence", "outbox-retry",
                           "outbox-cancel", "shutdown"}) {
    table.add(name, Permission::kWrite, [](const Request& r, const Peer&) { return echo(r); });
  }
  return table;
}

void check(bool ok) {
  if (!ok) std::abort();
}

void check_reply(const service::Reply& reply) {
  boost::system::error_code ec;
  const boost::json::value parsed = boost::json::parse(reply.line, ec);
  check(!ec && parsed.is_object());
  const auto& object = parsed.as_object();
  const auto* result = object.if_contains("result");
  check(result != nullptr && result->is_int64() && result->get_int64() >= 0 &&
        result->get_int64() <= 3);
  check(result->get_int64() == static_cast<int>(reply.result) || reply.close ||
        reply.command.empty() || result->get_int64() != 0);
  const auto* text = object.if_contains("text");
  check(text != nullptr && text->is_string());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const CommandTable table = make_table();
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  Peer reader{1001, 1001, 42, "reader", Permission::kRead};
  Peer admin{0, 0, 43, "root", Permission::kWrite};
  Peer stranger{1002, 1002, 44, "uid 1002", Permission::kNone};
  check_reply(table.handle_line(line, reader));
  check_reply(table.handle_line(line, admin));
  const auto refused = table.handle_line(line, stranger);
  check_reply(refused);
  check(refused.close);
  return 0;
}
