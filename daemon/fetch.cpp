#include "daemon/fetch.h"

#include <date/date.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <stdexcept>
#include <system_error>

extern char** environ;

namespace service {
namespace {

// glibc 2.36's <sys/pidfd.h> lacks C linkage for C++, so call the kernel directly.
int open_pidfd(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

void kill_pidfd(int fd) noexcept { ::syscall(SYS_pidfd_send_signal, fd, SIGKILL, nullptr, 0); }

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
  for (std::size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

}  // namespace

FetchPlan make_fetch_plan(const config::FetchConfig& fetch, const std::filesystem::path& inbox) {
  FetchPlan plan;
  plan.source = fetch.source;
  plan.command = fetch.command;
  plan.timeout = fetch.timeout;
  plan.inbox = inbox;
  if (plan.command.empty() || plan.command.front().empty()) {
    throw std::runtime_error(fmt::format("source {}: fetch needs a command", fetch.source));
  }
  plan.times = fetch.at;  // checked by config/
  return plan;
}

std::filesystem::path fetch_part_path(const FetchPlan& plan, SysSeconds now) {
  return plan.inbox / fmt::format(".{}-{}.part", plan.source, date::format("%Y%m%dT%H%M%SZ", now));
}

std::filesystem::path fetch_target_path(const FetchPlan& plan, rules::Date today) {
  return plan.inbox / fmt::format("{}_{}.csv", plan.source, today.iso());
}

std::vector<std::string> fetch_argv(const FetchPlan& plan, const std::filesystem::path& part) {
  std::vector<std::string> argv;
  for (const auto& arg : plan.command) {
    argv.push_back(replace_all(arg, "{file}", part.string()));
  }
  return argv;
}

FetchRun::FetchRun(boost::asio::io_context& io, FetchPlan plan, SysSeconds now, rules::Date today)
    : io_(io),
      plan_(std::move(plan)),
      started_(now),
      today_(today),
      part_(fetch_part_path(plan_, now)),
      pidfd_(io),
      timer_(io) {}

FetchRun::~FetchRun() {
  cancel();
  boost::system::error_code ignored;
  pidfd_.close(ignored);
}

void FetchRun::start(std::function<void(const FetchOutcome&)> done) {
  done_ = std::move(done);
  const auto argv_strings = fetch_argv(plan_, part_);
  std::vector<char*> argv;
  argv.reserve(argv_strings.size());
  for (const auto& arg : argv_strings) {
    argv.push_back(const_cast<char*>(arg.c_str()));
  }
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  // The loop's signal_set blocks nothing, but reset the dispositions it installed.
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGHUP);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  pid_t pid = 0;
  const int error = ::posix_spawn(&pid, argv[0], &actions, &attributes, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (error != 0) {
    finish(FetchOutcome{plan_.source, utc_text(started_), false,
                        fmt::format("cannot run {}: {}", argv_strings.front(),
                                    std::system_category().message(error)),
                        ""});
    return;
  }
  const int fd = open_pidfd(pid);
  if (fd < 0) {
    // Without a pidfd the child cannot be awaited without blocking: stop it and say so.
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    finish(FetchOutcome{plan_.source, utc_text(started_), false,
                        fmt::format("pidfd_open failed: {}", std::system_category().message(errno)),
                        ""});
    return;
  }
  pidfd_.assign(fd);
  timer_.expires_after(plan_.timeout);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || finished_) {
      return;
    }
    timed_out_ = true;
    kill_pidfd(pidfd_.native_handle());
  });
  pidfd_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                    [this](boost::system::error_code ec) {
                      if (ec == boost::asio::error::operation_aborted) {
                        return;
                      }
                      reap();
                    });
}

void FetchRun::cancel() noexcept {
  if (finished_ || cancelled_) {
    return;
  }
  cancelled_ = true;
  if (pidfd_.is_open()) {
    kill_pidfd(pidfd_.native_handle());
  }
}

void FetchRun::reap() {
  siginfo_t info{};
  if (::waitid(P_PIDFD, static_cast<id_t>(pidfd_.native_handle()), &info, WEXITED) != 0) {
    finish(FetchOutcome{plan_.source, utc_text(started_), false,
                        fmt::format("waitid failed: {}", std::system_category().message(errno)),
                        ""});
    return;
  }
  timer_.cancel();
  FetchOutcome outcome{plan_.source, utc_text(started_), false, "", ""};
  if (cancelled_) {
    outcome.detail = "cancelled: casewatchd is stopping";
  } else if (timed_out_) {
    outcome.detail = fmt::format("killed after the {} s timeout", plan_.timeout.count());
  } else if (info.si_code == CLD_EXITED) {
    outcome.detail = fmt::format("exit status {}", info.si_status);
    outcome.ok = info.si_status == 0;
  } else {
    outcome.detail = fmt::format("killed by signal {}", info.si_status);
  }
  if (outcome.ok) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(part_, ec)) {
      outcome.ok = false;
      outcome.detail += ", but it wrote no file";
    } else {
      auto target = fetch_target_path(plan_, today_);
      if (std::filesystem::exists(target, ec)) {
        target = plan_.inbox / fmt::format("{}_{}_{}.csv", plan_.source, today_.iso(),
                                           date::format("%H%M%S", started_));
      }
      ::chmod(part_.c_str(), 0640);
      std::filesystem::rename(part_, target, ec);
      if (ec) {
        outcome.ok = false;
        outcome.detail += fmt::format(", but the rename into the inbox failed: {}", ec.message());
      } else {
        outcome.file = target.filename().string();
      }
    }
  }
  if (!outcome.ok) {
    std::error_code ignored;
    std::filesystem::remove(part_, ignored);
  }
  finish(std::move(outcome));
}

void FetchRun::finish(FetchOutcome outcome) {
  finished_ = true;
  // Always from the loop, never inside start(), so the owner may destroy the run in `done`.
  boost::asio::post(io_,
                    [done = std::move(done_), outcome = std::move(outcome)] { done(outcome); });
}

}  // namespace service
