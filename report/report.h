// report: what the managers read. Turns one week's findings, band counts, trend, completions and
// caseloads (built by the daemon from rules and storage) into the weekly review as plain text
// (fits 100 columns), email-safe HTML (one self-contained document, inline CSS, no scripts, no
// external resources, readable on a 400 px phone) and RFC 4180 CSV limited to an allow-list of
// columns. Every rendering opens with the summary (banners, one line per rule, the team tables),
// then the trend and scorecard, then the lists.
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
  const rules::Rule* rule = nullptr;  // REQUIRES: not null
  rules::Date as_of;                  // the as-of of the evaluation shown
  bool baseline = false;  // no previous published review to compare with (the first review)
  // As-of date of the previous published review (the latest recorded review of an earlier ISO
  // week); its week is previous_week. Both named by the comparison line.
  std::optional<rules::Date> previous_review;
  // On the list now; review_status and weeks_on_review relative to the previous review.
  std::vector<rules::TrackedFinding> open;
  // On the previous review and not on this one, with why they left (and the last note).
  std::vector<rules::ResolvedFinding> resolved;
  std::vector<rules::BandCount> bands;         // this rule's band counts now
  std::vector<rules::TrendPoint> trend;        // this rule's history, oldest first
  std::vector<rules::Completion> completions;  // timescale rules (KPIs)
  // Unallocated rules: every open unallocated case counted per team and band (BandCount::team),
  // for the team x band table.
  std::vector<rules::BandCount> team_bands;
  // Non-empty: the rule's source has no data, so its list cannot be produced. Plain words
  // naming the source, e.g. "no extract of 'episodes' has been ingested". Shown as NO DATA in
  // the summary, the section and the subject, never as "no cases".
  std::string no_data;
  // How many items the previous published review listed for this rule (data problems not
  // counted). Unset: derived as the CARRIED items plus those RESOLVED since.
  std::optional<int> previous_count;
  std::optional<rules::IsoWeek> previous_week;  // the previous published review's week
  // The rule's definition changed since the previous review: on this date, setting by setting
  // ("not_a_worker: [Unallocated,Duty] -> [Unallocated,Duty,MASH]").
  std::optional<rules::Date> rule_changed_on;
  std::vector<std::string> rule_changes;
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
  // A route's name, for the heading and the subject of its slice ("" = the whole service).
  std::string route;
  // Data-freshness warnings, one per source, shown as a DATA OUT OF DATE banner at the top and
  // as a subject prefix, e.g. "episodes, last extract as of 20 Nov 2026, 11 days before this
  // review".
  std::vector<std::string> stale;
  // Data quality: keys that now belong to a different person than in their source's previous
  // extract, in the extracts since the previous review. Shown in a "Data quality" section (keys
  // only where the output allows "key"); a team slice leaves them out (they have no team).
  std::vector<rules::PersonChange> person_changes;
};

// What a rendering may show. The defaults are the files on disk: every field, every item.
struct Output {
  // The fields allowed to leave the building (names as in known_fields()); unset = every field.
  // A body shows a person identifier only with "person", note texts only with "note" (authors
  // with "note_author"), workers only with "worker", keys only with "key".
  std::optional<std::vector<std::string>> fields;
  // At most this many items per team in each list of the body (0 = no limit), with "and N more
  // in the attached CSV". NEW items and items with a note due (no note since the last review)
  // are kept before the other CARRIED ones; the kept ones are shown most overdue first.
  std::size_t body_items = 0;
  // An email body: the trend's week-by-week band table (too wide for a phone) is left to the
  // files on disk.
  bool email = false;
  // Where the items a bounded body leaves out can be found.
  std::string more_in = "the attached CSV";
  bool allows(std::string_view field) const;
};

// The plain-text review: every line at most 100 columns (counted in UTF-8 code points).
// Control characters in data (e.g. newlines in a note) are shown as spaces.
std::string render_text(const Review& review, const Output& output = {});

// The HTML review: one self-contained UTF-8 document with inline styles only, tables, a viewport
// meta tag for phones, no scripts and no external resources. Every data value is escaped.
std::string render_html(const Review& review, const Output& output = {});

// The CSV review for spreadsheets: UTF-8 with a byte order mark, RFC 4180 (CRLF line ends,
// fields quoted when they hold , " CR or LF), a header row even when there are no items, then one
// row per open finding of each review rule and one per finding resolved since the last review
// (status "resolved", with resolved_on and reason). `columns` is the allow-list, in output
// order; names as known_fields(), unknown names ignored. Dates are ISO. days_unallocated,
// working_days_elapsed, days_overdue and due_in_days are blank where they do not apply and never
// negative. Text values starting with = + - @ are prefixed with ' so that spreadsheets do not run
// them as formulas.
std::string render_csv(const Review& review, const std::vector<std::string>& columns);

// The known field names, in their documented order: rule, title, key, person, team, worker,
// band, status, since, days_unallocated, start, due, end, working_days_elapsed, days_overdue,
// due_in_days, weeks_on_list, note, note_author, note_at, resolved_on, reason.
const std::vector<std::string>& known_fields();
// The default allow-list: no person identifier and no free text (notes) that may name a child.
const std::vector<std::string>& default_fields();

// A team's slice: only the findings (open and resolved) and caseloads whose team matches one of
// `team_globs` (`*` and `?` wildcards, case-insensitive; an empty team matches nothing). The
// whole-service tables (bands, trend, completions) are dropped, and team_filter names the globs.
Review for_teams(const Review& review, const std::vector<std::string>& team_globs);

