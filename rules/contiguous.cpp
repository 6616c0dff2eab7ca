// Records that follow on joined into periods (Rule::join_contiguous): SSDA903 episodes into
// periods of care, so that a placement change does not restart a looked-after child's reviews.
#include <algorithm>
#include <string>
#include <unordered_map>

#include "rules/evaluate_internal.h"

namespace rules::internal {

RecordView join_contiguous(const Source& source, const RecordView& records, int person, int start,
                           int end) {
  const std::size_t n = records.size();
  // Per person, the rows that have a start date.
  std::unordered_map<std::string_view, std::vector<std::size_t>> by_person;
  for (std::size_t i = 0; i < n; ++i) {
    const std::string_view who = trim(records.text(i, person));
    if (!who.empty() && records.date(i, start).is_date()) {
      by_person[who].push_back(i);
    }
  }
  // first_of[i]: the first row of i's period; last_of[i] for a first row: its last.
  std::vector<std::size_t> first_of(n);
  std::vector<std::size_t> last_of(n);
  for (std::size_t i = 0; i < n; ++i) {
    first_of[i] = last_of[i] = i;
  }
  for (auto& [who, rows] : by_person) {
    std::sort(rows.begin(), rows.end(), [&](std::size_t a, std::size_t b) {
      const Date da = records.date(a, start).date;
      const Date db = records.date(b, start).date;
      if (da != db) {
        return da < db;
      }
      if (records.key(a) != records.key(b)) {
        return records.key(a) < records.key(b);
      }
      return a < b;
    });
    for (std::size_t k = 1; k < rows.size(); ++k) {
      const DateValue& previous_end = records.date(rows[k - 1], end);
      if (!previous_end.is_date() || previous_end.date != records.date(rows[k], start).date) {
        continue;
      }
      const std::size_t first = first_of[rows[k - 1]];
      first_of[rows[k]] = first;
      last_of[first] = rows[k];
    }
  }
  // The same fields held, each as text and date (a text field's date values are never read).
  std::vector<FieldUse> uses(source.fields.size(), FieldUse::kNone);
  for (std::size_t f = 0; f < uses.size(); ++f) {
    if (records.holds(static_cast<int>(f))) {
      uses[f] = FieldUse::kDate;
    }
  }
  RecordViewBuilder builder(uses);
  std::vector<std::string_view> values(uses.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (first_of[i] != i) {
      continue;
    }
    const std::size_t last = last_of[i];
    for (std::size_t f = 0; f < uses.size(); ++f) {
      values[f] = records.text(last, static_cast<int>(f));
    }
    if (start >= 0 && static_cast<std::size_t>(start) < values.size()) {
      values[static_cast<std::size_t>(start)] = records.text(i, start);
    }
    builder.add(records.key(i), values);
  }
  return builder.finish();
}

}  // namespace rules::internal
