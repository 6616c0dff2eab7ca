// Review-relative status and the settings diff of a changed rule.
#include <catch2/catch.hpp>

#include "rules/rules.h"
#include "tests/rules/rules_test_util.h"

using rules_test::d;

namespace {

rules::TrackedFinding listed(std::string key) {
  rules::TrackedFinding tracked;
  tracked.finding.rule = "unallocated";
  tracked.finding.key = std::move(key);
  tracked.finding.band = "1-2 months";
  return tracked;
}

}  // namespace

TEST_CASE("review: with no previous review everything is NEW") {
  std::vector<rules::TrackedFinding> open = {listed("C1")};
  open[0].review_status = rules::FindingStatus::kCarried;  // overwritten
  rules::mark_against(open, nullptr);
  CHECK(open[0].review_status == rules::FindingStatus::kNew);
  CHECK(open[0].weeks_on_review == 0);
}

TEST_CASE("review: NEW, CARRIED (n weeks) and left, relative to the previous review") {
  // W47 listed C1 (NEW there) and C2 (CARRIED 1 week there) and C3; W48 lists C1, C2, C4.
  const rules::PublishedReview w47{*rules::parse_iso_week("2026-W47"),
                                   d(2026, 11, 16),
                                   {{"unallocated", "C1", "1-2 months", rules::State::kBreach, 0},
                                    {"unallocated", "C2", "2-3 months", rules::State::kBreach, 1},
                                    {"unallocated", "C3", "1-2 months", rules::State::kBreach, 0},
                                    {"caseload", "C4", "Over 20 cases", rules::State::kBreach, 3}}};
  std::vector<rules::TrackedFinding> open = {listed("C1"), listed("C2"), listed("C4")};
  rules::mark_against(open, &w47);
  CHECK(open[0].review_status == rules::FindingStatus::kCarried);
  CHECK(open[0].weeks_on_review == 1);
  CHECK(open[1].review_status == rules::FindingStatus::kCarried);
  CHECK(open[1].weeks_on_review == 2);
  // C4 was on W47 for another rule: NEW for this one.
  CHECK(open[2].review_status == rules::FindingStatus::kNew);
  CHECK(open[2].weeks_on_review == 0);

  const auto left = rules::left_since(w47, "unallocated", open);
  REQUIRE(left.size() == 1);
  CHECK(left[0].key == "C3");

  const auto items = rules::review_items(open);
  REQUIRE(items.size() == 3);
  CHECK(items[1] == rules::ReviewItem{"unallocated", "C2", "1-2 months", rules::State::kBreach, 2});
}

TEST_CASE("review: the settings diff of a changed rule names each setting once") {
  CHECK(rules::definition_diff(
            "kind=unallocated;not_a_worker=[Unallocated,Duty];over_days=28",
            "kind=unallocated;not_a_worker=[Unallocated,Duty,MASH];over_days=28") ==
        std::vector<std::string>{"not_a_worker: [Unallocated,Duty] -> [Unallocated,Duty,MASH]"});
  CHECK(rules::definition_diff("kind=timescale;band=A<7d;band=B<14d;limit=45wd",
                               "kind=timescale;band=A<7d;band=B<21d;limit=45wd;warn=5wd") ==
        std::vector<std::string>{"removed band=B<14d", "added band=B<21d", "added warn=5wd"});
  CHECK(rules::definition_diff("a=1", "a=1").empty());
}
