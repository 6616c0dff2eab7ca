#include "daemon/service.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <utility>

#include "daemon/audit.h"
#include "daemon/cancel.h"
#include "daemon/clock.h"
#include "daemon/control/command_table.h"
#include "daemon/control/commands.h"
#include "daemon/control/findings_view.h"
#include "daemon/control/server.h"
#include "daemon/dispatch.h"
#include "daemon/inbox_watch.h"
#include "daemon/jobs.h"
#include "daemon/metrics_http.h"
#include "daemon/notify.h"
#include "daemon/reader.h"
#include "daemon/settings.h"
#include "daemon/status.h"
#include "daemon/timers.h"
#include "daemon/work/engine.h"
#include "ingest/ingest.h"
#include "storage/storage.h"

namespace service {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;

// How long the sender waits after a delivery round failed as a whole (e.g. the password file
// cannot be read), so that a due entry does not make it spin.
constexpr std::chrono::seconds kSenderRetry{60};

// The service as wiring: it owns the parts, connects their callbacks, and keeps the lifecycle
// (start, stop, reload, signals, the systemd watchdog and the lifecycle commands).
class Daemon {
 public:
  Daemon(asio::io_context& io, std::filesystem::path config_file,
         std::shared_ptr<const Settings> settings)
      : io_(io),
        config_file_(std::move(config_file)),
        settings_(std::move(settings)),
        database_file_(settings_->config.service.database_file()),
        history_(settings_->config.service.database_file()),
        jobs_(
            io, [this](const Job& job) { return start_job(job); },
            [this](const Job& job, JobResult& result) { job_done(job, result); },
            [this](const Job& job, const JobResult& result) { jobs_idle(job, result); }),
        audit_(io, jobs_, settings_->config.service.database_file()),
        status_(now_utc()),
        timers_(io, Timers::Callbacks{[this](const DueReview& due) {
                                        jobs_.enqueue(Job{Job::Kind::kReview, due, {}});
                                      },
                                      [this] { jobs_.request_delivery(); },
                                      [this](const FetchOutcome& outcome) { fetched(outcome); }}),
        findings_(history_),
        signals_(io, SIGINT, SIGTERM, SIGHUP),
        watchdog_timer_(io) {
    findings_.reconfigure(settings_);
    add_commands(
        commands_, lifecycle_commands(),
        CommandParts{findings_, [this] { return settings_; }, [this] { sender_due_now(); }});
  }

  // Waits for the reader and the pool (a running job, then the audit batches posted to it), then
  // writes what audit rows are still waiting: a clean stop loses none silently.
  ~Daemon() {
    reader_.join();
    jobs_.join();
    audit_.write_rest(history_);
  }

