// The work casewatch does, shared by `casewatchd --once` and the service: take the files waiting
// in the inbox, ingest each whole or not at all, evaluate the rules of the sources that got a new
// extract, keep the findings history, and write the weekly review files.
// Not thread-safe: each job builds its own Engine on the pool thread (daemon/work/job.h);
// --once uses one on the main thread.
#ifndef CASEWATCH_DAEMON_WORK_ENGINE_H_
#define CASEWATCH_DAEMON_WORK_ENGINE_H_

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "config/config.h"
#include "daemon/policy/alerts.h"
#include "daemon/policy/outbox.h"
#include "ingest/ingest.h"
#include "report/report.h"
#include "rules/rules.h"
#include "storage/storage.h"

namespace service {

// What happened to one file of the inbox.
struct ExtractOutcome {
  storage::ExtractInfo info;
  std::vector<rules::Problem> problems;  // every row problem (rejected files: why)
  std::filesystem::path moved_to;        // archive/ or rejected/
  // Ingested files: rows recognised by their raw bytes as unchanged since the source's last
  // extract, and so not parsed again.
  std::size_t unchanged_rows = 0;
};

// A set (Source::set) whose files of one as-of date were ingested without one of its sources'
// (a council's SSDA903 export before 2023-24 has no social worker episodes).
struct IncompleteSet {
  std::string set;
  rules::Date as_of;
  std::vector<std::string> files;    // the files ingested
  std::vector<std::string> missing;  // the sources with no file of that date
};

// What one cycle did.
struct CycleResult {
  // One per file and source it fed (a workbook feeding four lists gives four).
  std::vector<ExtractOutcome> extracts;
  std::vector<storage::RuleOutcome> outcomes;  // one per rule evaluated in this cycle
  // Inbox files left because they match no source (after the cycle): reported, never guessed.
  std::vector<ingest::UnmatchedFile> ignored;
  std::vector<IncompleteSet> incomplete_sets;
};

// Creates the state folders (0750) when absent: state_dir and its inbox/, archive/, rejected/
// and reports/; warns about (and tightens, when ours) existing ones that are looser; removes the
// temporary files an interrupted run left in reports/ (.*.tmp), archive/ and rejected/
// (.*.moving). Throws std::runtime_error naming the folder when one cannot be created or
// written.
void prepare_state_dir(const config::Config& config);

// Logs a warning when the holiday list ends less than a year after `today`: working-day due
// dates beyond its end would ignore bank holidays. Returns whether it warned.
bool warn_if_calendar_ends_soon(const rules::Calendar& calendar, rules::Date today);

// What an alert cycle knows besides the conditions: the rules' lists now (the digests' tables)
// and the rules whose case alerts are inhibited (their source is stale or has no data).
struct AlertContext {
  std::vector<RuleList> lists;
  std::set<std::string> inhibited_rules;
};

// One alert cycle: decide_alerts over the stored states and active silences, the notices as one
// digest per route and group (build_digests, digest_mail), all stored in one transaction
// (History::apply_alerts); then one log line per digest, with counts and no keys. `current`
// must be every condition that holds now (an alert absent from it resolves). Returns the
// decision.
AlertDecision update_alerts(storage::History& history, const std::vector<AlertCondition>& current,
                            const config::Config& config, Time now,
                            const AlertContext& context = {}, const BackoffPolicy& backoff = {});

class Engine {
 public:
  // REQUIRES: config, calendar and history outlive the engine.
  Engine(const config::Config& config, const rules::Calendar& calendar, storage::History& history);
  // Waits for the copy of the write-ahead log a cycle started, if it is still running.
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Ingests every file waiting in the inbox, oldest first, then evaluates the rules whose
  // sources got a new extract (each at its extract's as-of date) and records the findings
  // history. Files are taken in groups (ingest::group_inbox): a file with every source it feeds,
  // or a set's files of one as-of date. `should_stop` is polled between groups: when it returns
  // true the cycle ends after the current group. `take`, when given, is asked about each waiting
  // file just before its group is read: false leaves it, and the rest of its group, in the
  // inbox for a later cycle (the service uses it for files still being written). Groups are
  // taken in as-of order (the date in the name, else the modification date), then oldest first.
  // Before any file, evaluates the extracts whose evaluation is pending (evaluate_pending).
  // Throws on environment failures (database, file system).
  CycleResult run_cycle(const std::function<bool()>& should_stop = {},
                        const std::function<bool(const std::filesystem::path&)>& take = {});

  // Ingests one group of inbox files whole or not at all, for every source each file feeds, in
  // one transaction (History::ExtractBatch), then moves each file to archive/ or rejected/: one
  // outcome per file and source. A part (a file for one source: a workbook's list) that fails
  // rejects the whole group, and the reason names it. A part whose as-of date is before its
  // source's latest ingested extract fails: the snapshot and the findings history only go
  // forward in time. A file whose content was ingested before is refused as a duplicate (in a
  // set, that file alone).
  // `for_evaluation`: the caller evaluates the new extracts next (run_cycle does). Then, while a
  // part stores every row anew (a source's first extract, or one in which every row changed),
  // what it stores is the source's whole snapshot, and the engine keeps it as the evaluation's
  // view instead of reading the snapshot back: less work in all, a little more for the ingest,
  // and the view's memory held from the ingest on.
  std::vector<ExtractOutcome> ingest_group(const ingest::InboxGroup& group,
                                           bool for_evaluation = false);

  // Ingests one file for one source: ingest_group of a group of one.
  ExtractOutcome ingest_file(const std::filesystem::path& file, const rules::Source& source,
                             bool for_evaluation = false);

