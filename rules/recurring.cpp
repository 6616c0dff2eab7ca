// The recurring rule (DESIGN.md "Recurring"): per open record, the next event of a series is due a
// schedule interval after the previous one (or after the start for the first). Events held
// become KPI completions.
#include <algorithm>
#include <string>
#include <unordered_map>

#include "rules/evaluate_internal.h"

namespace rules::internal {
namespace {

// The events of one record of the population: exact (one row per event) or its latest only.
struct Series {
  std::vector<Date> held;      // events source: the events from the start to the cut-off, sorted
  std::optional<Date> latest;  // latest-event column: the latest, when from the start on
};

// Events by person from an events source: sorted, one per day (two rows of one day are one
// event held, as when a review is recorded once per participation code).
std::unordered_map<std::string_view, std::vector<Date>> events_by_person(const SourceData& data,
                                                                         const RecordView& events,
                                                                         const Rule& rule) {
  std::unordered_map<std::string_view, std::vector<Date>> by_person;
  const int person_field = data.source->field_index("person");
  const int event_field = data.source->field_index(rule.event);
  for (std::size_t row = 0; row < events.size(); ++row) {
    const Row record{events, row};
    const std::string_view person = trim(field_text(record, person_field));
    const DateValue& event = read_date(record, event_field);
    if (person.empty() || !event.is_date()) {
      continue;
    }
    by_person[person].push_back(event.date);
  }
  for (auto& [person, dates] : by_person) {
    std::sort(dates.begin(), dates.end());
    dates.erase(std::unique(dates.begin(), dates.end()), dates.end());
  }
  return by_person;
}

}  // namespace

void evaluate_recurring(const Rule& rule, const SourceData& data, const RecordView& records,
                        const SourceData* events, const RecordView* events_view,
                        const Calendar& calendar, bool count_start_day, Evaluation& out) {
  if (rule.schedule.empty()) {
    return;  // config rejects this; nothing can be due
  }
  const Source& source = *data.source;
  const Date as_of = data.as_of;
  const WhoFields who(source);
  const int start_field = source.field_index(rule.start);
  const int end_field = rule.end.empty() ? -1 : source.field_index(rule.end);
  ListBands bands(rule, as_of, calendar);

  const std::size_t first_finding = out.findings.size();
  std::unordered_map<std::string_view, std::vector<Date>> by_person;
  int latest_event_field = -1;
  if (events != nullptr) {
    by_person = events_by_person(*events, *events_view, rule);
  } else {
    latest_event_field = source.field_index(rule.event);
  }
  const std::size_t last_interval = rule.schedule.size() - 1;
  // Due dates and states per schedule interval and base date, working days per start date and
  // the latest-event inference's cut-off per start date: computed once per distinct date (many
  // records share them).
  struct Due {
    Date due;
    std::optional<State> state;
  };
  std::vector<DayMemo<Due>> dues(rule.schedule.size(), DayMemo<Due>(as_of));
  const auto due_after = [&](std::size_t interval, Date from) {
    return dues[interval].get(from, [&](Date base) {
      Due d;
      d.due = due_date(base, rule.schedule[interval], calendar, count_start_day);
      d.state = open_state(d.due, as_of, rule.warn, calendar);
      return d;
    });
  };
  DayMemo<int> working_days(as_of);
  // A latest event on or before start + first interval + second interval may be the first.
  DayMemo<Date> may_be_first(as_of);

  // Periods of contiguous records when asked (the filters then test a period's last record).
  RecordView periods;
  if (rule.join_contiguous) {
    periods = join_contiguous(source, records, who.person, start_field, end_field);
  }
  const RecordView& population = rule.join_contiguous ? periods : records;
  const Where where(rule, source, population);
  for (std::size_t row = 0; row < population.size(); ++row) {
    const Row record{population, row};
    if (!where.passes(record)) {
      continue;
    }
    const DateValue& end = read_date(record, end_field);
    const bool ended = end.is_date() && end.date <= as_of;  // no longer in the population
    const DateValue& start = read_date(record, start_field);
    std::string problem;
    if (start.empty()) {
      problem = "no start date";
    } else if (start.bad()) {
      problem = "start '" + std::string(start.raw) + "' is not a date";
    } else if (start.date > as_of) {
      problem = "start " + start.date.iso() + " is after the extract date " + as_of.iso();
    }
    DateValue latest;
    if (problem.empty() && latest_event_field >= 0) {
      latest = read_date(record, latest_event_field);
      if (latest.bad()) {
        problem = "latest event '" + std::string(latest.raw) + "' is not a date";
      }
    }
    if (!problem.empty()) {
      if (ended) {
        continue;  // an ended record's dates are no one's list any more
      }
      Finding finding = new_finding(rule, record, who);
      finding.band = std::string(kDataProblemsBand);
      finding.state = State::kDataProblem;
      if (start.is_date()) {
        finding.start = start.date;
      }
      finding.detail = std::move(problem);
      out.findings.push_back(std::move(finding));
      bands.count(bands.data_problems());
      continue;
    }

    // The events of this record's period: from its start to its end (or the as-of date).
    const Date cut_off = ended ? end.date : as_of;
    Series series;
    if (events != nullptr) {
      const std::string_view person = trim(field_text(record, who.person));
      const auto found = person.empty() ? by_person.end() : by_person.find(person);
      if (found != by_person.end()) {
        const auto& dates = found->second;
        const auto from = std::lower_bound(dates.begin(), dates.end(), start.date);
        const auto to = std::upper_bound(dates.begin(), dates.end(), cut_off);
        if (from < to) {
          series.held.assign(from, to);
        }
      }
    } else if (latest.is_date() && latest.date >= start.date && latest.date <= cut_off) {
      series.latest = latest.date;
    }

    // Events held feed the KPIs, each against the interval it was due in.
    Date previous = start.date;
    for (std::size_t k = 0; k < series.held.size(); ++k) {
      const std::size_t interval = std::min(k, last_interval);
      const Date due = due_after(interval, previous).due;
      const Date held = series.held[k];
      out.completions.push_back(Completion{rule.id, std::string(record.key()), previous, held, due,
                                           in_time(held, due, rule.schedule[interval], calendar),
                                           true});
      previous = held;
    }
    if (series.latest) {
      out.completions.push_back(Completion{rule.id, std::string(record.key()), start.date,
                                           *series.latest, *series.latest, false, false});
    }
    if (ended) {
      continue;
    }

    Date base = start.date;
    std::size_t interval = 0;
    std::optional<Date> last_event;
    bool assumed = false;
    if (!series.held.empty()) {
      last_event = series.held.back();
      base = *last_event;
      interval = std::min(series.held.size(), last_interval);
    } else if (series.latest) {
      last_event = series.latest;
      base = *last_event;
      assumed = true;
      interval = last_interval;
      if (last_interval >= 1) {
        const Date cut = may_be_first.get(start.date, [&](Date from) {
          return due_date(due_after(0, from).due, rule.schedule[1], calendar, count_start_day);
        });
        if (base <= cut) {
          interval = 1;
        }
      }
    }
    const Due next = due_after(interval, base);
    const Date due = next.due;
    const auto state = next.state;
    if (!state) {
      continue;
    }
    const std::size_t band = bands.index(start.date, due);
    bands.count(band);
    Finding finding = new_finding(rule, record, who);
    finding.band = bands.label(band);
    finding.state = *state;
    finding.start = start.date;
    finding.due = due;
    finding.end = last_event;
    finding.days = as_of - due;
    finding.working_days = working_days.get(
        start.date, [&](Date from) { return calendar.elapsed_working_days(from, as_of); });
    finding.assumed_interval = assumed;
    out.findings.push_back(std::move(finding));
  }
  sort_findings(out.findings, first_finding);
  bands.append_counts(rule.id, out);
}

}  // namespace rules::internal
