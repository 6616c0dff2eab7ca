// report: what the managers read. Turns one week's findings, band counts, trend, completions and
// caseloads (built by the daemon from rules and storage) into the weekly review as plain text
// (fits 100 columns), email-safe HTML (one self-contained document, inline CSS, no scripts, no
// external resources) and RFC 4180 CSV limited to an allow-list of columns.
//
// Pure: no I/O, no clock, no logging. Every function here is deterministic in its arguments.
// The tables (band table, trend, scorecards, caseloads) are also exposed as plain values so that
// the daemon can put them in JSON answers.
#ifndef CASEWATCH_REPORT_REPORT_H_
#define CASEWATCH_REPORT_REPORT_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "report/mime.h"
#include "rules/rules.h"

namespace report {

// One rule's part of the review.
struct RuleSection {
  const rules::Rule* rule = nullptr;           // REQUIRES: not null
  rules::Date as_of;                           // the as-of of the evaluation shown
  bool baseline = false;                       // first list of this rule (or of its new definition)
  std::optional<rules::Date> previous_review;  // as-of of the last review, if any
  std::vector<rules::TrackedFinding> open;     // on the list now
  std::vector<rules::ResolvedFinding> resolved;  // left since the last review
  std::vector<rules::BandCount> bands;           // this rule's band counts now
  std::vector<rules::TrendPoint> trend;          // this rule's history, oldest first
  std::vector<rules::Completion> completions;    // timescale rules (KPIs)
};

// The weekly review: everything the three renderings show.
struct Review {
  rules::IsoWeek week;
  rules::Date today;  // the date the review is produced for (as-of of the run)
  bool late = false;  // produced late (the service was down at the scheduled time)
  std::string title = "casewatch weekly review";
  // In rule order; rules with review = false still give band-table, scorecard and caseload rows
  // but no item list.
  std::vector<RuleSection> sections;
  std::vector<rules::Caseload> caseloads;
  // Non-empty: a team route's slice (shown in the heading). Set by for_teams(). The band table,
  // trend and scorecard are whole-service figures and are left out of a slice.
  std::string team_filter;
};

// The plain-text review: every line at most 100 columns (counted in UTF-8 code points).
// Control characters in data (e.g. newlines in a note) are shown as spaces.
std::string render_text(const Review& review);

// The HTML review: one self-contained UTF-8 document with inline styles only, tables, a viewport
// meta tag for phones, no scripts and no external resources. Every data value is escaped.
std::string render_html(const Review& review);

// The CSV review (RFC 4180: CRLF line ends, fields quoted when they hold , " CR or LF): a header
// row, then one row per open finding of each review rule and one per finding resolved since the
// last review (status "resolved"). `columns` is the allow-list, in output order; known names:
// rule, title, key, person, team, worker, band, status, since, days, working_days, start, due,
// end, weeks_on_list, note, note_author, note_at, resolved_reason. Unknown names are ignored.
// Dates are ISO. Text values starting with = + - @ are prefixed with ' so that spreadsheets do not
// run them as formulas.
std::string render_csv(const Review& review, const std::vector<std::string>& columns);

// The known CSV column names, in their documented order.
const std::vector<std::string>& known_csv_columns();

// A team's slice: only the findings (open and resolved) and caseloads whose team matches one of
// `team_globs` (`*` and `?` wildcards, case-insensitive; an empty team matches nothing). The
// whole-service tables (bands, trend, completions) are dropped, and team_filter names the globs.
Review for_teams(const Review& review, const std::vector<std::string>& team_globs);

// One line for a subject or a status answer, e.g. "66 cases unallocated over 4 weeks". Counts
// breaching and overdue findings of review rules; never names a child or a case.
std::string headline(const Review& review);

// ---- The tables, as values -------------------------------------------------------------------

// Rules sharing the same band labels, as one committee-style table: rows per rule, columns per
// band (in BandCount order, inaccuracies included), and a grand total.
struct BandTable {
  std::vector<std::string> bands;  // column labels
  struct Row {
    std::string rule;         // rule id
    std::string title;        // rule title
    std::vector<int> counts;  // one per band
    int total = 0;
  };
  std::vector<Row> rows;
  std::vector<int> band_totals;  // per band, over the rows
  int grand_total = 0;
};
// One table per run of consecutive sections with the same band labels; sections without band
// counts are skipped.
std::vector<BandTable> band_tables(const Review& review);

// Counts per ISO week for the `weeks` weeks ending with review.week, per rule and band. When a
// week holds several evaluations of a rule, the latest one counts; a week with none is empty.
struct TrendTable {
  std::vector<rules::IsoWeek> weeks;  // oldest first
  struct Row {
    std::string rule;                        // rule id
    std::string title;                       // rule title
    std::string band;                        // empty for the rule's total row
    std::vector<std::optional<int>> counts;  // one per week
  };
  std::vector<Row> rows;  // per rule: the total row, then one row per band
};
inline constexpr int kTrendWeeks = 12;
TrendTable trend_table(const Review& review, int weeks = kTrendWeeks);

// The KPI scorecard of one timescale rule.
struct Scorecard {
  std::string rule;           // rule id
  std::string title;          // rule title
  double target_percent = 0;  // 0 = no target
  double tolerance = 0;
  struct Period {
    std::string label;  // "Week 2026-W47", "November 2026", "Year to date (from 1 Apr 2026)"
    rules::Date from;
    rules::Date to;  // inclusive
    rules::Kpi kpi;
  };
  std::vector<Period> periods;  // week of today, calendar month of today, financial year to date
  int overdue_in_progress = 0;  // open findings out of timescale now (the backlog)
};
std::vector<Scorecard> scorecards(const Review& review);

// Caseloads per team of one caseload rule.
struct TeamCaseload {
  std::string rule;   // rule id
  std::string title;  // rule title
  std::string team;
  int workers = 0;
  int cases = 0;
  double average = 0;
  int maximum = 0;
  int max_cases = 0;     // the rule's limit; 0 = none
  int workers_over = 0;  // workers with more than max_cases
};
// In rule order of first appearance, then team name.
std::vector<TeamCaseload> team_caseloads(const Review& review);

// "cases unallocated over 4 weeks" for an unallocated rule; the rule's title otherwise.
std::string describe(const rules::Rule& rule);

// "23 Nov 2026".
std::string long_date(rules::Date date);

}  // namespace report

#endif  // CASEWATCH_REPORT_REPORT_H_
