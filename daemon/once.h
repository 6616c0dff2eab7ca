// `casewatchd --once`: one cycle (ingest the inbox, evaluate, write the week's review files),
// then a summary on stdout — human text or one JSON object — and exit.
#ifndef CASEWATCH_DAEMON_ONCE_H_
#define CASEWATCH_DAEMON_ONCE_H_

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "config/config.h"
#include "daemon/work/engine.h"
#include "rules/rules.h"
#include "storage/storage.h"

namespace service {

// The findings of every rule on `review` (its sections' open findings, NEW or CARRIED, with
// review_status and weeks_on_review relative to the review before it), in rule order: what the
// review shows, as stored when it was built. A --once summary takes them from the review it
// produced instead of reading the history again.
std::vector<rules::TrackedFinding> review_findings(const report::Review& review);

// Prints the human summary of a cycle: extracts, counts by rule and band, the review text, and
// the mail tried (`mail`: outbox entries as the delivery attempt left them).
void print_summary(std::ostream& out, const config::Config& config, const CycleResult& cycle,
                   const std::vector<rules::TrackedFinding>& findings,
                   const rules::Evaluation& current, rules::Date today,
                   const std::string& review_text, const std::filesystem::path& review_folder,
                   const std::vector<OutboxEntry>& mail);

// The JSON object of DESIGN.md ("Interfaces"): extracts, findings, counts, review band counts
// and trend.
std::string summary_json(const config::Config& config, const storage::History& history,
                         const CycleResult& cycle,
                         const std::vector<rules::TrackedFinding>& findings,
                         const rules::Evaluation& current, rules::Date today,
                         const std::filesystem::path& review_folder,
                         const std::vector<OutboxEntry>& mail);

}  // namespace service

#endif  // CASEWATCH_DAEMON_ONCE_H_
