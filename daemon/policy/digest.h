// Alert digests: what one alert cycle tells each route, as Alertmanager groups its
// notifications. Every notice of a cycle (fired, repeated, resolved) is routed
// (routes_for) and grouped per route and per group of kinds (case alerts apart from operator
// alerts), and each group becomes ONE message: a subject with counts ("casewatch: 14 cases newly
// past 8 weeks unallocated (North team)"), then the items in tables through the route's allowed
// fields. Reminders come as one digest per route and group (decide_alerts repeats a whole group
// at once). Turning escalation on for a list of 200 cases sends one message per route, not 200.
//
// Pure: no I/O, no clock, no logging; the daemon queues the digests' mail in the transaction
// that stores the alert states and logs log_line() for each.
#ifndef CASEWATCH_DAEMON_POLICY_DIGEST_H_
#define CASEWATCH_DAEMON_POLICY_DIGEST_H_

#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "daemon/policy/alerts.h"
#include "daemon/policy/outbox.h"

namespace service {

enum class AlertGroup { kCase, kOperator };
std::string_view to_string(AlertGroup group);  // "case alerts", "operator alerts"
AlertGroup group_of(AlertKind kind);

// One message's worth: the notices of one cycle for one route and group.
struct Digest {
  const config::Route* route = nullptr;  // points into the Config given to build_digests
  AlertGroup group = AlertGroup::kCase;
  std::vector<AlertNotice> fired;     // newly firing
  std::vector<AlertNotice> repeated;  // still firing: the reminder
  std::vector<AlertNotice> resolved;
  std::string subject;  // counts only, never a child's identifiers; with the route's name
  std::string text;     // the body: the items through the route's allowed fields
};

// Groups `notices` into digests, one per route and group that has any, in route order (case
// alerts first). `lists` gives the case items' figures (the rules' open findings now); a case
// that left its list is shown with the key and team it was last seen with. Each table keeps to
// the route's fields (route.fields, else config.review.fields): without "key" no case key is
// shown, in the table or in the text.
std::vector<Digest> build_digests(const std::vector<AlertNotice>& notices,
                                  const config::Config& config, const std::vector<RuleList>& lists,
                                  Time now);

// The digest's messages, one outbox entry per allowed recipient of its route, under the key
// "alert/digest/<group>/<route>/<hash of the notices' keys>" (queued once, however often the
// same decision is replayed). Empty when mail is not enabled.
std::vector<OutboxEntry> digest_mail(const Digest& digest, const config::Config& config, Time now,
                                     const BackoffPolicy& policy = {});

// The log line for a digest: route, group and counts, never a key:
// "alert digest to route 'north' (case alerts): 14 firing, 0 still firing, 2 resolved".
std::string log_line(const Digest& digest);

}  // namespace service

#endif  // CASEWATCH_DAEMON_POLICY_DIGEST_H_
