// The phases of casewatch_bench beyond ingest: the configuration it runs with, rule evaluation
// over records in memory, and control-socket latency against a running casewatchd.
#ifndef CASEWATCH_BENCH_BENCH_H_
#define CASEWATCH_BENCH_BENCH_H_

#include <boost/json.hpp>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "bench/generator.h"
#include "bench/measure.h"

namespace bench {

// The configuration the benchmark runs with: the `cases` source of the example configuration and
// an `assessments` source, with the default rules that read them (unallocated over 28 days,
// caseload, single assessment 45wd), state in `work`/state.
std::string config_text(const std::filesystem::path& work);

// Phase 3, run in a child process: spec.rows open case records and as many open assessments,
// built in memory, their views (rules::RecordView of the fields the rules read), then
// rules::evaluate over the default rules (all at once, then rule by rule as "rule:<id>"
// figures). Figures: seconds, records, findings, records_rss_mb, view_seconds, view_mb,
// evaluate_extra_rss_mb.
Figures evaluate_phase(const std::filesystem::path& work, const ExtractSpec& spec);

// casewatchd beside this program in the build tree, or $CASEWATCHD; empty when unknown.
std::filesystem::path find_casewatchd();

// Phase 7 (the whole weekly cycle): `casewatchd --once` as a process in `folder` (state in
// folder/state, made afresh), on `first` (as of spec.as_of), then again on `changed` (a week
// later, spec.changed of the rows differing). Each result's "seconds" is the process's wall
// time; peak RSS and CPU are the process's own.
struct CycleRuns {
  PhaseResult first, again;
};
CycleRuns cycle_phase(const std::filesystem::path& folder, const ExtractSpec& spec,
                      const std::filesystem::path& first, const std::filesystem::path& changed);

// `status` while one thing happened: a note waited on the ingest's commit, or a reader command
// (a past week's review, a case, this week's review) was answered.
struct SocketWindow {
  std::string what;
  double seconds = 0;            // the window's length
  std::size_t asked = 0;         // how often the command was asked in it
  double command_max_ms = 0;     // its slowest answer
  std::string first_reply;       // the command's first reply, cut short
  std::size_t status_count = 0;  // status requests sent in the window
  double status_p50_ms = 0, status_p99_ms = 0, status_max_ms = 0;
  double longest_gap_ms = 0;    // the longest time with no answer to any of the clients
  double longest_gap_at_s = 0;  // when it ended, after the window began
};

// Phase 4: latency of the control socket of a real casewatchd. `casewatchd --once` ingests the
// first extract and writes its week's review (a past week by now); then the service runs and 50
// clients ask `status` and `findings`: while the changed extract is ingested (a `note` sent
// meanwhile waits for the ingest's commit), then while a past week's review, a case and this
// week's review are asked for.
struct SocketFigures {
  bool ran = false;
  std::string skipped;  // why the phase did not run (a TODO for the reader)
  std::string error;
  int clients = 0;
  int interval_ms = 0;  // each client's time between requests; 0 = back to back
  double status_p50_ms = 0, status_p99_ms = 0, status_max_ms = 0;
  double findings_p50_ms = 0, findings_p99_ms = 0, findings_max_ms = 0;
  double idle_status_p50_ms = 0, idle_findings_p50_ms = 0;  // one client, before the load
  double longest_gap_ms = 0;    // the longest time with no answer to any client during the ingest
  double longest_gap_at_s = 0;  // when it ended, after the extract was dropped
  std::size_t requests = 0;
  std::size_t failures = 0;
  double ingest_seconds = 0;  // how long the daemon took to ingest the extract dropped meanwhile
  // A `note` sent once the ingest had started (it waits for the ingest on the job pool while the
  // loop goes on answering): its latency and reply; not sent when the ingest ended first.
  bool note_sent = false;
  double note_ms = 0;
  std::string note_reply;
  // The note's wait, then each reader command after the ingest (the clients going on).
  std::vector<SocketWindow> windows;
  // The service's memory with the extract's records loaded (issue 16): resident when idle
  // (3 s) before the drop, its peak from the drop until the changed extract was evaluated, and
  // resident when idle (3 s) after the reader commands. 0 when /proc could not be read.
  double service_idle_rss_mb = 0;
  double service_cycle_peak_mb = 0;
  double service_after_rss_mb = 0;
};
SocketFigures socket_phase(const std::filesystem::path& work, const ExtractSpec& spec,
                           int interval_ms);
void print_socket(const SocketFigures& figures);
boost::json::value socket_json(const SocketFigures& figures);
// Null when the phase did not run.
boost::json::value socket_target_met(const SocketFigures& figures);

// Phase 6: an Annex A List 6 workbook of `rows` rows, written with libxlsxwriter, ingested with
// full validation, against the same rows as CSV (each in a process of its own).
struct XlsxFigures {
  std::size_t rows = 0;
  double xlsx_bytes = 0, csv_bytes = 0, generate_seconds = 0;
  PhaseResult xlsx, csv;
};
XlsxFigures xlsx_phase(const std::filesystem::path& work, std::size_t rows);
void print_xlsx(const XlsxFigures& figures);
boost::json::value xlsx_json(const XlsxFigures& figures);

}  // namespace bench

#endif  // CASEWATCH_BENCH_BENCH_H_
