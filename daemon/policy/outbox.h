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
// We choose "at least once" for that window rather than risk losing a review or an alert. Each
// send is marked begun (sending_since) in its own commit before the SMTP transaction and its
// outcome stored in its own commit the moment the server answers DATA, before QUIT; an entry
// found begun at the next round is logged ("casewatch stopped while sending it") and sent again
// byte for byte, with the same Message-ID, so a mail system that deduplicates on Message-ID
// (most do) shows it once. The window is one SQLite commit: the sender logs it per round
// ("recorded as sent N ms after the server accepted it"), whatever the message's size, and the
// service's metrics keep it (casewatch_mail_accept_to_recorded_seconds, a histogram).
//
// Everything here takes the time as a parameter (`now`); nothing reads the clock.
// Pure: no I/O (daemon/work/sender.h delivers, retries and cancels over the database).
#ifndef CASEWATCH_DAEMON_POLICY_OUTBOX_H_
#define CASEWATCH_DAEMON_POLICY_OUTBOX_H_

#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "daemon/clock.h"
#include "daemon/mailer.h"
#include "report/report.h"
#include "storage/storage.h"

namespace service {

// The outbox's values live in storage (which persists them); these are their names here.
using Time = storage::Time;
using OutboxState = storage::OutboxState;
using OutboxEntry = storage::OutboxEntry;
using storage::to_string;  // to_string(OutboxState): "pending", "sent", "failed", "cancelled"

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

// `casewatch outbox retry ID`: a failed or pending entry becomes pending, due at once, with a
// fresh deadline. Sent and cancelled entries are returned unchanged.
OutboxEntry retried(OutboxEntry entry, Time now, const BackoffPolicy& policy = {});
// `casewatch outbox cancel ID`: a pending or failed entry is cancelled; others are unchanged.
OutboxEntry cancelled(OutboxEntry entry);

// ---- what gets queued

// The Message-ID for an outbox key: "casewatch.<key with / as .>@<domain of from>"; for alert
// keys (which may hold a case key) "casewatch.alert.<64-bit hash of the key in hex>@<domain>".
std::string message_id_for(std::string_view key, std::string_view from);

// Whether `address`'s domain is one of `allowed` (case-insensitive); an empty list allows all.
bool recipient_allowed(std::string_view address, const std::vector<std::string>& allowed);

// The weekly review, one entry per recipient of each route with reviews = true (review key
// "review/<week>/<route>"; an operations route gets none): the overall route (no team filter) gets
// the whole review, a team route its teams' slice (report::for_teams); a route with a rules filter
// only those rules' sections. Text and HTML in the body, the CSV attached, all limited to the
// route's fields (config.review.fields unless the route widens them) when the route's attach_csv.
// Recipients outside mail.allowed_domains are left out. Returns nothing when mail is not enabled.
std::vector<OutboxEntry> review_mail(const report::Review& review, const config::Config& config,
                                     Time now, const BackoffPolicy& policy = {});

}  // namespace service

#endif  // CASEWATCH_DAEMON_POLICY_OUTBOX_H_
