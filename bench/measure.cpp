#include "bench/measure.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

namespace bench {
namespace {

void write_all(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return;
    }
    done += static_cast<std::size_t>(n);
  }
}

std::string read_all(int fd) {
  std::string text;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    text.append(buffer, static_cast<std::size_t>(n));
  }
  return text;
}

double rss_mb(long max_rss_kb) { return static_cast<double>(max_rss_kb) / 1024.0; }

// Waits for `pid` and fills the result's wall time, peak RSS and, for a failed exit, the error.
void reap(pid_t pid, std::chrono::steady_clock::time_point start, PhaseResult& result) {
  int status = 0;
  rusage usage{};
  while (::wait4(pid, &status, 0, &usage) < 0) {
    if (errno != EINTR) {
      result.ok = false;
      result.error = fmt::format("wait4: {}", std::strerror(errno));
      return;
    }
  }
  result.wall_seconds = seconds_since(start);
  result.peak_rss_mb = rss_mb(usage.ru_maxrss);
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  result.cpu_seconds = seconds(usage.ru_utime) + seconds(usage.ru_stime);
  if (WIFSIGNALED(status)) {
    result.ok = false;
    result.error = fmt::format("killed by signal {}", WTERMSIG(status));
  } else if (WEXITSTATUS(status) != 0 && result.error.empty()) {
    result.ok = false;
    result.error = fmt::format("exit status {}", WEXITSTATUS(status));
  }
}

}  // namespace

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double own_peak_rss_mb() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return rss_mb(usage.ru_maxrss);
}

namespace {

// The "Field:   123 kB" line of /proc/PID/status, in MB.
double status_mb(int pid, std::string_view field) {
  std::ifstream status(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with(field)) {
      return std::strtod(line.c_str() + field.size(), nullptr) / 1024.0;
    }
  }
  return 0;
}

}  // namespace

double process_rss_mb(int pid) { return status_mb(pid, "VmRSS:"); }

double process_peak_rss_mb(int pid) { return status_mb(pid, "VmHWM:"); }

bool reset_peak_rss(int pid) {
  std::ofstream clear(fmt::format("/proc/{}/clear_refs", pid));
  clear << "5";
  clear.flush();
  return static_cast<bool>(clear);
}

// Writes back what earlier phases left dirty in the page cache before a phase starts, so that
// no phase is charged for the kernel flushing another's files (a first ingest measured right
// after the storage-only phase took a quarter longer).
void settle_writeback() { ::sync(); }

PhaseResult run_forked(const std::function<Figures()>& body) {
  PhaseResult result;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    result.error = fmt::format("pipe: {}", std::strerror(errno));
    return result;
  }
  std::fflush(nullptr);
  settle_writeback();
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) {
    result.error = fmt::format("fork: {}", std::strerror(errno));
    ::close(fds[0]);
    ::close(fds[1]);
    return result;
  }
  if (pid == 0) {
    ::close(fds[0]);
    int code = 0;
    std::string text;
    try {
      for (const auto& [name, value] : body()) {
        text += fmt::format("{} {:.17g}\n", name, value);
      }
    } catch (const std::exception& e) {
      text = fmt::format("!error {}\n", e.what());
      code = 1;
    }
    write_all(fds[1], text);
    std::fflush(nullptr);
    ::_exit(code);
  }
  ::close(fds[1]);
  const std::string text = read_all(fds[0]);
  ::close(fds[0]);
  result.ok = true;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.starts_with("!error ")) {
      result.ok = false;
      result.error = line.substr(7);
      continue;
    }
    const auto space = line.find(' ');
    if (space == std::string::npos) {
      continue;
    }
    result.figures[line.substr(0, space)] = std::strtod(line.c_str() + space + 1, nullptr);
  }
  reap(pid, start, result);
  return result;
}

PhaseResult run_command(const std::vector<std::string>& argv, const std::string& log_file) {
  PhaseResult result;
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& arg : argv) {
    args.push_back(const_cast<char*>(arg.c_str()));
  }
  args.push_back(nullptr);
  std::fflush(nullptr);
  settle_writeback();
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) {
    result.error = fmt::format("fork: {}", std::strerror(errno));
    return result;
  }
  if (pid == 0) {
    const int log = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0640);
    if (log >= 0) {
      ::dup2(log, 1);
      ::dup2(log, 2);
    }
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  result.ok = true;
  reap(pid, start, result);
  if (result.ok) {
    result.figures["seconds"] = result.wall_seconds;
  }
  return result;
}

}  // namespace bench
