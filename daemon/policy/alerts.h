// Alerts: what needs someone now, with a lifecycle like Alertmanager's. The daemon computes the
// conditions that hold (a rule's count over alert_over, a record past escalate_after or
// escalate_listed_after, a source with no new extract within max_age, a rejected extract, an
// unmatched inbox file, mail that cannot be delivered, a holiday list about to end);
// decide_alerts() compares them with the stored alert states and the silences and says which
// notices to give and what the new states are. An alert is identified by its fingerprint
// (kind/subject/scope): it fires once, is repeated every repeat_interval while it still holds,
// and resolves (with an optional notice) when it stops holding. A silence stops notices, never
// the alert itself, and silenced findings stay in the review, marked. Inhibition: the case
// alerts of a rule whose source is stale or has no data send nothing (a list built on old data
// is not news).
//
// Pure decisions: no I/O and no clock (`now` is a parameter); the daemon stores the states and
// queues the notices' digests (daemon/policy/digest.h) in one transaction.
#ifndef CASEWATCH_DAEMON_POLICY_ALERTS_H_
#define CASEWATCH_DAEMON_POLICY_ALERTS_H_

#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
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

// The kind as a [[route]] `alerts` list and the metrics name it: "threshold" for a rule count,
// else as to_string.
std::string_view kind_name(AlertKind kind);

// Operator alerts (rejected or stale source, unmatched file, delivery, calendar) carry no child
// data; case alerts (escalation, threshold) are about a rule's list.
bool is_operator_alert(AlertKind kind);

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
  // Rules whose case alerts (escalation, threshold) are inhibited: they read a source that is
  // stale or has no data (see inhibited_rules). Their alerts keep their state but send nothing.
  std::set<std::string> inhibited_rules;
};

enum class NoticeKind { kFiring, kRepeat, kResolved };
std::string_view to_string(NoticeKind kind);  // "firing", "repeat", "resolved"

// A change to tell the routes about (daemon/policy/digest.h groups them into messages).
struct AlertNotice {
  NoticeKind kind = NoticeKind::kFiring;
  AlertState alert;  // the state after this decision
  // The notice's identity: "alert/<fingerprint>/firing/<started>", ".../repeat/<now>" or
  // ".../resolved/<started>" (unix seconds): one per state change. Never leaves the process (it
  // may hold a case key); a digest's outbox key is derived from its notices' keys.
  std::string key;
};

struct AlertDecision {
  std::vector<AlertState> states;            // every alert, firing or resolved, to store
  std::vector<AlertNotice> notices;          // to queue, in the transaction storing `states`
  std::vector<std::int64_t> ended_silences;  // silences to mark ended
};

// The lifecycle step. A condition with no stored firing alert starts one (a notice unless
// silenced or inhibited); a firing alert no longer holding resolves (a notice when
// policy.send_resolved and anyone was told it fired, unless silenced or inhibited). Reminders
// go by group (case alerts, operator alerts): when any told, still-firing alert of a group was
// last told repeat_interval ago or more, every told, still-firing alert of that group is
// repeated at once, so that each route gets one reminder, not one per case. An alert whose
// silence or inhibition has ended is told as firing. Stored resolved alerts are carried over
// unchanged. Silences past their expiry end; "until resolved" silences end when an alert they
// covered resolves and they cover no firing alert.
AlertDecision decide_alerts(const std::vector<AlertCondition>& current,
                            const std::vector<AlertState>& stored,
                            const std::vector<Silence>& silences, const AlertPolicy& policy,
                            Time now);

// ---- conditions, from what the daemon knows

// One rule's list at its evaluation's as-of date.
struct RuleList {
  const rules::Rule* rule = nullptr;  // REQUIRES: not null
  rules::Date as_of;
  std::vector<rules::TrackedFinding> findings;  // the rule's open findings (any order)
};

// Conditions from rules' alert settings: kRuleCount when the count of breaching and overdue
// findings exceeds alert_over; kEscalation for each finding whose own figure is past
// escalate_after (days unallocated, from `since`, for an unallocated rule's breaches; days
// overdue, from `due`, for overdue timescale and recurring findings; working-day durations with
// rules::due_date), or that has been on the list (from first_seen) past escalate_listed_after.
// A finding past both gives one condition (escalate_after's).
std::vector<AlertCondition> rule_conditions(const std::vector<RuleList>& lists,
                                            const std::vector<config::RuleAlerts>& settings,
                                            const rules::Calendar& calendar);

// The dead man's switch: kStaleSource when the newest extract of a source with max_age was
// received (`received`: source -> when) longer than max_age before `now`. A source that never
// sent an extract does not fire (a fresh install would otherwise alert at once).
std::vector<AlertCondition> stale_conditions(const std::vector<config::SourceAlerts>& settings,
                                             const std::map<std::string, Time>& received, Time now);

// kRejectedExtract for `file` of `source`, refused for `reason`.
AlertCondition rejected_condition(std::string_view source, std::string_view file,
                                  std::string_view reason);

// One kRejectedExtract per file rejected since its source's last ingested extract: each file is
// its own alert, and all of a source's resolve when the source next ingests a file.
// `extracts` oldest first, as the extract catalogue lists them.
std::vector<AlertCondition> rejected_conditions(const std::vector<storage::ExtractInfo>& extracts);

// Attempts after which a pending entry counts as failing delivery.
inline constexpr int kFailingAttempts = 3;

// kDeliveryFailing per recipient with an entry failed for good or pending after
// kFailingAttempts failed attempts or more. It resolves when the outbox drains: those entries
// delivered, retried into success or cancelled.
std::vector<AlertCondition> delivery_conditions(const std::vector<OutboxEntry>& undelivered);

// kCalendarEnding when the holiday list ends (`last_listed`) less than a year after `today`, or
// lists nothing. Resolves when a newer data file is installed.
std::optional<AlertCondition> calendar_condition(std::optional<rules::Date> last_listed,
                                                 rules::Date today);

// kUnmatchedFile per inbox file (name only) that matches no source.
std::vector<AlertCondition> unmatched_conditions(const std::vector<std::string>& files);

// The rules whose case alerts are inhibited: those reading a source (their own, or their
// events_source or allocations_source) with a kStaleSource condition in `current`, or one in
// `no_data` (no extract ingested).
std::set<std::string> inhibited_rules(const rules::RuleSet& rule_set,
                                      const std::vector<AlertCondition>& current,
                                      const std::set<std::string>& no_data);

// ---- routing

// Whether `route` gets alerts like `condition`: the route must receive its kind
// (config::Route::receives); case alerts then follow the route's rules filter, escalations its
// teams globs (case-insensitive), and a rule count (no team) goes only to routes without a teams
// filter.
bool route_matches(const config::Route& route, const AlertCondition& condition);

// The routes that get `condition`: those route_matches says; an operator alert no route
// receives goes to the whole-review routes (reviews, no rules or teams filter), or when there is
// none, to every route with reviews and no teams filter (--check warns about this).
std::vector<const config::Route*> routes_for(const AlertCondition& condition,
                                             const config::Config& config);

}  // namespace service

#endif  // CASEWATCH_DAEMON_POLICY_ALERTS_H_
