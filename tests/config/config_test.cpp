#include "config/config.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/config/config_test_util.h"
#include "tests/support/temp_dir.h"

namespace {

using config_test::errors_of;
using config_test::kFile;
using config_test::kSource;
using config_test::kTimescale;
namespace fs = std::filesystem;

// A source like kSource with `extra` [[source]] keys after its first three lines.
std::string source_with(const std::string& extra) {
  const auto fields = kSource.find("[source.fields]");
  return kSource.substr(0, fields) + extra + kSource.substr(fields);
}

rules::Date ymd(int y, int m, int d) { return *rules::Date::from_ymd(y, m, d); }

}  // namespace

TEST_CASE("the example config loads with its sources, rules and resolved paths", "[config]") {
  const fs::path file = fs::path(CASEWATCH_SOURCE_DIR) / "examples" / "casewatch.toml";
  const config::Config config = config::load_config(file);
  const fs::path examples = fs::absolute(file).parent_path().lexically_normal();

  CHECK(config.file == file);
  CHECK(config.service.state_dir == examples / "state");
  CHECK(config.service.socket == examples / "state" / "control.sock");
  CHECK(config.service.timezone == "Europe/London");
  CHECK(config.service.holidays_file ==
        (examples / ".." / "data" / "bank-holidays-england-and-wales.csv").lexically_normal());
  REQUIRE(config.calendar.extra_closures.size() == 1);
  CHECK(config.calendar.extra_closures[0].date == ymd(2026, 12, 24));
  CHECK(config.calendar.extra_closures[0].title == "Local closure");
  CHECK_FALSE(config.rules.count_start_day);

  REQUIRE(config.rules.sources.size() == 6);
  const rules::Source& cases = config.rules.sources[0];
  CHECK(cases.name == "cases");
  CHECK(cases.files == "cases*.csv");
  CHECK(cases.key == std::vector<std::string>{"Case ID"});
  REQUIRE(cases.fields.size() == 8);
  CHECK(cases.fields[0].name == "person");
  CHECK(cases.fields[2].name == "worker");
  CHECK(cases.fields[2].headers == std::vector<std::string>{"Allocated Worker", "Social Worker"});
  CHECK_FALSE(cases.fields[2].is_date);
  CHECK(cases.fields[3].name == "opened");
  CHECK(cases.fields[3].is_date);
  CHECK(cases.fields[7].name == "allocation_end");
  CHECK(cases.fields[7].is_date);

  const rules::Source* assessments = config.rules.find_source("assessments");
  REQUIRE(assessments != nullptr);
  CHECK(assessments->fields[assessments->field_index("started")].is_date);
  CHECK(assessments->fields[assessments->field_index("authorised")].is_date);
  CHECK_FALSE(assessments->fields[assessments->field_index("type")].is_date);
  const rules::Source* looked_after = config.rules.find_source("looked_after");
  REQUIRE(looked_after != nullptr);
  // Mapped for a latest-review rule, but no rule reads it now: read as text.
  CHECK_FALSE(looked_after->fields[looked_after->field_index("latest_review")].is_date);
  const rules::Source* cp_plans = config.rules.find_source("cp_plans");
  REQUIRE(cp_plans != nullptr);
  CHECK(cp_plans->fields[cp_plans->field_index("latest_review")].is_date);
  CHECK(looked_after->fields[looked_after->field_index("ceased")].is_date);

  REQUIRE(config.rules.rules.size() == 8);
  const rules::Rule& unallocated = config.rules.rules[0];
  CHECK(unallocated.id == "unallocated");
  CHECK(unallocated.kind == rules::RuleKind::kUnallocated);
  CHECK(unallocated.open_values == std::vector<std::string>{"Open"});
  CHECK(unallocated.over_days == 28);
  CHECK(unallocated.bands.empty());
  CHECK(unallocated.not_a_worker == rules::kDefaultNotAWorker);

  const rules::Rule* single = config.rules.find_rule("single-assessment");
  REQUIRE(single != nullptr);
  REQUIRE(single->where.size() == 1);
  CHECK(single->where[0] == rules::Filter{"type", {"Single", "C&F"}});
  CHECK(single->limit == rules::Duration{45, rules::Unit::kWorkingDays});
  CHECK(single->warn == rules::Duration{5, rules::Unit::kWorkingDays});
  CHECK(single->target_percent == 85);
  CHECK(single->review);

  const rules::Rule* initial = config.rules.find_rule("initial-assessment");
  REQUIRE(initial != nullptr);
  CHECK(initial->title == "initial-assessment");
  CHECK_FALSE(initial->review);
  CHECK(initial->earlier_limits ==
        std::vector<rules::EarlierLimit>{
            {ymd(2010, 4, 1), rules::Duration{7, rules::Unit::kWorkingDays}}});

  const rules::Rule* reviews = config.rules.find_rule("lac-reviews");
  REQUIRE(reviews != nullptr);
  CHECK(reviews->kind == rules::RuleKind::kRecurring);
  CHECK(reviews->schedule == std::vector<rules::Duration>{{20, rules::Unit::kWorkingDays},
                                                          {3, rules::Unit::kMonths},
                                                          {6, rules::Unit::kMonths}});
  CHECK(reviews->events_source == "lac_reviews");
  CHECK(reviews->event == "review");
  CHECK(reviews->end == "ceased");
  CHECK(reviews->target_percent == 95);
  const rules::Source* lac_reviews = config.rules.find_source("lac_reviews");
  REQUIRE(lac_reviews != nullptr);
  CHECK(lac_reviews->fields[lac_reviews->field_index("review")].is_date);

  const rules::Rule* icpc = config.rules.find_rule("icpc");
  REQUIRE(icpc != nullptr);
  REQUIRE(icpc->unless.size() == 1);
  CHECK(icpc->unless[0] == rules::Filter{"icpc_not_required", {"Yes", "a) Yes", "true", "1"}});

  const rules::Rule* cp_reviews = config.rules.find_rule("cp-reviews");
  REQUIRE(cp_reviews != nullptr);
  CHECK(cp_reviews->schedule ==
        std::vector<rules::Duration>{{3, rules::Unit::kMonths}, {6, rules::Unit::kMonths}});
  CHECK(cp_reviews->events_source.empty());
  CHECK(cp_reviews->event == "latest_review");

  const rules::Rule* caseload = config.rules.find_rule("caseload");
  REQUIRE(caseload != nullptr);
  CHECK(caseload->max_cases == 20);

  CHECK_FALSE(config.mail.enabled());
  CHECK(config.routes.empty());
  CHECK(config.review.weekday == 1);
  CHECK(config.review.at == config::TimeOfDay{7, 0});
}

