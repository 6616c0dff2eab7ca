// Helpers shared by the rule kinds' evaluation files. Internal to rules/: not in rules.h.
#ifndef CASEWATCH_RULES_EVALUATE_INTERNAL_H_
#define CASEWATCH_RULES_EVALUATE_INTERNAL_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rules/civil.h"
#include "rules/evaluate.h"
#include "rules/view.h"

namespace rules::internal {

// Without surrounding spaces and tabs.
inline std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}
inline char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }
// Without the letter code of a coded value, as the Annex A template writes them: "a) Yes" ->
// "Yes", "c) Child in need plan" -> "Child in need plan" (one or two letters, ')' and a space).
inline std::string_view without_code(std::string_view text) {
  std::size_t letters = 0;
  while (letters < text.size() && letters < 2 && ascii_lower(text[letters]) >= 'a' &&
         ascii_lower(text[letters]) <= 'z') {
    ++letters;
  }
  if (letters == 0 || letters + 1 >= text.size() || text[letters] != ')' ||
      text[letters + 1] != ' ') {
    return text;
  }
  return trim(text.substr(letters + 2));
}
// Equality ignoring ASCII case, surrounding spaces and coded values' letter codes on both sides.
bool iequals_trimmed(std::string_view a, std::string_view b);
bool matches_any(std::string_view value, const std::vector<std::string>& values);

// matches_any against a fixed list, with the list trimmed and lower-cased once (per rule, not per
// record) and no allocation per comparison.
class Matcher {
 public:
  explicit Matcher(const std::vector<std::string>& values);
  bool empty() const { return values_.empty(); }
  // Exactly matches_any(value, values).
  bool matches(std::string_view value) const {
    value = without_code(trim(value));
    for (const auto& candidate : values_) {
      if (candidate.size() != value.size()) {
        continue;
      }
      std::size_t i = 0;
      while (i < value.size() && ascii_lower(value[i]) == candidate[i]) {
        ++i;
      }
      if (i == value.size()) {
        return true;
      }
    }
    return false;
  }

 private:
  std::vector<std::string> values_;  // trimmed, lower-cased
};

// One record of a RecordView, as the rule kinds read it.
struct Row {
  const RecordView& view;
  std::size_t index;
  std::string_view key() const { return view.key(index); }
};

// The text of field `index` (-1 = not mapped: empty).
inline std::string_view field_text(const Row& row, int index) {
  return row.view.text(row.index, index);
}
inline const DateValue& read_date(const Row& row, int index) {
  return row.view.date(row.index, index);
}
// The same for one record in memory (why a finding resolved reads the record as it is now).
inline std::string_view field_text(const Record& record, int index) {
  if (index < 0 || static_cast<std::size_t>(index) >= record.values.size()) {
    return {};
  }
  return record.values[static_cast<std::size_t>(index)];
}
inline DateValue read_date(const Record& record, int index) {
  return parse_date_value(field_text(record, index));
}

// A rule's `where` and `unless` filters over one RecordView, with field indices resolved and
// each filter answered once per distinct text of its field (the view holds a field's texts
// dictionary-coded, so a million records' values are a few codes to test).
class Where {
 public:
  Where(const Rule& rule, const Source& source, const RecordView& view);
  // REQUIRES: record.view is the view given to the constructor.
  bool passes(const Row& record) const {
    for (const auto& filter : filters_) {
      if (filter.passes(record) != filter.must_match) {
        return false;
      }
    }
    return true;
  }

 private:
  struct Resolved {
    int index;        // held by the view, or -1: every record reads "" (`constant`)
    bool must_match;  // where: true; unless: false
    bool constant = false;
    std::vector<bool> by_code;  // per code of the field: matches the filter's values
    bool passes(const Row& record) const {
      return index < 0 ? constant : by_code[record.view.code(record.index, index)];
    }
  };
  std::vector<Resolved> filters_;  // where filters, then unless filters
};

// The fields the unallocated and caseload rules read, resolved once per rule.
struct CaseFields {
  explicit CaseFields(const Source& source);
  int person;
  int team;
  int worker;
  int opened;
  int closed;
  int status;
  int allocation_start;
  int allocation_end;
};

