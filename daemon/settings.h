// Everything the service builds from one configuration file: the Config, the holiday calendar,
// the time zone, the review schedule and the fetch plans. Immutable once built; the service
// swaps in a whole new one on reload, and a running job keeps its own copy alive.
#ifndef CASEWATCH_DAEMON_SETTINGS_H_
#define CASEWATCH_DAEMON_SETTINGS_H_

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "daemon/fetch.h"
#include "daemon/policy/schedule.h"
#include "rules/rules.h"

namespace date {
class time_zone;
}
namespace storage {
class History;
}

namespace service {

struct Settings {
  config::Config config;
  rules::Calendar calendar;
  const date::time_zone* zone = nullptr;
  WeeklySchedule review;
  std::vector<FetchPlan> fetches;
};

// Loads and validates everything a configuration needs: what --check, --once, the service and
// reload all use. Throws config::ConfigError ("file:line: message" for each problem, including
// an unknown time zone) or std::runtime_error (the holiday file cannot be read).
std::shared_ptr<const Settings> load_settings(const std::filesystem::path& file);

// Throws std::runtime_error naming the folder when `config`'s state_dir cannot be created (its
// nearest existing ancestor is not a writable folder) or exists but is not a writable folder.
// Creates nothing: --check uses it.
void check_state_dir(const config::Config& config);

// One line per rule of `config` whose definition differs from the one its findings history was
// last evaluated under, naming the settings that changed and what the next evaluation does:
// "rule 'unallocated' changed (not_a_worker: [Duty] -> [Duty,MASH]): cases listed under both
// definitions keep their history and notes; cases that leave resolve as 'rule definition
// changed'". Rules never evaluated are not named. --check and reload print these.
std::vector<std::string> definition_changes(const config::Config& config,
                                            const storage::History& history);

// What --check says of files read together: one line per glob shared by several workbook or
// census sources ("files 'annex-a*.xlsx' feed 2 sources together: assessments (List 4),
// children-in-need (List 6)") and per set ("set 'ssda903': social-workers, episodes, reviews:
// their files of one as-of date are ingested together").
std::vector<std::string> file_groups(const config::Config& config);

// The kind of the rule called `rule_id`; kUnallocated when there is none.
rules::RuleKind kind_of(const Settings& settings, std::string_view rule_id);

}  // namespace service

#endif  // CASEWATCH_DAEMON_SETTINGS_H_
