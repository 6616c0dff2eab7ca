// Findings over time: what storage keeps and report renders (NEW / CARRIED / RESOLVED, notes,
// trend). rules::track (rules/track.h) decides them from successive evaluations and storage keeps
// them; these are the plain values.
#ifndef CASEWATCH_RULES_HISTORY_H_
#define CASEWATCH_RULES_HISTORY_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rules/evaluate.h"
#include "rules/result.h"

namespace rules {

enum class FindingStatus { kNew, kCarried };
std::string_view to_string(FindingStatus status);  // "new", "carried"

// Why a finding left its rule's list.
enum class Resolution {
  kConditionStopped,  // e.g. allocated, completed, review held
  kClosed,            // the case closed
  kVanished,          // the record is no longer in the extract: not reported as fixed
  kRuleChanged,       // the rule's definition changed and the record is not on the new list
  kClockRestarted,    // still open and unallocated, but its since-date moved later
};
// "condition_stopped", "closed", "vanished", "rule_changed", "clock_restarted"
std::string_view to_string(Resolution resolution);

// The fields of a review item, as named in `[review] fields` and the CSV header, in their
// documented order; and the default allow-list of those that may leave the building: no person
// identifier and no free text (notes) that may name a child.
// One line per group of fields reads better than a column per name.
// clang-format off
inline const std::vector<std::string> kReviewFields = {
    "rule",         "title",       "key",           "person",     "team",
    "worker",       "band",        "status",        "since",      "days_unallocated",
    "start",        "due",         "due_inferred",  "end",        "working_days_elapsed",
    "days_overdue", "due_in_days", "weeks_on_list", "note",       "note_author",
    "note_at",      "resolved_on", "reason"};
// due_inferred is in the defaults because due is: a due date read from a latest-event column
// may be wrong by months, and the text and HTML bodies mark it whatever the fields.
inline const std::vector<std::string> kDefaultReviewFields = {
    "rule",  "title", "key", "team",         "worker",       "band",        "status",
    "since", "days_unallocated", "start", "due", "due_inferred", "end", "working_days_elapsed",
    "days_overdue", "due_in_days", "weeks_on_list", "resolved_on", "reason"};
// clang-format on

// A manager's review note on an open finding.
struct Note {
  std::string text;
  std::string author;  // user name, or "uid 1001" when unknown
  std::string at;      // UTC time, "2026-11-22T09:30:00Z"
  bool operator==(const Note&) const = default;
};

// A finding as the review list shows it.
struct TrackedFinding {
  Finding finding;
  FindingStatus status = FindingStatus::kNew;
  Date first_seen;        // as-of date of the evaluation that opened it
  int weeks_on_list = 0;  // whole weeks from first_seen to the evaluation's as-of
  std::optional<Note> latest_note;
  bool silenced = false;  // an alert silence covers it (still listed, marked)
  int earlier_notes = 0;  // notes on (rule, key) before latest_note
  // Relative to the previous published review (rules::mark_against; set when a review is
  // built): NEW when not on it, CARRIED when on it, with the consecutive earlier weekly reviews
  // that listed it. Outside a review they follow status and weeks_on_list.
  FindingStatus review_status = FindingStatus::kNew;
  int weeks_on_review = 0;
};

// A finding that left its list.
struct ResolvedFinding {
  Finding last;  // as it was last seen on the list
  Date first_seen;
  Date resolved_on;  // as-of date of the evaluation that resolved it
  Resolution reason = Resolution::kConditionStopped;
  std::string detail;             // plain words: "allocated to J Smith (seen 2026-11-20)"
  std::optional<Note> last_note;  // the latest note on (rule, key), when a review shows it
};

// Why a finding of `rule` left its list, given its record now (nullptr when the record is no
// longer in the extract). Pure.
ResolvedFinding resolve(const Finding& last, Date first_seen, const Rule& rule,
                        const Source& source, const Record* now, Date as_of);

// A data-quality item: `key` of `source`, in extract `file` (as of `as_of`, on `line`), now
// belongs to a different person than in the source's previous extract. Names no person.
struct PersonChange {
  std::string source;
  std::string file;
  Date as_of;
  std::string key;
  std::size_t line = 0;
  bool operator==(const PersonChange&) const = default;
};

// Whether a record's person identifier changed between two extracts of its source: both are
// non-empty and differ, ignoring surrounding spaces and ASCII case. One filled in where it was
// empty, or emptied, is not a different person. Pure.
bool different_person(std::string_view before, std::string_view after);
// The row problem that says so: "key EP-1 now belongs to a different person than in the
// previous extract", at `line`, in the person column. Never names either person.
Problem person_changed(const Source& source, std::string_view key, std::size_t line);

// One point of the trend: how many records of `rule` were in `band` at an evaluation.
struct TrendPoint {
  std::string rule;
  std::string band;
  Date as_of;
  int count = 0;
  bool operator==(const TrendPoint&) const = default;
};

}  // namespace rules

#endif  // CASEWATCH_RULES_HISTORY_H_
