// The findings history: evaluations, findings opened/carried/resolved, notes, trend, spells.
#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>
#include <unordered_map>

#include "storage/impl.h"

namespace storage {
namespace {

constexpr std::string_view kRuleChanged = "rule_changed";  // left because the definition changed

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

// The columns holding a Finding's fields (besides rule and key), in bind/read order.
constexpr const char* kFindingColumns =
    "person, team, worker, band, state, since, since_at_least, days, start, due, end_date, "
    "working_days, assumed_interval, detail, cases";
constexpr int kFindingColumnCount = 15;

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

// read_notes for every key of one rule, with one query: a rule's list may hold tens of
// thousands of findings, few of them with notes, and a query per finding was a good part of a
// cycle at a million records (issue 16).
class RuleNotes {
 public:
  RuleNotes(SQLite::Database& db, std::string_view rule) {
    SQLite::Statement query(db,
                            "SELECT key, text, author, at FROM notes WHERE rule = ? ORDER BY id");
    query.bind(1, std::string(rule));
    while (query.executeStep()) {
      Trail& trail = by_key_[query.getColumn(0).getString()];
      trail.latest = rules::Note{query.getColumn(1).getString(), query.getColumn(2).getString(),
                                 query.getColumn(3).getString()};
      ++trail.count;
    }
  }
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
    rules::ResolvedFinding resolved;
    resolved.last = read_finding(query, 5, std::string(rule), query.getColumn(0).getString());
    resolved.first_seen = required_date(query.getColumn(1));
    resolved.resolved_on = required_date(query.getColumn(2));
    resolved.reason = resolution_from(query.getColumn(3).getString());
    resolved.detail = query.getColumn(4).getString();
    out.push_back(std::move(resolved));
  }
  return out;
}

}  // namespace

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

