#include <fmt/format.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <tuple>
#include <vector>

#include "bench/bench.h"

namespace bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int kClients = 50;
constexpr auto kReadyTimeout = std::chrono::minutes(10);
constexpr auto kIngestTimeout = std::chrono::minutes(10);
// How long the service is left idle before its memory is read: casewatchd gives what heavy work
// freed back to the system after 2 s idle (JobQueue::release_memory_when_idle).
constexpr auto kIdleSettle = std::chrono::seconds(3);

// One connection to the control socket, one request line and one reply line at a time.
class Client {
 public:
  explicit Client(const fs::path& socket) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, socket.c_str(), sizeof address.sun_path - 1);
    if (fd_ < 0 ||
        ::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
      const int error = errno;
      if (fd_ >= 0) {
        ::close(fd_);
      }
      fd_ = -1;
      throw std::runtime_error(
          fmt::format("cannot connect to {}: {}", socket.string(), std::strerror(error)));
    }
  }
  ~Client() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Sends `line` and returns the reply line; throws when the daemon closes the connection.
  std::string ask(const std::string& line) {
    const std::string request = line + "\n";
    std::size_t done = 0;
    while (done < request.size()) {
      const ssize_t n = ::send(fd_, request.data() + done, request.size() - done, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        throw std::runtime_error("the daemon closed the connection");
      }
      done += static_cast<std::size_t>(n);
    }
    for (;;) {
      const auto newline = buffer_.find('\n');
      if (newline != std::string::npos) {
        std::string reply = buffer_.substr(0, newline);
        buffer_.erase(0, newline + 1);
        return reply;
      }
      char chunk[65536];
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        throw std::runtime_error("the daemon closed the connection");
      }
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  std::string buffer_;
};

// Success (0) or empty (3, e.g. "no findings"): an answer, not a failure.
bool is_success(const std::string& reply) {
  return reply.find("\"result\":0") != std::string::npos ||
         reply.find("\"result\":3") != std::string::npos;
}

// Whether a `status` reply shows `file` as its source's latest extract with no cycle running
// (ingested and evaluated).
bool is_settled(const std::string& reply, const std::string& file) {
  return reply.find("\"result\":0") != std::string::npos &&
         reply.find("\"cycle_running\":false") != std::string::npos &&
         reply.find(fmt::format("\"{}\"", file)) != std::string::npos;
}

double percentile(std::vector<double>& values, double p) {
  if (values.empty()) {
    return 0;
  }
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(values.size())));
  return values[std::min(values.size() - 1, rank == 0 ? 0 : rank - 1)];
}

std::string tail_of(const fs::path& file, std::size_t lines) {
  std::ifstream in(file);
  std::vector<std::string> all;
  for (std::string line; std::getline(in, line);) {
    all.push_back(line);
  }
  std::string text;
  for (std::size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i) {
    text += "      " + all[i] + "\n";
  }
  return text;
}

