// The plain-text review: fits 100 columns, for the terminal, `--once` and plain-text email.
#include <fmt/format.h>

#include <algorithm>

#include "report/format_util.h"
#include "report/report.h"

namespace report {
namespace {

using detail::pad;
using detail::width;
using detail::wrap;

constexpr std::size_t kPageWidth = 100;
constexpr std::size_t kIndent = 2;
constexpr std::size_t kNoteIndent = 6;
constexpr std::size_t kNoteLines = 3;

struct Column {
  std::string header;
  std::size_t max = 10;  // the column never gets wider than this
  bool right = false;    // right-aligned (numbers)
  bool wrap = false;     // long cells wrap onto more lines instead of being cut
};

using Row = std::vector<std::string>;

// A table's layout. Each column is as wide as its widest cell or header word, up to its max;
// callers keep indent + sum(max) + separators within the page.
class Table {
 public:
  Table(std::vector<Column> columns, const std::vector<Row>& rows, std::size_t separator = 2)
      : columns_(std::move(columns)), separator_(separator) {
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      std::size_t w = 1;
      for (const auto& word : wrap(columns_[c].header, columns_[c].max)) {
        w = std::max(w, width(word));
      }
      for (const auto& row : rows) w = std::max(w, width(detail::clean(row[c])));
      widths_.push_back(std::min(w, columns_[c].max));
    }
  }

  // The header, bottom-aligned over a rule of dashes.
  void add_header(std::string& out) const {
    std::vector<std::vector<std::string>> cells;
    std::size_t height = 0;
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      cells.push_back(wrap(columns_[c].header, widths_[c]));
      height = std::max(height, cells.back().size());
    }
    for (auto& cell : cells) cell.insert(cell.begin(), height - cell.size(), "");
    emit(out, cells);
    std::string dashes(kIndent, ' ');
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      if (c > 0) dashes += std::string(separator_, ' ');
      dashes += std::string(widths_[c], '-');
    }
    out += dashes + "\n";
  }

  void add_row(std::string& out, const Row& row) const {
    std::vector<std::vector<std::string>> cells;
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      if (columns_[c].wrap) {
        cells.push_back(wrap(row[c], widths_[c]));
      } else {
        cells.push_back({detail::truncate(detail::clean(row[c]), widths_[c])});
      }
    }
    emit(out, cells);
  }

  void add_all(std::string& out, const std::vector<Row>& rows) const {
    add_header(out);
    for (const auto& row : rows) add_row(out, row);
  }

 private:
  void emit(std::string& out, const std::vector<std::vector<std::string>>& cells) const {
    std::size_t height = 1;
    for (const auto& cell : cells) height = std::max(height, cell.size());
    for (std::size_t line = 0; line < height; ++line) {
      std::string text(kIndent, ' ');
      for (std::size_t c = 0; c < cells.size(); ++c) {
        if (c > 0) text += std::string(separator_, ' ');
        const std::string value = line < cells[c].size() ? cells[c][line] : "";
        text += pad(value, widths_[c], columns_[c].right);
      }
      while (!text.empty() && text.back() == ' ') text.pop_back();
      out += text + "\n";
    }
  }

  std::vector<Column> columns_;
  std::size_t separator_;
  std::vector<std::size_t> widths_;
};

void add_table(std::string& out, std::vector<Column> columns, const std::vector<Row>& rows,
               std::size_t separator = 2) {
  Table(std::move(columns), rows, separator).add_all(out, rows);
}

// A heading underlined with `mark`.
void add_heading(std::string& out, std::string_view text, char mark) {
  std::size_t longest = 0;
  for (const auto& line : wrap(text, kPageWidth)) {
    out += line + "\n";
    longest = std::max(longest, width(line));
  }
  out += std::string(longest, mark) + "\n";
}

// A wrapped paragraph with an indent; at most `max_lines` lines (0 = no limit), cut with "...".
void add_paragraph(std::string& out, std::string_view text, std::size_t indent = 0,
                   std::size_t max_lines = 0) {
  auto lines = wrap(text, kPageWidth - indent);
  if (max_lines > 0 && lines.size() > max_lines) {
    lines.resize(max_lines);
    std::string& last = lines.back();
    while (width(last) + 4 > kPageWidth - indent) {
      const auto space = last.rfind(' ');
      if (space == std::string::npos) break;
      last.erase(space);
    }
    // A single over-long word is cut, ending with "...".
    last = detail::truncate(last + " ...", kPageWidth - indent);
  }
  for (const auto& line : lines) out += std::string(indent, ' ') + line + "\n";
}

std::string item_status(const rules::TrackedFinding& item) {
  std::string status = detail::status_text(item);
  if (item.silenced) status += ", silenced";
  return status;
}

std::string date_or_dash(const std::optional<rules::Date>& date) {
  return date ? long_date(*date) : "-";
}

std::string note_line(const rules::Note& note) {
  return fmt::format("Note ({}, {}): {}", detail::clean(note.author), detail::note_date(note),
                     note.text);
}

