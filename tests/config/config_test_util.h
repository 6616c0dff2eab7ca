// Shared by the config tests: a small source and timescale rule, and the errors of a text.
#ifndef CASEWATCH_TESTS_CONFIG_CONFIG_TEST_UTIL_H_
#define CASEWATCH_TESTS_CONFIG_CONFIG_TEST_UTIL_H_

#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/config_errors.h"

namespace config_test {

inline const std::filesystem::path kFile = "/etc/casewatch/casewatch.toml";

// Every message of the ConfigError that parsing `text` throws; empty when it parses.
inline std::vector<std::string> errors_of(const std::string& text) {
  return test_support::config_errors(text, kFile);
}

// Nine lines: a source with a few fields. Rules in tests start on line 10.
inline const std::string kSource =
    "[[source]]\n"
    "name = \"cases\"\n"
    "key = \"Case ID\"\n"
    "[source.fields]\n"
    "person = \"Child ID\"\n"
    "worker = \"Worker\"\n"
    "status = \"Status\"\n"
    "started = \"Start\"\n"
    "done = \"Done\"\n";

inline const std::string kTimescale =
    "[[rule]]\n"              // 10
    "id = \"ts\"\n"           // 11
    "kind = \"timescale\"\n"  // 12
    "source = \"cases\"\n"    // 13
    "start = \"started\"\n"   // 14
    "end = \"done\"\n"        // 15
    "limit = \"45wd\"\n";     // 16

}  // namespace config_test

#endif  // CASEWATCH_TESTS_CONFIG_CONFIG_TEST_UTIL_H_
