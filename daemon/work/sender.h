// The sender: the one delivery loop, which the service's delivery job and `casewatchd --once`
// both run, and the queueing of a review's mail.
// Runs on the pool thread (the service) or the main thread (--once), with the caller's History;
// a send may block for the mailer's timeouts, so never on the loop thread.
#ifndef CASEWATCH_DAEMON_WORK_SENDER_H_
#define CASEWATCH_DAEMON_WORK_SENDER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "config/config.h"
#include "daemon/clock.h"
#include "daemon/mailer.h"
#include "daemon/policy/outbox.h"
#include "report/report.h"
#include "storage/storage.h"

namespace service {

// Which entries a delivery round tries.
enum class Deliver {
  kDue,         // pending entries whose next attempt is at or before `now` (the service)
  kAllPending,  // every pending entry, whatever its backoff says (--once: run by hand)
};

// What one delivery round did.
struct DeliveryRound {
  std::vector<OutboxEntry> tried;  // as updated (sent, failed or rescheduled), without bytes
  // For each message sent, in order: how long after the server accepted it (250 to its DATA)
  // its "sent" commit ended, the duplicate window of daemon/policy/outbox.h.
  std::vector<std::chrono::microseconds> windows;
};

// Tries `mailer.send` for each entry `which` selects, oldest first, one at a time, storing each
// result before the next attempt (that keeps the duplicate window of daemon/policy/outbox.h to one
// message). Polls `should_stop` before each entry and ends the round when it returns true, so
// a shutdown waits for one send at most. Logs the round's windows (median and longest). Throws
// on database failures.
DeliveryRound deliver(storage::History& history, Mailer& mailer, SysSeconds now, Deliver which,
                      const std::function<bool()>& should_stop = {},
                      const BackoffPolicy& policy = {});

// Tries `entry` once with `mailer` and returns it updated (not stored).
OutboxEntry attempt(const OutboxEntry& entry, Mailer& mailer, SysSeconds now,
                    const BackoffPolicy& policy = {});

// The weekly review becomes due: records the review run for `review.week` and queues its mail
// (review_mail) in one transaction, so a review is never recorded without its mail nor queued
// twice. Returns how many entries were new.
std::size_t queue_review(storage::History& history, const report::Review& review,
                         const config::Config& config, bool late, SysSeconds now,
                         const BackoffPolicy& policy = {});

}  // namespace service

#endif  // CASEWATCH_DAEMON_WORK_SENDER_H_
