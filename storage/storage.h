// storage: casewatch's SQLite database (SQLiteCpp is hidden behind a pimpl). Migrations by
// PRAGMA user_version; extracts; records as snapshots with change detection; row problems; the
// findings history (open/carried/resolved, notes, trend). Methods speak rules:: types; no SQL
// leaves the module. SQLite failures are exceptions (std::runtime_error and subclasses).
// Not thread-safe: one History per thread.
#ifndef CASEWATCH_STORAGE_STORAGE_H_
#define CASEWATCH_STORAGE_STORAGE_H_

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "rules/rules.h"

namespace storage {

enum class ExtractStatus { kIngested, kRejected, kDuplicate };
std::string_view to_string(ExtractStatus status);  // "ingested", "rejected", "duplicate"

// One extract file as casewatch handled it.
struct ExtractInfo {
  std::int64_t id = 0;
  std::string file;  // file name (no folder)
  std::string source;
  std::string sha256;
  rules::Date as_of;
  std::size_t rows = 0;
  std::size_t problems = 0;
  ExtractStatus status = ExtractStatus::kIngested;
  std::string error;       // plain words when rejected or duplicate
  std::string handled_at;  // UTC "2026-11-22T09:30:00Z"
};

// One version of a record: its values from the extract that introduced them until the one
// that changed or dropped them.
struct RecordVersion {
  rules::Record record;
  rules::Date valid_from;               // as-of of the extract that introduced this version
  std::optional<rules::Date> valid_to;  // as-of of the extract that replaced or dropped it
};

// What one rule's evaluation did to its findings history.
struct RuleOutcome {
  std::string rule;
  rules::Date as_of;
  bool baseline = false;  // first evaluation of this rule (or of its new definition)
  std::vector<rules::TrackedFinding> open;       // on the list now, NEW or CARRIED
  std::vector<rules::ResolvedFinding> resolved;  // left the list at this evaluation
};

// ---- mail and alerts (the values the daemon's outbox and alerts modules work with)

using Time = std::chrono::sys_seconds;  // UTC, whole seconds

enum class OutboxState {
  kPending,    // waiting for its next attempt
  kSent,       // the server accepted it
  kFailed,     // a permanent failure, or given up after the deadline: an operator must look
  kCancelled,  // an operator cancelled it (`casewatch outbox cancel`)
};
std::string_view to_string(OutboxState state);  // "pending", "sent", "failed", "cancelled"

// One message for one recipient, queued before anyone tries to send it.
struct OutboxEntry {
  std::int64_t id = 0;  // row id; 0 before it is queued
  std::string key;      // "review/2026-W47/all", "alert/<fingerprint>/firing/<start>/<route>";
                        // with `recipient`, UNIQUE: queued once per recipient, ever
  std::string recipient;
  std::string sender;   // MAIL FROM
  std::string subject;  // for listings; never holds a child's identifiers
  std::string bytes;    // the exact message (report::build_message), fixed when created
  Time created;
  Time deadline;      // given up when still undelivered at this time (created + 5 days)
  Time next_attempt;  // not tried before this time
  int attempts = 0;
  OutboxState state = OutboxState::kPending;
  std::string last_error;  // plain words from the last failed attempt
  std::optional<Time> sent_at;
};

enum class AlertKind {
  kRuleCount,        // a rule's list is longer than its alert_over
  kEscalation,       // a record has been on a rule's list longer than escalate_after
  kStaleSource,      // no new extract of a source within max_age (dead man's switch)
  kRejectedExtract,  // the latest file of a source was rejected
  kDeliveryFailing,  // mail to a recipient failed for good
};

// Something that holds now.
struct AlertCondition {
  AlertKind kind = AlertKind::kRuleCount;
  std::string subject;  // rule id (rule_count, escalation), source name (stale_source,
                        // rejected_extract), recipient (delivery_failing)
  std::string scope;    // record key (escalation), file name (rejected_extract); else empty
  std::string team;     // the record's team (escalation): for routing and silences
  std::string summary;  // one line for subjects and listings; never a child's identifiers
  std::string detail;   // the body; may name a case key (an allow-listed field), never a person
  bool operator==(const AlertCondition&) const = default;
};

enum class AlertStatus { kFiring, kResolved };

// One alert as stored, keyed by its fingerprint.
struct AlertState {
  std::string fingerprint;   // "kind/subject/scope"
  AlertCondition condition;  // as last seen
  AlertStatus status = AlertStatus::kFiring;
  Time started;  // firing since
  std::optional<Time> resolved_at;
  std::optional<Time> last_notified;  // when the last firing or repeat notice was queued
  bool silenced = false;              // a silence covered it at the last decision
  bool operator==(const AlertState&) const = default;
};

// "Don't tell us about this": a rule (or source), optionally one case key or team.
struct Silence {
  std::int64_t id = 0;
  std::string rule;   // matches AlertCondition::subject
  std::string scope;  // a case key or a team name (case-insensitive); empty = all of the rule
  std::string reason;
  std::string who;  // from the socket peer, e.g. "jsmith (uid 1001)"
  Time created;
  std::optional<Time> expires;  // nullopt = until the alerts it covers resolve
  bool ended = false;           // expired, or its alerts resolved
};

// A record encoded as the extract writer stores it. Preparing is a good part of the writer's own
// work per record and needs no database, so a caller may prepare records on another thread.
struct PreparedRecord {
  std::string key;
  std::string data;                // the values, encoded
  std::uint64_t key_hash = 0;      // of key
  std::uint64_t content_hash = 0;  // of data
  // The hash of the raw row the record was read from (ingest's ExtractReader::row_hash()), or 0.
  // Stored with the snapshot, so that the next extract can recognise the same row unparsed
  // (ExtractWriter::match_row). Set by the caller; prepare_record() leaves it alone.
  std::uint64_t row_hash = 0;
  std::size_t line = 0;  // where the row starts in its file (for repeated keys); 0 = unknown

