#include "daemon/status.h"

#include <date/tz.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "daemon/control/wire_json.h"
#include "daemon/policy/alerts.h"
#include "ingest/ingest.h"
#include "report/report.h"

namespace service {
namespace {

namespace json = boost::json;

std::string prometheus_label(std::string_view value) {
  std::string out;
  for (const char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

StatusSnapshot::RuleStatus rule_status(const rules::Rule& rule,
                                       const std::vector<rules::TrackedFinding>& open,
                                       const std::vector<rules::BandCount>& bands) {
  StatusSnapshot::RuleStatus entry;
  entry.rule = rule.id;
  std::vector<const rules::Finding*> findings;
  for (const auto& tracked : open) {
    findings.push_back(&tracked.finding);
    ++entry.open;
    if (tracked.status == rules::FindingStatus::kNew) {
      ++entry.new_findings;
    }
    auto band = std::find_if(entry.bands.begin(), entry.bands.end(),
                             [&](const auto& b) { return b.first == tracked.finding.band; });
    if (band == entry.bands.end()) {
      entry.bands.emplace_back(tracked.finding.band, 1);
    } else {
      ++band->second;
    }
  }
  const auto totals = report::rule_totals(rule, findings, bands);
  entry.listed = totals.listed;
  entry.untrusted = totals.untrusted;
  if (rule.kind == rules::RuleKind::kUnallocated) {
    entry.all_unallocated = totals.all;
  }
  entry.totals = report::totals_text(rule, totals);
  return entry;
}

std::string Status::line() const {
  int open = 0;
  for (const auto& rule : snapshot_.rules) {
    open += rule.open;
  }
  return fmt::format("{} open findings; {} cycles, {} failed", open, snapshot_.cycles,
                     snapshot_.cycle_failures);
}

void Status::refresh(const config::Config& config, const storage::History& history,
                     const OpenFindings& findings) noexcept {
  apply(config, read_status(config, history), findings);
}

void Status::apply(const config::Config& config, StatusReading reading,
                   const OpenFindings& findings) noexcept {
  if (!reading.database_error.empty()) {
    spdlog::error("cannot read the status from the database: {}", reading.database_error);
  } else {
    try {
      std::vector<StatusSnapshot::SourceStatus> sources;
      for (auto& [name, latest] : reading.latest) {
        StatusSnapshot::SourceStatus entry;
        entry.name = name;
        if (latest) {
          entry.file = std::move(latest->file);
          entry.as_of = latest->as_of;
          entry.rows = latest->rows;
          entry.handled_at = parse_utc(latest->handled_at);
        }
        sources.push_back(std::move(entry));
      }
      std::vector<StatusSnapshot::RuleStatus> rule_list;
      for (const auto& [rule_id, open] : findings.rules) {
        const rules::Rule* rule = config.rules.find_rule(rule_id);
        if (rule == nullptr) {
          continue;
        }
        const auto bands = reading.bands.find(rule_id);
        rule_list.push_back(rule_status(
            *rule, open,
            bands == reading.bands.end() ? std::vector<rules::BandCount>{} : bands->second));
      }
      snapshot_.sources = std::move(sources);
      snapshot_.rules = std::move(rule_list);
      snapshot_.last_review_week = std::move(reading.last_review_week);
      snapshot_.last_review_at =
          reading.last_review_at ? parse_utc(*reading.last_review_at) : std::nullopt;
      snapshot_.alerts_firing = std::move(reading.alerts_firing);
      snapshot_.outbox = std::move(reading.outbox);
      snapshot_.extracts = std::move(reading.extracts);
      // Merged, not replaced: a result stored after this reading was taken stays.
      for (auto& [name, value] : reading.fetch_results) {
        stored_fetches_[name] = std::move(value);
      }
    } catch (const std::exception& e) {  // out of memory
      spdlog::error("cannot update the status: {}", e.what());
    }
  }
  if (!reading.inbox_error.empty()) {
    spdlog::error("cannot list the inbox: {}", reading.inbox_error);
  } else {
    for (const auto& [name, reason] : reading.unmatched) {
      if (logged_unmatched_.insert(name).second) {
        spdlog::warn("inbox: {} is not read: it {}", name, reason);
      }
    }
    snapshot_.unmatched = std::move(reading.unmatched);
  }
  show_fetches(config);
}

void Status::record_fetch(const FetchOutcome& outcome, const config::Config& config) {
  if (outcome.ok) {
    spdlog::info("fetch for {}: {}; {} is in the inbox", outcome.source, outcome.detail,
                 outcome.file);
  } else {
    spdlog::error("fetch for {} failed: {}", outcome.source, outcome.detail);
  }
  pending_fetches_["fetch/" + outcome.source] = json::serialize(
      json::object{{"at", outcome.at}, {"ok", outcome.ok}, {"detail", outcome.detail}});
  show_fetches(config);
}

std::vector<std::pair<std::string, std::string>> Status::pending_fetches() const {
  return {pending_fetches_.begin(), pending_fetches_.end()};
}

void Status::fetches_stored(const std::vector<std::pair<std::string, std::string>>& stored) {
  for (const auto& [name, value] : stored) {
    // A result recorded since this one was taken stays pending.
    if (const auto pending = pending_fetches_.find(name);
        pending != pending_fetches_.end() && pending->second == value) {
      stored_fetches_[name] = value;
      pending_fetches_.erase(pending);
    }
  }
}

void Status::show_fetches(const config::Config& config) noexcept {
  try {
    std::vector<StatusSnapshot::FetchStatus> fetches;
    for (const auto& fetch : config.fetches) {
      StatusSnapshot::FetchStatus entry;
      entry.source = fetch.source;
      const std::string name = "fetch/" + fetch.source;
      const std::string* value = nullptr;
      if (const auto pending = pending_fetches_.find(name); pending != pending_fetches_.end()) {
        value = &pending->second;
      } else if (const auto stored = stored_fetches_.find(name); stored != stored_fetches_.end()) {
        value = &stored->second;
      }
      if (value != nullptr) {
        const json::value parsed = json::parse(*value);
        entry.at = json::value_to<std::string>(parsed.at("at"));
        entry.ok = parsed.at("ok").as_bool();
        entry.detail = json::value_to<std::string>(parsed.at("detail"));
      }
      fetches.push_back(std::move(entry));
    }
    snapshot_.fetches = std::move(fetches);
  } catch (const std::exception& e) {
    spdlog::error("cannot read the fetch results: {}", e.what());
  }
}

json::object status_json(const StatusSnapshot& status, SysSeconds now,
                         const date::time_zone* zone) {
  const rules::Date today = local_date(now, zone);
  const auto local = [zone](const std::optional<SysSeconds>& instant) {
    return instant ? json::value(local_time_text(*instant, zone)) : json::value(nullptr);
  };
  json::array sources;
  for (const auto& source : status.sources) {
    json::object entry{{"source", source.name}};
    if (source.file.empty()) {
      entry["file"] = nullptr;
    } else {
      entry["file"] = source.file;
      entry["as_of"] = date_or_null(source.as_of);
      entry["rows"] = source.rows;
      if (source.as_of) {
        entry["age_days"] = today - *source.as_of;
      }
      if (source.handled_at) {
        entry["ingested_at"] = utc_text(*source.handled_at);
        entry["ingested_at_local"] = local(source.handled_at);
      }
    }
    sources.push_back(std::move(entry));
  }
  json::array rule_list;
  for (const auto& rule : status.rules) {
    json::object bands;
    for (const auto& [band, count] : rule.bands) {
      bands[band] = count;
    }
    rule_list.push_back(
        json::object{{"rule", rule.rule},
                     {"open", rule.open},
                     {"new", rule.new_findings},
                     {"listed", rule.listed},
                     {"untrusted", rule.untrusted},
                     {"all_unallocated", rule.all_unallocated ? json::value(*rule.all_unallocated)
                                                              : json::value(nullptr)},
                     {"totals", rule.totals},
                     {"bands", std::move(bands)}});
  }
  json::array fetches;
  for (const auto& fetch : status.fetches) {
    json::object entry{{"source", fetch.source}};
    if (fetch.at.empty()) {
      entry["last_run"] = nullptr;
    } else {
      entry["last_run"] = fetch.at;
      entry["last_run_local"] = local(parse_utc(fetch.at));
      entry["ok"] = fetch.ok;
      entry["detail"] = fetch.detail;
    }
    fetches.push_back(std::move(entry));
  }
  json::object out{
      {"sources", std::move(sources)},          {"rules", std::move(rule_list)},
      {"fetches", std::move(fetches)},          {"uptime_seconds", (now - status.started).count()},
      {"cycle_running", status.cycle_running},  {"cycles", status.cycles},
      {"cycle_failures", status.cycle_failures}};
  out["timezone"] = zone->name();
  out["next_review"] =
      status.next_review ? json::value(utc_text(*status.next_review)) : json::value(nullptr);
  out["next_review_local"] = local(status.next_review);
  out["last_review_at"] =
      status.last_review_at ? json::value(utc_text(*status.last_review_at)) : json::value(nullptr);
  out["last_review_at_local"] = local(status.last_review_at);
  out["last_review_week"] =
      status.last_review_week ? json::value(*status.last_review_week) : json::value(nullptr);
  out["last_cycle_error"] =
      status.last_cycle_error ? json::value(*status.last_cycle_error) : json::value(nullptr);
  json::array ignored;
  for (const auto& [file, reason] : status.unmatched) {
    ignored.push_back(json::object{{"file", file}, {"reason", reason}});
  }
  out["ignored"] = std::move(ignored);
  return out;
}

void WindowHistogram::observe(std::chrono::microseconds window) {
  const double seconds = std::chrono::duration<double>(window).count();
  for (std::size_t i = 0; i < kBounds.size(); ++i) {
    if (seconds <= kBounds[i]) {
      ++at_most[i];
    }
  }
  ++count;
  sum += window;
  longest = std::max(longest, window);
}

std::string metrics_text(const StatusSnapshot& status, SysSeconds now) {
  std::string out;
  const auto header = [&](std::string_view name, std::string_view help, std::string_view type) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  };
  header("casewatch_up", "Whether casewatchd is running.", "gauge");
  out += "casewatch_up 1\n";
  header("casewatch_uptime_seconds", "Seconds since casewatchd started.", "gauge");
  out += fmt::format("casewatch_uptime_seconds {}\n", (now - status.started).count());
  header("casewatch_findings", "Open findings per rule and band.", "gauge");
  for (const auto& rule : status.rules) {
    for (const auto& [band, count] : rule.bands) {
      out += fmt::format("casewatch_findings{{rule=\"{}\",band=\"{}\"}} {}\n",
                         prometheus_label(rule.rule), prometheus_label(band), count);
    }
  }
  header("casewatch_findings_open", "Open findings per rule.", "gauge");
  for (const auto& rule : status.rules) {
    out += fmt::format("casewatch_findings_open{{rule=\"{}\"}} {}\n", prometheus_label(rule.rule),
                       rule.open);
  }
  // Two ages of a source's latest extract: since it was ingested (the feed is alive) and since
  // its as-of date began (the data is current). casewatch_extract_age_seconds is the ingest age
  // under its old name, kept for dashboards that use it.
  for (const auto name :
       {"casewatch_extract_ingest_age_seconds", "casewatch_extract_age_seconds"}) {
    header(name, "Seconds since the latest extract of a source was ingested.", "gauge");
    for (const auto& source : status.sources) {
      if (!source.handled_at) {
        continue;
      }
      out += fmt::format("{}{{source=\"{}\"}} {}\n", name, prometheus_label(source.name),
                         (now - *source.handled_at).count());
    }
  }
  header("casewatch_extract_as_of_age_seconds",
         "Seconds since the start (00:00 UTC) of the as-of date of a source's latest extract.",
         "gauge");
  for (const auto& source : status.sources) {
    if (!source.as_of) {
      continue;
    }
    const SysSeconds as_of{std::chrono::seconds(std::int64_t{source.as_of->days()} * 86400)};
    out += fmt::format("casewatch_extract_as_of_age_seconds{{source=\"{}\"}} {}\n",
                       prometheus_label(source.name), (now - as_of).count());
  }
  header("casewatch_extracts_total", "Extract files handled, per source and outcome.", "counter");
  for (const auto& [where, count] : status.extracts) {
    out += fmt::format("casewatch_extracts_total{{source=\"{}\",status=\"{}\"}} {}\n",
                       prometheus_label(where.first), prometheus_label(where.second), count);
  }
  header("casewatch_alerts_firing", "Alerts firing now, per kind.", "gauge");
  for (const auto& [kind, count] : status.alerts_firing) {
    out += fmt::format("casewatch_alerts_firing{{kind=\"{}\"}} {}\n", kind, count);
  }
  header("casewatch_outbox_messages", "Outbox entries (one per message and recipient) per state.",
         "gauge");
  for (const auto& [state, count] : status.outbox) {
    out += fmt::format("casewatch_outbox_messages{{state=\"{}\"}} {}\n", state, count);
  }
  const auto& window = status.mail_window;
  const auto seconds = [](std::chrono::microseconds us) {
    return std::chrono::duration<double>(us).count();
  };
  header("casewatch_mail_accept_to_recorded_seconds",
         "How long after the mail server accepted a message (250 to its DATA) it was recorded as "
         "sent: a stop inside this window sends it again, with the same Message-ID.",
         "histogram");
  for (std::size_t i = 0; i < window.kBounds.size(); ++i) {
    out += fmt::format("casewatch_mail_accept_to_recorded_seconds_bucket{{le=\"{}\"}} {}\n",
                       window.kBounds[i], window.at_most[i]);
  }
  out += fmt::format(
      "casewatch_mail_accept_to_recorded_seconds_bucket{{le=\"+Inf\"}} {}\n"
      "casewatch_mail_accept_to_recorded_seconds_sum {}\n"
      "casewatch_mail_accept_to_recorded_seconds_count {}\n",
      window.count, seconds(window.sum), window.count);
  header("casewatch_mail_accept_to_recorded_max_seconds",
         "The longest accept-to-recorded window of a message sent since casewatchd started.",
         "gauge");
  out += fmt::format("casewatch_mail_accept_to_recorded_max_seconds {}\n", seconds(window.longest));
  if (status.last_review_at) {
    header("casewatch_last_review_timestamp_seconds",
           "When the latest weekly review run was recorded (Unix time).", "gauge");
    out += fmt::format("casewatch_last_review_timestamp_seconds {}\n",
                       status.last_review_at->time_since_epoch().count());
  }
  header("casewatch_extract_rows", "Rows of the latest extract.", "gauge");
  for (const auto& source : status.sources) {
    if (source.file.empty()) {
      continue;
    }
    out += fmt::format("casewatch_extract_rows{{source=\"{}\"}} {}\n",
                       prometheus_label(source.name), source.rows);
  }
  header("casewatch_inbox_unmatched_files", "Inbox files that match no source (not read).",
         "gauge");
  out += fmt::format("casewatch_inbox_unmatched_files {}\n", status.unmatched.size());
  header("casewatch_ingest_cycles_total", "Ingest cycles completed.", "counter");
  out += fmt::format("casewatch_ingest_cycles_total {}\n", status.cycles);
  header("casewatch_ingest_failures_total", "Ingest cycles that failed.", "counter");
  out += fmt::format("casewatch_ingest_failures_total {}\n", status.cycle_failures);
  header("casewatch_control_connections", "Open control socket sessions.", "gauge");
  out += fmt::format("casewatch_control_connections {}\n", status.control_sessions);
  header("casewatch_control_refused_total",
         "Control socket connections refused: over the per-uid cap, the socket full, or a peer "
         "that may use no command.",
         "counter");
  for (const auto& [reason, count] : status.control_refused) {
    out += fmt::format("casewatch_control_refused_total{{reason=\"{}\"}} {}\n", reason, count);
  }
  header("casewatch_fetch_ok", "Whether the last fetch of a source succeeded.", "gauge");
  for (const auto& fetch : status.fetches) {
    if (fetch.at.empty()) {
      continue;
    }
    out += fmt::format("casewatch_fetch_ok{{source=\"{}\"}} {}\n", prometheus_label(fetch.source),
                       fetch.ok ? 1 : 0);
  }
  return out;
}

}  // namespace service