RuleOutcome History::apply_evaluation(const rules::Rule& rule, const rules::Source& source,
                                      rules::Date as_of, const rules::Evaluation& evaluation) {
  if (impl_->writer_open) {
    throw std::logic_error("apply_evaluation: an extract writer is open");
  }
  SQLite::Database& db = impl_->db;
  SQLite::Transaction transaction(db, SQLite::TransactionBehavior::IMMEDIATE);
  const std::string as_of_text = as_of.iso();
  RuleOutcome outcome;
  outcome.rule = rule.id;
  outcome.as_of = as_of;

  // ---- read: the definition last evaluated and the findings open before this evaluation.
  std::optional<std::string> stored_fingerprint;
  {
    SQLite::Statement query(db,
                            "SELECT fingerprint FROM evaluations WHERE rule = ? "
                            "ORDER BY id DESC LIMIT 1");
    query.bind(1, rule.id);
    if (query.executeStep()) {
      stored_fingerprint = query.getColumn(0).getString();
    }
  }
  const bool same_definition = stored_fingerprint == rule.fingerprint;
  std::vector<rules::OpenFinding> open_before;
  std::unordered_map<std::string, std::int64_t> open_ids;  // key -> findings.id
  {
    SQLite::Statement query(db, fmt::format("SELECT id, key, first_seen, {} FROM findings "
                                            "WHERE rule = ? AND status = 'open' ORDER BY id",
                                            kFindingColumns));
    query.bind(1, rule.id);
    while (query.executeStep()) {
      std::string key = query.getColumn(1).getString();
      open_ids.emplace(key, query.getColumn(0).getInt64());
      open_before.push_back(rules::OpenFinding{read_finding(query, 3, rule.id, std::move(key)),
                                               required_date(query.getColumn(2))});
    }
  }

  // ---- decide (pure): what opens, carries on and resolves.
  rules::Track tracked =
      rules::track(open_before, evaluation, rule, source, as_of, same_definition,
                   [&](std::string_view key) { return impl_->current_record(source.name, key); });

  // ---- write: the evaluation, then the resolved findings (first: a key may open again), then
  // the listed ones.
  outcome.baseline = tracked.baseline;
  if (same_definition) {
    // A repeated evaluation at this as-of keeps the baseline flag it had.
    SQLite::Statement query(db, "SELECT baseline FROM evaluations WHERE rule = ? AND as_of = ?");
    query.bind(1, rule.id);
    query.bind(2, as_of_text);
    if (query.executeStep()) {
      outcome.baseline = query.getColumn(0).getInt() != 0;
    }
  }
  {
    SQLite::Statement upsert(db,
                             "INSERT INTO evaluations (rule, as_of, fingerprint, baseline) "
                             "VALUES (?, ?, ?, ?) ON CONFLICT (rule, as_of) DO UPDATE SET "
                             "fingerprint = excluded.fingerprint, baseline = excluded.baseline");
    upsert.bind(1, rule.id);
    upsert.bind(2, as_of_text);
    upsert.bind(3, rule.fingerprint);
    upsert.bind(4, outcome.baseline ? 1 : 0);
    upsert.exec();
  }
  {
    SQLite::Statement resolve(db,
                              "UPDATE findings SET status = 'resolved', resolution = ?, "
                              "resolution_detail = ?, resolved_on = ? WHERE id = ?");
    for (const rules::ResolvedFinding& resolved : tracked.resolved) {
      resolve.bind(1, std::string(resolution_code(resolved.reason)));
      resolve.bind(2, resolved.detail);
      resolve.bind(3, as_of_text);
      resolve.bind(4, open_ids.at(resolved.last.key));
      resolve.exec();
      resolve.reset();
      open_ids.erase(resolved.last.key);
    }
  }
  // The SET list follows kFindingColumns.
  SQLite::Statement carry(
      db,
      "UPDATE findings SET last_seen = max(last_seen, ?), position = ?, "
      "person = ?, team = ?, worker = ?, band = ?, state = ?, since = ?, "
      "since_at_least = ?, days = ?, start = ?, due = ?, end_date = ?, "
      "working_days = ?, assumed_interval = ?, detail = ?, cases = ? WHERE id = ?");
  std::string placeholders;
  for (int i = 0; i < kFindingColumnCount; ++i) {
    placeholders += ", ?";
  }
  SQLite::Statement open_finding(
      db, fmt::format("INSERT INTO findings (rule, key, fingerprint, first_seen, last_seen, "
                      "status, position, {}) VALUES (?, ?, ?, ?, ?, 'open', ?{})",
                      kFindingColumns, placeholders));
  const RuleNotes notes(db, rule.id);
  int position = 0;
  for (rules::TrackedFinding& listed : tracked.listed) {
    const rules::Finding& finding = listed.finding;
    if (const auto found = open_ids.find(finding.key); found != open_ids.end()) {
      carry.bind(1, as_of_text);
      carry.bind(2, position);
      bind_finding(carry, 3, finding);
      carry.bind(3 + kFindingColumnCount, found->second);
      carry.exec();
      carry.reset();
      notes.read(finding.key, listed);
    } else {
      open_finding.bind(1, rule.id);
      open_finding.bind(2, finding.key);
      open_finding.bind(3, rule.fingerprint);
      open_finding.bind(4, as_of_text);
      open_finding.bind(5, as_of_text);
      open_finding.bind(6, position);
      bind_finding(open_finding, 7, finding);
      open_finding.exec();
      open_finding.reset();
      notes.read(finding.key, listed);  // the trail of (rule, key) comes with it
    }
    ++position;
  }
  outcome.open = std::move(tracked.listed);
  // Everything resolved at this as-of, so that a repeated evaluation reports the same.
  outcome.resolved = query_resolved(db, rule.id, as_of, as_of);

  // ---- trend: per-band counts at this as-of, replaced when evaluated again.
  {
    SQLite::Statement clear(db, "DELETE FROM band_counts WHERE rule = ? AND as_of = ?");
    clear.bind(1, rule.id);
    clear.bind(2, as_of_text);
    clear.exec();
    SQLite::Statement insert_band(db,
                                  "INSERT INTO band_counts (rule, as_of, position, band, count) "
                                  "VALUES (?, ?, ?, ?, ?) ON CONFLICT (rule, as_of, band) "
                                  "DO UPDATE SET count = count + excluded.count");
    int band_position = 0;
    for (const rules::BandCount& band : evaluation.bands) {
      if (band.rule != rule.id) {
        continue;
      }
      insert_band.bind(1, rule.id);
      insert_band.bind(2, as_of_text);
      insert_band.bind(3, band_position++);
      insert_band.bind(4, band.band);
      insert_band.bind(5, band.count);
      insert_band.exec();
      insert_band.reset();
    }
  }

  // ---- unallocated spells: replaced, keeping the earlier start of a continuing spell.
  {
    std::unordered_map<std::string, rules::Date> earlier;
    SQLite::Statement query(db, "SELECT key, since FROM spells WHERE rule = ?");
    query.bind(1, rule.id);
    while (query.executeStep()) {
      earlier.emplace(query.getColumn(0).getString(), required_date(query.getColumn(1)));
    }
    SQLite::Statement clear(db, "DELETE FROM spells WHERE rule = ?");
    clear.bind(1, rule.id);
    clear.exec();
    SQLite::Statement insert_spell(db,
                                   "INSERT INTO spells (rule, key, since) VALUES (?, ?, ?) "
                                   "ON CONFLICT (rule, key) DO UPDATE SET "
                                   "since = min(since, excluded.since)");
    for (const rules::UnallocatedSpell& spell : evaluation.spells) {
      if (spell.rule != rule.id) {
        continue;
      }
      rules::Date since = spell.since;
      if (const auto found = earlier.find(spell.key); found != earlier.end()) {
        since = std::min(since, found->second);
      }
      insert_spell.bind(1, rule.id);
      insert_spell.bind(2, spell.key);
      insert_spell.bind(3, since.iso());
      insert_spell.exec();
      insert_spell.reset();
    }
  }

  transaction.commit();
  return outcome;
}

