#include "daemon/control/command_table.h"

#include <fmt/format.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <utility>

namespace service {
namespace {

std::size_t buffer_size(int name) {
  const long size = sysconf(name);
  return size > 0 ? static_cast<std::size_t>(size) : 16384;
}

Reply refuse(ResultCode result, std::string text, const boost::json::value& id, std::string command,
             bool close = false) {
  Reply reply;
  reply.line = format_reply(Answer{result, std::move(text), nullptr}, id);
  reply.close = close;
  reply.command = std::move(command);
  reply.result = result;
  return reply;
}

// True when `value` holds a number too large for a double anywhere in it (boost::json reads
// 1e999 as infinity, which it would then write back as text no JSON reader accepts). Requests
// nest at most boost::json's default depth of 32, so the recursion is bounded.
bool holds_infinity(const boost::json::value& value) {
  switch (value.kind()) {
    case boost::json::kind::double_:
      return !std::isfinite(value.get_double());
    case boost::json::kind::array:
      return std::any_of(value.get_array().begin(), value.get_array().end(), holds_infinity);
    case boost::json::kind::object:
      return std::any_of(value.get_object().begin(), value.get_object().end(),
                         [](const auto& member) { return holds_infinity(member.value()); });
    default:
      return false;
  }
}

}  // namespace

Permission permission_for(std::int64_t uid, const std::vector<std::int64_t>& groups,
                          const AccessPolicy& policy) {
  if (uid == 0 || uid == policy.service_uid) {
    return Permission::kWrite;
  }
  const auto member = [&](const std::optional<std::int64_t>& group) {
    return group && std::find(groups.begin(), groups.end(), *group) != groups.end();
  };
  if (member(policy.admin_group)) {
    return Permission::kWrite;
  }
  if (member(policy.read_group)) {
    return Permission::kRead;
  }
  return Permission::kNone;
}

std::vector<std::int64_t> groups_of(std::int64_t uid, std::int64_t gid) {
  std::vector<char> buffer(buffer_size(_SC_GETPW_R_SIZE_MAX));
  passwd entry{};
  passwd* found = nullptr;
  if (getpwuid_r(static_cast<uid_t>(uid), &entry, buffer.data(), buffer.size(), &found) != 0 ||
      found == nullptr) {
    return {gid};
  }
  int count = 32;
  std::vector<gid_t> groups(static_cast<std::size_t>(count));
  while (getgrouplist(entry.pw_name, static_cast<gid_t>(gid), groups.data(), &count) < 0) {
    groups.resize(static_cast<std::size_t>(count) + 1);
    count = static_cast<int>(groups.size());
  }
  std::vector<std::int64_t> out(groups.begin(), groups.begin() + count);
  if (std::find(out.begin(), out.end(), gid) == out.end()) {
    out.push_back(gid);
  }
  return out;
}

std::string user_name(std::int64_t uid) {
  std::vector<char> buffer(buffer_size(_SC_GETPW_R_SIZE_MAX));
  passwd entry{};
  passwd* found = nullptr;
  if (getpwuid_r(static_cast<uid_t>(uid), &entry, buffer.data(), buffer.size(), &found) != 0 ||
      found == nullptr) {
    return fmt::format("uid {}", uid);
  }
  return entry.pw_name;
}

std::optional<std::int64_t> group_id(std::string_view name) {
  if (name.empty()) {
    return std::nullopt;
  }
  std::vector<char> buffer(buffer_size(_SC_GETGR_R_SIZE_MAX));
  group entry{};
  group* found = nullptr;
  const std::string wanted(name);
  while (getgrnam_r(wanted.c_str(), &entry, buffer.data(), buffer.size(), &found) == ERANGE) {
    buffer.resize(buffer.size() * 2);
  }
  if (found == nullptr) {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(entry.gr_gid);
}

std::optional<std::string> string_argument(const Request& request, std::string_view name) {
  const auto* value = request.arguments.if_contains(name);
  if (value == nullptr || value->is_null()) {
    return std::nullopt;
  }
  if (!value->is_string()) {
    throw std::invalid_argument(fmt::format("argument \"{}\" must be a string", name));
  }
  return std::string(value->get_string());
}

std::optional<std::int64_t> id_argument(const Request& request, std::string_view name) {
  const auto* value = request.arguments.if_contains(name);
  if (value == nullptr || value->is_null()) {
    return std::nullopt;
  }
  const auto invalid = [&] {
    return std::invalid_argument(fmt::format("argument \"{}\" must be a whole number", name));
  };
  if (value->is_int64() && value->get_int64() >= 0) {
    return value->get_int64();
  }
  if (value->is_uint64() && value->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return static_cast<std::int64_t>(value->get_uint64());
  }
  if (!value->is_string()) {
    throw invalid();
  }
  const std::string_view text = value->get_string();
  std::int64_t out = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || out < 0) {
    throw invalid();
  }
  return out;
}

// Written by hand rather than as a json::object so that a pre-serialized (cached) arguments
// member is copied in as it is. Members in the order result, text, arguments, id.
std::string format_reply(const Answer& answer, const boost::json::value& id) {
  std::string out = fmt::format("{{\"result\":{},\"text\":{}", static_cast<int>(answer.result),
                                boost::json::serialize(boost::json::string(answer.text)));
  if (answer.serialized_arguments) {
    out += ",\"arguments\":";
    out += *answer.serialized_arguments;
  } else if (!answer.arguments.is_null()) {
    out += ",\"arguments\":";
    out += boost::json::serialize(answer.arguments);
  }
  if (!id.is_null()) {
    out += ",\"id\":";
    out += boost::json::serialize(id);
  }
  out += '}';
  return out;
}

void CommandTable::add(std::string name, Permission needs, Handler handler) {
  commands_.emplace(std::move(name), Entry{needs, std::move(handler), {}, {}, {}});
}

void CommandTable::add_pool(std::string name, Permission needs, PoolHandler handler) {
  commands_.emplace(std::move(name), Entry{needs, {}, std::move(handler), {}, {}});
}

void CommandTable::add_reader(std::string name, Permission needs, ReaderHandler handler,
                              QuickHandler quick) {
  commands_.emplace(std::move(name), Entry{needs, {}, {}, std::move(handler), std::move(quick)});
}

std::vector<std::string> CommandTable::names() const {
  std::vector<std::string> out;
  for (const auto& [name, entry] : commands_) {
    out.push_back(name);
  }
  return out;
}

std::variant<Reply, CommandTable::Call> CommandTable::prepare(std::string_view line,
                                                              const Peer& peer) const {
  const boost::json::value null_id;
  if (peer.permission == Permission::kNone) {
    return refuse(ResultCode::kError, "permission denied", null_id, "", true);
  }
  boost::system::error_code ec;
  boost::json::value parsed = boost::json::parse(line, ec);
  if (ec) {
    return refuse(ResultCode::kError, fmt::format("not JSON: {}", ec.message()), null_id, "");
  }
  if (holds_infinity(parsed)) {
    return refuse(ResultCode::kError, "a number in the request is too large", null_id, "");
  }
  if (!parsed.is_object()) {
    return refuse(ResultCode::kError, "a request is a JSON object with a \"command\" string",
                  null_id, "");
  }
  boost::json::object& object = parsed.as_object();
  Request request;
  if (const auto* id = object.if_contains("id")) {
    request.id = *id;
  }
  const auto* command = object.if_contains("command");
  if (command == nullptr || !command->is_string()) {
    return refuse(ResultCode::kError, "a request is a JSON object with a \"command\" string",
                  request.id, "");
  }
  request.command = std::string(command->get_string());
  if (const auto* arguments = object.if_contains("arguments");
      arguments != nullptr && !arguments->is_null()) {
    if (!arguments->is_object()) {
      return refuse(ResultCode::kError, "\"arguments\" must be a JSON object", request.id,
                    request.command);
    }
    request.arguments = arguments->get_object();
  }
  const auto found = commands_.find(request.command);
  if (found == commands_.end()) {
    return refuse(ResultCode::kUnsupported, fmt::format("unknown command '{}'", request.command),
                  request.id, request.command);
  }
  if (found->second.needs == Permission::kWrite && peer.permission != Permission::kWrite) {
    return refuse(ResultCode::kError, "permission denied", request.id, request.command, true);
  }
  const Entry& entry = found->second;
  return Call{std::move(request), entry.handler ? &entry.handler : nullptr,
              entry.pool ? &entry.pool : nullptr, entry.reader ? &entry.reader : nullptr,
              entry.quick ? &entry.quick : nullptr};
}

namespace {

Reply answered(const Request& request, const Answer& answer) {
  Reply reply;
  reply.line = format_reply(answer, request.id);
  reply.command = request.command;
  reply.result = answer.result;
  return reply;
}

}  // namespace

std::optional<Reply> CommandTable::run_quick(const Call& call, const Peer& peer) const {
  if (call.quick == nullptr) {
    return std::nullopt;
  }
  try {
    if (auto answer = (*call.quick)(call.request, peer)) {
      return answered(call.request, *answer);
    }
  } catch (const std::exception& e) {
    return failed(call.request, e.what());
  }
  return std::nullopt;
}

Reply CommandTable::run(const Call& call, const Peer& peer, storage::History* history,
                        const Settings* settings, std::function<void()>* then,
                        const Reading* reading) const {
  const Request& request = call.request;
  Answer answer;
  try {
    if (call.handler != nullptr) {
      answer = (*call.handler)(request, peer);
    } else if (call.reader != nullptr && reading != nullptr) {
      answer = (*call.reader)(request, peer, *reading);
    } else if (call.pool != nullptr && history != nullptr && settings != nullptr) {
      PoolAnswer pooled = (*call.pool)(request, peer, *history, *settings);
      answer = std::move(pooled.answer);
      if (then != nullptr) {
        *then = std::move(pooled.then);
      }
    } else {
      return refuse(
          ResultCode::kError,
          fmt::format("{} runs only in the service (it needs the database)", request.command),
          request.id, request.command);
    }
  } catch (const std::exception& e) {
    return failed(request, e.what());
  }
  return answered(request, answer);
}

Reply CommandTable::failed(const Request& request, std::string_view what) {
  return refuse(ResultCode::kError, fmt::format("{} failed: {}", request.command, what), request.id,
                request.command);
}

Reply CommandTable::handle_line(std::string_view line, const Peer& peer, storage::History* history,
                                const Settings* settings, const Reading* reading) const {
  auto prepared = prepare(line, peer);
  if (auto* refused = std::get_if<Reply>(&prepared)) {
    return std::move(*refused);
  }
  std::function<void()> then;
  Reply reply = run(std::get<Call>(prepared), peer, history, settings, &then, reading);
  if (then) {
    then();
  }
  return reply;
}

}  // namespace service
