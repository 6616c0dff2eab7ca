#include "daemon/service.h"

#include <date/date.h>
#include <date/tz.h>
#include <fmt/format.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/system_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cstdlib>
#include <deque>
#include <sstream>
#include <utility>

#include "daemon/alerts.h"
#include "daemon/control.h"
#include "daemon/control/wire_json.h"
#include "daemon/engine.h"
#include "daemon/fetch.h"
#include "daemon/files.h"
#include "daemon/inbox_watch.h"
#include "daemon/mailer.h"
#include "daemon/metrics_http.h"
#include "daemon/notify.h"
#include "daemon/outbox.h"
#include "daemon/server.h"
#include "daemon/work/sender.h"
#include "ingest/ingest.h"
#include "storage/storage.h"

namespace service {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using std::chrono::duration_cast;
using std::chrono::seconds;

// How long the sender waits after a delivery round failed as a whole (e.g. the password file
// cannot be read), so that a due entry does not make it spin.
constexpr seconds kSenderRetry{60};

// `casewatch outbox` lists at most this many entries, newest first.
constexpr std::size_t kOutboxListLimit = 200;

// Everything built from one configuration file. Immutable; a running job keeps its own copy
// alive across a reload.
struct Settings {
  config::Config config;
  rules::Calendar calendar;
  const date::time_zone* zone = nullptr;
  WeeklySchedule review;
  std::vector<FetchPlan> fetches;
};

// Loads and validates everything a configuration needs. Throws config::ConfigError or
// std::runtime_error (an unknown time zone, a bad fetch time).
std::shared_ptr<const Settings> build_settings(const std::filesystem::path& file) {
  auto settings = std::make_shared<Settings>();
  settings->config = config::load_config(file);
  settings->calendar = config::load_calendar(settings->config);
  settings->zone = find_zone(settings->config.service.timezone);
  warn_if_calendar_ends_soon(settings->calendar, local_date(now_utc(), settings->zone));
  const auto& review = settings->config.review;
  settings->review = WeeklySchedule{review.weekday, TimeOfDay{review.hour, review.minute}};
  for (const auto& fetch : settings->config.fetches) {
    settings->fetches.push_back(make_fetch_plan(fetch, settings->config.service.inbox_dir()));
  }
  return settings;
}

std::string prometheus_label(std::string_view value) {
  std::string out;
  for (const char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// The open findings of every rule as the last ingest left them, read once per cycle with the
// job's own History on the pool thread, so that `status`, `findings` and `case` never rebuild
// them from SQLite on the loop thread (28,000 findings took 400 ms there).
struct OpenFindings {
  std::vector<std::pair<std::string, std::vector<rules::TrackedFinding>>> rules;  // config order
};

std::shared_ptr<OpenFindings> load_open_findings(const config::Config& config,
                                                 const storage::History& history) {
  auto out = std::make_shared<OpenFindings>();
  for (const auto& rule : config.rules.rules) {
    out->rules.emplace_back(rule.id, history.open_findings(rule.id));
  }
  return out;
}

// `findings` answers at most this many findings per reply (the rest by `offset`).
constexpr std::size_t kFindingsPageDefault = 1000;
constexpr std::size_t kFindingsPageMax = 10000;
// Cached `findings` answers kept between jobs (each is dropped when the next job finishes).
constexpr std::size_t kFindingsCacheEntries = 64;

// Audit rows are written off the loop thread in batches: when this many are waiting, or after
// kAuditDelay.
constexpr std::size_t kAuditBatch = 256;
constexpr std::chrono::milliseconds kAuditDelay{200};

// One unit of work for the pool: an ingest cycle, a weekly review or a mail delivery round.
struct Job {
  enum class Kind { kCycle, kReview, kDeliver };
  Kind kind = Kind::kCycle;
  DueReview review;  // kReview only
  // kCycle: the inbox files found ready (settled or renamed in) when the cycle was asked for;
  // a file that arrives later waits for the next cycle. nullopt = every waiting file (run-now).
  std::optional<std::set<std::filesystem::path>> ready;
};

struct JobResult {
  std::optional<CycleResult> cycle;
  std::optional<std::filesystem::path> review_folder;
  bool review_skipped = false;             // produced already (never twice)
  std::optional<AlertDecision> alerts;     // the alert cycle after an ingest or a review
  std::string alert_error;                 // why the alert cycle failed; empty when it did not
  std::vector<OutboxEntry> delivered;      // kDeliver: the entries tried, as updated
  std::shared_ptr<OpenFindings> findings;  // kCycle: the open findings after it
  std::string error;                       // empty when the job succeeded
};

// One alert cycle after an ingest or a review, with the job's own History. Its failure does not
// undo the job's work: it is reported apart (and the next job's cycle tries again).
void alert_cycle(Engine& engine, JobResult& result) {
  try {
    result.alerts = engine.run_alerts(now_utc());
  } catch (const std::exception& e) {
    result.alert_error = e.what();
  }
}

// Runs one job with its own History and Engine (on the pool thread). The scheduled-job catch
// site: a failure becomes JobResult::error, logged and recorded by the loop.
JobResult run_job(const Settings& settings, const Job& job, const std::atomic<bool>& stop) {
  JobResult result;
  try {
    storage::History history(settings.config.service.database_file());
    Engine engine(settings.config, settings.calendar, history);
    if (job.kind == Job::Kind::kCycle) {
      result.cycle = engine.run_cycle([&stop] { return stop.load(); },
                                      [&job](const std::filesystem::path& file) {
                                        return !job.ready || job.ready->contains(file);
                                      });
      // A stopping service needs neither: a restart reads the findings again, and the next
      // job runs the alert cycle.
      if (!stop.load()) {
        alert_cycle(engine, result);
        result.findings = load_open_findings(settings.config, history);
      }
    } else if (job.kind == Job::Kind::kReview) {
      const auto last = history.last_review_week();
      const auto last_week = last ? rules::parse_iso_week(*last) : std::nullopt;
      if (last_week && *last_week >= job.review.week) {
        result.review_skipped = true;
      } else {
        // Files, the review run and its mail (queued once per route and week) in one go.
        result.review_folder =
            engine.produce_review(job.review.week, job.review.today, job.review.late, now_utc());
        alert_cycle(engine, result);
      }
    } else if (settings.config.mail.enabled()) {
      SmtpMailer mailer(smtp_options(settings.config.mail, std::getenv("CREDENTIALS_DIRECTORY")));
      result.delivered =
          deliver(history, mailer, now_utc(), Deliver::kDue, [&stop] { return stop.load(); });
    }
  } catch (const std::exception& e) {
    result.error = e.what();
  }
  return result;
}

class Daemon {
 public:
  Daemon(asio::io_context& io, std::filesystem::path config_file,
         std::shared_ptr<const Settings> settings)
      : io_(io),
        config_file_(std::move(config_file)),
        settings_(std::move(settings)),
        history_(settings_->config.service.database_file()),
        engine_(std::make_unique<Engine>(settings_->config, settings_->calendar, history_)),
        signals_(io, SIGINT, SIGTERM, SIGHUP),
        review_timer_(io),
        outbox_timer_(io),
        audit_timer_(io),
        watchdog_timer_(io) {
    status_.started = now_utc();
    add_commands();
  }

  // Waits for the pool (a running job, then the audit batches posted to it), then writes what
  // audit rows are still waiting: a clean stop loses none silently.
  ~Daemon() {
    pool_.join();
    for (const auto& entry : audit_) {
      try {
        history_.audit(entry.uid, entry.command, entry.result, entry.at);
      } catch (const std::exception& e) {
        spdlog::error("cannot write the audit entry for a {} request: {}", entry.command, e.what());
      }
    }
  }

  void start() {
    const auto& service = settings_->config.service;
    policy_ = make_policy(settings_->config);
    ServerOptions options;
    options.socket = service.socket;
    options.group = service.socket_group;
    options.idle_timeout = service.idle_timeout;
    options.max_connections = service.max_connections;
    server_ = std::make_unique<ControlServer>(
        io_, options,
        [this](std::int64_t uid, std::int64_t gid, std::int64_t pid) {
          return identify(uid, gid, pid);
        },
        [this](std::string_view line, const Peer& peer) { return handle(line, peer); });
    server_->start();
    if (const auto& metrics = settings_->config.metrics; metrics.enabled()) {
      MetricsHttpOptions http;
      http.address = metrics.address;
      http.port = metrics.port;
      metrics_http_ = std::make_unique<MetricsHttpServer>(
          io_, http, [this] { return metrics_text(status_, now_utc()); });
      metrics_http_->start();
      spdlog::info("metrics on http://{}:{}/metrics", metrics.address, metrics_http_->port());
    }
    wait_signal();
    refresh_status();
    if (const auto due = review_due_at_startup(now_utc(), settings_->review, settings_->zone,
                                               history_.last_review_week())) {
      spdlog::info("the review of {} was missed while casewatchd was down: producing it late",
                   due->week.str());
      enqueue(Job{Job::Kind::kReview, *due});
    }
    arm_review();
    arm_fetches();
    arm_sender();
    inbox_ = std::make_unique<InboxWatch>(
        io_, service.inbox_dir(), service.settle, service.rescan,
        [this] {
          std::vector<std::filesystem::path> out;
          for (auto& file : ingest::scan_inbox(settings_->config.service.inbox_dir(),
                                               settings_->config.rules.sources)) {
            out.push_back(std::move(file.path));
          }
          checked_ = out;  // what the watch is about to judge ready or not
          return out;
        },
        [this] {
          // Exactly the files the watch found ready: one written after its check waits.
          request_cycle(std::set<std::filesystem::path>(checked_.begin(), checked_.end()));
        });
    inbox_->start();
    if (const auto interval = watchdog_interval()) arm_watchdog(*interval);
    notify_ready();
    notify_status("ready");
    spdlog::info("casewatchd {} ready on {}", CASEWATCH_VERSION, service.socket.string());
  }

  // Stops accepting, cancels the timers and lets a running job end after its current file.
  // io.run() then returns once the work has drained. Idempotent.
  void stop() noexcept {
    if (stopping_) return;
    stopping_ = true;
    stop_requested_ = true;
    notify_stopping();
    spdlog::info("stopping");
    if (server_) server_->stop();
    if (metrics_http_) metrics_http_->stop();
    if (inbox_) inbox_->stop();
    signals_.cancel();
    review_timer_.cancel();
    outbox_timer_.cancel();
    audit_timer_.cancel();
    watchdog_timer_.cancel();
    for (auto& timer : fetch_timers_) timer->cancel();
    for (auto& run : fetch_runs_) run->cancel();
    queue_.clear();
    flush_audit();
  }

  // Builds a whole new configuration and swaps it in only if valid. Returns the error when the
  // old configuration stays.
  std::optional<std::string> reload() {
    notify_reloading();
    std::optional<std::string> error;
    try {
      auto next = build_settings(config_file_);
      const auto& now_service = settings_->config.service;
      const auto& next_service = next->config.service;
      if (next_service.state_dir != now_service.state_dir ||
          next_service.socket != now_service.socket) {
        error = "changing service.state_dir or service.socket needs a restart";
      } else if (next->config.metrics.address != settings_->config.metrics.address ||
                 next->config.metrics.port != settings_->config.metrics.port) {
        error = "changing metrics.listen needs a restart";
      } else {
        const auto old = settings_;  // alive until the new engine is in place
        settings_ = std::move(next);
        engine_ = std::make_unique<Engine>(settings_->config, settings_->calendar, history_);
        policy_ = make_policy(settings_->config);
        findings_.reset();  // the rules may have changed: read again by refresh_status
        inbox_->set_timing(next_service.settle, next_service.rescan);
        arm_review();
        arm_fetches();
        arm_sender();
        refresh_status();
        inbox_->check();
      }
    } catch (const std::exception& e) {  // the reload catch site
      error = e.what();
    }
    notify_ready();
    if (error) {
      spdlog::error("reload failed, the previous configuration stays: {}", *error);
      notify_status("reload failed; running with the previous configuration");
    } else {
      spdlog::info("configuration reloaded from {}", config_file_.string());
      notify_status("configuration reloaded");
    }
    return error;
  }

 private:
  static AccessPolicy make_policy(const config::Config& config) {
    return AccessPolicy{static_cast<std::int64_t>(::getuid()),
                        group_id(config.service.socket_group),
                        group_id(config.service.admin_group)};
  }

  Peer identify(std::int64_t uid, std::int64_t gid, std::int64_t pid) const {
    Peer peer;
    peer.uid = uid;
    peer.gid = gid;
    peer.pid = pid;
    peer.user = user_name(uid);
    peer.permission = permission_for(uid, groups_of(uid, gid), policy_);
    return peer;
  }

  Reply handle(std::string_view line, const Peer& peer) {
    Reply reply = commands_.handle_line(line, peer);
    std::string command = reply.command;
    if (command.empty()) {
      command = peer.permission == Permission::kNone ? "(refused)" : "(invalid request)";
    }
    audit_.push_back(
        {peer.uid, std::move(command), static_cast<int>(reply.result), utc_text(now_utc())});
    if (audit_.size() >= kAuditBatch) {
      flush_audit();
    } else if (!audit_timer_armed_) {
      audit_timer_armed_ = true;
      audit_timer_.expires_after(kAuditDelay);
      audit_timer_.async_wait([this](boost::system::error_code) {
        audit_timer_armed_ = false;
        flush_audit();
      });
    }
    return reply;
  }

  // Hands the waiting audit rows to the pool thread, which writes them with its own History after
  // any running job (so never against a job's write transaction, and never on the loop thread:
  // each row is an fsync). Rows that fail come back to the front of the queue. One batch at a
  // time; what remains at the end is written by ~Daemon.
  void flush_audit() noexcept {
    if (audit_in_flight_ || audit_.empty()) return;
    audit_in_flight_ = true;
    std::vector<AuditEntry> batch(std::make_move_iterator(audit_.begin()),
                                  std::make_move_iterator(audit_.end()));
    audit_.clear();
    asio::post(pool_, [this, settings = settings_, batch = std::move(batch)]() mutable {
      std::size_t written = 0;
      try {
        if (!audit_history_) {
          audit_history_ =
              std::make_unique<storage::History>(settings->config.service.database_file());
        }
        std::vector<storage::History::AuditEntry> entries;
        entries.reserve(batch.size());
        for (const auto& e : batch) entries.push_back({e.uid, e.command, e.result, e.at});
        audit_history_->audit(entries);  // one transaction: all written or none
        written = batch.size();
      } catch (const std::exception& e) {
        spdlog::error("cannot write {} audit entries (kept, tried again): {}",
                      batch.size() - written, e.what());
      }
      batch.erase(batch.begin(), batch.begin() + static_cast<std::ptrdiff_t>(written));
      asio::post(io_, [this, rest = std::move(batch)]() mutable {
        audit_in_flight_ = false;
        audit_.insert(audit_.begin(), std::make_move_iterator(rest.begin()),
                      std::make_move_iterator(rest.end()));
        if (!audit_.empty() && !stopping_ && !audit_timer_armed_) {
          audit_timer_armed_ = true;
          audit_timer_.expires_after(rest.empty() ? kAuditDelay : std::chrono::seconds(5));
          audit_timer_.async_wait([this](boost::system::error_code) {
            audit_timer_armed_ = false;
            flush_audit();
          });
        }
      });
    });
  }

  void wait_signal() {
    signals_.async_wait([this](boost::system::error_code ec, int signal) {
      if (ec || stopping_) return;
      if (signal == SIGHUP) {
        spdlog::info("SIGHUP: reloading");
        reload();
        wait_signal();
      } else {
        spdlog::info("{}: shutting down", signal == SIGTERM ? "SIGTERM" : "SIGINT");
        stop();
      }
    });
  }

  void arm_watchdog(std::chrono::microseconds interval) {
    notify_watchdog();
    watchdog_timer_.expires_after(interval);
    watchdog_timer_.async_wait([this, interval](boost::system::error_code ec) {
      if (!ec && !stopping_) arm_watchdog(interval);
    });
  }

  void arm_review() {
    const SysSeconds next = next_weekly_run(now_utc(), settings_->review, settings_->zone);
    status_.next_review = next;
    review_timer_.expires_at(std::chrono::system_clock::time_point(next));
    review_timer_.async_wait([this, next](boost::system::error_code ec) {
      if (ec || stopping_) return;
      if (now_utc() >= next)
        enqueue(Job{Job::Kind::kReview, review_for_run(next, settings_->zone)});
      arm_review();
    });
  }

  // Arms the sender for the earliest pending outbox entry (at once when one is due). Delivery runs
  // on the pool, queued behind a running job; never on the loop thread (a send may block 120 s).
  // A scheduled-job catch site: a database failure is logged and the sender tries again later.
  void arm_sender() {
    if (stopping_) return;
    if (!settings_->config.mail.enabled()) {
      outbox_timer_.cancel();
      return;
    }
    std::optional<SysSeconds> next;
    try {
      next = history_.next_outbox_attempt();
    } catch (const std::exception& e) {
      spdlog::error("cannot read the outbox: {}", e.what());
      next = now_utc() + kSenderRetry;
    }
    if (!next) {
      outbox_timer_.cancel();
      return;
    }
    if (sender_paused_until_ && *next < *sender_paused_until_) next = *sender_paused_until_;
    outbox_timer_.expires_at(std::chrono::system_clock::time_point(*next));
    outbox_timer_.async_wait([this](boost::system::error_code ec) {
      if (ec || stopping_) return;
      request_delivery();
    });
  }

  void request_delivery() {
    if (stopping_) return;
    const bool queued = std::any_of(queue_.begin(), queue_.end(),
                                    [](const Job& job) { return job.kind == Job::Kind::kDeliver; });
    if (!queued) enqueue(Job{Job::Kind::kDeliver, {}});
  }

  void arm_fetches() {
    for (auto& timer : fetch_timers_) timer->cancel();
    fetch_timers_.clear();
    for (std::size_t i = 0; i < settings_->fetches.size(); ++i) {
      fetch_timers_.push_back(std::make_unique<asio::system_timer>(io_));
      arm_fetch(*fetch_timers_.back(), settings_->fetches[i]);
    }
  }

  void arm_fetch(asio::system_timer& timer, const FetchPlan& plan) {
    const auto next = next_daily_run(now_utc(), plan.times, settings_->zone);
    if (!next) return;
    timer.expires_at(std::chrono::system_clock::time_point(*next));
    timer.async_wait([this, &timer, plan](boost::system::error_code ec) {
      if (ec || stopping_) return;
      start_fetch(plan);
      arm_fetch(timer, plan);
    });
  }

  void start_fetch(const FetchPlan& plan) {
    const SysSeconds now = now_utc();
    const rules::Date today = local_date(now, settings_->zone);
    auto run = std::make_unique<FetchRun>(io_, plan, now, today);
    FetchRun* raw = run.get();
    fetch_runs_.push_back(std::move(run));
    raw->start([this, raw](const FetchOutcome& outcome) {
      record_fetch(outcome);
      std::erase_if(fetch_runs_, [raw](const auto& r) { return r.get() == raw; });
    });
  }

  void record_fetch(const FetchOutcome& outcome) {
    if (outcome.ok) {
      spdlog::info("fetch for {}: {}; {} is in the inbox", outcome.source, outcome.detail,
                   outcome.file);
    } else {
      spdlog::error("fetch for {} failed: {}", outcome.source, outcome.detail);
    }
    const std::string value = json::serialize(
        json::object{{"at", outcome.at}, {"ok", outcome.ok}, {"detail", outcome.detail}});
    pending_settings_.emplace_back("fetch/" + outcome.source, value);
    if (!job_running_) flush_settings();
    refresh_fetch_status();
  }

  void flush_settings() noexcept {
    while (!pending_settings_.empty()) {
      try {
        history_.set_setting(pending_settings_.front().first, pending_settings_.front().second);
      } catch (const std::exception& e) {
        spdlog::error("cannot record {}: {}", pending_settings_.front().first, e.what());
        return;
      }
      pending_settings_.pop_front();
    }
  }

  // Queues an ingest cycle for `ready` files (nullopt: all), merged into one already queued.
  void request_cycle(std::optional<std::set<std::filesystem::path>> ready = std::nullopt) {
    if (stopping_) return;
    for (auto& job : queue_) {
      if (job.kind != Job::Kind::kCycle) continue;
      if (!ready) {
        job.ready.reset();
      } else if (job.ready) {
        job.ready->insert(ready->begin(), ready->end());
      }
      return;
    }
    Job job{Job::Kind::kCycle, {}, std::move(ready)};
    enqueue(std::move(job));
  }

  void enqueue(Job job) {
    if (stopping_) return;
    queue_.push_back(std::move(job));
    start_next_job();
  }

  void start_next_job() {
    if (job_running_ || queue_.empty() || stopping_) return;
    Job job = queue_.front();
    queue_.pop_front();
    job_running_ = true;
    status_.cycle_running = job.kind == Job::Kind::kCycle;
    work_.emplace(io_.get_executor());
    notify_status(job.kind == Job::Kind::kCycle ? std::string("ingesting")
                  : job.kind == Job::Kind::kReview
                      ? "writing the review of " + job.review.week.str()
                      : std::string("delivering mail"));
    asio::post(pool_, [this, settings = settings_, job] {
      JobResult result = run_job(*settings, job, stop_requested_);
      // The loop needs only the counts: the findings lists are freed here, not on the loop.
      if (result.cycle) {
        for (auto& outcome : result.cycle->outcomes) {
          outcome.open = {};
          outcome.resolved = {};
        }
      }
      asio::post(io_, [this, job, result = std::move(result)]() mutable {
        job_done(job, std::move(result));
      });
    });
  }

  void job_done(const Job& job, JobResult result) {
    job_running_ = false;
    status_.cycle_running = false;
    sender_paused_until_.reset();
    if (!result.error.empty()) {
      if (job.kind == Job::Kind::kCycle) {
        ++status_.cycle_failures;
        status_.last_cycle_error = result.error;
        spdlog::error("ingest cycle failed (retried at the next rescan): {}", result.error);
      } else if (job.kind == Job::Kind::kReview) {
        spdlog::error("the review of {} failed: {}", job.review.week.str(), result.error);
      } else {
        sender_paused_until_ = now_utc() + kSenderRetry;
        spdlog::error("mail delivery failed (tried again in {} s): {}", kSenderRetry.count(),
                      result.error);
      }
    } else if (job.kind == Job::Kind::kDeliver) {
      log_delivery(result.delivered);
    } else if (result.cycle) {
      if (result.findings) set_findings(std::move(result.findings));
      ++status_.cycles;
      status_.last_cycle_error.reset();
      // The engine logs each file it handled.
    } else if (result.review_skipped) {
      spdlog::info("the review of {} was produced already", job.review.week.str());
    } else if (result.review_folder) {
      spdlog::info("review of {}{} written to {}", job.review.week.str(),
                   job.review.late ? " (late)" : "", result.review_folder->string());
    }
    if (!result.alert_error.empty()) {
      spdlog::error("the alert cycle failed (tried again after the next job): {}",
                    result.alert_error);
    } else if (result.alerts) {
      log_alerts(*result.alerts);
    }
    flush_audit();
    flush_settings();
    refresh_status();
    notify_status(status_line());
    arm_sender();  // the job may have queued mail, or delivered some
    if (stopping_) {
      work_.reset();
      return;
    }
    start_next_job();
    // New files may have arrived meanwhile; after a failure the rescan tries again instead.
    if (!job_running_ && job.kind == Job::Kind::kCycle && result.error.empty()) inbox_->check();
    if (!job_running_) work_.reset();
  }

  // Counts only: recipients and subjects stay out of the log (a subject names no child, but the
  // log is read more widely than the outbox).
  static void log_delivery(const std::vector<OutboxEntry>& entries) {
    int sent = 0;
    int failed = 0;
    int retrying = 0;
    for (const auto& entry : entries) {
      if (entry.state == OutboxState::kSent) {
        ++sent;
      } else if (entry.state == OutboxState::kFailed) {
        ++failed;
        spdlog::error("outbox entry {} failed for good: {}", entry.id, entry.last_error);
      } else if (entry.state == OutboxState::kPending) {
        ++retrying;
        spdlog::warn("outbox entry {} not delivered (attempt {}), retried later: {}", entry.id,
                     entry.attempts, entry.last_error);
      }
    }
    if (!entries.empty()) {
      spdlog::info("mail: {} sent, {} to retry, {} failed", sent, retrying, failed);
    }
  }

  // Fingerprints can hold a case key: the log says what kind of alert changed, not which case.
  static void log_alerts(const AlertDecision& decision) {
    for (const auto& notice : decision.notices) {
      spdlog::info("alert {} ({}): {}", to_string(notice.kind),
                   to_string(notice.alert.condition.kind), notice.alert.condition.summary);
    }
  }

  std::string status_line() const {
    int open = 0;
    for (const auto& rule : status_.rules) open += rule.open;
    return fmt::format("{} open findings; {} cycles, {} failed", open, status_.cycles,
                       status_.cycle_failures);
  }

  // Re-reads what `status` and `metrics` report (after start-up, each job and each reload).
  // A scheduled job's catch site: a database failure is logged and the old figures stay.
  void refresh_status() noexcept {
    try {
      std::vector<StatusSnapshot::SourceStatus> sources;
      for (const auto& source : settings_->config.rules.sources) {
        StatusSnapshot::SourceStatus entry;
        entry.name = source.name;
        if (const auto latest = history_.latest_extract(source.name)) {
          entry.file = latest->file;
          entry.as_of = latest->as_of;
          entry.rows = latest->rows;
          entry.handled_at = parse_utc(latest->handled_at);
        }
        sources.push_back(std::move(entry));
      }
      if (!findings_) set_findings(load_open_findings(settings_->config, history_));
      std::vector<StatusSnapshot::RuleStatus> rule_status;
      for (const auto& [rule_id, open] : findings_->rules) {
        StatusSnapshot::RuleStatus entry;
        entry.rule = rule_id;
        for (const auto& tracked : open) {
          ++entry.open;
          if (tracked.status == rules::FindingStatus::kNew) ++entry.new_findings;
          auto band = std::find_if(entry.bands.begin(), entry.bands.end(),
                                   [&](const auto& b) { return b.first == tracked.finding.band; });
          if (band == entry.bands.end()) {
            entry.bands.emplace_back(tracked.finding.band, 1);
          } else {
            ++band->second;
          }
        }
        rule_status.push_back(std::move(entry));
      }
      status_.sources = std::move(sources);
      status_.rules = std::move(rule_status);
      status_.last_review_week = history_.last_review_week();
    } catch (const std::exception& e) {
      spdlog::error("cannot read the status from the database: {}", e.what());
    }
    refresh_fetch_status();
  }

  void refresh_fetch_status() noexcept {
    try {
      std::vector<StatusSnapshot::FetchStatus> fetches;
      for (const auto& fetch : settings_->config.fetches) {
        StatusSnapshot::FetchStatus entry;
        entry.source = fetch.source;
        std::optional<std::string> stored;
        for (const auto& [name, value] : pending_settings_) {
          if (name == "fetch/" + fetch.source) stored = value;
        }
        if (!stored) stored = history_.setting("fetch/" + fetch.source);
        if (stored) {
          const json::value parsed = json::parse(*stored);
          entry.at = json::value_to<std::string>(parsed.at("at"));
          entry.ok = parsed.at("ok").as_bool();
          entry.detail = json::value_to<std::string>(parsed.at("detail"));
        }
        fetches.push_back(std::move(entry));
      }
      status_.fetches = std::move(fetches);
    } catch (const std::exception& e) {
      spdlog::error("cannot read the fetch results: {}", e.what());
    }
  }

  rules::Date today() const { return local_date(now_utc(), settings_->zone); }

  void add_commands() {
    commands_.add("version-get", Permission::kRead, [](const Request&, const Peer&) {
      return Answer{ResultCode::kSuccess, fmt::format("casewatch {}", CASEWATCH_VERSION),
                    json::object{{"version", CASEWATCH_VERSION}, {"protocol", kProtocolVersion}}};
    });
    commands_.add("status", Permission::kRead, [this](const Request&, const Peer&) {
      const SysSeconds now = now_utc();
      return Answer{ResultCode::kSuccess,
                    fmt::format("casewatchd {} up {} s; {}", CASEWATCH_VERSION,
                                (now - status_.started).count(), status_line()),
                    status_json(status_, now, today())};
    });
    commands_.add("findings", Permission::kRead,
                  [this](const Request& request, const Peer&) { return findings(request); });
    commands_.add("case", Permission::kRead,
                  [this](const Request& request, const Peer&) { return case_of(request); });
    commands_.add("review", Permission::kRead,
                  [this](const Request& request, const Peer&) { return review(request); });
    // A consistent copy of the database (SQLite's online backup API, on its own connection:
    // it reads one snapshot while jobs keep writing). A bare or relative name goes into
    // <state_dir>/backups/, the one place under the unit's ProtectSystem=strict the service may
    // write besides its state. Runs on the loop thread: the socket waits for the copy.
    commands_.add("backup", Permission::kWrite, [this](const Request& request, const Peer&) {
      const auto file = string_argument(request, "file");
      if (!file || file->empty()) return Answer{ResultCode::kError, "backup needs a file", nullptr};
      std::filesystem::path target(*file);
      if (target.is_relative()) {
        const auto folder = settings_->config.service.state_dir / "backups";
        make_private_dir(folder);
        target = folder / target;
      }
      const auto copied =
          storage::backup_database(settings_->config.service.database_file(), target);
      spdlog::info("backup of the database written to {} ({} bytes)", target.string(),
                   copied.bytes);
      return Answer{ResultCode::kSuccess,
                    fmt::format("backup written to {} ({} bytes, schema version {}; PRAGMA "
                                "integrity_check ok)",
                                target.string(), copied.bytes, copied.schema_version),
                    json::object{{"file", target.string()},
                                 {"bytes", copied.bytes},
                                 {"schema_version", copied.schema_version}}};
    });
    commands_.add("note", Permission::kWrite, [this](const Request& request, const Peer& peer) {
      const auto rule = string_argument(request, "rule");
      const auto key = string_argument(request, "key");
      const auto text = string_argument(request, "text");
      if (!rule || !key || !text || text->empty()) {
        return Answer{ResultCode::kError, "note needs rule, key and text", nullptr};
      }
      const rules::Note note{*text, peer.user, utc_text(now_utc())};
      if (!history_.add_note(*rule, *key, note)) {
        return Answer{ResultCode::kError,
                      fmt::format("no open finding of rule '{}' for key '{}'", *rule, *key),
                      nullptr};
      }
      if (findings_) {
        for (auto& [rule_id, open] : findings_->rules) {
          if (rule_id != *rule) continue;
          for (auto& tracked : open) {
            if (tracked.finding.key == *key) tracked.latest_note = note;
          }
        }
      }
      findings_cache_.clear();
      return Answer{ResultCode::kSuccess,
                    fmt::format("note recorded on {} {} by {}", *rule, *key, peer.user), nullptr};
    });
    commands_.add("run-now", Permission::kWrite, [this](const Request&, const Peer&) {
      const bool busy = job_running_;
      request_cycle();
      return Answer{
          ResultCode::kSuccess,
          busy ? "a job is running; an ingest cycle will follow it" : "ingest cycle started",
          nullptr};
    });
    commands_.add("reload", Permission::kWrite, [this](const Request&, const Peer&) {
      if (const auto error = reload()) {
        return Answer{ResultCode::kError,
                      fmt::format("reload failed, the previous configuration stays: {}", *error),
                      nullptr};
      }
      return Answer{ResultCode::kSuccess, "configuration reloaded", nullptr};
    });
    commands_.add("alerts", Permission::kRead,
                  [this](const Request&, const Peer&) { return alerts(); });
    commands_.add("silence", Permission::kWrite, [this](const Request& request, const Peer& peer) {
      return silence(request, peer);
    });
    commands_.add(
        "unsilence", Permission::kWrite, [this](const Request& request, const Peer& peer) {
          const auto id = id_argument(request, "id");
          if (!id) return Answer{ResultCode::kError, "unsilence needs an id", nullptr};
          if (!history_.end_silence(*id)) {
            return Answer{ResultCode::kError, fmt::format("no active silence {}", *id), nullptr};
          }
          spdlog::info("silence {} ended by {}", *id, peer.user);
          return Answer{ResultCode::kSuccess, fmt::format("silence {} ended by {}", *id, peer.user),
                        nullptr};
        });
    commands_.add("outbox", Permission::kRead,
                  [this](const Request& request, const Peer&) { return outbox(request); });
    commands_.add("outbox-retry", Permission::kWrite,
                  [this](const Request& request, const Peer& peer) {
                    return outbox_change(request, peer, /*retry=*/true);
                  });
    commands_.add("outbox-cancel", Permission::kWrite,
                  [this](const Request& request, const Peer& peer) {
                    return outbox_change(request, peer, /*retry=*/false);
                  });
    commands_.add("metrics", Permission::kRead, [this](const Request&, const Peer&) {
      return Answer{ResultCode::kSuccess, metrics_text(status_, now_utc()), nullptr};
    });
    commands_.add("shutdown", Permission::kWrite, [this](const Request&, const Peer& peer) {
      spdlog::info("shutdown requested by {}", peer.user);
      stop();
      return Answer{ResultCode::kSuccess, "shutting down", nullptr};
    });
  }

  const rules::Rule& rule_named(const std::string& id) const {
    const rules::Rule* rule = settings_->config.rules.find_rule(id);
    if (rule == nullptr) throw std::invalid_argument(fmt::format("unknown rule '{}'", id));
    return *rule;
  }

  rules::RuleKind kind_of(const std::string& rule_id) const {
    const rules::Rule* rule = settings_->config.rules.find_rule(rule_id);
    return rule != nullptr ? rule->kind : rules::RuleKind::kUnallocated;
  }

  void set_findings(std::shared_ptr<OpenFindings> findings) {
    // The old snapshot (tens of thousands of findings) is freed on the pool, after any job.
    if (findings_) asio::post(pool_, [old = std::move(findings_)] {});
    findings_ = std::move(findings);
    findings_cache_.clear();
  }

  // `findings` (filters rule, team, band, status; paging offset and limit, default 1000, at most
  // 10000) from the open-findings snapshot. Answers are cached, serialized, per filters and page
  // until the next job finishes (or a note changes one).
  Answer findings(const Request& request) {
    const auto rule = string_argument(request, "rule");
    const auto team = string_argument(request, "team");
    const auto band = string_argument(request, "band");
    const auto status = string_argument(request, "status");
    if (status && *status != "new" && *status != "carried") {
      throw std::invalid_argument(fmt::format("status '{}' is not one of new, carried", *status));
    }
    const std::size_t offset = static_cast<std::size_t>(id_argument(request, "offset").value_or(0));
    const auto limit_argument = id_argument(request, "limit");
    if (limit_argument &&
        (*limit_argument < 1 || *limit_argument > static_cast<std::int64_t>(kFindingsPageMax))) {
      throw std::invalid_argument(fmt::format("limit must be 1 to {}", kFindingsPageMax));
    }
    const std::size_t limit =
        limit_argument ? static_cast<std::size_t>(*limit_argument) : kFindingsPageDefault;
    const std::string rule_id = rule ? rule_named(*rule).id : std::string();
    const std::string cache_key = fmt::format(
        "{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}", rule_id, team.has_value(),
        team.value_or(""), band.has_value(), band.value_or(""), status.value_or(""), offset, limit);
    if (const auto cached = findings_cache_.find(cache_key); cached != findings_cache_.end()) {
      return cached->second;
    }
    if (!findings_) set_findings(load_open_findings(settings_->config, history_));
    json::array list;
    std::size_t total = 0;
    for (const auto& [id, open] : findings_->rules) {
      if (rule && id != rule_id) continue;
      for (const auto& tracked : open) {
        if (team && tracked.finding.team != *team) continue;
        if (band && tracked.finding.band != *band) continue;
        if (status && rules::to_string(tracked.status) != *status) continue;
        if (total >= offset && total - offset < limit)
          list.push_back(finding_json(tracked, kind_of(id)));
        ++total;
      }
    }
    const std::size_t count = list.size();
    json::object arguments{{"findings", std::move(list)}};
    std::string text;
    if (total == 0) {
      text = "no findings";
    } else if (count == total) {
      text = fmt::format("{} finding{}", total, total == 1 ? "" : "s");
    } else {
      // A capped answer says so, and how to get the rest.
      arguments["total"] = total;
      arguments["offset"] = offset;
      arguments["limit"] = limit;
      text = fmt::format("findings {} to {} of {}", count == 0 ? offset : offset + 1,
                         offset + count, total);
      if (offset + count < total) {
        arguments["next_offset"] = offset + count;
        text += fmt::format("; the next page from offset {}", offset + count);
      }
    }
    Answer answer{count == 0 ? ResultCode::kEmpty : ResultCode::kSuccess, std::move(text), nullptr};
    answer.serialized_arguments = std::make_shared<const std::string>(json::serialize(arguments));
    if (findings_cache_.size() >= kFindingsCacheEntries) findings_cache_.clear();
    findings_cache_.emplace(cache_key, answer);
    return answer;
  }

  Answer case_of(const Request& request) {
    const auto key = string_argument(request, "key");
    if (!key || key->empty()) return Answer{ResultCode::kError, "case needs a key", nullptr};
    const rules::Date first = *rules::Date::from_ymd(1, 1, 1);
    const rules::Date last = *rules::Date::from_ymd(9999, 12, 31);
    json::array open;
    json::array resolved;
    if (!findings_) findings_ = load_open_findings(settings_->config, history_);
    for (const auto& [rule_id, tracked_list] : findings_->rules) {
      for (const auto& tracked : tracked_list) {
        if (tracked.finding.key == *key) open.push_back(finding_json(tracked, kind_of(rule_id)));
      }
    }
    for (const auto& rule : settings_->config.rules.rules) {
      for (const auto& gone : history_.resolved_between(rule.id, first, last)) {
        if (gone.last.key == *key) resolved.push_back(resolved_json(gone));
      }
    }
    json::array records;
    for (const auto& source : settings_->config.rules.sources) {
      for (const auto& version : history_.record_history(source.name, *key)) {
        json::object values;
        for (std::size_t i = 0; i < source.fields.size() && i < version.record.values.size(); ++i) {
          values[source.fields[i].name] = version.record.values[i];
        }
        records.push_back(json::object{{"source", source.name},
                                       {"valid_from", version.valid_from.iso()},
                                       {"valid_to", date_or_null(version.valid_to)},
                                       {"values", std::move(values)}});
      }
    }
    if (open.empty() && resolved.empty() && records.empty()) {
      return Answer{ResultCode::kEmpty, fmt::format("no case '{}'", *key), nullptr};
    }
    const std::string text =
        fmt::format("{}: {} open finding{}, {} resolved, {} record version{}", *key, open.size(),
                    open.size() == 1 ? "" : "s", resolved.size(), records.size(),
                    records.size() == 1 ? "" : "s");
    return Answer{ResultCode::kSuccess, text,
                  json::object{{"key", *key},
                               {"findings", std::move(open)},
                               {"resolved", std::move(resolved)},
                               {"records", std::move(records)}}};
  }

  Answer review(const Request& request) const {
    const auto week_text = string_argument(request, "week");
    const std::string format = string_argument(request, "format").value_or("text");
    const rules::Date now = today();
    rules::IsoWeek week = rules::iso_week(now);
    if (week_text) {
      const auto parsed = rules::parse_iso_week(*week_text);
      if (!parsed) {
        return Answer{ResultCode::kError,
                      fmt::format("week '{}' is not an ISO week like 2026-W47", *week_text),
                      nullptr};
      }
      week = *parsed;
    }
    // A past week is rendered as of its Sunday, the current one as of today.
    const rules::Date as_of = week < rules::iso_week(now) ? week.sunday() : now;
    return Answer{ResultCode::kSuccess, engine_->render_review(week, as_of, format),
                  json::object{{"week", week.str()}, {"format", format}}};
  }

  Answer alerts() const {
    const auto states = history_.alert_states();
    const auto silences = history_.silences();
    const auto firing = std::count_if(states.begin(), states.end(), [](const AlertState& a) {
      return a.status == AlertStatus::kFiring;
    });
    if (states.empty() && silences.empty()) {
      return Answer{ResultCode::kEmpty, "no alerts", alerts_json(states, silences)};
    }
    return Answer{ResultCode::kSuccess,
                  fmt::format("{} firing, {} resolved; {} active silence{}", firing,
                              states.size() - static_cast<std::size_t>(firing), silences.size(),
                              silences.size() == 1 ? "" : "s"),
                  alerts_json(states, silences)};
  }

  // `silence`: rule (a rule id, a source name or a mail recipient: what alerts name as their
  // subject), optional scope (a case key or a team), reason, and expires: a date (the silence
  // ends at the start of that day in the service time zone) or "until-resolved".
  Answer silence(const Request& request, const Peer& peer) {
    const auto rule = string_argument(request, "rule");
    const std::string scope = string_argument(request, "scope").value_or("");
    const auto reason = string_argument(request, "reason");
    const auto expires = string_argument(request, "expires");
    if (!rule || rule->empty() || !reason || reason->empty() || !expires) {
      return Answer{ResultCode::kError,
                    "silence needs rule, reason and expires (a date like 2026-12-01 or "
                    "until-resolved)",
                    nullptr};
    }
    const auto& rules_config = settings_->config.rules;
    const bool known = rules_config.find_rule(*rule) != nullptr ||
                       std::any_of(rules_config.sources.begin(), rules_config.sources.end(),
                                   [&](const auto& s) { return s.name == *rule; }) ||
                       rule->find('@') != std::string::npos;
    if (!known) {
      return Answer{ResultCode::kError,
                    fmt::format("'{}' is not a rule, a source or a mail recipient", *rule),
                    nullptr};
    }
    const SysSeconds now = now_utc();
    Silence silence;
    silence.rule = *rule;
    silence.scope = scope;
    silence.reason = *reason;
    silence.who = fmt::format("{} (uid {})", peer.user, peer.uid);
    silence.created = now;
    std::string until = "its alerts resolve";
    if (*expires != "until-resolved") {
      const auto day = rules::Date::parse_iso(*expires);
      if (!day) {
        return Answer{
            ResultCode::kError,
            fmt::format("expires '{}' is not a date like 2026-12-01 or until-resolved", *expires),
            nullptr};
      }
      const SysSeconds end = at_local(*day, TimeOfDay{0, 0}, settings_->zone);
      if (end <= now) {
        return Answer{ResultCode::kError,
                      fmt::format("expires {} is not in the future", day->iso()), nullptr};
      }
      silence.expires = end;
      until = day->iso();
    }
    const std::int64_t id = history_.add_silence(silence);
    spdlog::info("silence {} added by {}", id, peer.user);
    return Answer{ResultCode::kSuccess,
                  fmt::format("silence {} on {}{} until {}, by {}", id, *rule,
                              scope.empty() ? "" : " (" + scope + ")", until, silence.who),
                  json::object{{"id", id}}};
  }

  Answer outbox(const Request& request) const {
    std::optional<OutboxState> state;
    if (const auto text = string_argument(request, "state")) {
      for (const auto candidate : {OutboxState::kPending, OutboxState::kSent, OutboxState::kFailed,
                                   OutboxState::kCancelled}) {
        if (to_string(candidate) == *text) state = candidate;
      }
      if (!state) {
        return Answer{
            ResultCode::kError,
            fmt::format("state '{}' is not one of pending, sent, failed, cancelled", *text),
            nullptr};
      }
    }
    const auto entries = history_.outbox(state, kOutboxListLimit);
    const std::size_t count = entries.size();
    return Answer{count == 0 ? ResultCode::kEmpty : ResultCode::kSuccess,
                  count == 0 ? std::string("the outbox is empty")
                  : count == kOutboxListLimit
                      ? fmt::format("the newest {} entries", count)
                      : fmt::format("{} entr{}", count, count == 1 ? "y" : "ies"),
                  json::object{{"entries", outbox_json(entries)}}};
  }

  Answer outbox_change(const Request& request, const Peer& peer, bool retry) {
    const auto id = id_argument(request, "id");
    const char* verb = retry ? "outbox-retry" : "outbox-cancel";
    if (!id) return Answer{ResultCode::kError, fmt::format("{} needs an id", verb), nullptr};
    const auto before = history_.outbox_entry(*id);
    if (!before) return Answer{ResultCode::kError, fmt::format("no outbox entry {}", *id), nullptr};
    const auto after =
        retry ? outbox_retry(history_, *id, now_utc()) : outbox_cancel(history_, *id);
    if (!after) return Answer{ResultCode::kError, fmt::format("no outbox entry {}", *id), nullptr};
    if (after->state == before->state && after->next_attempt == before->next_attempt) {
      return Answer{ResultCode::kError,
                    fmt::format("outbox entry {} is {}: unchanged", *id, to_string(after->state)),
                    nullptr};
    }
    spdlog::info("outbox entry {} {} by {}", *id, retry ? "retried" : "cancelled", peer.user);
    if (retry) arm_sender();
    return Answer{ResultCode::kSuccess,
                  fmt::format("outbox entry {} is {}", *id, to_string(after->state)),
                  json::object{{"entries", outbox_json({*after})}}};
  }

  struct AuditEntry {
    std::int64_t uid = 0;
    std::string command;
    int result = 0;
    std::string at;
  };

  asio::io_context& io_;
  std::filesystem::path config_file_;
  std::shared_ptr<const Settings> settings_;
  storage::History history_;                         // the loop thread's; jobs open their own
  std::unique_ptr<storage::History> audit_history_;  // the pool thread's, for audit batches
  std::shared_ptr<OpenFindings> findings_;           // null until read
  std::map<std::string, Answer, std::less<>> findings_cache_;
  std::unique_ptr<Engine> engine_;
  asio::thread_pool pool_{1};
  std::atomic<bool> stop_requested_{false};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  asio::signal_set signals_;
  asio::system_timer review_timer_;
  asio::system_timer outbox_timer_;  // the sender: the earliest pending entry's next attempt
  std::optional<SysSeconds> sender_paused_until_;  // after a delivery job failed
  asio::steady_timer audit_timer_;
  bool audit_timer_armed_ = false;
  bool audit_in_flight_ = false;
  asio::steady_timer watchdog_timer_;
  std::vector<std::unique_ptr<asio::system_timer>> fetch_timers_;
  std::vector<std::unique_ptr<FetchRun>> fetch_runs_;
  CommandTable commands_;
  AccessPolicy policy_;
  std::unique_ptr<ControlServer> server_;
  std::unique_ptr<MetricsHttpServer> metrics_http_;  // [metrics] listen, when set
  std::unique_ptr<InboxWatch> inbox_;
  std::vector<std::filesystem::path> checked_;  // the inbox files the watch last judged
  StatusSnapshot status_;
  std::deque<Job> queue_;
  std::deque<AuditEntry> audit_;
  std::deque<std::pair<std::string, std::string>> pending_settings_;
  bool job_running_ = false;
  bool stopping_ = false;
};

}  // namespace

json::object status_json(const StatusSnapshot& status, SysSeconds now, rules::Date today) {
  json::array sources;
  for (const auto& source : status.sources) {
    json::object entry{{"source", source.name}};
    if (source.file.empty()) {
      entry["file"] = nullptr;
    } else {
      entry["file"] = source.file;
      entry["as_of"] = date_or_null(source.as_of);
      entry["rows"] = source.rows;
      if (source.as_of) entry["age_days"] = today - *source.as_of;
    }
    sources.push_back(std::move(entry));
  }
  json::array rule_list;
  for (const auto& rule : status.rules) {
    json::object bands;
    for (const auto& [band, count] : rule.bands) bands[band] = count;
    rule_list.push_back(json::object{{"rule", rule.rule},
                                     {"open", rule.open},
                                     {"new", rule.new_findings},
                                     {"bands", std::move(bands)}});
  }
  json::array fetches;
  for (const auto& fetch : status.fetches) {
    json::object entry{{"source", fetch.source}};
    if (fetch.at.empty()) {
      entry["last_run"] = nullptr;
    } else {
      entry["last_run"] = fetch.at;
      entry["ok"] = fetch.ok;
      entry["detail"] = fetch.detail;
    }
    fetches.push_back(std::move(entry));
  }
  json::object out{
      {"sources", std::move(sources)},          {"rules", std::move(rule_list)},
      {"fetches", std::move(fetches)},          {"uptime_seconds", (now - status.started).count()},
      {"cycle_running", status.cycle_running},  {"cycles", status.cycles},
      {"cycle_failures", status.cycle_failures}};
  out["next_review"] =
      status.next_review ? json::value(utc_text(*status.next_review)) : json::value(nullptr);
  out["last_review_week"] =
      status.last_review_week ? json::value(*status.last_review_week) : json::value(nullptr);
  out["last_cycle_error"] =
      status.last_cycle_error ? json::value(*status.last_cycle_error) : json::value(nullptr);
  return out;
}

std::string metrics_text(const StatusSnapshot& status, SysSeconds now) {
  std::string out;
  const auto header = [&](std::string_view name, std::string_view help, std::string_view type) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  };
  header("casewatch_up", "Whether casewatchd is running.", "gauge");
  out += "casewatch_up 1\n";
  header("casewatch_uptime_seconds", "Seconds since casewatchd started.", "gauge");
  out += fmt::format("casewatch_uptime_seconds {}\n", (now - status.started).count());
  header("casewatch_findings", "Open findings per rule and band.", "gauge");
  for (const auto& rule : status.rules) {
    for (const auto& [band, count] : rule.bands) {
      out += fmt::format("casewatch_findings{{rule=\"{}\",band=\"{}\"}} {}\n",
                         prometheus_label(rule.rule), prometheus_label(band), count);
    }
  }
  header("casewatch_findings_open", "Open findings per rule.", "gauge");
  for (const auto& rule : status.rules) {
    out += fmt::format("casewatch_findings_open{{rule=\"{}\"}} {}\n", prometheus_label(rule.rule),
                       rule.open);
  }
  header("casewatch_extract_age_seconds", "Seconds since the latest extract was ingested.",
         "gauge");
  for (const auto& source : status.sources) {
    if (!source.handled_at) continue;
    out += fmt::format("casewatch_extract_age_seconds{{source=\"{}\"}} {}\n",
                       prometheus_label(source.name), (now - *source.handled_at).count());
  }
  header("casewatch_extract_rows", "Rows of the latest extract.", "gauge");
  for (const auto& source : status.sources) {
    if (source.file.empty()) continue;
    out += fmt::format("casewatch_extract_rows{{source=\"{}\"}} {}\n",
                       prometheus_label(source.name), source.rows);
  }
  header("casewatch_ingest_cycles_total", "Ingest cycles completed.", "counter");
  out += fmt::format("casewatch_ingest_cycles_total {}\n", status.cycles);
  header("casewatch_ingest_failures_total", "Ingest cycles that failed.", "counter");
  out += fmt::format("casewatch_ingest_failures_total {}\n", status.cycle_failures);
  header("casewatch_fetch_ok", "Whether the last fetch of a source succeeded.", "gauge");
  for (const auto& fetch : status.fetches) {
    if (fetch.at.empty()) continue;
    out += fmt::format("casewatch_fetch_ok{{source=\"{}\"}} {}\n", prometheus_label(fetch.source),
                       fetch.ok ? 1 : 0);
  }
  return out;
}

int run_service(const std::filesystem::path& config_file) {
  auto settings = build_settings(config_file);  // throws config::ConfigError
  prepare_state_dir(settings->config);
  asio::io_context io;
  Daemon daemon(io, config_file, std::move(settings));
  daemon.start();
  io.run();  // returns when stop() has let all work drain
  spdlog::info("stopped");
  return EXIT_SUCCESS;
}

}  // namespace service
