// libFuzzer harness: config::parse_config on arbitrary text, as `casewatchd --check` reads a
// casewatch.toml. The contract (config.h): a valid Config, or one ConfigError whose every
// message is "file:line: message" (or names the file). Any other exception, a crash, a hang or
// an empty message is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::string file = "/nonexistent/casewatch-fuzz/casewatch.toml";
  try {
    const config::Config config = config::parse_config(text, file);
    (void)config;
  } catch (const config::ConfigError& e) {
    if (e.messages().empty()) std::abort();
    for (const auto& message : e.messages()) {
      if (message.rfind(file, 0) != 0) std::abort();  // every message names the file
    }
  }
  return 0;
}
