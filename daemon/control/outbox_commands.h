// The outbox commands, beside the outbox entries they read and change: `outbox`, `outbox-retry`
// and `outbox-cancel`. Each takes the History to use, so that it runs on whichever thread the
// caller chooses.
#ifndef CASEWATCH_DAEMON_CONTROL_OUTBOX_COMMANDS_H_
#define CASEWATCH_DAEMON_CONTROL_OUTBOX_COMMANDS_H_

#include <cstdint>
#include <optional>

#include "daemon/clock.h"
#include "daemon/control/command_table.h"
#include "daemon/policy/outbox.h"
#include "storage/storage.h"

namespace service {

// `casewatch outbox` lists at most this many entries, newest first.
inline constexpr std::size_t kOutboxListLimit = 200;

// `outbox [--state S]`.
Answer outbox_command(const Request& request, const storage::History& history);

// `outbox-retry ID` (retry) or `outbox-cancel ID`. An entry the change leaves as it was is an
// error ("outbox entry 3 is sent: unchanged").
Answer outbox_change_command(const Request& request, const Peer& peer, storage::History& history,
                             bool retry, SysSeconds now);

// The entry `id` retried (policy `retried`) or cancelled, stored; nullopt when there is none.
std::optional<OutboxEntry> outbox_retry(storage::History& history, std::int64_t id, SysSeconds now,
                                        const BackoffPolicy& policy = {});
std::optional<OutboxEntry> outbox_cancel(storage::History& history, std::int64_t id);

}  // namespace service

#endif  // CASEWATCH_DAEMON_CONTROL_OUTBOX_COMMANDS_H_
