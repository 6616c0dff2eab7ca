#include "daemon/policy/alerts.h"

#include <fmt/format.h>
#include <fnmatch.h>
#include <strings.h>

#include <algorithm>
#include <set>

namespace service {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

bool team_matches(const std::vector<std::string>& globs, std::string_view team) {
  if (team.empty()) {
    return false;
  }
  const std::string t(team);
  return std::any_of(globs.begin(), globs.end(), [&t](const std::string& glob) {
    return fnmatch(glob.c_str(), t.c_str(), FNM_CASEFOLD) == 0;
  });
}

std::int64_t unix_seconds(Time t) { return t.time_since_epoch().count(); }

std::string notice_key(const AlertState& alert, NoticeKind kind, Time now) {
  const Time at = kind == NoticeKind::kRepeat ? now : alert.started;
  return fmt::format("alert/{}/{}/{}", alert.fingerprint, to_string(kind), unix_seconds(at));
}

bool covered(const std::vector<Silence>& silences, const AlertCondition& condition, Time now) {
  return std::any_of(silences.begin(), silences.end(),
                     [&](const Silence& s) { return silence_covers(s, condition, now); });
}

std::string utc(Time t) { return report::rfc5322_date(unix_seconds(t)); }

// "8 weeks", "1 week", "45 working days", "3 months".
std::string long_duration(const rules::Duration& d) {
  const char* unit = "day";
  switch (d.unit) {
    case rules::Unit::kWorkingDays:
      unit = "working day";
      break;
    case rules::Unit::kDays:
      unit = "day";
      break;
    case rules::Unit::kWeeks:
      unit = "week";
      break;
    case rules::Unit::kMonths:
      unit = "month";
      break;
  }
  return fmt::format("{} {}{}", d.amount, unit, d.amount == 1 ? "" : "s");
}

bool is_case_alert(AlertKind kind) { return !is_operator_alert(kind); }

}  // namespace

bool is_operator_alert(AlertKind kind) {
  return kind != AlertKind::kRuleCount && kind != AlertKind::kEscalation;
}

std::string_view kind_name(AlertKind kind) {
  return kind == AlertKind::kRuleCount ? "threshold" : to_string(kind);
}

std::string_view to_string(AlertKind kind) {
  switch (kind) {
    case AlertKind::kRuleCount:
      return "rule_count";
    case AlertKind::kEscalation:
      return "escalation";
    case AlertKind::kStaleSource:
      return "stale_source";
    case AlertKind::kRejectedExtract:
      return "rejected_extract";
    case AlertKind::kDeliveryFailing:
      return "delivery_failing";
    case AlertKind::kUnmatchedFile:
      return "unmatched_file";
    case AlertKind::kCalendarEnding:
      return "calendar_ending";
  }
  return "unknown";
}

std::string_view to_string(AlertStatus status) {
  return status == AlertStatus::kFiring ? "firing" : "resolved";
}

std::string_view to_string(NoticeKind kind) {
  switch (kind) {
    case NoticeKind::kFiring:
      return "firing";
    case NoticeKind::kRepeat:
      return "repeat";
    case NoticeKind::kResolved:
      return "resolved";
  }
  return "unknown";
}

std::string fingerprint(const AlertCondition& condition) {
  return fmt::format("{}/{}/{}", to_string(condition.kind), condition.subject, condition.scope);
}

bool silence_covers(const Silence& silence, const AlertCondition& condition, Time now) {
  if (silence.ended) {
    return false;
  }
  if (silence.expires && now >= *silence.expires) {
    return false;
  }
  if (silence.rule != condition.subject) {
    return false;
  }
  return silence.scope.empty() || silence.scope == condition.scope ||
         iequals(silence.scope, condition.team);
}

bool finding_silenced(const std::vector<Silence>& silences, std::string_view rule,
                      std::string_view key, std::string_view team, Time now) {
  AlertCondition condition;
  condition.kind = AlertKind::kEscalation;
  condition.subject = std::string(rule);
  condition.scope = std::string(key);
  condition.team = std::string(team);
  return covered(silences, condition, now);
}