TEST_CASE("an empty file gives the documented defaults", "[config]") {
  const config::Config config = config::parse_config("", kFile);

  CHECK(config.service.state_dir == "/var/lib/casewatch");
  CHECK(config.service.socket == "/run/casewatch/control.sock");
  CHECK(config.service.timezone == "Europe/London");
  CHECK(config.service.socket_group == "casewatch");
  CHECK(config.service.settle == std::chrono::seconds(10));
  CHECK(config.service.max_connections == 64);
  CHECK(config.service.holidays_file.empty());
  CHECK(config.rules.sources.empty());
  CHECK(config.rules.rules.empty());
  CHECK_FALSE(config.mail.enabled());
  CHECK(config.review.weekday == 1);
  CHECK(config.review.fields == rules::kDefaultReviewFields);
  CHECK(config.review.body_items == 20);
}

TEST_CASE("[review] fields, its old name csv_columns and a route's own fields", "[config]") {
  const std::string mail =
      "[mail]\nserver = \"smtp://127.0.0.1\"\ntls = \"none\"\nfrom = \"cw@b.uk\"\n";
  const config::Config config = config::parse_config(
      mail +
          "[review]\nfields = [\"key\", \"team\"]\nbody_items = 5\n"
          "[[route]]\nname = \"all\"\nto = [\"x@b.uk\"]\n"
          "[[route]]\nname = \"perf\"\nto = [\"p@b.uk\"]\nfields = [\"key\", \"person\", "
          "\"note\"]\n",
      kFile);
  CHECK(config.review.fields == std::vector<std::string>{"key", "team"});
  CHECK(config.review.body_items == 5);
  REQUIRE(config.routes.size() == 2);
  CHECK_FALSE(config.routes[0].fields.has_value());
  CHECK(config.routes[1].fields == std::vector<std::string>{"key", "person", "note"});
  // The old name and the old column names still read, as their new ones.
  const config::Config old = config::parse_config(
      "[review]\ncsv_columns = [\"key\", \"days\", \"working_days\", \"resolved_reason\"]\n",
      kFile);
  CHECK(old.review.fields == std::vector<std::string>{"key", "days_unallocated", "days_overdue",
                                                      "due_in_days", "working_days_elapsed",
                                                      "reason"});
}

TEST_CASE("source and rule defaults apply when keys are left out", "[config]") {
  const config::Config config = config::parse_config(
      kSource + "[[rule]]\nid = \"u\"\nkind = \"unallocated\"\nsource = \"cases\"\n", kFile);

  const rules::Source& source = config.rules.sources.at(0);
  CHECK(source.files == "*.csv");
  CHECK(source.encoding == rules::Encoding::kUtf8);
  CHECK(source.date_formats == std::vector<std::string>{"%d/%m/%Y", "%Y-%m-%d"});
  CHECK(source.null_dates == std::vector<rules::Date>{ymd(1900, 1, 1), ymd(9999, 12, 31)});
  CHECK(source.max_bad_rows == Approx(0.005));
  CHECK_FALSE(source.fields.at(3).is_date);  // "started" is read as a date by no rule here
  const rules::Rule& rule = config.rules.rules.at(0);
  CHECK(rule.title == "u");
  CHECK(rule.review);
  CHECK(rule.over_days == 28);
  CHECK(rule.open_values.empty());
  CHECK(rule.bands.empty());
  CHECK(config.fetches.empty());
  CHECK(config.rule_alerts.empty());
}

