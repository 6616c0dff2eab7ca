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
    if (!rules::different_person(change.before, change.after)) {
      continue;
    }
    writer.add_person_change(change.key, change.line);
    problems.push_back(rules::person_changed(source, change.key, change.line));
    ++count;
  }
  return count;
}

// The plain-words reason file written beside a rejected file. `sources`: the sources the file
// fed, when more than info.source.
std::string reason_text(const storage::ExtractInfo& info, const std::string& why,
                        const std::vector<rules::Problem>& problems,
                        const std::string& sources = "") {
  std::string text = fmt::format(
      "casewatch did not ingest this file.\n\n"
      "File:    {}\n{}\nAs of:   {}\nChecked: {}\n\nWhy: {}\n",
      info.file,
      sources.empty() ? fmt::format("Source:  {}", info.source)
                      : fmt::format("Sources: {}", sources),
      info.as_of.iso(), info.handled_at, why);
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

// One part of a group: one file read for one source.
struct Engine::Part {
  fs::path path;
  std::size_t file = 0;  // the group's file index
  const rules::Source* source = nullptr;
  std::string label;  // "List 6 (source children-in-need)"; empty in a group of one part
  ExtractOutcome outcome;
  bool settled = false;  // refused as a duplicate (or found ingested) before it was read
  // Why the part fails the group (empty when it does not), and what failed, for the log.
  std::string failure;
  std::string failed_what;
  std::size_t problem_rows = 0;
  std::size_t person_changes = 0;
  const std::function<const std::string&()>* sha256 = nullptr;  // the file's content hash
  const std::function<bool()>* is_duplicate = nullptr;          // the file was ingested before
  bool duplicate = false;                                       // is_duplicate() said so
  // The records this part stores, as the rules read them, while they are the source's whole
  // snapshot (see ParseThread); kept for the evaluation once the group commits.
  std::optional<rules::RecordViewBuilder> view;
};

namespace {

// How a part is named in a reason when its group has several: the list (sheet), the record
// element or the file, and the source.
std::string part_label(const rules::Source& source, const fs::path& path) {
  switch (source.format) {
    case rules::Format::kXlsx:
      return fmt::format("{} (source {})", source.sheet.empty() ? "the first sheet" : source.sheet,
                         source.name);
    case rules::Format::kCinXml:
      return fmt::format("the {} records (source {})", source.record, source.name);
    case rules::Format::kCsv:
      break;
  }
  return fmt::format("{} (source {})", path.filename().string(), source.name);
}

}  // namespace

void Engine::read_part(Part& part, std::optional<storage::History::ExtractBatch>& batch,
                       bool failed, bool for_evaluation) {
  ExtractOutcome& outcome = part.outcome;
  storage::ExtractInfo& info = outcome.info;
  const rules::Source& source = *part.source;
  const std::unique_ptr<ingest::Reader> opened = ingest::open_reader(part.path, source);
  ingest::Reader& reader = *opened;

  // The as-of date: the file name, else the configured column, else the modification date
  // (ingest_group set the first and the last). Rows are read with a filter (below, the
  // writer's snapshot); the first one, read before the writer exists, with one that reads
  // everything, so that it gets its raw hash too.
  const ingest::RowFilter read_every_row = [](std::uint64_t, std::size_t) {
    return ingest::RowCheck{};
  };
  rules::Record record;
  bool have_first = false;
  std::uint64_t first_row_hash = 0;
  std::size_t first_line = 0;
  if (!ingest::as_of_from_file_name(info.file)) {
    have_first = !reader.header_problem() && reader.next(record, read_every_row);
    first_row_hash = reader.row_hash();
    first_line = reader.line();
    if (auto from_column = reader.as_of_from_column()) {
      info.as_of = *from_column;
    }
  }
  const auto fail = [&](std::string what, std::string why) {
    part.failed_what = std::move(what);
    part.failure = std::move(why);
    info.rows = reader.rows();
    outcome.problems = reader.problems();
  };
  if (const auto latest = history_.latest_extract(source.name);
      latest && latest->as_of > info.as_of) {
    fail("its date",
         fmt::format("this extract is as of {}, older than the latest {} extract already "
                     "ingested ({}, as of {}); casewatch keeps each source's history going "
                     "forward in time, so an older extract cannot replace a newer one",
                     info.as_of.iso(), source.name, latest->file, latest->as_of.iso()));
    outcome.problems.clear();  // not read: its rows are not the reason
    return;
  }
  if (const auto& header = reader.header_problem()) {
    return fail("its header", *header);
  }
  if (failed) {
    // The group is rejected already: this part is checked, not stored, so that the reason
    // names every part that fails.
    while (reader.next(record)) {
    }
    if (auto verdict = reader.verdict()) {
      return fail("its rows", *verdict);
    }
    info.rows = reader.rows();
    outcome.problems = reader.problems();
    return;
  }

  // The batch commits only after every part's verdict and the duplicate check.
  if (!batch) {
    batch.emplace(history_.begin_batch());
  }
  auto writer = batch->begin_extract(info);  // info.sha256 is set before commit
  const int person = source.field_index("person");
  if (person >= 0) {
    writer.watch_field(static_cast<std::size_t>(person));
  }
  if (const auto& problem = writer.snapshot_problem()) {
    spdlog::warn(
        "{}: the stored snapshot of source {} could not be read ({}); its current "
        "records were read instead, and a new snapshot is stored with this extract",
        info.file, source.name, *problem);
  }
  if (for_evaluation) {
    part.view.emplace(rules::fields_read(config_.rules, source));
  }
  // Reading (validation) on its own thread, writing (SQLite) on this one.
  const FirstRow first{&record, first_row_hash, first_line};
  write_rows(reader, writer, have_first ? &first : nullptr, part.view);
  // A duplicate's writer is discarded (its batch rolls back: nothing of the file is stored).
  if ((*part.is_duplicate)()) {
    part.duplicate = true;
    return;
  }
  if (auto verdict = reader.verdict()) {
    return fail("its rows", *verdict);
  }
  writer.set_sha256((*part.sha256)());
  outcome.problems = reader.problems();
  part.person_changes = add_person_changes(writer, source, outcome.problems);
  for (const auto& problem : outcome.problems) {
    writer.add_problem(problem);
  }
  info.rows = reader.rows();
  info.problems = outcome.problems.size();
  info.id = writer.commit(info.rows);
  info.status = storage::ExtractStatus::kIngested;  // once the batch commits
  outcome.unchanged_rows = reader.skipped_rows();
  part.problem_rows = reader.problem_rows();
}

void Engine::refuse_file(std::vector<Part*>& parts, storage::ExtractStatus status,
                         const std::string& why) {
  std::vector<rules::Problem> problems;
  std::string sources;
  std::size_t rows = 0;
  for (Part* part : parts) {
    storage::ExtractInfo& info = part->outcome.info;
    info.status = status;
    info.error = why;
    info.sha256 = (*part->sha256)();
    info.problems = part->outcome.problems.size();
    info.id = history_.record_refused(info, part->outcome.problems);
    problems.insert(problems.end(), part->outcome.problems.begin(), part->outcome.problems.end());
    if (parts.size() > 1) {
      sources += (sources.empty() ? "" : ", ") + part->label;
    }
    rows += info.rows;
  }
  const storage::ExtractInfo& info = parts.front()->outcome.info;
  const fs::path moved_to = move_into(parts.front()->path, config_.service.rejected_dir());
  write_private_file(moved_to.parent_path() / (moved_to.filename().string() + ".reason.txt"),
                     reason_text(info, why, problems, sources));
  for (Part* part : parts) {
    part->outcome.moved_to = moved_to;
  }
  // The reason may quote a case key or a value from the file: it goes to the reason file
  // (0640), never to the log, which names only the parts that failed and what failed.
  std::string failed;
  for (const Part* part : parts) {
    if (!part->failure.empty() && !part->label.empty()) {
      failed += fmt::format("{}{}: {}", failed.empty() ? "" : "; ", part->label, part->failed_what);
    }
  }
  spdlog::warn("{}: {} ({} rows, {} problems{}); moved to {} with the reason beside it", info.file,
               to_string(status), rows, problems.size(),
               failed.empty() ? std::string() : "; failed: " + failed, moved_to.string());
}

std::vector<ExtractOutcome> Engine::ingest_group(const ingest::InboxGroup& group,
                                                 bool for_evaluation) {
  const std::string handled_at = utc_text(now_utc());
  // Each file's content hash is computed on its own thread while the file is read and stored;
  // it is needed only to refuse a duplicate, which is decided before anything is committed.
  struct Hash {
    std::future<std::string> future;
    std::optional<std::string> value;
  };
  std::vector<Hash> hashes;
  std::vector<std::function<const std::string&()>> sha256;
  hashes.reserve(group.files.size());
  for (const auto& file : group.files) {
    hashes.push_back(Hash{
        std::async(std::launch::async, [path = file.path] { return ingest::file_sha256(path); }),
        std::nullopt});
  }
  for (std::size_t f = 0; f < group.files.size(); ++f) {
    sha256.emplace_back([&hashes, f]() -> const std::string& {
      if (!hashes[f].value) {
        hashes[f].value = hashes[f].future.get();
      }
      return *hashes[f].value;
    });
  }
  std::vector<Part> parts;
  std::size_t part_count = 0;
  for (const auto& file : group.files) {
    part_count += file.sources.size();
  }
  for (std::size_t f = 0; f < group.files.size(); ++f) {
    const ingest::InboxFile& file = group.files[f];
    const std::string name = file.path.filename().string();
    const auto from_name = ingest::as_of_from_file_name(name);
    for (const auto& source_name : file.sources) {
      const rules::Source* source = config_.rules.find_source(source_name);
      if (source == nullptr) {
        continue;  // scan_inbox only names configured sources
      }
      Part part;
      part.path = file.path;
      part.file = f;
      part.source = source;
      if (part_count > 1) {
        part.label = part_label(*source, file.path);
      }
      part.outcome.info.file = name;
      part.outcome.info.source = source->name;
      part.outcome.info.handled_at = handled_at;
      part.outcome.info.as_of =
          from_name ? *from_name : local_date_of(file.modified, config_.service.timezone);
      part.sha256 = &sha256[f];
      parts.push_back(std::move(part));
    }
  }
  const auto parts_of = [&parts](std::size_t f) {
    std::vector<Part*> out;
    for (auto& part : parts) {
      if (part.file == f && !part.settled) {
        out.push_back(&part);
      }
    }
    return out;
  };
  // A file whose content was ingested before (`earlier`) is refused, unless it is our own file,
  // committed before a crash stopped us from moving it: then the move is finished.
  std::vector<ExtractOutcome> outcomes;
  const auto duplicate = [&](std::size_t f, const storage::ExtractInfo& earlier) {
    auto of_file = parts_of(f);
    if (of_file.empty()) {
      return;
    }
    if (earlier.file == of_file.front()->outcome.info.file) {
      ExtractOutcome outcome;
      outcome.info = earlier;
      outcome.moved_to = move_into(of_file.front()->path, config_.service.archive_dir());
      spdlog::info("{} was already ingested (extract {}); moved to archive", earlier.file,
                   earlier.id);
      outcomes.push_back(std::move(outcome));
    } else {
      refuse_file(
          of_file, storage::ExtractStatus::kDuplicate,
          fmt::format("the same content as {} (source {}, as of {}), ingested at {}", earlier.file,
                      earlier.source, earlier.as_of.iso(), earlier.handled_at));
      for (Part* part : of_file) {
        outcomes.push_back(std::move(part->outcome));
      }
    }
    for (Part* part : of_file) {
      part->settled = true;
    }
  };
  // Several files: each duplicate is found before anything is read, and refused alone.
  bool checked = group.files.size() > 1;
  std::optional<storage::ExtractInfo> earlier;
  if (checked) {
    for (std::size_t f = 0; f < group.files.size(); ++f) {
      if (auto found = history_.find_ingested(sha256[f]())) {
        duplicate(f, *found);
      }
    }
  }
  // One file: checked once it is read, before its first part commits. find_ingested may run
  // while the batch is open: no part of it has its hash yet.
  const std::function<bool()> is_duplicate = [&]() {
    if (!checked) {
      checked = true;
      earlier = history_.find_ingested(sha256.front()());
    }
    return earlier.has_value();
  };
  std::optional<storage::History::ExtractBatch> batch;
  bool failed = false;
  for (auto& part : parts) {
    if (part.settled) {
      continue;
    }
    part.is_duplicate = &is_duplicate;
    read_part(part, batch, failed, for_evaluation);
    if (part.duplicate) {
      break;
    }
    failed = failed || !part.failure.empty();
  }
  if (failed) {
    is_duplicate();  // a duplicate is refused as one, whatever else is wrong with it
  }
  if (earlier) {
    batch.reset();  // rolls back: nothing of the file is stored
    duplicate(0, *earlier);
    return outcomes;
  }
  if (failed) {
    batch.reset();  // rolls back: nothing of the group is stored
    std::string why;
    for (const auto& part : parts) {
      if (part.failure.empty()) {
        continue;
      }
      why += (why.empty() ? "" : "; ") +
             (part.label.empty() ? part.failure : part.label + ": " + part.failure);
    }
    if (group.files.size() > 1) {
      std::string names;
      for (const auto& file : group.files) {
        names += (names.empty() ? "" : ", ") + file.path.filename().string();
      }
      why +=
          fmt::format(". The files of set '{}' as of {} ({}) are ingested together or not at all",
                      group.set, group.as_of.iso(), names);
    } else if (part_count > 1) {
      why += ". A file that feeds several sources is ingested for all of them or for none";
    }
    for (std::size_t f = 0; f < group.files.size(); ++f) {
      auto of_file = parts_of(f);
      if (of_file.empty()) {
        continue;
      }
      refuse_file(of_file, storage::ExtractStatus::kRejected, why);
      for (Part* part : of_file) {
        part->settled = true;
        outcomes.push_back(std::move(part->outcome));
      }
    }
    return outcomes;
  }
  if (batch) {
    batch->commit();
  }
  // The views built while reading are the new snapshots: the evaluation takes them from here.
  for (auto& part : parts) {
    if (!part.settled && part.view && part.outcome.info.id > 0) {
      views_[part.source->name] = KeptView{part.outcome.info.id, part.view->finish()};
    }
    part.view.reset();
  }
  // Only now that the transaction has committed may the files leave the inbox.
  for (std::size_t f = 0; f < group.files.size(); ++f) {
    auto of_file = parts_of(f);
    if (of_file.empty()) {
      continue;
    }
    const fs::path moved_to = move_into(group.files[f].path, config_.service.archive_dir());
    for (Part* part : of_file) {
      ExtractOutcome& outcome = part->outcome;
      const storage::ExtractInfo& info = outcome.info;
      outcome.moved_to = moved_to;
      const std::string unchanged =
          outcome.unchanged_rows == 0
              ? std::string()
              : fmt::format("; {} unchanged since the last extract, not parsed again",
                            outcome.unchanged_rows);
      spdlog::info("{}: ingested {} rows{} ({} with problems{}) as of {}", info.file, info.rows,
                   part->label.empty() ? std::string() : " for " + part->label, part->problem_rows,
                   unchanged, info.as_of.iso());
      if (part->person_changes > 0) {  // how many, never which: a key may identify a child's case
        spdlog::warn(
            "{}: {} keys now belong to a different person than in the previous {} extract "
            "(data quality: listed in the review and as row problems)",
            info.file, part->person_changes, info.source);
      }
      outcomes.push_back(std::move(outcome));
    }
  }
  return outcomes;
}

ExtractOutcome Engine::ingest_file(const fs::path& file, const rules::Source& source,
                                   bool for_evaluation) {
  std::error_code error;
  const auto modified = fs::last_write_time(file, error);
  ingest::InboxGroup group;
  group.files.push_back(ingest::InboxFile{file, source.name, modified, {source.name}});
  auto outcomes = ingest_group(group, for_evaluation);
  if (outcomes.empty()) {
    throw std::invalid_argument(
        fmt::format("ingest_file: no source '{}' is configured", source.name));
  }
  return std::move(outcomes.front());  // one file, one source: one outcome
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
  for (const auto& group : ingest::group_inbox(files, config_.rules.sources, as_of)) {
    if (should_stop && should_stop()) {
      break;
    }
    // A group is taken whole: while one of its files is not ready, all of them wait.
    if (take && std::any_of(group.files.begin(), group.files.end(),
                            [&](const ingest::InboxFile& file) { return !take(file.path); })) {
      continue;
    }
    std::string names;
    for (const auto& file : group.files) {
      names += (names.empty() ? "" : ", ") + file.path.filename().string();
    }
    // A failure names the files and the step, and the database (SQLite's own words, such as
    // "database or disk is full", name neither); the files stay in the inbox for the next cycle.
    const auto failed = [&](std::string_view step, const std::exception& e) {
      return std::runtime_error(fmt::format("{}: {} failed (database {}): {}", names, step,
                                            config_.service.database_file().string(), e.what()));
    };
    std::vector<ExtractOutcome> outcomes;
    try {
      outcomes = ingest_group(group, /*for_evaluation=*/true);
    } catch (const std::exception& e) {
      throw failed("ingest", e);
    }
    // Also after finishing the move of a file committed before a crash: its evaluation may
    // not have happened, and evaluating the same extract again changes nothing.
    std::vector<std::string> sources;
    std::vector<std::int64_t> ingested;
    std::vector<std::string> ingested_files;
    for (auto& outcome : outcomes) {
      if (outcome.info.status == storage::ExtractStatus::kIngested) {
        sources.push_back(outcome.info.source);
        ingested.push_back(outcome.info.id);
        if (std::find(ingested_files.begin(), ingested_files.end(), outcome.info.file) ==
            ingested_files.end()) {
          ingested_files.push_back(outcome.info.file);
        }
      }
      result.extracts.push_back(std::move(outcome));
    }
    if (!group.missing.empty() && !ingested.empty()) {
      std::string missing;
      for (const auto& m : group.missing) {
        missing += (missing.empty() ? "" : ", ") + m;
      }
      spdlog::warn(
          "set '{}' as of {} is incomplete: no file for {}; the files present were ingested",
          group.set, group.as_of.iso(), missing);
      result.incomplete_sets.push_back(
          IncompleteSet{group.set, group.as_of, ingested_files, group.missing});
    }
    // A stopping service leaves the evaluation to the next start: the extracts are committed
    // and marked pending, and evaluate_pending() takes them first (a large one can take longer
    // than a service manager waits for a stop).
    if (ingested.empty()) {
      continue;
    }
    // The extracts' commit left their pages in the write-ahead log, and the files are
    // archived: the pages are copied into the database file on another thread while the rules
    // are evaluated and the review is written.
    copy_log();
    if (should_stop && should_stop()) {
      break;
    }
    try {
      auto evaluated = evaluate_after(sources);
      for (auto& o : evaluated) {
        result.outcomes.push_back(std::move(o));
      }
      for (const auto id : ingested) {
        history_.evaluation_done(id);
      }
    } catch (const std::exception& e) {
      throw failed("evaluation", e);
    }
  }
  // [retention]: extract files past their age, once a later extract of their source is in.
  apply_retention(config_, history_, std::chrono::system_clock::now());
  result.ignored = ingest::unmatched_files(config_.service.inbox_dir(), config_.rules.sources);
  return result;
}

}  // namespace service
