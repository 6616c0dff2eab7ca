// How a finding is stored as a row of the findings history (internal to storage): its columns,
// binding and reading them, codes, notes per rule, and the open list's as-of and aging.
#ifndef CASEWATCH_STORAGE_FINDING_ROWS_H_
#define CASEWATCH_STORAGE_FINDING_ROWS_H_

#include <SQLiteCpp/SQLiteCpp.h>

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "rules/rules.h"

namespace storage {

// The columns holding a Finding's fields (besides rule and key), in bind/read order.
inline constexpr const char* kFindingColumns =
    "person, team, worker, band, state, since, since_at_least, days, start, due, end_date, "
    "working_days, assumed_interval, detail, cases";
inline constexpr int kFindingColumnCount = 15;

std::string_view resolution_code(rules::Resolution resolution);
rules::Resolution resolution_from(std::string_view code);

// Binds the Finding's fields to parameters first .. first + 14.
void bind_finding(SQLite::Statement& statement, int first, const rules::Finding& f);
// Reads a Finding from columns first .. first + 14 (kFindingColumns), with its rule and key.
rules::Finding read_finding(SQLite::Statement& query, int first, std::string rule, std::string key);
// Whether two findings of one rule and key hold the same stored fields (kFindingColumns).
bool same_stored(const rules::Finding& a, const rules::Finding& b);

// The as-of of `rule`'s open list (rule_lists), if it was ever evaluated.
std::optional<rules::Date> list_as_of(SQLite::Database& db, std::string_view rule);
// An open finding read back: its stored fields were written at last_seen, and it has been on
// every list since (or it would have resolved). As of the list's as-of, its days have moved by
// the time between (rules::aged), and it was last seen then.
void age_to_list(rules::Finding& finding, rules::Date& last_seen,
                 std::optional<rules::Date> list_as_of);

// The latest note on (rule, key), on any of its findings, and how many came before it.
void read_notes(SQLite::Database& db, std::string_view rule, std::string_view key,
                rules::TrackedFinding& tracked);

// read_notes for every key of one rule, with one query: a rule's list may hold tens of
// thousands of findings, few of them with notes, and a query per finding was a good part of a
// cycle at a million records (issue 16).
class RuleNotes {
 public:
  RuleNotes(SQLite::Database& db, std::string_view rule);
  // As read_notes(db, rule, key, tracked).
  void read(const std::string& key, rules::TrackedFinding& tracked) const {
    if (by_key_.empty()) {
      return;
    }
    const auto found = by_key_.find(key);
    if (found == by_key_.end()) {
      return;
    }
    tracked.latest_note = found->second.latest;
    tracked.earlier_notes = found->second.count - 1;
  }

 private:
  struct Trail {
    rules::Note latest;
    int count = 0;
  };
  std::unordered_map<std::string, Trail> by_key_;
};

// A resolved finding of `rule` from a row of columns key, first_seen, resolved_on, resolution,
// resolution_detail, then kFindingColumns.
rules::ResolvedFinding read_resolved(SQLite::Statement& query, std::string_view rule);

// Findings of `rule` resolved with resolved_on in [from, to] (those closed by a changed
// definition included: they say so).
std::vector<rules::ResolvedFinding> query_resolved(SQLite::Database& db, std::string_view rule,
                                                   rules::Date from, rules::Date to);

}  // namespace storage

#endif  // CASEWATCH_STORAGE_FINDING_ROWS_H_
