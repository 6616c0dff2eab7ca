// casewatch_bench: generates a realistic case extract and reports how fast casewatch ingests it
// (against sqlite3's own .import of the same file), how fast the rules evaluate a million open
// records, and how quickly the control socket answers while an extract is ingested. It reports;
// it asserts nothing. Usage: see kUsage below.
#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bench/bench.h"
#include "bench/generator.h"
#include "bench/measure.h"
#include "config/config.h"
#include "daemon/memory.h"
#include "daemon/work/engine.h"
#include "ingest/ingest.h"
#include "rules/rules.h"
#include "storage/storage.h"

namespace bench {
namespace {

namespace fs = std::filesystem;

constexpr int kUsageError = 64;
constexpr double kFirstIngestTarget = 1.0;  // x the .import time (aim 0.5)
constexpr double kFirstIngestAim = 0.5;
constexpr double kReingestTarget = 0.3;
constexpr double kRssTargetMb = 200;
constexpr double kEvaluateTargetSeconds = 0.5;
constexpr double kCycleTarget = 1.5;       // x the .import time, the first --once run
constexpr double kCycleAgainTarget = 0.5;  // the re-run with 1% of rows changed
constexpr double kCycleRssTargetMb = 250;

struct Options {
  std::size_t rows = 1'000'000;
  fs::path dir;  // empty: a new folder under $TMPDIR
  bool keep = false;
  bool socket = true;
  int repeat = 3;                // runs of (c), (a) and (b)
  int socket_interval_ms = 100;  // each socket client's time between requests; 0 = back to back
  // --only: the phases to run (import first, ingest, reingest, cycle, hash, parse, storage,
  // evaluate, socket, xlsx); empty = all. For profiling one phase; the ratios need import.
  std::vector<std::string> only;
  bool runs(std::string_view phase) const {
    return only.empty() || std::find(only.begin(), only.end(), phase) != only.end();
  }
};

constexpr const char* kUsage =
    "usage: casewatch_bench [--rows N] [--dir FOLDER] [--keep] [--no-socket] [--interval MS]\n"
    "  --rows N       rows of the generated extract (default 1000000)\n"
    "  --dir FOLDER   work in FOLDER (created; default a new folder under $TMPDIR)\n"
    "  --keep         keep the generated files and databases\n"
    "  --no-socket    skip the control-socket latency phase\n"
    "  --interval MS  each of the 50 socket clients sends a request every MS ms (default 100;\n"
    "                 0 = back to back, which saturates the daemon)\n"
    "  --repeat N     run .import, the ingest, the re-ingest and the whole cycle N times\n"
    "                 (default 3) and show the run with the median ratio\n"
    "  --only LIST    run only these phases (comma-separated: import, ingest, reingest, cycle,\n"
    "                 hash, parse, storage, evaluate, socket, xlsx), e.g. to profile one;\n"
    "                 reingest needs ingest. cycle: `casewatchd --once` on the extract, then on\n"
    "                 its copy a week later. xlsx: a List 6 workbook of min(N, 200000) rows\n";

std::optional<Options> parse_options(int argc, char* argv[]) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--rows" && i + 1 < argc) {
      char* end = nullptr;
      const unsigned long long rows = std::strtoull(argv[++i], &end, 10);
      if (end == argv[i] || *end != '\0' || rows == 0 || rows > 9'000'000) {
        std::fprintf(stderr, "casewatch_bench: --rows must be a number from 1 to 9000000\n");
        return std::nullopt;
      }
      options.rows = static_cast<std::size_t>(rows);
    } else if (arg == "--dir" && i + 1 < argc) {
      options.dir = argv[++i];
    } else if (arg == "--keep") {
      options.keep = true;
    } else if (arg == "--interval" && i + 1 < argc) {
      char* end = nullptr;
      const long ms = std::strtol(argv[++i], &end, 10);
      if (end == argv[i] || *end != '\0' || ms < 0 || ms > 60000) {
        std::fprintf(stderr,
                     "casewatch_bench: --interval must be a number of ms from 0 to 60000\n");
        return std::nullopt;
      }
      options.socket_interval_ms = static_cast<int>(ms);
    } else if (arg == "--repeat" && i + 1 < argc) {
      char* end = nullptr;
      const long repeat = std::strtol(argv[++i], &end, 10);
      if (end == argv[i] || *end != '\0' || repeat < 1 || repeat > 9) {
        std::fprintf(stderr, "casewatch_bench: --repeat must be a number from 1 to 9\n");
        return std::nullopt;
      }
      options.repeat = static_cast<int>(repeat);
    } else if (arg == "--only" && i + 1 < argc) {
      std::string list = argv[++i];
      for (std::size_t at = 0; at <= list.size();) {
        const std::size_t comma = std::min(list.find(',', at), list.size());
        const std::string phase = list.substr(at, comma - at);
        static const std::vector<std::string> kPhases = {"import", "ingest", "reingest", "cycle",
                                                         "hash",   "parse",  "storage",  "evaluate",
                                                         "socket", "xlsx"};
        if (std::find(kPhases.begin(), kPhases.end(), phase) == kPhases.end()) {
          std::fprintf(stderr, "casewatch_bench: unknown phase '%s' in --only\n%s", phase.c_str(),
                       kUsage);
          return std::nullopt;
        }
        options.only.push_back(phase);
        at = comma + 1;
      }
    } else if (arg == "--no-socket") {
      options.socket = false;
    } else {
      std::fprintf(stderr, "casewatch_bench: unknown argument '%s'\n%s", arg.c_str(), kUsage);
      return std::nullopt;
    }
  }
  return options;
}

