// The plain-text review: fits 100 columns, for the terminal, `--once` and plain-text email.
// Summary first (banners, one line per rule, team tables, band table), then trend and
// scorecard, then the lists, then caseloads.
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "report/format_util.h"
#include "report/report.h"
#include "report/text_table.h"

namespace report {
namespace {

using namespace text;  // NOLINT(google-build-using-namespace): this file's own helpers

const rules::Rule* rule_by_id(const Review& review, std::string_view id) {
  for (const auto& section : review.sections) {
    if (section.rule->id == id) {
      return section.rule;
    }
  }
  return nullptr;
}

// The worker, with "(ended 5 Mar 2026)" held together by no-break spaces so that a narrow
// column wraps before it, never inside it.
std::string worker_cell(const rules::Finding& finding, const rules::Rule& rule) {
  std::string text = detail::worker_text(finding, rule);
  const auto ended = text.rfind(" (ended ");
  if (ended == std::string::npos) {
    return text;
  }
  std::string tail;
  for (const char c : text.substr(ended + 1)) {
    tail += c == ' ' ? std::string("\xC2\xA0") : std::string(1, c);
  }
  return text.substr(0, ended + 1) + tail;
}

std::string item_status(const rules::TrackedFinding& item) {
  std::string status = detail::status_text(item);
  if (item.silenced) {
    status += ", silenced";
  }
  return status;
}

std::string date_or_dash(const std::optional<rules::Date>& date) {
  return date ? long_date(*date) : "-";
}

// "Note (jsmith, 18 Nov 2026): text", with "(+N earlier)" when the trail holds more.
std::string note_line(const rules::Note& note, int earlier, const Output& output) {
  const std::string more = earlier > 0 ? fmt::format(" (+{} earlier)", earlier) : "";
  if (!output.allows("note_author")) {
    return fmt::format("Note ({}){}: {}", detail::note_date(note), more, note.text);
  }
  return fmt::format("Note ({}, {}){}: {}", detail::clean(note.author), detail::note_date(note),
                     more, note.text);
}

struct Footnotes {
  bool since_at_least = false;
  bool assumed_interval = false;
};

// The widest band label among the items, so that a band never wraps mid-phrase.
std::size_t band_width(const std::vector<rules::TrackedFinding>& open) {
  std::size_t w = 4;
  for (const auto& item : open) {
    w = std::max(w, width(item.finding.band));
  }
  return std::min<std::size_t>(w, 24);
}

constexpr std::size_t kWorkerMax = 26;
constexpr std::size_t kWorkerMin = 12;

// The columns of review-list items, by rule kind; the same order as the HTML list.
std::vector<Column> item_columns(const RuleSection& section, const Output& output) {
  const rules::Rule& rule = *section.rule;
  std::vector<Column> columns = {{"Case", 12, false, true}};
  if (output.allows("person")) {
    columns.push_back({"Person", 10, false, true});
  }
  if (output.allows("worker")) {
    columns.push_back({"Worker", kWorkerMax, false, true});
  }
  if (rule.kind == rules::RuleKind::kUnallocated) {
    columns.push_back({"Since", 12});
    columns.push_back({"Days", 4, true});
    columns.push_back({"Band", band_width(section.open)});
  } else if (detail::has_due_dates(rule)) {
    columns.push_back({"Start", 11});
    if (rule.limit.unit == rules::Unit::kWorkingDays) {
      columns.push_back({"Work days", 4, true});
    }
    columns.push_back({"Due", 12});
    columns.push_back({"Days over", 8, true});
  } else {
    columns.push_back({"Cases", 6, true});
    columns.push_back({"Band", band_width(section.open)});
  }
  columns.push_back({"Status", 17, false, true});
  return columns;
}

Row item_row(const RuleSection& section, const rules::TrackedFinding& item, const Output& output,
             Footnotes& notes) {
  const rules::Rule& rule = *section.rule;
  const auto& f = item.finding;
  Row row = {output.allows("key") ? f.key : "-"};
  if (output.allows("person")) {
    row.push_back(f.person);
  }
  if (output.allows("worker")) {
    row.push_back(worker_cell(f, rule));
  }
  if (rule.kind == rules::RuleKind::kUnallocated) {
    std::string since = date_or_dash(f.since);
    if (f.since_at_least) {
      since += "*";
      notes.since_at_least = true;
    }
    row.insert(row.end(), {since, std::to_string(f.days), f.band});
  } else if (detail::has_due_dates(rule)) {
    std::string due = date_or_dash(f.due);
    if (f.assumed_interval) {
      due += "*";
      notes.assumed_interval = true;
    }
    row.push_back(date_or_dash(f.start));
    if (rule.limit.unit == rules::Unit::kWorkingDays) {
      row.push_back(std::to_string(f.working_days));
    }
    row.push_back(due);
    row.push_back(f.state == rules::State::kDueSoon ? "due soon" : std::to_string(f.days));
  } else {
    row.insert(row.end(), {std::to_string(f.cases), f.band});
  }
  row.push_back(item_status(item));
  return row;
}

void add_review_list(std::string& out, const RuleSection& section, const Output& output) {
  const rules::Rule& rule = *section.rule;
  add_heading(out, rule.title.empty() ? rule.id : rule.title, '-');
  if (!section.no_data.empty()) {
    add_paragraph(out, fmt::format("NO DATA: {}. The list cannot be produced; this is not a list "
                                   "with no cases.",
                                   section.no_data));
    out += "\n";
    return;
  }
  out += fmt::format("Rule {}, evaluated as of {}.\n", detail::clean(rule.id),
                     long_date(section.as_of));
  add_paragraph(out, detail::comparison_text(section));
  if (section.rule_changed_on) {
    add_paragraph(out, detail::rule_change_text(section));
  }
  const auto groups = detail::group_by_team(section.open);
  const auto problems = detail::data_problems(section.open);
  const auto [listed, fresh, silenced] = detail::count_list(groups);
  out += "\n";
  if (listed == 0) {
    out += detail::nothing_this_week(rule) + "\n";
  } else {
    out += fmt::format("On the list: {} ({} new, {} carried{}).\n", listed, fresh, listed - fresh,
                       silenced > 0 ? fmt::format(", {} silenced", silenced) : "");
    std::vector<detail::Kept> kept;
    std::vector<Row> all_rows;  // every kept item's row, in the order they are written
    Footnotes notes;
    for (const auto& group : groups) {
      kept.push_back(detail::keep_items(group.items, output.body_items, section.previous_review));
      for (const auto* item : kept.back().items) {
        all_rows.push_back(item_row(section, *item, output, notes));
      }
    }
    // The worker column takes what the others leave of the page.
    auto columns = item_columns(section, output);
    const Table wide(columns, all_rows);
    if (wide.total_width() > kPageWidth && output.allows("worker")) {
      columns[output.allows("person") ? 2 : 1].max =
          std::max(kWorkerMin, kWorkerMax - (wide.total_width() - kPageWidth));
    }
    const Table table(columns, all_rows);
    std::size_t next_row = 0;
    for (std::size_t g = 0; g < groups.size(); ++g) {
      out += fmt::format("\nTeam: {} ({})\n", detail::clean(detail::team_label(groups[g].team)),
                         groups[g].items.size());
      table.add_header(out);
      for (const auto* item : kept[g].items) {
        table.add_row(out, all_rows[next_row++]);
        if (item->latest_note && output.allows("note")) {
          add_paragraph(out, note_line(*item->latest_note, item->earlier_notes, output),
                        kNoteIndent, kNoteLines);
        }
      }
      if (kept[g].cut > 0) {
        out += "  " + detail::more_text(kept[g].cut, output.more_in) + "\n";
      }
    }
    if (notes.since_at_least) {
      out += "\n";
      add_paragraph(out,
                    "* since at least this date: the extract has no dates for this case, so this "
                    "is the first extract that showed it unallocated.");
    }
    if (notes.assumed_interval) {
      out += "\n";
      add_paragraph(out,
                    "* due date inferred: the extract holds only the latest event, so an event "
                    "soon enough after the start is taken as the first, and any later one as a "
                    "later event (the schedule's last interval).");
    }
  }

  if (!section.baseline || !section.resolved.empty()) {
    out += fmt::format("\nRESOLVED since last review ({})\n", section.resolved.size());
    if (section.resolved.empty()) {
      out += "None.\n";
    } else {
      std::size_t cut = 0;
      const auto items = detail::cap_per_team(
          detail::resolved_in_order(section.resolved), output.body_items,
          [](const rules::ResolvedFinding* r) { return r->last.team; }, cut);
      std::vector<Column> columns = {{"Case", 12, false, true}};
      if (output.allows("person")) {
        columns.push_back({"Person", 10, false, true});
      }
      columns.push_back({"Team", 14, false, true});
      if (output.allows("worker")) {
        columns.push_back({"Worker", 13, false, true});
      }
      columns.push_back({"On list since", 11, false, true});
      columns.push_back({"Why it left the list", 28, false, true});
      std::vector<Row> rows;
      for (const auto* item : items) {
        Row row = {output.allows("key") ? item->last.key : "-"};
        if (output.allows("person")) {
          row.push_back(item->last.person);
        }
        row.push_back(detail::team_label(item->last.team));
        if (output.allows("worker")) {
          row.push_back(detail::worker_text(item->last, rule));
        }
        row.push_back(long_date(item->first_seen));
        row.push_back(detail::resolution_text(*item, rule, false, output.allows("worker")));
        rows.push_back(std::move(row));
      }
      add_table(out, columns, rows);
      if (cut > 0) {
        out += "  " + detail::more_text(cut, output.more_in) + "\n";
      }
      // The last note of each, the end of its trail.
      for (const auto* item : items) {
        if (!item->last_note || !output.allows("note")) {
          continue;
        }
        add_paragraph(out,
                      (output.allows("key") ? item->last.key + ": " : std::string()) +
                          note_line(*item->last_note, 0, output),
                      kNoteIndent, kNoteLines);
      }
    }
  }

  if (!problems.empty()) {
    out += fmt::format("\nData cleansing: dates that cannot be trusted ({})\n", problems.size());
    std::size_t cut = 0;
    const auto items = detail::cap_per_team(
        problems, output.body_items,
        [](const rules::TrackedFinding* item) { return item->finding.team; }, cut);
    std::vector<Column> columns = {{"Case", 12, false, true}};
    if (output.allows("person")) {
      columns.push_back({"Person", 10, false, true});
    }
    columns.push_back({"Team", 13, false, true});
    if (output.allows("worker")) {
      columns.push_back({"Worker", 13, false, true});
    }
    columns.push_back({"Problem", 26, false, true});
    columns.push_back({"Status", 12, false, true});
    std::vector<Row> rows;
    for (const auto* item : items) {
      const auto& f = item->finding;
      Row row = {output.allows("key") ? f.key : "-"};
      if (output.allows("person")) {
        row.push_back(f.person);
      }
      row.push_back(detail::team_label(f.team));
      if (output.allows("worker")) {
        row.push_back(detail::worker_text(f, rule));
      }
      row.push_back(detail::problem_text(f));
      row.push_back(item_status(*item));
      rows.push_back(std::move(row));
    }
    add_table(out, columns, rows);
    if (cut > 0) {
      out += "  " + detail::more_text(cut, output.more_in) + "\n";
    }
  }
  out += "\n";
}

void add_summary(std::string& out, const Review& review) {
  add_heading(out, "Summary", '-');
  bool any = false;
  for (const auto& section : review.sections) {
    if (!section.rule->review) {
      continue;
    }
    any = true;
    const auto lines = wrap(summary_line(section), kPageWidth - 4);
    for (std::size_t i = 0; i < lines.size(); ++i) {
      out += (i == 0 ? "- " : "  ") + lines[i] + "\n";
    }
  }
  if (!any) {
    out += "No review lists.\n";
  }
  out += "\n";
}

void add_team_tables(std::string& out, const Review& review) {
  for (const auto& table : team_tables(review)) {
    const rules::Rule* rule = rule_by_id(review, table.rule);
    const bool unallocated = rule != nullptr && rule->kind == rules::RuleKind::kUnallocated;
    add_heading(out,
                fmt::format("{}: {} by team", detail::clean(table.title),
                            unallocated ? "all unallocated open cases" : "on the list"),
                '-');
    if (table.rows.empty()) {
      out += "None.\n\n";
      continue;
    }
    std::vector<Column> columns = {{"Team", 26, false, true}};
    for (const auto& band : table.bands) {
      columns.push_back({detail::short_band(band), 9, true});
    }
    columns.push_back({"Total", 6, true});
    std::vector<Row> rows;
    for (const auto& row : table.rows) {
      Row cells = {detail::team_label(row.team)};
      for (const int count : row.counts) {
        cells.push_back(std::to_string(count));
      }
      cells.push_back(std::to_string(row.total));
      rows.push_back(std::move(cells));
    }
    Row total = {"All teams"};
    for (const int count : table.band_totals) {
      total.push_back(std::to_string(count));
    }
    total.push_back(std::to_string(table.grand_total));
    rows.push_back(std::move(total));
    add_table(out, columns, rows);
    out += "\n";
  }
}

void add_band_tables(std::string& out, const Review& review) {
  const auto tables = band_tables(review);
  if (tables.empty()) {
    return;
  }
  add_heading(out, std::string(kAllUnallocatedLabel), '=');
  // Printed with bands as rows and rules as columns, so that long band labels fit the page.
  constexpr std::size_t kRulesPerTable = 4;
  for (const auto& table : tables) {
    for (std::size_t first = 0; first < table.rows.size(); first += kRulesPerTable) {
      const std::size_t last = std::min(table.rows.size(), first + kRulesPerTable);
      std::vector<Column> columns = {{"Band", 42, false, true}};
      // A column counts every unallocated case of its rule, under the rule's threshold too: a
      // lone rule's column is "Cases", not the rule's title ("... over 4 weeks").
      for (std::size_t r = first; r < last; ++r) {
        columns.push_back({table.rows.size() == 1 ? "Cases" : table.rows[r].title, 13, true, true});
      }
      std::vector<Row> rows;
      for (std::size_t b = 0; b < table.bands.size(); ++b) {
        Row row = {table.bands[b]};
        for (std::size_t r = first; r < last; ++r) {
          row.push_back(std::to_string(table.rows[r].counts[b]));
        }
        rows.push_back(std::move(row));
      }
      Row total = {std::string(kAllUnallocatedLabel)};
      const rules::Rule* first_rule = rule_by_id(review, table.rows[first].rule);
      Row listed = {first_rule != nullptr ? listed_label(*first_rule) : "Listed"};
      for (std::size_t r = first; r < last; ++r) {
        total.push_back(std::to_string(table.rows[r].total));
        listed.push_back(std::to_string(table.rows[r].listed));
      }
      rows.push_back(std::move(total));
      rows.push_back(std::move(listed));
      out += "\n";
      add_table(out, columns, rows);
    }
  }
  out += "\n";
}

void add_trend(std::string& out, const Review& review, const Output& output) {
  const auto trend = trend_table(review);
  if (trend.rows.empty()) {
    return;
  }
  if (output.email) {
    // The week-by-week table is wider than a phone: the totals only, newest first.
    add_heading(out, "Trend: at the latest evaluation in each week", '=');
    for (const auto& row : trend.rows) {
      if (!row.band.empty()) {
        continue;
      }
      out += "\n" + detail::clean(row.title) + "\n";
      std::vector<Row> rows;
      for (std::size_t w = trend.weeks.size(); w-- > 0;) {
        const auto& count = row.counts[w];
        if (count) {
          rows.push_back({trend.weeks[w].str(), std::to_string(*count)});
        }
      }
      const rules::Rule* rule = rule_by_id(review, row.rule);
      add_table(out, {{"Week", 8}, {rule != nullptr ? trend_total_label(*rule) : "All", 15, true}},
                rows);
    }
    out += "\n";
    return;
  }
  add_heading(out,
              fmt::format("Trend: {} to {} (latest evaluation in each week)",
                          trend.weeks.front().str(), trend.weeks.back().str()),
              '=');
  std::vector<Column> columns = {{"", 24, false, true}};
  for (const auto& week : trend.weeks) {
    columns.push_back({fmt::format("W{:02}", week.week), 5, true});
  }
  std::string current;
  std::vector<Row> rows;
  const auto flush = [&] {
    if (rows.empty()) {
      return;
    }
    columns[0].header = current;
    out += "\n";
    add_table(out, columns, rows, 1);
    rows.clear();
  };
  for (const auto& row : trend.rows) {
    if (row.band.empty()) {
      flush();
      current = row.title;
    }
    const rules::Rule* rule = row.band.empty() ? rule_by_id(review, row.rule) : nullptr;
    Row cells = {!row.band.empty() ? row.band : rule != nullptr ? trend_total_label(*rule) : "All"};
    for (const auto& count : row.counts) {
      cells.push_back(count ? std::to_string(*count) : "-");
    }
    rows.push_back(std::move(cells));
  }
  flush();
  out += "\n";
}

void add_scorecards(std::string& out, const Review& review) {
  const auto cards = scorecards(review);
  if (cards.empty()) {
    return;
  }
  add_heading(out, "Scorecard: completed in timescale", '=');
  for (const auto& card : cards) {
    out += "\n" + detail::clean(card.title) + "\n";
    const char* measure = card.recurring ? "held on time" : "in timescale";
    if (card.target_percent > 0) {
      out += fmt::format("Target {:g}% {}; Amber down to {:g}%.\n", card.target_percent, measure,
                         card.target_percent - card.tolerance);
    } else {
      out += "No target set.\n";
    }
    if (card.latest_only) {
      out += detail::kLatestOnlyNote + std::string("\n");
    }
    std::vector<Row> rows;
    for (const auto& period : card.periods) {
      rows.push_back({period.label, std::to_string(period.kpi.completed),
                      card.latest_only ? "-" : std::to_string(period.kpi.in_timescale),
                      detail::percent_text(period.kpi), detail::rag_text(period.kpi.rag)});
    }
    add_table(out,
              {{"Period", 34, false, true},
               {card.recurring ? "Held" : "Completed", 9, true},
               {card.recurring ? "On time" : "In timescale", 9, true},
               {"%", 6, true},
               {"RAG", 5}},
              rows);
    if (card.recurring && !card.latest_only) {
      out += fmt::format("Held late this week: {}\n", card.held_late_this_week);
    }
    out += fmt::format("{}: {}\n",
                       card.recurring ? "Overdue now" : "In progress, out of timescale now",
                       card.overdue_in_progress);
  }
  out += "\n";
}

void add_caseloads(std::string& out, const Review& review) {
  const auto teams = team_caseloads(review);
  if (teams.empty()) {
    return;
  }
  add_heading(out, "Caseloads", '=');
  std::string current_rule;
  std::string current_title;
  std::vector<Row> rows;
  int max_cases = 0;
  const auto flush = [&] {
    if (rows.empty()) {
      return;
    }
    out += "\n" + detail::clean(current_title);
    out += max_cases > 0 ? fmt::format(" (limit {} cases per worker)\n", max_cases) : "\n";
    add_table(out,
              {{"Team", 36, false, true},
               {"Workers", 7, true},
               {"Cases", 6, true},
               {"Average", 7, true},
               {"Maximum", 7, true},
               {"Over limit", 7, true}},
              rows);
    rows.clear();
  };
  for (const auto& team : teams) {
    if (rows.empty() || team.rule != current_rule) {
      flush();
      current_rule = team.rule;
      current_title = team.title;
      max_cases = team.max_cases;
    }
    rows.push_back({detail::team_label(team.team), std::to_string(team.workers),
                    std::to_string(team.cases), fmt::format("{:.1f}", team.average),
                    std::to_string(team.maximum),
                    team.max_cases > 0 ? std::to_string(team.workers_over) : "-"});
  }
  flush();
  out += "\n";
}

void add_data_quality(std::string& out, const Review& review, const Output& output) {
  if (review.person_changes.empty()) {
    return;
  }
  add_heading(out, detail::person_changes_heading(review), '-');
  add_paragraph(out, detail::person_changes_text(review, output));
  if (output.allows("key")) {
    std::vector<Row> rows;
    for (const auto& change : review.person_changes) {
      rows.push_back({change.source, change.key, long_date(change.as_of)});
    }
    add_table(out, {{"Source", 16, false, true}, {"Key", 24, false, true}, {"Extract as of", 13}},
              rows);
  }
  out += "\n";
}

}  // namespace

std::string render_text(const Review& review, const Output& output) {
  std::string out;
  add_heading(out,
              fmt::format("{}: {} ({} to {}), as of {}", detail::clean(review.title),
                          review.week.str(), long_date(review.week.monday()),
                          long_date(review.week.sunday()), long_date(review.today)),
              '=');
  for (const auto& stale : review.stale) {
    add_paragraph(out, "DATA OUT OF DATE: " + stale);
  }
  if (review.late) {
    out += "Produced late: the service was down at the scheduled time.\n";
  }
  if (!review.team_filter.empty()) {
    add_paragraph(out,
                  fmt::format("{}teams {} (the whole-service band table, trend and scorecard are "
                              "in the review for the whole service)",
                              review.route.empty() ? "" : "Route " + review.route + ": ",
                              review.team_filter));
  }
  out += "\n";
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
  while (out.ends_with("\n\n")) {
    out.pop_back();
  }
  return out;
}

}  // namespace report
