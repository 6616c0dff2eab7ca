// The open findings as the last job left them, and the commands that read them: `findings`
// (filtered, paged, answers cached with the snapshot they come from), `case` (a key's open and
// resolved findings and record versions), `note` (which also updates the snapshot) and `review`.
// The snapshot is immutable and shared: the loop hands it to the reader thread (daemon/reader.h)
// with each reader command and replaces it whole after a job or a note, so the reader never sees
// it change.
#ifndef CASEWATCH_DAEMON_CONTROL_FINDINGS_VIEW_H_
#define CASEWATCH_DAEMON_CONTROL_FINDINGS_VIEW_H_

#include <boost/json.hpp>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "daemon/clock.h"
#include "daemon/control/command_table.h"
#include "daemon/jobs.h"
#include "daemon/settings.h"
#include "storage/storage.h"

namespace service {

// The open findings of one job and the notes recorded since it: immutable once shared, except
// for the `findings` answers cached beside them (under a lock: the loop looks, the reader fills).
class FindingsSnapshot {
 public:
  // Cached `findings` answers kept per snapshot.
  static constexpr std::size_t kCacheEntries = 64;

  explicit FindingsSnapshot(std::shared_ptr<const OpenFindings> open) : open_(std::move(open)) {}

  const OpenFindings& open() const { return *open_; }
  // This snapshot with `note` on (rule, key): the findings shared, only the notes copied.
  std::shared_ptr<const FindingsSnapshot> with_note(const std::string& rule, const std::string& key,
                                                    const rules::Note& note) const;
  // `tracked`, a finding of `rule`, as JSON with the notes recorded since the job on it.
  boost::json::object finding_json(const std::string& rule, const rules::TrackedFinding& tracked,
                                   rules::RuleKind kind) const;

  std::optional<Answer> cached(const std::string& key) const;
  void cache(const std::string& key, const Answer& answer) const;

 private:
  struct Noted {
    rules::Note latest;
    int added = 0;  // notes recorded on (rule, key) since the job
  };
  std::shared_ptr<const OpenFindings> open_;
  std::map<std::pair<std::string, std::string>, Noted> notes_;  // by rule and key
  mutable std::mutex cache_lock_;
  mutable std::map<std::string, Answer, std::less<>> cache_;
};

// Renders the review of a week as of a date in a format ("text", "html", "csv").
using RenderReview =
    std::function<std::string(rules::IsoWeek week, rules::Date as_of, std::string_view format)>;

// What a reader command reads with (CommandTable::ReaderHandler), on the reader thread.
struct Reading {
  const storage::History& history;     // the reader thread's read-only connection
  const Settings& settings;            // of the moment the command was asked
  const FindingsSnapshot& findings;    // of that moment
  const RenderReview& current_review;  // renders this week's review on the reader thread
};

// `findings`: filters rule, team, band, status ("new" | "carried"); paging offset and limit
// (default kPageDefault, at most kPageMax). Throws std::invalid_argument for bad arguments.
inline constexpr std::size_t kPageDefault = 1000;
inline constexpr std::size_t kPageMax = 10000;
Answer findings_command(const Request& request, const Settings& settings,
                        const FindingsSnapshot& findings);
// The answer findings_command would give, when `findings` has it cached (for the loop to give
// at once); nullopt otherwise. Throws std::invalid_argument for bad arguments.
std::optional<Answer> cached_findings(const Request& request, const Settings& settings,
                                      const FindingsSnapshot& findings);
// `case KEY`.
Answer case_command(const Request& request, const Reading& reading);
// `review [--week W] [--format F]`: a past week as stored when it was produced (its files, or
// its text in the database), the current one rendered as of `today`.
Answer review_command(const Request& request, const Reading& reading, rules::Date today);

// The loop's side: the snapshot of now and the note command that replaces it.
// Not thread-safe: call from the loop thread (note's database write excepted).
class FindingsView {
 public:
  // REQUIRES: history outlives the view.
  explicit FindingsView(storage::History& history) : history_(history) {}

  // The settings to answer with; the snapshot is dropped (the rules may have changed).
  void reconfigure(std::shared_ptr<const Settings> settings);

  // A job's new findings. Returns the old snapshot, for the caller to free off the loop.
  std::shared_ptr<const FindingsSnapshot> set(std::shared_ptr<const OpenFindings> findings);

  // The open findings, read from the database first when there is no snapshot.
  const OpenFindings& open();
  // The snapshot of now; null when none was read yet (or reading it failed).
  std::shared_ptr<const FindingsSnapshot> snapshot() const { return snapshot_; }

  // `note RULE KEY TEXT` by `peer` at `now`, appended with `history` (an unknown rule, from
  // `config`, is refused listing the rules): a pool command, so it reads no member. Its follow-up
  // (on the loop) puts the note into a new snapshot.
  PoolAnswer note(const Request& request, const Peer& peer, storage::History& history,
                  const config::Config& config, SysSeconds now);

 private:
  storage::History& history_;
  std::shared_ptr<const Settings> settings_;
  std::shared_ptr<const FindingsSnapshot> snapshot_;  // null until read
};

}  // namespace service

#endif  // CASEWATCH_DAEMON_CONTROL_FINDINGS_VIEW_H_