TEST_CASE("relative paths resolve against the config file's folder", "[config]") {
  test_support::TempDir dir;
  const fs::path file = dir.write("etc/casewatch.toml",
                                  "[service]\n"
                                  "state_dir = \"state\"\n"
                                  "socket = \"../run/control.sock\"\n"
                                  "holidays_file = \"/usr/share/casewatch/holidays.csv\"\n"
                                  "[mail]\n"
                                  "server = \"smtp://127.0.0.1:25\"\n"
                                  "from = \"casewatch@example.gov.uk\"\n"
                                  "password_file = \"secrets/smtp\"\n"
                                  "ca_file = \"council-ca.pem\"\n");

  const config::Config config = config::load_config(file);

  CHECK(config.service.state_dir == dir.path() / "etc" / "state");
  CHECK(config.service.socket == dir.path() / "run" / "control.sock");
  CHECK(config.service.holidays_file == "/usr/share/casewatch/holidays.csv");
  CHECK(config.service.database_file() == dir.path() / "etc" / "state" / "casewatch.db");
  CHECK(config.mail.password_file == dir.path() / "etc" / "secrets" / "smtp");
  CHECK(config.mail.ca_file == dir.path() / "etc" / "council-ca.pem");
}

TEST_CASE("a missing config file is a ConfigError naming it", "[config]") {
  test_support::TempDir dir;
  const fs::path file = dir / "absent.toml";
  CHECK_THROWS_WITH(config::load_config(file),
                    file.string() + ": cannot read: No such file or directory");
}

TEST_CASE("a TOML syntax error is one message with toml11's line", "[config]") {
  CHECK(
      errors_of("[service]\nstate_dir = \n") ==
      std::vector<std::string>{kFile.string() + ":2: missing value after key-value separator '='"});
}

