// The outbox's values: one message for one recipient, queued before anyone tries to send it.
// The delivery policy is the daemon's (daemon/outbox.h); these are what storage keeps.
#ifndef CASEWATCH_STORAGE_OUTBOX_H_
#define CASEWATCH_STORAGE_OUTBOX_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "storage/values.h"

namespace storage {

enum class OutboxState {
  kPending,    // waiting for its next attempt
  kSent,       // the server accepted it
  kFailed,     // a permanent failure, or given up after the deadline: an operator must look
  kCancelled,  // an operator cancelled it (`casewatch outbox cancel`)
};
std::string_view to_string(OutboxState state);  // "pending", "sent", "failed", "cancelled"

// One message for one recipient, queued before anyone tries to send it.
struct OutboxEntry {
  std::int64_t id = 0;  // row id; 0 before it is queued
  std::string key;      // "review/2026-W47/all", "alert/<fingerprint>/firing/<start>/<route>";
                        // with `recipient`, UNIQUE: queued once per recipient, ever
  std::string recipient;
  std::string sender;   // MAIL FROM
  std::string subject;  // for listings; never holds a child's identifiers
  std::string bytes;    // the exact message (report::build_message), fixed when created
  Time created;
  Time deadline;      // given up when still undelivered at this time (created + 5 days)
  Time next_attempt;  // not tried before this time
  int attempts = 0;
  OutboxState state = OutboxState::kPending;
  std::string last_error;  // plain words from the last failed attempt
  std::optional<Time> sent_at;
  // When a send began that has no recorded outcome yet (see History::mark_outbox_sending).
  std::optional<Time> sending_since;
};

}  // namespace storage

#endif  // CASEWATCH_STORAGE_OUTBOX_H_
