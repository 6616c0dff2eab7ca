#include "daemon/work/job.h"

#include <cstdlib>
#include <exception>

#include "daemon/clock.h"
#include "daemon/mailer.h"
#include "daemon/work/sender.h"

namespace service {
namespace {

// One alert cycle after an ingest or a review, with the job's own History. Its failure does not
// undo the job's work: it is reported apart (and the next job's cycle tries again).
void alert_cycle(Engine& engine, JobResult& result) {
  try {
    result.alerts = engine.run_alerts(now_utc());
  } catch (const std::exception& e) {
    result.alert_error = e.what();
  }
}

}  // namespace

std::shared_ptr<OpenFindings> load_open_findings(const config::Config& config,
                                                 const storage::History& history) {
  auto out = std::make_shared<OpenFindings>();
  // NEW and CARRIED relative to the latest review produced: what a manager last saw.
  const auto latest = history.latest_review();
  for (const auto& rule : config.rules.rules) {
    auto open = history.open_findings(rule.id);
    rules::mark_against(open, latest ? &*latest : nullptr);
    out->rules.emplace_back(rule.id, std::move(open));
  }
  return out;
}

Reread reread(const config::Config& config,
              const std::function<const storage::History&()>& history) noexcept {
  Reread out;
  try {
    out.findings = load_open_findings(config, history());
    out.status = read_status(config, history());
  } catch (const std::exception& e) {  // opening the connection failed, or reading
    out.findings = nullptr;
    out.status.database_error = e.what();
  }
  return out;
}

JobResult run_job(const Settings& settings, const Job& job,
                  const std::function<bool()>& should_stop) {
  JobResult result;
  try {
    storage::History history(settings.config.service.database_file());
    Engine engine(settings.config, settings.calendar, history);
    if (job.kind == Job::Kind::kCycle) {
      result.cycle = engine.run_cycle(should_stop, [&job](const std::filesystem::path& file) {
        return !job.ready || job.ready->contains(file);
      });
      // A stopping service needs neither: a restart reads the findings again, and the next
      // job runs the alert cycle.
      if (!should_stop()) {
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
      result.delivered = deliver(history, mailer, now_utc(), Deliver::kDue, should_stop);
    }
    // What `status` shows now, read here rather than by the loop thread.
    if (!should_stop()) {
      result.status = read_status(settings.config, history);
    }
  } catch (const std::exception& e) {
    result.error = e.what();
  }
  // The loop needs only the counts: the findings lists are freed here, not on the loop.
  if (result.cycle) {
    for (auto& outcome : result.cycle->outcomes) {
      outcome.open = {};
      outcome.resolved = {};
    }
  }
  return result;
}

}  // namespace service