TEST_CASE("each problem in a file is reported as file:line: message", "[config]") {
  auto [text, expected] = GENERATE(table<std::string, std::string>({
      // Unknown keys, wherever they are.
      {"frobnicate = 1\n", "1: unknown key 'frobnicate' at the top level"},
      {"[service]\nfrobnicate = 1\n", "2: unknown key 'frobnicate' in [service]"},
      {"[calendar]\nfrobnicate = 1\n", "2: unknown key 'frobnicate' in [calendar]"},
      {"[review]\nfrobnicate = 1\n", "2: unknown key 'frobnicate' in [review]"},
      {"[[source]]\nname = \"c\"\nkey = \"ID\"\n[source.fields]\n\"Child ID\" = \"X\"\n",
       "5: bad field name 'Child ID' in [source.fields] of 'c': use letters, digits and '_' (the "
       "field's name goes on the left, its column header on the right)"},
      {"[[source]]\nname = \"cases\"\nkey = \"ID\"\nfrobnicate = 1\n[source.fields]\nx = \"X\"\n",
       "4: unknown key 'frobnicate' in [[source]] 'cases'"},
      {kSource + "[[rule]]\nid = \"unallocated\"\nkind = \"unallocated\"\nsource = \"cases\"\n"
                 "frobnicate = 1\n",
       "14: unknown key 'frobnicate' in [[rule]] 'unallocated'"},
      {kSource + kTimescale +
           "earlier_limits = [{ before = \"2010-04-01\", limit = \"7wd\", lmit = 1 }]\n",
       "17: unknown key 'lmit' in an earlier limit of [[rule]] 'ts'"},
      {kSource + kTimescale +
           "bands = [{ label = \"a\", bound = \"7d\", colour = \"red\" }, "
           "{ label = \"b\" }]\n",
       "17: unknown key 'colour' in a band of [[rule]] 'ts'"},
      {"[mail]\nserver = \"smtp://localhost\"\nfrom = \"a@b.uk\"\nfrobnicate = 1\n",
       "4: unknown key 'frobnicate' in [mail]"},
      {"[mail]\nserver = \"smtp://localhost\"\nfrom = \"a@b.uk\"\n[[route]]\nname = \"all\"\n"
       "to = [\"a@b.uk\"]\nfrobnicate = 1\n",
       "7: unknown key 'frobnicate' in [[route]] 'all'"},
      // Wrong types.
      {kSource + "[[rule]]\nid = \"u\"\nkind = \"unallocated\"\nsource = \"cases\"\n"
                 "over_days = \"28\"\n",
       "14: 'over_days' must be an integer, got a string"},
      {"[service]\nstate_dir = 5\n", "2: 'state_dir' must be a string, got an integer"},
      {"[calendar]\ncount_start_day = \"yes\"\n",
       "2: 'count_start_day' must be true or false, got a string"},
      {"service = 1\n", "1: 'service' must be a table, got an integer"},
      {"[source]\nname = \"x\"\n",
       "1: 'source' must be an array of tables ([[source]]), got a "
       "table"},
      {"[[source]]\nname = \"c\"\nkey = 7\n[source.fields]\nx = \"X\"\n",
       "3: 'key' must be a string or an array of strings, got an integer"},
      {kSource + kTimescale + "where = { status = [\"Open\", 3] }\n",
       "17: each item of 'status' must be a string, got an integer"},
      // Unknown sources and fields.
      {kSource + "[[rule]]\nid = \"u\"\nkind = \"unallocated\"\nsource = \"casez\"\n",
       "13: unknown source 'casez' in [[rule]] 'u'"},
      {kSource + kTimescale + "where = { type = \"Single\" }\n",
       "17: unknown field 'type' in [[rule]] 'ts': source 'cases' has no such field"},
      {kSource + "[[rule]]\nid = \"ts\"\nkind = \"timescale\"\nsource = \"cases\"\n"
                 "start = \"begun\"\nend = \"done\"\nlimit = \"45wd\"\n",
       "14: unknown field 'begun' in [[rule]] 'ts': source 'cases' has no such field"},
      {kSource + "[[rule]]\nid = \"r\"\nkind = \"recurring\"\nsource = \"cases\"\n"
                 "start = \"started\"\nevent = \"reviewed\"\nschedule = [\"3m\"]\n",
       "15: unknown field 'reviewed' in [[rule]] 'r': source 'cases' has no such field"},
      {kSource + "[[rule]]\nid = \"r\"\nkind = \"recurring\"\nsource = \"cases\"\n"
                 "start = \"started\"\nevent = \"done\"\nschedule = [\"3m\"]\n"
                 "events_source = \"reviews\"\n",
       "17: unknown source 'reviews' in [[rule]] 'r'"},
      {"[[source]]\nname = \"c\"\nkey = \"ID\"\n[source.fields]\nteam = \"Team\"\n"
       "[[rule]]\nid = \"u\"\nkind = \"unallocated\"\nsource = \"c\"\n",
       "6: source 'c' has no field 'worker', needed by [[rule]] 'u'"},
      {kSource + "[[rule]]\nid = \"u\"\nkind = \"unallocated\"\nsource = \"cases\"\n"
                 "over_days = 28\nmax_cases = 3\n",
       "15: key 'max_cases' does not apply to an unallocated rule in [[rule]] 'u'"},
      {kSource + kTimescale + "bands = [{ label = \"a\" }, { label = \"b\" }]\n",
       "17: band 'a' needs a 'bound' (only the last band is open-ended) in [[rule]] 'ts'"},
      {kSource + kTimescale +
           "bands = [{ label = \"a\", bound = \"7d\" }, { label = \"b\", "
           "bound = \"14d\" }]\n",
       "17: the last band 'b' must have no 'bound' (it is open-ended) in [[rule]] 'ts'"},
      {source_with("fetch = [\"/usr/bin/export\"]\n"),
       "1: missing required key 'fetch_at' in [[source]] 'cases' (it has 'fetch')"},
      {source_with("fetch = [\"/usr/bin/export\"]\nfetch_at = [\"6am\"]\n"),
       "5: bad time '6am' in 'fetch_at': expected HH:MM"},
      // Durations.
      {kSource + "[[rule]]\nid = \"ts\"\nkind = \"timescale\"\nsource = \"cases\"\n"
                 "start = \"started\"\nend = \"done\"\nlimit = \"45 fortnights\"\n",
       "16: bad duration '45 fortnights': expected a number and a unit: wd (working days), "
       "d (days), w (weeks) or m (months)"},
      {kSource + kTimescale + "warn = 5\n",
       "17: 'warn' must be a duration such as \"45wd\", got an integer"},
      {"[service]\nsettle = \"10 minutes\"\n",
       "2: bad duration '10 minutes': expected a number of seconds, or a number and a unit: "
       "s (seconds), m (minutes), h (hours) or d (days)"},
      {"[service]\nsettle = \"999999999999999d\"\n",
       "2: 'settle' is too long: at most 366d (31622400 seconds)"},
      {"[service]\nrescan = \"99999999999999999999s\"\n",
       "2: bad duration '99999999999999999999s': expected a number of seconds, or a number and a "
       "unit: s (seconds), m (minutes), h (hours) or d (days)"},
      {"[service]\nidle_timeout = 31622401\n",
       "2: 'idle_timeout' is too long: at most 366d (31622400 seconds)"},
      {kSource + "[[rule]]\nid = \"ts\"\nkind = \"timescale\"\nsource = \"cases\"\n"
                 "start = \"started\"\nend = \"done\"\nlimit = \"26101wd\"\n",
       "16: duration '26101wd' in 'limit' is too long: at most 26100wd (100 years)"},
      {source_with("max_age = \"90m\"\n"), "4: 'max_age' must be a whole number of hours"},
      {kSource + "max_age = \"26h\"\n",
       "10: field 'max_age' in [source.fields] of 'cases' has the name of a [[source]] key: move "
       "the key above [source.fields]"},
      // Duplicates, kinds and required keys.
      {kSource + "[[source]]\nname = \"cases\"\nkey = \"ID\"\n[source.fields]\nx = \"X\"\n",
       "11: duplicate source name 'cases' (first defined on line 1)"},
      {kSource + kTimescale + kTimescale, "18: duplicate rule id 'ts' (first defined on line 10)"},
      {kSource + "[[rule]]\nid = \"x\"\nkind = \"overdue\"\nsource = \"cases\"\n",
       "12: unknown rule kind 'overdue' in [[rule]] 'x': expected unallocated, timescale, "
       "recurring or caseload"},
      {"[[source]]\nkey = \"ID\"\n[source.fields]\nx = \"X\"\n",
       "1: missing required key 'name' in [[source]] #1"},
      {"[[source]]\nname = \"c\"\n[source.fields]\nx = \"X\"\n",
       "1: missing required key 'key' in [[source]] 'c'"},
      {"[[source]]\nname = \"c\"\nkey = \"ID\"\n",
       "1: missing required key 'fields' in [[source]] "
       "'c'"},
      {kSource + "[[rule]]\nkind = \"unallocated\"\nsource = \"cases\"\n",
       "10: missing required key 'id' in [[rule]] #1"},
      {kSource + "[[rule]]\nid = \"u\"\nsource = \"cases\"\n",
       "10: missing required key 'kind' in [[rule]] 'u'"},
      {kSource + "[[rule]]\nid = \"u\"\nkind = \"unallocated\"\n",
       "10: missing required key 'source' in [[rule]] 'u'"},
      {kSource + "[[rule]]\nid = \"t\"\nkind = \"timescale\"\nsource = \"cases\"\n"
                 "start = \"started\"\nend = \"done\"\n",
       "10: missing required key 'limit' in [[rule]] 't'"},
      {kSource + "[[rule]]\nid = \"r\"\nkind = \"recurring\"\nsource = \"cases\"\n"
                 "start = \"started\"\nevent = \"done\"\n",
       "10: missing required key 'schedule' in [[rule]] 'r'"},
      {kSource + "[[rule]]\nid = \"c\"\nkind = \"caseload\"\nsource = \"cases\"\n",
       "10: missing required key 'max_cases' in [[rule]] 'c'"},
      // Dates.
      {kSource + "[calendar]\nextra_closures = [\"2026-02-30\"]\n",
       "11: bad date '2026-02-30' in 'extra_closures': expected YYYY-MM-DD or %d/%m/%Y"},
      {"[[source]]\nname = \"c\"\nkey = \"ID\"\nnull_dates = [\"01/01/00\"]\n[source.fields]\n"
       "x = \"X\"\n",
       "4: bad date '01/01/00' in 'null_dates': expected YYYY-MM-DD or %d/%m/%Y"},
      // Mail, routes and review.
      {"[mail]\nserver = \"smtp://mail.example.gov.uk:587\"\ntls = \"none\"\nfrom = \"a@b.uk\"\n",
       "3: tls = \"none\" is allowed only for a server on this machine (127.0.0.1, ::1 or "
       "localhost), not 'mail.example.gov.uk'"},
      {"[mail]\nserver = \"smtp://localhost\"\nfrom = \"a@b.uk\"\nallowed_domains = [\"b.uk\"]\n"
       "[[route]]\nname = \"all\"\nto = [\"someone@gmail.com\"]\n",
       "7: address 'someone@gmail.com' in [[route]] 'all' is not in mail.allowed_domains (b.uk)"},
      {kSource + kTimescale +
           "[mail]\nserver = \"smtp://localhost\"\nfrom = \"a@b.uk\"\n[[route]]\nname = \"all\"\n"
           "to = [\"x@b.uk\"]\nrules = [\"ts\", \"nope\"]\n",
       "23: unknown rule 'nope' in [[route]] 'all'"},
      {"[mail]\nserver = \"smtp://localhost\"\nfrom = \"a@b.uk\"\npassword = \"hunter2\"\n",
       "4: a password is never written in the config: put it in the file 'password_file' names, "
       "or in the systemd credential smtp-password"},
      {"[[route]]\nname = \"all\"\nto = [\"x@b.uk\"]\n",
       "1: [[route]] 'all' needs a [mail] table with a server"},
      {"[review]\nat = \"Monday 7am\"\n",
       "2: bad time 'Monday 7am' for 'at': expected a weekday (Mon to Sun) and HH:MM, such as "
       "\"Mon 07:00\""},
      {"[review]\ncsv_columns = [\"key\", \"name\"]\n",
       "2: unknown field 'name' in 'csv_columns' of [review]: expected some of rule, title, key, "
       "person, team, worker, band, status, since, days_unallocated, start, due, due_inferred, "
       "end, working_days_elapsed, days_overdue, due_in_days, weeks_on_list, note, note_author, "
       "note_at, resolved_on, reason"},
      {"[review]\nfields = [\"key\"]\ncsv_columns = [\"key\"]\n",
       "3: 'csv_columns' is the old name of 'fields': give one of them, not both"},
      {"[review]\nbody_items = 0\n", "2: 'body_items' must be from 1 to 1000, got 0"},
  }));
  CAPTURE(text);
  CHECK(errors_of(text) == std::vector<std::string>{kFile.string() + ":" + expected});
}

