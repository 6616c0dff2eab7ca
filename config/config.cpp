// parse_config and load_config: casewatch.toml -> Config. Every problem found in the file is
// collected with its line and reported at once, in line order, in one ConfigError.
#include "config/config.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string_view>
#include <utility>

#include "config/readers.h"
#include "config/toml_table.h"

namespace config {
namespace {

using detail::DateUse;
using detail::fingerprint;
using detail::read_calendar;
using detail::read_mail;
using detail::read_review;
using detail::read_route;
using detail::read_rule;
using detail::read_service;
using detail::read_source;
using internal::Diagnostics;
using internal::join;
using internal::Table;
using internal::Value;

namespace fs = std::filesystem;

// The first line of a toml11 syntax error without its "[error] toml::function: " prefix.
std::string syntax_message(std::string_view what) {
  std::string_view line = what.substr(0, what.find('\n'));
  if (line.rfind("[error] ", 0) == 0) {
    line.remove_prefix(8);
  }
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
  std::vector<const Value*> files_at;  // per source read: its `files` value, else its table
  std::map<std::string, std::vector<const Value*>, std::less<>> sets;  // `set` values by name
  for (const Value* v : top.tables("source", "an array of tables ([[source]])")) {
    Table t(*v, fmt::format("[[source]] #{}", config.rules.sources.size() + 1), diagnostics);
    auto source = read_source(t, config);
    if (!source) {
      continue;
    }
    const auto [it, inserted] = source_lines.emplace(source->name, v->location().line());
    if (!inserted) {
      t.error(*t.find("name"), fmt::format("duplicate source name '{}' (first defined on line {})",
                                           source->name, it->second));
      continue;
    }
    files_at.push_back(t.has("files") ? t.find("files") : v);
    if (!source->set.empty()) {
      sets[source->set].push_back(t.find("set"));
    }
    config.rules.sources.push_back(std::move(*source));
  }
  detail::check_shared_files(config.rules.sources, files_at, sets, diagnostics);

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
    auto rule = read_rule(t, config.rules.sources, date_uses, config);
    if (!rule) {
      continue;
    }
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
      // A profile marks its own date fields (Field::is_date already set).
      field.is_date = field.is_date || well_known || used;
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
    if (!route) {
      continue;
    }
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
  if (const Value* v = top.table("metrics")) {
    Table t(*v, "[metrics]", diagnostics);
    detail::read_metrics(t, config.metrics);
  }
  if (const Value* v = top.table("retention")) {
    Table t(*v, "[retention]", diagnostics);
    detail::read_retention(t, config.retention);
  }
  top.finish();

  diagnostics.throw_if_any(file);
  config.warnings = detail::route_warnings(config);
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
