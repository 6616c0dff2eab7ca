// The Engine's alert cycle: gathers every condition that holds now from the history and hands
// them to the alert lifecycle (daemon/policy/alerts.h), which stores states and queues notices.
#include <map>

#include "daemon/clock.h"
#include "daemon/work/engine.h"

namespace service {
AlertDecision update_alerts(storage::History& history, const std::vector<AlertCondition>& current,
                            const config::Config& config, Time now, const BackoffPolicy& backoff) {
  AlertPolicy policy;
  policy.repeat_interval = config.mail.repeat_interval;
  policy.send_resolved = config.mail.send_resolved;
  AlertDecision decision =
      decide_alerts(current, history.alert_states(), history.silences(), policy, now);
  std::vector<OutboxEntry> mail;
  for (const AlertNotice& notice : decision.notices) {
    auto entries = alert_mail(notice, config, now, backoff);
    mail.insert(mail.end(), std::make_move_iterator(entries.begin()),
                std::make_move_iterator(entries.end()));
  }
  history.apply_alerts(decision.states, decision.ended_silences, mail);
  return decision;
}

AlertDecision Engine::run_alerts(Time now) {
  std::vector<AlertCondition> current;

  // Rules: counts over alert_over and records past escalate_after, from the open findings.
  std::vector<RuleList> lists;
  for (const auto& rule : config_.rules.rules) {
    const auto latest = history_.latest_extract(rule.source);
    if (!latest) continue;
    RuleList list{&rule, latest->as_of, {}};
    for (auto& tracked : history_.open_findings(rule.id)) {
      list.findings.push_back(std::move(tracked.finding));
    }
    lists.push_back(std::move(list));
  }
  auto rule_alerts = rule_conditions(lists, config_.rule_alerts, calendar_);
  current.insert(current.end(), rule_alerts.begin(), rule_alerts.end());

  // Sources: when each last sent an extract that was ingested, and whether the latest file
  // handled was rejected.
  std::map<std::string, Time> received;
  std::map<std::string, storage::ExtractInfo> latest_handled;
  for (const auto& extract : history_.extracts()) {  // oldest first
    if (extract.status == storage::ExtractStatus::kIngested) {
      if (auto at = parse_utc(extract.handled_at)) received[extract.source] = *at;
    }
    if (extract.status != storage::ExtractStatus::kDuplicate) {
      latest_handled[extract.source] = extract;
    }
  }
  auto stale = stale_conditions(config_.source_alerts, received, now);
  current.insert(current.end(), stale.begin(), stale.end());
  for (const auto& [source, extract] : latest_handled) {
    if (extract.status == storage::ExtractStatus::kRejected) {
      current.push_back(rejected_condition(source, extract.file, extract.error));
    }
  }

  // Mail that failed for good.
  auto failing = delivery_conditions(history_.outbox(OutboxState::kFailed, 1000));
  current.insert(current.end(), failing.begin(), failing.end());

  return update_alerts(history_, current, config_, now);
}

}  // namespace service
