// Coded values as the Annex A template writes them ("a) Yes", "c) Child in need plan") match
// their bare values wherever rules compare values.
#include <catch2/catch.hpp>

#include "rules/evaluate_internal.h"

TEST_CASE("a letter code before a value is ignored when values are compared", "[rules][codes]") {
  using rules::internal::iequals_trimmed;
  using rules::internal::Matcher;
  using rules::internal::without_code;
  CHECK(without_code("c) Child in need plan") == "Child in need plan");
  CHECK(without_code("ab) Other") == "Other");
  CHECK(without_code("Yes") == "Yes");
  CHECK(without_code("abc) x") == "abc) x");  // three letters is not a code
  CHECK(without_code("a)x") == "a)x");
  CHECK(without_code("#N/A") == "#N/A");
  CHECK(iequals_trimmed("a) Yes", "yes"));
  CHECK(iequals_trimmed("Yes", " b) YES "));
  CHECK_FALSE(iequals_trimmed("b) No", "Yes"));
  const Matcher open({"Looked after child", "Child Protection plan", "c) Child in need plan"});
  CHECK(open.matches("a) Looked after child"));
  CHECK(open.matches("Child in need plan"));
  CHECK(open.matches(" c) child in need plan"));
  CHECK_FALSE(open.matches("e) Closed episode"));
}
