// What `status` and `metrics` report: a snapshot kept up to date on the loop thread after
// start-up, each job and each reload, so that answering never reads the database; and the two
// replies built from it. The fetch results are recorded here too (and kept in the database's
// settings table, written on the pool thread).
// Not thread-safe: call from the loop thread.
#ifndef CASEWATCH_DAEMON_STATUS_H_
#define CASEWATCH_DAEMON_STATUS_H_

#include <array>
#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "daemon/clock.h"
#include "daemon/fetch.h"
#include "daemon/work/job.h"
#include "daemon/work/status_reading.h"
#include "rules/rules.h"
#include "storage/storage.h"

namespace service {

// The mail's duplicate window (daemon/policy/outbox.h) of each message sent since start: how
// long after the server accepted it its "sent" commit ended. A Prometheus histogram (seconds),
// and the longest.
struct WindowHistogram {
  static constexpr std::array<double, 9> kBounds = {0.001, 0.0025, 0.005, 0.01, 0.025,
                                                    0.05,  0.1,    0.25,  1.0};
  std::array<std::int64_t, kBounds.size()> at_most{};  // per bound: windows <= it (cumulative)
  std::int64_t count = 0;
  std::chrono::microseconds sum{0};
  std::chrono::microseconds longest{0};

  void observe(std::chrono::microseconds window);
};

// What `status` and `metrics` report, kept up to date after each cycle so that answering is cheap.
struct StatusSnapshot {
  struct SourceStatus {
    std::string name;
    std::string file;  // the latest ingested extract; empty when none yet
    std::optional<rules::Date> as_of;
    std::size_t rows = 0;
    std::optional<SysSeconds> handled_at;
  };
  struct RuleStatus {
    std::string rule;
    std::vector<std::pair<std::string, int>> bands;  // open findings per band, in band order
    int open = 0;
    int new_findings = 0;
    // The rule's totals, named as `--once` and the review name them (report::totals_text).
    int listed = 0;                      // on the review list
    int untrusted = 0;                   // data-cleansing items (dates that cannot be trusted)
    std::optional<int> all_unallocated;  // unallocated rules: every open unallocated case
    std::string totals;  // "Over four weeks (listed): 211; Untrusted dates: 14; All ..."
  };
  struct FetchStatus {
    std::string source;
    std::string at;  // UTC time of the last run
    bool ok = false;
    std::string detail;  // "exit status 0", "timed out after 600 s", ...
  };
  std::vector<SourceStatus> sources;
  std::vector<RuleStatus> rules;
  // Inbox files that match no source (file name, reason): shown, counted, never silently left.
  std::vector<std::pair<std::string, std::string>> unmatched;
  std::vector<FetchStatus> fetches;
  std::optional<SysSeconds> next_review;
  std::optional<std::string> last_review_week;
  std::optional<SysSeconds> last_review_at;  // when the latest review run was recorded
  // Firing alerts per kind (as routes name them: "escalation", "threshold", ...), every kind.
  std::map<std::string, std::size_t> alerts_firing;
  // Outbox entries per state ("pending", "sent", "failed", "cancelled"), every state.
  std::map<std::string, std::size_t> outbox;
  // Extract files handled per (source, status: "ingested", "rejected", "duplicate").
  std::map<std::pair<std::string, std::string>, std::size_t> extracts;
  SysSeconds started;
  bool cycle_running = false;
  std::optional<std::string> last_cycle_error;
  std::int64_t cycles = 0;
  std::int64_t cycle_failures = 0;
  // The control socket: open sessions, and connections refused since start by reason
  // ("per_uid", "full", "not_permitted"; see ControlServer::Refusals).
  std::size_t control_sessions = 0;
  std::map<std::string, std::int64_t> control_refused;
  WindowHistogram mail_window;  // every message the service sent since start
};

// The `status` reply's arguments at `now`: ages in days from today in the service time zone
// `zone`; instants in UTC ("next_review"), each beside the same in the service time zone for
// people ("next_review_local": "2026-11-30 07:00 GMT"), and the zone's name ("timezone").
boost::json::object status_json(const StatusSnapshot& status, SysSeconds now,
                                const date::time_zone* zone);

// The `metrics` reply's text: Prometheus exposition format.
std::string metrics_text(const StatusSnapshot& status, SysSeconds now);

// A rule's line of `status`: its open findings by band and its named totals. `bands` are the
// rule's band counts at its latest evaluation (every open unallocated case, listed or not).
StatusSnapshot::RuleStatus rule_status(const rules::Rule& rule,
                                       const std::vector<rules::TrackedFinding>& open,
                                       const std::vector<rules::BandCount>& bands);

class Status {
 public:
  explicit Status(SysSeconds started) { snapshot_.started = started; }

  const StatusSnapshot& snapshot() const { return snapshot_; }
  StatusSnapshot& snapshot() { return snapshot_; }

  // "12 open findings; 3 cycles, 0 failed".
  std::string line() const;

  // Re-reads the sources' latest extracts and the last review from `history`, the counts
  // from `findings`, and the inbox files matching no source: apply(read_status(...)). For
  // start-up and reload; after a job the pool thread reads (run_job) and the loop applies.
  void refresh(const config::Config& config, const storage::History& history,
               const OpenFindings& findings) noexcept;
  // Takes what read_status() read, with the counts from `findings`; logs each inbox file
  // matching no source once, by name. A failed reading is logged and the old figures stay.
  void apply(const config::Config& config, StatusReading reading,
             const OpenFindings& findings) noexcept;

  // A fetch ended: logged, shown at once, and kept as pending until fetches_stored() says it
  // is in the database (the settings table, written on the pool: Daemon::store_fetches).
  void record_fetch(const FetchOutcome& outcome, const config::Config& config);
  // The fetch results not known to be stored yet: (settings name, JSON value).
  std::vector<std::pair<std::string, std::string>> pending_fetches() const;
  // These were stored; each stays pending if a newer result was recorded meanwhile.
  void fetches_stored(const std::vector<std::pair<std::string, std::string>>& stored);

 private:
  StatusSnapshot snapshot_;
  // The fetch results of `config` now: pending ones, else stored ones.
  void show_fetches(const config::Config& config) noexcept;

  std::set<std::string> logged_unmatched_;              // file names already logged
  std::map<std::string, std::string> pending_fetches_;  // settings name -> JSON, not yet stored
  std::map<std::string, std::string> stored_fetches_;   // as last read or stored
};

}  // namespace service

#endif  // CASEWATCH_DAEMON_STATUS_H_