AlertDecision decide_alerts(const std::vector<AlertCondition>& current,
                            const std::vector<AlertState>& stored,
                            const std::vector<Silence>& silences, const AlertPolicy& policy,
                            Time now) {
  AlertDecision decision;
  std::set<std::string> holding;
  std::set<std::string> handled;  // fingerprints whose state is already in decision.states
  const auto inhibited = [&policy](const AlertCondition& c) {
    return is_case_alert(c.kind) && policy.inhibited_rules.contains(c.subject);
  };
  const auto find_firing = [&stored](const std::string& fp) {
    return std::find_if(stored.begin(), stored.end(), [&fp](const AlertState& s) {
      return s.fingerprint == fp && s.status == AlertStatus::kFiring;
    });
  };

  // Reminders go by group: a group is due when any alert in it that was told and still fires,
  // quiet now, was last told repeat_interval ago or more.
  bool case_due = false;
  bool operator_due = false;
  for (const AlertCondition& condition : current) {
    const auto previous = find_firing(fingerprint(condition));
    if (previous == stored.end() || !previous->last_notified) {
      continue;
    }
    if (covered(silences, condition, now) || inhibited(condition)) {
      continue;
    }
    if (now - *previous->last_notified < policy.repeat_interval) {
      continue;
    }
    (is_operator_alert(condition.kind) ? operator_due : case_due) = true;
  }

  for (const AlertCondition& condition : current) {
    const std::string fp = fingerprint(condition);
    if (!holding.insert(fp).second) {
      continue;  // the same condition twice counts once
    }
    const auto previous = find_firing(fp);
    AlertState state;
    if (previous != stored.end()) {
      state = *previous;
    } else {
      state.fingerprint = fp;
      state.status = AlertStatus::kFiring;
      state.started = now;
    }
    state.condition = condition;
    state.silenced = covered(silences, condition, now);
    if (!state.silenced && !inhibited(condition)) {
      std::optional<NoticeKind> notice;
      if (!state.last_notified) {
        notice = NoticeKind::kFiring;
      } else if (is_operator_alert(condition.kind) ? operator_due : case_due) {
        notice = NoticeKind::kRepeat;
      }
      if (notice) {
        state.last_notified = now;
        decision.notices.push_back({*notice, state, notice_key(state, *notice, now)});
      }
    }
    handled.insert(fp);
    decision.states.push_back(state);
  }

  std::vector<AlertCondition> resolved_now;
  for (const AlertState& previous : stored) {
    if (previous.status != AlertStatus::kFiring) {
      if (!handled.contains(previous.fingerprint)) {
        decision.states.push_back(previous);
      }
      continue;
    }
    if (holding.contains(previous.fingerprint)) {
      continue;
    }
    AlertState state = previous;
    state.status = AlertStatus::kResolved;
    state.resolved_at = now;
    state.silenced = covered(silences, previous.condition, now);
    if (policy.send_resolved && state.last_notified && !state.silenced &&
        !inhibited(previous.condition)) {
      decision.notices.push_back(
          {NoticeKind::kResolved, state, notice_key(state, NoticeKind::kResolved, now)});
    }
    resolved_now.push_back(previous.condition);
    decision.states.push_back(state);
  }

  for (const Silence& silence : silences) {
    if (silence.ended) {
      continue;
    }
    if (silence.expires) {
      if (now >= *silence.expires) {
        decision.ended_silences.push_back(silence.id);
      }
      continue;
    }
    const bool covered_resolved =
        std::any_of(resolved_now.begin(), resolved_now.end(),
                    [&](const AlertCondition& c) { return silence_covers(silence, c, now); });
    const bool covers_firing =
        std::any_of(current.begin(), current.end(),
                    [&](const AlertCondition& c) { return silence_covers(silence, c, now); });
    if (covered_resolved && !covers_firing) {
      decision.ended_silences.push_back(silence.id);
    }
  }
  return decision;
}

