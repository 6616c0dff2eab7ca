// Watching the inbox: inotify (through Asio) for prompt pick-up, a periodic rescan as a safety
// net, and the settle rule: a file is taken when it was renamed into the inbox, or when its size
// and modification time have not changed for `settle`. Dot-files, *.tmp and *.part are never
// taken. The watch only says when the waiting files are ready; the engine takes them.
// Not thread-safe: all methods are called from the loop thread.
#ifndef CASEWATCH_DAEMON_INBOX_WATCH_H_
#define CASEWATCH_DAEMON_INBOX_WATCH_H_

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace service {

// Whether a file name is never taken: dot-files, *.tmp, *.part.
bool is_ignored_name(std::string_view name);

// The settle rule as a pure state machine over observations (time is a parameter).
class SettleTracker {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  struct Seen {
    std::uintmax_t size = 0;
    std::int64_t mtime_ns = 0;
    bool operator==(const Seen&) const = default;
  };

  explicit SettleTracker(std::chrono::milliseconds settle) : settle_(settle) {}
  void set_settle(std::chrono::milliseconds settle) { settle_ = settle; }

  // The file was renamed into the inbox: it is complete as it is now.
  void moved_in(const std::string& name, Seen seen);
  // Records an observation of `name` at `now`; returns true when it is ready to take: renamed in
  // and unchanged since, or unchanged for `settle`.
  bool observe(const std::string& name, Seen seen, TimePoint now);
  // When `name` will have settled if it stays unchanged; nullopt when it is not tracked.
  std::optional<TimePoint> settles_at(const std::string& name) const;
  // Forgets every file not in `present` (taken or deleted).
  void keep_only(const std::vector<std::string>& present);

 private:
  struct Entry {
    Seen seen;
    TimePoint since;
    bool moved = false;
  };
  std::chrono::milliseconds settle_;
  std::map<std::string, Entry, std::less<>> files_;
};

class InboxWatch {
 public:
  // The files a cycle would take now (the engine's own scan of the inbox).
  using Candidates = std::function<std::vector<std::filesystem::path>()>;
  // Called when at least one file waits and every waiting file is ready.
  using OnReady = std::function<void()>;

  // REQUIRES: io outlives the watch.
  InboxWatch(boost::asio::io_context& io, std::filesystem::path inbox,
             std::chrono::milliseconds settle, std::chrono::milliseconds rescan,
             Candidates candidates, OnReady on_ready);
  ~InboxWatch();
  InboxWatch(const InboxWatch&) = delete;
  InboxWatch& operator=(const InboxWatch&) = delete;

  // Starts inotify (a warning and rescans only when inotify is unavailable) and the rescans,
  // and checks the inbox at once.
  void start();
  // Looks at the inbox now (after a cycle, or when a reload changed the sources).
  void check();
  void set_timing(std::chrono::milliseconds settle, std::chrono::milliseconds rescan);
  // Stops watching. Idempotent.
  void stop() noexcept;

 private:
  void read_events();
  void arm_rescan();

  boost::asio::io_context& io_;
  std::filesystem::path inbox_;
  std::chrono::milliseconds rescan_;
  Candidates candidates_;
  OnReady on_ready_;
  SettleTracker tracker_;
  boost::asio::posix::stream_descriptor inotify_;
  boost::asio::steady_timer rescan_timer_;
  boost::asio::steady_timer settle_timer_;
  std::vector<char> events_;
  bool stopped_ = false;
};

}  // namespace service

#endif  // CASEWATCH_DAEMON_INBOX_WATCH_H_
