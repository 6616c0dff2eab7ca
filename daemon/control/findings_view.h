// The open findings as the last job left them, and the commands that read them: `findings`
// (filtered, paged, answers cached until the findings change), `case` (a key's open and
// resolved findings and record versions), `note` (which also updates the snapshot) and `review`.
// Not thread-safe: call from the loop thread (note's database write excepted).
#ifndef CASEWATCH_DAEMON_CONTROL_FINDINGS_VIEW_H_
#define CASEWATCH_DAEMON_CONTROL_FINDINGS_VIEW_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "daemon/clock.h"
#include "daemon/control/command_table.h"
#include "daemon/jobs.h"
#include "daemon/settings.h"
#include "storage/storage.h"

namespace service {

class FindingsView {
 public:
  // `findings` answers at most this many findings per reply (the rest by `offset`).
  static constexpr std::size_t kPageDefault = 1000;
  static constexpr std::size_t kPageMax = 10000;
  // Cached `findings` answers kept between jobs.
  static constexpr std::size_t kCacheEntries = 64;

  // Renders the review of a week as of a date in a format ("text", "html", "csv").
  using RenderReview =
      std::function<std::string(rules::IsoWeek week, rules::Date as_of, std::string_view format)>;

  // REQUIRES: history outlives the view.
  explicit FindingsView(storage::History& history) : history_(history) {}

  // The settings to answer with; the snapshot is dropped (the rules may have changed).
  void reconfigure(std::shared_ptr<const Settings> settings);

  // A job's new snapshot. Returns the old one, for the caller to free off the loop.
  std::shared_ptr<OpenFindings> set(std::shared_ptr<OpenFindings> findings);

  // The snapshot, read from the database first when there is none.
  const OpenFindings& open();

  // `findings`: filters rule, team, band, status ("new" | "carried"); paging offset and limit
  // (default kPageDefault, at most kPageMax). Throws std::invalid_argument for bad arguments.
  Answer findings(const Request& request);
  // `case KEY`.
  Answer case_of(const Request& request);
  // `note RULE KEY TEXT` by `peer` at `now`, appended with `history` (an unknown rule, from
  // `config`, is refused listing the rules): a pool command, so it reads no member. Its follow-up
  // (on the loop) puts the note into the snapshot.
  PoolAnswer note(const Request& request, const Peer& peer, storage::History& history,
                  const config::Config& config, SysSeconds now);
  // `review [--week W] [--format F]`: a past week as of its Sunday, the current one as of
  // `today`.
  Answer review(const Request& request, rules::Date today, const RenderReview& render) const;

 private:
  storage::History& history_;
  std::shared_ptr<const Settings> settings_;
  std::shared_ptr<OpenFindings> findings_;  // null until read
  std::map<std::string, Answer, std::less<>> cache_;
};

}  // namespace service

#endif  // CASEWATCH_DAEMON_CONTROL_FINDINGS_VIEW_H_
