#include "daemon/work/status_reading.h"

#include <algorithm>
#include <exception>

#include "daemon/policy/alerts.h"
#include "ingest/ingest.h"

namespace service {
namespace {

void read_database(const config::Config& config, const storage::History& history,
                   StatusReading& out) {
  for (const auto& source : config.rules.sources) {
    out.latest.emplace_back(source.name, history.latest_extract(source.name));
  }
  for (const auto& rule : config.rules.rules) {
    std::vector<rules::BandCount>& bands = out.bands[rule.id];
    // The rule's source's latest extract, as read above (config validates the source).
    const auto source =
        std::find_if(out.latest.begin(), out.latest.end(),
                     [&rule](const auto& entry) { return entry.first == rule.source; });
    if (source != out.latest.end() && source->second) {
      const rules::Date as_of = source->second->as_of;
      for (auto& point : history.trend(rule.id, as_of, as_of)) {
        bands.push_back({point.rule, std::move(point.band), point.count, ""});
      }
    }
  }
  for (const auto& kinds : {config::kCaseAlertKinds, config::kOperatorAlertKinds}) {
    for (const auto& kind : kinds) {
      out.alerts_firing[kind] = 0;
    }
  }
  for (const auto& alert : history.alert_states()) {
    if (alert.status == storage::AlertStatus::kFiring) {
      ++out.alerts_firing[std::string(kind_name(alert.condition.kind))];
    }
  }
  for (const auto state : {storage::OutboxState::kPending, storage::OutboxState::kSent,
                           storage::OutboxState::kFailed, storage::OutboxState::kCancelled}) {
    out.outbox[std::string(storage::to_string(state))] = 0;
  }
  for (const auto& [state, count] : history.outbox_counts()) {
    out.outbox[state] = count;
  }
  out.last_review_week = history.last_review_week();
  out.last_review_at = history.last_review_at();
  out.extracts = history.extract_counts();
  for (const auto& fetch : config.fetches) {
    const std::string name = "fetch/" + fetch.source;
    if (auto stored = history.setting(name)) {
      out.fetch_results.emplace(name, std::move(*stored));
    }
  }
  out.next_outbox_attempt = history.next_outbox_attempt();
}

}  // namespace

StatusReading read_status(const config::Config& config, const storage::History& history) noexcept {
  StatusReading out;
  try {
    read_database(config, history, out);
  } catch (const std::exception& e) {
    out = StatusReading{};
    out.database_error = e.what();
  }
  try {
    for (const auto& file :
         ingest::unmatched_files(config.service.inbox_dir(), config.rules.sources)) {
      out.unmatched.emplace_back(file.path.filename().string(), file.reason);
    }
  } catch (const std::exception& e) {
    out.unmatched.clear();
    out.inbox_error = e.what();
  }
  return out;
}

}  // namespace service
