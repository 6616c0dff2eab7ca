// casewatch: the control socket's client. One request line, one reply line; readable tables by
// default, the raw reply with --json. Exit codes: 0 for result 0 or 3 (1 for result 3 of `case`
// and `review`: they found nothing), 1 for result 1 or 2, 2 for usage errors, 69 (EX_UNAVAILABLE)
// when the daemon is not running, 77 (EX_NOPERM) when refused.
#include <fmt/format.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace {

namespace json = boost::json;

constexpr int kExitError = 1;
constexpr int kExitUsage = 2;
constexpr int kExitUnavailable = 69;   // EX_UNAVAILABLE
constexpr int kExitNoPermission = 77;  // EX_NOPERM

constexpr std::string_view kUsage = R"(usage: casewatch [--socket PATH] [--json] COMMAND
commands:
  status
  findings [--rule R] [--team T] [--band B] [--status new|carried] [--offset N] [--limit N]
           (1000 findings a page unless --limit, at most 10000)
  case KEY
  review [--week 2026-W47] [--format text|html|csv]
  note RULE KEY TEXT
  alerts
  silence RULE [--scope CASE-OR-TEAM] --reason TEXT (--expires YYYY-MM-DD | --until-resolved)
  unsilence ID
  outbox [list [--state pending|sent|failed|cancelled] | retry ID | cancel ID]
  backup FILE      (a consistent copy of the database, written by the service; a bare name
                   goes into its state folder's backups/)
  run-now | reload | metrics | shutdown | version
The socket defaults to $CASEWATCH_SOCKET, else /run/casewatch/control.sock.
exit codes:
    0   done (a list that is empty is still done: `findings`, `alerts`, `outbox`)
    1   the daemon answered with an error, or found nothing: `case` a key with no finding,
        note or record, `review --week W` a week no review was produced for (a review that
        lists no cases, or says NO DATA, is found: 0)
    2   usage error
    69  the daemon is not running (no socket, or nobody answers on it)
    77  permission denied (not root, the service user or in the configured group)
)";

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Invocation {
  std::string socket;
  bool json = false;
  std::string command;
  json::object arguments;
};

