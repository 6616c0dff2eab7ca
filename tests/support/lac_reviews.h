// The looked-after reviews rule the recurring tests share (Care Planning, Placement and Case
// Review (England) Regulations 2010, reg. 33: the first review within 20 working days, the
// second within 3 months, then every 6 months) over a "periods" source of periods of care and
// a "reviews" events source, both keyed on the child.
#ifndef CASEWATCH_TESTS_SUPPORT_LAC_REVIEWS_H_
#define CASEWATCH_TESTS_SUPPORT_LAC_REVIEWS_H_

#include <vector>

#include "rules/rules.h"

namespace test_support {

// "periods" (person, started, ceased, then latest_review when `latest_review`) and "reviews"
// (person, review). Record values follow the fields' order.
inline std::vector<rules::Source> lac_sources(bool latest_review) {
  rules::Source periods;
  periods.name = "periods";
  periods.fields = {{"person", {"CHILD"}}, {"started", {"DECOM"}, true}, {"ceased", {"DEC"}, true}};
  if (latest_review) periods.fields.push_back({"latest_review", {"LATEST"}, true});
  rules::Source reviews;
  reviews.name = "reviews";
  reviews.fields = {{"person", {"CHILD"}}, {"review", {"REVIEW"}, true}};
  return {periods, reviews};
}

// The rule over lac_sources(): events from "reviews" when `events_source`, else from the
// periods' own latest_review field.
inline rules::Rule lac_reviews_rule(bool events_source) {
  rules::Rule rule;
  rule.id = "lac-reviews";
  rule.kind = rules::RuleKind::kRecurring;
  rule.source = "periods";
  rule.start = "started";
  rule.end = "ceased";
  if (events_source) {
    rule.events_source = "reviews";
    rule.event = "review";
  } else {
    rule.event = "latest_review";
  }
  rule.schedule = {rules::Duration{20, rules::Unit::kWorkingDays},
                   rules::Duration{3, rules::Unit::kMonths},
                   rules::Duration{6, rules::Unit::kMonths}};
  return rule;
}

}  // namespace test_support

#endif  // CASEWATCH_TESTS_SUPPORT_LAC_REVIEWS_H_
