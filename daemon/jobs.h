// The job queue: what runs on the pool thread next. One job at a time (an ingest cycle, a
// weekly review or a delivery round), in the order asked, except that an ingest cycle asked for
// while one waits is merged into it (its ready files added) and so is a delivery round. Audit
// batches and other small writes posted with post() run after the running job. Results come
// back to the loop thread through the callbacks the Daemon wires:
//   start(job)  on the loop when the job starts: returns the work to run on the pool
//   done(job, result)  on the loop when it ends
//   idle(job, result)  on the loop after done(), when nothing else was queued
// While a job runs, the queue keeps the io_context alive (a work guard), so that stop() lets
// the job end before io.run() returns.
// Not thread-safe: call from the loop thread.
#ifndef CASEWATCH_DAEMON_JOBS_H_
#define CASEWATCH_DAEMON_JOBS_H_

#include <algorithm>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <deque>
#include <filesystem>
#include <functional>
#include <optional>
#include <set>

#include "daemon/work/job.h"

namespace service {

class JobQueue {
 public:
  using Work = std::function<JobResult()>;
  using Start = std::function<Work(const Job&)>;
  using Done = std::function<void(const Job&, JobResult&)>;  // may take parts of the result

  // REQUIRES: io outlives the queue. `trim_delay`: see release_memory_when_idle().
  JobQueue(boost::asio::io_context& io, Start start, Done done, Done idle,
           std::chrono::milliseconds trim_delay = std::chrono::seconds(2));
  // Waits for the pool (see join()).
  ~JobQueue();
  JobQueue(const JobQueue&) = delete;
  JobQueue& operator=(const JobQueue&) = delete;

  // Queues an ingest cycle for `ready` files (nullopt: all), merged into one already queued.
  void request_cycle(std::optional<std::set<std::filesystem::path>> ready = std::nullopt);
  // Queues a delivery round unless one is queued already.
  void request_delivery();
  void enqueue(Job job);

  bool running() const { return running_; }
  bool stopping() const { return stopping_; }
  // Set by stop(): a running job polls it between files and mails.
  bool stop_requested() const { return stop_requested_.load(); }

  // Drops what is queued and asks the running job to end after its current file or mail.
  // Idempotent.
  void stop() noexcept;

  // Runs `work` on the pool thread after the running job and whatever was posted before.
  void post(std::function<void()> work);

  // Gives the memory freed by heavy work back to the system (return_free_memory, on the pool)
  // once the service has been idle for a moment: no job for `trim_delay` (2 s). Called after each
  // job and after heavy reader work. Not at once: trimming a few hundred MB of freed blocks held up
  // the loop thread's answers for up to 25 ms, which must not fall in an ingest's or a review's
  // window (issue 10's targets); idle, the service then stays near 80 MB with 1M records
  // loaded instead of 160-310 MB (issue 16).
  void release_memory_when_idle();

  // Waits for the running job and everything posted.
  void join();

 private:
  void start_next();
  void finish(const Job& job, JobResult& result);

  boost::asio::io_context& io_;
  Start start_;
  Done done_;
  Done idle_;
  std::deque<Job> queue_;
  bool running_ = false;
  bool stopping_ = false;
  std::atomic<bool> stop_requested_{false};
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::chrono::milliseconds trim_delay_;
  boost::asio::steady_timer trim_timer_;
  boost::asio::thread_pool pool_{1};  // last: joined before the members above go
};

}  // namespace service

#endif  // CASEWATCH_DAEMON_JOBS_H_
