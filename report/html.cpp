// The HTML review: one self-contained document for email clients and phones. Inline styles
// only, plain tables (cellpadding, bgcolor) that Outlook renders, no scripts, no external
// resources; every data value escaped. Readable at 400 px: list tables have three or four
// columns, secondary values stacked under the key ones.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>

#include "report/format_util.h"
#include "report/report.h"

namespace report {
namespace {

using detail::html_escape;

constexpr std::string_view kBodyStyle =
    "margin:0;padding:8px;background:#ffffff;color:#1b1b1b;"
    "font-family:Arial,Helvetica,sans-serif;font-size:15px;line-height:1.35";
// Every table: full width up to 960 px; cells padded by the cellpadding attribute.
constexpr std::string_view kTableOpen =
    "<table width=\"100%\" cellpadding=\"4\" cellspacing=\"0\" border=\"0\" "
    "style=\"border-collapse:collapse;max-width:960px;margin:4px 0 12px 0;font-size:14px\">";
// Tables of numbers (team x band, trend, caseloads): small and tight, so that ten columns fit
// a 400 px phone.
constexpr std::string_view kNumTableOpen =
    "<table width=\"100%\" cellpadding=\"2\" cellspacing=\"0\" border=\"0\" "
    "style=\"border-collapse:collapse;max-width:720px;margin:4px 0 12px 0;font-size:11px\">";
constexpr std::string_view kHeadRow = "<tr valign=\"bottom\" bgcolor=\"#e4e8ee\">";
constexpr std::string_view kTotalRow =
    "<tr valign=\"top\" bgcolor=\"#e4e8ee\" style=\"font-weight:bold\">";
constexpr std::string_view kH1Style = "font-size:20px;margin:0 0 4px 0";
constexpr std::string_view kH2Style =
    "font-size:18px;margin:20px 0 6px 0;padding-bottom:3px;border-bottom:3px solid #2f5d8a";
constexpr std::string_view kH3Style = "font-size:16px;margin:12px 0 4px 0";
constexpr std::string_view kPStyle = "margin:4px 0";
constexpr std::string_view kBannerStyle =
    "margin:6px 0;padding:8px;background:#b71c1c;color:#ffffff;font-weight:bold";
constexpr std::string_view kBaselineStyle =
    "margin:6px 0;padding:6px 8px;background:#fff8e1;border-left:4px solid #f9a825";
constexpr std::string_view kNothingStyle =
    "margin:6px 0;padding:6px 8px;background:#e8f5e9;border-left:4px solid #2e7d32";
constexpr std::string_view kNoDataStyle =
    "margin:6px 0;padding:6px 8px;background:#ffebee;border-left:4px solid #b71c1c;"
    "font-weight:bold";
constexpr std::string_view kVanishedStyle = "color:#b71c1c;font-weight:bold";

std::string esc(std::string_view text) { return html_escape(text); }

std::string th(std::string_view label, bool number = false) {
  return number ? fmt::format("<th align=\"right\">{}</th>", esc(label))
                : fmt::format("<th align=\"left\">{}</th>", esc(label));
}
std::string td_raw(std::string_view html) { return fmt::format("<td>{}</td>", html); }
std::string td(std::string_view text) { return td_raw(esc(text)); }
std::string td_num(std::string_view text) {
  return fmt::format("<td align=\"right\">{}</td>", esc(text));
}
std::string small(std::string_view text) { return fmt::format("<small>{}</small>", esc(text)); }
// Rows alternate in shade, so that a row can be followed across a narrow screen.
std::string row_open(std::size_t n) {
  return n % 2 == 1 ? "<tr valign=\"top\" bgcolor=\"#f3f5f8\">" : "<tr valign=\"top\">";
}
std::string h2(std::string_view text) {
  return fmt::format("<h2 style=\"{}\">{}</h2>\n", kH2Style, esc(text));
}
std::string h3(std::string_view text) {
  return fmt::format("<h3 style=\"{}\">{}</h3>\n", kH3Style, esc(text));
}
std::string para(std::string_view html, std::string_view style = kPStyle) {
  return fmt::format("<p style=\"{}\">{}</p>\n", style, html);
}

// A case key (or date) that never breaks at its hyphens or spaces.
std::string nowrap(std::string_view text) {
  std::string out;
  for (const char c : esc(text)) {
    out += c == ' ' ? std::string("&nbsp;") : std::string(1, c);
  }
  return fmt::format("<b style=\"white-space:nowrap\">{}</b>", out);
}
std::string date_html(const std::optional<rules::Date>& date) {
  if (!date) {
    return "-";
  }
  std::string out;
  for (const char c : long_date(*date)) {
    out += c == ' ' ? std::string("&nbsp;") : std::string(1, c);
  }
  return out;
}

std::string rag_cell(rules::Rag rag) {
  std::string_view colours;
  switch (rag) {
    case rules::Rag::kRed:
      colours = " bgcolor=\"#c62828\" style=\"color:#ffffff;font-weight:bold\"";
      break;
    case rules::Rag::kAmber:
      colours = " bgcolor=\"#f9a825\" style=\"color:#000000;font-weight:bold\"";
      break;
    case rules::Rag::kGreen:
      colours = " bgcolor=\"#2e7d32\" style=\"color:#ffffff;font-weight:bold\"";
      break;
    case rules::Rag::kNone:
      break;
  }
  return fmt::format("<td{}>{}</td>", colours, esc(detail::rag_text(rag)));
}

std::string item_status_html(const rules::TrackedFinding& item) {
  std::string html = fmt::format("<b>{}</b>", esc(detail::status_text(item)));
  if (item.silenced) {
    html += "<br>" + small("silenced");
  }
  return html;
}

// The Case cell: key, then the person and the worker when allowed.
std::string case_cell(const rules::Finding& f, const rules::Rule& rule, const Output& output) {
  std::string html = output.allows("key") ? nowrap(f.key) : std::string("-");
  if (output.allows("person")) {
    html += "<br>" + small(f.person);
  }
  if (output.allows("worker")) {
    html += "<br>" + small(detail::worker_text(f, rule));
  }
  return html;
}

std::string more_row(std::size_t cut, int colspan, const Output& output) {
  return fmt::format("<tr><td colspan=\"{}\"><i>{}</i></td></tr>", colspan,
                     esc(detail::more_text(cut, output.more_in)));
}

// One team's items, in the text list's column order, secondary values stacked: Case (person,
// worker) | Since (days, band) or Dates (start, working days; due, days over) | Status.
void add_items(std::string& out, const RuleSection& section, const detail::TeamGroup& group,
               const Output& output) {
  const rules::Rule& rule = *section.rule;
  const bool unallocated = rule.kind == rules::RuleKind::kUnallocated;
  const bool due_dates = detail::has_due_dates(rule);
  const auto kept = detail::keep_items(group.items, output.body_items, section.previous_review);
  out += std::string(kTableOpen) + std::string(kHeadRow) + th("Case");
  out += unallocated ? th("Since") : due_dates ? th("Start / due") : th("Cases");
  out += th("Status") + "</tr>\n";
  std::size_t n = 0;
  for (const auto* item : kept.items) {
    const auto& f = item->finding;
    out += row_open(n++) + td_raw(case_cell(f, rule, output));
    if (unallocated) {
      out +=
          td_raw(fmt::format("{}{}<br>{}", f.since_at_least ? "at least " : "", date_html(f.since),
                             small(fmt::format("{} days, {}", f.days, f.band))));
    } else if (due_dates) {
      std::string start = "Start " + date_html(f.start);
      if (rule.limit.unit == rules::Unit::kWorkingDays) {
        start += "<br>" + small(fmt::format("{} working days", f.working_days));
      }
      std::string over = f.state == rules::State::kDueSoon ? std::string("due soon")
                                                           : fmt::format("{} days over", f.days);
      if (f.assumed_interval) {
        over += ", due date inferred";
      }
      out += td_raw(fmt::format("{}<br>Due {}<br>{}", start, date_html(f.due), small(over)));
    } else {
      out += td(fmt::format("{} ({})", f.cases, f.band));
    }
    out += td_raw(item_status_html(*item)) + "</tr>\n";
    if (item->latest_note && output.allows("note")) {
      const auto& note = *item->latest_note;
      out += fmt::format(
          "<tr><td colspan=\"3\" style=\"padding:0 4px 8px 16px;font-size:13px\">"
          "<i>Note ({}{}){}:</i> {}</td></tr>\n",
          output.allows("note_author") ? esc(note.author) + ", " : "", esc(detail::note_date(note)),
          item->earlier_notes > 0 ? fmt::format(" (+{} earlier)", item->earlier_notes) : "",
          esc(note.text));
    }
  }
  if (kept.cut > 0) {
    out += more_row(kept.cut, 3, output);
  }
  out += "</table>\n";
}

void add_review_list(std::string& out, const RuleSection& section, const Output& output) {
  const rules::Rule& rule = *section.rule;
  out += h2(rule.title.empty() ? rule.id : rule.title);
  if (!section.no_data.empty()) {
    out += para(esc(fmt::format("NO DATA: {}. The list cannot be produced; this is not a list "
                                "with no cases.",
                                section.no_data)),
                kNoDataStyle);
    return;
  }
  out +=
      para(small(fmt::format("Rule {}, evaluated as of {}.", rule.id, long_date(section.as_of))));
  out += para(esc(detail::comparison_text(section)), section.baseline ? kBaselineStyle : kPStyle);
  if (section.rule_changed_on) {
    out += para(esc(detail::rule_change_text(section)), kBaselineStyle);
  }
  const auto groups = detail::group_by_team(section.open);
  const auto [listed, fresh, silenced] = detail::count_list(groups);
  if (listed == 0) {
    out += para(esc(detail::nothing_this_week(rule)), kNothingStyle);
  } else {
    out += para(fmt::format("<b>On the list: {}</b> ({} new, {} carried{}).", listed, fresh,
                            listed - fresh,
                            silenced > 0 ? fmt::format(", {} silenced", silenced) : ""));
    for (const auto& group : groups) {
      out += h3(fmt::format("Team: {} ({})", detail::team_label(group.team), group.items.size()));
      add_items(out, section, group, output);
    }
  }

  if (!section.baseline || !section.resolved.empty()) {
    out += h3(fmt::format("RESOLVED since last review ({})", section.resolved.size()));
    if (section.resolved.empty()) {
      out += para("None.");
    } else {
      std::size_t cut = 0;
      const auto items = detail::cap_per_team(
          detail::resolved_in_order(section.resolved), output.body_items,
          [](const rules::ResolvedFinding* r) { return r->last.team; }, cut);
      out += std::string(kTableOpen) + std::string(kHeadRow) + th("Case") + th("Team") +
             th("On list since") + th("Why it left the list") + "</tr>\n";
      std::size_t n = 0;
      for (const auto* item : items) {
        const std::string reason =
            esc(detail::resolution_text(*item, rule, false, output.allows("worker")));
        out += row_open(n++) + td_raw(case_cell(item->last, rule, output));
        out += td(detail::team_label(item->last.team));
        out += td(long_date(item->first_seen));
        out += td_raw(item->reason == rules::Resolution::kVanished
                          ? fmt::format("<span style=\"{}\">{}</span>", kVanishedStyle, reason)
                          : reason);
        out += "</tr>\n";
        if (item->last_note && output.allows("note")) {  // the end of its notes trail
          const auto& note = *item->last_note;
          out += fmt::format(
              "<tr><td colspan=\"4\" style=\"padding:0 4px 8px 16px;font-size:13px\">"
              "<i>Last note ({}{}):</i> {}</td></tr>\n",
              output.allows("note_author") ? esc(note.author) + ", " : "",
              esc(detail::note_date(note)), esc(note.text));
        }
      }
      if (cut > 0) {
        out += more_row(cut, 4, output);
      }
      out += "</table>\n";
    }
  }

  const auto problems = detail::data_problems(section.open);
  if (!problems.empty()) {
    out += h3(fmt::format("Data cleansing: dates that cannot be trusted ({})", problems.size()));
    std::size_t cut = 0;
    const auto items = detail::cap_per_team(
        problems, output.body_items,
        [](const rules::TrackedFinding* item) { return item->finding.team; }, cut);
    out += std::string(kTableOpen) + std::string(kHeadRow) + th("Case") + th("Team") +
           th("Problem") + th("Status") + "</tr>\n";
    std::size_t n = 0;
    for (const auto* item : items) {
      const auto& f = item->finding;
      out += row_open(n++) + td_raw(case_cell(f, rule, output)) + td(detail::team_label(f.team)) +
             td(detail::problem_text(f)) + td_raw(item_status_html(*item)) + "</tr>\n";
    }
    if (cut > 0) {
      out += more_row(cut, 4, output);
    }
    out += "</table>\n";
  }
}

void add_data_quality(std::string& out, const Review& review, const Output& output) {
  if (review.person_changes.empty()) {
    return;
  }
  out += h2(detail::person_changes_heading(review));
  out += para(esc(detail::person_changes_text(review, output)), kBaselineStyle);
  if (!output.allows("key")) {
    return;
  }
  out += std::string(kTableOpen) + std::string(kHeadRow) + th("Source") + th("Key") +
         th("Extract as of") + "</tr>\n";
  std::size_t n = 0;
  for (const auto& change : review.person_changes) {
    out += row_open(n++) + td(change.source) + td_raw(nowrap(change.key)) +
           td(long_date(change.as_of)) + "</tr>\n";
  }
  out += "</table>\n";
}

const rules::Rule* rule_by_id(const Review& review, std::string_view id) {
  for (const auto& section : review.sections) {
    if (section.rule->id == id) {
      return section.rule;
    }
  }
  return nullptr;
}

void add_summary(std::string& out, const Review& review) {
  out += h2("Summary");
  bool any = false;
  for (const auto& section : review.sections) {
    if (!section.rule->review) {
      continue;
    }
    any = true;
    out += para(esc(summary_line(section)), section.no_data.empty() ? kPStyle : kNoDataStyle);
  }
  if (!any) {
    out += para("No review lists.");
  }
}

void add_team_tables(std::string& out, const Review& review) {
  for (const auto& table : team_tables(review)) {
    const rules::Rule* rule = rule_by_id(review, table.rule);
    const bool unallocated = rule != nullptr && rule->kind == rules::RuleKind::kUnallocated;
    out += h3(fmt::format("{}: {} by team", table.title,
                          unallocated ? "all unallocated open cases" : "on the list"));
    if (table.rows.empty()) {
      out += para("None.");
      continue;
    }
    out += std::string(kNumTableOpen) + std::string(kHeadRow) + th("Team");
    for (const auto& band : table.bands) {
      out += th(detail::short_band(band), true);
    }
    out += th("Total", true) + "</tr>\n";
    std::size_t n = 0;
    for (const auto& row : table.rows) {
      out += row_open(n++) + td(detail::team_label(row.team));
      for (const int count : row.counts) {
        out += td_num(std::to_string(count));
      }
      out += td_num(std::to_string(row.total)) + "</tr>\n";
    }
    out += std::string(kTotalRow) + td("All teams");
    for (const int count : table.band_totals) {
      out += td_num(std::to_string(count));
    }
    out += td_num(std::to_string(table.grand_total)) + "</tr>\n</table>\n";
  }
}

void add_band_tables(std::string& out, const Review& review) {
  const auto tables = band_tables(review);
  if (tables.empty()) {
    return;
  }
  out += h2(kAllUnallocatedLabel);
  for (const auto& table : tables) {
    out += std::string(kTableOpen) + std::string(kHeadRow) + th("Band");
    // Every unallocated case of the rule, under its threshold too: a lone rule's column is
    // "Cases", not the rule's title.
    for (const auto& row : table.rows) {
      out += th(table.rows.size() == 1 ? "Cases" : row.title, true);
    }
    out += "</tr>\n";
    for (std::size_t b = 0; b < table.bands.size(); ++b) {
      out += row_open(b) + td(table.bands[b]);
      for (const auto& row : table.rows) {
        out += td_num(std::to_string(row.counts[b]));
      }
      out += "</tr>\n";
    }
    out += std::string(kTotalRow) + td(kAllUnallocatedLabel);
    for (const auto& row : table.rows) {
      out += td_num(std::to_string(row.total));
    }
    out += "</tr>\n" + std::string(kTotalRow);
    const rules::Rule* first = rule_by_id(review, table.rows.front().rule);
    out += td(first != nullptr ? listed_label(*first) : "Listed");
    for (const auto& row : table.rows) {
      out += td_num(std::to_string(row.listed));
    }
    out += "</tr>\n</table>\n";
  }
}

void add_trend(std::string& out, const Review& review, const Output& output) {
  const auto trend = trend_table(review);
  if (trend.rows.empty()) {
    return;
  }
  out += h2(fmt::format("Trend: {} to {}", trend.weeks.front().str(), trend.weeks.back().str()));
  out += para(small("Count at the latest evaluation in each week; a blank week had none."));
  for (std::size_t r = 0; r < trend.rows.size(); ++r) {
    const auto& total = trend.rows[r];
    if (!total.band.empty()) {
      continue;
    }
    const rules::Rule* rule = rule_by_id(review, total.rule);
    std::string counted = rule != nullptr ? trend_total_label(*rule) : "";
    if (!counted.empty()) {  // "all unallocated" after a colon
      counted[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(counted[0])));
    }
    out += h3(counted.empty() ? total.title : fmt::format("{}: {}", total.title, counted));
    int max = 0;
    for (const auto& count : total.counts) {
      max = std::max(max, count.value_or(0));
    }
    // The bar chart of the rule's total: a table cell of the bar's width, which Outlook draws.
    out += std::string(kNumTableOpen);
    for (std::size_t w = 0; w < trend.weeks.size(); ++w) {
      const auto& count = total.counts[w];
      const int percent = max > 0 && count ? std::max(*count > 0 ? 1 : 0, *count * 100 / max) : 0;
      out += fmt::format(
          "<tr><td width=\"1%\" style=\"white-space:nowrap\">{}</td><td width=\"80%\">{}</td>"
          "<td width=\"1%\" align=\"right\">{}</td></tr>\n",
          trend.weeks[w].str(),
          percent > 0 ? fmt::format("<table width=\"{}%\" cellpadding=\"0\" cellspacing=\"0\" "
                                    "border=\"0\"><tr><td bgcolor=\"#2f5d8a\" height=\"12\" "
                                    "style=\"font-size:1px;line-height:1px\">&nbsp;</td></tr>"
                                    "</table>",
                                    percent)
                      : "",
          count ? std::to_string(*count) : "-");
    }
    out += "</table>\n";
    if (output.email) {
      continue;  // the week-by-week bands are wider than a phone
    }
    out += std::string(kNumTableOpen) + std::string(kHeadRow) + th("Band");
    for (const auto& week : trend.weeks) {
      out += th(fmt::format("W{:02}", week.week), true);
    }
    out += "</tr>\n";
    std::size_t n = 0;
    for (std::size_t b = r + 1; b < trend.rows.size() && !trend.rows[b].band.empty(); ++b) {
      out += row_open(n++) + td(trend.rows[b].band);
      for (const auto& count : trend.rows[b].counts) {
        out += td_num(count ? std::to_string(*count) : "-");
      }
      out += "</tr>\n";
    }
    out += "</table>\n";
  }
}

void add_scorecards(std::string& out, const Review& review) {
  const auto cards = scorecards(review);
  if (cards.empty()) {
    return;
  }
  out += h2("Scorecard: completed in timescale");
  for (const auto& card : cards) {
    out += h3(card.title);
    const char* measure = card.recurring ? "held on time" : "in timescale";
    out += para(esc(card.target_percent > 0
                        ? fmt::format("Target {:g}% {}; Amber down to {:g}%.", card.target_percent,
                                      measure, card.target_percent - card.tolerance)
                        : std::string("No target set.")));
    if (card.latest_only) {
      out += para(esc(detail::kLatestOnlyNote));
    }
    out += std::string(kTableOpen) + std::string(kHeadRow) + th("Period") +
           th(card.recurring ? "Held" : "Completed", true) +
           th(card.recurring ? "On time" : "In timescale", true) + th("%", true) + th("RAG") +
           "</tr>\n";
    std::size_t n = 0;
    for (const auto& period : card.periods) {
      out += row_open(n++) + td(period.label) + td_num(std::to_string(period.kpi.completed)) +
             td_num(card.latest_only ? "-" : std::to_string(period.kpi.in_timescale)) +
             td_num(detail::percent_text(period.kpi)) + rag_cell(period.kpi.rag) + "</tr>\n";
    }
    out += "</table>\n";
    if (card.recurring && !card.latest_only) {
      out += para(fmt::format("Held late this week: <b>{}</b>", card.held_late_this_week));
    }
    out += para(fmt::format("{}: <b>{}</b>",
                            card.recurring ? "Overdue now" : "In progress, out of timescale now",
                            card.overdue_in_progress));
  }
}

void add_caseloads(std::string& out, const Review& review) {
  const auto teams = team_caseloads(review);
  if (teams.empty()) {
    return;
  }
  out += h2("Caseloads");
  std::string current;
  bool open = false;
  std::size_t n = 0;
  for (const auto& team : teams) {
    if (!open || team.rule != current) {
      if (open) {
        out += "</table>\n";
      }
      current = team.rule;
      open = true;
      n = 0;
      out += h3(fmt::format(
          "{}{}", team.title,
          team.max_cases > 0 ? fmt::format(" (limit {} cases per worker)", team.max_cases) : ""));
      out += std::string(kNumTableOpen) + std::string(kHeadRow) + th("Team") + th("Workers", true) +
             th("Cases", true) + th("Average", true) + th("Maximum", true) +
             th("Over limit", true) + "</tr>\n";
    }
    out += row_open(n++) + td(detail::team_label(team.team)) +
           td_num(std::to_string(team.workers)) + td_num(std::to_string(team.cases)) +
           td_num(fmt::format("{:.1f}", team.average)) + td_num(std::to_string(team.maximum)) +
           td_num(team.max_cases > 0 ? std::to_string(team.workers_over) : "-") + "</tr>\n";
  }
  if (open) {
    out += "</table>\n";
  }
}

}  // namespace