std::vector<AlertCondition> rule_conditions(const std::vector<RuleList>& lists,
                                            const std::vector<config::RuleAlerts>& settings,
                                            const rules::Calendar& calendar) {
  std::vector<AlertCondition> out;
  for (const RuleList& list : lists) {
    const auto setting =
        std::find_if(settings.begin(), settings.end(),
                     [&list](const config::RuleAlerts& s) { return s.rule == list.rule->id; });
    if (setting == settings.end()) {
      continue;
    }
    const std::string title = list.rule->title.empty() ? list.rule->id : list.rule->title;

    if (setting->alert_over) {
      const auto count = std::count_if(list.findings.begin(), list.findings.end(),
                                       [](const rules::TrackedFinding& t) {
                                         return t.finding.state == rules::State::kBreach ||
                                                t.finding.state == rules::State::kOverdue;
                                       });
      if (count > *setting->alert_over) {
        AlertCondition c;
        c.kind = AlertKind::kRuleCount;
        c.subject = list.rule->id;
        c.summary = fmt::format("{}: {} on the list, over the alert level of {}", title, count,
                                *setting->alert_over);
        c.detail = fmt::format("{} has {} cases on its list as of {} (alert level {}).", title,
                               count, list.as_of.iso(), *setting->alert_over);
        out.push_back(std::move(c));
      }
    }
    if (!setting->escalate_after && !setting->escalate_listed_after) {
      continue;
    }
    const bool unallocated = list.rule->kind == rules::RuleKind::kUnallocated;
    for (const rules::TrackedFinding& tracked : list.findings) {
      const rules::Finding& f = tracked.finding;
      const bool listed =
          unallocated ? f.state == rules::State::kBreach : f.state == rules::State::kOverdue;
      if (!listed) {
        continue;
      }
      // The rule's own figure: days unallocated (from since) or days overdue (from due).
      const std::optional<rules::Date> anchor = unallocated ? f.since : f.due;
      std::string past;  // "past 8 weeks unallocated", "on the list over 6 weeks"
      std::string from;
      if (setting->escalate_after && anchor &&
          list.as_of > rules::due_date(*anchor, *setting->escalate_after, calendar)) {
        past = fmt::format("past {} {}", long_duration(*setting->escalate_after),
                           unallocated ? "unallocated" : "overdue");
        from = fmt::format("{} since {}", unallocated ? "unallocated" : "due", anchor->iso());
      } else if (setting->escalate_listed_after &&
                 list.as_of > rules::due_date(tracked.first_seen, *setting->escalate_listed_after,
                                              calendar)) {
        past = fmt::format("on the list over {}", long_duration(*setting->escalate_listed_after));
        from = fmt::format("listed since {}", tracked.first_seen.iso());
      }
      if (past.empty()) {
        continue;
      }
      AlertCondition c;
      c.kind = AlertKind::kEscalation;
      c.subject = list.rule->id;
      c.scope = f.key;
      c.team = f.team;
      c.summary = past;
      c.detail = fmt::format("{}: case {} (team {}) is {} as of {} ({}).", title, f.key,
                             f.team.empty() ? "none" : f.team, past, list.as_of.iso(), from);
      out.push_back(std::move(c));
    }
  }
  return out;
}

std::vector<AlertCondition> stale_conditions(const std::vector<config::SourceAlerts>& settings,
                                             const std::map<std::string, Time>& received,
                                             Time now) {
  std::vector<AlertCondition> out;
  for (const config::SourceAlerts& s : settings) {
    if (!s.max_age) {
      continue;
    }
    const auto last = received.find(s.source);
    if (last == received.end()) {
      continue;
    }
    if (now - last->second <= *s.max_age) {
      continue;
    }
    AlertCondition c;
    c.kind = AlertKind::kStaleSource;
    c.subject = s.source;
    const auto hours = s.max_age->count();
    const std::string every = fmt::format("{} hour{}", hours, hours == 1 ? "" : "s");
    c.summary = fmt::format("no new {} extract for over {}", s.source, every);
    c.detail = fmt::format("The last {} extract arrived {}. casewatch expects one every {}.",
                           s.source, utc(last->second), every);
    out.push_back(std::move(c));
  }
  return out;
}

AlertCondition rejected_condition(std::string_view source, std::string_view file,
                                  std::string_view reason) {
  AlertCondition c;
  c.kind = AlertKind::kRejectedExtract;
  c.subject = std::string(source);
  c.scope = std::string(file);
  c.summary = fmt::format("a {} extract was rejected", source);
  c.detail = fmt::format("The {} extract {} was rejected and moved to rejected/: {}", source, file,
                         reason);
  return c;
}

std::vector<AlertCondition> rejected_conditions(const std::vector<storage::ExtractInfo>& extracts) {
  std::map<std::string, std::vector<const storage::ExtractInfo*>> since_ingest;
  for (const storage::ExtractInfo& e : extracts) {
    if (e.status == storage::ExtractStatus::kIngested) {
      since_ingest[e.source].clear();
    } else if (e.status == storage::ExtractStatus::kRejected) {
      since_ingest[e.source].push_back(&e);
    }
  }
  std::vector<AlertCondition> out;
  for (const auto& [source, files] : since_ingest) {
    for (const auto* e : files) {
      out.push_back(rejected_condition(source, e->file, e->error));
    }
  }
  return out;
}

