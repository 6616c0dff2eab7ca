// Public fake extracts from the field's own open projects live in ../shared/peer-data beside
// the repository. They are never copied into it: tests that need them find them here and skip,
// saying why, when they are absent.
#ifndef CASEWATCH_TESTS_SUPPORT_PEER_DATA_H_
#define CASEWATCH_TESTS_SUPPORT_PEER_DATA_H_

#include <filesystem>
#include <optional>
#include <string_view>

namespace test_support {

// The path of `relative` under ../shared/peer-data (from the repository root), or nullopt.
inline std::optional<std::filesystem::path> peer_data(std::string_view relative) {
  const auto file =
      std::filesystem::path(CASEWATCH_SOURCE_DIR) / ".." / "shared" / "peer-data" / relative;
  if (!std::filesystem::exists(file)) return std::nullopt;
  return file;
}

}  // namespace test_support

// Skips the current Catch2 test case (as a warning) when peer data is missing.
#define CASEWATCH_REQUIRE_PEER_DATA(var, relative)                                             \
  const auto var##_found = ::test_support::peer_data(relative);                                \
  if (!var##_found) {                                                                          \
    WARN("skipped: ../shared/peer-data/" << relative                                           \
                                         << " is absent (public fake data, not in the repo)"); \
    return;                                                                                    \
  }                                                                                            \
  const std::filesystem::path& var = *var##_found

#endif  // CASEWATCH_TESTS_SUPPORT_PEER_DATA_H_
