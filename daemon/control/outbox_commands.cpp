#include "daemon/control/outbox_commands.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/json.hpp>

#include "daemon/control/wire_json.h"

namespace service {

namespace json = boost::json;

std::optional<OutboxEntry> outbox_retry(storage::History& history, std::int64_t id, SysSeconds now,
                                        const BackoffPolicy& policy) {
  auto entry = history.outbox_entry(id);
  if (!entry) {
    return std::nullopt;
  }
  const OutboxEntry updated = retried(*entry, now, policy);
  history.update_outbox(updated);
  return updated;
}

std::optional<OutboxEntry> outbox_cancel(storage::History& history, std::int64_t id) {
  auto entry = history.outbox_entry(id);
  if (!entry) {
    return std::nullopt;
  }
  const OutboxEntry updated = cancelled(*entry);
  history.update_outbox(updated);
  return updated;
}

Answer outbox_command(const Request& request, const storage::History& history) {
  std::optional<OutboxState> state;
  if (const auto text = string_argument(request, "state")) {
    for (const auto candidate : {OutboxState::kPending, OutboxState::kSent, OutboxState::kFailed,
                                 OutboxState::kCancelled}) {
      if (to_string(candidate) == *text) {
        state = candidate;
      }
    }
    if (!state) {
      return Answer{ResultCode::kError,
                    fmt::format("state '{}' is not one of pending, sent, failed, cancelled", *text),
                    nullptr};
    }
  }
  const auto entries = history.outbox(state, kOutboxListLimit);
  const std::size_t count = entries.size();
  return Answer{count == 0 ? ResultCode::kEmpty : ResultCode::kSuccess,
                count == 0 ? std::string("the outbox is empty")
                : count == kOutboxListLimit
                    ? fmt::format("the newest {} entries", count)
                    : fmt::format("{} entr{}", count, count == 1 ? "y" : "ies"),
                json::object{{"entries", outbox_json(entries)}}};
}

Answer outbox_change_command(const Request& request, const Peer& peer, storage::History& history,
                             bool retry, SysSeconds now) {
  const auto id = id_argument(request, "id");
  const char* verb = retry ? "outbox-retry" : "outbox-cancel";
  if (!id) {
    return Answer{ResultCode::kError, fmt::format("{} needs an id", verb), nullptr};
  }
  const auto before = history.outbox_entry(*id);
  if (!before) {
    return Answer{ResultCode::kError, fmt::format("no outbox entry {}", *id), nullptr};
  }
  const auto after = retry ? outbox_retry(history, *id, now) : outbox_cancel(history, *id);
  if (!after) {
    return Answer{ResultCode::kError, fmt::format("no outbox entry {}", *id), nullptr};
  }
  if (after->state == before->state && after->next_attempt == before->next_attempt) {
    return Answer{ResultCode::kError,
                  fmt::format("outbox entry {} is {}: unchanged", *id, to_string(after->state)),
                  nullptr};
  }
  spdlog::info("outbox entry {} {} by {}", *id, retry ? "retried" : "cancelled", peer.user);
  return Answer{ResultCode::kSuccess,
                fmt::format("outbox entry {} is {}", *id, to_string(after->state)),
                json::object{{"entries", outbox_json({*after})}}};
}

}  // namespace service