// The running daemon, stopped with SIGTERM when this goes out of scope.
class Daemon {
 public:
  Daemon(const fs::path& program, const fs::path& config, const fs::path& log) {
    std::fflush(nullptr);
    pid_ = ::fork();
    if (pid_ < 0) {
      throw std::runtime_error(fmt::format("fork: {}", std::strerror(errno)));
    }
    if (pid_ == 0) {
      std::FILE* out = std::freopen(log.c_str(), "w", stderr);
      if (out != nullptr) {
        ::dup2(::fileno(stderr), 1);
      }
      ::execl(program.c_str(), program.c_str(), "--config", config.c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  ~Daemon() { stop(); }
  // Whether it is still running; when it is not, `status` says how it ended.
  bool running(std::string& status) {
    if (pid_ <= 0) {
      return false;
    }
    int wstatus = 0;
    if (::waitpid(pid_, &wstatus, WNOHANG) != pid_) {
      return true;
    }
    pid_ = -1;
    status = WIFEXITED(wstatus) ? fmt::format("exited with status {}", WEXITSTATUS(wstatus))
                                : fmt::format("killed by signal {}", WTERMSIG(wstatus));
    return false;
  }
  void stop() {
    if (pid_ <= 0) {
      return;
    }
    ::kill(pid_, SIGTERM);
    int wstatus = 0;
    ::waitpid(pid_, &wstatus, 0);
    pid_ = -1;
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

// Runs `casewatchd --config F --once --as-of DATE` (ingests the inbox, writes and records the
// review of DATE's week) and waits for it; throws when it fails.
void run_once(const fs::path& program, const fs::path& config, rules::Date as_of,
              const fs::path& log) {
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    throw std::runtime_error(fmt::format("fork: {}", std::strerror(errno)));
  }
  if (pid == 0) {
    std::FILE* out = std::freopen(log.c_str(), "w", stderr);
    if (out != nullptr) {
      ::dup2(::fileno(stderr), 1);
    }
    const std::string date = as_of.iso();
    ::execl(program.c_str(), program.c_str(), "--config", config.c_str(), "--once", "--as-of",
            date.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int wstatus = 0;
  ::waitpid(pid, &wstatus, 0);
  if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
    throw std::runtime_error(
        fmt::format("casewatchd --once failed; its log ends:\n{}", tail_of(log, 8)));
  }
}

// Waits until `inbox` is empty and the daemon's `status` shows `file` ingested and evaluated, and
// a review other than `past_review` recorded (the one the daemon produces late at start-up).
void wait_until_ready(Daemon& daemon, const fs::path& socket, const fs::path& inbox,
                      const std::string& file, const fs::path& log,
                      const std::string& past_review) {
  const auto deadline = Clock::now() + kReadyTimeout;
  std::string ended;
  while (Clock::now() < deadline) {
    if (!daemon.running(ended)) {
      throw std::runtime_error(fmt::format("casewatchd {} before it was ready; its log ends:\n{}",
                                           ended, tail_of(log, 8)));
    }
    if (fs::exists(socket) && fs::is_empty(inbox)) {
      try {
        Client client(socket);
        const std::string reply = client.ask(R"({"command": "status"})");
        if (is_settled(reply, file) && reply.find("\"last_review_week\":\"") != std::string::npos &&
            reply.find(fmt::format("\"last_review_week\":\"{}\"", past_review)) ==
                std::string::npos) {
          return;
        }
      } catch (const std::runtime_error&) {
        // Not listening yet.
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  throw std::runtime_error("casewatchd was not ready within 10 minutes");
}

struct Sample {
  Clock::time_point sent, answered;
  bool status = false;
  double ms() const { return std::chrono::duration<double, std::milli>(answered - sent).count(); }
};

// The longest time in [from, to] with no answer to any client (`by_answer` sorted by answer), in
// ms, and when it ended, in seconds after `from`.
std::pair<double, double> longest_gap(const std::vector<Sample>& by_answer, Clock::time_point from,
                                      Clock::time_point to) {
  const auto ms = [](Clock::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
  };
  std::pair<double, double> longest{0, 0};
  Clock::time_point previous = from;
  const auto consider = [&](Clock::time_point t) {
    if (ms(t - previous) > longest.first) {
      longest = {ms(t - previous), ms(t - from) / 1000};
    }
    previous = t;
  };
  for (const auto& sample : by_answer) {
    if (sample.answered >= from && sample.answered <= to) {
      consider(sample.answered);
    }
  }
  consider(to);
  return longest;
}

// The status figures of the requests sent in [from, to], and the longest gap in it.
SocketWindow window(const std::vector<Sample>& by_answer, Clock::time_point from,
                    Clock::time_point to) {
  SocketWindow out;
  out.seconds = std::chrono::duration<double>(to - from).count();
  std::vector<double> status_ms;
  for (const auto& sample : by_answer) {
    if (sample.status && sample.sent >= from && sample.sent <= to) {
      status_ms.push_back(sample.ms());
    }
  }
  out.status_count = status_ms.size();
  out.status_max_ms = status_ms.empty() ? 0 : *std::max_element(status_ms.begin(), status_ms.end());
  out.status_p50_ms = percentile(status_ms, 0.50);
  out.status_p99_ms = percentile(status_ms, 0.99);
  std::tie(out.longest_gap_ms, out.longest_gap_at_s) = longest_gap(by_answer, from, to);
  return out;
}

struct ClientLog {
  std::vector<Sample> samples;
  std::size_t failures = 0;
  std::string first_failure;  // the first reply that was not a success, cut short
  std::string error;
};

SocketFigures measure(const fs::path& work, const ExtractSpec& spec, const fs::path& program,
                      int interval_ms) {
  SocketFigures figures;
  figures.interval_ms = interval_ms;
  // A folder of its own: config_text puts the state in folder/state.
  const fs::path folder = work / "socket";
  const fs::path state = folder / "state";
  fs::remove_all(folder);
  const fs::path config = folder / "casewatch.toml";
  const fs::path inbox = state / "inbox";
  fs::create_directories(inbox);
  std::ofstream(config) << config_text(folder);

  // Loaded: the first extract ingested by `casewatchd --once`, which also writes the review of
  // its week (a past week now, for `review --week`); the changed extract is dropped later.
  const GeneratedFiles files = write_extracts(spec, folder / "generated");
  fs::rename(files.first, inbox / files.first.filename());
  const std::string past_week = rules::iso_week(spec.as_of).str();
  run_once(program, config, spec.as_of, folder / "once.log");
  const fs::path socket = state / "control.sock";
  const fs::path log = folder / "casewatchd.log";
  Daemon daemon(program, config, log);
  wait_until_ready(daemon, socket, inbox, files.first.filename().string(), log, past_week);

  // Idle latency first: one client, one request at a time, nothing else happening.
  {
    Client alone(socket);
    std::vector<double> status_ms, findings_ms;
    for (int n = 0; n < 20; ++n) {
      const bool status = n % 4 != 3;
      const auto sent = Clock::now();
      alone.ask(status ? R"({"command": "status"})"
                       : R"({"command": "findings", "arguments": {"rule": "unallocated"}})");
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - sent).count();
      (status ? status_ms : findings_ms).push_back(ms);
    }
    figures.idle_status_p50_ms = percentile(status_ms, 0.5);
    figures.idle_findings_p50_ms = percentile(findings_ms, 0.5);
  }
  // Its memory idle (after casewatchd's 2 s before it gives freed memory back), then its peak
  // from now on (the drop below) until the cycle is done.
  std::this_thread::sleep_for(kIdleSettle);
  figures.service_idle_rss_mb = process_rss_mb(daemon.pid());
  reset_peak_rss(daemon.pid());
  // An open finding to note during the ingest.
  std::string note_key;
  {
    Client alone(socket);
    const auto reply = boost::json::parse(
        alone.ask(R"({"command": "findings", "arguments": {"rule": "unallocated", "limit": 1}})"));
    const auto& found = reply.at("arguments").at("findings").as_array();
    if (!found.empty()) {
      note_key = std::string(found.at(0).at("key").as_string());
    }
  }

  std::vector<ClientLog> logs(kClients);
  std::vector<std::unique_ptr<Client>> clients;
  clients.reserve(kClients);
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<Client>(socket));
  }
  std::atomic<bool> stop{false};
  std::atomic<bool> ingest_over{false};  // the note is no longer sent after it
  std::vector<std::thread> threads;
  threads.reserve(kClients);
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      ClientLog& mine = logs[static_cast<std::size_t>(i)];
      try {
        // Paced: client i sends at start + i * interval / clients + n * interval, so the load is
        // steady (clients * 1000 / interval_ms requests a second); interval 0 = back to back.
        const auto interval = std::chrono::milliseconds(interval_ms);
        const auto first_send = Clock::now() + interval * i / kClients;
        for (int n = 0; !stop.load(); ++n) {
          if (interval_ms > 0) {
            std::this_thread::sleep_until(first_send + interval * n);
          }
          const bool status = (n + i) % 2 == 0;
          const std::string request =
              status
                  ? fmt::format(R"({{"command": "status", "id": {}}})", n)
                  : fmt::format(
                        R"({{"command": "findings", "arguments": {{"rule": "unallocated"}}, "id": {}}})",
                        n);
          const auto sent = Clock::now();
          const std::string reply = clients[static_cast<std::size_t>(i)]->ask(request);
          mine.samples.push_back(Sample{sent, Clock::now(), status});
          if (!is_success(reply)) {
            if (mine.failures++ == 0) {
              mine.first_failure = reply.substr(0, 300);
            }
          }
        }
      } catch (const std::exception& e) {
        mine.error = e.what();
      }
    });
  }

  // Drop the changed extract by rename, as an export job would, and wait for it to be taken.
  const auto dropped = Clock::now();
  const fs::path dropped_file = inbox / files.changed.filename();
  fs::rename(files.changed, dropped_file);
  // Done when status shows it ingested and evaluated (this 51st client asks every 20 ms).
  const fs::path archived = state / "archive" / files.changed.filename();
  // The note: sent once status says the ingest runs, answered when the job pool is free.
  std::pair<Clock::time_point, Clock::time_point> note_window;
  std::thread noter([&] {
    try {
      if (note_key.empty()) {
        return;
      }
      Client writer(socket);
      while (!ingest_over.load() &&
             writer.ask(R"({"command": "status"})").find("\"cycle_running\":true") ==
                 std::string::npos) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      if (ingest_over.load()) {
        return;
      }
      const boost::json::object request{
          {"command", "note"},
          {"arguments", {{"rule", "unallocated"}, {"key", note_key}, {"text", "bench note"}}}};
      const auto sent = Clock::now();
      figures.note_reply = writer.ask(boost::json::serialize(request)).substr(0, 200);
      note_window = {sent, Clock::now()};
      figures.note_ms =
          std::chrono::duration<double, std::milli>(note_window.second - sent).count();
      figures.note_sent = true;
    } catch (const std::exception& e) {
      figures.note_reply = std::string("the note's client: ") + e.what();
    }
  });
  std::string ended;
  Client watcher(socket);
  while (Clock::now() - dropped < kIngestTimeout && daemon.running(ended) &&
         !(fs::exists(archived) &&
           is_settled(watcher.ask(R"({"command": "status"})"), files.changed.filename()))) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const auto ingested = Clock::now();
  figures.service_cycle_peak_mb = process_peak_rss_mb(daemon.pid());
  figures.ingest_seconds = std::chrono::duration<double>(ingested - dropped).count();
  ingest_over = true;
  noter.join();
  // The reader commands, each asked once while the clients go on: a past week's review, a case
  // and this week's review (rendered from storage).
  struct Asked {
    std::string what;
    std::string request;
    Clock::time_point from = {}, to = {};
    std::size_t count = 0;
    double max_ms = 0;
    std::string first_reply = {};
  };
  std::vector<Asked> asked;
  if (daemon.running(ended) && !note_key.empty()) {
    const auto ask = [](const std::string& command, boost::json::object arguments) {
      return boost::json::serialize(
          boost::json::object{{"command", command}, {"arguments", std::move(arguments)}});
    };
    asked = {{fmt::format("`review --week {}` (a past week)", past_week),
              ask("review", {{"week", past_week}})},
             {fmt::format("`case {}`", note_key), ask("case", {{"key", note_key}})},
             {"`review` (this week, rendered from storage)", ask("review", {})}};
    Client reader(socket);
    for (auto& one : asked) {
      one.from = Clock::now();
      one.first_reply = reader.ask(one.request).substr(0, 160);
      one.to = Clock::now();
      one.count = 1;
      one.max_ms = std::chrono::duration<double, std::milli>(one.to - one.from).count();
    }
  }
  stop = true;
  for (auto& thread : threads) {
    thread.join();
  }
  clients.clear();
  std::this_thread::sleep_for(kIdleSettle);
  figures.service_after_rss_mb = process_rss_mb(daemon.pid());
  daemon.stop();
  if (!fs::exists(archived)) {
    figures.error =
        fmt::format("the dropped extract was not ingested ({}); log ends:\n{}",
                    ended.empty() ? "timed out" : "casewatchd " + ended, tail_of(log, 8));
  }

  // The figures of the ingest: requests sent before it was over.
  std::vector<double> status_ms, findings_ms;
  std::vector<Sample> all;
  for (auto& one : logs) {
    for (const auto& sample : one.samples) {
      all.push_back(sample);
      if (sample.sent <= ingested) {
        (sample.status ? status_ms : findings_ms).push_back(sample.ms());
      }
    }
    figures.failures += one.failures;
    if (!one.error.empty() && figures.error.empty()) {
      figures.error = "a client: " + one.error;
    }
    if (!one.first_failure.empty() && figures.error.empty()) {
      figures.error = "a failed reply: " + one.first_failure;
    }
  }
  std::sort(all.begin(), all.end(),
            [](const Sample& a, const Sample& b) { return a.answered < b.answered; });
  std::tie(figures.longest_gap_ms, figures.longest_gap_at_s) = longest_gap(all, dropped, ingested);
  if (figures.note_sent) {
    SocketWindow note = window(all, note_window.first, note_window.second);
    note.what = "a `note` waited on the ingest's commit";
    note.asked = 1;
    note.command_max_ms = figures.note_ms;
    note.first_reply = figures.note_reply;
    figures.windows.push_back(std::move(note));
  }
  for (const auto& one : asked) {
    SocketWindow w = window(all, one.from, one.to);
    w.what = one.what;
    w.asked = one.count;
    w.command_max_ms = one.max_ms;
    w.first_reply = one.first_reply;
    figures.windows.push_back(std::move(w));
  }
  figures.ran = true;
  figures.clients = kClients;
  figures.requests = status_ms.size() + findings_ms.size();
  figures.status_max_ms =
      status_ms.empty() ? 0 : *std::max_element(status_ms.begin(), status_ms.end());
  figures.findings_max_ms =
      findings_ms.empty() ? 0 : *std::max_element(findings_ms.begin(), findings_ms.end());
  figures.status_p50_ms = percentile(status_ms, 0.50);
  figures.status_p99_ms = percentile(status_ms, 0.99);
  figures.findings_p50_ms = percentile(findings_ms, 0.50);
  figures.findings_p99_ms = percentile(findings_ms, 0.99);
  return figures;
}

}  // namespace

fs::path find_casewatchd() {
  if (const char* path = std::getenv("CASEWATCHD"); path && *path) {
    return path;
  }
  std::error_code error;
  const fs::path self = fs::read_symlink("/proc/self/exe", error);
  if (error) {
    return {};
  }
  return self.parent_path().parent_path() / "daemon" / "casewatchd";
}

SocketFigures socket_phase(const fs::path& work, const ExtractSpec& spec, int interval_ms) {
  SocketFigures figures;
  const fs::path program = find_casewatchd();
  if (program.empty() || !fs::exists(program)) {
    figures.skipped = fmt::format(
        "TODO: socket latency not measured: casewatchd is not built ({}); build it (scripts/bench "
        "does) or set CASEWATCHD",
        program.string());
    return figures;
  }
  try {
    return measure(work, spec, program, interval_ms);
  } catch (const std::exception& e) {
    figures.skipped = fmt::format(
        "TODO: socket latency not measured: `casewatchd --config F` is not runnable yet: {}",
        e.what());
    return figures;
  }
}

}  // namespace bench
