#include "daemon/control/wire_json.h"

#include "daemon/clock.h"
#include "daemon/policy/alerts.h"

namespace service {
namespace {

namespace json = boost::json;

json::value time_or_null(const std::optional<SysSeconds>& time) {
  return time ? json::value(utc_text(*time)) : json::value(nullptr);
}

}  // namespace

json::value date_or_null(const std::optional<rules::Date>& date) {
  if (!date) {
    return nullptr;
  }
  return json::value(date->iso());
}

json::object finding_json(const rules::TrackedFinding& tracked, rules::RuleKind kind) {
  const rules::Finding& f = tracked.finding;
  json::object out{{"rule", f.rule},
                   {"key", f.key},
                   {"person", f.person},
                   {"team", f.team},
                   {"worker", f.worker},
                   {"band", f.band},
                   {"state", std::string(rules::to_string(f.state))},
                   {"status", std::string(rules::to_string(tracked.status))},
                   {"first_seen", tracked.first_seen.iso()},
                   {"weeks_on_list", tracked.weeks_on_list},
                   {"review_status", std::string(rules::to_string(tracked.review_status))},
                   {"weeks_on_review", tracked.weeks_on_review}};
  switch (kind) {
    case rules::RuleKind::kUnallocated:
      out["since"] = date_or_null(f.since);
      out["since_at_least"] = f.since_at_least;
      out["days"] = f.days;
      break;
    case rules::RuleKind::kCaseload:
      out["cases"] = f.cases;
      break;
    default:
      out["start"] = date_or_null(f.start);
      out["due"] = date_or_null(f.due);
      out["end"] = date_or_null(f.end);
      out["working_days"] = f.working_days;
      out["days"] = f.days;
      if (f.assumed_interval) {
        out["assumed_interval"] = true;
      }
      break;
  }
  if (!f.detail.empty()) {
    out["detail"] = f.detail;
  }
  if (tracked.latest_note) {
    out["note"] = json::object{{"text", tracked.latest_note->text},
                               {"author", tracked.latest_note->author},
                               {"at", tracked.latest_note->at},
                               {"earlier", tracked.earlier_notes}};
  }
  return out;
}

json::object resolved_json(const rules::ResolvedFinding& resolved) {
  json::object out{{"rule", resolved.last.rule},
                   {"key", resolved.last.key},
                   {"band", resolved.last.band},
                   {"first_seen", resolved.first_seen.iso()},
                   {"resolved_on", resolved.resolved_on.iso()},
                   {"reason", std::string(rules::to_string(resolved.reason))},
                   {"detail", resolved.detail}};
  if (resolved.last_note) {
    out["last_note"] = json::object{{"text", resolved.last_note->text},
                                    {"author", resolved.last_note->author},
                                    {"at", resolved.last_note->at}};
  }
  return out;
}

json::object outbox_entry_json(const storage::OutboxEntry& e) {
  return json::object{
      {"id", e.id},
      {"key", e.key},
      {"recipient", e.recipient},
      {"subject", e.subject},
      {"state", storage::to_string(e.state)},
      {"attempts", e.attempts},
      {"created", utc_text(e.created)},
      {"next_attempt", utc_text(e.next_attempt)},
      {"deadline", utc_text(e.deadline)},
      {"sent_at", time_or_null(e.sent_at)},
      {"last_error", e.last_error},
  };
}

json::array outbox_json(const std::vector<storage::OutboxEntry>& entries) {
  json::array out;
  for (const auto& entry : entries) {
    out.push_back(outbox_entry_json(entry));
  }
  return out;
}

json::object alert_json(const storage::AlertState& s) {
  return json::object{
      {"fingerprint", s.fingerprint},
      {"kind", to_string(s.condition.kind)},
      {"subject", s.condition.subject},
      {"scope", s.condition.scope},
      {"team", s.condition.team},
      {"summary", s.condition.summary},
      {"status", to_string(s.status)},
      {"started", utc_text(s.started)},
      {"resolved_at", time_or_null(s.resolved_at)},
      {"last_notified", time_or_null(s.last_notified)},
      {"silenced", s.silenced},
  };
}

json::object silence_json(const storage::Silence& s) {
  return json::object{
      {"id", s.id},
      {"rule", s.rule},
      {"scope", s.scope},
      {"reason", s.reason},
      {"who", s.who},
      {"created", utc_text(s.created)},
      {"expires", time_or_null(s.expires)},
      {"ended", s.ended},
  };
}

json::object alerts_json(const std::vector<storage::AlertState>& alerts,
                         const std::vector<storage::Silence>& silences) {
  json::array a;
  for (const auto& alert : alerts) {
    a.push_back(alert_json(alert));
  }
  json::array q;
  for (const auto& silence : silences) {
    q.push_back(silence_json(silence));
  }
  return {{"alerts", std::move(a)}, {"silences", std::move(q)}};
}

}  // namespace service
