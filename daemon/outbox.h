// The outbox: every email casewatch sends (weekly reviews, alerts) is first queued, as its exact
// message bytes, one entry per recipient, under a key that can be queued only once (route +
// week, or alert + state change; storage keeps it UNIQUE and inserts with INSERT OR IGNORE in
// the transaction that made the mail due). The sender then delivers due entries with exponential
// backoff and marks each sent only after the server accepted it.
//
// Delivery guarantee, plainly: no entry is lost (it is in SQLite before anyone tries to send
// it) and none is sent twice by casewatch's own doing, across restarts and server outages. The
// one unavoidable window: the server accepted the message (250 after DATA) and casewatch died
// before recording "sent". The entry is then still pending and is sent again after the restart.
// We choose "at least once" for that window rather than risk losing a review or an alert; the
// recipient sees the same Message-ID twice, which mail clients can thread or drop as duplicate.
//
// Everything here takes the time as a parameter (`now`); nothing reads the clock.
// Not thread-safe: call from the loop thread (Mailer::send may be run on a worker, see sender).
#ifndef CASEWATCH_DAEMON_OUTBOX_H_
#define CASEWATCH_DAEMON_OUTBOX_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "daemon/mailer.h"
#include "report/report.h"

namespace service {

using Time = std::chrono::sys_seconds;

enum class OutboxState {
  kPending,    // waiting for its next attempt
  kSent,       // the server accepted it
  kFailed,     // a permanent failure, or given up after the deadline: an operator must look
  kCancelled,  // an operator cancelled it (`casewatch outbox cancel`)
};
std::string_view to_string(OutboxState state);  // "pending", "sent", "failed", "cancelled"

// One message for one recipient.
struct OutboxEntry {
  std::int64_t id = 0;  // storage's row id; 0 before it is queued
  std::string key;      // "review/2026-W47/all", "alert/<fingerprint>/firing/<start>"; with
                        // `recipient`, UNIQUE: a key is queued once per recipient, ever
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
};

// The retry schedule. Defaults: 5 min, doubling (10, 20, 40 min) up to 1 h; given up after 5
// days.
struct BackoffPolicy {
  std::chrono::seconds first{std::chrono::minutes(5)};
  std::chrono::seconds longest{std::chrono::hours(1)};
  std::chrono::seconds give_up_after{std::chrono::hours(24 * 5)};
};

// The wait after the `failed_attempts`-th failed attempt (1-based): first * 2^(n-1), at most
// `longest`. REQUIRES: failed_attempts >= 1.
std::chrono::seconds retry_delay(int failed_attempts, const BackoffPolicy& policy = {});

// A new pending entry, due at once.
OutboxEntry make_entry(std::string key, std::string recipient, std::string sender,
                       std::string subject, std::string bytes, Time now,
                       const BackoffPolicy& policy = {});

// Whether the sender should try `entry` at `now`.
bool is_due(const OutboxEntry& entry, Time now);

// The entry after one attempt that ended with `result` at `now`: sent; or failed for good
// (permanent failure, or a temporary one at or past the deadline: "gave up after 5 days: ...");
// or pending again after retry_delay(attempts).
OutboxEntry after_attempt(OutboxEntry entry, const SendResult& result, Time now,
                          const BackoffPolicy& policy = {});

// Tries `entry` once with `mailer` and returns it updated. The caller must store the result
// before trying the next entry (that is what keeps the duplicate window to one message).
OutboxEntry attempt(const OutboxEntry& entry, Mailer& mailer, Time now,
                    const BackoffPolicy& policy = {});

// `casewatch outbox retry ID`: a failed or pending entry becomes pending, due at once, with a
// fresh deadline. Sent and cancelled entries are returned unchanged.
OutboxEntry retried(OutboxEntry entry, Time now, const BackoffPolicy& policy = {});
// `casewatch outbox cancel ID`: a pending or failed entry is cancelled; others are unchanged.
OutboxEntry cancelled(OutboxEntry entry);

// ---- what gets queued

// The Message-ID for an outbox key: "casewatch.<key with / as .>@<domain of from>".
std::string message_id_for(std::string_view key, std::string_view from);

// Whether `address`'s domain is one of `allowed` (case-insensitive); an empty list allows all.
bool recipient_allowed(std::string_view address, const std::vector<std::string>& allowed);

// The weekly review, one entry per recipient of each route (review key
// "review/<week>/<route>"): the overall route (no team filter) gets the whole review, a team
// route its teams' slice (report::for_teams); a route with a rules filter only those rules'
// sections. Text and HTML in the body, the CSV (config.review.csv_columns only) attached
// when the route's attach_csv. Recipients outside mail.allowed_domains are left out.
// Returns nothing when mail is not enabled.
std::vector<OutboxEntry> review_mail(const report::Review& review, const config::Config& config,
                                     Time now, const BackoffPolicy& policy = {});

}  // namespace service

#endif  // CASEWATCH_DAEMON_OUTBOX_H_
