// Helpers for the rules tests: readable dates in Catch2 messages and a short date constructor.
#ifndef CASEWATCH_TESTS_RULES_RULES_TEST_UTIL_H_
#define CASEWATCH_TESTS_RULES_RULES_TEST_UTIL_H_

#include <catch2/catch.hpp>

#include "rules/rules.h"

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

}  // namespace rules_test

#endif  // CASEWATCH_TESTS_RULES_RULES_TEST_UTIL_H_