  void start() {
    const auto& service = settings_->config.service;
    policy_ = make_policy(settings_->config);
    ServerOptions options;
    options.socket = service.socket;
    options.group = service.socket_group;
    options.idle_timeout = service.idle_timeout;
    options.max_connections = service.max_connections;
    // One uid may hold a quarter of the sessions; administrators have 4 more slots of their own.
    options.max_per_uid = std::max(1, service.max_connections / 4);
    options.admin_reserve = 4;
    server_ = std::make_unique<ControlServer>(
        io_, options,
        [this](std::int64_t uid, std::int64_t gid, std::int64_t pid) {
          return identify(uid, gid, pid);
        },
        [this](std::string_view line, const Peer& peer) { return handle(line, peer); });
    server_->on_refused([this](const Peer& peer) {
      audit_.record(peer.uid, "(refused)", static_cast<int>(ResultCode::kError), now_utc());
    });
    server_->start();
    if (const auto& metrics = settings_->config.metrics; metrics.enabled()) {
      MetricsHttpOptions http;
      http.address = metrics.address;
      http.port = metrics.port;
      metrics_http_ = std::make_unique<MetricsHttpServer>(
          io_, http, [this] { return metrics_text(metrics_snapshot(), now_utc()); });
      metrics_http_->start();
      spdlog::info("metrics on http://{}:{}/metrics", metrics.address, metrics_http_->port());
    }
    wait_signal();
    refresh_status();
    if (const auto due = review_due_at_startup(now_utc(), settings_->review, settings_->zone,
                                               history_.last_review_week())) {
      spdlog::info("the review of {} was missed while casewatchd was down: producing it late",
                   due->week.str());
      jobs_.enqueue(Job{Job::Kind::kReview, *due, {}});
    }
    timers_.reconfigure(settings_);
    status_.snapshot().next_review = timers_.next_review();
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
          jobs_.request_cycle(std::set<std::filesystem::path>(checked_.begin(), checked_.end()));
        });
    inbox_->start();
    if (const auto interval = watchdog_interval()) {
      arm_watchdog(*interval);
    }
    notify_ready();
    notify_status("ready");
    spdlog::info("casewatchd {} ready on {}", CASEWATCH_VERSION, service.socket.string());
  }

  // Stops accepting, cancels the timers and lets a running job end after its current file.
  // io.run() then returns once the work has drained. Idempotent.
  void stop() noexcept {
    if (stopping_) {
      return;
    }
    stopping_ = true;
    jobs_.stop();
    reader_.stop();
    notify_stopping();
    spdlog::info("stopping");
    if (server_) {
      server_->stop();
    }
    if (metrics_http_) {
      metrics_http_->stop();
    }
    if (inbox_) {
      inbox_->stop();
    }
    boost::system::error_code ignored;
    signals_.cancel(ignored);
    cancel_quietly(watchdog_timer_);
    timers_.stop();
    audit_.stop();
  }

  // Builds a whole new configuration and swaps it in only if valid. Returns the error when the
  // old configuration stays. Settings a reload cannot apply (config::restart_needed) are named
  // in `restart` (and the log): changing state_dir or socket refuses the whole reload, the
  // others keep their old values until a restart.
  std::optional<std::string> reload(std::vector<std::string>* restart = nullptr) {
    notify_reloading();
    std::optional<std::string> error;
    try {
      auto next = load_settings(config_file_);
      warn_if_calendar_ends_soon(next->calendar, local_date(now_utc(), next->zone));
      for (const auto& warning : next->config.warnings) {
        spdlog::warn("{}", warning);
      }
      const auto& next_service = next->config.service;
      const auto pending = config::restart_needed(settings_->config, next->config);
      const auto changed = [&pending](std::string_view key) {
        return std::find(pending.begin(), pending.end(), key) != pending.end();
      };
      if (changed("service.state_dir") || changed("service.socket")) {
        error = "changing service.state_dir or service.socket needs a restart";
      } else if (changed("metrics.listen")) {
        error = "changing metrics.listen needs a restart";
      } else {
        if (!pending.empty()) {
          spdlog::warn("reload: {} changed; the change applies after a restart",
                       fmt::join(pending, ", "));
        }
        if (restart != nullptr) {
          *restart = pending;
        }
        const auto old = settings_;  // alive until every part holds the new settings
        settings_ = std::move(next);
        policy_ = make_policy(settings_->config);
        findings_.reconfigure(settings_);  // the rules may have changed: read again below
        rule_changes_ = definition_changes(settings_->config, history_);
        for (const auto& change : rule_changes_) {
          spdlog::warn("reload: {}", change);
        }
        inbox_->set_timing(next_service.settle, next_service.rescan);
        timers_.reconfigure(settings_);
        status_.snapshot().next_review = timers_.next_review();
        reread_after_reload();
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

  // A command from the socket, run where it belongs (daemon/dispatch.h), then audited.
  asio::awaitable<Reply> handle(std::string_view line, const Peer& peer) {
    Reply reply = co_await dispatcher_.handle(line, peer);
    std::string command = reply.command;
    if (command.empty()) {
      command = peer.permission == Permission::kNone ? "(refused)" : "(invalid request)";
    }
    audit_.record(peer.uid, std::move(command), static_cast<int>(reply.result), now_utc());
    co_return reply;
  }

  // The status snapshot with the control socket's figures of now, for `metrics`.
  const StatusSnapshot& metrics_snapshot() {
    StatusSnapshot& snapshot = status_.snapshot();
    snapshot.control_sessions = server_->sessions();
    const ControlServer::Refusals& refused = server_->refusals();
    snapshot.control_refused = {{"per_uid", refused.per_uid},
                                {"full", refused.full},
                                {"not_permitted", refused.not_permitted}};
    return snapshot;
  }

  LifecycleCommands lifecycle_commands() {
    LifecycleCommands out;
    out.status = [this](const Request&, const Peer&) {
      const SysSeconds now = now_utc();
      return Answer{ResultCode::kSuccess,
                    fmt::format("casewatchd {} up {} s; {}", CASEWATCH_VERSION,
                                (now - status_.snapshot().started).count(), status_.line()),
                    status_json(status_.snapshot(), now, settings_->zone)};
    };
    out.metrics = [this](const Request&, const Peer&) {
      return Answer{ResultCode::kSuccess, metrics_text(metrics_snapshot(), now_utc()), nullptr};
    };
    out.run_now = [this](const Request&, const Peer&) {
      const bool busy = jobs_.running();
      jobs_.request_cycle();
      return Answer{
          ResultCode::kSuccess,
          busy ? "a job is running; an ingest cycle will follow it" : "ingest cycle started",
          nullptr};
    };
    out.reload = [this](const Request&, const Peer&) {
      std::vector<std::string> restart;
      if (const auto error = reload(&restart)) {
        return Answer{ResultCode::kError,
                      fmt::format("reload failed, the previous configuration stays: {}", *error),
                      nullptr};
      }
      std::string text = "configuration reloaded";
      json::object arguments;
      if (!restart.empty()) {
        text += fmt::format("; {} changed and needs a restart to apply", fmt::join(restart, ", "));
        arguments["restart_needed"] = json::value_from(restart);
      }
      if (!rule_changes_.empty()) {
        text += fmt::format("\n{}", fmt::join(rule_changes_, "\n"));
        arguments["rule_changes"] = json::value_from(rule_changes_);
      }
      if (arguments.empty()) {
        return Answer{ResultCode::kSuccess, text, nullptr};
      }
      return Answer{ResultCode::kSuccess, text, std::move(arguments)};
    };
    out.shutdown = [this](const Request&, const Peer& peer) {
      spdlog::info("shutdown requested by {}", peer.user);
      stop();
      return Answer{ResultCode::kSuccess, "shutting down", nullptr};
    };
    return out;
  }

  void wait_signal() {
    signals_.async_wait([this](boost::system::error_code ec, int signal) {
      if (ec || stopping_) {
        return;
      }
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
      if (!ec && !stopping_) {
        arm_watchdog(interval);
      }
    });
  }

  // Arms the sender for the earliest pending outbox entry (at once when one is due). Delivery runs
  // on the pool, queued behind a running job; never on the loop thread (a send may block 120 s).
  // A scheduled-job catch site: a database failure is logged and the sender tries again later.
  void arm_sender() {
    if (stopping_ || !settings_->config.mail.enabled()) {
      timers_.arm_sender(std::nullopt);
      return;
    }
    std::optional<SysSeconds> next;
    try {
      next = history_.next_outbox_attempt();
    } catch (const std::exception& e) {
      spdlog::error("cannot read the outbox: {}", e.what());
      next = now_utc() + kSenderRetry;
    }
    timers_.arm_sender(next);
  }

  // An outbox entry became due (outbox-retry): the sender fires at once, without reading the
  // outbox here; the delivery job's status reading arms it again after.
  void sender_due_now() {
    if (stopping_ || !settings_->config.mail.enabled()) {
      return;
    }
    timers_.arm_sender(now_utc());
  }

  // After a reload: the open findings (the rules may have changed) and the status are read
  // again on the reader thread, and applied here when they are back (then the sender is armed
  // again); until then `status` answers with the figures it had. A later reload reads again.
  void reread_after_reload() {
    const std::uint64_t generation = ++reload_generation_;
    reader_.post([this, settings = settings_, generation] {
      Reread read = reread(settings->config,
                           [this]() -> const storage::History& { return reader_.history(); });
      asio::post(io_, [this, generation, read = std::move(read)]() mutable {
        if (generation != reload_generation_ || stopping_) {
          return;
        }
        // A job that ended meanwhile set findings of its own: those stay.
        if (read.findings && !findings_.snapshot()) {
          jobs_.post([old = findings_.set(std::move(read.findings))] {});
        }
        apply_status(std::move(read.status));
      });
    });
  }

  // After a job: the status the pool thread read at its end, and the sender armed from it.
  void apply_status(StatusReading reading) {
    const bool read = reading.database_error.empty();
    const std::optional<SysSeconds> next_attempt = reading.next_outbox_attempt;
    status_.apply(settings_->config, std::move(reading), findings_.open());
    status_.snapshot().next_review = timers_.next_review();
    if (stopping_ || !settings_->config.mail.enabled()) {
      timers_.arm_sender(std::nullopt);
    } else {
      timers_.arm_sender(read ? next_attempt : std::optional(now_utc() + kSenderRetry));
    }
  }

  void fetched(const FetchOutcome& outcome) {
    status_.record_fetch(outcome, settings_->config);
    store_fetches();
  }

  // Stores the fetch results not yet stored, on the pool (after the running job) with a
  // connection of its own; what fails stays pending and is tried again after the next job.
  void store_fetches() {
    auto fetches = status_.pending_fetches();
    if (fetches.empty()) {
      return;
    }
    jobs_.post([this, file = database_file_, fetches = std::move(fetches)] {
      std::vector<std::pair<std::string, std::string>> stored;
      try {
        storage::History history(file);
        for (const auto& fetch : fetches) {
          history.set_setting(fetch.first, fetch.second);
          stored.push_back(fetch);
        }
      } catch (const std::exception& e) {
        spdlog::error("cannot record the fetch results: {}", e.what());
      }
      asio::post(io_, [this, stored = std::move(stored)] { status_.fetches_stored(stored); });
    });
  }

  // On the loop when a job starts: the status, and the work for the pool (with the settings of
  // now, kept alive across a reload).
  JobQueue::Work start_job(const Job& job) {
    status_.snapshot().cycle_running = job.kind == Job::Kind::kCycle;
    notify_status(job.kind == Job::Kind::kCycle ? std::string("ingesting")
                  : job.kind == Job::Kind::kReview
                      ? "writing the review of " + job.review.week.str()
                      : std::string("delivering mail"));
    return [this, settings = settings_, job] {
      return run_job(*settings, job, [this] { return jobs_.stop_requested(); });
    };
  }

  void job_done(const Job& job, JobResult& result) {
    auto& status = status_.snapshot();
    status.cycle_running = false;
    timers_.pause_sender(std::nullopt);
    if (!result.error.empty()) {
      if (job.kind == Job::Kind::kCycle) {
        ++status.cycle_failures;
        status.last_cycle_error = result.error;
        spdlog::error("ingest cycle failed (retried at the next rescan): {}", result.error);
      } else if (job.kind == Job::Kind::kReview) {
        spdlog::error("the review of {} failed: {}", job.review.week.str(), result.error);
      } else {
        timers_.pause_sender(now_utc() + kSenderRetry);
        spdlog::error("mail delivery failed (tried again in {} s): {}", kSenderRetry.count(),
                      result.error);
      }
    } else if (job.kind == Job::Kind::kDeliver) {
      log_delivery(result.delivered.tried);
      for (const auto window : result.delivered.windows) {
        status.mail_window.observe(window);
      }
    } else if (result.cycle) {
      if (result.findings) {
        // The old snapshot (tens of thousands of findings) is freed off the loop: on the pool,
        // or on the reader thread when a reader command still holds it.
        jobs_.post([old = findings_.set(std::move(result.findings))] {});
      }
      ++status.cycles;
      status.last_cycle_error.reset();
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
    audit_.flush();
    store_fetches();  // any that could not be stored before
    // The job may have queued mail, or delivered some: the sender is armed again.
    if (result.status) {
      apply_status(std::move(*result.status));
    } else if (!stopping_) {  // the job failed before it read the status
      refresh_status();
      arm_sender();
    }
    notify_status(status_.line());
  }

  // Nothing queued after `job`: new files may have arrived meanwhile; after a failure the rescan
  // tries again instead.
  void jobs_idle(const Job& job, const JobResult& result) {
    if (job.kind == Job::Kind::kCycle && result.error.empty()) {
      inbox_->check();
    }
  }

  void refresh_status() noexcept {
    try {
      status_.refresh(settings_->config, history_, findings_.open());
    } catch (const std::exception& e) {  // reading the open findings failed
      spdlog::error("cannot read the open findings: {}", e.what());
    }
    status_.snapshot().next_review = timers_.next_review();
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

  asio::io_context& io_;
  std::filesystem::path config_file_;
  std::shared_ptr<const Settings> settings_;
  std::filesystem::path database_file_;    // state_dir does not change on reload
  storage::History history_;               // the loop thread's; jobs open their own
  std::vector<std::string> rule_changes_;  // at the last reload: definition_changes()
  std::uint64_t reload_generation_ = 0;    // reloads so far (reread_after_reload)
  JobQueue jobs_;
  AuditLog audit_;
  Status status_;
  Timers timers_;
  FindingsView findings_;
  CommandTable commands_;
  ReaderThread reader_{database_file_};  // after what its work uses: joined before they go
  Dispatcher dispatcher_{
      io_, commands_, jobs_, reader_, database_file_, [this] { return settings_; }, findings_};
  AccessPolicy policy_;
  std::unique_ptr<ControlServer> server_;
  std::unique_ptr<MetricsHttpServer> metrics_http_;  // [metrics] listen, when set
  std::unique_ptr<InboxWatch> inbox_;
  std::vector<std::filesystem::path> checked_;  // the inbox files the watch last judged
  asio::signal_set signals_;
  asio::steady_timer watchdog_timer_;
  bool stopping_ = false;
};

}  // namespace

int run_service(const std::filesystem::path& config_file) {
  auto settings = load_settings(config_file);  // throws config::ConfigError
  warn_if_calendar_ends_soon(settings->calendar, local_date(now_utc(), settings->zone));
  for (const auto& warning : settings->config.warnings) {
    spdlog::warn("{}", warning);
  }
  prepare_state_dir(settings->config);
  asio::io_context io;
  Daemon daemon(io, config_file, std::move(settings));
  daemon.start();
  io.run();  // returns when stop() has let all work drain
  spdlog::info("stopped");
  return EXIT_SUCCESS;
}

}  // namespace service
