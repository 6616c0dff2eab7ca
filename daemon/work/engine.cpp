// Engine: evaluation (after an ingest, of pending extracts, for the current view) and the state
// folder. The ingest pipeline is in engine_ingest.cpp, the review in engine_review.cpp, the alert
// cycle in engine_alerts.cpp.
#include "daemon/work/engine.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "daemon/files.h"

namespace service {
namespace {

namespace fs = std::filesystem;

// Waits for `copy`, if any, logs what stopped it, and empties it.
void finish_log_copy(std::optional<storage::History::BackgroundCheckpoint>& copy) {
  if (!copy) {
    return;
  }
  if (const auto error = copy->wait()) {
    spdlog::warn(
        "copying the write-ahead log into the database failed: {}; a later checkpoint copies it",
        *error);
  }
  copy.reset();
}

}  // namespace

bool warn_if_calendar_ends_soon(const rules::Calendar& calendar, rules::Date today) {
  const auto last = calendar.last_listed();
  if (last && *last >= today + 365) {
    return false;
  }
  spdlog::warn(
      "the bank holiday list ends {}, less than a year after today ({}): working-day due dates "
      "beyond it ignore holidays; update the holidays file",
      last ? last->iso() : std::string("before it starts"), today.iso());
  return true;
}

Engine::Engine(const config::Config& config, const rules::Calendar& calendar,
               storage::History& history)
    : config_(config), calendar_(calendar), history_(history) {}

Engine::~Engine() { finish_log_copy(log_copy_); }

void Engine::copy_log() {
  finish_log_copy(log_copy_);
  log_copy_ = history_.checkpoint_in_background();
}

void prepare_state_dir(const config::Config& config) {
  const auto& service = config.service;
  // As shipped (systemd/casewatch.tmpfiles): the state folder 0751, the inbox 3770.
  make_private_dir(service.state_dir, 0001);
  make_private_dir(service.inbox_dir(), 0020);
  for (const fs::path& dir :
       {service.archive_dir(), service.rejected_dir(), service.reports_dir()}) {
    make_private_dir(dir);
  }
  // What a kill in the middle of writing a file or moving an extract left behind: the week's
  // review is written again in full, and an interrupted move starts again from its original.
  const std::size_t stale = remove_stale_temporaries(service.reports_dir(), ".tmp", true) +
                            remove_stale_temporaries(service.archive_dir(), ".moving", false) +
                            remove_stale_temporaries(service.rejected_dir(), ".moving", false) +
                            remove_stale_temporaries(service.rejected_dir(), ".tmp", false);
  if (stale > 0) {
    spdlog::info("removed {} temporary files left by an interrupted run", stale);
  }
}

const rules::RecordView& Engine::view_of(const std::string& name, std::int64_t extract_id) const {
  auto found = views_.find(name);
  if (found != views_.end() && found->second.extract_id == extract_id) {
    return found->second.view;
  }
  const rules::Source* source = config_.rules.find_source(name);
  const std::vector<rules::FieldUse> uses = source != nullptr
                                                ? rules::fields_read(config_.rules, *source)
                                                : std::vector<rules::FieldUse>();
  if (found != views_.end()) {
    found->second.view = rules::RecordView();  // free it first
  }
  KeptView kept{extract_id, history_.current_view(name, uses)};
  if (found == views_.end()) {
    return views_.emplace(name, std::move(kept)).first->second.view;
  }
  found->second = std::move(kept);
  return found->second.view;
}

std::vector<storage::RuleOutcome> Engine::evaluate_pending() {
  std::vector<storage::RuleOutcome> outcomes;
  std::set<std::string, std::less<>> evaluated;  // sources evaluated at their latest extract
  for (const auto& extract : history_.pending_evaluations()) {
    if (config_.rules.find_source(extract.source) != nullptr &&
        evaluated.insert(extract.source).second) {
      spdlog::info("{}: evaluating the extract ingested before an interruption", extract.file);
      for (auto& o : evaluate_after({extract.source})) {
        outcomes.push_back(std::move(o));
      }
    }
    history_.evaluation_done(extract.id);
  }
  return outcomes;
}

std::vector<storage::RuleOutcome> Engine::evaluate_after(
    const std::vector<std::string>& source_names) {
  rules::RuleSet affected;
  affected.sources = config_.rules.sources;
  affected.count_start_day = config_.rules.count_start_day;
  std::vector<std::string> needed;
  const auto got_extract = [&](const std::string& name) {
    return !name.empty() &&
           std::find(source_names.begin(), source_names.end(), name) != source_names.end();
  };
  for (const auto& rule : config_.rules.rules) {
    const std::vector<std::string> reads = rules::sources_of(rule);
    if (std::none_of(reads.begin(), reads.end(), got_extract)) {
      continue;
    }
    // A rule is evaluated only when every source it reads has an extract: a recurring rule
    // without its events, or an unallocated rule without its allocations, would list every
    // child, and evaluating it would resolve nothing real.
    const bool ready = std::all_of(reads.begin(), reads.end(), [&](const std::string& name) {
      return history_.latest_extract(name).has_value();
    });
    if (ready) {
      affected.rules.push_back(rule);
      needed.insert(needed.end(), reads.begin(), reads.end());
    }
  }
  if (affected.rules.empty()) {
    return {};
  }
  auto evaluation = evaluate_rules(affected, needed);
  std::vector<storage::RuleOutcome> outcomes;
  for (const auto& rule : affected.rules) {
    const auto latest = history_.latest_extract(rule.source);
    outcomes.push_back(history_.apply_evaluation(rule, *config_.rules.find_source(rule.source),
                                                 latest->as_of, evaluation));  // ready: has one
  }
  // When these were every rule there is to evaluate (each other rule's source has no extract,
  // so evaluate() would skip it), this is evaluate_current()'s evaluation too: the review, the
  // alerts and the summary take it instead of evaluating again. The spells just stored do not
  // change it: a continuing spell was stored from the start this evaluation gave it, and a
  // new one from this as-of, so evaluating with them gives every "since at least" date again.
  const bool every_rule = std::all_of(
      config_.rules.rules.begin(), config_.rules.rules.end(), [&](const rules::Rule& rule) {
        return affected.find_rule(rule.id) != nullptr || !history_.latest_extract(rule.source);
      });
  if (every_rule) {
    auto inputs = current_inputs();
    current_ =
        KeptEvaluation{std::move(inputs.first), std::move(inputs.second), std::move(evaluation)};
  }
  return outcomes;
}

std::vector<storage::ExtractInfo> Engine::latest_extracts(
    const std::vector<std::string>& names) const {
  std::vector<storage::ExtractInfo> out;
  for (const auto& name : names) {
    if (std::any_of(out.begin(), out.end(),
                    [&](const storage::ExtractInfo& e) { return e.source == name; })) {
      continue;
    }
    if (auto latest = history_.latest_extract(name)) {
      out.push_back(std::move(*latest));
    }
  }
  return out;
}

std::vector<std::string> Engine::sources_read() const {
  std::vector<std::string> names;
  for (const auto& rule : config_.rules.rules) {
    const std::vector<std::string> reads = rules::sources_of(rule);
    names.insert(names.end(), reads.begin(), reads.end());
  }
  return names;
}

std::pair<Engine::Extracts, Engine::Spells> Engine::current_inputs() const {
  Extracts extracts;
  for (const auto& latest : latest_extracts(sources_read())) {
    extracts.emplace_back(latest.source, latest.id);
  }
  return {std::move(extracts), history_.unallocated_spells()};
}

rules::Evaluation Engine::evaluate_rules(const rules::RuleSet& rule_set,
                                         const std::vector<std::string>& source_names,
                                         bool keep) const {
  auto spells = history_.unallocated_spells();
  std::map<std::string, rules::SourceData, std::less<>> sources;
  Extracts extracts;
  for (const auto& latest : latest_extracts(source_names)) {
    rules::SourceData data;
    data.source = rule_set.find_source(latest.source);
    data.as_of = latest.as_of;
    data.view = &view_of(latest.source, latest.id);
    data.first_seen_unallocated = spells;
    sources.emplace(latest.source, std::move(data));
    extracts.emplace_back(latest.source, latest.id);
  }
  // The evaluation is a function of the rules, the calendar and these inputs.
  if (keep && current_ && current_->extracts == extracts && current_->spells == spells) {
    return current_->evaluation;
  }
  auto evaluation = rules::evaluate(rule_set, calendar_, sources);
  if (keep) {
    current_ = KeptEvaluation{std::move(extracts), std::move(spells), evaluation};
  }
  return evaluation;
}

rules::Evaluation Engine::evaluate_current() const {
  return evaluate_rules(config_.rules, sources_read(), /*keep=*/true);
}

}  // namespace service
