// parse_config and load_config: casewatch.toml -> Config. Every problem found in the file is
// collected with its line and reported at once, in line order, in one ConfigError.
#include "config/config.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string_view>
#include <utility>

#include "config/toml_table.h"

namespace config {
namespace {

using internal::before_in_file;
using internal::Diagnostics;
using internal::join;
using internal::lower;
using internal::Table;
using internal::type_name;
using internal::Value;

namespace fs = std::filesystem;

fs::path resolve(const fs::path& base, const std::string& text) {
  const fs::path path(text);
  if (path.is_absolute()) return path.lexically_normal();
  return (base / path).lexically_normal();
}

// ---- durations, dates, times ----------------------------------------------------------------

// A rules duration ("45wd", "28d", "2w", "3m").
std::optional<rules::Duration> rule_duration(Table& t, const Value& v, const std::string& key) {
  if (!v.is_string()) return t.type_error(v, key, "a duration such as \"45wd\"");
  auto parsed = rules::parse_duration(v.as_string().str);
  if (!parsed) {
    t.error(v, parsed.error().message);
    return std::nullopt;
  }
  return *parsed;
}

std::optional<rules::Duration> rule_duration(Table& t, const std::string& key,
                                             bool required = false) {
  const Value* v = t.find(key, required);
  if (v == nullptr) return std::nullopt;
  return rule_duration(t, *v, key);
}

// A service duration: integer seconds or "10s", "5m", "2h", "1d".
std::optional<std::chrono::seconds> seconds_duration(Table& t, const std::string& key) {
  const Value* v = t.find(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_integer()) {
    if (v->as_integer() < 0) {
      t.error(*v, fmt::format("'{}' must not be negative", key));
      return std::nullopt;
    }
    return std::chrono::seconds(v->as_integer());
  }
  if (!v->is_string()) return t.type_error(*v, key, "a duration such as \"10s\" or \"2h\"");
  const std::string& text = v->as_string().str;
  std::int64_t amount = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), amount);
  const std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
  static const std::map<std::string_view, std::int64_t> kUnits = {
      {"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}};
  const auto it = kUnits.find(unit);
  if (ec != std::errc() || end == text.data() || amount < 0 || it == kUnits.end()) {
    t.error(*v, fmt::format("bad duration '{}': expected a number of seconds, or a number and a "
                            "unit: s (seconds), m (minutes), h (hours) or d (days)",
                            text));
    return std::nullopt;
  }
  return std::chrono::seconds(amount * it->second);
}

// A service duration that must be whole hours ("26h", "2d").
std::optional<std::chrono::hours> hours_duration(Table& t, const std::string& key) {
  const auto seconds = seconds_duration(t, key);
  if (!seconds) return std::nullopt;
  if (seconds->count() % 3600 != 0) {
    t.error(*t.find(key), fmt::format("'{}' must be a whole number of hours", key));
    return std::nullopt;
  }
  return std::chrono::duration_cast<std::chrono::hours>(*seconds);
}

// A date: a TOML date, or a string in ISO form or one of `formats`.
std::optional<rules::Date> date_value(Table& t, const Value& v, const std::string& key,
                                      const std::vector<std::string>& formats) {
  if (v.is_local_date()) {
    const auto& d = v.as_local_date();
    if (auto date = rules::Date::from_ymd(d.year, d.month + 1, d.day)) return date;
  } else if (v.is_string()) {
    const std::string& text = v.as_string().str;
    if (auto date = rules::Date::parse_iso(text)) return date;
    if (auto date = rules::parse_date_any(text, formats)) return date;
  } else {
    t.error(v, fmt::format("each item of '{}' must be a date, got {}", key, type_name(v)));
    return std::nullopt;
  }
  std::vector<std::string> accepted = {"YYYY-MM-DD"};
  for (const auto& format : formats) {
    if (format != "%Y-%m-%d") accepted.push_back(format);
  }
  const std::string text = v.is_string() ? v.as_string().str : toml::format(v);
  t.error(v, fmt::format("bad date '{}' in '{}': expected {}", text, key, join(accepted, " or ")));
  return std::nullopt;
}

std::optional<rules::Date> date_value(Table& t, const std::string& key, bool required,
                                      const std::vector<std::string>& formats) {
  const Value* v = t.find(key, required);
  if (v == nullptr) return std::nullopt;
  return date_value(t, *v, key, formats);
}

std::optional<std::vector<rules::Date>> dates(Table& t, const std::string& key,
                                              const std::vector<std::string>& formats) {
  const Value* v = t.find(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_array()) return t.type_error(*v, key, "an array of dates");
  std::vector<rules::Date> out;
  for (const auto& item : v->as_array()) {
    if (auto date = date_value(t, item, key, formats)) out.push_back(*date);
  }
  return out;
}

bool two_digits(std::string_view text, int max, int& value) {
  if (text.size() != 2 || text[0] < '0' || text[0] > '9' || text[1] < '0' || text[1] > '9') {
    return false;
  }
  value = (text[0] - '0') * 10 + (text[1] - '0');
  return value <= max;
}

// "HH:MM" -> (hour, minute).
std::optional<std::pair<int, int>> parse_hh_mm(std::string_view text) {
  int hour = 0;
  int minute = 0;
  if (text.size() != 5 || text[2] != ':' || !two_digits(text.substr(0, 2), 23, hour) ||
      !two_digits(text.substr(3), 59, minute)) {
    return std::nullopt;
  }
  return std::pair(hour, minute);
}

// ---- sections -------------------------------------------------------------------------------

void read_service(Table& t, const fs::path& base, ServiceConfig& service) {
  if (auto v = t.string("state_dir")) service.state_dir = resolve(base, *v);
  if (auto v = t.string("socket")) service.socket = resolve(base, *v);
  if (auto v = t.string("timezone")) service.timezone = *v;
  if (auto v = t.string("socket_group")) service.socket_group = *v;
  if (auto v = t.string("admin_group")) service.admin_group = *v;
  if (auto v = seconds_duration(t, "settle")) service.settle = *v;
  if (auto v = seconds_duration(t, "rescan")) service.rescan = *v;
  if (auto v = seconds_duration(t, "idle_timeout")) service.idle_timeout = *v;
  if (auto v = t.integer("max_connections")) {
    if (*v < 1 || *v > 100000) {
      t.error(*t.find("max_connections"), "'max_connections' must be between 1 and 100000");
    } else {
      service.max_connections = static_cast<int>(*v);
    }
  }
  if (auto v = t.string("holidays_file")) service.holidays_file = resolve(base, *v);
  t.finish();
}

bool is_field_name(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// The keys of a [[source]] table; a field of that name is a key written below [source.fields].
const std::set<std::string> kSourceKeys = {
    "name",         "files",  "key",   "encoding", "date_formats",  "null_dates", "as_of_column",
    "max_bad_rows", "fields", "fetch", "fetch_at", "fetch_timeout", "max_age"};

// Reads one [[source]]; the fetch and max_age settings go to `config`.
std::optional<rules::Source> read_source(Table& t, Config& config) {
  rules::Source source;
  const auto name = t.string("name", true);
  if (name) {
    source.name = *name;
    t.set_name(fmt::format("[[source]] '{}'", *name));
  }
  if (auto v = t.string("files")) source.files = *v;
  if (auto v = t.string_or_strings("key", true)) {
    if (v->empty()) t.error(*t.find("key"), "'key' must name at least one column");
    source.key = *v;
  }
  if (auto v = t.string("encoding")) {
    const std::string encoding = lower(*v);
    if (encoding == "utf-8" || encoding == "utf8") {
      source.encoding = rules::Encoding::kUtf8;
    } else if (encoding == "windows-1252" || encoding == "cp1252") {
      source.encoding = rules::Encoding::kWindows1252;
    } else {
      t.error(*t.find("encoding"),
              fmt::format("unknown encoding '{}': expected \"utf-8\" or \"windows-1252\"", *v));
    }
  }
  if (auto v = t.strings("date_formats")) {
    if (v->empty()) t.error(*t.find("date_formats"), "'date_formats' must not be empty");
    for (const auto& format : *v) {
      if (format.find("%Y") == std::string::npos || format.find("%m") == std::string::npos ||
          format.find("%d") == std::string::npos) {
        t.error(*t.find("date_formats"),
                fmt::format("bad date format '{}': it needs %d, %m and %Y", format));
      }
    }
    if (!v->empty()) source.date_formats = *v;
  }
  if (auto v = dates(t, "null_dates", source.date_formats)) source.null_dates = *v;
  if (auto v = t.string("as_of_column")) source.as_of_column = *v;
  if (const Value* v = t.find("max_bad_rows")) {
    std::optional<double> percent;
    if (v->is_integer()) {
      percent = static_cast<double>(v->as_integer());
    } else if (v->is_floating()) {
      percent = v->as_floating();
    } else if (v->is_string()) {
      std::string text = v->as_string().str;
      if (!text.empty() && text.back() == '%') text.pop_back();
      double parsed = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
      if (ec == std::errc() && end == text.data() + text.size() && !text.empty()) {
        percent = parsed;
      }
    } else {
      t.type_error(*v, "max_bad_rows", "a percentage such as 0.5 or \"0.5%\"");
    }
    if (percent && (*percent < 0 || *percent > 100)) percent.reset();
    if (percent) {
      source.max_bad_rows = *percent / 100;
    } else if (v->is_string() || v->is_integer() || v->is_floating()) {
      t.error(*v, fmt::format("bad percentage '{}' for 'max_bad_rows': expected a number from 0 "
                              "to 100, such as 0.5 or \"0.5%\"",
                              v->is_string() ? v->as_string().str : toml::format(*v)));
    }
  }

  if (const Value* fields = t.find("fields", true)) {
    if (!fields->is_table()) {
      t.type_error(*fields, "fields", "a table ([source.fields])");
    } else {
      Table ft(*fields, fmt::format("[source.fields] of '{}'", source.name), t.diagnostics());
      std::vector<std::pair<const Value*, std::string>> ordered;
      for (const auto& [field, v] : fields->as_table()) ordered.emplace_back(&v, field);
      std::sort(ordered.begin(), ordered.end(),
                [](const auto& a, const auto& b) { return before_in_file(*a.first, *b.first); });
      if (ordered.empty()) t.error(*fields, "'fields' must map at least one field");
      for (const auto& [v, field] : ordered) {
        if (!is_field_name(field)) {
          ft.error(*v, fmt::format("bad field name '{}' in {}: use letters, digits and '_' (the "
                                   "field's name goes on the left, its column header on the right)",
                                   field, ft.name()));
          ft.mark_read(field);
          continue;
        }
        if (kSourceKeys.count(field) > 0) {
          ft.error(*v, fmt::format("field '{}' in {} has the name of a [[source]] key: move the "
                                   "key above [source.fields]",
                                   field, ft.name()));
          ft.mark_read(field);
          continue;
        }
        if (auto headers = ft.string_or_strings(field)) {
          if (headers->empty()) {
            ft.error(*v, fmt::format("field '{}' must name at least one column header", field));
            continue;
          }
          source.fields.push_back(rules::Field{field, *headers, false});
        }
      }
      ft.finish();
    }
  }

  // Scheduled pulls and the dead man's switch.
  const auto fetch = t.strings("fetch");
  const auto fetch_at = t.strings("fetch_at");
  const auto fetch_timeout = seconds_duration(t, "fetch_timeout");
  if (fetch && fetch->empty()) t.error(*t.find("fetch"), "'fetch' must not be empty");
  if (fetch_at) {
    for (const auto& at : *fetch_at) {
      if (!parse_hh_mm(at)) {
        t.error(*t.find("fetch_at"),
                fmt::format("bad time '{}' in 'fetch_at': expected HH:MM", at));
      }
    }
  }
  if (t.has("fetch") && !t.has("fetch_at")) {
    t.error(fmt::format("missing required key 'fetch_at' in {} (it has 'fetch')", t.name()));
  }
  if (!t.has("fetch")) {
    for (const char* key : {"fetch_at", "fetch_timeout"}) {
      if (t.has(key)) {
        t.error(*t.find(key), fmt::format("'{}' needs 'fetch' in {}", key, t.name()));
      }
    }
  }
  if (fetch && !fetch->empty() && fetch_at) {
    FetchConfig fc;
    fc.source = source.name;
    fc.command = *fetch;
    fc.at = *fetch_at;
    if (fetch_timeout) fc.timeout = *fetch_timeout;
    config.fetches.push_back(std::move(fc));
  }
  if (auto max_age = hours_duration(t, "max_age")) {
    config.source_alerts.push_back(SourceAlerts{source.name, *max_age});
  }

  t.finish();
  if (!name) return std::nullopt;
  return source;
}

void read_calendar(Table& t, const std::vector<std::string>& formats, Config& config) {
  if (auto v = dates(t, "extra_closures", formats)) {
    for (const auto& date : *v) config.calendar.extra_closures.push_back({date, "Local closure"});
  }
  if (auto v = t.boolean("count_start_day")) config.rules.count_start_day = *v;
  t.finish();
}

// ---- rules ----------------------------------------------------------------------------------

// Which rule kinds each kind-specific key applies to.
const std::map<std::string, std::set<rules::RuleKind>>& kind_keys() {
  using K = rules::RuleKind;
  static const std::map<std::string, std::set<K>> kKeys = {
      {"open_values", {K::kUnallocated, K::kCaseload}},
      {"not_a_worker", {K::kUnallocated, K::kCaseload}},
      {"over_days", {K::kUnallocated}},
      {"start", {K::kTimescale, K::kRecurring}},
      {"end", {K::kTimescale, K::kRecurring}},
      {"limit", {K::kTimescale}},
      {"earlier_limits", {K::kTimescale}},
      {"warn", {K::kTimescale, K::kRecurring}},
      {"target_percent", {K::kTimescale}},
      {"tolerance", {K::kTimescale}},
      {"schedule", {K::kRecurring}},
      {"events_source", {K::kRecurring}},
      {"event", {K::kRecurring}},
      {"max_cases", {K::kCaseload}},
  };
  return kKeys;
}

std::optional<rules::RuleKind> parse_kind(std::string_view text) {
  using K = rules::RuleKind;
  for (K kind : {K::kUnallocated, K::kTimescale, K::kRecurring, K::kCaseload}) {
    if (rules::to_string(kind) == text) return kind;
  }
  return std::nullopt;
}

// A date field that rules read: marked Field::is_date once all rules are read.
struct DateUse {
  std::string source;
  std::string field;
};

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
    if (auto v = t_.boolean("review")) rule.review = *v;
    read_where(rule, source);
    read_bands(rule);

    // Kind-specific keys: those of another kind are errors; with no valid kind, only the
    // truly unknown keys are reported.
    for (const auto& key : t_.keys()) {
      const auto it = kind_keys().find(key);
      if (it == kind_keys().end()) continue;
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
          read_open(rule, source);
          if (auto v = t_.integer("over_days")) {
            if (*v < 0) {
              t_.error(*t_.find("over_days"), "'over_days' must not be negative");
            } else {
              rule.over_days = static_cast<int>(*v);
            }
          }
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

    RuleAlerts alerts{rule.id, std::nullopt, std::nullopt};
    if (auto v = t_.integer("alert_over")) {
      if (*v < 0) {
        t_.error(*t_.find("alert_over"), "'alert_over' must not be negative");
      } else {
        alerts.alert_over = static_cast<int>(*v);
      }
    }
    alerts.escalate_after = rule_duration(t_, "escalate_after");
    if (alerts.alert_over || alerts.escalate_after) config.rule_alerts.push_back(alerts);

    t_.finish();
    if (!id || !kind || !source_name) return std::nullopt;
    return rule;
  }

 private:
  const rules::Source* find_source(const std::string& name, const Value& at) {
    for (const auto& source : sources_) {
      if (source.name == name) return &source;
    }
    t_.error(at, fmt::format("unknown source '{}' in {}", name, t_.name()));
    return nullptr;
  }

  // Checks that `source` has `field`; `at` is the value naming it.
  bool check_field(const rules::Source* source, const std::string& field, const Value& at) {
    if (source == nullptr) return false;
    if (source->field_index(field) >= 0) return true;
    t_.error(at, fmt::format("unknown field '{}' in {}: source '{}' has no such field", field,
                             t_.name(), source->name));
    return false;
  }

  // Checks that `source` maps a field the rule needs but does not name.
  void check_needed(const rules::Source* source, const std::string& field, std::string_view why) {
    if (source == nullptr || source->field_index(field) >= 0) return;
    t_.error(fmt::format("source '{}' has no field '{}', needed by {}{}", source->name, field,
                         t_.name(), why));
  }

  // A string key naming a date field of `source`; empty when absent or bad.
  std::string date_field(const std::string& key, bool required, const rules::Source* source) {
    const auto name = t_.string(key, required);
    if (!name) return {};
    if (check_field(source, *name, *t_.find(key))) date_uses_.push_back({source->name, *name});
    return *name;
  }

  void read_where(rules::Rule& rule, const rules::Source* source) {
    const Value* where = t_.find("where");
    if (where == nullptr) return;
    if (!where->is_table()) {
      t_.type_error(*where, "where", "a table such as { type = [\"Single\"] }");
      return;
    }
    std::vector<std::pair<const Value*, std::string>> ordered;
    for (const auto& [field, v] : where->as_table()) ordered.emplace_back(&v, field);
    std::sort(ordered.begin(), ordered.end(),
              [](const auto& a, const auto& b) { return before_in_file(*a.first, *b.first); });
    for (const auto& [v, field] : ordered) {
      check_field(source, field, *v);
      if (auto values = t_.strings_of(*v, field, true)) {
        if (values->empty()) {
          t_.error(*v, fmt::format("'where' value of '{}' must not be empty", field));
          continue;
        }
        rule.where.push_back(rules::Filter{field, *values});
      }
    }
  }

  void read_bands(rules::Rule& rule) {
    if (!t_.has("bands")) return;
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
      if (!v->empty()) check_needed(source, "status", " for 'open_values'");
    }
    if (auto v = t_.strings("not_a_worker")) rule.not_a_worker = *v;
    check_needed(source, "worker", "");
  }

  void read_timescale(rules::Rule& rule, const rules::Source* source) {
    rule.start = date_field("start", true, source);
    rule.end = date_field("end", true, source);
    if (auto v = rule_duration(t_, "limit", true)) rule.limit = *v;
    rule.warn = rule_duration(t_, "warn");
    for (const Value* item : t_.tables("earlier_limits",
                                       "an array of tables such as { before = \"2010-04-01\", "
                                       "limit = \"7wd\" }")) {
      Table et(*item, fmt::format("an earlier limit of {}", t_.name()), t_.diagnostics());
      const auto before = date_value(et, "before", true, {});
      const auto limit = rule_duration(et, "limit", true);
      et.finish();
      if (before && limit) rule.earlier_limits.push_back({*before, *limit});
    }
    std::sort(rule.earlier_limits.begin(), rule.earlier_limits.end(),
              [](const auto& a, const auto& b) { return a.before < b.before; });
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
  }

  void read_recurring(rules::Rule& rule, const rules::Source* source) {
    rule.start = date_field("start", true, source);
    rule.end = date_field("end", false, source);
    rule.warn = rule_duration(t_, "warn");
    if (const Value* v = t_.find("schedule", true)) {
      if (!v->is_array()) {
        t_.type_error(*v, "schedule", "an array of durations such as [\"20wd\", \"3m\"]");
      } else {
        if (v->as_array().empty()) t_.error(*v, "'schedule' must not be empty");
        for (const auto& item : v->as_array()) {
          if (auto d = rule_duration(t_, item, "schedule")) rule.schedule.push_back(*d);
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
  }

  Table& t_;
  const std::vector<rules::Source>& sources_;
  std::vector<DateUse>& date_uses_;
};

// A canonical text of every setting of `rule` that changes which records are listed, or how
// they are aged or banded (not title or review).
std::string fingerprint(const rules::Rule& rule, bool count_start_day) {
  std::vector<std::string> parts;
  parts.push_back(fmt::format("kind={}", rules::to_string(rule.kind)));
  parts.push_back(fmt::format("source={}", rule.source));
  for (const auto& filter : rule.where) {
    parts.push_back(fmt::format("where.{}=[{}]", filter.field, join(filter.values, ",")));
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
        for (const auto& d : rule.schedule) schedule.push_back(d.str());
        parts.push_back(fmt::format("schedule=[{}]", join(schedule, ",")));
        parts.push_back(fmt::format("events_source={}", rule.events_source));
        parts.push_back(fmt::format("event={}", rule.event));
      }
      break;
  }
  return join(parts, ";");
}

// ---- mail, routes, review -------------------------------------------------------------------

// The host of "smtp://host:587" (brackets removed from an IPv6 address).
std::string url_host(std::string_view url) {
  const auto scheme = url.find("://");
  std::string_view rest = scheme == std::string_view::npos ? url : url.substr(scheme + 3);
  rest = rest.substr(0, rest.find('/'));
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
  if (!rest.empty() && rest[0] == '[') return std::string(rest.substr(1, rest.find(']') - 1));
  return std::string(rest.substr(0, rest.find(':')));
}

std::string address_domain(std::string_view address) {
  const auto at = address.rfind('@');
  if (at == std::string_view::npos) return {};
  return lower(address.substr(at + 1));
}

bool is_address(std::string_view address) {
  const auto at = address.rfind('@');
  return at != std::string_view::npos && at > 0 && at + 1 < address.size() &&
         address.find_first_of(" \t\r\n<>,;\"") == std::string_view::npos;
}

void read_mail(Table& t, const fs::path& base, MailConfig& mail) {
  const auto server = t.string("server", true);
  if (server) {
    if (server->rfind("smtp://", 0) != 0 && server->rfind("smtps://", 0) != 0) {
      t.error(*t.find("server"),
              fmt::format("'server' must start with smtp:// or smtps://, got '{}'", *server));
    } else {
      mail.server = *server;
    }
  }
  if (auto v = t.string("tls")) {
    if (*v == "required") {
      mail.tls = TlsMode::kRequired;
    } else if (*v == "starttls") {
      mail.tls = TlsMode::kStartTls;
    } else if (*v == "none") {
      mail.tls = TlsMode::kNone;
      const std::string host = server ? url_host(*server) : "";
      if (server && host != "127.0.0.1" && host != "::1" && host != "localhost") {
        t.error(*t.find("tls"),
                fmt::format("tls = \"none\" is allowed only for a server on this machine "
                            "(127.0.0.1, ::1 or localhost), not '{}'",
                            host));
      }
    } else {
      t.error(*t.find("tls"),
              fmt::format("unknown tls '{}': expected \"required\", \"starttls\" or \"none\"", *v));
    }
  }
  if (auto v = t.string("from", true)) {
    if (!is_address(*v)) {
      t.error(*t.find("from"), fmt::format("bad email address '{}' in 'from'", *v));
    }
    mail.from = *v;
  }
  if (auto v = t.string("username")) mail.username = *v;
  if (const Value* v = t.find("password")) {
    t.error(*v,
            "a password is never written in the config: put it in the file 'password_file' "
            "names, or in the systemd credential smtp-password");
  }
  if (auto v = t.string("password_file")) mail.password_file = resolve(base, *v);
  if (auto v = t.string("ca_file")) mail.ca_file = resolve(base, *v);
  if (auto v = t.strings("allowed_domains")) {
    for (const auto& domain : *v) mail.allowed_domains.push_back(lower(domain));
  }
  if (auto v = hours_duration(t, "repeat_interval")) mail.repeat_interval = *v;
  if (auto v = t.boolean("send_resolved")) mail.send_resolved = *v;
  t.finish();
}

std::optional<Route> read_route(Table& t, const Config& config) {
  Route route;
  const auto name = t.string("name", true);
  if (name) {
    route.name = *name;
    t.set_name(fmt::format("[[route]] '{}'", *name));
  }
  if (auto to = t.strings("to", true)) {
    const Value& at = *t.find("to");
    if (to->empty())
      t.error(at, fmt::format("'to' must name at least one address in {}", t.name()));
    for (const auto& address : *to) {
      if (!is_address(address)) {
        t.error(at, fmt::format("bad email address '{}' in {}", address, t.name()));
        continue;
      }
      const auto& allowed = config.mail.allowed_domains;
      if (!allowed.empty() &&
          std::find(allowed.begin(), allowed.end(), address_domain(address)) == allowed.end()) {
        t.error(at, fmt::format("address '{}' in {} is not in mail.allowed_domains ({})", address,
                                t.name(), join(allowed, ", ")));
      }
    }
    route.to = *to;
  }
  if (auto ids = t.strings("rules")) {
    for (const auto& id : *ids) {
      if (config.rules.find_rule(id) == nullptr) {
        t.error(*t.find("rules"), fmt::format("unknown rule '{}' in {}", id, t.name()));
      }
    }
    route.rules = *ids;
  }
  if (auto teams = t.strings("teams")) route.teams = *teams;
  if (auto v = t.boolean("attach_csv")) route.attach_csv = *v;
  t.finish();
  if (!name) return std::nullopt;
  return route;
}

void read_review(Table& t, ReviewConfig& review) {
  if (auto at = t.string("at")) {
    static constexpr std::string_view kDays[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    const auto space = at->find(' ');
    std::optional<std::pair<int, int>> time;
    int weekday = 0;
    if (space != std::string::npos) {
      const std::string day = lower(at->substr(0, space));
      for (int i = 0; i < 7; ++i) {
        if (day == kDays[i]) weekday = i + 1;
      }
      time = parse_hh_mm(std::string_view(*at).substr(space + 1));
    }
    if (weekday == 0 || !time) {
      t.error(*t.find("at"), fmt::format("bad time '{}' for 'at': expected a weekday (Mon to Sun) "
                                         "and HH:MM, such as \"Mon 07:00\"",
                                         *at));
    } else {
      review.weekday = weekday;
      review.hour = time->first;
      review.minute = time->second;
    }
  }
  if (auto columns = t.strings("csv_columns")) {
    std::vector<std::string> allowed = ReviewConfig().csv_columns;
    allowed.push_back("person");
    allowed.push_back("title");
    for (const auto& column : *columns) {
      if (std::find(allowed.begin(), allowed.end(), column) == allowed.end()) {
        t.error(*t.find("csv_columns"), fmt::format("unknown column '{}' in 'csv_columns': "
                                                    "expected some of {}",
                                                    column, join(allowed, ", ")));
      }
    }
    review.csv_columns = *columns;
  }
  t.finish();
}

// The first line of a toml11 syntax error without its "[error] toml::function: " prefix.
std::string syntax_message(std::string_view what) {
  std::string_view line = what.substr(0, what.find('\n'));
  if (line.rfind("[error] ", 0) == 0) line.remove_prefix(8);
  if (line.rfind("toml::", 0) == 0) {
    if (const auto colon = line.find(": "); colon != std::string_view::npos) {
      line.remove_prefix(colon + 2);
    }
  }
  return std::string(line);
}

}  // namespace

ConfigError::ConfigError(std::vector<std::string> messages)
    : std::runtime_error(join(messages, "\n")), messages_(std::move(messages)) {}

Config parse_config(std::string_view text, const fs::path& file) {
  Value root;
  try {
    std::istringstream in{std::string(text)};
    root = toml::parse(in, file.string());
  } catch (const toml::exception& e) {  // syntax_error, or anything else toml11 refuses
    throw ConfigError(
        {fmt::format("{}:{}: {}", file.string(), e.location().line(), syntax_message(e.what()))});
  }

  Diagnostics diagnostics;
  Config config;
  config.file = file;
  const fs::path base = fs::absolute(file).parent_path();
  Table top(root, "", diagnostics);

  if (const Value* v = top.table("service")) {
    Table t(*v, "[service]", diagnostics);
    read_service(t, base, config.service);
  }

  std::map<std::string, std::uint_least32_t> source_lines;
  for (const Value* v : top.tables("source", "an array of tables ([[source]])")) {
    Table t(*v, fmt::format("[[source]] #{}", config.rules.sources.size() + 1), diagnostics);
    auto source = read_source(t, config);
    if (!source) continue;
    const auto [it, inserted] = source_lines.emplace(source->name, v->location().line());
    if (!inserted) {
      t.error(*t.find("name"), fmt::format("duplicate source name '{}' (first defined on line {})",
                                           source->name, it->second));
      continue;
    }
    config.rules.sources.push_back(std::move(*source));
  }

  std::vector<std::string> all_formats;
  for (const auto& source : config.rules.sources) {
    for (const auto& format : source.date_formats) {
      if (std::find(all_formats.begin(), all_formats.end(), format) == all_formats.end()) {
        all_formats.push_back(format);
      }
    }
  }
  if (const Value* v = top.table("calendar")) {
    Table t(*v, "[calendar]", diagnostics);
    read_calendar(t, all_formats, config);
  }

  std::vector<DateUse> date_uses;
  std::map<std::string, std::uint_least32_t> rule_lines;
  for (const Value* v : top.tables("rule", "an array of tables ([[rule]])")) {
    Table t(*v, fmt::format("[[rule]] #{}", rule_lines.size() + 1), diagnostics);
    auto rule = RuleReader(t, config.rules.sources, date_uses).read(config);
    if (!rule) continue;
    const auto [it, inserted] = rule_lines.emplace(rule->id, v->location().line());
    if (!inserted) {
      t.error(*t.find("id"), fmt::format("duplicate rule id '{}' (first defined on line {})",
                                         rule->id, it->second));
      continue;
    }
    config.rules.rules.push_back(std::move(*rule));
  }
  for (auto& rule : config.rules.rules) {
    rule.fingerprint = fingerprint(rule, config.rules.count_start_day);
  }
  for (auto& source : config.rules.sources) {
    for (auto& field : source.fields) {
      const bool well_known =
          std::find(std::begin(rules::kDateFieldNames), std::end(rules::kDateFieldNames),
                    field.name) != std::end(rules::kDateFieldNames);
      const bool used = std::any_of(date_uses.begin(), date_uses.end(), [&](const DateUse& use) {
        return use.source == source.name && use.field == field.name;
      });
      field.is_date = well_known || used;
    }
  }

  if (const Value* v = top.table("mail")) {
    Table t(*v, "[mail]", diagnostics);
    read_mail(t, base, config.mail);
  }
  std::set<std::string> route_names;
  for (const Value* v : top.tables("route", "an array of tables ([[route]])")) {
    Table t(*v, fmt::format("[[route]] #{}", route_names.size() + 1), diagnostics);
    auto route = read_route(t, config);
    if (!route) continue;
    if (!config.mail.enabled() && !top.has("mail")) {
      t.error(fmt::format("{} needs a [mail] table with a server", t.name()));
    }
    if (!route_names.insert(route->name).second) {
      t.error(*t.find("name"), fmt::format("duplicate route name '{}'", route->name));
      continue;
    }
    config.routes.push_back(std::move(*route));
  }

  if (const Value* v = top.table("review")) {
    Table t(*v, "[review]", diagnostics);
    read_review(t, config.review);
  }
  top.finish();

  diagnostics.throw_if_any(file);
  return config;
}

Config load_config(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    throw ConfigError({fmt::format("{}: cannot read: {}", file.string(), std::strerror(errno))});
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    throw ConfigError({fmt::format("{}: cannot read: {}", file.string(), std::strerror(errno))});
  }
  return parse_config(text.str(), file);
}

}  // namespace config
