// rules::different_person and rules::person_changed: a key whose person identifier changed
// between two extracts of its source is a data-quality item, worded without either identifier.
#include <catch2/catch.hpp>
#include <string>

#include "rules/rules.h"
#include "tests/rules/rules_test_util.h"

TEST_CASE("different_person: two non-empty identifiers that differ, case and spaces aside") {
  struct Row {
    const char* before;
    const char* after;
    bool different;
  };
  const Row table[] = {
      {"384923", "384923", false},  // the same child
      {"384923", "384924", true},   // another child
      {"ab12", " AB12\t", false},   // written differently: the same child
      {"AB12", "AB123", true},      // a longer identifier is another child
      {"", "384923", false},        // filled in where it was empty
      {"384923", "", false},        // emptied: no identifier to compare
      {"  ", "384923", false},      // spaces only count as empty
      {"", "", false},
  };
  for (const auto& row : table) {
    INFO(row.before << " -> " << row.after);
    CHECK(rules::different_person(row.before, row.after) == row.different);
  }
}

TEST_CASE("person_changed: names the key, the line and the person column, never the people") {
  const auto problem = rules::person_changed(rules_test::cases_source(), "EP-1042", 17);
  CHECK(problem == rules::Problem{17, "Child ID",
                                  "key EP-1042 now belongs to a different person than in the "
                                  "previous extract"});
  rules::Source without_person = rules_test::cases_source();
  without_person.fields.erase(without_person.fields.begin());
  CHECK(rules::person_changed(without_person, "EP-1042", 3).column.empty());
}