// A rule's open_values and not_a_worker, prepared once per rule.
struct CaseMatchers {
  explicit CaseMatchers(const Rule& rule)
      : open_values(rule.open_values), not_a_worker(rule.not_a_worker) {}
  Matcher open_values;
  Matcher not_a_worker;
};

// DESIGN.md "Unallocated": open when the close date (if mapped) is empty or after the as-of
// date and the status (if mapped) is one of the rule's open values. An unparseable close date
// does not close a case. And whether a record's worker is nobody (is_nobody). Each is answered
// once per distinct close date, status and worker of the view, not once per record.
class CaseTests {
 public:
  CaseTests(const RecordView& view, const CaseFields& fields, const CaseMatchers& matchers,
            Date as_of);
  // REQUIRES (both): record.view is the view given to the constructor.
  bool open(const Row& record) const {
    return !closed_.answer(record) && open_status_.answer(record);
  }
  // is_nobody(the record's worker, its team).
  bool nobody(const Row& record) const;

 private:
  // A test of one field's text, per code of the field (or one answer when it is not held).
  struct ByCode {
    int field = -1;
    bool constant = false;
    std::vector<bool> answers;
    bool answer(const Row& record) const {
      return field < 0 ? constant : answers[record.view.code(record.index, field)];
    }
  };
  template <class Test>
  static ByCode by_code(const RecordView& view, int field, const Test& test);
  const CaseFields& fields_;
  const CaseMatchers& matchers_;
  ByCode closed_;       // closed on or before the as-of date
  ByCode open_status_;  // a status that is open (true when no status or no open values)
  ByCode no_worker_;    // empty or a pseudo-worker
};
// Empty, a pseudo-worker (case-insensitive) or the team's own name.
bool is_nobody(std::string_view worker, std::string_view team, const CaseMatchers& matchers);

// Values computed from a day number at most once each, for days in a window around an as-of
// date (days outside it are computed every time). Many records share a start date, and due
// dates in working days are most of a timescale rule's cost.
template <class Value>
class DayMemo {
 public:
  explicit DayMemo(Date as_of) : first_(as_of.days() - kDaysBefore) {}
  // compute(day) -> Value, called at most once per day in the window.
  template <class Compute>
  Value get(Date day, const Compute& compute) {
    const std::int64_t slot = std::int64_t{day.days()} - first_;
    if (slot < 0 || slot >= kSlots) {
      return compute(day);
    }
    if (slots_.empty()) {
      slots_.resize(kSlots);
    }
    std::optional<Value>& entry = slots_[static_cast<std::size_t>(slot)];
    if (!entry) {
      entry = compute(day);
    }
    return *entry;
  }

 private:
  static constexpr std::int32_t kDaysBefore = 20 * 366;
  static constexpr std::int32_t kSlots = kDaysBefore + 2 * 366;
  std::int32_t first_;
  std::vector<std::optional<Value>> slots_;
};

// Band lookup for many records at one as-of date: cutoffs[i] is the earliest `since` for which
// as_of < due_date(since, bound_i), so a record is in band i when since >= cutoffs[i].
class BandIndex {
 public:
  BandIndex(const std::vector<Band>& bands, Date as_of, const Calendar& calendar);
  std::size_t index(Date since) const;

 private:
  std::vector<Date> cutoffs_;
};

// The band table of a timescale or recurring rule: the configured bands (measured from the
// start) or the default overdue bands, then the data-problems band. Counts list records.
class ListBands {
 public:
  ListBands(const Rule& rule, Date as_of, const Calendar& calendar);
  // The band of an open record on the list (overdue or due soon).
  std::size_t index(Date start, Date due) const;
  std::size_t data_problems() const { return labels_.size() - 1; }
  const std::string& label(std::size_t index) const { return labels_[index]; }
  void count(std::size_t index) { ++counts_[index]; }
  void append_counts(const std::string& rule, Evaluation& out) const;