Invocation parse_arguments(int argc, char* argv[]) {
  Invocation out;
  const char* env = std::getenv("CASEWATCH_SOCKET");
  out.socket = env != nullptr && *env != '\0' ? env : "/run/casewatch/control.sock";
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  std::vector<std::string_view> positional;
  std::size_t i = 0;
  const auto value = [&](std::string_view option) -> std::string {
    if (i + 1 >= args.size()) {
      throw UsageError(fmt::format("{} needs a value", option));
    }
    return std::string(args[++i]);
  };
  // Options valid for the current command, e.g. {"--rule", "rule"}.
  const std::vector<std::pair<std::string_view, std::string_view>> findings_options = {
      {"--rule", "rule"},     {"--team", "team"},     {"--band", "band"},
      {"--status", "status"}, {"--offset", "offset"}, {"--limit", "limit"}};
  const std::vector<std::pair<std::string_view, std::string_view>> review_options = {
      {"--week", "week"}, {"--format", "format"}};
  const std::vector<std::pair<std::string_view, std::string_view>> silence_options = {
      {"--scope", "scope"}, {"--reason", "reason"}, {"--expires", "expires"}};
  const std::vector<std::pair<std::string_view, std::string_view>> outbox_options = {
      {"--state", "state"}};
  for (; i < args.size(); ++i) {
    const auto arg = args[i];
    if (arg == "--socket") {
      out.socket = value(arg);
    } else if (arg == "--json") {
      out.json = true;
    } else if (arg == "--until-resolved" && out.command == "silence") {
      if (out.arguments.contains("expires")) {
        throw UsageError("--expires and --until-resolved exclude each other");
      }
      out.arguments["expires"] = "until-resolved";
    } else if (arg.starts_with("--")) {
      const auto& options = out.command == "findings"  ? findings_options
                            : out.command == "review"  ? review_options
                            : out.command == "silence" ? silence_options
                            : out.command == "outbox"  ? outbox_options
                                                       : decltype(findings_options){};
      if (arg == "--expires" && out.arguments.contains("expires")) {
        throw UsageError("--expires and --until-resolved exclude each other");
      }
      const auto found = std::find_if(options.begin(), options.end(),
                                      [&](const auto& o) { return o.first == arg; });
      if (found == options.end()) {
        throw UsageError(fmt::format("unknown option '{}'", arg));
      }
      out.arguments[found->second] = value(arg);
    } else if (out.command.empty()) {
      out.command = std::string(arg);
    } else {
      positional.push_back(arg);
    }
  }
  if (out.command.empty()) {
    throw UsageError("a command is needed");
  }
  const auto want = [&](std::size_t n) {
    if (positional.size() != n) {
      throw UsageError(fmt::format("{} takes {} argument{}", out.command, n, n == 1 ? "" : "s"));
    }
  };
  if (out.command == "case") {
    want(1);
    out.arguments["key"] = positional[0];
  } else if (out.command == "note") {
    want(3);
    out.arguments["rule"] = positional[0];
    out.arguments["key"] = positional[1];
    out.arguments["text"] = positional[2];
  } else if (out.command == "silence") {
    want(1);
    out.arguments["rule"] = positional[0];
    if (!out.arguments.contains("reason")) {
      throw UsageError("silence needs --reason");
    }
    if (!out.arguments.contains("expires")) {
      throw UsageError("silence needs --expires YYYY-MM-DD or --until-resolved");
    }
  } else if (out.command == "backup") {
    want(1);
    out.arguments["file"] = positional[0];
  } else if (out.command == "unsilence") {
    want(1);
    out.arguments["id"] = positional[0];
  } else if (out.command == "outbox") {
    const std::string_view action = positional.empty() ? "list" : positional[0];
    if (action == "list") {
      if (positional.size() > 1) {
        throw UsageError("outbox list takes no argument");
      }
    } else if (action == "retry" || action == "cancel") {
      if (positional.size() != 2) {
        throw UsageError(fmt::format("outbox {} takes an id", action));
      }
      if (out.arguments.contains("state")) {
        throw UsageError("--state goes with outbox list");
      }
      out.command = fmt::format("outbox-{}", action);
      out.arguments["id"] = positional[1];
    } else {
      throw UsageError(fmt::format("unknown outbox action '{}': list, retry or cancel", action));
    }
  } else if (out.command == "version") {
    want(0);
    out.command = "version-get";
  } else if (out.command == "status" || out.command == "findings" || out.command == "review" ||
             out.command == "run-now" || out.command == "reload" || out.command == "alerts" ||
             out.command == "metrics" || out.command == "shutdown") {
    want(0);
  } else {
    throw UsageError(fmt::format("unknown command '{}'", out.command));
  }
  return out;
}

// Exit status and message for a failed connection.
struct Unreachable {
  int status;
  std::string message;
};

// Sends one line and returns the reply line, or why the daemon could not be reached.
std::variant<std::string, Unreachable> ask_daemon(const std::string& path,
                                                  const std::string& line) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path) {
    return Unreachable{kExitUsage, fmt::format("casewatch: socket path too long: {}", path)};
  }
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return Unreachable{kExitError, fmt::format("casewatch: socket: {}", strerror(errno))};
  }
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    const int error = errno;
    ::close(fd);
    if (error == EACCES || error == EPERM) {
      return Unreachable{kExitNoPermission,
                         fmt::format("casewatch: permission denied on {}: ask to be added to the "
                                     "casewatch socket's group",
                                     path)};
    }
    return Unreachable{kExitUnavailable,
                       fmt::format("casewatch: the daemon is not running (no socket at {})", path)};
  }
  std::string request = line + "\n";
  std::size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    sent += static_cast<std::size_t>(n);
  }
  std::string reply;
  char buffer[65536];
  while (reply.find('\n') == std::string::npos) {
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    reply.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  const auto end = reply.find('\n');
  if (end == std::string::npos) {
    return Unreachable{kExitUnavailable, "casewatch: the daemon closed the connection"};
  }
  return reply.substr(0, end);
}

std::string text_of(const json::value& value) {
  if (value.is_string()) {
    return std::string(value.get_string());
  }
  if (value.is_null()) {
    return "-";
  }
  return json::serialize(value);
}