TEST_CASE("every problem in a file is reported at once, in line order", "[config]") {
  const std::string text = kSource +
                           "[[rule]]\n"                   // 10
                           "id = \"u\"\n"                 // 11
                           "kind = \"unallocated\"\n"     // 12
                           "source = \"cases\"\n"         // 13
                           "over_days = \"28\"\n"         // 14
                           "frobnicate = true\n"          // 15
                           "[[rule]]\n"                   // 16
                           "id = \"t\"\n"                 // 17
                           "kind = \"timescale\"\n"       // 18
                           "source = \"assessments\"\n"   // 19
                           "start = \"started\"\n"        // 20
                           "end = \"authorised\"\n"       // 21
                           "limit = \"45 fortnights\"\n"  // 22
                           "[service]\n"                  // 23
                           "settle = \"soon\"\n";         // 24
  const std::string f = kFile.string();
  CHECK(errors_of(text) ==
        std::vector<std::string>{
            f + ":14: 'over_days' must be an integer, got a string",
            f + ":15: unknown key 'frobnicate' in [[rule]] 'u'",
            f + ":19: unknown source 'assessments' in [[rule]] 't'",
            f + ":22: bad duration '45 fortnights': expected a number and a unit: wd (working "
                "days), d (days), w (weeks) or m (months)",
            f + ":24: bad duration 'soon': expected a number of seconds, or a number and a unit: "
                "s (seconds), m (minutes), h (hours) or d (days)",
        });
}

