// How a finding is stored as a row of the findings history: see finding_rows.h.
#include "storage/finding_rows.h"

#include <fmt/format.h>

#include "storage/impl.h"

namespace storage {
namespace {

constexpr std::string_view kRuleChanged = "rule_changed";  // left because the definition changed

}  // namespace

std::string_view resolution_code(rules::Resolution resolution) {
  switch (resolution) {
    case rules::Resolution::kConditionStopped:
      return "condition_stopped";
    case rules::Resolution::kClosed:
      return "closed";
    case rules::Resolution::kVanished:
      return "vanished";
    case rules::Resolution::kRuleChanged:
      return kRuleChanged;
    case rules::Resolution::kClockRestarted:
      return "clock_restarted";
  }
  return "condition_stopped";
}

rules::Resolution resolution_from(std::string_view code) {
  if (code == "closed") {
    return rules::Resolution::kClosed;
  }
  if (code == "vanished") {
    return rules::Resolution::kVanished;
  }
  if (code == kRuleChanged) {
    return rules::Resolution::kRuleChanged;
  }
  if (code == "clock_restarted") {
    return rules::Resolution::kClockRestarted;
  }
  return rules::Resolution::kConditionStopped;
}

// Binds the Finding's fields to parameters first .. first + 14.
void bind_finding(SQLite::Statement& statement, int first, const rules::Finding& f) {
  statement.bind(first + 0, f.person);
  statement.bind(first + 1, f.team);
  statement.bind(first + 2, f.worker);
  statement.bind(first + 3, f.band);
  statement.bind(first + 4, std::string(state_code(f.state)));
  bind_date(statement, first + 5, f.since);
  statement.bind(first + 6, f.since_at_least ? 1 : 0);
  statement.bind(first + 7, f.days);
  bind_date(statement, first + 8, f.start);
  bind_date(statement, first + 9, f.due);
  bind_date(statement, first + 10, f.end);
  statement.bind(first + 11, f.working_days);
  statement.bind(first + 12, f.assumed_interval ? 1 : 0);
  statement.bind(first + 13, f.detail);
  statement.bind(first + 14, f.cases);
}

// Reads a Finding from columns first .. first + 14 (kFindingColumns), with its rule and key.
rules::Finding read_finding(SQLite::Statement& query, int first, std::string rule,
                            std::string key) {
  rules::Finding f;
  f.rule = std::move(rule);
  f.key = std::move(key);
  f.person = query.getColumn(first + 0).getString();
  f.team = query.getColumn(first + 1).getString();
  f.worker = query.getColumn(first + 2).getString();
  f.band = query.getColumn(first + 3).getString();
  f.state = state_from(query.getColumn(first + 4).getString());
  f.since = column_date(query.getColumn(first + 5));
  f.since_at_least = query.getColumn(first + 6).getInt() != 0;
  f.days = query.getColumn(first + 7).getInt();
  f.start = column_date(query.getColumn(first + 8));
  f.due = column_date(query.getColumn(first + 9));
  f.end = column_date(query.getColumn(first + 10));
  f.working_days = query.getColumn(first + 11).getInt();
  f.assumed_interval = query.getColumn(first + 12).getInt() != 0;
  f.detail = query.getColumn(first + 13).getString();
  f.cases = query.getColumn(first + 14).getInt();
  return f;
}

// Whether two findings of one rule and key hold the same stored fields (kFindingColumns).
bool same_stored(const rules::Finding& a, const rules::Finding& b) {
  return a.person == b.person && a.team == b.team && a.worker == b.worker && a.band == b.band &&
         a.state == b.state && a.since == b.since && a.since_at_least == b.since_at_least &&
         a.days == b.days && a.start == b.start && a.due == b.due && a.end == b.end &&
         a.working_days == b.working_days && a.assumed_interval == b.assumed_interval &&
         a.detail == b.detail && a.cases == b.cases;
}

// The as-of of `rule`'s open list (rule_lists), if it was ever evaluated.
std::optional<rules::Date> list_as_of(SQLite::Database& db, std::string_view rule) {
  SQLite::Statement query(db, "SELECT as_of FROM rule_lists WHERE rule = ?");
  query.bind(1, std::string(rule));
  if (!query.executeStep()) {
    return std::nullopt;
  }
  return required_date(query.getColumn(0));
}

// An open finding read back: its stored fields were written at last_seen, and it has been on
// every list since (or it would have resolved). As of the list's as-of, its days have moved by
// the time between (rules::aged), and it was last seen then.
void age_to_list(rules::Finding& finding, rules::Date& last_seen,
                 std::optional<rules::Date> list_as_of) {
  if (list_as_of && *list_as_of != last_seen) {
    finding = rules::aged(std::move(finding), *list_as_of - last_seen);
    last_seen = *list_as_of;
  }
}

// The latest note on (rule, key), on any of its findings, and how many came before it.
void read_notes(SQLite::Database& db, std::string_view rule, std::string_view key,
                rules::TrackedFinding& tracked) {
  SQLite::Statement query(db,
                          "SELECT text, author, at, (SELECT count(*) FROM notes WHERE rule = ?1 "
                          "AND key = ?2) FROM notes WHERE rule = ?1 AND key = ?2 "
                          "ORDER BY id DESC LIMIT 1");
  query.bind(1, std::string(rule));
  query.bind(2, std::string(key));
  if (!query.executeStep()) {
    return;
  }
  tracked.latest_note = rules::Note{query.getColumn(0).getString(), query.getColumn(1).getString(),
                                    query.getColumn(2).getString()};
  tracked.earlier_notes = query.getColumn(3).getInt() - 1;
}

// Findings of `rule` resolved with resolved_on in [from, to] (those closed by a changed
// definition included: they say so).
std::vector<rules::ResolvedFinding> query_resolved(SQLite::Database& db, std::string_view rule,
                                                   rules::Date from, rules::Date to) {
  SQLite::Statement query(
      db, fmt::format("SELECT key, first_seen, resolved_on, resolution, resolution_detail, {} "
                      "FROM findings WHERE rule = ? AND status = 'resolved' "
                      "AND resolved_on BETWEEN ? AND ? ORDER BY resolved_on, position, id",
                      kFindingColumns));
  query.bind(1, std::string(rule));
  query.bind(2, from.iso());
  query.bind(3, to.iso());
  std::vector<rules::ResolvedFinding> out;
  while (query.executeStep()) {
    out.push_back(read_resolved(query, rule));
  }
  return out;
}

rules::ResolvedFinding read_resolved(SQLite::Statement& query, std::string_view rule) {
  rules::ResolvedFinding resolved;
  resolved.last = read_finding(query, 5, std::string(rule), query.getColumn(0).getString());
  resolved.first_seen = required_date(query.getColumn(1));
  resolved.resolved_on = required_date(query.getColumn(2));
  resolved.reason = resolution_from(query.getColumn(3).getString());
  resolved.detail = query.getColumn(4).getString();
  return resolved;
}

RuleNotes::RuleNotes(SQLite::Database& db, std::string_view rule) {
  SQLite::Statement query(db, "SELECT key, text, author, at FROM notes WHERE rule = ? ORDER BY id");
  query.bind(1, std::string(rule));
  while (query.executeStep()) {
    Trail& trail = by_key_[query.getColumn(0).getString()];
    trail.latest = rules::Note{query.getColumn(1).getString(), query.getColumn(2).getString(),
                               query.getColumn(3).getString()};
    ++trail.count;
  }
}

std::string_view state_code(rules::State state) {
  switch (state) {
    case rules::State::kBreach:
      return "breach";
    case rules::State::kOverdue:
      return "overdue";
    case rules::State::kDueSoon:
      return "due_soon";
    case rules::State::kUntrusted:
      return "untrusted";
    case rules::State::kDataProblem:
      return "data_problem";
  }
  return "breach";
}

rules::State state_from(std::string_view code) {
  if (code == "overdue") {
    return rules::State::kOverdue;
  }
  if (code == "due_soon") {
    return rules::State::kDueSoon;
  }
  if (code == "untrusted") {
    return rules::State::kUntrusted;
  }
  if (code == "data_problem") {
    return rules::State::kDataProblem;
  }
  return rules::State::kBreach;
}

}  // namespace storage
