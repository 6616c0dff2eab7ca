// The outbox: queued mail, one row per message and recipient, UNIQUE (key, recipient).
#include <cstdio>
#include <stdexcept>

#include "storage/impl.h"
#include "storage/mail_store.h"

namespace storage {
std::string_view to_string(OutboxState state) {
  switch (state) {
    case OutboxState::kPending:
      return "pending";
    case OutboxState::kSent:
      return "sent";
    case OutboxState::kFailed:
      return "failed";
    case OutboxState::kCancelled:
      return "cancelled";
  }
  return "unknown";
}

namespace {

OutboxState parse_state(const std::string& name) {
  if (name == "sent") {
    return OutboxState::kSent;
  }
  if (name == "failed") {
    return OutboxState::kFailed;
  }
  if (name == "cancelled") {
    return OutboxState::kCancelled;
  }
  if (name == "pending") {
    return OutboxState::kPending;
  }
  throw std::runtime_error("outbox: unknown state '" + name + "'");
}

constexpr const char* kColumns =
    "id, key, recipient, sender, subject, created, deadline, next_attempt, attempts, state, "
    "last_error, sent_at, sending_since";

OutboxEntry read_entry(SQLite::Statement& q, bool with_bytes) {
  OutboxEntry e;
  e.id = q.getColumn(0).getInt64();
  e.key = q.getColumn(1).getString();
  e.recipient = q.getColumn(2).getString();
  e.sender = q.getColumn(3).getString();
  e.subject = q.getColumn(4).getString();
  e.created = parse_utc(q.getColumn(5).getString());
  e.deadline = parse_utc(q.getColumn(6).getString());
  e.next_attempt = parse_utc(q.getColumn(7).getString());
  e.attempts = q.getColumn(8).getInt();
  e.state = parse_state(q.getColumn(9).getString());
  e.last_error = q.getColumn(10).getString();
  if (!q.getColumn(11).isNull()) {
    e.sent_at = parse_utc(q.getColumn(11).getString());
  }
  if (!q.getColumn(12).isNull()) {
    e.sending_since = parse_utc(q.getColumn(12).getString());
  }
  if (with_bytes) {
    e.bytes = q.getColumn(13).getString();
  }
  return e;
}

}  // namespace

std::size_t queue_mail_rows(SQLite::Database& db, const std::vector<OutboxEntry>& entries) {
  SQLite::Statement insert(
      db,
      "INSERT OR IGNORE INTO outbox (key, recipient, sender, subject, bytes, created, deadline, "
      "next_attempt, attempts, state, last_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 'pending', "
      "'')");
  std::size_t added = 0;
  for (const OutboxEntry& e : entries) {
    insert.bind(1, e.key);
    insert.bind(2, e.recipient);
    insert.bind(3, e.sender);
    insert.bind(4, e.subject);
    insert.bind(5, e.bytes.data(), static_cast<int>(e.bytes.size()));
    insert.bind(6, format_utc(e.created));
    insert.bind(7, format_utc(e.deadline));
    insert.bind(8, format_utc(e.next_attempt));
    added += static_cast<std::size_t>(insert.exec());
    insert.reset();
  }
  return added;
}

std::size_t History::queue_mail(const std::vector<OutboxEntry>& entries) {
  SQLite::Transaction transaction(impl_->db);
  const std::size_t added = queue_mail_rows(impl_->db, entries);
  transaction.commit();
  return added;
}

std::size_t History::record_review_run(std::string_view week, bool late, std::string_view at,
                                       const std::vector<OutboxEntry>& mail) {
  SQLite::Transaction transaction(impl_->db);
  record_review_run(week, late, at);
  const std::size_t added = queue_mail_rows(impl_->db, mail);
  transaction.commit();
  return added;
}

std::vector<OutboxEntry> History::outbox_due(Time now) const {
  SQLite::Statement q(impl_->db, std::string("SELECT ") + kColumns +
                                     ", bytes FROM outbox WHERE state = 'pending' AND "
                                     "next_attempt <= ? ORDER BY next_attempt, id");
  q.bind(1, format_utc(now));
  std::vector<OutboxEntry> out;
  while (q.executeStep()) {
    out.push_back(read_entry(q, true));
  }
  return out;
}

std::optional<Time> History::next_outbox_attempt() const {
  SQLite::Statement q(impl_->db, "SELECT min(next_attempt) FROM outbox WHERE state = 'pending'");
  if (!q.executeStep() || q.getColumn(0).isNull()) {
    return std::nullopt;
  }
  return parse_utc(q.getColumn(0).getString());
}

std::vector<OutboxEntry> History::outbox(std::optional<OutboxState> state, std::size_t limit,
                                         bool with_bytes) const {
  SQLite::Statement q(impl_->db, std::string("SELECT ") + kColumns +
                                     ", bytes FROM outbox WHERE (?1 IS NULL OR state = ?1) "
                                     "ORDER BY id DESC LIMIT ?2");
  if (state) {
    q.bind(1, std::string(to_string(*state)));
  }
  q.bind(2, static_cast<std::int64_t>(limit));
  std::vector<OutboxEntry> out;
  while (q.executeStep()) {
    out.push_back(read_entry(q, with_bytes));
  }
  return out;
}

std::optional<OutboxEntry> History::outbox_entry(std::int64_t id) const {
  SQLite::Statement q(impl_->db,
                      std::string("SELECT ") + kColumns + ", bytes FROM outbox WHERE id = ?");
  q.bind(1, id);
  if (!q.executeStep()) {
    return std::nullopt;
  }
  return read_entry(q, true);
}

void History::update_outbox(const OutboxEntry& e) {
  SQLite::Statement update(
      impl_->db,
      "UPDATE outbox SET state = ?, attempts = ?, next_attempt = ?, "
      "deadline = ?, last_error = ?, sent_at = ?, sending_since = NULL WHERE id = ?");
  update.bind(1, std::string(to_string(e.state)));
  update.bind(2, e.attempts);
  update.bind(3, format_utc(e.next_attempt));
  update.bind(4, format_utc(e.deadline));
  update.bind(5, e.last_error);
  if (e.sent_at) {
    update.bind(6, format_utc(*e.sent_at));
  } else {
    update.bind(6);
  }
  update.bind(7, e.id);
  if (update.exec() != 1) {
    throw std::runtime_error("outbox: no entry " + std::to_string(e.id) + " to update");
  }
}

void History::mark_outbox_sending(std::int64_t id, Time at) {
  SQLite::Statement update(impl_->db, "UPDATE outbox SET sending_since = ? WHERE id = ?");
  update.bind(1, format_utc(at));
  update.bind(2, id);
  if (update.exec() != 1) {
    throw std::runtime_error("outbox: no entry " + std::to_string(id) + " to mark as sending");
  }
}

std::vector<OutboxEntry> History::take_interrupted_sends() {
  SQLite::Transaction transaction(impl_->db);
  SQLite::Statement q(impl_->db, std::string("SELECT ") + kColumns +
                                     ", bytes FROM outbox WHERE sending_since IS NOT NULL "
                                     "ORDER BY id");
  std::vector<OutboxEntry> out;
  while (q.executeStep()) {
    out.push_back(read_entry(q, true));
  }
  impl_->db.exec("UPDATE outbox SET sending_since = NULL WHERE sending_since IS NOT NULL");
  transaction.commit();
  return out;
}

}  // namespace storage