std::map<std::string, std::unordered_map<std::string, rules::Date>, std::less<>>
History::unallocated_spells() const {
  std::map<std::string, std::unordered_map<std::string, rules::Date>, std::less<>> out;
  SQLite::Statement query(impl_->db, "SELECT rule, key, since FROM spells");
  while (query.executeStep()) {
    out[query.getColumn(0).getString()].emplace(query.getColumn(1).getString(),
                                                required_date(query.getColumn(2)));
  }
  return out;
}

std::vector<rules::TrackedFinding> History::open_findings(std::string_view rule) const {
  SQLite::Statement query(impl_->db,
                          fmt::format("SELECT id, key, first_seen, last_seen, {} FROM findings "
                                      "WHERE rule = ? AND status = 'open' ORDER BY position, id",
                                      kFindingColumns));
  query.bind(1, std::string(rule));
  const RuleNotes notes(impl_->db, rule);
  std::vector<rules::TrackedFinding> out;
  while (query.executeStep()) {
    rules::TrackedFinding tracked;
    tracked.finding = read_finding(query, 4, std::string(rule), query.getColumn(1).getString());
    tracked.first_seen = required_date(query.getColumn(2));
    const rules::Date last_seen = required_date(query.getColumn(3));
    tracked.status = tracked.first_seen == last_seen ? rules::FindingStatus::kNew
                                                     : rules::FindingStatus::kCarried;
    tracked.weeks_on_list = rules::whole_weeks(tracked.first_seen, last_seen);
    tracked.review_status = tracked.status;
    tracked.weeks_on_review = tracked.weeks_on_list;
    notes.read(tracked.finding.key, tracked);
    out.push_back(std::move(tracked));
  }
  return out;
}

std::vector<rules::ResolvedFinding> History::resolved_between(std::string_view rule,
                                                              rules::Date from,
                                                              rules::Date to) const {
  return query_resolved(impl_->db, rule, from, to);
}

std::vector<rules::TrendPoint> History::trend(std::string_view rule, rules::Date from,
                                              rules::Date to) const {
  SQLite::Statement query(impl_->db,
                          "SELECT band, as_of, count FROM band_counts WHERE rule = ? AND "
                          "as_of BETWEEN ? AND ? ORDER BY as_of, position");
  query.bind(1, std::string(rule));
  query.bind(2, from.iso());
  query.bind(3, to.iso());
  std::vector<rules::TrendPoint> out;
  while (query.executeStep()) {
    out.push_back(rules::TrendPoint{std::string(rule), query.getColumn(0).getString(),
                                    required_date(query.getColumn(1)),
                                    query.getColumn(2).getInt()});
  }
  return out;
}

std::optional<rules::Date> History::baseline_since(std::string_view rule) const {
  SQLite::Statement query(impl_->db,
                          "SELECT as_of FROM evaluations WHERE rule = ? AND baseline = 1 "
                          "ORDER BY id DESC LIMIT 1");
  query.bind(1, std::string(rule));
  if (!query.executeStep()) {
    return std::nullopt;
  }
  return required_date(query.getColumn(0));
}

