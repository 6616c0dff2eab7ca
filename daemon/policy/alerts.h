// Alerts: what needs someone now, with a lifecycle like Alertmanager's. The daemon computes the
// conditions that hold (a rule's count over alert_over, a record past escalate_after, a source
// with no new extract within max_age, a rejected extract, mail that cannot be delivered);
// decide_alerts() compares them with the stored alert states and the silences and says which
// notices to queue and what the new states are. An alert is identified by its fingerprint
// (kind/subject/scope): it fires once, is repeated every repeat_interval while it still holds,
// and resolves (with an optional notice) when it stops holding. A silence stops notices, never
// the alert itself, and silenced findings stay in the review, marked.
//
// Pure decisions: no I/O and no clock (`now` is a parameter); the daemon stores the states and
// queues the notices (alert_mail) in one transaction.
#ifndef CASEWATCH_DAEMON_POLICY_ALERTS_H_
#define CASEWATCH_DAEMON_POLICY_ALERTS_H_

#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "daemon/policy/outbox.h"
#include "rules/rules.h"
#include "storage/storage.h"

namespace service {

// The alert values live in storage (which persists them); these are their names here.
using AlertKind = storage::AlertKind;
using AlertCondition = storage::AlertCondition;
using AlertStatus = storage::AlertStatus;
using AlertState = storage::AlertState;
using Silence = storage::Silence;

std::string_view to_string(AlertKind kind);  // "rule_count", "escalation", "stale_source", ...

// "kind/subject/scope", e.g. "escalation/unallocated/C123".
std::string fingerprint(const AlertCondition& condition);

std::string_view to_string(AlertStatus status);  // "firing", "resolved"

// Whether `silence` covers `condition` at `now` (not ended, not expired).
bool silence_covers(const Silence& silence, const AlertCondition& condition, Time now);

// Whether a review item (rule, key, team) is silenced at `now`: shown, marked, never hidden.
bool finding_silenced(const std::vector<Silence>& silences, std::string_view rule,
                      std::string_view key, std::string_view team, Time now);

struct AlertPolicy {
  std::chrono::seconds repeat_interval{std::chrono::hours(24)};
  bool send_resolved = true;
};

enum class NoticeKind { kFiring, kRepeat, kResolved };
std::string_view to_string(NoticeKind kind);  // "firing", "repeat", "resolved"

// A message to queue about an alert.
struct AlertNotice {
  NoticeKind kind = NoticeKind::kFiring;
  AlertState alert;  // the state after this decision
  // The outbox key prefix: "alert/<fingerprint>/firing/<started>",
  // ".../repeat/<now>" or ".../resolved/<started>" (unix seconds): one per state change.
  std::string key;
};

struct AlertDecision {
  std::vector<AlertState> states;            // every alert, firing or resolved, to store
  std::vector<AlertNotice> notices;          // to queue, in the transaction storing `states`
  std::vector<std::int64_t> ended_silences;  // silences to mark ended
};

// The lifecycle step. A condition with no stored firing alert starts one (a notice unless
// silenced); a firing alert still holding is repeated when repeat_interval has passed since its
// last notice (or notified for the first time when its silence has ended); a firing alert no
// longer holding resolves (a notice when policy.send_resolved and anyone was told it fired).
// Stored resolved alerts are carried over unchanged. Silences past their expiry end; "until
// resolved" silences end when an alert they covered resolves and they cover no firing alert.
AlertDecision decide_alerts(const std::vector<AlertCondition>& current,
                            const std::vector<AlertState>& stored,
                            const std::vector<Silence>& silences, const AlertPolicy& policy,
                            Time now);

// ---- conditions, from what the daemon knows

// One rule's list at its evaluation's as-of date.
struct RuleList {
  const rules::Rule* rule = nullptr;  // REQUIRES: not null
  rules::Date as_of;
  std::vector<rules::Finding> findings;  // the rule's findings (any order)
};

// Conditions from rules' [rule.alerts]: kRuleCount when the count of breaching and overdue
// findings exceeds alert_over; kEscalation for each finding past escalate_after, counted from
// `since` (unallocated) or from `due` (overdue timescale and recurring) with rules::due_date.
std::vector<AlertCondition> rule_conditions(const std::vector<RuleList>& lists,
                                            const std::vector<config::RuleAlerts>& settings,
                                            const rules::Calendar& calendar);

// The dead man's switch: kStaleSource when the newest extract of a source with max_age was
// received (`received`: source -> when) longer than max_age before `now`. A source that never
// sent an extract does not fire (a fresh install would otherwise alert at once).
std::vector<AlertCondition> stale_conditions(const std::vector<config::SourceAlerts>& settings,
                                             const std::map<std::string, Time>& received, Time now);

// kRejectedExtract for `file` of `source`, refused for `reason`. The daemon raises it while that
// file is the latest one handled for the source, so the next good extract resolves it.
AlertCondition rejected_condition(std::string_view source, std::string_view file,
                                  std::string_view reason);

// kDeliveryFailing per recipient with a failed outbox entry.
std::vector<AlertCondition> delivery_conditions(const std::vector<OutboxEntry>& failed);

// ---- routing and messages

// Whether `route` gets alerts like `condition`. Rule alerts follow the route's rules filter;
// escalations also its teams globs (case-insensitive); a rule count (no team) goes to routes
// without a teams filter. Operator alerts (stale or rejected source, delivery) go to routes
// with neither filter.
bool route_matches(const config::Route& route, const AlertCondition& condition);

// The messages for a notice, one outbox entry per allowed recipient of each matching route
// (key = notice.key + "/" + route name). Operator alerts go to every unfiltered route, or, when
// there is none, to every route without a teams filter. Empty when mail is not enabled.
std::vector<OutboxEntry> alert_mail(const AlertNotice& notice, const config::Config& config,
                                    Time now, const BackoffPolicy& policy = {});

}  // namespace service

#endif  // CASEWATCH_DAEMON_POLICY_ALERTS_H_
