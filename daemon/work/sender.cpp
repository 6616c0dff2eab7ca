#include "daemon/work/sender.h"

namespace service {
namespace {

// --once reads the whole pending list; the service reads what is due.
constexpr std::size_t kAllEntries = 1000000;

// The entries a round tries, oldest first, with their bytes.
std::vector<OutboxEntry> selected(storage::History& history, SysSeconds now, Deliver which) {
  if (which == Deliver::kDue) return history.outbox_due(now);
  std::vector<OutboxEntry> out;
  const auto pending = history.outbox(OutboxState::kPending, kAllEntries, /*with_bytes=*/false);
  for (auto it = pending.rbegin(); it != pending.rend(); ++it) {  // the list is newest first
    if (auto entry = history.outbox_entry(it->id)) out.push_back(std::move(*entry));
  }
  return out;
}

}  // namespace

std::vector<OutboxEntry> deliver(storage::History& history, Mailer& mailer, SysSeconds now,
                                 Deliver which, const std::function<bool()>& should_stop,
                                 const BackoffPolicy& policy) {
  std::vector<OutboxEntry> done;
  for (const OutboxEntry& entry : selected(history, now, which)) {
    if (should_stop && should_stop()) break;
    OutboxEntry updated = attempt(entry, mailer, now, policy);
    // Stored at once: between the server's "250" and this line is the one duplicate window.
    history.update_outbox(updated);
    updated.bytes.clear();
    done.push_back(std::move(updated));
  }
  return done;
}

OutboxEntry attempt(const OutboxEntry& entry, Mailer& mailer, SysSeconds now,
                    const BackoffPolicy& policy) {
  const SendResult result = mailer.send({entry.sender, entry.recipient}, entry.bytes);
  return after_attempt(entry, result, now, policy);
}

std::size_t queue_review(storage::History& history, const report::Review& review,
                         const config::Config& config, bool late, SysSeconds now,
                         const BackoffPolicy& policy) {
  return history.record_review_run(review.week.str(), late, utc_text(now),
                                   review_mail(review, config, now, policy));
}

}  // namespace service
