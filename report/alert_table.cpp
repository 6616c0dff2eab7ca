// The table of an alert digest: the cases an alert names, through the route's allowed fields.
#include <algorithm>

#include "report/format_util.h"
#include "report/report.h"
#include "report/text_table.h"

namespace report {

const std::vector<std::string>& alert_table_fields() {
  static const std::vector<std::string> kFields = {"key",    "person",       "team",
                                                   "worker", "since",        "days_unallocated",
                                                   "due",    "days_overdue", "weeks_on_list"};
  return kFields;
}

std::string render_alert_table(const std::vector<AlertRow>& rows,
                               const std::vector<std::string>& fields) {
  if (rows.empty()) {
    return {};
  }
  std::vector<std::string> names;
  std::vector<text::Row> cells(rows.size());
  // Marked as in the review lists: a "since" that is the first extract showing the case, a due
  // date inferred from a latest-event column.
  bool since_at_least = false;
  bool due_inferred = false;
  for (const auto& field : alert_table_fields()) {
    if (std::find(fields.begin(), fields.end(), field) == fields.end()) {
      continue;
    }
    std::vector<std::string> column;
    for (const auto& row : rows) {
      std::string value = detail::field_value(*row.rule, row.item, field);
      const rules::Finding& f = row.item.finding;
      if (!value.empty() && field == "since" && f.since_at_least) {
        value += "*";
        since_at_least = true;
      } else if (!value.empty() && field == "due" && f.assumed_interval) {
        value += "*";
        due_inferred = true;
      }
      column.push_back(std::move(value));
    }
    if (std::all_of(column.begin(), column.end(), [](const auto& v) { return v.empty(); })) {
      continue;
    }
    names.push_back(field);
    for (std::size_t r = 0; r < rows.size(); ++r) {
      cells[r].push_back(std::move(column[r]));
    }
  }
  if (names.empty()) {
    return {};
  }
  std::vector<text::Column> columns;
  for (const auto& name : names) {
    const bool number = name.starts_with("days") || name == "weeks_on_list";
    columns.push_back({name, name == "worker" || name == "team" ? 24u : 16u, number});
  }
  std::string out;
  text::add_table(out, std::move(columns), cells);
  if (since_at_least) {
    out += "  * since at least this date: the first extract that showed the case unallocated.\n";
  }
  if (due_inferred) {
    out += "  * due date inferred: the extract holds only the latest event.\n";
  }
  return out;
}

}  // namespace report