  // Evaluates the extracts committed but not yet evaluated (a kill came between the two), in
  // as-of order, and clears their pending marks; returns the rules' outcomes. Evaluating an
  // extract again changes nothing, so a kill inside this is completed by the next call too.
  std::vector<storage::RuleOutcome> evaluate_pending();

  // Evaluates every rule at its source's latest extract (no history written). The result is
  // kept and given again while its inputs (each source's latest extract, the unallocated
  // spells) are the same: a --once cycle asks for it for the review, the alerts and the summary.
  rules::Evaluation evaluate_current() const;

  // The weekly review for ISO week `week` as of `today`, rendered as "text", "html" or "csv"
  // (every field, as the files on disk). Throws std::invalid_argument for another format.
  std::string render_review(rules::IsoWeek week, rules::Date today, std::string_view format,
                            bool late = false) const;

  // The review of `week` as of `today`, from the findings history and the current evaluation.
  // Findings covered by an active silence at `now` are marked, never hidden.
  report::Review build_review(rules::IsoWeek week, rules::Date today, bool late, Time now) const;

  // The weekly review becomes due: writes its files (write_review), then records the review
  // run and queues its mail per route in one transaction (queue_review: a week's review is
  // never queued twice). Returns the folder of the files. When `built` is given, the review is
  // left there (a --once run's alerts and summary read its lists instead of the history again).
  std::filesystem::path produce_review(rules::IsoWeek week, rules::Date today, bool late, Time now,
                                       report::Review* built = nullptr);

  // One alert cycle over every condition that holds now: rule counts over alert_over, records
  // past escalate_after or escalate_listed_after, sources older than max_age, files rejected
  // since their source's last ingested extract, recipients whose mail cannot be delivered, a
  // holiday list ending within a year. Rules reading a stale or empty source are inhibited.
  // Stores the states and queues the digests in one transaction. `review`, when given, is a
  // review built from the findings history as it is now (produce_review's, with nothing written
  // since): the rules' lists are taken from it instead of read again.
  AlertDecision run_alerts(Time now, const report::Review* review = nullptr);

  // Writes review.txt, review.html and review.csv for `week` into
  // state_dir/reports/<week>/ (files 0640, replacing an earlier run's) and returns the folder.
  // It does not record a review run: the weekly schedule does that (and sends the mail), so a
  // --once run never stops the scheduled review.
  std::filesystem::path write_review(rules::IsoWeek week, rules::Date today, bool late);

 private:
  // The view of source `name`'s records at its latest extract `extract_id`, holding what the
  // configured rules read: built from the stored snapshot once per extract and kept, so that
  // the evaluations of one cycle (after the ingest, for the review, the alerts, the summary)
  // share it.
  const rules::RecordView& view_of(const std::string& name, std::int64_t extract_id) const;
  // Evaluates `rule_set` over the latest extracts of `source_names`; with `keep` (rule_set is
  // config_.rules), through current_.
  rules::Evaluation evaluate_rules(const rules::RuleSet& rule_set,
                                   const std::vector<std::string>& source_names,
                                   bool keep = false) const;
  // Writes the three review files of `review` (see write_review).
  std::filesystem::path write_files(const report::Review& review);
  // Records `review` as this week's review run (its week, as-of date, the list each reviewed
  // rule carried, and `text`), replacing an earlier run of the same week.
  void record(const report::Review& review, std::string_view text);
  // Evaluates and records the rules that read any of `source_names`, after they got new
  // extracts (each rule once).
  std::vector<storage::RuleOutcome> evaluate_after(const std::vector<std::string>& source_names);
  // The parts of a group (engine_ingest.cpp).
  struct Part;
  // Reads `part` and, unless an earlier part failed (`failed`), writes it into `batch` (opened
  // at the first part written); sets its failure when it fails the group.
  void read_part(Part& part, std::optional<storage::History::ExtractBatch>& batch, bool failed,
                 bool for_evaluation);
  // Records `parts` (all of one file) as refused with `status` and `why`, moves the file to
  // rejected/ with its reason file and logs it.
  void refuse_file(std::vector<Part*>& parts, storage::ExtractStatus status,
                   const std::string& why);

  const config::Config& config_;
  const rules::Calendar& calendar_;
  storage::History& history_;
  struct KeptView {
    std::int64_t extract_id = 0;
    rules::RecordView view;
  };
  mutable std::map<std::string, KeptView, std::less<>> views_;  // by source name
  // An evaluation's inputs besides the rules and the calendar: the latest extract of each
  // source read (name, extract id), and the unallocated spells stored.
  using Extracts = std::vector<std::pair<std::string, std::int64_t>>;
  using Spells = std::map<std::string, std::unordered_map<std::string, rules::Date>, std::less<>>;
  // The last evaluate_current() and its inputs.
  struct KeptEvaluation {
    Extracts extracts;
    Spells spells;
    rules::Evaluation evaluation;
  };
  mutable std::optional<KeptEvaluation> current_;
  // The latest ingested extract of each of `names` that has one, once each, in their order.
  std::vector<storage::ExtractInfo> latest_extracts(const std::vector<std::string>& names) const;
  // Every source the configured rules read, in rule order (repeats included).
  std::vector<std::string> sources_read() const;
  // What evaluate_current() evaluates from: latest_extracts(sources_read()) and the unallocated
  // spells stored now.
  std::pair<Extracts, Spells> current_inputs() const;
  // The copy of the write-ahead log into the database file started after the last ingest
  // (copy_log), running beside the evaluation and the review.
  std::optional<storage::History::BackgroundCheckpoint> log_copy_;
  // Starts copying the log on its own thread, after waiting for the copy before.
  void copy_log();
};

}  // namespace service

#endif  // CASEWATCH_DAEMON_WORK_ENGINE_H_
