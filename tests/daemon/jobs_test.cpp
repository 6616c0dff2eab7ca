// The job queue's pool thread: it runs below the loop thread's priority, so that an ingest
// keeping a small host's cores busy does not delay the loop's answer to `status`; once idle, the
// memory a job freed goes back to the system.
#include "daemon/jobs.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

int this_threads_niceness() {
  return ::getpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)));
}

// This process's resident set (VmRSS), in MB.
double resident_mb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmRSS:")) {
      return std::stod(line.substr(6)) / 1024.0;
    }
  }
  return 0;
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitizedHeap = true;  // the sanitizer's allocator, which malloc_trim does not trim
#else
constexpr bool kSanitizedHeap = false;
#endif

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

TEST_CASE("once idle after a job, the memory the job freed goes back to the system", "[jobs]") {
  if (kSanitizedHeap) {
    WARN(
        "not checked: under a sanitizer the heap is the sanitizer's own, which malloc_trim "
        "leaves alone");
    return;
  }
  boost::asio::io_context io;
  // A job that allocates 256 MB in 4 kB blocks and frees all but one block in 64: glibc keeps
  // the freed blocks between the kept ones (they are not at the top of the heap) until trimmed.
  constexpr std::size_t kBlocks = std::size_t{64} * 1024;
  std::vector<std::unique_ptr<char[]>> kept;
  const auto job = [&kept](const service::Job&) -> service::JobQueue::Work {
    return [&kept] {
      std::vector<std::unique_ptr<char[]>> blocks(kBlocks);
      for (auto& block : blocks) {
        block = std::make_unique<char[]>(4096);
        std::fill_n(block.get(), 4096, 'x');  // resident, not only reserved
      }
      for (std::size_t i = 0; i < kBlocks; i += 64) {
        kept.push_back(std::move(blocks[i]));
      }
      return service::JobResult{};
    };
  };
  double after_job = 0;
  const auto nothing = [](const service::Job&, service::JobResult&) {};
  const auto idle = [&after_job](const service::Job&, service::JobResult&) {
    after_job = resident_mb();
  };
  {
    service::JobQueue jobs(io, job, nothing, idle, std::chrono::milliseconds(0));
    jobs.enqueue(service::Job{});
    io.run();  // the job, then (idle, no delay) the trim posted to the pool
    jobs.join();
  }
  const double trimmed = resident_mb();
  INFO("resident after the job " << after_job << " MB, once idle " << trimmed << " MB");
  CHECK(after_job - trimmed > 150);  // of the 252 MB freed
}
