// The rule keys of issue 14: unless, a rule's own count_start_day, KPI targets of recurring
// rules, join_contiguous (periods of care).
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "config/config.h"
#include "tests/config/config_test_util.h"

using config_test::errors_of;
using config_test::kFile;
using config_test::kSource;
using config_test::kTimescale;

TEST_CASE("bad unless and count_start_day keys are reported as file:line: message", "[config]") {
  auto [text, expected] = GENERATE(table<std::string, std::string>({
      {kSource + kTimescale + "unless = { icpc_not_required = \"Yes\" }\n",
       "17: unknown field 'icpc_not_required' in [[rule]] 'ts': source 'cases' has no such "
       "field"},
      {kSource + kTimescale + "unless = { status = [] }\n",
       "17: 'unless' value of 'status' must not be empty"},
      {kSource + "[[rule]]\nid = \"u\"\nkind = \"unallocated\"\nsource = \"cases\"\n"
                 "count_start_day = true\n",
       "14: key 'count_start_day' does not apply to an unallocated rule in [[rule]] 'u'"},
      {kSource + kTimescale + "count_start_day = \"yes\"\n",
       "17: 'count_start_day' must be true or false, got a string"},
  }));
  CAPTURE(text);
  CHECK(errors_of(text) == std::vector<std::string>{kFile.string() + ":" + expected});
}

TEST_CASE("unless and a rule's own count_start_day are read, and are part of its fingerprint",
          "[config]") {
  const auto rule_of = [](const std::string& calendar, const std::string& extra) {
    return config::parse_config(calendar + kSource + kTimescale + extra, kFile).rules.rules.at(0);
  };
  const rules::Rule with = rule_of("",
                                   "unless = { status = [\"Closed\", \"Void\"] }\n"
                                   "count_start_day = true\n");
  REQUIRE(with.unless.size() == 1);
  CHECK(with.unless[0] == rules::Filter{"status", {"Closed", "Void"}});
  CHECK(with.count_start_day == true);
  CHECK_FALSE(rule_of("", "").count_start_day.has_value());

  const std::string base = rule_of("", "").fingerprint;
  CHECK(rule_of("", "unless = { status = \"Closed\" }\n").fingerprint != base);
  // The reading that applies is what counts: the rule's own setting, else the calendar's.
  const std::string validator = rule_of("", "count_start_day = true\n").fingerprint;
  CHECK(validator != base);
  CHECK(rule_of("[calendar]\ncount_start_day = true\n", "").fingerprint == validator);
  CHECK(rule_of("[calendar]\ncount_start_day = true\n", "count_start_day = false\n").fingerprint ==
        base);
  CHECK(rule_of("", "count_start_day = false\n").fingerprint == base);
}

TEST_CASE("recurring rules take a KPI target", "[config]") {
  const auto config = config::parse_config(
      kSource +
          "[[rule]]\nid = \"r\"\nkind = \"recurring\"\nsource = \"cases\"\nstart = \"started\"\n"
          "event = \"done\"\nschedule = [\"20wd\", \"3m\", \"6m\"]\ntarget_percent = 95\n"
          "tolerance = 2\n",
      kFile);
  const rules::Rule& rule = config.rules.rules.at(0);
  CHECK(rule.target_percent == 95);
  CHECK(rule.tolerance == 2);
}

TEST_CASE("join_contiguous: recurring rules only, with an end, part of the fingerprint when set",
          "[config]") {
  const std::string recurring =
      "[[rule]]\nid = \"r\"\nkind = \"recurring\"\nsource = \"cases\"\n"                 // 10-13
      "start = \"started\"\nevent = \"done\"\nschedule = [\"20wd\", \"3m\", \"6m\"]\n";  // 14-16
  SECTION("errors") {
    auto [text, expected] = GENERATE_REF(table<std::string, std::string>({
        {kSource + recurring + "join_contiguous = true\n",
         "17: 'join_contiguous' needs 'end' in [[rule]] 'r': a record follows on from the "
         "previous one when it starts the day that one ended"},
        {kSource + kTimescale + "join_contiguous = true\n",
         "17: key 'join_contiguous' does not apply to a timescale rule in [[rule]] 'ts'"},
        {kSource + recurring + "end = \"done\"\njoin_contiguous = \"yes\"\n",
         "18: 'join_contiguous' must be true or false, got a string"},
    }));
    CAPTURE(text);
    CHECK(errors_of(text) == std::vector<std::string>{kFile.string() + ":" + expected});
  }
  SECTION("read, and in the fingerprint only when true") {
    const auto rule_of = [&](const std::string& extra) {
      return config::parse_config(kSource + recurring + "end = \"done\"\n" + extra, kFile)
          .rules.rules.at(0);
    };
    CHECK(rule_of("join_contiguous = true\n").join_contiguous);
    CHECK_FALSE(rule_of("").join_contiguous);
    CHECK(rule_of("join_contiguous = true\n").fingerprint != rule_of("").fingerprint);
    CHECK(rule_of("join_contiguous = false\n").fingerprint == rule_of("").fingerprint);
  }
}
