// [[rule]]: one reader for every rule kind, and the fingerprint of a rule's definition.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <map>
#include <set>
#include <string_view>
#include <utility>

#include "config/readers.h"

namespace config::detail {
namespace {

// Which rule kinds each kind-specific key applies to.
const std::map<std::string, std::set<rules::RuleKind>>& kind_keys() {
  using K = rules::RuleKind;
  static const std::map<std::string, std::set<K>> kKeys = {
      {"open_values", {K::kUnallocated, K::kCaseload}},
      {"not_a_worker", {K::kUnallocated, K::kCaseload}},
      {"over_days", {K::kUnallocated}},
      {"allocations_source", {K::kUnallocated}},
      // unallocated only with allocations_source (read_unallocated)
      {"start", {K::kTimescale, K::kRecurring, K::kUnallocated}},
      {"end", {K::kTimescale, K::kRecurring, K::kUnallocated}},
      {"limit", {K::kTimescale}},
      {"earlier_limits", {K::kTimescale}},
      {"warn", {K::kTimescale, K::kRecurring}},
      {"target_percent", {K::kTimescale, K::kRecurring}},
      {"tolerance", {K::kTimescale, K::kRecurring}},
      {"count_start_day", {K::kTimescale, K::kRecurring}},
      {"schedule", {K::kRecurring}},
      {"events_source", {K::kRecurring}},
      {"event", {K::kRecurring}},
      {"join_contiguous", {K::kRecurring, K::kUnallocated}},
      {"max_cases", {K::kCaseload}},
  };
  return kKeys;
}

std::optional<rules::RuleKind> parse_kind(std::string_view text) {
  using K = rules::RuleKind;
  for (K kind : {K::kUnallocated, K::kTimescale, K::kRecurring, K::kCaseload}) {
    if (rules::to_string(kind) == text) {
      return kind;
    }
  }
  return std::nullopt;
}

class RuleReader {
 public:
  RuleReader(Table& t, const std::vector<rules::Source>& sources, std::vector<DateUse>& date_uses)
      : t_(t), sources_(sources), date_uses_(date_uses) {}

  std::optional<rules::Rule> read(Config& config) {
    rules::Rule rule;
    const auto id = t_.string("id", true);
    if (id) {
      rule.id = *id;
      t_.set_name(fmt::format("[[rule]] '{}'", *id));
    }
    const auto kind_text = t_.string("kind", true);
    std::optional<rules::RuleKind> kind;
    if (kind_text) {
      kind = parse_kind(*kind_text);
      if (!kind) {
        t_.error(*t_.find("kind"),
                 fmt::format("unknown rule kind '{}' in {}: expected unallocated, timescale, "
                             "recurring or caseload",
                             *kind_text, t_.name()));
      }
    }
    const auto source_name = t_.string("source", true);
    const rules::Source* source = nullptr;
    if (source_name) {
      rule.source = *source_name;
      source = find_source(*source_name, *t_.find("source"));
    }
    rule.title = t_.string("title").value_or(rule.id);
    if (auto v = t_.boolean("review")) {
      rule.review = *v;
    }
    rule.where = read_filters("where", source);
    rule.unless = read_filters("unless", source);
    read_bands(rule);

    // Kind-specific keys: those of another kind are errors; with no valid kind, only the
    // truly unknown keys are reported.
    for (const auto& key : t_.keys()) {
      const auto it = kind_keys().find(key);
      if (it == kind_keys().end()) {
        continue;
      }
      if (!kind) {
        t_.mark_read(key);
      } else if (it->second.count(*kind) == 0) {
        t_.error(*t_.find(key), fmt::format("key '{}' does not apply to {} {} rule in {}", key,
                                            *kind == rules::RuleKind::kUnallocated ? "an" : "a",
                                            rules::to_string(*kind), t_.name()));
      }
    }
    if (kind) {
      rule.kind = *kind;
      switch (*kind) {
        case rules::RuleKind::kUnallocated:
          read_unallocated(rule, source);
          break;
        case rules::RuleKind::kTimescale:
          read_timescale(rule, source);
          break;
        case rules::RuleKind::kRecurring:
          read_recurring(rule, source);
          break;
        case rules::RuleKind::kCaseload:
          read_open(rule, source);
          if (auto v = t_.integer("max_cases", true)) {
            if (*v < 1) {
              t_.error(*t_.find("max_cases"), "'max_cases' must be at least 1");
            } else {
              rule.max_cases = static_cast<int>(*v);
            }
          }
          break;
      }
    }

    RuleAlerts alerts{rule.id, std::nullopt, std::nullopt, std::nullopt};
    if (auto v = t_.integer("alert_over")) {
      if (*v < 0) {
        t_.error(*t_.find("alert_over"), "'alert_over' must not be negative");
      } else {
        alerts.alert_over = static_cast<int>(*v);
      }
    }
    alerts.escalate_after = rule_duration(t_, "escalate_after");
    alerts.escalate_listed_after = rule_duration(t_, "escalate_listed_after");
    if (alerts.alert_over || alerts.escalate_after || alerts.escalate_listed_after) {
      config.rule_alerts.push_back(alerts);
    }

    t_.finish();
    if (!id || !kind || !source_name) {
      return std::nullopt;
    }
    return rule;
  }

