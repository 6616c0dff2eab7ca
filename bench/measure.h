// Measuring one phase of the benchmark in its own process, so that each phase's peak RSS is its
// own: a forked child runs the phase and reports its figures through a pipe; the parent collects
// them with the child's resource usage (wait4).
#ifndef CASEWATCH_BENCH_MEASURE_H_
#define CASEWATCH_BENCH_MEASURE_H_

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace bench {

// Named figures a phase reports (seconds, counts), in name order.
using Figures = std::map<std::string, double>;

struct PhaseResult {
  bool ok = false;
  std::string error;        // plain words when !ok
  double wall_seconds = 0;  // parent's clock, fork to exit (includes process start-up)
  double peak_rss_mb = 0;   // the child's ru_maxrss
  double cpu_seconds = 0;   // the child's user + system CPU time
  Figures figures;          // what the phase reported
};

// Runs `body` in a forked child. The child's exceptions become PhaseResult::error.
// REQUIRES: the caller is single-threaded (fork).
PhaseResult run_forked(const std::function<Figures()>& body);

// Runs `argv` (argv[0] an absolute path, no shell) with stdout and stderr sent to `log_file`,
// and measures it the same way.
PhaseResult run_command(const std::vector<std::string>& argv, const std::string& log_file);

// Seconds since `start` on the steady clock.
double seconds_since(std::chrono::steady_clock::time_point start);

// This process's peak RSS so far, in MB.
double own_peak_rss_mb();

// Process `pid`'s resident set now (VmRSS) and its peak (VmHWM), in MB; 0 when unreadable.
double process_rss_mb(int pid);
double process_peak_rss_mb(int pid);
// Starts process `pid`'s peak RSS again from its current RSS (/proc/PID/clear_refs, "5"), so
// that process_peak_rss_mb measures from now on. False when the kernel refused.
bool reset_peak_rss(int pid);

}  // namespace bench

#endif  // CASEWATCH_BENCH_MEASURE_H_