fs::path make_work_dir(const Options& options) {
  if (!options.dir.empty()) {
    fs::create_directories(options.dir);
    return fs::absolute(options.dir);
  }
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = fmt::format("{}/casewatch-bench-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error(fmt::format("cannot create a folder like {}", pattern));
  }
  return pattern;
}

// Phase (a) and (b): Engine::ingest_file through the real path, in this (child) process.
Figures ingest_phase(const fs::path& work, const fs::path& file) {
  spdlog::set_level(spdlog::level::warn);
  const config::Config config = config::parse_config(config_text(work), work / "casewatch.toml");
  service::prepare_state_dir(config);
  const rules::Calendar calendar = config::load_calendar(config);
  storage::History history(config.service.database_file());
  service::Engine engine(config, calendar, history);
  const auto start = std::chrono::steady_clock::now();
  const auto outcome = engine.ingest_file(file, *config.rules.find_source("cases"));
  const double seconds = seconds_since(start);
  if (outcome.info.status != storage::ExtractStatus::kIngested) {
    throw std::runtime_error(fmt::format("{} was {}: {}", outcome.info.file,
                                         storage::to_string(outcome.info.status),
                                         outcome.info.error));
  }
  // The WAL checkpoint the daemon runs after the extract is archived and evaluated: not part of
  // the ingest, but the same process's work, so reported beside it.
  const auto checkpoint_start = std::chrono::steady_clock::now();
  history.checkpoint();
  const double checkpoint = seconds_since(checkpoint_start);
  return {{"seconds", seconds},
          {"checkpoint_seconds", checkpoint},
          {"rows", static_cast<double>(outcome.info.rows)},
          {"problems", static_cast<double>(outcome.info.problems)}};
}

// Diagnostics: the content hash alone, and the CSV reader alone (no storage).
Figures hash_phase(const fs::path& file) {
  const auto start = std::chrono::steady_clock::now();
  const auto hash = ingest::file_sha256(file);
  return {{"seconds", seconds_since(start)}, {"hash_chars", static_cast<double>(hash.size())}};
}