  // What the writer does with it, decided by ExtractWriter::classify().
  enum class Action {
    kInsert,   // a new key: a new record
    kReplace,  // a changed record: ends version `replaces`, inserts a new one
    kKeep,     // unchanged: nothing written
    kRepeat,   // the key was already added to this extract: nothing written
  };
  Action action = Action::kInsert;
  std::int64_t replaces = 0;  // kReplace: the version it ends
  // kRepeat: the line of the earlier row with this key when that row was matched by
  // match_row() (not read, so the caller's reader does not know it repeats); else 0.
  std::size_t repeats_skipped_line = 0;
  bool repeats_same_values = false;  // kRepeat: the earlier record had the same values
};
// Fills `out` from `record`, reusing its buffers. Thread-safe (touches only its arguments).
void prepare_record(const rules::Record& record, PreparedRecord& out);

class History {
 public:
  // Opens (creating it 0640 when absent) and migrates the database. ":memory:" is accepted.
  // Throws when the file cannot be opened, is not a casewatch database or is corrupt.
  explicit History(const std::filesystem::path& file);
  ~History();
  History(const History&) = delete;
  History& operator=(const History&) = delete;

  int schema_version() const;

  // Copies the write-ahead log into the database file. An extract's commit leaves this to the
  // next write transaction (or to this call, or to closing the database), so that ingesting a
  // large extract does not write every page twice before the file is archived. False when
  // another connection was checkpointing (the log is copied later); throws on other errors.
  bool checkpoint();

  // ---- extracts
  // Writes one extract in one transaction. Records are compared with the source's current
  // snapshot: an unchanged record is not rewritten; a record absent from the extract is ended.
  // Destroying it without commit() rolls everything back.
  class ExtractWriter {
   public:
    ~ExtractWriter();
    ExtractWriter(ExtractWriter&&) noexcept;
    // A key added twice is not an error here (ingest rejects such a file once it has read it,
    // and destroys the writer), but commit() then refuses with std::logic_error.
    void add(const rules::Record& record);
    // add() for each record in turn; faster for many (the snapshot lookups overlap).
    void add(std::span<const rules::Record> records);
    // The same for records prepared with prepare_record().
    void add(std::span<const PreparedRecord> records);

