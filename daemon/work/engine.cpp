#include "daemon/work/engine.h"

#include <date/tz.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <fstream>
#include <future>
#include <mutex>
#include <set>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "daemon/clock.h"
#include "daemon/files.h"
#include "daemon/retention.h"
#include "ingest/ingest.h"

namespace service {
namespace {

namespace fs = std::filesystem;

// How many row problems a reason file lists before saying "and N more".
constexpr std::size_t kReasonProblems = 50;

// The calendar date of a file's modification time in the service's time zone.
rules::Date local_date_of(fs::file_time_type modified, const std::string& timezone) {
  const auto sys = std::chrono::file_clock::to_sys(modified);
  return local_date(std::chrono::floor<std::chrono::seconds>(sys), date::locate_zone(timezone));
}

std::string describe_problem(const rules::Problem& problem) {
  std::string where = problem.line > 0 ? fmt::format("line {}", problem.line) : std::string();
  if (!problem.column.empty()) {
    where += fmt::format("{}column '{}'", where.empty() ? "" : ", ", problem.column);
  }
  return where.empty() ? problem.message : fmt::format("{}: {}", where, problem.message);
}

// Keys whose person identifier differs from the one they had in the source's previous extract:
// each is stored for the review and becomes a row problem. Returns how many.
std::size_t add_person_changes(storage::History::ExtractWriter& writer, const rules::Source& source,
                               std::vector<rules::Problem>& problems) {
  std::size_t count = 0;
  for (const auto& change : writer.field_changes()) {
    if (!rules::different_person(change.before, change.after)) continue;
    writer.add_person_change(change.key, change.line);
    problems.push_back(rules::person_changed(source, change.key, change.line));
    ++count;
  }
  return count;
}

// The plain-words reason file written beside a rejected file.
std::string reason_text(const storage::ExtractInfo& info, const std::string& why,
                        const std::vector<rules::Problem>& problems) {
  std::string text = fmt::format(
      "casewatch did not ingest this file.\n\n"
      "File:    {}\nSource:  {}\nAs of:   {}\nChecked: {}\n\nWhy: {}\n",
      info.file, info.source, info.as_of.iso(), info.handled_at, why);
  if (info.status == storage::ExtractStatus::kRejected) {
    text +=
        "\nNothing from this file was stored. Correct the file (or the [[source]] settings in the\n"
        "configuration) and put it back into the inbox; it will be read again as a new file.\n";
  }
  if (!problems.empty()) {
    text += fmt::format("\nProblems found ({}):\n", problems.size());
    for (std::size_t i = 0; i < problems.size() && i < kReasonProblems; ++i) {
      text += "  " + describe_problem(problems[i]) + "\n";
    }
    if (problems.size() > kReasonProblems) {
      text += fmt::format("  ... and {} more\n", problems.size() - kReasonProblems);
    }
  }
  return text;
}

// Carries records from the reader's thread to the writer (the calling thread) in batches. At
// most kBatchesInFlight batches exist, so memory stays flat however long the file; batches are
// handed back to the reader and reused, so their strings keep their capacity.
class RecordPipe {
 public:
  struct Batch {
    // Records to write (the first `size`), prepared and classified on the reader's thread:
    // that takes the work off the writer's, the pipeline's slower side.
    std::vector<storage::PreparedRecord> prepared;
    std::size_t size = 0;
  };
  static constexpr std::size_t kBatchRecords = 1024;
  static constexpr std::size_t kBatchesInFlight = 4;

