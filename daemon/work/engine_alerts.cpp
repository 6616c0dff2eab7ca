// The Engine's alert cycle: gathers every condition that holds now from the history and hands
// them to the alert lifecycle (daemon/policy/alerts.h), which stores states; the notices go out
// as one digest per route and group (daemon/policy/digest.h), queued in the same transaction.
#include <date/tz.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "daemon/clock.h"
#include "daemon/policy/digest.h"
#include "daemon/work/engine.h"
#include "ingest/ingest.h"

namespace service {
namespace {

// The names of the inbox files that match no source (ingest::unmatched_files, the same scan
// that --once, status and metrics report) that have sat for at least `settle` (a file still being
// written under its final name is not yet news). An unreadable inbox gives none: the cycle itself
// reports that.
std::vector<std::string> unmatched_inbox_files(const config::Config& config, Time now) {
  std::vector<std::string> out;
  std::vector<ingest::UnmatchedFile> files;
  try {
    files = ingest::unmatched_files(config.service.inbox_dir(), config.rules.sources);
  } catch (const std::filesystem::filesystem_error&) {
    return out;
  }
  for (const auto& file : files) {
    const auto at =
        std::chrono::floor<std::chrono::seconds>(std::chrono::file_clock::to_sys(file.modified));
    if (now - at < config.service.settle) {
      continue;
    }
    out.push_back(file.path.filename().string());
  }
  return out;
}

}  // namespace

AlertDecision update_alerts(storage::History& history, const std::vector<AlertCondition>& current,
                            const config::Config& config, Time now, const AlertContext& context,
                            const BackoffPolicy& backoff) {
  AlertPolicy policy;
  policy.repeat_interval = config.mail.repeat_interval;
  policy.send_resolved = config.mail.send_resolved;
  policy.inhibited_rules = context.inhibited_rules;
  AlertDecision decision =
      decide_alerts(current, history.alert_states(), history.silences(), policy, now);
  const auto digests = build_digests(decision.notices, config, context.lists, now);
  std::vector<OutboxEntry> mail;
  for (const Digest& digest : digests) {
    auto entries = digest_mail(digest, config, now, backoff);
    mail.insert(mail.end(), std::make_move_iterator(entries.begin()),
                std::make_move_iterator(entries.end()));
  }
  history.apply_alerts(decision.states, decision.ended_silences, mail);
  for (const Digest& digest : digests) {
    spdlog::info("{}", log_line(digest));
  }
  return decision;
}

AlertDecision Engine::run_alerts(Time now, const report::Review* review) {
  std::vector<AlertCondition> current;
  AlertContext context;

  // Rules: counts over alert_over and records past escalate_after or escalate_listed_after,
  // from the open findings. Sources with no extract have no list (and inhibit their rules).
  std::set<std::string> no_data;
  for (const auto& rule : config_.rules.rules) {
    for (const std::string& read : rules::sources_of(rule)) {
      if (read != rule.source && !history_.latest_extract(read)) {
        no_data.insert(read);
      }
    }
    const auto latest = history_.latest_extract(rule.source);
    if (!latest) {
      no_data.insert(rule.source);
      continue;
    }
    const report::RuleSection* section = nullptr;
    if (review != nullptr) {
      const auto found =
          std::find_if(review->sections.begin(), review->sections.end(),
                       [&](const report::RuleSection& s) { return s.rule->id == rule.id; });
      section = found != review->sections.end() ? &*found : nullptr;
    }
    context.lists.push_back(
        RuleList{&rule, latest->as_of,
                 section != nullptr ? section->open : history_.open_findings(rule.id)});
  }
  auto rule_alerts = rule_conditions(context.lists, config_.rule_alerts, calendar_);
  current.insert(current.end(), rule_alerts.begin(), rule_alerts.end());

  // Sources: when each last sent an extract that was ingested, and the files rejected since.
  std::map<std::string, Time> received;
  const auto extracts = history_.extracts();  // oldest first
  for (const auto& extract : extracts) {
    if (extract.status == storage::ExtractStatus::kIngested) {
      if (auto at = parse_utc(extract.handled_at)) {
        received[extract.source] = *at;
      }
    }
  }
  auto stale = stale_conditions(config_.source_alerts, received, now);
  current.insert(current.end(), stale.begin(), stale.end());
  auto rejected = rejected_conditions(extracts);
  current.insert(current.end(), rejected.begin(), rejected.end());

  // Mail failed for good, or failing again and again.
  auto undelivered = history_.outbox(OutboxState::kFailed, 1000);
  auto pending = history_.outbox(OutboxState::kPending, 1000);
  undelivered.insert(undelivered.end(), pending.begin(), pending.end());
  auto failing = delivery_conditions(undelivered);
  current.insert(current.end(), failing.begin(), failing.end());

  // Inbox files no source reads.
  auto unmatched = unmatched_conditions(unmatched_inbox_files(config_, now));
  current.insert(current.end(), unmatched.begin(), unmatched.end());

  // The holiday list.
  if (auto ending = calendar_condition(
          calendar_.last_listed(), local_date(now, date::locate_zone(config_.service.timezone)))) {
    current.push_back(std::move(*ending));
  }

  context.inhibited_rules = inhibited_rules(config_.rules, current, no_data);
  return update_alerts(history_, current, config_, now, context);
}

}  // namespace service
