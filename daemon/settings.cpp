#include "daemon/settings.h"

#include "daemon/clock.h"
#include "daemon/work/engine.h"

namespace service {

std::shared_ptr<const Settings> build_settings(const std::filesystem::path& file) {
  auto settings = std::make_shared<Settings>();
  settings->config = config::load_config(file);
  settings->calendar = config::load_calendar(settings->config);
  settings->zone = find_zone(settings->config.service.timezone);
  warn_if_calendar_ends_soon(settings->calendar, local_date(now_utc(), settings->zone));
  const auto& review = settings->config.review;
  settings->review = WeeklySchedule{review.weekday, TimeOfDay{review.hour, review.minute}};
  for (const auto& fetch : settings->config.fetches) {
    settings->fetches.push_back(make_fetch_plan(fetch, settings->config.service.inbox_dir()));
  }
  return settings;
}

rules::RuleKind kind_of(const Settings& settings, std::string_view rule_id) {
  const rules::Rule* rule = settings.config.rules.find_rule(rule_id);
  return rule != nullptr ? rule->kind : rules::RuleKind::kUnallocated;
}

}  // namespace service
