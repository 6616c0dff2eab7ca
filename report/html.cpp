// The HTML review: one self-contained document for email clients and phones. Inline styles
// only, tables, no scripts, no external resources; every data value escaped.
#include <fmt/format.h>

#include <algorithm>

#include "report/format_util.h"
#include "report/report.h"

namespace report {
namespace {

using detail::html_escape;

constexpr std::string_view kBodyStyle =
    "margin:0;padding:12px;background:#ffffff;color:#1b1b1b;"
    "font-family:Arial,Helvetica,sans-serif;font-size:15px;line-height:1.4";
constexpr std::string_view kTableStyle =
    "border-collapse:collapse;width:100%;max-width:960px;margin:6px 0 14px 0;font-size:14px";
constexpr std::string_view kThStyle =
    "text-align:left;padding:6px;border-bottom:2px solid #555555;background:#f0f0f0;"
    "vertical-align:bottom";
constexpr std::string_view kThNumStyle =
    "text-align:right;padding:6px;border-bottom:2px solid #555555;background:#f0f0f0;"
    "vertical-align:bottom";
constexpr std::string_view kTdStyle =
    "padding:6px;border-bottom:1px solid #dddddd;vertical-align:top";
constexpr std::string_view kTdNumStyle =
    "padding:6px;border-bottom:1px solid #dddddd;vertical-align:top;text-align:right";
constexpr std::string_view kTotalStyle =
    "padding:6px;border-top:2px solid #555555;font-weight:bold;text-align:right";
constexpr std::string_view kTotalLabelStyle =
    "padding:6px;border-top:2px solid #555555;font-weight:bold";
constexpr std::string_view kSmallStyle = "color:#555555;font-size:13px";
constexpr std::string_view kScrollStyle = "overflow-x:auto;max-width:100%";
constexpr std::string_view kH1Style = "font-size:20px;margin:0 0 6px 0";
constexpr std::string_view kH2Style =
    "font-size:18px;margin:22px 0 6px 0;padding-bottom:4px;border-bottom:3px solid #2f5d8a";
constexpr std::string_view kH3Style = "font-size:16px;margin:14px 0 4px 0";
constexpr std::string_view kPStyle = "margin:4px 0";
constexpr std::string_view kBaselineStyle =
    "margin:6px 0;padding:6px 8px;background:#fff8e1;border-left:4px solid #f9a825";
constexpr std::string_view kNothingStyle =
    "margin:6px 0;padding:6px 8px;background:#e8f5e9;border-left:4px solid #2e7d32";
constexpr std::string_view kVanishedStyle = "color:#b71c1c;font-weight:bold";

std::string esc(std::string_view text) { return html_escape(text); }

std::string th(std::string_view label, bool number = false) {
  return fmt::format("<th style=\"{}\">{}</th>", number ? kThNumStyle : kThStyle, esc(label));
}

std::string td_raw(std::string_view html, bool number = false) {
  return fmt::format("<td style=\"{}\">{}</td>", number ? kTdNumStyle : kTdStyle, html);
}

std::string td(std::string_view text, bool number = false) { return td_raw(esc(text), number); }

std::string small(std::string_view text) {
  return fmt::format("<span style=\"{}\">{}</span>", kSmallStyle, esc(text));
}

// Every table sits in a box that scrolls sideways on a narrow screen.
std::string table_open(std::string_view extra_style = "") {
  return fmt::format("<div style=\"{}\"><table style=\"{}{}\">", kScrollStyle, kTableStyle,
                     extra_style);
}
constexpr std::string_view kTableClose = "</table></div>";

// A case key that never breaks at its hyphens.
std::string key_html(std::string_view key) {
  return fmt::format("<b style=\"white-space:nowrap\">{}</b>", esc(key));
}

// A date whose parts stay on one line.
std::string date_html(rules::Date date) {
  std::string out;
  for (const char c : long_date(date)) out += c == ' ' ? std::string("&nbsp;") : std::string(1, c);
  return out;
}

std::string rag_cell(rules::Rag rag) {
  std::string_view style = kTdStyle;
  std::string colours;
  switch (rag) {
    case rules::Rag::kRed:
      colours = ";background:#c62828;color:#ffffff;font-weight:bold";
      break;
    case rules::Rag::kAmber:
      colours = ";background:#f9a825;color:#000000;font-weight:bold";
      break;
    case rules::Rag::kGreen:
      colours = ";background:#2e7d32;color:#ffffff;font-weight:bold";
      break;
    case rules::Rag::kNone:
      break;
  }
  return fmt::format("<td style=\"{}{}\">{}</td>", style, colours, esc(detail::rag_text(rag)));
}

std::string item_status_html(const rules::TrackedFinding& item) {
  std::string html = fmt::format("<b>{}</b>", esc(detail::status_text(item)));
  if (item.silenced) html += "<br>" + small("silenced");
  return html;
}

void add_items(std::string& out, const rules::Rule& rule, const detail::TeamGroup& group) {
  const bool unallocated = rule.kind == rules::RuleKind::kUnallocated;
  const bool due_dates = detail::has_due_dates(rule);
  out += table_open() + "<tr>" + th("Case") + th("Worker");
  if (unallocated) {
    out += th("Since") + th("Band");
  } else if (due_dates) {
    out += th("Due") + th("Start");
  } else {
    out += th("Cases", true) + th("Band");
  }
  out += th("Status") + "</tr>";
  for (const auto* item : group.items) {
    const auto& f = item->finding;
    out += "<tr>";
    out += td_raw(key_html(f.key) + "<br>" + small(f.person));
    out += td(f.worker.empty() ? "-" : f.worker);
    if (unallocated) {
      const std::string since = f.since ? date_html(*f.since) : "-";
      out += td_raw(fmt::format("{}{}<br>{}", f.since_at_least ? "at least " : "", since,
                                small(fmt::format("{} days", f.days))));
      out += td(f.band);
    } else if (due_dates) {
      std::string over = f.state == rules::State::kDueSoon ? std::string("due soon")
                                                           : fmt::format("{} days over", f.days);
      if (f.assumed_interval) over += ", interval assumed";
      out += td_raw(fmt::format("{}<br>{}", f.due ? date_html(*f.due) : "-", small(over)));
      std::string start = f.start ? date_html(*f.start) : "-";
      std::string extra = rule.limit.unit == rules::Unit::kWorkingDays
                              ? fmt::format("{} working days", f.working_days)
                              : "";
      out += td_raw(start + (extra.empty() ? "" : "<br>" + small(extra)));
    } else {
      out += td(std::to_string(f.cases), true) + td(f.band);
    }
    out += td_raw(item_status_html(*item));
    out += "</tr>";
    if (item->latest_note) {
      const auto& note = *item->latest_note;
      out += fmt::format(
          "<tr><td colspan=\"5\" style=\"padding:0 6px 8px 18px;border-bottom:1px solid #dddddd;"
          "font-size:13px;color:#333333\"><i>Note ({}, {}):</i> {}</td></tr>",
          esc(note.author), esc(detail::note_date(note)), esc(note.text));
    }
  }
  out += kTableClose;
}

void add_review_list(std::string& out, const RuleSection& section) {
  const rules::Rule& rule = *section.rule;
  out += fmt::format("<h2 style=\"{}\">{}</h2>", kH2Style,
                     esc(rule.title.empty() ? rule.id : rule.title));
  out += fmt::format(
      "<p style=\"{}\">{}</p>", kPStyle,
      small(fmt::format("Rule {}, evaluated as of {}.", rule.id, long_date(section.as_of))));
  if (section.baseline) {
    out += fmt::format("<p style=\"{}\">{}</p>", kBaselineStyle, esc(detail::kBaselineText));
  } else if (section.previous_review) {
    out += fmt::format("<p style=\"{}\">Compared with the review of {}.</p>", kPStyle,
                       esc(long_date(*section.previous_review)));
  }
  const auto groups = detail::group_by_team(section.open);
  const auto [listed, fresh, silenced] = detail::count_list(groups);
  if (listed == 0) {
    out +=
        fmt::format("<p style=\"{}\">{}</p>", kNothingStyle, esc(detail::nothing_this_week(rule)));
  } else {
    out += fmt::format("<p style=\"{}\"><b>On the list: {}</b> ({} new, {} carried{}).</p>",
                       kPStyle, listed, fresh, listed - fresh,
                       silenced > 0 ? fmt::format(", {} silenced", silenced) : "");
    for (const auto& group : groups) {
      out += fmt::format("<h3 style=\"{}\">Team: {} ({})</h3>", kH3Style,
                         esc(detail::team_label(group.team)), group.items.size());
      add_items(out, rule, group);
    }
  }

  if (!section.baseline || !section.resolved.empty()) {
    out += fmt::format("<h3 style=\"{}\">RESOLVED since last review ({})</h3>", kH3Style,
                       section.resolved.size());
    if (section.resolved.empty()) {
      out += fmt::format("<p style=\"{}\">None.</p>", kPStyle);
    } else {
      out += table_open() + "<tr>" + th("Case") + th("Team / worker") + th("On list since") +
             th("Why it left the list") + "</tr>";
      for (const auto& item : section.resolved) {
        const std::string reason = esc(detail::resolution_text(item, rule));
        out += "<tr>";
        out += td_raw(key_html(item.last.key) + "<br>" + small(item.last.person));
        out += td_raw(fmt::format("{}<br>{}", esc(detail::team_label(item.last.team)),
                                  small(item.last.worker)));
        out += td_raw(date_html(item.first_seen));
        out += td_raw(item.reason == rules::Resolution::kVanished
                          ? fmt::format("<span style=\"{}\">{}</span>", kVanishedStyle, reason)
                          : reason);
        out += "</tr>";
      }
      out += kTableClose;
    }
  }

  const auto problems = detail::data_problems(section.open);
  if (!problems.empty()) {
    out += fmt::format("<h3 style=\"{}\">Data cleansing: dates that cannot be trusted ({})</h3>",
                       kH3Style, problems.size());
    out += table_open() + "<tr>" + th("Case") + th("Team / worker") + th("Problem") + th("Status") +
           "</tr>";
    for (const auto* item : problems) {
      const auto& f = item->finding;
      const std::string problem = !f.detail.empty() ? f.detail
                                  : !f.band.empty() ? f.band
                                                    : std::string(rules::to_string(f.state));
      out += "<tr>";
      out += td_raw(key_html(f.key) + "<br>" + small(f.person));
      out += td_raw(fmt::format("{}<br>{}", esc(detail::team_label(f.team)), small(f.worker)));
      out += td(problem);
      out += td_raw(item_status_html(*item));
      out += "</tr>";
    }
    out += kTableClose;
  }
}

void add_band_tables(std::string& out, const Review& review) {
  const auto tables = band_tables(review);
  if (tables.empty()) return;
  out += fmt::format("<h2 style=\"{}\">Band table</h2>", kH2Style);
  for (const auto& table : tables) {
    out += table_open() + "<tr>" + th("Rule");
    for (const auto& band : table.bands) out += th(band, true);
    out += th("Grand total", true) + "</tr>";
    for (const auto& row : table.rows) {
      out += "<tr>" + td(row.title);
      for (const int count : row.counts) out += td(std::to_string(count), true);
      out += td_raw(fmt::format("<b>{}</b>", row.total), true) + "</tr>";
    }
    if (table.rows.size() > 1) {
      out += fmt::format("<tr><td style=\"{}\">Grand total</td>", kTotalLabelStyle);
      for (const int count : table.band_totals) {
        out += fmt::format("<td style=\"{}\">{}</td>", kTotalStyle, count);
      }
      out += fmt::format("<td style=\"{}\">{}</td></tr>", kTotalStyle, table.grand_total);
    }
    out += kTableClose;
  }
}

void add_trend(std::string& out, const Review& review) {
  const auto trend = trend_table(review);
  if (trend.rows.empty()) return;
  out += fmt::format("<h2 style=\"{}\">Trend: {} to {}</h2>", kH2Style, trend.weeks.front().str(),
                     trend.weeks.back().str());
  out += fmt::format("<p style=\"{}\">{}</p>", kPStyle,
                     small("Count at the latest evaluation in each week; a blank week had none."));
  for (std::size_t r = 0; r < trend.rows.size(); ++r) {
    const auto& total = trend.rows[r];
    if (!total.band.empty()) continue;
    out += fmt::format("<h3 style=\"{}\">{}</h3>", kH3Style, esc(total.title));
    int max = 0;
    for (const auto& count : total.counts) max = std::max(max, count.value_or(0));
    // The bar chart of the rule's total.
    out += table_open();
    for (std::size_t w = 0; w < trend.weeks.size(); ++w) {
      const auto& count = total.counts[w];
      const int percent = max > 0 && count ? std::max(*count > 0 ? 1 : 0, *count * 100 / max) : 0;
      out += fmt::format(
          "<tr><td style=\"padding:2px 6px;white-space:nowrap;width:1%;font-size:13px\">{}</td>"
          "<td style=\"padding:2px 0;width:80%\">{}</td>"
          "<td style=\"padding:2px 6px;text-align:right;width:1%;font-size:13px\">{}</td></tr>",
          trend.weeks[w].str(),
          percent > 0 ? fmt::format("<div style=\"background:#2f5d8a;height:14px;width:{}%\">"
                                    "</div>",
                                    percent)
                      : "",
          count ? std::to_string(*count) : "-");
    }
    out += kTableClose;
    // The bands week by week.
    out += table_open(";font-size:12px") + "<tr>" + th("Band");
    for (const auto& week : trend.weeks) out += th(fmt::format("W{:02}", week.week), true);
    out += "</tr>";
    for (std::size_t b = r + 1; b < trend.rows.size() && !trend.rows[b].band.empty(); ++b) {
      out += "<tr>" + td(trend.rows[b].band);
      for (const auto& count : trend.rows[b].counts) {
        out += td(count ? std::to_string(*count) : "-", true);
      }
      out += "</tr>";
    }
    out += kTableClose;
  }
}

void add_scorecards(std::string& out, const Review& review) {
  const auto cards = scorecards(review);
  if (cards.empty()) return;
  out += fmt::format("<h2 style=\"{}\">Scorecard: completed in timescale</h2>", kH2Style);
  for (const auto& card : cards) {
    out += fmt::format("<h3 style=\"{}\">{}</h3>", kH3Style, esc(card.title));
    out +=
        fmt::format("<p style=\"{}\">{}</p>", kPStyle,
                    esc(card.target_percent > 0
                            ? fmt::format("Target {:g}% in timescale; Amber down to {:g}%.",
                                          card.target_percent, card.target_percent - card.tolerance)
                            : std::string("No target set.")));
    out += table_open() + "<tr>" + th("Period") + th("Completed", true) + th("In timescale", true) +
           th("%", true) + th("RAG") + "</tr>";
    for (const auto& period : card.periods) {
      out += "<tr>" + td(period.label) + td(std::to_string(period.kpi.completed), true) +
             td(std::to_string(period.kpi.in_timescale), true) +
             td(detail::percent_text(period.kpi), true) + rag_cell(period.kpi.rag) + "</tr>";
    }
    out += kTableClose;
    out += fmt::format("<p style=\"{}\">In progress, out of timescale now: <b>{}</b></p>", kPStyle,
                       card.overdue_in_progress);
  }
}

void add_caseloads(std::string& out, const Review& review) {
  const auto teams = team_caseloads(review);
  if (teams.empty()) return;
  out += fmt::format("<h2 style=\"{}\">Caseloads</h2>", kH2Style);
  std::string current;
  bool open = false;
  for (const auto& team : teams) {
    if (!open || team.rule != current) {
      if (open) out += kTableClose;
      current = team.rule;
      open = true;
      out += fmt::format(
          "<h3 style=\"{}\">{}{}</h3>", kH3Style, esc(team.title),
          team.max_cases > 0 ? fmt::format(" (limit {} cases per worker)", team.max_cases) : "");
      out += table_open() + "<tr>" + th("Team") + th("Workers", true) + th("Cases", true) +
             th("Average", true) + th("Maximum", true) + th("Over limit", true) + "</tr>";
    }
    out += "<tr>" + td(detail::team_label(team.team)) + td(std::to_string(team.workers), true) +
           td(std::to_string(team.cases), true) + td(fmt::format("{:.1f}", team.average), true) +
           td(std::to_string(team.maximum), true) +
           td(team.max_cases > 0 ? std::to_string(team.workers_over) : "-", true) + "</tr>";
  }
  if (open) out += kTableClose;
}

}  // namespace

std::string render_html(const Review& review) {
  const std::string heading = fmt::format("{}: {}", review.title, review.week.str());
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += fmt::format("<title>{}</title>\n</head>\n<body style=\"{}\">\n", esc(heading), kBodyStyle);
  out += fmt::format("<h1 style=\"{}\">{}</h1>\n", kH1Style, esc(heading));
  out += fmt::format("<p style=\"{}\">{} to {}, as of <b>{}</b></p>\n", kPStyle,
                     long_date(review.week.monday()), long_date(review.week.sunday()),
                     long_date(review.today));
  if (review.late) {
    out += fmt::format(
        "<p style=\"{}\">Produced late: the service was down at the scheduled "
        "time.</p>\n",
        kBaselineStyle);
  }
  if (!review.team_filter.empty()) {
    out += fmt::format(
        "<p style=\"{}\">Teams: <b>{}</b> (band table, trend and scorecard are in "
        "the whole-service review)</p>\n",
        kPStyle, esc(review.team_filter));
  }
  out += fmt::format("<p style=\"{}\"><b>Summary:</b> {}</p>\n", kPStyle, esc(headline(review)));
  for (const auto& section : review.sections) {
    if (section.rule->review) {
      add_review_list(out, section);
      out += "\n";
    }
  }
  if (review.team_filter.empty()) {
    add_band_tables(out, review);
    out += "\n";
    add_trend(out, review);
    out += "\n";
    add_scorecards(out, review);
    out += "\n";
  }
  add_caseloads(out, review);
  out += "\n</body>\n</html>\n";
  return out;
}

}  // namespace report
