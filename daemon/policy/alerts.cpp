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

bool is_operator_alert(AlertKind kind) {
  return kind == AlertKind::kStaleSource || kind == AlertKind::kRejectedExtract ||
         kind == AlertKind::kDeliveryFailing;
}

bool team_matches(const std::vector<std::string>& globs, std::string_view team) {
  if (team.empty()) return false;
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

}  // namespace

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
  if (silence.ended) return false;
  if (silence.expires && now >= *silence.expires) return false;
  if (silence.rule != condition.subject) return false;
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

  for (const AlertCondition& condition : current) {
    const std::string fp = fingerprint(condition);
    if (!holding.insert(fp).second) continue;  // the same condition twice counts once
    const auto previous = std::find_if(stored.begin(), stored.end(), [&fp](const AlertState& s) {
      return s.fingerprint == fp && s.status == AlertStatus::kFiring;
    });
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
    if (!state.silenced) {
      std::optional<NoticeKind> notice;
      if (!state.last_notified) {
        notice = NoticeKind::kFiring;
      } else if (now - *state.last_notified >= policy.repeat_interval) {
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
      if (!handled.contains(previous.fingerprint)) decision.states.push_back(previous);
      continue;
    }
    if (holding.contains(previous.fingerprint)) continue;
    AlertState state = previous;
    state.status = AlertStatus::kResolved;
    state.resolved_at = now;
    state.silenced = covered(silences, previous.condition, now);
    if (policy.send_resolved && state.last_notified && !state.silenced) {
      decision.notices.push_back(
          {NoticeKind::kResolved, state, notice_key(state, NoticeKind::kResolved, now)});
    }
    resolved_now.push_back(previous.condition);
    decision.states.push_back(state);
  }

  for (const Silence& silence : silences) {
    if (silence.ended) continue;
    if (silence.expires) {
      if (now >= *silence.expires) decision.ended_silences.push_back(silence.id);
      continue;
    }
    const bool covered_resolved =
        std::any_of(resolved_now.begin(), resolved_now.end(),
                    [&](const AlertCondition& c) { return silence_covers(silence, c, now); });
    const bool covers_firing =
        std::any_of(current.begin(), current.end(),
                    [&](const AlertCondition& c) { return silence_covers(silence, c, now); });
    if (covered_resolved && !covers_firing) decision.ended_silences.push_back(silence.id);
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
    if (setting == settings.end()) continue;
    const std::string title = list.rule->title.empty() ? list.rule->id : list.rule->title;

    if (setting->alert_over) {
      const auto count =
          std::count_if(list.findings.begin(), list.findings.end(), [](const rules::Finding& f) {
            return f.state == rules::State::kBreach || f.state == rules::State::kOverdue;
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
    if (setting->escalate_after) {
      for (const rules::Finding& f : list.findings) {
        std::optional<rules::Date> anchor;
        if (list.rule->kind == rules::RuleKind::kUnallocated && f.state == rules::State::kBreach) {
          anchor = f.since;
        } else if (f.state == rules::State::kOverdue) {
          anchor = f.due;
        }
        if (!anchor) continue;
        const rules::Date limit = rules::due_date(*anchor, *setting->escalate_after, calendar);
        if (!(list.as_of > limit)) continue;
        AlertCondition c;
        c.kind = AlertKind::kEscalation;
        c.subject = list.rule->id;
        c.scope = f.key;
        c.team = f.team;
        c.summary = fmt::format("{}: a case is past {}", title, setting->escalate_after->str());
        c.detail = fmt::format("{}: case {} (team {}) is past {} as of {} (since {}).", title,
                               f.key, f.team.empty() ? "none" : f.team,
                               setting->escalate_after->str(), list.as_of.iso(), anchor->iso());
        out.push_back(std::move(c));
      }
    }
  }
  return out;
}

std::vector<AlertCondition> stale_conditions(const std::vector<config::SourceAlerts>& settings,
                                             const std::map<std::string, Time>& received,
                                             Time now) {
  std::vector<AlertCondition> out;
  for (const config::SourceAlerts& s : settings) {
    if (!s.max_age) continue;
    const auto last = received.find(s.source);
    if (last == received.end()) continue;
    if (now - last->second <= *s.max_age) continue;
    AlertCondition c;
    c.kind = AlertKind::kStaleSource;
    c.subject = s.source;
    c.summary = fmt::format("no new {} extract for over {} hours", s.source, s.max_age->count());
    c.detail = fmt::format("The last {} extract arrived {}. casewatch expects one every {} hours.",
                           s.source, utc(last->second), s.max_age->count());
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

std::vector<AlertCondition> delivery_conditions(const std::vector<OutboxEntry>& failed) {
  std::vector<AlertCondition> out;
  std::set<std::string> seen;
  for (const OutboxEntry& e : failed) {
    if (e.state != OutboxState::kFailed || !seen.insert(e.recipient).second) continue;
    AlertCondition c;
    c.kind = AlertKind::kDeliveryFailing;
    c.subject = e.recipient;
    c.summary = "mail cannot be delivered";
    c.detail = fmt::format(
        "Mail to {} failed: {}. See `casewatch outbox`; retry or cancel the entries there.",
        e.recipient, e.last_error);
    out.push_back(std::move(c));
  }
  return out;
}

bool route_matches(const config::Route& route, const AlertCondition& condition) {
  if (is_operator_alert(condition.kind)) return route.rules.empty() && route.teams.empty();
  if (!route.rules.empty() &&
      std::find(route.rules.begin(), route.rules.end(), condition.subject) == route.rules.end()) {
    return false;
  }
  if (route.teams.empty()) return true;
  return condition.kind == AlertKind::kEscalation && team_matches(route.teams, condition.team);
}

std::vector<OutboxEntry> alert_mail(const AlertNotice& notice, const config::Config& config,
                                    Time now, const BackoffPolicy& policy) {
  std::vector<OutboxEntry> entries;
  if (!config.mail.enabled()) return entries;
  const AlertCondition& c = notice.alert.condition;
  std::vector<const config::Route*> routes;
  for (const auto& route : config.routes) {
    if (route_matches(route, c)) routes.push_back(&route);
  }
  if (routes.empty() && is_operator_alert(c.kind)) {
    for (const auto& route : config.routes) {
      if (route.teams.empty()) routes.push_back(&route);
    }
  }
  const std::string_view prefix = notice.kind == NoticeKind::kResolved ? "casewatch resolved"
                                  : notice.kind == NoticeKind::kRepeat ? "casewatch alert (repeat)"
                                                                       : "casewatch alert";
  report::MailMessage message;
  message.from = config.mail.from;
  message.subject = fmt::format("{}: {}", prefix, c.summary);
  message.date = report::rfc5322_date(unix_seconds(now));
  // A case key leaves the building only when the allow-list lets it (review.fields).
  const auto& allowed = config.review.fields;
  const bool key_allowed = c.scope.empty() || c.kind != AlertKind::kEscalation ||
                           std::find(allowed.begin(), allowed.end(), "key") != allowed.end();
  message.text = fmt::format(
      "{}\n\n{}\n\nFiring since {}.{}\nAlert {}\n", message.subject,
      key_allowed ? c.detail : c.summary + ".\nThe case key is not on the allow-list.",
      utc(notice.alert.started),
      notice.alert.resolved_at ? fmt::format("\nResolved {}.", utc(*notice.alert.resolved_at))
                               : std::string(),
      key_allowed ? notice.alert.fingerprint : fmt::format("{}/{}", to_string(c.kind), c.subject));
  for (const config::Route* route : routes) {
    std::vector<std::string> recipients;
    for (const auto& to : route->to) {
      if (recipient_allowed(to, config.mail.allowed_domains)) recipients.push_back(to);
    }
    if (recipients.empty()) continue;
    const std::string key = notice.key + "/" + route->name;
    message.to = recipients;
    message.message_id = message_id_for(key, config.mail.from);
    const std::string bytes = report::build_message(message);
    for (const auto& to : recipients) {
      entries.push_back(make_entry(key, to, config.mail.from, message.subject, bytes, now, policy));
    }
  }
  return entries;
}

}  // namespace service