 private:
  const rules::Source* find_source(const std::string& name, const Value& at) {
    for (const auto& source : sources_) {
      if (source.name == name) {
        return &source;
      }
    }
    t_.error(at, fmt::format("unknown source '{}' in {}", name, t_.name()));
    return nullptr;
  }

  // Checks that `source` has `field`; `at` is the value naming it.
  bool check_field(const rules::Source* source, const std::string& field, const Value& at) {
    if (source == nullptr) {
      return false;
    }
    if (source->field_index(field) >= 0) {
      return true;
    }
    t_.error(at, fmt::format("unknown field '{}' in {}: source '{}' has no such field", field,
                             t_.name(), source->name));
    return false;
  }

  // Checks that `source` maps a field the rule needs but does not name.
  void check_needed(const rules::Source* source, const std::string& field, std::string_view why) {
    if (source == nullptr || source->field_index(field) >= 0) {
      return;
    }
    t_.error(fmt::format("source '{}' has no field '{}', needed by {}{}", source->name, field,
                         t_.name(), why));
  }

  // A string key naming a date field of `source`; empty when absent or bad.
  std::string date_field(const std::string& key, bool required, const rules::Source* source) {
    const auto name = t_.string(key, required);
    if (!name) {
      return {};
    }
    if (check_field(source, *name, *t_.find(key))) {
      date_uses_.push_back({source->name, *name});
    }
    return *name;
  }

  // `where` or `unless`: { field = [values] } (a single string is one value).
  std::vector<rules::Filter> read_filters(const std::string& key, const rules::Source* source) {
    std::vector<rules::Filter> filters;
    const Value* table = t_.find(key);
    if (table == nullptr) {
      return filters;
    }
    if (!table->is_table()) {
      t_.type_error(
          *table, key,
          fmt::format("a table such as {{ {} }}",
                      key == "where" ? "type = [\"Single\"]" : "icpc_not_required = [\"Yes\"]"));
      return filters;
    }
    std::vector<std::pair<const Value*, std::string>> ordered;
    for (const auto& [field, v] : table->as_table()) {
      ordered.emplace_back(&v, field);
    }
    std::sort(ordered.begin(), ordered.end(),
              [](const auto& a, const auto& b) { return before_in_file(*a.first, *b.first); });
    for (const auto& [v, field] : ordered) {
      check_field(source, field, *v);
      if (auto values = t_.strings_of(*v, field, true)) {
        if (values->empty()) {
          t_.error(*v, fmt::format("'{}' value of '{}' must not be empty", key, field));
          continue;
        }
        filters.push_back(rules::Filter{field, *values});
      }
    }
    return filters;
  }

  // The KPI target of timescale and recurring rules, and the working-day reading.
  void read_kpi_and_counting(rules::Rule& rule) {
    if (auto v = t_.number("target_percent")) {
      if (*v < 0 || *v > 100) {
        t_.error(*t_.find("target_percent"), "'target_percent' must be between 0 and 100");
      } else {
        rule.target_percent = *v;
      }
    }
    if (auto v = t_.number("tolerance")) {
      if (*v < 0 || *v > 100) {
        t_.error(*t_.find("tolerance"), "'tolerance' must be between 0 and 100");
      } else {
        rule.tolerance = *v;
      }
    }
    if (auto v = t_.boolean("count_start_day")) {
      rule.count_start_day = *v;
    }
  }

  void read_bands(rules::Rule& rule) {
    if (!t_.has("bands")) {
      return;
    }
    const auto bands = t_.tables("bands",
                                 "an array of tables such as { label = \"...\", bound = "
                                 "\"7d\" }");
    if (bands.empty() && t_.find("bands")->is_array()) {
      t_.error(*t_.find("bands"), "'bands' must not be empty");
    }
    const std::string name = fmt::format("a band of {}", t_.name());
    for (std::size_t i = 0; i < bands.size(); ++i) {
      Table bt(*bands[i], name, t_.diagnostics());
      rules::Band band;
      band.label = bt.string("label", true).value_or("");
      band.bound = rule_duration(bt, "bound");
      const bool last = i + 1 == bands.size();
      if (last && bt.has("bound")) {
        bt.error(fmt::format("the last band '{}' must have no 'bound' (it is open-ended) in {}",
                             band.label, t_.name()));
      } else if (!last && !bt.has("bound")) {
        bt.error(fmt::format("band '{}' needs a 'bound' (only the last band is open-ended) in {}",
                             band.label, t_.name()));
      }
      bt.finish();
      rule.bands.push_back(std::move(band));
    }
  }

