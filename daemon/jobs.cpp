#include "daemon/jobs.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cerrno>

#include "daemon/cancel.h"
#include "daemon/memory.h"

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

JobQueue::JobQueue(asio::io_context& io, Start start, Done done, Done idle,
                   std::chrono::milliseconds trim_delay)
    : io_(io),
      start_(std::move(start)),
      done_(std::move(done)),
      idle_(std::move(idle)),
      trim_delay_(trim_delay),
      trim_timer_(io) {
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
  cancel_quietly(trim_timer_);
}

void JobQueue::post(std::function<void()> work) { asio::post(pool_, std::move(work)); }

void JobQueue::release_memory_when_idle() {
  if (stopping_) {
    return;
  }
  // Each call starts the wait again: the trim comes trim_delay_ after the last heavy work.
  trim_timer_.expires_after(trim_delay_);
  trim_timer_.async_wait([this](const boost::system::error_code& error) {
    if (error || stopping_) {
      return;  // cancelled, or re-armed (the newer wait trims)
    }
    if (running_) {
      return;  // the job's end asks again
    }
    asio::post(pool_, return_free_memory);
  });
}

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
  release_memory_when_idle();
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
