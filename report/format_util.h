// Internal to report/ (not part of its public API): text measuring, wrapping and escaping shared
// by the three renderings, and the wording shared by text and HTML.
#ifndef CASEWATCH_REPORT_FORMAT_UTIL_H_
#define CASEWATCH_REPORT_FORMAT_UTIL_H_

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "report/report.h"

namespace report::detail {

// The display width of UTF-8 text, counted in code points.
std::size_t width(std::string_view text);

// Control characters (newlines, tabs, escapes) become spaces; the rest is unchanged.
std::string clean(std::string_view text);

// Cuts `text` to at most `max` code points, ending with "..." when it was cut.
std::string truncate(std::string_view text, std::size_t max);

// Word-wraps cleaned `text` into lines of at most `max` code points; a word longer than `max` is
// split. Never returns an empty vector (an empty text gives one empty line).
std::vector<std::string> wrap(std::string_view text, std::size_t max);

// Pads with spaces to `w` code points, on the right (left-aligned) or on the left.
std::string pad(std::string_view text, std::size_t w, bool right_align = false);

// & < > " ' as HTML entities.
std::string html_escape(std::string_view text);

// One RFC 4180 field: quoted when it holds , " CR or LF (quotes doubled).
std::string csv_field(std::string_view text);

// "NEW" or "CARRIED (3 weeks)".
std::string status_text(const rules::TrackedFinding& item);

// Why a finding left its list, in plain words; a vanished record is plainly not "fixed". Dates
// as long_date ("5 Mar 2026"), or ISO when `iso` (the CSV). Without `worker`, names of workers
// in the reason are left out ("allocated (seen ...)").
std::string resolution_text(const rules::ResolvedFinding& item, const rules::Rule& rule,
                            bool iso = false, bool worker = true);

// ISO dates (YYYY-MM-DD) inside `text` rewritten as long_date, so that an output has one style.
std::string long_dates(std::string_view text);

// The worker as a reader should take it: "A Patel", "A Patel (ended 5 Mar 2026)" when the
// allocation has ended, "no worker (DUTY)" for a pseudo-worker or the team's own name, "no
// worker" when empty. `iso` gives the CSV's date style.
std::string worker_text(const rules::Finding& finding, const rules::Rule& rule, bool iso = false);

// A band label abbreviated for a narrow column, the same way everywhere: "Under 1 week" -> "<1w",
// "1 to 2 months" -> "1-2m", "3 months or more" -> "3m+", the inaccuracies band -> "Untrusted".
std::string short_band(std::string_view label);

// The items of one team's list that a bounded body shows (`limit` 0 = all): NEW items and items
// with a note due come first, then the other CARRIED ones, each most overdue first; the kept
// ones are returned in the group's order. `cut` is how many were left out.
struct Kept {
  std::vector<const rules::TrackedFinding*> items;
  std::size_t cut = 0;
};
Kept keep_items(const std::vector<const rules::TrackedFinding*>& items, std::size_t limit,
                std::optional<rules::Date> previous_review);

// At most `limit` items per team (0 = all), in their order; `cut` counts those left out.
template <class Item, class TeamOf>
std::vector<Item> cap_per_team(const std::vector<Item>& items, std::size_t limit, TeamOf team_of,
                               std::size_t& cut) {
  std::vector<Item> kept;
  std::map<std::string, std::size_t> seen;
  for (const auto& item : items) {
    if (limit > 0 && seen[team_of(item)]++ >= limit) {
      ++cut;
      continue;
    }
    kept.push_back(item);
  }
  return kept;
}

// "and 12 more in the attached CSV".
std::string more_text(std::size_t cut, std::string_view where);

// The resolved findings ordered by team (by name, "" last), then key.
std::vector<const rules::ResolvedFinding*> resolved_in_order(
    const std::vector<rules::ResolvedFinding>& resolved);

// The problem of a data-cleansing item, in plain words (dates as long_date).
std::string problem_text(const rules::Finding& finding);

// True for findings that go on the data-cleansing list rather than the review list.
bool is_data_problem(const rules::Finding& finding);

// The items of the review list (not data problems) grouped by team (teams by name, an empty
// team last), most overdue first within a team.
struct TeamGroup {
  std::string team;  // "" = no team recorded
  std::vector<const rules::TrackedFinding*> items;
};
std::vector<TeamGroup> group_by_team(const std::vector<rules::TrackedFinding>& open);

// How many items the groups list, how many are NEW and how many silenced.
struct ListCounts {
  std::size_t listed = 0;
  std::size_t fresh = 0;
  std::size_t silenced = 0;
};
ListCounts count_list(const std::vector<TeamGroup>& groups);

// The data-cleansing items, in key order.
std::vector<const rules::TrackedFinding*> data_problems(
    const std::vector<rules::TrackedFinding>& open);

// "Team North" or "(no team recorded)".
std::string team_label(const std::string& team);

// The plain statement for a rule with nothing on its list this week.
std::string nothing_this_week(const rules::Rule& rule);

// The comparison line of a list: "Compared with the review of 2026-W47 (as of 16 Nov 2026)." or,
// with no earlier review, "First review: there is no earlier review to compare with; every item is
// NEW."
std::string comparison_text(const RuleSection& section);
// "Rule changed on 30 Nov 2026: not_a_worker: [Unallocated,Duty] -> [Unallocated,Duty,MASH].
// Cases listed under both definitions keep their weeks and notes." or "" when it did not change.
std::string rule_change_text(const RuleSection& section);
// The data-quality section's heading and its explanation (keys that now belong to a different
// person); the explanation says where the keys are when the output may not show them.
std::string person_changes_heading(const Review& review);
std::string person_changes_text(const Review& review, const Output& output);

// Whether a resolved item left without anything being fixed: its clock restarted while still
// unallocated, or the rule's definition changed. Listed apart from the fixes.
bool left_without_fix(const rules::ResolvedFinding& item);

// "Red", "Amber", "Green" or "-".
std::string rag_text(rules::Rag rag);

// What a recurring rule's scorecard says when its events come from a latest-event column.
inline constexpr const char* kLatestOnlyNote =
    "Counts the latest event of each record held in the period (the extract holds only the\n"
    "latest): whether it was on time is not known without an events source.";

// "85.0%" or "-" when nothing completed (or none whose timeliness is known).
std::string percent_text(const rules::Kpi& kpi);

// A note's date ("22 Nov 2026") from its UTC time, or the raw text when it is not ISO.
std::string note_date(const rules::Note& note);

// True for timescale and recurring rules (items have start and due dates).
bool has_due_dates(const rules::Rule& rule);

// The value of the review field `field` (as in known_fields()) for an open item of `rule`, as
// the CSV gives it; empty for an unknown name or where the field does not apply.
std::string field_value(const rules::Rule& rule, const rules::TrackedFinding& item,
                        std::string_view field);

}  // namespace report::detail

#endif  // CASEWATCH_REPORT_FORMAT_UTIL_H_
