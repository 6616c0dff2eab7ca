// The JSON shape of each value casewatch shows outside: one function per value, used by the
// control socket and by `casewatchd --once --json` alike, so the two never disagree.
//
// A finding: rule, key, person, team, worker, band, state, status ("new" | "carried"),
// first_seen, weeks_on_list, detail (when any) and note {text, author, at} (when any), plus by
// its rule's kind:
//   unallocated            since (date or null), since_at_least, days (as-of minus since)
//   timescale, recurring   start, due, end (dates or null), working_days, days (as-of minus
//                          due: over when positive), assumed_interval (only when true)
//   caseload               cases (the worker's open cases; the key is the worker)
// Dates are ISO "YYYY-MM-DD"; times are UTC "2026-11-16T07:00:00Z".
#ifndef CASEWATCH_DAEMON_CONTROL_WIRE_JSON_H_
#define CASEWATCH_DAEMON_CONTROL_WIRE_JSON_H_

#include <boost/json.hpp>
#include <optional>
#include <vector>

#include "rules/rules.h"
#include "storage/storage.h"

namespace service {

// The date as "YYYY-MM-DD", or null.
boost::json::value date_or_null(const std::optional<rules::Date>& date);

// A finding of a rule of `kind` (see above).
boost::json::object finding_json(const rules::TrackedFinding& tracked, rules::RuleKind kind);

// A resolved finding: rule, key, band, first_seen, resolved_on, reason, detail.
boost::json::object resolved_json(const rules::ResolvedFinding& resolved);

// An outbox entry: id, key, recipient, subject, state, attempts, created, next_attempt,
// deadline, sent_at (or null) and last_error. Never the message bytes.
boost::json::object outbox_entry_json(const storage::OutboxEntry& entry);
boost::json::array outbox_json(const std::vector<storage::OutboxEntry>& entries);

// An alert: fingerprint, kind, subject, scope, team, summary, status, started, resolved_at,
// last_notified, silenced. The detail text (which may name a case) is left out.
boost::json::object alert_json(const storage::AlertState& alert);

// A silence: id, rule, scope, reason, who, created, expires (null = until resolved), ended.
boost::json::object silence_json(const storage::Silence& silence);

// `casewatch alerts`: {"alerts": [...], "silences": [...]}.
boost::json::object alerts_json(const std::vector<storage::AlertState>& alerts,
                                const std::vector<storage::Silence>& silences);

}  // namespace service

#endif  // CASEWATCH_DAEMON_CONTROL_WIRE_JSON_H_