Figures parse_phase(const fs::path& work, const fs::path& file) {
  const config::Config config = config::parse_config(config_text(work), work / "casewatch.toml");
  const auto start = std::chrono::steady_clock::now();
  std::ifstream in(file, std::ios::binary);
  ingest::ExtractReader reader(in, *config.rules.find_source("cases"));
  rules::Record record;
  std::size_t rows = 0;
  while (reader.next(record)) {
    ++rows;
  }
  const double seconds = seconds_since(start);
  if (auto verdict = reader.verdict()) {
    throw std::runtime_error("reader verdict: " + *verdict);
  }
  return {{"seconds", seconds}, {"rows", static_cast<double>(rows)}};
}

// Diagnostics: storage alone, fed records already in memory (no CSV, no hash): the writer's
// add() loop and its commit() timed apart.
Figures storage_phase(const fs::path& work, const ExtractSpec& spec) {
  spdlog::set_level(spdlog::level::warn);
  const config::Config config = config::parse_config(config_text(work), work / "casewatch.toml");
  const rules::Source& source = *config.rules.find_source("cases");
  fs::create_directories(work / "storage-only");
  storage::History history(work / "storage-only" / "casewatch.db");
  std::vector<rules::Record> records;
  records.reserve(spec.rows);
  for (std::size_t i = 0; i < spec.rows; ++i) {
    records.push_back(to_record(make_case_row(spec, i, false), source));
  }
  storage::ExtractInfo info;
  info.file = "cases_storage_only.csv";
  info.source = "cases";
  info.sha256 = std::string(64, '0');
  info.as_of = spec.as_of;
  const auto start = std::chrono::steady_clock::now();
  auto writer = history.begin_extract(info);
  for (const auto& record : records) {
    writer.add(record);
  }
  const double added = seconds_since(start);
  writer.commit(records.size());
  const double seconds = seconds_since(start);
  return {{"seconds", seconds}, {"add_seconds", added}, {"commit_seconds", seconds - added}};
}

std::string verdict(bool met) { return met ? "ok" : "MISSED"; }

struct Row {
  std::string phase;
  const PhaseResult* result;
  std::string ratio;  // "" when not applicable
  std::string target;
  std::string status;
  bool rss_only = false;   // a row about peak RSS: no time of its own
  bool text_only = false;  // a row whose status says it all
};

void print_table(const std::vector<Row>& rows) {
  std::printf("%-44s %9s %9s %9s %8s  %-22s %s\n", "phase", "wall s", "cpu s", "peak MB",
              "x import", "target", "");
  for (const auto& row : rows) {
    if (!row.result->ok && row.result->error == "not run (--only)") {
      continue;
    }
    if (!row.result->ok) {
      std::printf("%-44s FAILED: %s\n", row.phase.c_str(), row.result->error.c_str());
      continue;
    }
    const auto seconds = row.result->figures.contains("seconds") ? row.result->figures.at("seconds")
                                                                 : row.result->wall_seconds;
    if (row.text_only) {
      std::printf("%-44s %s\n", row.phase.c_str(), row.status.c_str());
      continue;
    }
    if (row.rss_only) {
      std::printf("%-44s %9s %9s %9.1f %8s  %-22s %s\n", row.phase.c_str(), "", "",
                  row.result->peak_rss_mb, "", row.target.c_str(), row.status.c_str());
      continue;
    }
    std::printf("%-44s %9.3f %9.3f %9.1f %8s  %-22s %s\n", row.phase.c_str(), seconds,
                row.result->cpu_seconds, row.result->peak_rss_mb, row.ratio.c_str(),
                row.target.c_str(), row.status.c_str());
  }
}

boost::json::value figure_or_null(const PhaseResult& result, const std::string& name) {
  if (!result.ok || !result.figures.contains(name)) {
    return nullptr;
  }
  return result.figures.at(name);
}

boost::json::object phase_json(const PhaseResult& result) {
  boost::json::object o;
  o["ok"] = result.ok;
  if (!result.ok) {
    o["error"] = result.error;
  }
  o["seconds"] = figure_or_null(result, "seconds");
  o["process_seconds"] = result.wall_seconds;
  o["peak_rss_mb"] = result.peak_rss_mb;
  o["cpu_seconds"] = result.cpu_seconds;
  for (const auto& [name, value] : result.figures) {
    if (name != "seconds") {
      o[name] = value;
    }
  }
  return o;
}