TEST_CASE("ConfigError's what() joins every message with newlines", "[config]") {
  const config::ConfigError error({"a:1: one", "a:2: two"});
  CHECK(std::string(error.what()) == "a:1: one\na:2: two");
  CHECK(error.messages().size() == 2);
}

TEST_CASE("service durations accept seconds and s, m, h, d units", "[config]") {
  auto [text, seconds] = GENERATE(table<std::string, long>({
      {"10", 10},
      {"\"10s\"", 10},
      {"\"5m\"", 300},
      {"\"2h\"", 7200},
      {"\"1d\"", 86400},
  }));
  const auto config = config::parse_config("[service]\nsettle = " + text + "\n", kFile);
  CHECK(config.service.settle == std::chrono::seconds(seconds));
}

TEST_CASE("source fetch, max_age and max_bad_rows settings are read", "[config]") {
  auto [bad_rows, fraction] = GENERATE(table<std::string, double>({
      {"0.5", 0.005},
      {"\"0.5%\"", 0.005},
      {"2", 0.02},
      {"\"10%\"", 0.10},
  }));
  const auto config =
      config::parse_config(source_with("max_bad_rows = " + bad_rows +
                                       "\nmax_age = \"2d\"\nfetch = [\"/usr/bin/export\", "
                                       "\"{file}\"]\nfetch_at = [\"06:00\", \"18:30\"]\n"
                                       "fetch_timeout = \"5m\"\n"),
                           kFile);
  CHECK(config.rules.sources.at(0).max_bad_rows == Approx(fraction));
  REQUIRE(config.source_alerts.size() == 1);
  CHECK(config.source_alerts[0].source == "cases");
  CHECK(config.source_alerts[0].max_age == std::chrono::hours(48));
  REQUIRE(config.fetches.size() == 1);
  CHECK(config.fetches[0].source == "cases");
  CHECK(config.fetches[0].command == std::vector<std::string>{"/usr/bin/export", "{file}"});
  CHECK(config.fetches[0].at == std::vector<config::TimeOfDay>{{6, 0}, {18, 30}});
  CHECK(config.fetches[0].timeout == std::chrono::minutes(5));
}

TEST_CASE("rule bands, alerts and dates in any of the source's formats are read", "[config]") {
  const auto config = config::parse_config(
      "[[source]]\nname = \"cases\"\nkey = [\"LA\", \"Case ID\"]\nencoding = \"windows-1252\"\n"
      "date_formats = [\"%d/%m/%Y\"]\nnull_dates = [\"01/01/1900\", 9999-12-31]\n"
      "[source.fields]\nworker = \"Worker\"\n"
      "[calendar]\nextra_closures = [\"24/12/2026\", 2026-12-31]\ncount_start_day = true\n"
      "[[rule]]\nid = \"u\"\nkind = \"unallocated\"\nsource = \"cases\"\n"
      "bands = [{ label = \"Under 4 weeks\", bound = \"4w\" }, { label = \"Older\" }]\n"
      "alert_over = 50\nescalate_after = \"8w\"\nnot_a_worker = [\"Team Duty\"]\n",
      kFile);

  const rules::Source& source = config.rules.sources.at(0);
  CHECK(source.key == std::vector<std::string>{"LA", "Case ID"});
  CHECK(source.encoding == rules::Encoding::kWindows1252);
  CHECK(source.null_dates == std::vector<rules::Date>{ymd(1900, 1, 1), ymd(9999, 12, 31)});
  REQUIRE(config.calendar.extra_closures.size() == 2);
  CHECK(config.calendar.extra_closures[0].date == ymd(2026, 12, 24));
  CHECK(config.calendar.extra_closures[1].date == ymd(2026, 12, 31));
  CHECK(config.rules.count_start_day);
  const rules::Rule& rule = config.rules.rules.at(0);
  CHECK(rule.bands ==
        std::vector<rules::Band>{{"Under 4 weeks", rules::Duration{4, rules::Unit::kWeeks}},
                                 {"Older", std::nullopt}});
  CHECK(rule.not_a_worker == std::vector<std::string>{"Team Duty"});
  REQUIRE(config.rule_alerts.size() == 1);
  CHECK(config.rule_alerts[0].rule == "u");
  CHECK(config.rule_alerts[0].alert_over == 50);
  CHECK(config.rule_alerts[0].escalate_after == rules::Duration{8, rules::Unit::kWeeks});
}

