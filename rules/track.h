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

// The finding as an evaluation `days` later would list it if nothing about its case changed:
// the days of a breach, overdue or due-soon finding count from a fixed date (unallocated since,
// a due date) and move with the as-of; a caseload's cases and the 0 days of an untrusted or
// data-problem finding do not. Working days are left as they are (counting them needs the
// calendar). Storage leaves a carried finding unwritten while aged() of it is exactly what the
// evaluation lists, so that the history is written in proportion to change (issue 16).
Finding aged(Finding finding, int days);

// Where each finding goes in its rule's list, in the order evaluate() lists them (listed
// before untrusted and data problems, most days or cases first, then by key): findings[i] goes
// to places[i]. For findings read back from storage, whose stored places may be from different
// evaluations.
std::vector<std::size_t> listing_places(std::span<const Finding* const> findings);

}  // namespace rules

#endif  // CASEWATCH_RULES_TRACK_H_
