// Rule definitions: what config builds and evaluate() applies. Validated at config load, so that
// evaluation can never fail because of configuration.
#ifndef CASEWATCH_RULES_RULE_H_
#define CASEWATCH_RULES_RULE_H_

#include <optional>
#include <string>
#include <vector>

#include "rules/calendar.h"
#include "rules/source.h"

namespace rules {

enum class RuleKind { kUnallocated, kTimescale, kRecurring, kCaseload };
std::string_view to_string(RuleKind kind);

// One band: records younger than `bound` (as-of < since + bound) fall in it. The last band of a
// rule has no bound (open-ended).
struct Band {
  std::string label;
  std::optional<Duration> bound;
  bool operator==(const Band&) const = default;
};

// The label of the band for unallocated records whose dates cannot be trusted.
inline constexpr std::string_view kInaccuraciesBand = "Inaccuracies due to involvement end dates";

// Default unallocated bands, as in the committee tables (DESIGN.md, "Bands").
std::vector<Band> default_unallocated_bands();

// `where = { type = ["Single", "C&F"] }`: the field's value must equal one of `values`
// (case-insensitive, surrounding spaces ignored). In `unless` the same test drops the record.
struct Filter {
  std::string field;
  std::vector<std::string> values;
  bool operator==(const Filter&) const = default;
};

// A limit that applies to records starting before `before` (e.g. initial assessments: 7wd for
// starts before 2010-04-01, 10wd after).
struct EarlierLimit {
  Date before;
  Duration limit;
  bool operator==(const EarlierLimit&) const = default;
};

inline const std::vector<std::string> kDefaultNotAWorker = {"Unallocated", "Duty", "Duty Worker",
                                                            "#N/A", "N/A"};

// A rule, as configured by a [[rule]] table. Fields a kind does not use keep their defaults.
struct Rule {
  std::string id;
  RuleKind kind = RuleKind::kUnallocated;
  std::string source;
  std::string title;           // shown in review lists; defaults to id
  bool review = true;          // appears in the weekly review list
  std::vector<Filter> where;   // keep records matching every filter
  std::vector<Filter> unless;  // then drop records matching any filter
  std::vector<Band> bands;     // empty = the kind's defaults
  // A canonical text of every setting above and below, made by config; a change of definition
  // (a different fingerprint) starts a new baseline in the findings history.
  std::string fingerprint;

  // unallocated and caseload: which records are open.
  std::vector<std::string> open_values;  // status values meaning open; empty = any status
  std::vector<std::string> not_a_worker = kDefaultNotAWorker;
  int over_days = 28;  // unallocated: breach when days > over_days
  // unallocated: a source of allocation rows (person, worker, allocation_start, allocation_end),
  // joined to the population on "person", as SSDA903's social worker episodes (docs/design.md
  // "Unallocated from an allocations source"). With it the population's records are open from
  // `start` to `end` (and may be joined with join_contiguous), and "unallocated since" is exact.
  std::string allocations_source;

  // timescale (start/end), recurring and unallocated with allocations_source (start/end of the
  // population record).
  std::string start;  // field name of the clock-start date
  std::string end;    // field name of the completion date
  Duration limit{45, Unit::kWorkingDays};
  std::vector<EarlierLimit> earlier_limits;  // sorted by `before`
  std::optional<Duration> warn;              // due soon when as-of >= due - warn
  double target_percent = 0;                 // KPI target (recurring: held on time); 0 = none
  double tolerance = 5;                      // percentage points below target still Amber
  // The DfE validators' reading of working days (DESIGN.md "Working days") for this rule;
  // nullopt = the [calendar] setting (RuleSet::count_start_day).
  std::optional<bool> count_start_day;

  // recurring: the k-th event is due schedule[min(k, n-1)] after the previous (or the start).
  std::vector<Duration> schedule;
  std::string events_source;  // a source holding one row per event, joined on "person"
  std::string event;          // date field of the event (in events_source, or the
                              // latest-event field of `source` when events_source empty)
  // Recurring, and unallocated with allocations_source: records of one person that follow on (a
  // start equal to the previous record's end) are one period: SSDA903 episodes joined into
  // periods of care (DESIGN.md "Recurring"; docs/design.md).
  bool join_contiguous = false;

  // caseload
  int max_cases = 0;
};

// The names of the sources `rule` reads: its source, then its events or allocations source (when
// named and another source).
std::vector<std::string> sources_of(const Rule& rule);

// Calendar settings and the rules, as one immutable value.
struct RuleSet {
  std::vector<Source> sources;
  std::vector<Rule> rules;
  bool count_start_day = false;

  const Source* find_source(std::string_view name) const;
  const Rule* find_rule(std::string_view id) const;
  // The rule's own count_start_day, else the calendar's.
  bool counts_start_day(const Rule& rule) const {
    return rule.count_start_day.value_or(count_start_day);
  }
};

}  // namespace rules

#endif  // CASEWATCH_RULES_RULE_H_