TEST_CASE("a recurring rule may read its events from another source, joined on person",
          "[config]") {
  const auto config = config::parse_config(
      kSource +
          "[[source]]\nname = \"reviews\"\nkey = \"Review ID\"\n[source.fields]\n"
          "person = \"Child ID\"\nheld = \"Review Date\"\n"
          "[[rule]]\nid = \"r\"\nkind = \"recurring\"\nsource = \"cases\"\nstart = \"started\"\n"
          "end = \"done\"\nevents_source = \"reviews\"\nevent = \"held\"\n"
          "schedule = [\"20wd\", \"3m\", \"6m\"]\nwarn = \"5wd\"\n",
      kFile);

  const rules::Rule& rule = config.rules.rules.at(0);
  CHECK(rule.events_source == "reviews");
  CHECK(rule.event == "held");
  const rules::Source& reviews = config.rules.sources.at(1);
  CHECK(reviews.fields.at(1).is_date);
  CHECK_FALSE(reviews.fields.at(0).is_date);
  const rules::Source& cases = config.rules.sources.at(0);
  CHECK(cases.fields.at(cases.field_index("started")).is_date);
  CHECK(cases.fields.at(cases.field_index("done")).is_date);
}

TEST_CASE("a rule's fingerprint changes with its definition, not with its title", "[config]") {
  const auto fingerprint = [](const std::string& extra) {
    return config::parse_config(kSource + kTimescale + extra, kFile).rules.rules.at(0).fingerprint;
  };
  const std::string base = fingerprint("");

  CHECK_FALSE(base.empty());
  CHECK(fingerprint("") == base);
  CHECK(fingerprint("title = \"Timescale\"\nreview = false\n") == base);
  CHECK(fingerprint("warn = \"5wd\"\n") != base);
  CHECK(fingerprint("where = { status = \"Open\" }\n") != base);
  CHECK(fingerprint("target_percent = 85\n") != base);
  const std::string longer =
      config::parse_config(kSource +
                               "[[rule]]\nid = \"ts\"\nkind = \"timescale\"\n"
                               "source = \"cases\"\nstart = \"started\"\nend = \"done\"\n"
                               "limit = \"46wd\"\n",
                           kFile)
          .rules.rules.at(0)
          .fingerprint;
  CHECK(longer != base);
}

TEST_CASE("mail tls none is refused for a remote server and allowed on loopback", "[config]") {
  auto [server, allowed] = GENERATE(table<std::string, bool>({
      {"smtp://127.0.0.1:25", true},
      {"smtp://localhost:2525", true},
      {"smtp://[::1]:25", true},
      {"smtp://mail.example.gov.uk:25", false},
      {"smtp://10.0.0.5", false},
  }));
  CAPTURE(server);
  const auto errors = errors_of("[mail]\nserver = \"" + server +
                                "\"\ntls = \"none\"\nfrom = \"casewatch@example.gov.uk\"\n");
  CHECK(errors.empty() == allowed);
}

TEST_CASE("mail settings and routes are read", "[config]") {
  const auto config = config::parse_config(
      kSource + kTimescale +
          "[mail]\nserver = \"smtps://mail.example.gov.uk:465\"\ntls = \"starttls\"\n"
          "from = \"casewatch@example.gov.uk\"\nusername = \"cw\"\n"
          "allowed_domains = [\"Example.gov.uk\"]\nrepeat_interval = \"12h\"\n"
          "send_resolved = false\n"
          "[[route]]\nname = \"north\"\nto = [\"tm@EXAMPLE.gov.uk\"]\nrules = [\"ts\"]\n"
          "teams = [\"North*\"]\nattach_csv = false\n",
      kFile);

  CHECK(config.mail.enabled());
  CHECK(config.mail.tls == config::TlsMode::kStartTls);
  CHECK(config.mail.username == "cw");
  CHECK(config.mail.allowed_domains == std::vector<std::string>{"example.gov.uk"});
  CHECK(config.mail.repeat_interval == std::chrono::hours(12));
  CHECK_FALSE(config.mail.send_resolved);
  REQUIRE(config.routes.size() == 1);
  CHECK(config.routes[0].name == "north");
  CHECK(config.routes[0].rules == std::vector<std::string>{"ts"});
  CHECK(config.routes[0].teams == std::vector<std::string>{"North*"});
  CHECK_FALSE(config.routes[0].attach_csv);
}

