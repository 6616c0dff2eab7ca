// One unit of work for the pool thread (an ingest cycle, a weekly review or a mail delivery
// round), what it returns to the loop, and run_job, which does it with its own History and
// Engine. Runs on the pool thread; nothing here touches the loop.
#ifndef CASEWATCH_DAEMON_WORK_JOB_H_
#define CASEWATCH_DAEMON_WORK_JOB_H_

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "daemon/policy/alerts.h"
#include "daemon/policy/schedule.h"
#include "daemon/settings.h"
#include "daemon/work/engine.h"
#include "daemon/work/sender.h"
#include "daemon/work/status_reading.h"
#include "rules/rules.h"
#include "storage/storage.h"

namespace service {

// The open findings of every rule as the last ingest left them, read once per cycle with the
// job's own History on the pool thread, so that `status`, `findings` and `case` never rebuild
// them from SQLite on the loop thread (28,000 findings took 400 ms there).
struct OpenFindings {
  std::vector<std::pair<std::string, std::vector<rules::TrackedFinding>>> rules;  // config order
};

// Reads the open findings of every rule of `config`, their review_status and weeks_on_review
// relative to the latest review produced.
std::shared_ptr<OpenFindings> load_open_findings(const config::Config& config,
                                                 const storage::History& history);

// What a reload shows once read again (on the reader thread): the open findings under the new
// rules (nullptr when they could not be read) and the status.
struct Reread {
  std::shared_ptr<OpenFindings> findings;
  StatusReading status;
};
// Reads the above with the History `history` returns. Never throws: a failure, opening the
// connection included, is held in status.database_error.
Reread reread(const config::Config& config,
              const std::function<const storage::History&()>& history) noexcept;

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
  DeliveryRound delivered;                 // kDeliver: the entries tried, the windows
  std::shared_ptr<OpenFindings> findings;  // kCycle: the open findings after it
  // What `status` shows after the job (not read when it failed or the service is stopping).
  std::optional<StatusReading> status;
  std::string error;  // empty when the job succeeded
};

// Runs `job` with its own History and Engine (on the pool thread). `should_stop` is polled
// between files and between mails. The scheduled-job catch site: a failure becomes
// JobResult::error, logged and recorded by the loop.
JobResult run_job(const Settings& settings, const Job& job,
                  const std::function<bool()>& should_stop);

}  // namespace service

#endif  // CASEWATCH_DAEMON_WORK_JOB_H_