std::string render_html(const Review& review, const Output& output) {
  const std::string heading = fmt::format("{}: {}", review.title, review.week.str());
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += fmt::format("<title>{}</title>\n</head>\n<body style=\"{}\">\n", esc(heading), kBodyStyle);
  out += fmt::format("<h1 style=\"{}\">{}</h1>\n", kH1Style, esc(heading));
  for (const auto& stale : review.stale) {
    out += para(esc("DATA OUT OF DATE: " + stale), kBannerStyle);
  }
  out += para(fmt::format("{} to {}, as of <b>{}</b>", long_date(review.week.monday()),
                          long_date(review.week.sunday()), long_date(review.today)));
  if (review.late) {
    out += para("Produced late: the service was down at the scheduled time.", kBaselineStyle);
  }
  if (!review.team_filter.empty()) {
    out += para(esc(fmt::format(
        "{}teams {} (the whole-service band table, trend and scorecard "
        "are in the review for the whole service)",
        review.route.empty() ? "" : "Route " + review.route + ": ", review.team_filter)));
  }
  add_summary(out, review);
  add_team_tables(out, review);
  if (review.team_filter.empty()) {
    add_band_tables(out, review);
    add_trend(out, review, output);
    add_scorecards(out, review);
  }
  for (const auto& section : review.sections) {
    if (section.rule->review) {
      add_review_list(out, section, output);
    }
  }
  add_data_quality(out, review, output);
  add_caseloads(out, review);
  out += "</body>\n</html>\n";
  return out;
}

}  // namespace report