  // Reader side: an empty batch to fill; waits while every batch is in flight. nullopt when
  // the writer has given up (cancel()).
  std::optional<Batch> take_empty() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return cancelled_ || !spare_.empty() || made_ < kBatchesInFlight; });
    if (cancelled_) return std::nullopt;
    if (!spare_.empty()) {
      Batch batch = std::move(spare_.back());
      spare_.pop_back();
      batch.size = 0;
      return batch;
    }
    ++made_;
    Batch batch;
    batch.prepared.resize(kBatchRecords);
    return batch;
  }
  void push(Batch batch) {
    std::lock_guard lock(mutex_);
    full_.push_back(std::move(batch));
    changed_.notify_all();
  }
  // Reader side: no more batches (after the last record, or after a failure).
  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    changed_.notify_all();
  }
  // Writer side: the next full batch, or nullopt once the reader has closed and all are taken.
  std::optional<Batch> pop() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return closed_ || !full_.empty(); });
    if (full_.empty()) return std::nullopt;
    Batch batch = std::move(full_.front());
    full_.pop_front();
    return batch;
  }
  void give_back(Batch batch) {
    std::lock_guard lock(mutex_);
    spare_.push_back(std::move(batch));
    changed_.notify_all();
  }
  // Writer side: stop the reader (it sees nullopt from take_empty()).
  void cancel() {
    std::lock_guard lock(mutex_);
    cancelled_ = true;
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Batch> full_;
  std::vector<Batch> spare_;
  std::size_t made_ = 0;
  bool closed_ = false;
  bool cancelled_ = false;
};

// Runs `reader` to its end on its own thread, feeding `pipe` with the records `writer` must
// write. This thread is the writer's snapshot side: it offers each row's raw hash to
// writer.match_row() (an unchanged row is skipped unparsed) and classifies each record read
// (an unchanged record is not passed on). The destructor cancels and joins, so no path out of
// ingest_file leaves the thread running; wait() joins and rethrows what the reader threw (an
// unreadable file).
class ReaderThread {
 public:
  ReaderThread(ingest::Reader& reader, storage::History::ExtractWriter& writer, RecordPipe& pipe)
      : pipe_(pipe), thread_([this, &reader, &writer] { run(reader, writer); }) {}
  ~ReaderThread() {
    if (thread_.joinable()) {
      pipe_.cancel();
      thread_.join();
    }
  }
  ReaderThread(const ReaderThread&) = delete;
  ReaderThread& operator=(const ReaderThread&) = delete;

  void wait() {
    thread_.join();
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void run(ingest::Reader& reader, storage::History::ExtractWriter& writer) {
    try {
      read_all(reader, writer);
    } catch (...) {
      error_ = std::current_exception();
    }
    pipe_.close();
  }

  void read_all(ingest::Reader& reader, storage::History::ExtractWriter& writer) {
    using Action = storage::PreparedRecord::Action;
    using Match = storage::History::ExtractWriter::RowMatch::Kind;
    const ingest::RowFilter filter = [&writer](std::uint64_t row_hash, std::size_t line) {
      const auto match = writer.match_row(row_hash, line);
      switch (match.kind) {
        case Match::kUnchanged:
          return ingest::RowCheck{ingest::RowCheck::Kind::kSkip, 0};
        case Match::kRepeat:
          return ingest::RowCheck{ingest::RowCheck::Kind::kRepeat, match.first_line};
        case Match::kUnknown:
          break;
      }
      return ingest::RowCheck{};
    };
    rules::Record record;
    bool more = true;
    while (more) {
      auto batch = pipe_.take_empty();
      if (!batch) return;  // the writer failed: stop reading
      while (batch->size < batch->prepared.size() && (more = reader.next(record, filter))) {
        storage::PreparedRecord& prepared = batch->prepared[batch->size];
        storage::prepare_record(record, prepared);
        prepared.row_hash = reader.row_hash();
        prepared.line = reader.line();
        writer.classify(prepared);
        if (prepared.action == Action::kRepeat && prepared.repeats_skipped_line != 0) {
          // Its key's first row was skipped unparsed, so the reader has not seen the repeat:
          // the same values again (a copy of that row) are a repeated row, others a repeated key.
          if (prepared.repeats_same_values) {
            reader.add_repeated_row(prepared.repeats_skipped_line);
          } else {
            reader.add_repeated_key(prepared.key, prepared.repeats_skipped_line, prepared.line);
          }
        }
        if (prepared.action == Action::kInsert || prepared.action == Action::kReplace) {
          ++batch->size;
        }
      }
      pipe_.push(std::move(*batch));
    }
  }

  RecordPipe& pipe_;
  std::exception_ptr error_;
  std::thread thread_;  // last: starts once the members it uses exist
};

}  // namespace