struct Footnotes {
  bool since_at_least = false;
  bool assumed_interval = false;
};

// The column layout and cells of review-list items, by rule kind.
std::vector<Column> item_columns(const rules::Rule& rule) {
  if (rule.kind == rules::RuleKind::kUnallocated) {
    return {{"Case", 12, false, true},   {"Person", 10, false, true},
            {"Worker", 14, false, true}, {"Since", 12},
            {"Days", 4, true},           {"Band", 13, false, true},
            {"Status", 17, false, true}};
  }
  if (detail::has_due_dates(rule)) {
    std::vector<Column> columns = {{"Case", 11, false, true},
                                   {"Person", 9, false, true},
                                   {"Worker", 11, false, true},
                                   {"Start", 11},
                                   {"Due", 12},
                                   {"Days over", 8, true},
                                   {"Status", 18, false, true}};
    if (rule.limit.unit == rules::Unit::kWorkingDays) {
      columns.insert(columns.begin() + 5, Column{"Work days", 4, true});
    } else {
      columns[2].max = 17;
    }
    return columns;
  }
  return {{"Case", 14, false, true}, {"Person", 12, false, true}, {"Worker", 20, false, true},
          {"Cases", 6, true},        {"Band", 14, false, true},   {"Status", 18, false, true}};
}

Row item_row(const rules::Rule& rule, const rules::TrackedFinding& item, Footnotes& notes) {
  const auto& f = item.finding;
  if (rule.kind == rules::RuleKind::kUnallocated) {
    std::string since = date_or_dash(f.since);
    if (f.since_at_least) {
      since += "*";
      notes.since_at_least = true;
    }
    return {
        f.key,  f.person,         f.worker.empty() ? "-" : f.worker, since, std::to_string(f.days),
        f.band, item_status(item)};
  }
  if (detail::has_due_dates(rule)) {
    std::string due = date_or_dash(f.due);
    if (f.assumed_interval) {
      due += "*";
      notes.assumed_interval = true;
    }
    const std::string over =
        f.state == rules::State::kDueSoon ? "due soon" : std::to_string(f.days);
    Row row = {f.key, f.person, f.worker, date_or_dash(f.start), due, over, item_status(item)};
    if (rule.limit.unit == rules::Unit::kWorkingDays) {
      row.insert(row.begin() + 5, std::to_string(f.working_days));
    }
    return row;
  }
  return {f.key, f.person, f.worker, std::to_string(f.cases), f.band, item_status(item)};
}

void add_review_list(std::string& out, const RuleSection& section) {
  const rules::Rule& rule = *section.rule;
  add_heading(out, rule.title.empty() ? rule.id : rule.title, '-');
  out += fmt::format("Rule {}, evaluated as of {}.\n", detail::clean(rule.id),
                     long_date(section.as_of));
  if (section.baseline) {
    add_paragraph(out, detail::kBaselineText);
  } else if (section.previous_review) {
    out += fmt::format("Compared with the review of {}.\n", long_date(*section.previous_review));
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
    std::vector<Row> all_rows;
    Footnotes scratch;
    for (const auto& group : groups) {
      for (const auto* item : group.items) all_rows.push_back(item_row(rule, *item, scratch));
    }
    const Table table(item_columns(rule), all_rows);
    Footnotes notes;
    for (const auto& group : groups) {
      out += fmt::format("\nTeam: {} ({})\n", detail::clean(detail::team_label(group.team)),
                         group.items.size());
      table.add_header(out);
      for (const auto* item : group.items) {
        table.add_row(out, item_row(rule, *item, notes));
        if (item->latest_note) {
          add_paragraph(out, note_line(*item->latest_note), kNoteIndent, kNoteLines);
        }
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
                    "* due date assumes the last interval of the schedule: the extract holds only "
                    "the latest event.");
    }
  }

  if (!section.baseline || !section.resolved.empty()) {
    out += fmt::format("\nRESOLVED since last review ({})\n", section.resolved.size());
    if (section.resolved.empty()) {
      out += "None.\n";
    } else {
      std::vector<Row> rows;
      for (const auto& item : section.resolved) {
        rows.push_back({item.last.key, item.last.person, detail::team_label(item.last.team),
                        item.last.worker, long_date(item.first_seen),
                        detail::resolution_text(item, rule)});
      }
      add_table(out,
                {{"Case", 12, false, true},
                 {"Person", 10, false, true},
                 {"Team", 14, false, true},
                 {"Worker", 13, false, true},
                 {"On list since", 11, false, true},
                 {"Why it left the list", 28, false, true}},
                rows);
    }
  }

  if (!problems.empty()) {
    out += fmt::format("\nData cleansing: dates that cannot be trusted ({})\n", problems.size());
    std::vector<Row> rows;
    for (const auto* item : problems) {
      const auto& f = item->finding;
      std::string problem = !f.detail.empty() ? f.detail
                            : !f.band.empty() ? f.band
                                              : std::string(rules::to_string(f.state));
      rows.push_back(
          {f.key, f.person, detail::team_label(f.team), f.worker, problem, item_status(*item)});
    }
    add_table(out,
              {{"Case", 12, false, true},
               {"Person", 10, false, true},
               {"Team", 13, false, true},
               {"Worker", 13, false, true},
               {"Problem", 26, false, true},
               {"Status", 12, false, true}},
              rows);
  }
  out += "\n";
}

