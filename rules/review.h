// The weekly review as a management record: an item's status is relative to the previous
// published review (the latest recorded review of an earlier ISO week), not to the previous
// extract. Pure values and decisions; storage keeps the reviews, the daemon builds them.
#ifndef CASEWATCH_RULES_REVIEW_H_
#define CASEWATCH_RULES_REVIEW_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rules/date.h"
#include "rules/history.h"

namespace rules {

// One item a review carried.
struct ReviewItem {
  std::string rule;
  std::string key;
  std::string band;
  State state = State::kBreach;
  int weeks = 0;  // weeks_on_review it was shown with (0 when NEW on that review)
  bool operator==(const ReviewItem&) const = default;
};

// A review run as recorded: its ISO week, as-of date and the exact list it carried.
struct PublishedReview {
  IsoWeek week;
  Date as_of;
  std::vector<ReviewItem> items;
};

// Sets review_status and weeks_on_review of `open` (one rule's list now) against `previous`
// (nullptr: this is the first review): NEW when (rule, key) is not on it; CARRIED when it is,
// with weeks_on_review = the weeks it was shown with there + 1 (the consecutive earlier weekly
// reviews that listed it, so at least 1).
void mark_against(std::vector<TrackedFinding>& open, const PublishedReview* previous);

// The items of `previous` for `rule` that are not in `open`: the ones to show as RESOLVED.
std::vector<ReviewItem> left_since(const PublishedReview& previous, std::string_view rule,
                                   const std::vector<TrackedFinding>& open);

// The items a review carries for one rule's list (after mark_against).
std::vector<ReviewItem> review_items(const std::vector<TrackedFinding>& open);

// What changed between two rule fingerprints (config's canonical "name=value;..." text), one
// line per setting: "not_a_worker: [Unallocated,Duty] -> [Unallocated,Duty,MASH]", or
// "added band=..."/"removed band=..." for settings that repeat or appear on one side only.
std::vector<std::string> definition_diff(std::string_view before, std::string_view after);

}  // namespace rules

#endif  // CASEWATCH_RULES_REVIEW_H_