bool warn_if_calendar_ends_soon(const rules::Calendar& calendar, rules::Date today) {
  const auto last = calendar.last_listed();
  if (last && *last >= today + 365) return false;
  spdlog::warn(
      "the bank holiday list ends {}, less than a year after today ({}): working-day due dates "
      "beyond it ignore holidays; update the holidays file",
      last ? last->iso() : std::string("before it starts"), today.iso());
  return true;
}

Engine::Engine(const config::Config& config, const rules::Calendar& calendar,
               storage::History& history)
    : config_(config), calendar_(calendar), history_(history) {}

void prepare_state_dir(const config::Config& config) {
  const auto& service = config.service;
  // As shipped (systemd/casewatch.tmpfiles): the state folder 0751, the inbox 3770.
  make_private_dir(service.state_dir, 0001);
  make_private_dir(service.inbox_dir(), 0020);
  for (const fs::path& dir :
       {service.archive_dir(), service.rejected_dir(), service.reports_dir()}) {
    make_private_dir(dir);
  }
  // What a kill in the middle of writing a file or moving an extract left behind: the week's
  // review is written again in full, and an interrupted move starts again from its original.
  const std::size_t stale = remove_stale_temporaries(service.reports_dir(), ".tmp", true) +
                            remove_stale_temporaries(service.archive_dir(), ".moving", false) +
                            remove_stale_temporaries(service.rejected_dir(), ".moving", false) +
                            remove_stale_temporaries(service.rejected_dir(), ".tmp", false);
  if (stale > 0) spdlog::info("removed {} temporary files left by an interrupted run", stale);
}