void add_band_tables(std::string& out, const Review& review) {
  const auto tables = band_tables(review);
  if (tables.empty()) return;
  add_heading(out, "Band table", '=');
  // Printed with bands as rows and rules as columns, so that long band labels fit the page.
  constexpr std::size_t kRulesPerTable = 4;
  for (const auto& table : tables) {
    for (std::size_t first = 0; first < table.rows.size(); first += kRulesPerTable) {
      const std::size_t last = std::min(table.rows.size(), first + kRulesPerTable);
      std::vector<Column> columns = {{"Band", 30, false, true}};
      for (std::size_t r = first; r < last; ++r) {
        columns.push_back({table.rows[r].title, 13, true, true});
      }
      std::vector<Row> rows;
      for (std::size_t b = 0; b < table.bands.size(); ++b) {
        Row row = {table.bands[b]};
        for (std::size_t r = first; r < last; ++r) {
          row.push_back(std::to_string(table.rows[r].counts[b]));
        }
        rows.push_back(std::move(row));
      }
      Row total = {"Grand total"};
      for (std::size_t r = first; r < last; ++r) {
        total.push_back(std::to_string(table.rows[r].total));
      }
      rows.push_back(std::move(total));
      out += "\n";
      add_table(out, columns, rows);
    }
  }
  out += "\n";
}

void add_trend(std::string& out, const Review& review) {
  const auto trend = trend_table(review);
  if (trend.rows.empty()) return;
  add_heading(out,
              fmt::format("Trend: {} to {} (latest evaluation in each week)",
                          trend.weeks.front().str(), trend.weeks.back().str()),
              '=');
  std::vector<Column> columns = {{"", 24, false, true}};
  for (const auto& week : trend.weeks)
    columns.push_back({fmt::format("W{:02}", week.week), 5, true});
  std::string current;
  std::vector<Row> rows;
  const auto flush = [&] {
    if (rows.empty()) return;
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
    Row cells = {row.band.empty() ? "All" : row.band};
    for (const auto& count : row.counts) cells.push_back(count ? std::to_string(*count) : "-");
    rows.push_back(std::move(cells));
  }
  flush();
  out += "\n";
}

void add_scorecards(std::string& out, const Review& review) {
  const auto cards = scorecards(review);
  if (cards.empty()) return;
  add_heading(out, "Scorecard: completed in timescale", '=');
  for (const auto& card : cards) {
    out += "\n" + detail::clean(card.title) + "\n";
    if (card.target_percent > 0) {
      out += fmt::format("Target {:g}% in timescale; Amber down to {:g}%.\n", card.target_percent,
                         card.target_percent - card.tolerance);
    } else {
      out += "No target set.\n";
    }
    std::vector<Row> rows;
    for (const auto& period : card.periods) {
      rows.push_back({period.label, std::to_string(period.kpi.completed),
                      std::to_string(period.kpi.in_timescale), detail::percent_text(period.kpi),
                      detail::rag_text(period.kpi.rag)});
    }
    add_table(out,
              {{"Period", 34, false, true},
               {"Completed", 9, true},
               {"In timescale", 9, true},
               {"%", 6, true},
               {"RAG", 5}},
              rows);
    out += fmt::format("In progress, out of timescale now: {}\n", card.overdue_in_progress);
  }
  out += "\n";
}

void add_caseloads(std::string& out, const Review& review) {
  const auto teams = team_caseloads(review);
  if (teams.empty()) return;
  add_heading(out, "Caseloads", '=');
  std::string current_rule;
  std::string current_title;
  std::vector<Row> rows;
  int max_cases = 0;
  const auto flush = [&] {
    if (rows.empty()) return;
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

}  // namespace

std::string render_text(const Review& review) {
  std::string out;
  add_heading(out,
              fmt::format("{}: {} ({} to {}), as of {}", detail::clean(review.title),
                          review.week.str(), long_date(review.week.monday()),
                          long_date(review.week.sunday()), long_date(review.today)),
              '=');
  if (review.late) out += "Produced late: the service was down at the scheduled time.\n";
  if (!review.team_filter.empty()) {
    add_paragraph(out, fmt::format("Teams: {} (band table, trend and scorecard are in the "
                                   "whole-service review)",
                                   review.team_filter));
  }
  add_paragraph(out, "Summary: " + headline(review));
  out += "\n";
  for (const auto& section : review.sections) {
    if (section.rule->review) add_review_list(out, section);
  }
  if (review.team_filter.empty()) {
    add_band_tables(out, review);
    add_trend(out, review);
    add_scorecards(out, review);
  }
  add_caseloads(out, review);
  while (out.ends_with("\n\n")) out.pop_back();
  return out;
}

}  // namespace report