std::vector<AlertCondition> delivery_conditions(const std::vector<OutboxEntry>& undelivered) {
  std::vector<AlertCondition> out;
  std::set<std::string> seen;
  for (const OutboxEntry& e : undelivered) {
    const bool failing = e.state == OutboxState::kFailed ||
                         (e.state == OutboxState::kPending && e.attempts >= kFailingAttempts);
    if (!failing || !seen.insert(e.recipient).second) {
      continue;
    }
    AlertCondition c;
    c.kind = AlertKind::kDeliveryFailing;
    c.subject = e.recipient;
    c.summary = "mail cannot be delivered";
    c.detail = fmt::format(
        "Mail to {} {}: {}. See `casewatch outbox`; retry or cancel the entries there.",
        e.recipient,
        e.state == OutboxState::kFailed ? "failed"
                                        : fmt::format("failed {} times and is retried", e.attempts),
        e.last_error);
    out.push_back(std::move(c));
  }
  return out;
}

std::optional<AlertCondition> calendar_condition(std::optional<rules::Date> last_listed,
                                                 rules::Date today) {
  const auto year_ahead = rules::add_months(today, 12);
  if (last_listed && !(*last_listed < year_ahead)) {
    return std::nullopt;
  }
  AlertCondition c;
  c.kind = AlertKind::kCalendarEnding;
  c.subject = "holidays";
  c.summary = "the bank-holiday list ends within a year";
  c.detail = last_listed ? fmt::format(
                               "The bank-holiday list ends on {}: working-day due dates after it "
                               "ignore bank holidays. Install a newer casewatch data file or set "
                               "[service] holidays_file.",
                               last_listed->iso())
                         : std::string(
                               "The bank-holiday list is empty: working-day due dates ignore bank "
                               "holidays.");
  return c;
}

std::vector<AlertCondition> unmatched_conditions(const std::vector<std::string>& files) {
  std::vector<AlertCondition> out;
  for (const auto& file : files) {
    AlertCondition c;
    c.kind = AlertKind::kUnmatchedFile;
    c.subject = "inbox";
    c.scope = file;
    c.summary = "a file in the inbox matches no source";
    c.detail = fmt::format(
        "{} is in the inbox but matches no [[source]] files pattern, so it is never read. "
        "Rename it, remove it, or add a source for it.",
        file);
    out.push_back(std::move(c));
  }
  return out;
}

std::set<std::string> inhibited_rules(const rules::RuleSet& rule_set,
                                      const std::vector<AlertCondition>& current,
                                      const std::set<std::string>& no_data) {
  std::set<std::string> sources = no_data;
  for (const AlertCondition& c : current) {
    if (c.kind == AlertKind::kStaleSource) {
      sources.insert(c.subject);
    }
  }
  std::set<std::string> out;
  for (const auto& rule : rule_set.rules) {
    // A recurring rule's events and an unallocated rule's allocations come from sources of
    // their own: a stale one of those makes the list as untrustworthy as a stale main source.
    for (const std::string& read : rules::sources_of(rule)) {
      if (sources.contains(read)) {
        out.insert(rule.id);
      }
    }
  }
  return out;
}

bool route_matches(const config::Route& route, const AlertCondition& condition) {
  if (!route.receives(kind_name(condition.kind))) {
    return false;
  }
  if (is_operator_alert(condition.kind)) {
    return true;
  }
  if (!route.rules.empty() &&
      std::find(route.rules.begin(), route.rules.end(), condition.subject) == route.rules.end()) {
    return false;
  }
  if (route.teams.empty()) {
    return true;
  }
  return condition.kind == AlertKind::kEscalation && team_matches(route.teams, condition.team);
}

std::vector<const config::Route*> routes_for(const AlertCondition& condition,
                                             const config::Config& config) {
  std::vector<const config::Route*> routes;
  for (const auto& route : config.routes) {
    if (route_matches(route, condition)) {
      routes.push_back(&route);
    }
  }
  if (!routes.empty() || !is_operator_alert(condition.kind)) {
    return routes;
  }
  for (const auto& route : config.routes) {
    if (route.reviews && route.rules.empty() && route.teams.empty()) {
      routes.push_back(&route);
    }
  }
  if (!routes.empty()) {
    return routes;
  }
  for (const auto& route : config.routes) {
    if (route.reviews && route.teams.empty()) {
      routes.push_back(&route);
    }
  }
  return routes;
}

}  // namespace service