ExtractOutcome Engine::ingest_file(const fs::path& file, const rules::Source& source) {
  ExtractOutcome outcome;
  storage::ExtractInfo& info = outcome.info;
  info.file = file.filename().string();
  info.source = source.name;
  info.handled_at = utc_text(now_utc());
  // The content hash is computed on its own thread while the file is read and stored; it is
  // needed only to refuse a duplicate, which is decided before anything is committed.
  std::future<std::string> sha256 =
      std::async(std::launch::async, [file] { return ingest::file_sha256(file); });

  const std::unique_ptr<ingest::Reader> opened = ingest::open_reader(file, source);
  ingest::Reader& reader = *opened;

  // The as-of date: the file name, else the configured column, else the modification date.
  // Rows are read with a filter (below, the writer's snapshot); the first one, read before the
  // writer exists, with one that reads everything, so that it gets its raw hash too.
  const ingest::RowFilter read_every_row = [](std::uint64_t, std::size_t) {
    return ingest::RowCheck{};
  };
  rules::Record record;
  bool have_first = false;
  std::uint64_t first_row_hash = 0;
  std::size_t first_line = 0;
  if (auto from_name = ingest::as_of_from_file_name(info.file)) {
    info.as_of = *from_name;
  } else {
    have_first = !reader.header_problem() && reader.next(record, read_every_row);
    first_row_hash = reader.row_hash();
    first_line = reader.line();
    if (auto from_column = reader.as_of_from_column()) {
      info.as_of = *from_column;
    } else {
      info.as_of = local_date_of(fs::last_write_time(file), config_.service.timezone);
    }
  }

  const auto refuse = [&](storage::ExtractStatus status, const std::string& why,
                          std::vector<rules::Problem> problems) {
    info.status = status;
    info.error = why;
    info.rows = reader.rows();
    info.problems = problems.size();
    info.id = history_.record_refused(info, problems);
    outcome.moved_to = move_into(file, config_.service.rejected_dir());
    write_private_file(
        outcome.moved_to.parent_path() / (outcome.moved_to.filename().string() + ".reason.txt"),
        reason_text(info, why, problems));
    outcome.problems = std::move(problems);
    // The reason may quote a case key or a value from the file: it goes to the reason file
    // (0640), never to the log.
    spdlog::warn("{}: {} ({} rows, {} problems); moved to {} with the reason beside it", info.file,
                 to_string(status), info.rows, info.problems, outcome.moved_to.string());
    return outcome;
  };

  // A file whose content was ingested before (`earlier`) is refused, unless it is our own file,
  // committed before a crash stopped us from moving it: then the move is finished.
  const auto duplicate = [&](const storage::ExtractInfo& earlier) {
    if (earlier.file == info.file) {
      outcome.info = earlier;
      outcome.moved_to = move_into(file, config_.service.archive_dir());
      spdlog::info("{} was already ingested (extract {}); moved to archive", info.file, earlier.id);
      return outcome;
    }
    return refuse(
        storage::ExtractStatus::kDuplicate,
        fmt::format("the same content as {} (source {}, as of {}), ingested at {}", earlier.file,
                    earlier.source, earlier.as_of.iso(), earlier.handled_at),
        {});
  };

  if (const auto latest = history_.latest_extract(source.name);
      latest && latest->as_of > info.as_of) {
    return refuse(storage::ExtractStatus::kRejected,
                  fmt::format("this extract is as of {}, older than the latest {} extract already "
                              "ingested ({}, as of {}); casewatch keeps each source's history "
                              "going forward in time, so an older extract cannot replace a newer "
                              "one",
                              info.as_of.iso(), source.name, latest->file, latest->as_of.iso()),
                  {});
  }
  if (const auto& header = reader.header_problem()) {
    info.sha256 = sha256.get();
    if (auto earlier = history_.find_ingested(info.sha256)) return duplicate(*earlier);
    return refuse(storage::ExtractStatus::kRejected, *header, reader.problems());
  }

  // Reading (CSV, validation) on one thread, writing (SQLite) on this one. The writer's
  // transaction commits only after the reader's verdict and the duplicate check below.
  auto writer = history_.begin_extract(info);  // info.sha256 is set before commit
  const int person = source.field_index("person");
  if (person >= 0) writer.watch_field(static_cast<std::size_t>(person));
  if (const auto& problem = writer.snapshot_problem()) {
    spdlog::warn(
        "{}: the stored snapshot of source {} could not be read ({}); its current "
        "records were read instead, and a new snapshot is stored with this extract",
        info.file, source.name, *problem);
  }
  if (have_first) {
    storage::PreparedRecord first;
    storage::prepare_record(record, first);
    first.row_hash = first_row_hash;
    first.line = first_line;
    writer.classify(first);
    writer.write(std::span<const storage::PreparedRecord>(&first, 1));
  }
  {
    RecordPipe pipe;
    ReaderThread reading(reader, writer, pipe);
    while (auto batch = pipe.pop()) {
      writer.write(std::span<const storage::PreparedRecord>(batch->prepared.data(), batch->size));
      pipe.give_back(std::move(*batch));
    }
    reading.wait();  // rethrows a read failure (the writer rolls back)
  }
  info.sha256 = sha256.get();
  // find_ingested may run while the writer is open: this extract's own row has no hash yet.
  if (auto earlier = history_.find_ingested(info.sha256)) {
    { auto discard = std::move(writer); }  // rolls back: nothing of the file is stored
    return duplicate(*earlier);
  }
  if (auto verdict = reader.verdict()) {
    // The writer's destructor rolls the transaction back: nothing of the file is stored.
    { auto discard = std::move(writer); }
    return refuse(storage::ExtractStatus::kRejected, *verdict, reader.problems());
  }
  writer.set_sha256(info.sha256);
  outcome.problems = reader.problems();
  const std::size_t person_changes = add_person_changes(writer, source, outcome.problems);
  for (const auto& problem : outcome.problems) writer.add_problem(problem);
  info.rows = reader.rows();
  info.problems = outcome.problems.size();
  info.id = writer.commit(info.rows);
  info.status = storage::ExtractStatus::kIngested;
  outcome.unchanged_rows = reader.skipped_rows();
  // Only now that the transaction has committed may the file leave the inbox.
  outcome.moved_to = move_into(file, config_.service.archive_dir());
  const std::string unchanged =
      outcome.unchanged_rows == 0
          ? std::string()
          : fmt::format("; {} unchanged since the last extract, not parsed again",
                        outcome.unchanged_rows);
  spdlog::info("{}: ingested {} rows ({} with problems{}) as of {}", info.file, info.rows,
               reader.problem_rows(), unchanged, info.as_of.iso());
  if (person_changes > 0) {  // how many, never which: a key may identify a child's case
    spdlog::warn(
        "{}: {} keys now belong to a different person than in the previous {} extract "
        "(data quality: listed in the review and as row problems)",
        info.file, person_changes, source.name);
  }
  return outcome;
}