// Prints rows as columns padded to their widest cell.
void print_table(const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths(header.size());
  for (std::size_t c = 0; c < header.size(); ++c) {
    widths[c] = header[c].size();
  }
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < row.size() && c < widths.size(); ++c) {
      widths[c] = std::max(widths[c], row[c].size());
    }
  }
  const auto print_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      line += c + 1 == row.size() ? row[c] : fmt::format("{:<{}}  ", row[c], widths[c]);
    }
    std::cout << line << "\n";
  };
  print_row(header);
  for (const auto& row : rows) {
    print_row(row);
  }
}

// A time of the status reply for people: the service time zone's rendering ("key_local") when
// the daemon gives one, else the UTC text; "-" for none.
std::string local_time(const json::object& object, std::string_view key) {
  const auto* local = object.if_contains(std::string(key) + "_local");
  if (local != nullptr && local->is_string()) {
    return text_of(*local);
  }
  const auto* utc = object.if_contains(key);
  return utc == nullptr || utc->is_null() ? std::string("-") : text_of(*utc);
}

void print_status(const json::object& args) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& source : args.at("sources").as_array()) {
    const auto& s = source.as_object();
    const auto get = [&](std::string_view key) {
      const auto* v = s.if_contains(key);
      return v == nullptr ? std::string("-") : text_of(*v);
    };
    rows.push_back({get("source"), get("file"), get("as_of"), get("rows"), get("age_days"),
                    local_time(s, "ingested_at")});
  }
  print_table({"SOURCE", "LATEST EXTRACT", "AS OF", "ROWS", "AGE (DAYS)", "INGESTED"}, rows);
  std::cout << "\n";
  rows.clear();
  for (const auto& rule : args.at("rules").as_array()) {
    const auto& r = rule.as_object();
    std::string bands;
    for (const auto& [band, count] : r.at("bands").as_object()) {
      bands += fmt::format("{}{}: {}", bands.empty() ? "" : "; ", std::string_view(band),
                           text_of(count));
    }
    rows.push_back({text_of(r.at("rule")), text_of(r.at("open")), text_of(r.at("new")), bands});
  }
  print_table({"RULE", "OPEN", "NEW", "BANDS"}, rows);
  // The named totals, worded as `--once` and the review word them.
  bool totals_heading = false;
  for (const auto& rule : args.at("rules").as_array()) {
    const auto* totals = rule.as_object().if_contains("totals");
    if (totals == nullptr || !totals->is_string()) {
      continue;
    }
    if (!totals_heading) {
      std::cout << "\nTotals:\n";
    }
    totals_heading = true;
    std::cout << fmt::format("  {}: {}\n", text_of(rule.at("rule")), text_of(*totals));
  }
  if (const auto* ignored = args.if_contains("ignored");
      ignored != nullptr && ignored->is_array() && !ignored->as_array().empty()) {
    std::cout << "\nInbox files not read:\n";
    for (const auto& item : ignored->as_array()) {
      const auto& i = item.as_object();
      std::cout << fmt::format("  {}: {}\n", text_of(i.at("file")), text_of(i.at("reason")));
    }
  }
  if (const auto* fetches = args.if_contains("fetches");
      fetches != nullptr && !fetches->as_array().empty()) {
    std::cout << "\n";
    rows.clear();
    for (const auto& fetch : fetches->as_array()) {
      const auto& f = fetch.as_object();
      const auto* detail = f.if_contains("detail");
      rows.push_back({text_of(f.at("source")), local_time(f, "last_run"),
                      detail == nullptr ? "-" : text_of(*detail)});
    }
    print_table({"FETCH", "LAST RUN", "RESULT"}, rows);
  }
  std::string last_review = text_of(args.at("last_review_week"));
  if (const auto at = local_time(args, "last_review_at"); at != "-") {
    last_review += ", " + at;
  }
  std::cout << "\nnext review: " << local_time(args, "next_review")
            << "; last review: " << last_review << "; up " << text_of(args.at("uptime_seconds"))
            << " s\n";
  if (const auto* zone = args.if_contains("timezone"); zone != nullptr && zone->is_string()) {
    std::cout << "times in the service time zone, " << text_of(*zone) << "\n";
  }
  if (const auto* error = args.if_contains("last_cycle_error"); error && !error->is_null()) {
    std::cout << "last ingest cycle failed: " << text_of(*error) << "\n";
  }
}

