// The service: `casewatchd --config F` as a long-running daemon. One io_context on the main
// thread runs the control socket, the inbox watch, the weekly review and fetch schedules, the
// signals and the systemd notifications. Ingest cycles and reviews run one at a time on a
// one-thread pool with their own storage::History and Engine, and post their results back to
// the loop, so a long ingest never blocks the socket.
// Signals are commands: SIGHUP and `reload` call reload(); SIGTERM, SIGINT and `shutdown` call
// stop(), which stops accepting, lets the current ingest end after its file (an extract is
// written all or nothing) and returns from io.run() by draining.
// Not thread-safe: all methods are called from the loop thread.
#ifndef CASEWATCH_DAEMON_SERVICE_H_
#define CASEWATCH_DAEMON_SERVICE_H_

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "daemon/schedule.h"

namespace service {

// Runs the service until it is stopped; returns the exit status (0 after a clean stop).
// Throws config::ConfigError for a bad configuration and std::exception for start-up failures
// (the caller, main(), turns them into exit codes).
int run_service(const std::filesystem::path& config_file);

// What `status` and `metrics` report, kept up to date after each cycle so that answering is cheap.
struct StatusSnapshot {
  struct SourceStatus {
    std::string name;
    std::string file;  // the latest ingested extract; empty when none yet
    std::optional<rules::Date> as_of;
    std::size_t rows = 0;
    std::optional<SysSeconds> handled_at;
  };
  struct RuleStatus {
    std::string rule;
    std::vector<std::pair<std::string, int>> bands;  // open findings per band, in band order
    int open = 0;
    int new_findings = 0;
  };
  struct FetchStatus {
    std::string source;
    std::string at;  // UTC time of the last run
    bool ok = false;
    std::string detail;  // "exit status 0", "timed out after 600 s", ...
  };
  std::vector<SourceStatus> sources;
  std::vector<RuleStatus> rules;
  std::vector<FetchStatus> fetches;
  std::optional<SysSeconds> next_review;
  std::optional<std::string> last_review_week;
  SysSeconds started;
  bool cycle_running = false;
  std::optional<std::string> last_cycle_error;
  std::int64_t cycles = 0;
  std::int64_t cycle_failures = 0;
};

// The `status` reply's arguments at `now` (ages in days in the service time zone's `today`).
boost::json::object status_json(const StatusSnapshot& status, SysSeconds now, rules::Date today);

// The `metrics` reply's text: Prometheus exposition format.
std::string metrics_text(const StatusSnapshot& status, SysSeconds now);

}  // namespace service

#endif  // CASEWATCH_DAEMON_SERVICE_H_
