// The alerts' values: conditions, stored alert states and silences. The decisions are the
// daemon's (daemon/alerts.h); these are what storage keeps.
#ifndef CASEWATCH_STORAGE_ALERTS_H_
#define CASEWATCH_STORAGE_ALERTS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "storage/values.h"

namespace storage {

enum class AlertKind {
  kRuleCount,        // a rule's list is longer than its alert_over
  kEscalation,       // a record has been on a rule's list longer than escalate_after
  kStaleSource,      // no new extract of a source within max_age (dead man's switch)
  kRejectedExtract,  // the latest file of a source was rejected
  kDeliveryFailing,  // mail to a recipient cannot be delivered (failed, or failing repeatedly)
  kUnmatchedFile,    // a file in the inbox matches no source
  kCalendarEnding,   // the bank-holiday list ends less than a year ahead
};

// Something that holds now.
struct AlertCondition {
  AlertKind kind = AlertKind::kRuleCount;
  std::string subject;  // rule id (rule_count, escalation), source name (stale_source,
                        // rejected_extract), recipient (delivery_failing)
  std::string scope;    // record key (escalation), file name (rejected_extract, unmatched_file)
  std::string team;     // the record's team (escalation): for routing and silences
  std::string summary;  // one line for subjects and listings; never a child's identifiers
  std::string detail;   // the body; may name a case key (an allow-listed field), never a person
  bool operator==(const AlertCondition&) const = default;
};

enum class AlertStatus { kFiring, kResolved };

// One alert as stored, keyed by its fingerprint.
struct AlertState {
  std::string fingerprint;   // "kind/subject/scope"
  AlertCondition condition;  // as last seen
  AlertStatus status = AlertStatus::kFiring;
  Time started;  // firing since
  std::optional<Time> resolved_at;
  std::optional<Time> last_notified;  // when the last firing or repeat notice was queued
  bool silenced = false;              // a silence covered it at the last decision
  bool operator==(const AlertState&) const = default;
};

// "Don't tell us about this": a rule (or source), optionally one case key or team.
struct Silence {
  std::int64_t id = 0;
  std::string rule;   // matches AlertCondition::subject
  std::string scope;  // a case key or a team name (case-insensitive); empty = all of the rule
  std::string reason;
  std::string who;  // from the socket peer, e.g. "jsmith (uid 1001)"
  Time created;
  std::optional<Time> expires;  // nullopt = until the alerts it covers resolve
  bool ended = false;           // expired, or its alerts resolved
};

}  // namespace storage

#endif  // CASEWATCH_STORAGE_ALERTS_H_