CycleResult Engine::run_cycle(const std::function<bool()>& should_stop,
                              const std::function<bool(const fs::path&)>& take) {
  CycleResult result;
  // First what a kill left committed but unevaluated, so that nothing is read or reviewed
  // without it.
  result.outcomes = evaluate_pending();
  auto files = ingest::scan_inbox(config_.service.inbox_dir(), config_.rules.sources);
  // An extract's date comes first: a late copy of last week's file must not be read after
  // this week's only because it was copied in later.
  const auto as_of = [this](const ingest::InboxFile& file) {
    const auto from_name = ingest::as_of_from_file_name(file.path.filename().string());
    return from_name ? *from_name : local_date_of(file.modified, config_.service.timezone);
  };
  std::stable_sort(files.begin(), files.end(),
                   [&](const auto& a, const auto& b) { return as_of(a) < as_of(b); });
  for (const auto& file : files) {
    if (should_stop && should_stop()) break;
    if (take && !take(file.path)) continue;
    const rules::Source* source = config_.rules.find_source(file.source);
    if (source == nullptr) continue;  // scan_inbox only returns configured sources
    // A failure names the file and the step, and the database (SQLite's own words, such as
    // "database or disk is full", name neither); the file stays in the inbox for the next cycle.
    const auto failed = [&](std::string_view step, const std::exception& e) {
      return std::runtime_error(fmt::format("{}: {} failed (database {}): {}",
                                            file.path.filename().string(), step,
                                            config_.service.database_file().string(), e.what()));
    };
    ExtractOutcome outcome;
    try {
      outcome = ingest_file(file.path, *source);
    } catch (const std::exception& e) {
      throw failed("ingest", e);
    }
    // Also after finishing the move of a file committed before a crash: its evaluation may
    // not have happened, and evaluating the same extract again changes nothing.
    const bool ingested = outcome.info.status == storage::ExtractStatus::kIngested;
    result.extracts.push_back(std::move(outcome));
    // A stopping service leaves the evaluation to the next start: the extract is committed and
    // marked pending, and evaluate_pending() takes it first (a large one can take longer than
    // a service manager waits for a stop).
    if (ingested && should_stop && should_stop()) break;
    if (ingested) {
      try {
        auto outcomes = evaluate_after(source->name);
        for (auto& o : outcomes) result.outcomes.push_back(std::move(o));
        history_.evaluation_done(result.extracts.back().info.id);
      } catch (const std::exception& e) {
        throw failed("evaluation", e);
      }
      // The extract's commit left its pages in the write-ahead log; copy them into the
      // database file now that the file is archived and its findings are stored.
      history_.checkpoint();
    }
  }
  // [retention]: extract files past their age, once a later extract of their source is in.
  apply_retention(config_, history_, std::chrono::system_clock::now());
  result.ignored = ingest::unmatched_files(config_.service.inbox_dir(), config_.rules.sources);
  return result;
}

