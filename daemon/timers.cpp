#include "daemon/timers.h"

#include "daemon/cancel.h"

namespace service {

namespace asio = boost::asio;

Timers::Timers(asio::io_context& io, Callbacks callbacks)
    : io_(io), callbacks_(std::move(callbacks)), review_timer_(io), sender_timer_(io) {}

void Timers::reconfigure(std::shared_ptr<const Settings> settings) {
  settings_ = std::move(settings);
  if (stopped_) {
    return;
  }
  arm_review();
  for (auto& timer : fetch_timers_) {
    timer->cancel();
  }
  fetch_timers_.clear();
  for (const FetchPlan& plan : settings_->fetches) {
    fetch_timers_.push_back(std::make_unique<asio::system_timer>(io_));
    arm_fetch(*fetch_timers_.back(), plan);
  }
  if (!settings_->config.mail.enabled()) {
    sender_timer_.cancel();
  }
}

void Timers::arm_review() {
  const SysSeconds now = now_utc();
  const SysSeconds next = next_weekly_run(now, settings_->review, settings_->zone);
  next_review_ = next;
  // A wait of the time left by now_utc(), not an expiry at `next`: the same with the wall clock,
  // and right with the end-to-end tests' clock (use_test_clock), which is not the wall clock.
  review_timer_.expires_after(next - now);
  review_timer_.async_wait([this, next](boost::system::error_code ec) {
    if (ec || stopped_) {
      return;
    }
    if (now_utc() >= next) {
      callbacks_.review_due(review_for_run(next, settings_->zone));
    }
    arm_review();
  });
}

void Timers::arm_sender(std::optional<SysSeconds> next) {
  if (stopped_) {
    return;
  }
  if (!next || !settings_->config.mail.enabled()) {
    sender_timer_.cancel();
    return;
  }
  if (sender_paused_until_ && *next < *sender_paused_until_) {
    next = *sender_paused_until_;
  }
  sender_timer_.expires_at(std::chrono::system_clock::time_point(*next));
  sender_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || stopped_) {
      return;
    }
    callbacks_.delivery_due();
  });
}

void Timers::arm_fetch(asio::system_timer& timer, const FetchPlan& plan) {
  const SysSeconds now = now_utc();
  const auto next = next_daily_run(now, plan.times, settings_->zone);
  if (!next) {
    return;
  }
  timer.expires_after(*next - now);  // as the review's timer
  timer.async_wait([this, &timer, plan](boost::system::error_code ec) {
    if (ec || stopped_) {
      return;
    }
    start_fetch(plan);
    arm_fetch(timer, plan);
  });
}

void Timers::start_fetch(const FetchPlan& plan) {
  const SysSeconds now = now_utc();
  auto run = std::make_unique<FetchRun>(io_, plan, now, local_date(now, settings_->zone));
  FetchRun* raw = run.get();
  fetch_runs_.push_back(std::move(run));
  raw->start([this, raw](const FetchOutcome& outcome) {
    callbacks_.fetched(outcome);
    std::erase_if(fetch_runs_, [raw](const auto& r) { return r.get() == raw; });
  });
}

void Timers::stop() noexcept {
  stopped_ = true;
  cancel_quietly(review_timer_);
  cancel_quietly(sender_timer_);
  for (auto& timer : fetch_timers_) {
    cancel_quietly(*timer);
  }
  for (auto& run : fetch_runs_) {
    run->cancel();
  }
}

}  // namespace service
