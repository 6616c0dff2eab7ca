// The service's clocks: the weekly review, the daily fetches and the sender (the earliest
// pending outbox entry's next attempt). Each fires a callback the Daemon wires; the timers
// themselves decide nothing but when. A fetch's command runs here too (FetchRun, asynchronous
// on the loop), and its outcome goes to `fetched`.
// Not thread-safe: call from the loop thread.
#ifndef CASEWATCH_DAEMON_TIMERS_H_
#define CASEWATCH_DAEMON_TIMERS_H_

#include <boost/asio/io_context.hpp>
#include <boost/asio/system_timer.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "daemon/clock.h"
#include "daemon/fetch.h"
#include "daemon/policy/schedule.h"
#include "daemon/settings.h"

namespace service {

class Timers {
 public:
  struct Callbacks {
    std::function<void(const DueReview&)> review_due;
    std::function<void()> delivery_due;
    std::function<void(const FetchOutcome&)> fetched;
  };

  // REQUIRES: io outlives the timers.
  Timers(boost::asio::io_context& io, Callbacks callbacks);

  // (Re)arms the review and fetch timers for `settings`.
  void reconfigure(std::shared_ptr<const Settings> settings);

  // Arms the sender for `next` (nullopt: nothing pending; no sender when mail is off), not before
  // the pause set by pause_sender().
  void arm_sender(std::optional<SysSeconds> next);
  // After a delivery round failed as a whole: no round before `until` (nullopt: no pause).
  void pause_sender(std::optional<SysSeconds> until) { sender_paused_until_ = until; }

  // The next scheduled review.
  std::optional<SysSeconds> next_review() const { return next_review_; }

  // Cancels every timer and running fetch. Idempotent.
  void stop() noexcept;

 private:
  void arm_review();
  void arm_fetch(boost::asio::system_timer& timer, const FetchPlan& plan);
  void start_fetch(const FetchPlan& plan);

  boost::asio::io_context& io_;
  Callbacks callbacks_;
  std::shared_ptr<const Settings> settings_;
  boost::asio::system_timer review_timer_;
  boost::asio::system_timer sender_timer_;
  std::optional<SysSeconds> next_review_;
  std::optional<SysSeconds> sender_paused_until_;
  std::vector<std::unique_ptr<boost::asio::system_timer>> fetch_timers_;
  std::vector<std::unique_ptr<FetchRun>> fetch_runs_;
  bool stopped_ = false;
};

}  // namespace service

#endif  // CASEWATCH_DAEMON_TIMERS_H_
