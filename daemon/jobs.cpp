#include "daemon/jobs.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cerrno>

namespace service {

namespace asio = boost::asio;

namespace {

// How much lower than the rest of the service the pool thread runs (nice, per thread on Linux).
// An ingest keeps both of a small host's cores busy (the pool thread and the parsing thread it
// starts, which inherits this); the loop thread, woken by a `status`, then preempts them
// instead of queueing behind them.
constexpr int kPoolNiceness = 5;

void lower_this_threads_priority() {
  const auto thread = static_cast<id_t>(::syscall(SYS_gettid));
  errno = 0;
  const int now = ::getpriority(PRIO_PROCESS, thread);
  if (errno != 0) {
    return;
  }
  // Raising one's own nice value needs no privilege; failing leaves it as it was, which is fine.
  (void)::setpriority(PRIO_PROCESS, thread, std::min(now + kPoolNiceness, 19));
}

}  // namespace

JobQueue::JobQueue(asio::io_context& io, Start start, Done done, Done idle)
    : io_(io), start_(std::move(start)), done_(std::move(done)), idle_(std::move(idle)) {
  asio::post(pool_, lower_this_threads_priority);
}

JobQueue::~JobQueue() { join(); }

void JobQueue::join() { pool_.join(); }

void JobQueue::request_cycle(std::optional<std::set<std::filesystem::path>> ready) {
  if (stopping_) {
    return;
  }
  for (auto& job : queue_) {
    if (job.kind != Job::Kind::kCycle) {
      continue;
    }
    if (!ready) {
      job.ready.reset();
    } else if (job.ready) {
      job.ready->insert(ready->begin(), ready->end());
    }
    return;
  }
  enqueue(Job{Job::Kind::kCycle, {}, std::move(ready)});
}

void JobQueue::request_delivery() {
  if (stopping_) {
    return;
  }
  const bool queued = std::any_of(queue_.begin(), queue_.end(),
                                  [](const Job& job) { return job.kind == Job::Kind::kDeliver; });
  if (!queued) {
    enqueue(Job{Job::Kind::kDeliver, {}, {}});
  }
}

void JobQueue::enqueue(Job job) {
  if (stopping_) {
    return;
  }
  queue_.push_back(std::move(job));
  start_next();
}

void JobQueue::stop() noexcept {
  stopping_ = true;
  stop_requested_ = true;
  queue_.clear();
}

void JobQueue::post(std::function<void()> work) { asio::post(pool_, std::move(work)); }

void JobQueue::start_next() {
  if (running_ || queue_.empty() || stopping_) {
    return;
  }
  Job job = queue_.front();
  queue_.pop_front();
  running_ = true;
  work_.emplace(io_.get_executor());
  asio::post(pool_, [this, job, work = start_(job)] {
    JobResult result = work();
    asio::post(io_, [this, job, result = std::move(result)]() mutable { finish(job, result); });
  });
}

void JobQueue::finish(const Job& job, JobResult& result) {
  running_ = false;
  done_(job, result);
  if (stopping_) {
    work_.reset();
    return;
  }
  start_next();
  if (!running_) {
    idle_(job, result);
    if (!running_) {
      work_.reset();
    }
  }
}

}  // namespace service