  void read_open(rules::Rule& rule, const rules::Source* source) {
    if (auto v = t_.strings("open_values")) {
      rule.open_values = *v;
      if (!v->empty()) {
        check_needed(source, "status", " for 'open_values'");
      }
    }
    if (auto v = t_.strings("not_a_worker")) {
      rule.not_a_worker = *v;
    }
    check_needed(source, "worker", "");
  }

  void read_unallocated(rules::Rule& rule, const rules::Source* source) {
    if (auto v = t_.integer("over_days")) {
      if (*v < 0) {
        t_.error(*t_.find("over_days"), "'over_days' must not be negative");
      } else {
        rule.over_days = static_cast<int>(*v);
      }
    }
    const auto allocations_name = t_.string("allocations_source");
    if (!allocations_name) {
      for (const char* key : {"start", "end", "join_contiguous"}) {
        if (const Value* v = t_.find(key)) {
          t_.error(*v, fmt::format("key '{}' applies to an unallocated rule only with "
                                   "'allocations_source' in {}",
                                   key, t_.name()));
        }
      }
      read_open(rule, source);
      return;
    }
    // The population's records are open from start to end; who is allocated comes from the
    // allocations source, joined on person.
    rule.allocations_source = *allocations_name;
    const rules::Source* allocations =
        find_source(*allocations_name, *t_.find("allocations_source"));
    if (const Value* v = t_.find("open_values")) {
      t_.error(*v, fmt::format("'open_values' does not apply with 'allocations_source' in {}: a "
                               "record is open from its 'start' to its 'end' (use 'where' or "
                               "'unless' to leave records out)",
                               t_.name()));
    }
    if (auto v = t_.strings("not_a_worker")) {
      rule.not_a_worker = *v;
    }
    rule.start = date_field("start", true, source);
    rule.end = date_field("end", false, source);
    check_needed(source, "person", " to join its allocations");
    for (const char* field : {"person", "worker", "allocation_start", "allocation_end"}) {
      check_needed(allocations, field, " in its allocations source");
    }
    read_join_contiguous(rule, source);
  }

  // join_contiguous, for a rule that has read its start and end.
  void read_join_contiguous(rules::Rule& rule, const rules::Source* source) {
    if (auto v = t_.boolean("join_contiguous")) {
      rule.join_contiguous = *v;
      if (*v && rule.end.empty()) {
        t_.error(*t_.find("join_contiguous"),
                 fmt::format("'join_contiguous' needs 'end' in {}: a record follows on from "
                             "the previous one when it starts the day that one ended",
                             t_.name()));
      }
      if (*v) {
        check_needed(source, "person", " for 'join_contiguous'");
      }
    }
  }

  void read_timescale(rules::Rule& rule, const rules::Source* source) {
    rule.start = date_field("start", true, source);
    rule.end = date_field("end", true, source);
    if (auto v = rule_duration(t_, "limit", true)) {
      rule.limit = *v;
    }
    rule.warn = rule_duration(t_, "warn");
    for (const Value* item : t_.tables("earlier_limits",
                                       "an array of tables such as { before = \"2010-04-01\", "
                                       "limit = \"7wd\" }")) {
      Table et(*item, fmt::format("an earlier limit of {}", t_.name()), t_.diagnostics());
      const auto before = date_value(et, "before", true, {});
      const auto limit = rule_duration(et, "limit", true);
      et.finish();
      if (before && limit) {
        rule.earlier_limits.push_back({*before, *limit});
      }
    }
    std::sort(rule.earlier_limits.begin(), rule.earlier_limits.end(),
              [](const auto& a, const auto& b) { return a.before < b.before; });
    read_kpi_and_counting(rule);
  }

