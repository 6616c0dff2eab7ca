// A state folder for the daemon's tests: made from a configuration, it holds that configuration,
// its calendar, the database and an Engine over them. kCasesConfig is the configuration most of
// them need: one `cases` extract and the unallocated rule over it.
#ifndef CASEWATCH_TESTS_SUPPORT_ENGINE_STATE_H_
#define CASEWATCH_TESTS_SUPPORT_ENGINE_STATE_H_

#include <filesystem>
#include <fstream>
#include <string>

#include "config/config.h"
#include "daemon/work/engine.h"
#include "storage/storage.h"
#include "tests/support/temp_dir.h"

namespace test_support {

// cases*.csv keyed by "Case ID" with dd/mm/yyyy dates; an open case (Case Status "Open") with no
// Allocated Worker is unallocated since its Referral Date, listed when that is over 28 days.
inline constexpr const char* kCasesConfig = R"toml([service]
state_dir = "state"

[[source]]
name = "cases"
files = "cases*.csv"
key = ["Case ID"]
date_formats = ["%d/%m/%Y"]
[source.fields]
person = "Child ID"
worker = "Allocated Worker"
opened = "Referral Date"
status = "Case Status"

[[rule]]
id = "unallocated"
kind = "unallocated"
source = "cases"
open_values = ["Open"]
over_days = 28
)toml";

// An extract for kCasesConfig as of 2026-11-23: C1 unallocated since 1 Sep (83 days) and C2
// since 1 Oct (53 days), both listed; C3 allocated.
inline constexpr const char* kCasesExtract =
    "Case ID,Child ID,Allocated Worker,Referral Date,Case Status\n"
    "C1,P1,,01/09/2026,Open\n"
    "C2,P2,,01/10/2026,Open\n"
    "C3,P3,A Patel,01/09/2026,Open\n";

struct EngineState {
  explicit EngineState(const std::string& toml = kCasesConfig)
      : config(config::parse_config(toml, dir / "casewatch.toml")),
        calendar([this] {
          service::prepare_state_dir(config);
          return config::load_calendar(config);
        }()),
        history(config.service.database_file()),
        engine(config, calendar, history) {}

  // Writes `text` as the inbox file `name`.
  void drop(const std::string& name, const std::string& text) const {
    std::ofstream(config.service.inbox_dir() / name, std::ios::binary) << text;
  }

  TempDir dir;
  const config::Config config;
  const rules::Calendar calendar;
  storage::History history;
  service::Engine engine;
};

}  // namespace test_support

#endif  // CASEWATCH_TESTS_SUPPORT_ENGINE_STATE_H_
