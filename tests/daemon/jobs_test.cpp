// The job queue's pool thread: it runs below the loop thread's priority, so that an ingest
// keeping a small host's cores busy does not delay the loop's answer to `status`.
#include "daemon/jobs.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <future>
#include <thread>

namespace {

int this_threads_niceness() {
  return ::getpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)));
}

}  // namespace

TEST_CASE("the pool thread and the threads it starts run five nice levels below the loop",
          "[jobs]") {
  boost::asio::io_context io;
  const auto no_job = [](const service::Job&) -> service::JobQueue::Work {
    return [] { return service::JobResult{}; };
  };
  const auto nothing = [](const service::Job&, service::JobResult&) {};
  const int loop = this_threads_niceness();
  service::JobQueue jobs(io, no_job, nothing, nothing);

  std::promise<std::pair<int, int>> seen;
  jobs.post([&seen] {
    // A thread the pool starts (as the ingest starts its parsing thread) inherits the value.
    std::promise<int> child;
    std::thread([&child] { child.set_value(this_threads_niceness()); }).join();
    seen.set_value({this_threads_niceness(), child.get_future().get()});
  });
  const auto [pool, started] = seen.get_future().get();
  jobs.join();

  const int expected = std::min(loop + 5, 19);
  CHECK(pool == expected);
  CHECK(started == expected);
  CHECK(this_threads_niceness() == loop);  // the caller's own priority is left alone
}
