// Counts for `metrics`: one aggregate query each, so that a large outbox or extract catalogue
// is never loaded to be counted.
#include "storage/impl.h"

namespace storage {

std::map<std::string, std::size_t> History::outbox_counts() const {
  SQLite::Statement q(impl_->db, "SELECT state, count(*) FROM outbox GROUP BY state");
  std::map<std::string, std::size_t> out;
  while (q.executeStep()) {
    out[q.getColumn(0).getString()] = static_cast<std::size_t>(q.getColumn(1).getInt64());
  }
  return out;
}

std::map<std::pair<std::string, std::string>, std::size_t> History::extract_counts() const {
  SQLite::Statement q(impl_->db,
                      "SELECT source, status, count(*) FROM extracts GROUP BY source, status");
  std::map<std::pair<std::string, std::string>, std::size_t> out;
  while (q.executeStep()) {
    out[{q.getColumn(0).getString(), q.getColumn(1).getString()}] =
        static_cast<std::size_t>(q.getColumn(2).getInt64());
  }
  return out;
}

std::optional<std::string> History::last_review_at() const {
  SQLite::Statement q(impl_->db, "SELECT at FROM review_runs ORDER BY week DESC LIMIT 1");
  if (!q.executeStep() || q.getColumn(0).isNull()) {
    return std::nullopt;
  }
  return q.getColumn(0).getString();
}

}  // namespace storage
