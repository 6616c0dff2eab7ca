// Scheduled pulls: a source's `fetch` command, run without a shell at its `fetch_at` times,
// writing to "<inbox>/.<source>-<timestamp>.part" (the "{file}" placeholder), which is renamed
// into the inbox as "<source>_<YYYY-MM-DD>.csv" only when the command exits 0 in time. A command
// still running at its timeout is killed. The child is awaited through a pidfd, so the loop
// never blocks.
// Not thread-safe: all methods are called from the loop thread.
#ifndef CASEWATCH_DAEMON_FETCH_H_
#define CASEWATCH_DAEMON_FETCH_H_

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "config/config.h"
#include "daemon/policy/schedule.h"

namespace service {

struct FetchPlan {
  std::string source;
  std::vector<std::string> command;  // argv; "{file}" stands for the temporary output file
  std::vector<TimeOfDay> times;      // local times, every day
  std::chrono::seconds timeout{600};
  std::filesystem::path inbox;
};

// Throws std::runtime_error naming the source for an empty command or a bad "HH:MM" time.
FetchPlan make_fetch_plan(const config::FetchConfig& fetch, const std::filesystem::path& inbox);

// "<inbox>/.<source>-<YYYYMMDDTHHMMSSZ>.part": a dot-file, never taken by the inbox watch.
std::filesystem::path fetch_part_path(const FetchPlan& plan, SysSeconds now);
// "<inbox>/<source>_<YYYY-MM-DD>.csv".
std::filesystem::path fetch_target_path(const FetchPlan& plan, rules::Date today);
// The command with every "{file}" replaced by `part`.
std::vector<std::string> fetch_argv(const FetchPlan& plan, const std::filesystem::path& part);

struct FetchOutcome {
  std::string source;
  std::string at;  // UTC start time
  bool ok = false;
  std::string detail;  // "exit status 0", "exit status 3", "killed after the 600 s timeout", ...
  std::string file;    // the file renamed into the inbox (name only), when ok
};

// One run of a fetch command.
class FetchRun {
 public:
  // REQUIRES: io outlives the run.
  FetchRun(boost::asio::io_context& io, FetchPlan plan, SysSeconds now, rules::Date today);
  ~FetchRun();
  FetchRun(const FetchRun&) = delete;
  FetchRun& operator=(const FetchRun&) = delete;

  // Starts the command; `done` is called once from the loop with the outcome (also when it
  // could not start). The FetchRun may be destroyed inside `done`... only after it returns.
  void start(std::function<void(const FetchOutcome&)> done);
  // Kills the command (the outcome says "cancelled"). Idempotent.
  void cancel() noexcept;

 private:
  void finish(FetchOutcome outcome);
  void reap();

  boost::asio::io_context& io_;
  FetchPlan plan_;
  SysSeconds started_;
  rules::Date today_;
  std::filesystem::path part_;
  boost::asio::posix::stream_descriptor pidfd_;
  boost::asio::steady_timer timer_;
  std::function<void(const FetchOutcome&)> done_;
  bool timed_out_ = false;
  bool cancelled_ = false;
  bool finished_ = false;
};

}  // namespace service

#endif  // CASEWATCH_DAEMON_FETCH_H_