const rules::RecordView& Engine::view_of(const std::string& name, std::int64_t extract_id) const {
  auto found = views_.find(name);
  if (found != views_.end() && found->second.extract_id == extract_id) return found->second.view;
  const rules::Source* source = config_.rules.find_source(name);
  const std::vector<rules::FieldUse> uses = source != nullptr
                                                ? rules::fields_read(config_.rules, *source)
                                                : std::vector<rules::FieldUse>();
  if (found != views_.end()) found->second.view = rules::RecordView();  // free it first
  KeptView kept{extract_id, history_.current_view(name, uses)};
  if (found == views_.end()) return views_.emplace(name, std::move(kept)).first->second.view;
  found->second = std::move(kept);
  return found->second.view;
}

std::vector<storage::RuleOutcome> Engine::evaluate_pending() {
  std::vector<storage::RuleOutcome> outcomes;
  std::set<std::string, std::less<>> evaluated;  // sources evaluated at their latest extract
  for (const auto& extract : history_.pending_evaluations()) {
    if (config_.rules.find_source(extract.source) != nullptr &&
        evaluated.insert(extract.source).second) {
      spdlog::info("{}: evaluating the extract ingested before an interruption", extract.file);
      for (auto& o : evaluate_after(extract.source)) outcomes.push_back(std::move(o));
    }
    history_.evaluation_done(extract.id);
  }
  return outcomes;
}

std::vector<storage::RuleOutcome> Engine::evaluate_after(const std::string& source_name) {
  rules::RuleSet affected;
  affected.sources = config_.rules.sources;
  affected.count_start_day = config_.rules.count_start_day;
  std::vector<std::string> needed;
  for (const auto& rule : config_.rules.rules) {
    if (rule.source != source_name && rule.events_source != source_name) continue;
    // A rule is evaluated only when every source it reads has an extract: a recurring rule
    // without its events would list every child, and evaluating it would resolve nothing real.
    const bool ready =
        history_.latest_extract(rule.source).has_value() &&
        (rule.events_source.empty() || history_.latest_extract(rule.events_source).has_value());
    if (ready) {
      affected.rules.push_back(rule);
      needed.push_back(rule.source);
      if (!rule.events_source.empty()) needed.push_back(rule.events_source);
    }
  }
  if (affected.rules.empty()) return {};
  const auto evaluation = evaluate_rules(affected, needed);
  std::vector<storage::RuleOutcome> outcomes;
  for (const auto& rule : affected.rules) {
    const auto latest = history_.latest_extract(rule.source);
    outcomes.push_back(history_.apply_evaluation(rule, *config_.rules.find_source(rule.source),
                                                 latest->as_of, evaluation));  // ready: has one
  }
  return outcomes;
}

rules::Evaluation Engine::evaluate_rules(const rules::RuleSet& rule_set,
                                         const std::vector<std::string>& source_names,
                                         bool keep) const {
  auto spells = history_.unallocated_spells();
  std::map<std::string, rules::SourceData, std::less<>> sources;
  std::vector<std::pair<std::string, std::int64_t>> extracts;
  for (const auto& name : source_names) {
    if (sources.contains(name)) continue;
    const auto latest = history_.latest_extract(name);
    if (!latest) continue;
    rules::SourceData data;
    data.source = rule_set.find_source(name);
    data.as_of = latest->as_of;
    data.view = &view_of(name, latest->id);
    data.first_seen_unallocated = spells;
    sources.emplace(name, std::move(data));
    extracts.emplace_back(name, latest->id);
  }
  // The evaluation is a function of the rules, the calendar and these inputs.
  if (keep && current_ && current_->extracts == extracts && current_->spells == spells) {
    return current_->evaluation;
  }
  auto evaluation = rules::evaluate(rule_set, calendar_, sources);
  if (keep) current_ = KeptEvaluation{std::move(extracts), std::move(spells), evaluation};
  return evaluation;
}

rules::Evaluation Engine::evaluate_current() const {
  std::vector<std::string> needed;
  for (const auto& rule : config_.rules.rules) {
    needed.push_back(rule.source);
    if (!rule.events_source.empty()) needed.push_back(rule.events_source);
  }
  return evaluate_rules(config_.rules, needed, /*keep=*/true);
}

}  // namespace service
