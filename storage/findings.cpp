// The findings history: evaluations, findings opened/carried/resolved, notes, trend, spells.
#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>
#include <unordered_map>

#include "storage/finding_rows.h"
#include "storage/impl.h"

namespace storage {

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
  // The open findings as of the list before (written then, or aged to it: see age_to_list).
  const std::optional<rules::Date> before_as_of = list_as_of(db, rule.id);
  std::vector<rules::OpenFinding> open_before;
  struct OpenRow {
    std::int64_t id;        // findings.id
    std::size_t index;      // in open_before
    rules::Date last_seen;  // the list before's as-of (as aged to it)
  };
  std::unordered_map<std::string, OpenRow> open_rows;  // by key
  {
    SQLite::Statement query(db, fmt::format("SELECT id, key, first_seen, last_seen, {} FROM "
                                            "findings WHERE rule = ? AND status = 'open' "
                                            "ORDER BY id",
                                            kFindingColumns));
    query.bind(1, rule.id);
    while (query.executeStep()) {
      std::string key = query.getColumn(1).getString();
      const std::int64_t id = query.getColumn(0).getInt64();
      rules::Date last_seen = required_date(query.getColumn(3));
      rules::Finding last = read_finding(query, 4, rule.id, key);
      age_to_list(last, last_seen, before_as_of);
      open_rows.emplace(std::move(key), OpenRow{id, open_before.size(), last_seen});
      open_before.push_back(rules::OpenFinding{std::move(last), required_date(query.getColumn(2))});
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
    // Each as last seen: on the list before (its days aged to it), in its place there.
    std::vector<const rules::Finding*> last;
    last.reserve(tracked.resolved.size());
    for (const rules::ResolvedFinding& resolved : tracked.resolved) {
      last.push_back(&resolved.last);
    }
    const std::vector<std::size_t> places = rules::listing_places(last);
    SQLite::Statement resolve(db,
                              "UPDATE findings SET status = 'resolved', resolution = ?, "
                              "resolution_detail = ?, resolved_on = ?, last_seen = ?, days = ?, "
                              "position = ? WHERE id = ?");
    for (std::size_t i = 0; i < tracked.resolved.size(); ++i) {
      const rules::ResolvedFinding& resolved = tracked.resolved[i];
      resolve.bind(1, std::string(resolution_code(resolved.reason)));
      resolve.bind(2, resolved.detail);
      resolve.bind(3, as_of_text);
      const OpenRow& row = open_rows.at(resolved.last.key);
      resolve.bind(4, row.last_seen.iso());
      resolve.bind(5, resolved.last.days);
      resolve.bind(6, static_cast<std::int64_t>(places[i]));
      resolve.bind(7, row.id);
      resolve.exec();
      resolve.reset();
      open_rows.erase(resolved.last.key);
    }
  }
  // A carried finding is written only when it differs from the one before, aged to this as-of
  // (rules::aged): the rest are read back aged to the list's as-of (age_to_list). The SET list
  // follows kFindingColumns.
  const int aged_by = before_as_of ? as_of - *before_as_of : 0;
  SQLite::Statement carry(
      db,
      "UPDATE findings SET last_seen = ?, position = ?, "
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
    if (const auto found = open_rows.find(finding.key); found != open_rows.end()) {
      const rules::Finding& before = open_before[found->second.index].last;
      if (!same_stored(rules::aged(before, aged_by), finding)) {
        carry.bind(1, as_of_text);
        carry.bind(2, position);
        bind_finding(carry, 3, finding);
        carry.bind(3 + kFindingColumnCount, found->second.id);
        carry.exec();
        carry.reset();
      }
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
  {
    SQLite::Statement list(db,
                           "INSERT INTO rule_lists (rule, as_of) VALUES (?, ?) "
                           "ON CONFLICT (rule) DO UPDATE SET as_of = excluded.as_of");
    list.bind(1, rule.id);
    list.bind(2, as_of_text);
    list.exec();
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

  // ---- unallocated spells: replaced, keeping the earlier start of a continuing spell. Only
  // the spells that began, moved earlier or ended are written.
  {
    struct Earlier {
      rules::Date since;
      bool continues = false;
    };
    std::unordered_map<std::string, Earlier> earlier;
    SQLite::Statement query(db, "SELECT key, since FROM spells WHERE rule = ?");
    query.bind(1, rule.id);
    while (query.executeStep()) {
      earlier.emplace(query.getColumn(0).getString(), Earlier{required_date(query.getColumn(1))});
    }
    SQLite::Statement upsert_spell(db,
                                   "INSERT INTO spells (rule, key, since) VALUES (?, ?, ?) "
                                   "ON CONFLICT (rule, key) DO UPDATE SET "
                                   "since = min(since, excluded.since)");
    for (const rules::UnallocatedSpell& spell : evaluation.spells) {
      if (spell.rule != rule.id) {
        continue;
      }
      if (const auto found = earlier.find(spell.key); found != earlier.end()) {
        found->second.continues = true;
        if (found->second.since <= spell.since) {
          continue;
        }
      }
      upsert_spell.bind(1, rule.id);
      upsert_spell.bind(2, spell.key);
      upsert_spell.bind(3, spell.since.iso());
      upsert_spell.exec();
      upsert_spell.reset();
    }
    SQLite::Statement end_spell(db, "DELETE FROM spells WHERE rule = ? AND key = ?");
    for (const auto& [key, spell] : earlier) {
      if (spell.continues) {
        continue;
      }
      end_spell.bind(1, rule.id);
      end_spell.bind(2, key);
      end_spell.exec();
      end_spell.reset();
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
                                      "WHERE rule = ? AND status = 'open' ORDER BY id",
                                      kFindingColumns));
  query.bind(1, std::string(rule));
  const RuleNotes notes(impl_->db, rule);
  const std::optional<rules::Date> as_of = list_as_of(impl_->db, rule);
  // Counted first (from the open findings' index): growing the vector a finding at a time
  // would move every finding already read, again and again.
  SQLite::Statement count(impl_->db,
                          "SELECT count(*) FROM findings WHERE rule = ? AND status = 'open'");
  count.bind(1, std::string(rule));
  std::vector<rules::TrackedFinding> found;
  if (count.executeStep()) {
    found.reserve(static_cast<std::size_t>(count.getColumn(0).getInt64()));
  }
  while (query.executeStep()) {
    rules::TrackedFinding tracked;
    tracked.finding = read_finding(query, 4, std::string(rule), query.getColumn(1).getString());
    tracked.first_seen = required_date(query.getColumn(2));
    rules::Date last_seen = required_date(query.getColumn(3));
    age_to_list(tracked.finding, last_seen, as_of);
    tracked.status = tracked.first_seen == last_seen ? rules::FindingStatus::kNew
                                                     : rules::FindingStatus::kCarried;
    tracked.weeks_on_list = rules::whole_weeks(tracked.first_seen, last_seen);
    tracked.review_status = tracked.status;
    tracked.weeks_on_review = tracked.weeks_on_list;
    notes.read(tracked.finding.key, tracked);
    found.push_back(std::move(tracked));
  }
  // In the list's order: the places stored are from the evaluations that wrote each one.
  std::vector<const rules::Finding*> findings;
  findings.reserve(found.size());
  for (const rules::TrackedFinding& tracked : found) {
    findings.push_back(&tracked.finding);
  }
  std::vector<std::size_t> places = rules::listing_places(findings);
  // Each to its place, in place: follow each cycle of the permutation, swapping.
  for (std::size_t i = 0; i < found.size(); ++i) {
    while (places[i] != i) {
      const std::size_t to = places[i];
      std::swap(found[i], found[to]);
      std::swap(places[i], places[to]);
    }
  }
  return found;
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
  rules::ResolvedFinding resolved = read_resolved(query, rule);
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
