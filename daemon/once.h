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

// The findings of every rule as stored now (open findings, NEW or CARRIED), in rule order, with
// review_status and weeks_on_review relative to the review before `week` (what `week`'s review
// shows).
std::vector<rules::TrackedFinding> stored_findings(const config::Config& config,
                                                   const storage::History& history,
                                                   rules::IsoWeek week);

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
