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
#include <filesystem>

namespace service {

// Runs the service until it is stopped; returns the exit status (0 after a clean stop).
// Throws config::ConfigError for a bad configuration and std::exception for start-up failures
// (the caller, main(), turns them into exit codes).
int run_service(const std::filesystem::path& config_file);

}  // namespace service

#endif  // CASEWATCH_DAEMON_SERVICE_H_
