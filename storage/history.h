// storage::History: casewatch's SQLite database (SQLiteCpp is hidden behind a pimpl). Migrations
// by PRAGMA user_version; extracts; records as snapshots with change detection; row problems; the
// findings history (open/carried/resolved, notes, trend); review runs; service state; the outbox;
// alerts and silences. Methods speak rules:: and storage:: values; no SQL leaves the module.
// SQLite failures are exceptions (std::runtime_error and subclasses).
// Not thread-safe: one History per thread.
#ifndef CASEWATCH_STORAGE_HISTORY_H_
#define CASEWATCH_STORAGE_HISTORY_H_

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "rules/rules.h"
#include "storage/alerts.h"
#include "storage/outbox.h"
#include "storage/values.h"

namespace storage {

class History {
 public:
  enum class Access { kReadWrite, kReadOnly };
  // Opens (creating it 0640 when absent) and migrates the database. ":memory:" is accepted.
  // Throws when the file cannot be opened, is not a casewatch database or is corrupt.
  // kReadOnly opens an existing database at this casewatch's schema version without writing to
  // it (no creation, no migration, no pragma that writes; every write method then throws): a
  // reader that never takes SQLite's write lock, so that it neither waits on a writer (WAL)
  // nor holds one up. Throws when the file is absent or at another schema version.
  explicit History(const std::filesystem::path& file, Access access = Access::kReadWrite);
  ~History();
  History(const History&) = delete;
  History& operator=(const History&) = delete;

  int schema_version() const;

  // Copies the write-ahead log into the database file. An extract's commit leaves this to the
  // next write transaction (or to this call, or to closing the database), so that ingesting a
  // large extract does not write every page twice before the file is archived. False when
  // another connection was checkpointing (the log is copied later); throws on other errors.
  bool checkpoint();
  // checkpoint() on a thread of its own, with a connection of its own: the caller goes on
  // (evaluating, writing the review) while a large extract's pages are copied, and the copy runs
  // beside this connection's reads and writes (WAL mode). This connection's automatic
  // checkpoints are off until the copy is waited for, so that its next commit does not start the
  // same copy on the caller's thread. An in-memory database is checkpointed at once.
  // REQUIRES: no writer open (else std::logic_error); the result does not outlive this History.
  class BackgroundCheckpoint;
  BackgroundCheckpoint checkpoint_in_background();

  // ---- extracts
  // Writes one extract in one transaction: see storage/extract_writer.h.
  class ExtractWriter;
  // REQUIRES: no other writer open (else std::logic_error); the writer does not outlive this
  // History. `info.status` is ignored (ingested on commit). Holds SQLite's write lock (BEGIN
  // IMMEDIATE) until committed or destroyed; other History methods must not be called meanwhile.
  ExtractWriter begin_extract(const ExtractInfo& info);
  // Several extracts written in one transaction (a workbook feeding several sources, an SSDA903
  // set): see storage/extract_writer.h. REQUIRES, and holds, as begin_extract.
  class ExtractBatch;
  ExtractBatch begin_batch();

  // Records a rejected or duplicate file (no records), with its problems, in one transaction.
  // `info.problems` is kept when larger than problems.size(). REQUIRES: status not kIngested.
  std::int64_t record_refused(const ExtractInfo& info, const std::vector<rules::Problem>& problems);

  // The ingested extract with this content hash, if any. May be called while an ExtractWriter
  // is open (it only reads); that writer's own extract is found only once committed or when
  // begin_extract was given its hash.
  std::optional<ExtractInfo> find_ingested(std::string_view sha256) const;
  std::optional<ExtractInfo> latest_extract(std::string_view source) const;  // ingested only
  std::vector<ExtractInfo> extracts() const;  // every file handled, oldest first
  std::vector<rules::Problem> problems(std::int64_t extract_id) const;
  // The keys that changed person (ExtractWriter::add_person_change) in ingested extracts with
  // as-of after `after` (nullopt: any) and up to `to`, by as-of, then extract, then line order.
  std::vector<rules::PersonChange> person_changes(std::optional<rules::Date> after,
                                                  rules::Date to) const;

  // Ingested extracts whose evaluation is still pending, in as-of order (then id). An extract
  // is marked pending in its own commit (ExtractWriter::commit) and stays so until
  // evaluation_done(), so a kill between the two leaves it here for the next run.
  std::vector<ExtractInfo> pending_evaluations() const;
  // Clears the pending mark of `extract_id` (its evaluation is stored). Idempotent.
  void evaluation_done(std::int64_t extract_id);

