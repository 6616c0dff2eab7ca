#include "daemon/settings.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>

#include "storage/storage.h"

namespace service {

std::shared_ptr<const Settings> load_settings(const std::filesystem::path& file) {
  auto settings = std::make_shared<Settings>();
  settings->config = config::load_config(file);
  settings->calendar = config::load_calendar(settings->config);
  settings->zone = find_zone(settings->config.service.timezone);
  const auto& review = settings->config.review;
  settings->review = WeeklySchedule{review.weekday, review.at};
  for (const auto& fetch : settings->config.fetches) {
    settings->fetches.push_back(make_fetch_plan(fetch, settings->config.service.inbox_dir()));
  }
  return settings;
}

void check_state_dir(const config::Config& config) {
  namespace fs = std::filesystem;
  fs::path folder = config.service.state_dir;
  std::error_code ec;
  bool exists = fs::exists(folder, ec);
  while (!exists && folder.has_relative_path() && folder.has_parent_path() &&
         folder.parent_path() != folder) {
    folder = folder.parent_path();
    exists = fs::exists(folder, ec);
  }
  const bool usable =
      exists && fs::is_directory(folder, ec) && ::access(folder.c_str(), W_OK | X_OK) == 0;
  if (!usable) {
    throw std::runtime_error(
        folder == config.service.state_dir
            ? fmt::format("state_dir {} is not a folder this user can write",
                          config.service.state_dir.string())
            : fmt::format("state_dir {} cannot be created: {} is not a folder this user can write",
                          config.service.state_dir.string(), folder.string()));
  }
}

std::vector<std::string> definition_changes(const config::Config& config,
                                            const storage::History& history) {
  std::vector<std::string> out;
  for (const auto& rule : config.rules.rules) {
    const auto stored = history.last_fingerprint(rule.id);
    if (!stored || *stored == rule.fingerprint) {
      continue;
    }
    const auto diff = rules::definition_diff(*stored, rule.fingerprint);
    out.push_back(fmt::format(
        "rule '{}' changed ({}): cases listed under both definitions keep their history and "
        "notes; cases that leave resolve as 'rule definition changed'",
        rule.id,
        diff.empty() ? std::string("its settings") : fmt::format("{}", fmt::join(diff, "; "))));
  }
  return out;
}

std::vector<std::string> file_groups(const config::Config& config) {
  const auto& sources = config.rules.sources;
  std::vector<std::string> out;
  std::vector<std::string> globs;  // shared globs already said
  for (const auto& source : sources) {
    if (source.format == rules::Format::kCsv ||
        std::find(globs.begin(), globs.end(), source.files) != globs.end()) {
      continue;
    }
    std::vector<std::string> names;
    for (const auto& other : sources) {
      if (other.files != source.files || other.format != source.format) {
        continue;
      }
      names.push_back(other.format == rules::Format::kXlsx
                          ? fmt::format("{} ({})", other.name,
                                        other.sheet.empty() ? "first sheet" : other.sheet)
                          : fmt::format("{} ({})", other.name, other.record));
    }
    if (names.size() < 2) {
      continue;
    }
    globs.push_back(source.files);
    out.push_back(fmt::format("files '{}' feed {} sources together: {}", source.files, names.size(),
                              fmt::join(names, ", ")));
  }
  std::vector<std::string> sets;
  for (const auto& source : sources) {
    if (source.set.empty() || std::find(sets.begin(), sets.end(), source.set) != sets.end()) {
      continue;
    }
    sets.push_back(source.set);
    std::vector<std::string> names;
    for (const auto& other : sources) {
      if (other.set == source.set) {
        names.push_back(other.name);
      }
    }
    out.push_back(fmt::format("set '{}': {}: their files of one as-of date are ingested together",
                              source.set, fmt::join(names, ", ")));
  }
  return out;
}

rules::RuleKind kind_of(const Settings& settings, std::string_view rule_id) {
  const rules::Rule* rule = settings.config.rules.find_rule(rule_id);
  return rule != nullptr ? rule->kind : rules::RuleKind::kUnallocated;
}

}  // namespace service
