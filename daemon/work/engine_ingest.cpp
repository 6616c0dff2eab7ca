// The ingest pipeline of Engine: which inbox files are taken, in what order, and how each is read
// on one thread and written to its storage transaction on another, committed whole or refused
// with a reason file, then archived.
#include <date/tz.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <stdexcept>

#include "daemon/clock.h"
#include "daemon/files.h"
#include "daemon/retention.h"
#include "daemon/work/engine.h"
#include "daemon/work/record_pipe.h"
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

}  // namespace

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

}  // namespace service
