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

// Issue 15: an unallocated rule joined to an allocations source (SSDA903 social worker
// episodes), with the population's start, end and join_contiguous.
namespace {

// Lines 10-17: a source of allocations.
const std::string kAllocations =
    "[[source]]\n"                   // 10
    "name = \"workers\"\n"           // 11
    "key = \"Row\"\n"                // 12
    "[source.fields]\n"              // 13
    "person = \"Child\"\n"           // 14
    "worker = \"SW\"\n"              // 15
    "allocation_start = \"From\"\n"  // 16
    "allocation_end = \"To\"\n";     // 17

// Lines 18-21 (after kSource and kAllocations): the rule's first lines.
const std::string kUnallocated =
    "[[rule]]\n"                // 18
    "id = \"u\"\n"              // 19
    "kind = \"unallocated\"\n"  // 20
    "source = \"cases\"\n";     // 21

}  // namespace

TEST_CASE("allocations_source: errors name the line", "[config]") {
  const std::string head = kSource + kAllocations + kUnallocated;
  auto [text, expected] = GENERATE_REF(table<std::string, std::vector<std::string>>({
      {head + "start = \"started\"\n",
       {"22: key 'start' applies to an unallocated rule only with 'allocations_source' in "
        "[[rule]] 'u'"}},
      {head + "end = \"done\"\n",
       {"22: key 'end' applies to an unallocated rule only with 'allocations_source' in "
        "[[rule]] 'u'"}},
      {head + "join_contiguous = true\n",
       {"22: key 'join_contiguous' applies to an unallocated rule only with "
        "'allocations_source' in [[rule]] 'u'"}},
      {head + "allocations_source = \"nope\"\nstart = \"started\"\n",
       {"22: unknown source 'nope' in [[rule]] 'u'"}},
      {head + "allocations_source = \"workers\"\nstart = \"begun\"\n",
       {"23: unknown field 'begun' in [[rule]] 'u': source 'cases' has no such field"}},
      {head + "allocations_source = \"workers\"\nstart = \"started\"\njoin_contiguous = true\n",
       {"24: 'join_contiguous' needs 'end' in [[rule]] 'u': a record follows on from the "
        "previous one when it starts the day that one ended"}},
      {head + "allocations_source = \"workers\"\nstart = \"started\"\nopen_values = [\"Open\"]\n",
       {"24: 'open_values' does not apply with 'allocations_source' in [[rule]] 'u': a record "
        "is open from its 'start' to its 'end' (use 'where' or 'unless' to leave records out)"}},
      {head + "allocations_source = \"cases\"\nstart = \"started\"\n",
       {"18: source 'cases' has no field 'allocation_start', needed by [[rule]] 'u' in its "
        "allocations source",
        "18: source 'cases' has no field 'allocation_end', needed by [[rule]] 'u' in its "
        "allocations source"}},
      {kSource + kTimescale + "allocations_source = \"cases\"\n",
       {"17: key 'allocations_source' does not apply to a timescale rule in [[rule]] 'ts'"}},
  }));
  CAPTURE(text);
  std::vector<std::string> with_file;
  for (const auto& message : expected) {
    with_file.push_back(kFile.string() + ":" + message);
  }
  CHECK(errors_of(text) == with_file);
}

TEST_CASE("allocations_source, start, end and join_contiguous are read and fingerprinted",
          "[config]") {
  const auto rule_of = [](const std::string& extra) {
    return config::parse_config(kSource + kAllocations + kUnallocated + extra, kFile)
        .rules.rules.at(0);
  };
  const std::string joined = "allocations_source = \"workers\"\nstart = \"started\"\n";
  const rules::Rule rule = rule_of(joined + "end = \"done\"\njoin_contiguous = true\n");
  CHECK(rule.allocations_source == "workers");
  CHECK(rule.start == "started");
  CHECK(rule.end == "done");
  CHECK(rule.join_contiguous);
  CHECK(rules::sources_of(rule) == std::vector<std::string>{"cases", "workers"});

  // A rule without it keeps the fingerprint it had; each new key changes it.
  const std::string plain = rule_of("").fingerprint;
  CHECK(plain.find("allocations_source") == std::string::npos);
  const std::string base = rule_of(joined).fingerprint;
  CHECK(base != plain);
  CHECK(rule_of(joined + "end = \"done\"\n").fingerprint != base);
  CHECK(rule_of(joined + "join_contiguous = false\n").fingerprint == base);
  CHECK(rule_of(joined + "end = \"done\"\njoin_contiguous = true\n").fingerprint !=
        rule_of(joined + "end = \"done\"\n").fingerprint);
}
