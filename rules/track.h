// The findings lifecycle as a pure diff: given the findings of a rule that were open before an
// evaluation and the evaluation itself, which open, which carry on and which resolve (and why).
// Storage reads the open findings, calls track() and writes what it returns; the decisions are
// here, tested without a database.
#ifndef CASEWATCH_RULES_TRACK_H_
#define CASEWATCH_RULES_TRACK_H_

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rules/evaluate.h"
#include "rules/history.h"

namespace rules {

// A finding of the rule that was open before the evaluation, as last seen on the list.
struct OpenFinding {
  Finding last;
  Date first_seen;
};

// The record `key` of the rule's source as it is now, or nullopt when it is no longer in the
// extract. Called only for findings that leave the list.
using RecordNow = std::function<std::optional<Record>(std::string_view key)>;

struct Track {
  // The rule's findings in the evaluation, in its order: NEW when opened now (first_seen =
  // as_of), else CARRIED with the first_seen of the finding it continues.
  std::vector<TrackedFinding> listed;
  // Open before and not listed now, with why they left.
  std::vector<ResolvedFinding> resolved;
  // True when this evaluation starts a new baseline: the rule's definition changed (or it is
  // the rule's first evaluation).
  bool baseline = false;
};

// One rule's evaluation at `as_of` against the findings open before it. A listed key that was
// open carries on (its first_seen, weeks and notes), whatever the definition. `same_definition`
// is false when the rule's fingerprint differs from the one last evaluated (or the rule was never
// evaluated): the result is then a baseline, and the open findings no longer listed whose case is
// still in the extract and open resolve as kRuleChanged ("rule definition changed": they left
// because of the change, not because anything was fixed); closed and vanished ones say so.
Track track(std::span<const OpenFinding> open_before, const Evaluation& evaluation,
            const Rule& rule, const Source& source, Date as_of, bool same_definition,
            const RecordNow& record_now);

// Whole weeks from `from` to `to` (0 when `to` is not later).
int whole_weeks(Date from, Date to);

}  // namespace rules

#endif  // CASEWATCH_RULES_TRACK_H_