// One line for a status answer, e.g. "66 cases unallocated over 4 weeks". Counts breaching
// and overdue findings of review rules; never names a child or a case.
std::string headline(const Review& review);

// The subject of a review email, under 80 characters, plain ASCII unless a route name is not:
// "casewatch 2026-W48: 211 unallocated over 4 weeks (+10); 351 overdue", with the route's name
// after the week for a team slice and a "DATA OUT OF DATE: " or "NO DATA: " prefix when so.
std::string subject(const Review& review);

// ---- One set of totals, named the same everywhere (review, --once, status) -----------------

// An unallocated rule's three numbers: the cases over its threshold (the list), the cases whose
// dates cannot be trusted, and every unallocated open case (the band table's grand total).
// Timescale and recurring rules: overdue, due soon and data problems.
struct RuleTotals {
  int listed = 0;     // on the review list (breaching, overdue or due soon)
  int overdue = 0;    // timescale and recurring
  int due_soon = 0;   // timescale and recurring
  int untrusted = 0;  // data-cleansing items
  int all = 0;        // unallocated: every open unallocated case
};
RuleTotals rule_totals(const rules::Rule& rule, const std::vector<const rules::Finding*>& open,
                       const std::vector<rules::BandCount>& bands);
// "Over four weeks (listed): 211; untrusted dates: 14; all unallocated open cases: 245", or
// "Overdue: 351; due soon: 12; data problems: 3".
std::string totals_text(const rules::Rule& rule, const RuleTotals& totals);
// "Over four weeks (listed)" for over_days = 28, "Over 10 days (listed)" otherwise.
std::string listed_label(const rules::Rule& rule);
inline constexpr std::string_view kAllUnallocatedLabel = "All unallocated open cases";
// What a trend's total row counts: the sum over the rule's bands at the latest evaluation of
// each week, which for an unallocated rule is every unallocated case (under its threshold too)
// and for other rules every record in a band, not only those on the list: "All unallocated",
// "All in bands".
std::string trend_total_label(const rules::Rule& rule);
inline constexpr std::string_view kUntrustedLabel = "Untrusted dates";

// The summary line of a rule: "Cases unallocated over 4 weeks: 211 on the list (last review 201,
// +10); untrusted dates: 14; all unallocated open cases: 245", "Single assessments: 40 on the
// list (first review of this list): 30 overdue, 10 due soon; data problems: 2", "...: NO DATA:
// ...".
std::string summary_line(const RuleSection& section);

// A rule's open items by team and band: for an unallocated rule every open unallocated case
// (team_bands), for timescale and recurring rules the items on the list by band (overdue
// bands, due soon, data problems). Teams by name, "" last; bands in the rule's order.
struct TeamTable {
  std::string rule;
  std::string title;
  std::vector<std::string> bands;
  struct Row {
    std::string team;
    std::vector<int> counts;
    int total = 0;
  };
  std::vector<Row> rows;
  std::vector<int> band_totals;
  int grand_total = 0;
};
std::vector<TeamTable> team_tables(const Review& review);

// ---- The tables, as values -------------------------------------------------------------------

// Unallocated rules sharing the same band labels, as one committee-style table headed "All
// unallocated open cases": rows per rule, columns per band (in BandCount order, inaccuracies
// included), a grand total and each rule's "Over four weeks (listed)" subtotal.
struct BandTable {
  std::vector<std::string> bands;  // column labels
  struct Row {
    std::string rule;         // rule id
    std::string title;        // rule title
    std::vector<int> counts;  // one per band
    int total = 0;
    int listed = 0;  // over the rule's threshold: on the review list
  };
  std::vector<Row> rows;
  std::vector<int> band_totals;  // per band, over the rows
  int grand_total = 0;
};
// One table per run of consecutive unallocated sections with the same band labels; sections
// without band counts are skipped.
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

// The KPI scorecard of one timescale rule (completed in timescale) or recurring rule (events
// held on time, NI 66 style "LAC reviews held on time").
struct Scorecard {
  std::string rule;           // rule id
  std::string title;          // rule title
  bool recurring = false;     // events held and held on time, not completions
  bool latest_only = false;   // recurring from a latest-event column: latest events counted,
                              // their timeliness unknown
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
  int held_late_this_week = 0;  // recurring: events held this week after their due date
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

// ---- Alert digests (alert_table.cpp) ---------------------------------------------------------

// One case of an alert digest: an open finding of `rule` (or, for a case that left the list, the
// key and team it was last seen with).
struct AlertRow {
  const rules::Rule* rule = nullptr;  // REQUIRES: not null
  rules::TrackedFinding item;
};

// The columns an alert digest's table may show, in order: key, person, team, worker, since,
// days_unallocated, due, days_overdue, weeks_on_list.
const std::vector<std::string>& alert_table_fields();

// A plain-text table of `rows` (lines within 100 columns): the alert_table_fields() that
// `fields` allows and that some row has a value for, headed by their names; "" for no rows.
// A field not in `fields` never appears, whatever the rows hold. As in the review lists, a
// since-at-least date and an inferred due date are marked "*", with a line saying what it means.
std::string render_alert_table(const std::vector<AlertRow>& rows,
                               const std::vector<std::string>& fields);

}  // namespace report

#endif  // CASEWATCH_REPORT_REPORT_H_