int run(const Options& options) {
  const fs::path work = make_work_dir(options);
  std::printf("casewatch benchmark: %zu rows, working in %s\n", options.rows, work.c_str());

  ExtractSpec spec;
  spec.rows = options.rows;
  const auto start = std::chrono::steady_clock::now();
  const GeneratedFiles files = write_extracts(spec, work / "generated");
  std::printf(
      "generated %s (%.1f MB, %zu rows: %zu unallocated, %zu closed, %zu with quoted fields) "
      "and %s (%zu rows changed) in %.1f s\n\n",
      files.first.filename().c_str(), static_cast<double>(files.bytes) / 1e6, files.rows,
      files.unallocated_rows, files.closed_rows, files.quoted_rows,
      files.changed.filename().c_str(), files.changed_rows, seconds_since(start));

  // (c) first, while the file is still where it was generated (ingest moves it to archive/).
  const auto skipped = [](const char* why) {
    PhaseResult result;
    result.error = why;
    return result;
  };
  const auto phase = [&](std::string_view name, const std::function<Figures()>& body) {
    return options.runs(name) ? run_forked(body) : skipped("not run (--only)");
  };
  // (c), (a) and (b), `options.repeat` times, each run in a folder of its own with its own copy of
  // the files (an ingest moves its file away). On a shared machine single runs vary by a fifth
  // or more, so the table shows the run with the median ratio, and lists every run's ratios.
  // They come before the diagnostics that take hundreds of MB: on a VM that reclaims memory in
  // the background, a phase after them ran up to a third slower.
  struct Run {
    PhaseResult import, first, again, cycle_first, cycle_again;
  };
  std::vector<Run> runs;
  for (int r = 1; r <= options.repeat; ++r) {
    const fs::path folder = work / fmt::format("run-{}", r);
    fs::create_directories(folder / "generated");
    const fs::path first_copy = folder / "generated" / files.first.filename();
    const fs::path changed_copy = folder / "generated" / files.changed.filename();
    fs::copy_file(files.first, first_copy, fs::copy_options::overwrite_existing);
    fs::copy_file(files.changed, changed_copy, fs::copy_options::overwrite_existing);
    Run run;
    run.import =
        !options.runs("import")
            ? skipped("not run (--only)")
            : run_command({"/usr/bin/sqlite3", (folder / "import.db").string(), ".mode csv",
                           fmt::format(".import '{}' t", first_copy.string())},
                          (folder / "sqlite3.log").string());
    run.first = phase("ingest", [&] { return ingest_phase(folder, first_copy); });
    run.again = phase("reingest", [&] { return ingest_phase(folder, changed_copy); });
    if (options.runs("cycle")) {
      auto cycle = cycle_phase(folder / "cycle", spec, files.first, files.changed);
      run.cycle_first = std::move(cycle.first);
      run.cycle_again = std::move(cycle.again);
    } else {
      run.cycle_first = run.cycle_again = skipped("not run (--only)");
    }
    runs.push_back(std::move(run));
  }
  const auto run_ratio = [](const PhaseResult& result,
                            const PhaseResult& reference) -> std::optional<double> {
    if (!result.ok || !reference.ok || reference.wall_seconds <= 0) {
      return std::nullopt;
    }
    return result.figures.at("seconds") / reference.wall_seconds;
  };
  // The run whose ratio for phase `of` is the median (the first run when none has one).
  const auto median_run = [&](PhaseResult Run::*of) -> const Run& {
    std::vector<std::pair<double, std::size_t>> ratios;
    for (std::size_t i = 0; i < runs.size(); ++i) {
      if (const auto r = run_ratio(runs[i].*of, runs[i].import)) {
        ratios.emplace_back(*r, i);
      }
    }
    if (ratios.empty()) {
      return runs.front();
    }
    std::sort(ratios.begin(), ratios.end());
    return runs[ratios[ratios.size() / 2].second];
  };
  const Run& first_run = median_run(&Run::first);
  const Run& again_run = median_run(&Run::again);
  const PhaseResult& import = first_run.import;
  const PhaseResult& first = first_run.first;
  const PhaseResult& again = again_run.again;
  const Run& cycle_run = median_run(&Run::cycle_first);
  const Run& cycle_again_run = median_run(&Run::cycle_again);
  const PhaseResult& cycle_first = cycle_run.cycle_first;
  const PhaseResult& cycle_again = cycle_again_run.cycle_again;
  const auto cycle_ratio = run_ratio(cycle_first, cycle_run.import);
  const auto cycle_again_ratio = run_ratio(cycle_again, cycle_again_run.import);
  double cycle_peak_mb = 0;
  for (const auto& run : runs) {
    for (const PhaseResult* r : {&run.cycle_first, &run.cycle_again}) {
      if (r->ok) {
        cycle_peak_mb = std::max(cycle_peak_mb, r->peak_rss_mb);
      }
    }
  }
  const bool cycle_ok = cycle_ratio && *cycle_ratio <= kCycleTarget;
  const bool cycle_again_ok = cycle_again_ratio && *cycle_again_ratio <= kCycleAgainTarget;
  const bool cycle_rss_ok = cycle_first.ok && cycle_peak_mb <= kCycleRssTargetMb;
  double first_peak_mb = 0;
  double again_peak_mb = 0;
  std::string all_ratios;
  for (const auto which : {&Run::first, &Run::again, &Run::cycle_first, &Run::cycle_again}) {
    all_ratios += which == &Run::first         ? "(a)"
                  : which == &Run::again       ? "; (b)"
                  : which == &Run::cycle_first ? "; (7) first"
                                               : "; (7) again";
    for (const auto& run : runs) {
      const auto r = run_ratio(run.*which, run.import);
      all_ratios += r ? fmt::format(" {:.2f}", *r) : std::string(" -");
    }
  }
  for (const auto& run : runs) {
    if (run.first.ok) {
      first_peak_mb = std::max(first_peak_mb, run.first.peak_rss_mb);
    }
    if (run.again.ok) {
      again_peak_mb = std::max(again_peak_mb, run.again.peak_rss_mb);
    }
  }
  const fs::path first_file = files.first;  // the runs ingested copies of it
  const PhaseResult hash = phase("hash", [&] { return hash_phase(first_file); });
  const PhaseResult parse = phase("parse", [&] { return parse_phase(work, first_file); });
  const PhaseResult store = phase("storage", [&] { return storage_phase(work, spec); });
  const PhaseResult evaluation = phase("evaluate", [&] { return evaluate_phase(work, spec); });
  SocketFigures socket;
  if (!options.runs("socket")) {
    socket.skipped = "not run (--only)";
  } else if (options.socket) {
    socket = socket_phase(work, spec, options.socket_interval_ms);
  } else {
    socket.skipped = "not run (--no-socket)";
  }

  const double import_seconds = import.ok ? import.wall_seconds : 0;
  const auto ratio = [&](const PhaseResult& r) -> std::optional<double> {
    if (!r.ok || !import.ok || import_seconds <= 0) {
      return std::nullopt;
    }
    return r.figures.at("seconds") / import_seconds;
  };
  const auto ratio_text = [](std::optional<double> r) {
    return r ? fmt::format("{:.2f}", *r) : std::string("-");
  };
  const auto first_ratio = run_ratio(first, first_run.import);
  const auto again_ratio = run_ratio(again, again_run.import);
  const bool first_ok = first_ratio && *first_ratio <= kFirstIngestTarget;
  const bool again_ok = again_ratio && *again_ratio <= kReingestTarget;
  const bool first_rss_ok = first.ok && first_peak_mb <= kRssTargetMb;
  const bool again_rss_ok = again.ok && again_peak_mb <= kRssTargetMb;
  const double evaluate_seconds = evaluation.ok ? evaluation.figures.at("seconds") : 0;
  const bool evaluate_ok = evaluation.ok && evaluate_seconds <= kEvaluateTargetSeconds;

  std::vector<Row> rows = {
      {"(c) sqlite3 .import (reference)", &import, "1.00", "", ""},
      {"(a) first ingest, full validation", &first, ratio_text(first_ratio),
       fmt::format("<= {:.1f}x (aim {:.1f}x)", kFirstIngestTarget, kFirstIngestAim),
       verdict(first_ok) + (first_ratio && *first_ratio <= kFirstIngestAim ? " (aim met)" : "")},
      {"(b) re-ingest, 1% of rows changed", &again, ratio_text(again_ratio),
       fmt::format("<= {:.1f}x", kReingestTarget), verdict(again_ok)},
      {fmt::format("    the ratios of all {} runs", runs.size()), &first, "", "", all_ratios, false,
       true},
      {"    peak RSS of (a) / (b), largest of the runs", &first, "", "",
       fmt::format("{:.1f} MB / {:.1f} MB (target <= {:.0f} MB): (a) {}; (b) {}", first_peak_mb,
                   again_peak_mb, kRssTargetMb, verdict(first_rss_ok), verdict(again_rss_ok)),
       false, true},
      {"    then the WAL checkpoint, after (a) / (b)", &first, "", "",
       first.ok && again.ok ? fmt::format("{:.3f} s / {:.3f} s (after the file is archived)",
                                          first.figures.at("checkpoint_seconds"),
                                          again.figures.at("checkpoint_seconds"))
                            : "",
       false, true},
      {"(7) whole cycle: casewatchd --once, first", &cycle_first, ratio_text(cycle_ratio),
       fmt::format("<= {:.1f}x", kCycleTarget), verdict(cycle_ok)},
      {"(7) whole cycle, a week later, 1% changed", &cycle_again, ratio_text(cycle_again_ratio),
       fmt::format("<= {:.1f}x", kCycleAgainTarget), verdict(cycle_again_ok)},
      {"    peak RSS of the cycle runs, largest", &cycle_first, "", "",
       fmt::format("{:.1f} MB (target <= {:.0f} MB): {}", cycle_peak_mb, kCycleRssTargetMb,
                   verdict(cycle_rss_ok)),
       false, true},
      {"    diagnostic: SHA-256 of the file only", &hash, ratio_text(ratio(hash)), "", ""},
      {"    diagnostic: CSV reader only, no storage", &parse, ratio_text(ratio(parse)), "", ""},
      {"    diagnostic: storage alone, no CSV or hash", &store, ratio_text(ratio(store)), "",
       store.ok ? fmt::format("add {:.2f} s, commit {:.2f} s", store.figures.at("add_seconds"),
                              store.figures.at("commit_seconds"))
                : ""},
      {fmt::format("(3) evaluate {0} cases + {0} assessments", options.rows), &evaluation, "",
       fmt::format("<= {:.1f} s", kEvaluateTargetSeconds), verdict(evaluate_ok)},
  };
  print_table(rows);
  if (evaluation.ok) {
    const auto& f = evaluation.figures;
    std::printf(
        "    %.0f open records in memory: %.1f MB resident before evaluating; their views "
        "%.1f MB, built in %.3f s; evaluation added %.1f MB at peak; %.0f findings\n",
        f.at("records"), f.at("records_rss_mb"), f.at("view_mb"), f.at("view_seconds"),
        f.at("evaluate_extra_rss_mb"), f.at("findings"));
    for (const auto& [name, value] : f) {
      if (name.starts_with("rule:")) {
        std::printf("    rule %-36s %9.3f s\n", name.c_str() + 5, value);
      }
    }
  }
  print_socket(socket);
  std::optional<XlsxFigures> xlsx;
  if (options.runs("xlsx")) {
    xlsx = xlsx_phase(work, std::min<std::size_t>(options.rows, 200'000));
    print_xlsx(*xlsx);
  }

  boost::json::object json;
  json["rows"] = files.rows;
  json["bytes"] = files.bytes;
  json["changed_rows"] = files.changed_rows;
  json["import"] = phase_json(import);
  json["first_ingest"] = phase_json(first);
  json["reingest"] = phase_json(again);
  json["cycle_first"] = phase_json(cycle_first);
  json["cycle_again"] = phase_json(cycle_again);
  json["cycle_peak_rss_mb"] = cycle_peak_mb;
  boost::json::array runs_json;
  for (const auto& run : runs) {
    const auto optional_json = [](std::optional<double> value) -> boost::json::value {
      return value ? boost::json::value(*value) : boost::json::value(nullptr);
    };
    runs_json.push_back(
        boost::json::object{{"import", phase_json(run.import)},
                            {"first_ingest", phase_json(run.first)},
                            {"reingest", phase_json(run.again)},
                            {"cycle_first", phase_json(run.cycle_first)},
                            {"cycle_again", phase_json(run.cycle_again)},
                            {"first_ingest_ratio", optional_json(run_ratio(run.first, run.import))},
                            {"reingest_ratio", optional_json(run_ratio(run.again, run.import))}});
  }
  json["runs"] = std::move(runs_json);
  json["hash_only"] = phase_json(hash);
  json["parse_only"] = phase_json(parse);
  json["storage_only"] = phase_json(store);
  json["first_ingest_ratio"] = first_ratio ? boost::json::value(*first_ratio) : nullptr;
  json["reingest_ratio"] = again_ratio ? boost::json::value(*again_ratio) : nullptr;
  json["cycle_ratio"] = cycle_ratio ? boost::json::value(*cycle_ratio) : nullptr;
  json["cycle_again_ratio"] = cycle_again_ratio ? boost::json::value(*cycle_again_ratio) : nullptr;
  json["evaluate"] = phase_json(evaluation);
  json["socket"] = socket_json(socket);
  json["xlsx"] = xlsx ? xlsx_json(*xlsx) : boost::json::value(nullptr);
  json["targets_met"] = boost::json::object{{"first_ingest", first_ok},
                                            {"reingest", again_ok},
                                            {"peak_rss", first_rss_ok && again_rss_ok},
                                            {"evaluate", evaluate_ok},
                                            {"cycle", cycle_ok},
                                            {"cycle_again", cycle_again_ok},
                                            {"cycle_peak_rss", cycle_rss_ok},
                                            {"socket_status_p99", socket_target_met(socket)}};
  std::printf("\n%s\n", boost::json::serialize(json).c_str());

  if (!options.keep && options.dir.empty()) {
    fs::remove_all(work);
  }
  // A phase --only left out is not a failure: only the phases that ran decide the exit status.
  const auto ran_ok = [&](std::string_view name, bool ok) { return !options.runs(name) || ok; };
  const bool xlsx_ok = !xlsx || (xlsx->xlsx.ok && xlsx->csv.ok);
  const bool ok = ran_ok("import", import.ok) && ran_ok("ingest", first.ok) &&
                  ran_ok("reingest", again.ok) && ran_ok("evaluate", evaluation.ok) &&
                  ran_ok("cycle", cycle_first.ok && cycle_again.ok) && xlsx_ok;
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace bench

int main(int argc, char* argv[]) {
  // The phases that ingest and evaluate in this process (in forked children) run with the
  // malloc settings casewatchd runs with. sqlite3 .import, the reference, inherits them: it
  // peaks at 6 MB, and measured the same with huge pages off and on (docs/design.md).
  service::use_huge_pages(argv);
  const auto options = bench::parse_options(argc, argv);
  if (!options) {
    return bench::kUsageError;
  }
  try {
    return bench::run(*options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "casewatch_bench: %s\n", e.what());
    return 1;
  }
}