TEST_CASE("the review time is a weekday and HH:MM", "[config]") {
  const auto config = config::parse_config("[review]\nat = \"Fri 16:30\"\n", kFile);
  CHECK(config.review.weekday == 5);
  CHECK(config.review.at == config::TimeOfDay{16, 30});
  CHECK(config::parse_config("[review]\nat = \"Sun 23:59\"\n", kFile).review.weekday == 7);
}

// One grammar for every time of day in the file (the review's `at` and a source's `fetch_at`):
// two-digit hours 00-23, a colon, two-digit minutes 00-59, nothing else.
TEST_CASE("times of day are HH:MM wherever the configuration has them", "[config]") {
  auto [text, ok] = GENERATE(table<std::string, bool>({
      {"00:00", true},
      {"06:00", true},
      {"23:59", true},
      {"6:05", false},
      {"24:00", false},
      {"06:60", false},
      {"0600", false},
      {"06:0", false},
      {"06:00 ", false},
      {"6am", false},
  }));
  CAPTURE(text);
  const auto fetch_errors =
      errors_of(source_with("fetch = [\"/usr/bin/export\"]\nfetch_at = [\"" + text + "\"]\n"));
  const auto review_errors = errors_of("[review]\nat = \"Mon " + text + "\"\n");
  CHECK(fetch_errors.empty() == ok);
  CHECK(review_errors.empty() == ok);
  if (!ok) {
    REQUIRE(fetch_errors.size() == 1);
    CHECK_THAT(fetch_errors[0], Catch::Contains("expected HH:MM"));
  }
}

TEST_CASE("load_calendar reads the holiday file and adds the extra closures", "[config]") {
  config::Config config =
      config::parse_config("[calendar]\nextra_closures = [\"2026-12-24\"]\n", kFile);
  const rules::Calendar calendar = config::load_calendar(config);  // the default data file

  CHECK_FALSE(calendar.is_working_day(ymd(2026, 12, 25)));  // Christmas Day
  CHECK_FALSE(calendar.is_working_day(ymd(2026, 12, 28)));  // Boxing Day substitute
  CHECK_FALSE(calendar.is_working_day(ymd(2026, 12, 24)));  // the local closure
  CHECK(calendar.is_working_day(ymd(2026, 12, 23)));
}

TEST_CASE("load_calendar refuses a missing or malformed holiday file, naming it", "[config]") {
  test_support::TempDir dir;
  config::Config config;
  SECTION("missing") {
    config.service.holidays_file = dir / "absent.csv";
    CHECK_THROWS_WITH(config::load_calendar(config),
                      (dir / "absent.csv").string() +
                          ": cannot read the bank holiday file: No such file or directory");
  }
  SECTION("malformed") {
    config.service.holidays_file = dir.write("holidays.csv", "date,title\n2026-13-01,Nope\n");
    CHECK_THROWS_WITH(
        config::load_calendar(config),
        (dir / "holidays.csv").string() + ":2: expected a date as YYYY-MM-DD, got '2026-13-01'");
  }
}

TEST_CASE("an unknown time zone is a configuration error at its line", "[config]") {
  CHECK(errors_of("[service]\nstate_dir = \"/tmp/x\"\ntimezone = \"Europe/Atlantis\"\n") ==
        std::vector<std::string>{
            "/etc/casewatch/casewatch.toml:3: unknown time zone 'Europe/Atlantis': expected a "
            "name like \"Europe/London\""});
  CHECK(errors_of("[service]\ntimezone = \"America/New_York\"\n").empty());
}

TEST_CASE("restart_needed lists the service settings a reload cannot apply", "[config]") {
  const config::Config old = config::parse_config("", kFile);
  CHECK(config::restart_needed(old, old).empty());
  const config::Config next = config::parse_config(
      "[service]\nstate_dir = \"/srv/cw\"\nsocket = \"/run/cw.sock\"\nsocket_group = \"staff\"\n"
      "idle_timeout = \"5s\"\nmax_connections = 3\nsettle = \"9s\"\nadmin_group = \"adm\"\n",
      kFile);
  CHECK(config::restart_needed(old, next) ==
        std::vector<std::string>{"service.state_dir", "service.socket", "service.socket_group",
                                 "service.idle_timeout", "service.max_connections"});
  const config::Config settle_only = config::parse_config("[service]\nsettle = \"9s\"\n", kFile);
  CHECK(config::restart_needed(old, settle_only).empty());  // reload applies settle
  const config::Config metrics =
      config::parse_config("[metrics]\nlisten = \"127.0.0.1:9187\"\n", kFile);
  CHECK(config::restart_needed(old, metrics) == std::vector<std::string>{"metrics.listen"});
}
