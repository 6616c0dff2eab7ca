// Helpers for the rules tests: readable dates in Catch2 messages and a short date constructor.
#ifndef CASEWATCH_TESTS_RULES_RULES_TEST_UTIL_H_
#define CASEWATCH_TESTS_RULES_RULES_TEST_UTIL_H_

#include <catch2/catch.hpp>
#include <string_view>

#include "rules/rules.h"
#include "tests/support/temp_dir.h"

namespace Catch {
template <>
struct StringMaker<rules::Date> {
  static std::string convert(const rules::Date& date) { return date.iso(); }
};
}  // namespace Catch

namespace rules_test {

inline rules::Date d(int y, int m, int day) { return *rules::Date::from_ymd(y, m, day); }

// A case source whose records hold: person, team, worker, closed, status.
inline rules::Source cases_source() {
  rules::Source source;
  source.name = "cases";
  source.key = {"Case ID"};
  source.fields = {{"person", {"Child ID"}, false},
                   {"team", {"Team"}, false},
                   {"worker", {"Worker"}, false},
                   {"closed", {"Closure Date"}, true},
                   {"status", {"Case Status"}, false}};
  return source;
}

// The England and Wales bank holidays shipped in data/.
inline std::vector<rules::Holiday> shipped_holidays() {
  const auto text =
      test_support::read_file(CASEWATCH_SOURCE_DIR "/data/bank-holidays-england-and-wales.csv");
  auto holidays = rules::parse_holidays(text);
  REQUIRE(holidays.has_value());
  return *holidays;
}

// Working days by the shipped holidays (built once).
inline const rules::Calendar& england() {
  static const rules::Calendar kCalendar(shipped_holidays());
  return kCalendar;
}

// The finding of `key`, or nullptr.
inline const rules::Finding* finding_for(const rules::Evaluation& evaluation,
                                         std::string_view key) {
  for (const auto& finding : evaluation.findings) {
    if (finding.key == key) {
      return &finding;
    }
  }
  return nullptr;
}

}  // namespace rules_test

#endif  // CASEWATCH_TESTS_RULES_RULES_TEST_UTIL_H_
