// Review runs as records: the week, as-of date, exact list and text of each review produced.
#include <stdexcept>

#include "storage/impl.h"

namespace storage {

void History::record_review(const rules::PublishedReview& review, std::string_view produced_at,
                            std::string_view text) {
  SQLite::Transaction transaction(impl_->db, SQLite::TransactionBehavior::IMMEDIATE);
  SQLite::Statement upsert(
      impl_->db,
      "INSERT INTO reviews (week, as_of, produced_at, text) VALUES (?, ?, ?, ?) "
      "ON CONFLICT (week) DO UPDATE SET as_of = excluded.as_of, "
      "produced_at = excluded.produced_at, text = excluded.text "
      "RETURNING id");
  upsert.bind(1, review.week.str());
  upsert.bind(2, review.as_of.iso());
  upsert.bind(3, std::string(produced_at));
  upsert.bind(4, std::string(text));
  if (!upsert.executeStep()) {
    throw std::runtime_error("record_review: no review id");
  }
  const std::int64_t id = upsert.getColumn(0).getInt64();
  upsert.reset();
  SQLite::Statement clear(impl_->db, "DELETE FROM review_items WHERE review_id = ?");
  clear.bind(1, id);
  clear.exec();
  SQLite::Statement insert(impl_->db,
                           "INSERT OR REPLACE INTO review_items (review_id, rule, key, band, "
                           "state, weeks) VALUES (?, ?, ?, ?, ?, ?)");
  for (const auto& item : review.items) {
    insert.bind(1, id);
    insert.bind(2, item.rule);
    insert.bind(3, item.key);
    insert.bind(4, item.band);
    insert.bind(5, std::string(state_code(item.state)));
    insert.bind(6, item.weeks);
    insert.exec();
    insert.reset();
  }
  transaction.commit();
}

std::optional<rules::PublishedReview> History::latest_review() const {
  return previous_review(rules::IsoWeek{9999, 52});
}

std::optional<rules::PublishedReview> History::previous_review(rules::IsoWeek week) const {
  // Week names sort as weeks ("2026-W05" < "2026-W47" < "2027-W01").
  SQLite::Statement query(impl_->db,
                          "SELECT id, week, as_of FROM reviews WHERE week < ? "
                          "ORDER BY week DESC LIMIT 1");
  query.bind(1, week.str());
  if (!query.executeStep()) {
    return std::nullopt;
  }
  rules::PublishedReview review;
  const std::int64_t id = query.getColumn(0).getInt64();
  const auto parsed = rules::parse_iso_week(query.getColumn(1).getString());
  if (!parsed) {
    throw std::runtime_error("reviews: a malformed week in the database");
  }
  review.week = *parsed;
  review.as_of = required_date(query.getColumn(2));
  SQLite::Statement items(impl_->db,
                          "SELECT rule, key, band, state, weeks FROM review_items "
                          "WHERE review_id = ? ORDER BY rule, key");
  items.bind(1, id);
  while (items.executeStep()) {
    review.items.push_back(
        rules::ReviewItem{items.getColumn(0).getString(), items.getColumn(1).getString(),
                          items.getColumn(2).getString(),
                          state_from(items.getColumn(3).getString()), items.getColumn(4).getInt()});
  }
  return review;
}

std::vector<rules::IsoWeek> History::review_weeks() const {
  SQLite::Statement query(impl_->db, "SELECT week FROM reviews ORDER BY week");
  std::vector<rules::IsoWeek> out;
  while (query.executeStep()) {
    if (const auto week = rules::parse_iso_week(query.getColumn(0).getString())) {
      out.push_back(*week);
    }
  }
  return out;
}

std::optional<std::string> History::review_text(rules::IsoWeek week) const {
  SQLite::Statement query(impl_->db, "SELECT text FROM reviews WHERE week = ?");
  query.bind(1, week.str());
  if (!query.executeStep()) {
    return std::nullopt;
  }
  return query.getColumn(0).getString();
}

}  // namespace storage
