// The timescale rule (DESIGN.md "Timescale"): completed records become KPI completions; open
// records past (or near) their due date are listed; unusable dates are data problems.
#include <string>

#include "rules/evaluate_internal.h"

namespace rules::internal {

WhoFields::WhoFields(const Source& source)
    : person(source.field_index("person")),
      team(source.field_index("team")),
      worker(source.field_index("worker")) {}

void set_who(Finding& finding, const Rule& rule, const Row& record, const WhoFields& who) {
  finding.rule = rule.id;
  finding.key = record.key();
  finding.person = trim(field_text(record, who.person));
  finding.team = trim(field_text(record, who.team));
  finding.worker = trim(field_text(record, who.worker));
}

Finding new_finding(const Rule& rule, const Row& record, const WhoFields& who) {
  Finding finding;
  set_who(finding, rule, record, who);
  return finding;
}

ListBands::ListBands(const Rule& rule, Date as_of, const Calendar& calendar)
    : as_of_(as_of), configured_(!rule.bands.empty()) {
  if (configured_) {
    from_start_.emplace(rule.bands, as_of, calendar);
    for (const auto& band : rule.bands) {
      labels_.push_back(band.label);
    }
  } else {
    labels_ = {std::string(kDueSoonBand), std::string(kOverdueUnderOneWeekBand),
               std::string(kOverdueOneToFourWeeksBand), std::string(kOverdueFourWeeksOrMoreBand)};
  }
  labels_.emplace_back(kDataProblemsBand);
  counts_.assign(labels_.size(), 0);
}

std::size_t ListBands::index(Date start, Date due) const {
  if (configured_) {
    return from_start_->index(start);
  }
  const int late = as_of_ - due;
  if (late <= 0) {
    return 0;
  }
  if (late < 7) {
    return 1;
  }
  if (late < 29) {
    return 2;
  }
  return 3;
}

void ListBands::append_counts(const std::string& rule, Evaluation& out) const {
  for (std::size_t i = 0; i < labels_.size(); ++i) {
    out.bands.push_back(BandCount{rule, labels_[i], counts_[i], {}});
  }
}

std::optional<State> open_state(Date due, Date as_of, const std::optional<Duration>& warn,
                                const Calendar& calendar) {
  if (as_of > due) {
    return State::kOverdue;
  }
  if (!warn) {
    return std::nullopt;
  }
  Date from = due;
  switch (warn->unit) {
    case Unit::kWorkingDays:
      from = calendar.add_working_days(due, -warn->amount);
      break;
    case Unit::kDays:
      from = due - warn->amount;
      break;
    case Unit::kWeeks:
      from = due - 7 * warn->amount;
      break;
    case Unit::kMonths:
      from = add_months(due, -warn->amount);
      break;
  }
  if (as_of >= from) {
    return State::kDueSoon;
  }
  return std::nullopt;
}

void evaluate_timescale(const Rule& rule, const SourceData& data, const RecordView& records,
                        const Calendar& calendar, bool count_start_day, Evaluation& out) {
  const Source& source = *data.source;
  const Date as_of = data.as_of;
  const Where where(rule, source, records);
  const WhoFields who(source);
  const int start_field = source.field_index(rule.start);
  const int end_field = source.field_index(rule.end);
  ListBands bands(rule, as_of, calendar);
  // Everything about a record that depends only on its start date, computed once per start date.
  struct Timing {
    Date due;
    std::optional<State> state;  // for an open record
    std::size_t band = 0;        // for an open record with a state
    int working_days = 0;        // elapsed at the as-of date
    Duration limit;              // the limit that applies (earlier_limits by start date)
  };
  const auto timing_of = [&](Date start) {
    Duration limit = rule.limit;
    for (const auto& earlier : rule.earlier_limits) {
      if (start < earlier.before) {
        limit = earlier.limit;
        break;
      }
    }
    Timing timing;
    timing.limit = limit;
    timing.due = due_date(start, limit, calendar, count_start_day);
    timing.state = open_state(timing.due, as_of, rule.warn, calendar);
    timing.band = bands.index(start, timing.due);
    timing.working_days = calendar.elapsed_working_days(start, as_of);
    return timing;
  };
  DayMemo<Timing> timings(as_of);
  // Open records on the list, made into findings only once they are sorted (a light entry is
  // cheap to sort; a Finding is not), and data problems, which are few.
  struct Listed {
    std::size_t row;
    Date start;  // its timing is timings.get(start, timing_of)
  };
  std::vector<Listed> listed;
  std::vector<Finding> problems;

  const auto add_problem = [&](const Row& record, std::string detail, const DateValue& start,
                               const DateValue& end) {
    Finding finding = new_finding(rule, record, who);
    finding.band = std::string(kDataProblemsBand);
    finding.state = State::kDataProblem;
    if (start.is_date()) {
      finding.start = start.date;
    }
    if (end.is_date()) {
      finding.end = end.date;
    }
    finding.detail = std::move(detail);
    problems.push_back(std::move(finding));
    bands.count(bands.data_problems());
  };

  for (std::size_t row = 0; row < records.size(); ++row) {
    const Row record{records, row};
    if (!where.passes(record)) {
      continue;
    }
    const DateValue& start = read_date(record, start_field);
    const DateValue& end = read_date(record, end_field);
    if (start.empty()) {
      add_problem(record, "no start date", start, end);
      continue;
    }
    if (start.bad()) {
      add_problem(record, "start '" + std::string(start.raw) + "' is not a date", start, end);
      continue;
    }
    if (end.bad()) {
      add_problem(record, "end '" + std::string(end.raw) + "' is not a date", start, end);
      continue;
    }
    if (end.is_date() && end.date < start.date) {
      add_problem(record, "end " + end.date.iso() + " is before start " + start.date.iso(), start,
                  end);
      continue;
    }
    const Timing timing = timings.get(start.date, timing_of);
    const Date due = timing.due;
    if (end.is_date()) {
      out.completions.push_back(Completion{rule.id, std::string(record.key()), start.date, end.date,
                                           due, in_time(end.date, due, timing.limit, calendar)});
      continue;
    }
    if (start.date > as_of) {
      add_problem(record, "start " + start.date.iso() + " is after the extract date " + as_of.iso(),
                  start, end);
      continue;
    }
    if (!timing.state) {
      continue;
    }
    bands.count(timing.band);
    listed.push_back(Listed{row, start.date});
  }

  // The order sort_findings gives: the listed records (rank 0) before the data problems.
  std::vector<ListKey> keys;
  keys.reserve(listed.size());
  for (std::size_t i = 0; i < listed.size(); ++i) {
    const Date due = timings.get(listed[i].start, timing_of).due;
    keys.push_back(ListKey{0, as_of - due, records.key(listed[i].row), i});
  }
  // Each listed record goes straight to its sorted place, the records being read in the order
  // found: reading them in sorted order would jump about memory (a cache miss per field).
  const std::vector<std::size_t> place = list_places(keys);
  keys = {};
  const std::size_t first = out.findings.size();
  out.findings.reserve(first + listed.size() + problems.size());
  out.findings.resize(first + listed.size());
  for (std::size_t i = 0; i < listed.size(); ++i) {
    const Listed& entry = listed[i];
    const Timing timing = timings.get(entry.start, timing_of);
    Finding& finding = out.findings[first + place[i]];
    set_who(finding, rule, Row{records, entry.row}, who);
    finding.band = bands.label(timing.band);
    finding.state = *timing.state;
    finding.start = entry.start;
    finding.due = timing.due;
    finding.days = as_of - timing.due;
    finding.working_days = timing.working_days;
  }
  const std::size_t first_problem = out.findings.size();
  out.findings.insert(out.findings.end(), std::make_move_iterator(problems.begin()),
                      std::make_move_iterator(problems.end()));
  sort_findings(out.findings, first_problem);
  bands.append_counts(rule.id, out);
}

}  // namespace rules::internal