  void read_recurring(rules::Rule& rule, const rules::Source* source) {
    rule.start = date_field("start", true, source);
    rule.end = date_field("end", false, source);
    rule.warn = rule_duration(t_, "warn");
    read_kpi_and_counting(rule);
    if (const Value* v = t_.find("schedule", true)) {
      if (!v->is_array()) {
        t_.type_error(*v, "schedule", "an array of durations such as [\"20wd\", \"3m\"]");
      } else {
        if (v->as_array().empty()) {
          t_.error(*v, "'schedule' must not be empty");
        }
        for (const auto& item : v->as_array()) {
          if (auto d = rule_duration(t_, item, "schedule")) {
            rule.schedule.push_back(*d);
          }
        }
      }
    }
    const rules::Source* events = source;
    if (auto v = t_.string("events_source")) {
      rule.events_source = *v;
      events = find_source(*v, *t_.find("events_source"));
      check_needed(source, "person", " to join its events");
      check_needed(events, "person", " to join its events");
    }
    rule.event = date_field("event", true, events);
    read_join_contiguous(rule, source);
  }

  Table& t_;
  const std::vector<rules::Source>& sources_;
  std::vector<DateUse>& date_uses_;
};

}  // namespace

std::optional<rules::Rule> read_rule(Table& t, const std::vector<rules::Source>& sources,
                                     std::vector<DateUse>& date_uses, Config& config) {
  return RuleReader(t, sources, date_uses).read(config);
}

// A canonical text of every setting of `rule` that changes which records are listed, or how
// they are aged or banded (not title or review). `count_start_day` is the [calendar] setting;
// the rule's own, when set, wins.
std::string fingerprint(const rules::Rule& rule, bool count_start_day) {
  count_start_day = rule.count_start_day.value_or(count_start_day);
  std::vector<std::string> parts;
  parts.push_back(fmt::format("kind={}", rules::to_string(rule.kind)));
  parts.push_back(fmt::format("source={}", rule.source));
  for (const auto& filter : rule.where) {
    parts.push_back(fmt::format("where.{}=[{}]", filter.field, join(filter.values, ",")));
  }
  for (const auto& filter : rule.unless) {
    parts.push_back(fmt::format("unless.{}=[{}]", filter.field, join(filter.values, ",")));
  }
  for (const auto& band : rule.bands) {
    parts.push_back(fmt::format("band={}<{}", band.label, band.bound ? band.bound->str() : ""));
  }
  switch (rule.kind) {
    case rules::RuleKind::kUnallocated:
    case rules::RuleKind::kCaseload:
      parts.push_back(fmt::format("open_values=[{}]", join(rule.open_values, ",")));
      parts.push_back(fmt::format("not_a_worker=[{}]", join(rule.not_a_worker, ",")));
      if (rule.kind == rules::RuleKind::kUnallocated) {
        parts.push_back(fmt::format("over_days={}", rule.over_days));
        // Only when set, so that rules without it keep the fingerprint they had.
        if (!rule.allocations_source.empty()) {
          parts.push_back(fmt::format("allocations_source={}", rule.allocations_source));
          parts.push_back(fmt::format("start={}", rule.start));
          parts.push_back(fmt::format("end={}", rule.end));
          parts.push_back(fmt::format("join_contiguous={}", rule.join_contiguous));
        }
      } else {
        parts.push_back(fmt::format("max_cases={}", rule.max_cases));
      }
      break;
    case rules::RuleKind::kTimescale:
    case rules::RuleKind::kRecurring:
      parts.push_back(fmt::format("start={}", rule.start));
      parts.push_back(fmt::format("end={}", rule.end));
      parts.push_back(fmt::format("warn={}", rule.warn ? rule.warn->str() : ""));
      parts.push_back(fmt::format("count_start_day={}", count_start_day));
      if (rule.kind == rules::RuleKind::kTimescale) {
        parts.push_back(fmt::format("limit={}", rule.limit.str()));
        for (const auto& earlier : rule.earlier_limits) {
          parts.push_back(fmt::format("earlier={}<{}", earlier.before.iso(), earlier.limit.str()));
        }
        parts.push_back(fmt::format("target_percent={}", rule.target_percent));
        parts.push_back(fmt::format("tolerance={}", rule.tolerance));
      } else {
        std::vector<std::string> schedule;
        for (const auto& d : rule.schedule) {
          schedule.push_back(d.str());
        }
        parts.push_back(fmt::format("schedule=[{}]", join(schedule, ",")));
        parts.push_back(fmt::format("events_source={}", rule.events_source));
        parts.push_back(fmt::format("event={}", rule.event));
        // Only when set, so that rules without it keep the fingerprint they had.
        if (rule.join_contiguous) {
          parts.push_back("join_contiguous=true");
        }
        // Only when set, so that rules without a target keep the fingerprint they had.
        if (rule.target_percent > 0) {
          parts.push_back(fmt::format("target_percent={}", rule.target_percent));
          parts.push_back(fmt::format("tolerance={}", rule.tolerance));
        }
      }
      break;
  }
  return join(parts, ";");
}

}  // namespace config::detail