void print_findings(const json::array& findings) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& finding : findings) {
    const auto& f = finding.as_object();
    const auto get = [&](std::string_view key) {
      const auto* v = f.if_contains(key);
      return v == nullptr ? std::string("-") : text_of(*v);
    };
    // Caseload findings count cases where the others count days.
    std::string note = "-";
    if (const auto* n = f.if_contains("note"); n != nullptr && n->is_object()) {
      note = text_of(n->as_object().at("text"));
    }
    rows.push_back({get("rule"), get("key"), get("team"), get("worker"), get("band"), get("status"),
                    f.contains("cases") ? get("cases") + " cases" : get("days"), get("due"), note});
  }
  print_table({"RULE", "KEY", "TEAM", "WORKER", "BAND", "STATUS", "DAYS", "DUE", "LATEST NOTE"},
              rows);
}

void print_case(const json::object& args) {
  const auto& findings = args.at("findings").as_array();
  if (!findings.empty()) {
    std::cout << "Open findings:\n";
    print_findings(findings);
  }
  const auto& resolved = args.at("resolved").as_array();
  if (!resolved.empty()) {
    std::cout << "\nResolved:\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& item : resolved) {
      const auto& r = item.as_object();
      rows.push_back({text_of(r.at("rule")), text_of(r.at("first_seen")),
                      text_of(r.at("resolved_on")), text_of(r.at("reason")),
                      text_of(r.at("detail"))});
    }
    print_table({"RULE", "FIRST SEEN", "RESOLVED", "REASON", "DETAIL"}, rows);
  }
  if (const auto* notes = args.if_contains("notes"); notes != nullptr && notes->is_array()) {
    if (!notes->as_array().empty()) {
      std::cout << "\nNotes (oldest first):\n";
    }
    for (const auto& item : notes->as_array()) {
      const auto& n = item.as_object();
      std::cout << fmt::format(
          "  {} {} {} (on the finding first seen {}{}): {}\n", text_of(n.at("at")),
          text_of(n.at("author")), text_of(n.at("rule")), text_of(n.at("finding_first_seen")),
          n.at("finding_open").as_bool() ? ", open" : ", resolved", text_of(n.at("text")));
    }
  }
  const auto& records = args.at("records").as_array();
  if (!records.empty()) {
    std::cout << "\nRecord history:\n";
    for (const auto& item : records) {
      const auto& r = item.as_object();
      std::cout << fmt::format("  {} {} to {}:", text_of(r.at("source")),
                               text_of(r.at("valid_from")), text_of(r.at("valid_to")));
      for (const auto& [field, value] : r.at("values").as_object()) {
        std::cout << fmt::format(" {}={}", std::string_view(field), text_of(value));
      }
      std::cout << "\n";
    }
  }
}

void print_alerts(const json::object& args) {
  const auto get = [](const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v == nullptr ? std::string("-") : text_of(*v);
  };
  std::vector<std::vector<std::string>> rows;
  for (const auto& item : args.at("alerts").as_array()) {
    const auto& a = item.as_object();
    const auto* silenced = a.if_contains("silenced");
    rows.push_back(
        {get(a, "status"), get(a, "kind"), get(a, "subject"), get(a, "scope"), get(a, "team"),
         get(a, "started"),
         silenced != nullptr && silenced->is_bool() && silenced->get_bool() ? "yes" : "no",
         get(a, "summary")});
  }
  if (!rows.empty()) {
    print_table({"STATUS", "KIND", "SUBJECT", "SCOPE", "TEAM", "SINCE", "SILENCED", "SUMMARY"},
                rows);
  }
  rows.clear();
  for (const auto& item : args.at("silences").as_array()) {
    const auto& s = item.as_object();
    const auto* expires = s.if_contains("expires");
    rows.push_back({get(s, "id"), get(s, "rule"), get(s, "scope"),
                    expires == nullptr || expires->is_null() ? "until resolved" : text_of(*expires),
                    get(s, "who"), get(s, "reason")});
  }
  if (!rows.empty()) {
    std::cout << "\nSilences:\n";
    print_table({"ID", "RULE", "SCOPE", "EXPIRES", "WHO", "REASON"}, rows);
  }
}

