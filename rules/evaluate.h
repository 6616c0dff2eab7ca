// Evaluation: records + rules + calendar + as-of date -> findings, band counts and KPI inputs.
#ifndef CASEWATCH_RULES_EVALUATE_H_
#define CASEWATCH_RULES_EVALUATE_H_

#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "rules/calendar.h"
#include "rules/rule.h"
#include "rules/view.h"

namespace rules {

// The latest extract of one source, as evaluation sees it: its records as a RecordView (`view`),
// or as records in memory (`records`, read through a view evaluate() builds).
struct SourceData {
  const Source* source = nullptr;                // REQUIRES: not null
  Date as_of;                                    // the extract's as-of date
  const std::vector<Record>* records = nullptr;  // REQUIRES: not null when view is null
  // Unallocated rules whose source maps neither `opened` nor `allocation_end`: for each record
  // key already unallocated at an earlier extract without a break, the as-of date of the first
  // such extract (kept by storage). Keyed by rule id, then record key.
  std::map<std::string, std::unordered_map<std::string, Date>, std::less<>> first_seen_unallocated;
  // When not null, the records are read from here (holding at least the fields_read() of the
  // rules evaluated) and `records` is not used.
  const RecordView* view = nullptr;
};

// The band of timescale and recurring records whose dates are unusable (end before start, no
// start, start after the as-of date on an open record).
inline constexpr std::string_view kDataProblemsBand = "Data problems";

// The default bands of timescale and recurring rules, by how far past the due date a record is.
inline constexpr std::string_view kDueSoonBand = "Due soon";
inline constexpr std::string_view kOverdueUnderOneWeekBand = "Overdue under 1 week";    // < 7 days
inline constexpr std::string_view kOverdueOneToFourWeeksBand = "Overdue 1 to 4 weeks";  // < 29
inline constexpr std::string_view kOverdueFourWeeksOrMoreBand = "Overdue 4 weeks or more";

// The prefix of Finding::detail for an unallocated case whose worker's allocation has ended.
inline constexpr std::string_view kAllocationEnded = "allocation ended ";

// What a finding says about its record.
enum class State {
  kBreach,       // unallocated over the threshold; caseload over max_cases
  kOverdue,      // timescale/recurring: open and as-of > due
  kDueSoon,      // timescale/recurring: open, not overdue, as-of >= due - warn
  kUntrusted,    // dates that cannot be trusted (the inaccuracies band / data-cleansing list)
  kDataProblem,  // timescale: end before start, unparseable start
};
std::string_view to_string(State state);  // "breach", "overdue", "due_soon", "untrusted", ...

// One record on a rule's list at one as-of date.
struct Finding {
  std::string rule;
  std::string key;
  std::string person;
  std::string team;
  std::string worker;
  std::string band;
  State state = State::kBreach;
  // unallocated
  std::optional<Date> since;
  bool since_at_least = false;  // since = first extract seen unallocated (no dates mapped)
  int days = 0;                 // as-of - since (unallocated); as-of - due (timescales)
  // timescale and recurring
  std::optional<Date> start;
  std::optional<Date> due;
  std::optional<Date> end;
  int working_days = 0;           // working days from start to as-of (or end)
  bool assumed_interval = false;  // recurring with a latest-event column only
  std::string detail;  // plain words for data problems, e.g. "end 2020-09-19 is before start";
                       // unallocated breaches whose named worker's allocation ended:
                       // kAllocationEnded + ISO date ("allocation ended 2026-03-05")
  int cases = 0;       // caseload: the worker's open cases
  bool operator==(const Finding&) const = default;
};

// Records counted per band, for the band table (every unallocated record, not only breaches).
struct BandCount {
  std::string rule;
  std::string band;
  int count = 0;
  std::string team;  // Evaluation::team_bands only: the records' team ("" = none recorded)
  bool operator==(const BandCount&) const = default;
};

// A completed timescale record, or an event of a recurring rule held (DESIGN.md "Recurring"),
// for KPIs. For an event, start is the previous event (or the record's start) and end the event.
struct Completion {
  std::string rule;
  std::string key;
  Date start;
  Date end;
  Date due;
  bool in_timescale = true;
  // false for the latest event of a recurring rule read from a latest-event column: it was held
  // on `end`, but with the earlier events unknown, whether it was on time is not known (due is
  // then `end` and in_timescale false).
  bool judged = true;
};

// A record's membership of the "currently unallocated" set, for SourceData::first_seen_unallocated.
struct UnallocatedSpell {
  std::string rule;
  std::string key;
  Date since;
  bool operator==(const UnallocatedSpell&) const = default;
};

// Caseload per worker, for the team caseload table.
struct Caseload {
  std::string rule;
  std::string team;
  std::string worker;
  int cases = 0;
  bool operator==(const Caseload&) const = default;
};

struct Evaluation {
  std::vector<Finding> findings;  // sorted by rule order, then most overdue first
  std::vector<BandCount> bands;   // every band of every rule, zeros included, in order
  // Unallocated rules: the same counts per team (only non-zero ones), for the team x band table.
  std::vector<BandCount> team_bands;
  std::vector<Completion> completions;   // timescale rules; events held (recurring rules)
  std::vector<UnallocatedSpell> spells;  // unallocated rules without dates: unallocated now
  std::vector<Caseload> caseloads;       // caseload rules
};

// Evaluates every rule whose source is present in `sources` (keyed by source name), each at its
// source's as-of date. Pure and deterministic; never fails for bad data (bad dates become
// kUntrusted / kDataProblem findings).
Evaluation evaluate(const RuleSet& rules, const Calendar& calendar,
                    const std::map<std::string, SourceData, std::less<>>& sources);

// The band label for a record aged from `since` at `as_of`.
std::string_view band_for(const std::vector<Band>& bands, Date since, Date as_of,
                          const Calendar& calendar);

// KPIs for one timescale or recurring rule over [from, to] (inclusive): completions (events
// held) whose end is in the period.
enum class Rag { kNone, kRed, kAmber, kGreen };
std::string_view to_string(Rag rag);
struct Kpi {
  int completed = 0;     // completed (recurring: events held)
  int judged = 0;        // of those, the ones whose timeliness is known (Completion::judged)
  int in_timescale = 0;  // of those, in timescale (recurring: held on time)
  double percent = 0;    // in_timescale / judged * 100; 0 when none judged
  Rag rag = Rag::kNone;  // kNone when none judged or no target
};
Kpi kpi(const std::vector<Completion>& completions, std::string_view rule, Date from, Date to,
        double target_percent, double tolerance);

}  // namespace rules

#endif  // CASEWATCH_RULES_EVALUATE_H_