  // ---- snapshots
  // The current records of `source` (those of its latest ingested extract), in storage order.
  std::vector<rules::Record> current_records(std::string_view source) const;
  // The same records as a compact view holding field i as `uses[i]` says (rules::fields_read),
  // built straight from the stored snapshot: no rules::Record is made.
  rules::RecordView current_view(std::string_view source,
                                 const std::vector<rules::FieldUse>& uses) const;
  // What record `key` of `source` looked like in the latest extract with as-of <= `date`.
  std::optional<rules::Record> record_on(std::string_view source, std::string_view key,
                                         rules::Date date) const;
  std::vector<RecordVersion> record_history(std::string_view source, std::string_view key) const;

  // ---- findings history
  // Applies one rule's evaluation at `as_of` in one transaction: opens new findings, continues
  // those still listed, resolves the rest (rules::resolve says why, from the record as it is
  // now in `source`'s current snapshot). When `rule.fingerprint` differs from the previous
  // evaluation's, the old findings are closed without being reported and a new baseline starts.
  // Keeps the per-band counts for the trend and the unallocated spells.
  RuleOutcome apply_evaluation(const rules::Rule& rule, const rules::Source& source,
                               rules::Date as_of, const rules::Evaluation& evaluation);

  // For SourceData::first_seen_unallocated: rule id -> record key -> first as-of unallocated.
  std::map<std::string, std::unordered_map<std::string, rules::Date>, std::less<>>
  unallocated_spells() const;

  // Findings of `rule` open now, as of their last evaluation (status NEW when opened at it).
  std::vector<rules::TrackedFinding> open_findings(std::string_view rule) const;
  // Findings of `rule` resolved at evaluations with as-of in [from, to].
  std::vector<rules::ResolvedFinding> resolved_between(std::string_view rule, rules::Date from,
                                                       rules::Date to) const;
  // Per-band counts of `rule` at evaluations with as-of in [from, to], oldest first.
  std::vector<rules::TrendPoint> trend(std::string_view rule, rules::Date from,
                                       rules::Date to) const;
  // The as-of date of the first evaluation of the rule's current definition, if any.
  std::optional<rules::Date> baseline_since(std::string_view rule) const;

  // The latest resolution of (rule, key), with the last note on it, or nullopt when it never
  // resolved.
  std::optional<rules::ResolvedFinding> last_resolved(std::string_view rule,
                                                      std::string_view key) const;
  // Every note on `key` (any rule, open or resolved findings), oldest first.
  std::vector<NoteEntry> notes(std::string_view key) const;
  // How many findings of `rule` are open.
  std::size_t open_count(std::string_view rule) const;
  // The latest change of the rule's definition, if its fingerprint ever changed.
  std::optional<DefinitionChange> last_definition_change(std::string_view rule) const;
  // The fingerprint of the rule's latest evaluation, or nullopt when never evaluated.
  std::optional<std::string> last_fingerprint(std::string_view rule) const;

  // Appends a note to the open finding (rule, key): notes are never replaced or deleted, and
  // stay with (rule, key) after the finding resolves. Returns false when no such open finding.
  bool add_note(std::string_view rule, std::string_view key, const rules::Note& note);

  // ---- service state
  // Every control request: who (uid), what (command name), the result code and when (UTC).
  void audit(std::int64_t uid, std::string_view command, int result, std::string_view at);
  struct AuditEntry {
    std::int64_t uid = 0;
    std::string command;
    int result = 0;
    std::string at;
  };
  std::vector<AuditEntry> audit_log(std::size_t limit) const;  // newest first
  // Writes `entries` in one transaction (all or none).
  void audit(const std::vector<AuditEntry>& entries);

  // Weekly review runs: the ISO week ("2026-W47") of the last review produced, so that a review
  // missed while the service was down is produced once at start-up and never twice.
  std::optional<std::string> last_review_week() const;
  void record_review_run(std::string_view week, bool late, std::string_view at);

  // Each review run as a record. record_review() keeps `review` (its week, as-of, the exact list)
  // and its text, replacing an earlier review of the same week, in one transaction.
  void record_review(const rules::PublishedReview& review, std::string_view produced_at,
                     std::string_view text);
  // The latest recorded review of a week before `week` (the previous published review).
  std::optional<rules::PublishedReview> previous_review(rules::IsoWeek week) const;
  std::optional<rules::PublishedReview> latest_review() const;  // of any week
  std::vector<rules::IsoWeek> review_weeks() const;             // oldest first
  std::optional<std::string> review_text(rules::IsoWeek week) const;