    // add() split in two, for a reader thread and a writing thread. The snapshot side
    // (match_row, classify) and the writing side (write) may run on different threads at the
    // same time; each side is used from one thread at a time, and both are done before
    // add_problem/set_sha256/commit.
    //
    // Snapshot side. A row whose raw hash is `row_hash` (not 0), starting on `line`: kUnknown
    // when no current record was stored from those exact bytes (the caller reads the row);
    // kUnchanged when one was (the record is kept as it is, unparsed: the caller skips the
    // row); kRepeat when that record's row was already matched in this extract, on first_line.
    struct RowMatch {
      enum class Kind { kUnknown, kUnchanged, kRepeat };
      Kind kind = Kind::kUnknown;
      std::size_t first_line = 0;
    };
    RowMatch match_row(std::uint64_t row_hash, std::size_t line);
    // Decides record.action (and replaces, repeats_skipped_line) against the snapshot and marks
    // the key as added. Records must be classified in file order, each once.
    void classify(PreparedRecord& record);
    // Writing side: carries out the actions of classified records.
    void write(std::span<const PreparedRecord> records);

    // Why the source's stored snapshot could not be used (it was damaged), or nullopt. The
    // writer then read the current records instead, so nothing is lost; only unchanged rows
    // cannot be skipped this once. commit() stores a new snapshot.
    const std::optional<std::string>& snapshot_problem() const;

    void add_problem(const rules::Problem& problem);
    // Sets the extract's content hash when it was not known at begin_extract (the caller
    // hashes the file while it is read). Until then the extract's hash is info.sha256.
    void set_sha256(std::string_view sha256);
    // Ends the versions of records not added (vanished), marks the extract ingested with its
    // row and problem counts, commits, and returns its id. After it, the writer is spent.
    // Throws std::logic_error when a key was added twice (nothing is stored).
    std::int64_t commit(std::size_t rows);

   private:
    friend class History;
    struct Impl;
    explicit ExtractWriter(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
  };
  // REQUIRES: no other writer open (else std::logic_error); the writer does not outlive this
  // History. `info.status` is ignored (ingested on commit). Holds SQLite's write lock (BEGIN
  // IMMEDIATE) until committed or destroyed; other History methods must not be called meanwhile.
  ExtractWriter begin_extract(const ExtractInfo& info);

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

  // Ingested extracts whose evaluation is still pending, in as-of order (then id). An extract
  // is marked pending in its own commit (ExtractWriter::commit) and stays so until
  // evaluation_done(), so a kill between the two leaves it here for the next run.
  std::vector<ExtractInfo> pending_evaluations() const;
  // Clears the pending mark of `extract_id` (its evaluation is stored). Idempotent.
  void evaluation_done(std::int64_t extract_id);

  // ---- snapshots
  std::vector<rules::Record> current_records(std::string_view source) const;
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

  // Records a note on the open finding (rule, key). Returns false when no such open finding.
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
  // the entry with entry.id.
  void update_outbox(const OutboxEntry& entry);

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

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// ---- backup and restore (backup.cpp): whole database files, not History methods.

// What a backup or restore copied.
struct CopyResult {
  std::uintmax_t bytes = 0;  // size of the written file
  int schema_version = 0;    // its PRAGMA user_version
};

// Copies the database `database` to `target` with SQLite's online backup API, in one read
// transaction on a connection of its own: a consistent copy while the service writes (WAL).
// Writes a temporary file beside `target` (0640), checks it with PRAGMA integrity_check, then
// renames it into place. Throws std::runtime_error naming the file on any failure (target
// folder missing, database unreadable, check failed); `target` is then left as it was.
CopyResult backup_database(const std::filesystem::path& database,
                           const std::filesystem::path& target);

// Replaces the database `database` by the backup `backup`, which must pass PRAGMA
// integrity_check and be a casewatch database (user_version >= 1). The current database, if
// any, is kept beside it as `<name>.before-restore`; its -wal and -shm files are removed (they
// belong to it, not to the backup). REQUIRES: no process has `database` open (the caller
// checks that the service is stopped). Throws std::runtime_error naming the file on failure,
// before anything is replaced.
CopyResult restore_database(const std::filesystem::path& backup,
                            const std::filesystem::path& database);

// Deletes the findings of `database` resolved before `resolved_before`, with their notes, in
// one transaction; open findings are never touched. Returns how many findings and notes went.
// Uses a connection of its own (the service's stay open). Throws on database errors.
struct PruneResult {
  std::size_t findings = 0;
  std::size_t notes = 0;
};
PruneResult prune_resolved_findings(const std::filesystem::path& database,
                                    rules::Date resolved_before);

}  // namespace storage

#endif  // CASEWATCH_STORAGE_STORAGE_H_