void print_outbox(const json::array& entries) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& item : entries) {
    const auto& e = item.as_object();
    const auto get = [&](std::string_view key) {
      const auto* v = e.if_contains(key);
      return v == nullptr ? std::string("-") : text_of(*v);
    };
    const std::string state = get("state");
    rows.push_back({get("id"), state, get("recipient"), get("attempts"),
                    state == "sent" ? get("sent_at") : get("next_attempt"), get("subject"),
                    get("last_error")});
  }
  print_table({"ID", "STATE", "RECIPIENT", "TRIES", "SENT / NEXT TRY", "SUBJECT", "LAST ERROR"},
              rows);
}

int run(const Invocation& invocation) {
  json::object request{{"command", invocation.command}};
  if (!invocation.arguments.empty()) {
    request["arguments"] = invocation.arguments;
  }
  const auto exchanged = ask_daemon(invocation.socket, json::serialize(request));
  if (const auto* failure = std::get_if<Unreachable>(&exchanged)) {
    std::cerr << failure->message << "\n";
    return failure->status;
  }
  const std::string& line = std::get<std::string>(exchanged);
  boost::system::error_code ec;
  const json::value reply = json::parse(line, ec);
  if (ec || !reply.is_object() || !reply.as_object().contains("result")) {
    std::cerr << "casewatch: the daemon's reply is not a control-protocol answer\n";
    return kExitError;
  }
  const auto& object = reply.as_object();
  const std::int64_t result = object.at("result").to_number<std::int64_t>();
  const auto* text_value = object.if_contains("text");
  const std::string text = text_value != nullptr ? text_of(*text_value) : "";
  const bool found_nothing =
      result == 3 && (invocation.command == "case" || invocation.command == "review");
  if (invocation.json) {
    std::cout << line << "\n";
  } else if (result == 1 || result == 2 || found_nothing) {
    if (text == "permission denied") {
      std::cerr << fmt::format(
          "casewatch: permission denied: {} needs root, the service user or membership of the "
          "configured group\n",
          invocation.command);
      return kExitNoPermission;
    }
    std::cerr << "casewatch: " << text << "\n";
  } else {
    const auto* args = object.if_contains("arguments");
    if (result == 0 && args != nullptr && args->is_object() && invocation.command == "status") {
      print_status(args->as_object());
    } else if (result == 0 && args != nullptr && invocation.command == "findings") {
      print_findings(args->as_object().at("findings").as_array());
      std::cout << text << "\n";
    } else if (result == 0 && args != nullptr && invocation.command == "case") {
      print_case(args->as_object());
    } else if (result == 0 && args != nullptr && invocation.command == "alerts") {
      print_alerts(args->as_object());
    } else if (result == 0 && args != nullptr && invocation.command == "outbox") {
      print_outbox(args->as_object().at("entries").as_array());
      std::cout << text << "\n";
    } else {
      std::cout << text;
      if (text.empty() || text.back() != '\n') {
        std::cout << "\n";
      }
    }
  }
  if (result == 1 && text == "permission denied") {
    return kExitNoPermission;
  }
  // A case or review that finds nothing is a failure to the caller (scripts test for it).
  if (found_nothing) {
    return kExitError;
  }
  return result == 0 || result == 3 ? EXIT_SUCCESS : kExitError;
}

}  // namespace

int main(int argc, char* argv[]) {
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h") {
      std::cout << kUsage;
      return EXIT_SUCCESS;
    }
  }
  Invocation invocation;
  try {
    invocation = parse_arguments(argc, argv);
  } catch (const UsageError& e) {
    std::cerr << "casewatch: " << e.what() << "\n" << kUsage;
    return kExitUsage;
  }
  try {
    return run(invocation);
  } catch (const std::exception& e) {
    std::cerr << "casewatch: " << e.what() << "\n";
    return kExitError;
  }
}