  // A small key/value store for other persisted service state (e.g. last fetch results).
  std::optional<std::string> setting(std::string_view name) const;
  void set_setting(std::string_view name, std::string_view value);

  // ---- outbox (mail): see daemon/outbox.h for the delivery guarantee
  // Queues `entries` in one transaction; an entry whose (key, recipient) was ever queued is
  // skipped (INSERT OR IGNORE). Returns how many were new.
  std::size_t queue_mail(const std::vector<OutboxEntry>& entries);
  // record_review_run and queue_mail in one transaction: a review that is due is queued with it.
  std::size_t record_review_run(std::string_view week, bool late, std::string_view at,
                                const std::vector<OutboxEntry>& mail);
  // Pending entries with next_attempt <= now, oldest first.
  std::vector<OutboxEntry> outbox_due(Time now) const;
  // The earliest next_attempt of a pending entry, for the sender's timer.
  std::optional<Time> next_outbox_attempt() const;
  // Entries, newest first; `state` filters when given. Bytes are left empty unless `with_bytes`.
  std::vector<OutboxEntry> outbox(std::optional<OutboxState> state, std::size_t limit,
                                  bool with_bytes = false) const;
  std::optional<OutboxEntry> outbox_entry(std::int64_t id) const;
  // Writes the delivery fields (state, attempts, next_attempt, deadline, last_error, sent_at) of
  // the entry with entry.id, and clears its sending_since: the attempt's outcome is recorded.
  void update_outbox(const OutboxEntry& entry);
  // Records, in its own commit, that a send of entry `id` begins at `at` (sending_since).
  void mark_outbox_sending(std::int64_t id, Time at);
  // The entries whose send began and has no outcome (casewatch stopped inside it), with their
  // bytes; their sending_since is cleared in the same transaction. Call before a delivery round
  // when no other sender runs.
  std::vector<OutboxEntry> take_interrupted_sends();

  // ---- alerts and silences
  std::vector<AlertState> alert_states() const;  // every stored alert, by fingerprint
  // Stores `states` (replacing those with the same fingerprint), ends `ended_silences` and
  // queues `mail`, in one transaction. Returns how many mail entries were new.
  std::size_t apply_alerts(const std::vector<AlertState>& states,
                           const std::vector<std::int64_t>& ended_silences,
                           const std::vector<OutboxEntry>& mail);
  std::vector<Silence> silences(bool include_ended = false) const;  // oldest first
  std::int64_t add_silence(const Silence& silence);                 // returns its id
  bool end_silence(std::int64_t id);  // false when no such active silence

  // ---- figures for `metrics` (figures.cpp): counts, never rows
  // Outbox entries per state, as to_string(OutboxState) names them; states with none are absent.
  std::map<std::string, std::size_t> outbox_counts() const;
  // Extract files handled per (source, to_string(ExtractStatus)).
  std::map<std::pair<std::string, std::string>, std::size_t> extract_counts() const;
  // When the latest review run was recorded (UTC "2026-11-23T07:00:00Z"), if any.
  std::optional<std::string> last_review_at() const;

 private:
  // Calls reserve(count) once the number of current records is known (not for a source last
  // ingested before migration 4), then visit(key, data) for each current record in storage
  // order, data in records.data's encoding (valid during the call only).
  void for_each_current(std::string_view source, const std::function<void(std::size_t)>& reserve,
                        const std::function<void(std::string_view, std::string_view)>& visit) const;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A checkpoint running on its own thread (History::checkpoint_in_background). Destroying it
// waits for it, as wait() does.
class History::BackgroundCheckpoint {
 public:
  BackgroundCheckpoint(BackgroundCheckpoint&& other) noexcept;
  BackgroundCheckpoint& operator=(BackgroundCheckpoint&& other) noexcept;
  ~BackgroundCheckpoint();
  BackgroundCheckpoint(const BackgroundCheckpoint&) = delete;
  BackgroundCheckpoint& operator=(const BackgroundCheckpoint&) = delete;

  // Waits for the copy to end and turns the connection's automatic checkpoints back on. Returns
  // what stopped the copy, if anything (the log is then copied by a later checkpoint, and
  // nothing is lost); nullopt when it copied, and at once when already waited for.
  std::optional<std::string> wait();

 private:
  friend class History;
  struct State;
  explicit BackgroundCheckpoint(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace storage

#endif  // CASEWATCH_STORAGE_HISTORY_H_
