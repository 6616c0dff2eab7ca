#include "daemon/work/sender.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <string_view>

namespace service {
namespace {

// A window in milliseconds, for the log.
double milliseconds(std::chrono::microseconds window) {
  return std::chrono::duration<double, std::milli>(window).count();
}

// The message's Message-ID header value, or "(none)".
std::string_view message_id(std::string_view bytes) {
  constexpr std::string_view kHeader = "\r\nMessage-ID: ";
  const auto end_of_headers = bytes.find("\r\n\r\n");
  const auto at = bytes.substr(0, end_of_headers).find(kHeader);
  if (at == std::string_view::npos) {
    return "(none)";
  }
  const std::string_view rest = bytes.substr(at + kHeader.size());
  return rest.substr(0, rest.find("\r\n"));
}

// Entries whose send began in a run that stopped before its outcome was recorded: perhaps
// accepted by the server. They are still pending and are sent again, byte for byte.
void report_interrupted(storage::History& history) {
  for (const OutboxEntry& entry : history.take_interrupted_sends()) {
    spdlog::warn(
        "outbox {}: casewatch stopped while sending it to {} (since {}); the server may have "
        "accepted it. It is sent again with the same Message-ID {}, so a mail system that "
        "deduplicates on Message-ID shows it once",
        entry.id, entry.recipient, utc_text(*entry.sending_since), message_id(entry.bytes));
  }
}

// --once reads the whole pending list; the service reads what is due.
constexpr std::size_t kAllEntries = 1000000;

// The entries a round tries, oldest first, with their bytes.
std::vector<OutboxEntry> selected(storage::History& history, SysSeconds now, Deliver which) {
  if (which == Deliver::kDue) {
    return history.outbox_due(now);
  }
  std::vector<OutboxEntry> out;
  const auto pending = history.outbox(OutboxState::kPending, kAllEntries, /*with_bytes=*/false);
  for (auto it = pending.rbegin(); it != pending.rend(); ++it) {  // the list is newest first
    if (auto entry = history.outbox_entry(it->id)) {
      out.push_back(std::move(*entry));
    }
  }
  return out;
}

}  // namespace

DeliveryRound deliver(storage::History& history, Mailer& mailer, SysSeconds now, Deliver which,
                      const std::function<bool()>& should_stop, const BackoffPolicy& policy) {
  report_interrupted(history);
  DeliveryRound round;
  for (const OutboxEntry& entry : selected(history, now, which)) {
    if (should_stop && should_stop()) {
      break;
    }
    history.mark_outbox_sending(entry.id, now_utc());
    const SendResult result = mailer.send({entry.sender, entry.recipient}, entry.bytes);
    const auto answered = std::chrono::steady_clock::now();
    OutboxEntry updated = after_attempt(entry, result, now, policy);
    // Stored at once, in its own commit: between the server's "250" and the end of this line is
    // the one duplicate window, measured below.
    history.update_outbox(updated);
    if (updated.state == OutboxState::kSent) {
      round.windows.push_back(std::chrono::duration_cast<std::chrono::microseconds>(
          std::chrono::steady_clock::now() - answered));
    }
    updated.bytes.clear();
    round.tried.push_back(std::move(updated));
  }
  if (!round.windows.empty()) {
    auto windows = round.windows;
    std::sort(windows.begin(), windows.end());
    spdlog::info(
        "mail: {} sent; each was recorded as sent {:.1f} ms (median; at most {:.1f} ms) after the "
        "server accepted it: a stop inside that window sends it again, with the same Message-ID",
        windows.size(), milliseconds(windows[windows.size() / 2]), milliseconds(windows.back()));
  }
  return round;
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