 private:
  Date as_of_;
  bool configured_;
  std::optional<BandIndex> from_start_;
  std::vector<std::string> labels_;
  std::vector<int> counts_;
};

// kOverdue when as_of > due; kDueSoon when `warn` is set, as_of >= due - warn (working days for
// a wd warning) and not overdue; nullopt otherwise.
std::optional<State> open_state(Date due, Date as_of, const std::optional<Duration>& warn,
                                const Calendar& calendar);

// The person, team and worker fields of a source, resolved once per rule.
struct WhoFields {
  explicit WhoFields(const Source& source);
  int person;
  int team;
  int worker;
};
// Sets the finding's rule, key, person, team and worker.
void set_who(Finding& finding, const Rule& rule, const Row& record, const WhoFields& who);
// A finding of `rule` for `record` with rule, key, person, team and worker filled in.
Finding new_finding(const Rule& rule, const Row& record, const WhoFields& who);

// A finding's place in its rule's list, as evaluate() promises: rank (0 listed, 1 untrusted
// dates and data problems), then days (most first), then key, then the order found.
struct ListKey {
  int rank;  // 0 or 1
  int days;
  std::string_view key;
  std::size_t index;  // the order found
};
// A finding's ListKey, found at `index`: rank 1 for untrusted dates and data problems, and its
// list's measure, days (unallocated, timescales) or cases (caseload; the other is 0).
ListKey list_key(const Finding& finding, std::size_t index);
// The list position of each key: keys[i] goes to places[i]. REQUIRES: keys[i].index == i (keys
// in the order found). When they were found in key order, as extracts sorted by their key are,
// no keys are compared.
std::vector<std::size_t> list_places(const std::vector<ListKey>& keys);
// Sorts `keys` into list order. REQUIRES: as list_places.
void sort_list_keys(std::vector<ListKey>& keys);

// Sorts findings[first..] as evaluate() promises. Each kind's evaluation sorts its own findings.
void sort_findings(std::vector<Finding>& findings, std::size_t first);

// Each kind reads data's records through `records`, the view of them.
void evaluate_unallocated(const Rule& rule, const SourceData& data, const RecordView& records,
                          const Calendar& calendar, Evaluation& out);
// An unallocated rule with rule.allocations_source: `allocations` is that source's data.
void evaluate_unallocated_joined(const Rule& rule, const SourceData& data,
                                 const RecordView& records, const SourceData& allocations,
                                 const RecordView& allocations_view, const Calendar& calendar,
                                 Evaluation& out);
// An unallocated rule's band table: counts[i] records in bands[i] (the last count is the
// inaccuracies band), and per (team, band index) the same.
using TeamBandCounts = std::map<std::pair<std::string, std::size_t>, int>;
void append_unallocated_counts(const Rule& rule, const std::vector<Band>& bands,
                               const std::vector<int>& counts, const TeamBandCounts& team_counts,
                               Evaluation& out);
void evaluate_timescale(const Rule& rule, const SourceData& data, const RecordView& records,
                        const Calendar& calendar, bool count_start_day, Evaluation& out);
// Rule::join_contiguous: the records of `source` in `records` of one person (by field `person`,
// trimmed) sorted by `start`; a record whose start equals the previous one's end continues its
// period. A period is one record: the first record's key and start, the last record's other
// values (its end, team, worker and the fields `where` and `unless` test). Records without a
// person or a start date, and overlapping records (a start before the previous end), are not
// joined. Periods come in the order of their first records; the view holds the fields
// `records` holds.
RecordView join_contiguous(const Source& source, const RecordView& records, int person, int start,
                           int end);

// REQUIRES: events and events_view are null only when rule.events_source is empty.
void evaluate_recurring(const Rule& rule, const SourceData& data, const RecordView& records,
                        const SourceData* events, const RecordView* events_view,
                        const Calendar& calendar, bool count_start_day, Evaluation& out);
void evaluate_caseload(const Rule& rule, const SourceData& data, const RecordView& records,
                       Evaluation& out);

}  // namespace rules::internal

#endif  // CASEWATCH_RULES_EVALUATE_INTERNAL_H_
