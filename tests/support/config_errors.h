// Parsing a configuration for its errors, as config tests compare them.
#ifndef CASEWATCH_TESTS_SUPPORT_CONFIG_ERRORS_H_
#define CASEWATCH_TESTS_SUPPORT_CONFIG_ERRORS_H_

#include <filesystem>
#include <string>
#include <vector>

#include "config/config.h"

namespace test_support {

// Every message of the ConfigError that parsing `text` (as if read from `file`) throws; empty
// when it parses.
inline std::vector<std::string> config_errors(const std::string& text,
                                              const std::filesystem::path& file) {
  try {
    config::parse_config(text, file);
  } catch (const config::ConfigError& e) {
    return e.messages();
  }
  return {};
}

}  // namespace test_support

#endif  // CASEWATCH_TESTS_SUPPORT_CONFIG_ERRORS_H_
