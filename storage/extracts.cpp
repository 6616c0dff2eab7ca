// The extract catalogue: every file handled, ingested, rejected or duplicate, and its problems.
#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "storage/impl.h"

namespace storage {
namespace {

ExtractInfo read_extract(SQLite::Statement& query) {
  // Columns: id, file, source, sha256, as_of, rows, problems, status, error, handled_at.
  ExtractInfo info;
  info.id = query.getColumn(0).getInt64();
  info.file = query.getColumn(1).getString();
  info.source = query.getColumn(2).getString();
  info.sha256 = query.getColumn(3).getString();
  info.as_of = required_date(query.getColumn(4));
  info.rows = static_cast<std::size_t>(query.getColumn(5).getInt64());
  info.problems = static_cast<std::size_t>(query.getColumn(6).getInt64());
  const std::string status = query.getColumn(7).getString();
  info.status = status == "rejected"    ? ExtractStatus::kRejected
                : status == "duplicate" ? ExtractStatus::kDuplicate
                                        : ExtractStatus::kIngested;
  info.error = query.getColumn(8).getString();
  info.handled_at = query.getColumn(9).getString();
  return info;
}

constexpr const char* kExtractColumns =
    "id, file, source, sha256, as_of, rows, problems, status, error, handled_at";

}  // namespace

std::int64_t insert_extract(SQLite::Database& db, const ExtractInfo& info, ExtractStatus status,
                            std::size_t problems) {
  SQLite::Statement insert(db,
                           "INSERT INTO extracts (file, source, sha256, as_of, rows, problems, "
                           "status, error, handled_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
  insert.bind(1, info.file);
  insert.bind(2, info.source);
  insert.bind(3, info.sha256);
  insert.bind(4, info.as_of.iso());
  insert.bind(5, static_cast<std::int64_t>(info.rows));
  insert.bind(6, static_cast<std::int64_t>(problems));
  insert.bind(7, std::string(to_string(status)));
  insert.bind(8, info.error);
  insert.bind(9, info.handled_at);
  insert.exec();
  return db.getLastInsertRowid();
}

void insert_person_change(SQLite::Database& db, std::int64_t extract_id, std::string_view key,
                          std::size_t line) {
  SQLite::Statement insert(db,
                           "INSERT INTO person_changes (extract_id, key, line) VALUES (?, ?, ?)");
  insert.bind(1, extract_id);
  insert.bind(2, std::string(key));
  insert.bind(3, static_cast<std::int64_t>(line));
  insert.exec();
}

std::vector<rules::PersonChange> History::person_changes(std::optional<rules::Date> after,
                                                         rules::Date to) const {
  SQLite::Statement query(impl_->db,
                          "SELECT e.source, e.file, e.as_of, p.key, p.line FROM person_changes p "
                          "JOIN extracts e ON e.id = p.extract_id "
                          "WHERE e.as_of > ? AND e.as_of <= ? ORDER BY e.as_of, e.id, p.rowid");
  query.bind(1, after ? after->iso() : std::string());
  query.bind(2, to.iso());
  std::vector<rules::PersonChange> out;
  while (query.executeStep()) {
    out.push_back(
        rules::PersonChange{query.getColumn(0).getString(), query.getColumn(1).getString(),
                            required_date(query.getColumn(2)), query.getColumn(3).getString(),
                            static_cast<std::size_t>(query.getColumn(4).getInt64())});
  }
  return out;
}

std::string_view to_string(ExtractStatus status) {
  switch (status) {
    case ExtractStatus::kIngested:
      return "ingested";
    case ExtractStatus::kRejected:
      return "rejected";
    case ExtractStatus::kDuplicate:
      return "duplicate";
  }
  return "ingested";
}

std::int64_t History::record_refused(const ExtractInfo& info,
                                     const std::vector<rules::Problem>& problems) {
  if (info.status == ExtractStatus::kIngested) {
    throw std::logic_error("record_refused: status must be rejected or duplicate");
  }
  SQLite::Transaction transaction(impl_->db, SQLite::TransactionBehavior::IMMEDIATE);
  const std::int64_t id =
      insert_extract(impl_->db, info, info.status, std::max(info.problems, problems.size()));
  SQLite::Statement insert(impl_->db,
                           "INSERT INTO row_problems (extract_id, line, column_name, message) "
                           "VALUES (?, ?, ?, ?)");
  for (const auto& problem : problems) {
    insert.bind(1, id);
    insert.bind(2, static_cast<std::int64_t>(problem.line));
    insert.bind(3, problem.column);
    insert.bind(4, problem.message);
    insert.exec();
    insert.reset();
  }
  transaction.commit();
  return id;
}

std::optional<ExtractInfo> History::find_ingested(std::string_view sha256) const {
  SQLite::Statement query(
      impl_->db, fmt::format("SELECT {} FROM extracts WHERE sha256 = ? AND status = 'ingested' "
                             "ORDER BY id LIMIT 1",
                             kExtractColumns));
  query.bind(1, std::string(sha256));
  if (!query.executeStep()) {
    return std::nullopt;
  }
  return read_extract(query);
}

std::optional<ExtractInfo> History::latest_extract(std::string_view source) const {
  SQLite::Statement query(
      impl_->db, fmt::format("SELECT {} FROM extracts WHERE source = ? AND status = 'ingested' "
                             "ORDER BY id DESC LIMIT 1",
                             kExtractColumns));
  query.bind(1, std::string(source));
  if (!query.executeStep()) {
    return std::nullopt;
  }
  return read_extract(query);
}

std::vector<ExtractInfo> History::pending_evaluations() const {
  SQLite::Statement query(impl_->db,
                          fmt::format("SELECT {} FROM extracts WHERE status = 'ingested' AND "
                                      "evaluation_pending = 1 ORDER BY as_of, id",
                                      kExtractColumns));
  std::vector<ExtractInfo> out;
  while (query.executeStep()) {
    out.push_back(read_extract(query));
  }
  return out;
}

void History::evaluation_done(std::int64_t extract_id) {
  SQLite::Statement update(impl_->db, "UPDATE extracts SET evaluation_pending = 0 WHERE id = ?");
  update.bind(1, extract_id);
  update.exec();
}

std::vector<ExtractInfo> History::extracts() const {
  SQLite::Statement query(impl_->db,
                          fmt::format("SELECT {} FROM extracts ORDER BY id", kExtractColumns));
  std::vector<ExtractInfo> out;
  while (query.executeStep()) {
    out.push_back(read_extract(query));
  }
  return out;
}

std::vector<rules::Problem> History::problems(std::int64_t extract_id) const {
  SQLite::Statement query(impl_->db,
                          "SELECT line, column_name, message FROM row_problems "
                          "WHERE extract_id = ? ORDER BY rowid");
  query.bind(1, extract_id);
  std::vector<rules::Problem> out;
  while (query.executeStep()) {
    out.push_back(rules::Problem{static_cast<std::size_t>(query.getColumn(0).getInt64()),
                                 query.getColumn(1).getString(), query.getColumn(2).getString()});
  }
  return out;
}

}  // namespace storage
