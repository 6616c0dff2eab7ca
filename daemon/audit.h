// The audit log of control requests: every request's uid, command and result, written off the
// loop thread. Rows wait in memory and go to the pool thread in batches (when kBatch are
// waiting, or kDelay after the first), which writes them with its own History after any running
// job, so never against a job's write transaction and never on the loop thread (each batch is an
// fsync). A batch that fails comes back to the front and is tried again 5 s later.
// Not thread-safe: call from the loop thread.
#ifndef CASEWATCH_DAEMON_AUDIT_H_
#define CASEWATCH_DAEMON_AUDIT_H_

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <string>

#include "daemon/clock.h"
#include "daemon/jobs.h"
#include "storage/storage.h"

namespace service {

class AuditLog {
 public:
  static constexpr std::size_t kBatch = 256;
  static constexpr std::chrono::milliseconds kDelay{200};

  // REQUIRES: io and jobs outlive the log; `database` is the service's database file.
  AuditLog(boost::asio::io_context& io, JobQueue& jobs, std::filesystem::path database);

  // Queues one row.
  void record(std::int64_t uid, std::string command, int result, SysSeconds at);

  // Hands the waiting rows to the pool now (one batch in flight at a time).
  void flush() noexcept;

  // Cancels the timer and hands what waits to the pool. Idempotent.
  void stop() noexcept;

  // After JobQueue::join(): writes what is still waiting with `history`, on the calling thread,
  // so that a clean stop loses no row silently. Logs a row it cannot write.
  void write_rest(storage::History& history) noexcept;

 private:
  void arm(std::chrono::milliseconds delay);

  boost::asio::io_context& io_;
  JobQueue& jobs_;
  std::filesystem::path database_;
  std::unique_ptr<storage::History> history_;  // the pool thread's
  std::deque<storage::History::AuditEntry> waiting_;
  boost::asio::steady_timer timer_;
  bool timer_armed_ = false;
  bool in_flight_ = false;
  bool stopping_ = false;
};

}  // namespace service

#endif  // CASEWATCH_DAEMON_AUDIT_H_
