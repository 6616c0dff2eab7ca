// The reader thread: the control commands that read the database or take long (`findings` when
// not cached, `case`, `review`, `alerts`, `outbox`) run here one at a time, so that the loop
// never waits for them. It reads with its own read-only connection (opened on first use, on this
// thread), which in WAL mode neither waits on the pool's write transaction nor holds it up, and
// it renders the current week's review with an Engine kept for the settings it was built with
// (its record views and evaluation are reused while the latest extracts stay the same).
// post() and stop() from the loop thread; history() and review_renderer() only from work posted
// here.
#ifndef CASEWATCH_DAEMON_READER_H_
#define CASEWATCH_DAEMON_READER_H_

#include <atomic>
#include <boost/asio/thread_pool.hpp>
#include <filesystem>
#include <functional>
#include <memory>

#include "daemon/control/findings_view.h"
#include "daemon/settings.h"
#include "daemon/work/engine.h"
#include "storage/storage.h"

namespace service {

class ReaderThread {
 public:
  explicit ReaderThread(std::filesystem::path database_file);
  // Joins the thread (see join()).
  ~ReaderThread();
  ReaderThread(const ReaderThread&) = delete;
  ReaderThread& operator=(const ReaderThread&) = delete;

  // Runs `work` on the reader thread after what was posted before.
  void post(std::function<void()> work);

  // The work still queued should answer without reading (stopping() is then true); the running
  // one ends as it would. Idempotent.
  void stop() noexcept { stopping_ = true; }
  bool stopping() const { return stopping_.load(); }

  // Waits for the work posted; then closes the connection.
  void join();

  // On the reader thread only: its read-only connection, opened on first use (throws when the
  // database cannot be opened).
  storage::History& history();
  // On the reader thread only: renders this week's review with `settings`.
  RenderReview review_renderer(std::shared_ptr<const Settings> settings);

 private:
  std::filesystem::path database_file_;
  std::atomic<bool> stopping_{false};
  // The reader thread's own; the engine refers to history_ and to engine_settings_.
  std::unique_ptr<storage::History> history_;
  std::shared_ptr<const Settings> engine_settings_;
  std::unique_ptr<Engine> engine_;
  boost::asio::thread_pool thread_{1};  // last: joined before the members above go
};

}  // namespace service

#endif  // CASEWATCH_DAEMON_READER_H_