std::optional<rules::ResolvedFinding> History::last_resolved(std::string_view rule,
                                                             std::string_view key) const {
  SQLite::Statement query(
      impl_->db,
      fmt::format("SELECT key, first_seen, resolved_on, resolution, resolution_detail, {} "
                  "FROM findings WHERE rule = ? AND key = ? AND status = 'resolved' "
                  "ORDER BY resolved_on DESC, id DESC LIMIT 1",
                  kFindingColumns));
  query.bind(1, std::string(rule));
  query.bind(2, std::string(key));
  if (!query.executeStep()) {
    return std::nullopt;
  }
  rules::ResolvedFinding resolved;
  resolved.last = read_finding(query, 5, std::string(rule), query.getColumn(0).getString());
  resolved.first_seen = required_date(query.getColumn(1));
  resolved.resolved_on = required_date(query.getColumn(2));
  resolved.reason = resolution_from(query.getColumn(3).getString());
  resolved.detail = query.getColumn(4).getString();
  rules::TrackedFinding notes;
  read_notes(impl_->db, rule, key, notes);
  resolved.last_note = std::move(notes.latest_note);
  return resolved;
}

std::vector<NoteEntry> History::notes(std::string_view key) const {
  SQLite::Statement query(impl_->db,
                          "SELECT n.rule, n.text, n.author, n.at, f.first_seen, f.status "
                          "FROM notes n JOIN findings f ON f.id = n.finding_id "
                          "WHERE n.key = ? ORDER BY n.id");
  query.bind(1, std::string(key));
  std::vector<NoteEntry> out;
  while (query.executeStep()) {
    NoteEntry entry;
    entry.rule = query.getColumn(0).getString();
    entry.key = std::string(key);
    entry.note = rules::Note{query.getColumn(1).getString(), query.getColumn(2).getString(),
                             query.getColumn(3).getString()};
    entry.finding_first_seen = required_date(query.getColumn(4));
    entry.finding_open = query.getColumn(5).getString() == "open";
    out.push_back(std::move(entry));
  }
  return out;
}

std::size_t History::open_count(std::string_view rule) const {
  SQLite::Statement query(impl_->db,
                          "SELECT count(*) FROM findings WHERE rule = ? AND status = 'open'");
  query.bind(1, std::string(rule));
  query.executeStep();
  return static_cast<std::size_t>(query.getColumn(0).getInt64());
}

std::optional<DefinitionChange> History::last_definition_change(std::string_view rule) const {
  // The latest evaluation whose fingerprint differs from the one before it.
  SQLite::Statement query(impl_->db,
                          "SELECT as_of, fingerprint FROM evaluations WHERE rule = ? ORDER BY id");
  query.bind(1, std::string(rule));
  std::optional<DefinitionChange> change;
  std::optional<std::string> before;
  while (query.executeStep()) {
    std::string fingerprint = query.getColumn(1).getString();
    if (before && *before != fingerprint) {
      change = DefinitionChange{required_date(query.getColumn(0)), *before, fingerprint};
    }
    before = std::move(fingerprint);
  }
  return change;
}

std::optional<std::string> History::last_fingerprint(std::string_view rule) const {
  SQLite::Statement query(impl_->db,
                          "SELECT fingerprint FROM evaluations WHERE rule = ? "
                          "ORDER BY id DESC LIMIT 1");
  query.bind(1, std::string(rule));
  if (!query.executeStep()) {
    return std::nullopt;
  }
  return query.getColumn(0).getString();
}

bool History::add_note(std::string_view rule, std::string_view key, const rules::Note& note) {
  SQLite::Transaction transaction(impl_->db, SQLite::TransactionBehavior::IMMEDIATE);
  SQLite::Statement query(impl_->db,
                          "SELECT id FROM findings WHERE rule = ? AND key = ? AND status = 'open'");
  query.bind(1, std::string(rule));
  query.bind(2, std::string(key));
  if (!query.executeStep()) {
    return false;
  }
  const std::int64_t finding_id = query.getColumn(0).getInt64();
  SQLite::Statement insert(impl_->db,
                           "INSERT INTO notes (finding_id, rule, key, text, author, at) "
                           "VALUES (?, ?, ?, ?, ?, ?)");
  insert.bind(1, finding_id);
  insert.bind(2, std::string(rule));
  insert.bind(3, std::string(key));
  insert.bind(4, note.text);
  insert.bind(5, note.author);
  insert.bind(6, note.at);
  insert.exec();
  transaction.commit();
  return true;
}

}  // namespace storage
