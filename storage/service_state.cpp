// Service state: the audit log of control requests, weekly review runs, settings.
#include "storage/impl.h"

namespace storage {

void History::audit(std::int64_t uid, std::string_view command, int result, std::string_view at) {
  SQLite::Statement insert(impl_->db,
                           "INSERT INTO audit (uid, command, result, at) VALUES (?, ?, ?, ?)");
  insert.bind(1, uid);
  insert.bind(2, std::string(command));
  insert.bind(3, result);
  insert.bind(4, std::string(at));
  insert.exec();
}

void History::audit(const std::vector<AuditEntry>& entries) {
  SQLite::Transaction transaction(impl_->db);
  SQLite::Statement insert(impl_->db,
                           "INSERT INTO audit (uid, command, result, at) VALUES (?, ?, ?, ?)");
  for (const auto& entry : entries) {
    insert.bind(1, entry.uid);
    insert.bind(2, entry.command);
    insert.bind(3, entry.result);
    insert.bind(4, entry.at);
    insert.exec();
    insert.reset();
  }
  transaction.commit();
}

std::vector<History::AuditEntry> History::audit_log(std::size_t limit) const {
  SQLite::Statement query(impl_->db,
                          "SELECT uid, command, result, at FROM audit ORDER BY id DESC LIMIT ?");
  query.bind(1, static_cast<std::int64_t>(limit));
  std::vector<AuditEntry> out;
  while (query.executeStep()) {
    out.push_back(AuditEntry{query.getColumn(0).getInt64(), query.getColumn(1).getString(),
                             query.getColumn(2).getInt(), query.getColumn(3).getString()});
  }
  return out;
}

std::optional<std::string> History::last_review_week() const {
  // ISO week names ("2026-W47") sort as the weeks do.
  SQLite::Statement query(impl_->db, "SELECT max(week) FROM review_runs");
  if (!query.executeStep() || query.getColumn(0).isNull()) {
    return std::nullopt;
  }
  return query.getColumn(0).getString();
}

void History::record_review_run(std::string_view week, bool late, std::string_view at) {
  SQLite::Statement insert(
      impl_->db,
      "INSERT INTO review_runs (week, late, at) VALUES (?, ?, ?) "
      "ON CONFLICT (week) DO UPDATE SET late = excluded.late, at = excluded.at");
  insert.bind(1, std::string(week));
  insert.bind(2, late ? 1 : 0);
  insert.bind(3, std::string(at));
  insert.exec();
}

std::optional<std::string> History::setting(std::string_view name) const {
  SQLite::Statement query(impl_->db, "SELECT value FROM settings WHERE name = ?");
  query.bind(1, std::string(name));
  if (!query.executeStep()) {
    return std::nullopt;
  }
  return query.getColumn(0).getString();
}

void History::set_setting(std::string_view name, std::string_view value) {
  SQLite::Statement upsert(impl_->db,
                           "INSERT INTO settings (name, value) VALUES (?, ?) "
                           "ON CONFLICT (name) DO UPDATE SET value = excluded.value");
  upsert.bind(1, std::string(name));
  upsert.bind(2, std::string(value));
  upsert.exec();
}

}  // namespace storage
