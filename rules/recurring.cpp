// The recurring rule (DESIGN.md "Recurring"): per open record, the next event of a series is due a
// schedule interval after the previous one (or after the start for the first).
#include <algorithm>
#include <string>
#include <unordered_map>

#include "rules/evaluate_internal.h"

namespace rules::internal {

void evaluate_recurring(const Rule& rule, const SourceData& data, const SourceData* events,
                        const Calendar& calendar, bool count_start_day, Evaluation& out) {
  if (rule.schedule.empty()) return;  // config rejects this; nothing can be due
  const Source& source = *data.source;
  const Date as_of = data.as_of;
  const Where where(rule, source);
  const WhoFields who(source);
  const int start_field = source.field_index(rule.start);
  const int end_field = rule.end.empty() ? -1 : source.field_index(rule.end);
  ListBands bands(rule, as_of, calendar);

  const std::size_t first_finding = out.findings.size();
  // Events by person, sorted, when they come from their own source.
  std::unordered_map<std::string_view, std::vector<Date>> by_person;
  int latest_event_field = -1;
  if (events != nullptr) {
    const int person_field = events->source->field_index("person");
    const int event_field = events->source->field_index(rule.event);
    for (const Record& record : *events->records) {
      const std::string_view person = trim(field_text(record, person_field));
      const DateValue event = read_date(record, event_field);
      if (person.empty() || !event.is_date()) continue;
      by_person[person].push_back(event.date);
    }
    for (auto& [person, dates] : by_person) std::sort(dates.begin(), dates.end());
  } else {
    latest_event_field = source.field_index(rule.event);
  }
  const std::size_t last_interval = rule.schedule.size() - 1;
  // Due dates and states per schedule interval and base date, working days per start date:
  // computed once per distinct date (many records share them).
  struct Due {
    Date due;
    std::optional<State> state;
  };
  std::vector<DayMemo<Due>> dues(rule.schedule.size(), DayMemo<Due>(as_of));
  DayMemo<int> working_days(as_of);

  for (const Record& record : *data.records) {
    if (!where.passes(record)) continue;
    const DateValue end = read_date(record, end_field);
    if (end.is_date() && end.date <= as_of) continue;  // no longer in the population
    const DateValue start = read_date(record, start_field);
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
      if (latest.bad()) problem = "latest event '" + std::string(latest.raw) + "' is not a date";
    }
    if (!problem.empty()) {
      Finding finding = new_finding(rule, record, who);
      finding.band = std::string(kDataProblemsBand);
      finding.state = State::kDataProblem;
      if (start.is_date()) finding.start = start.date;
      finding.detail = std::move(problem);
      out.findings.push_back(std::move(finding));
      bands.count(bands.data_problems());
      continue;
    }

    Date base = start.date;
    std::size_t interval = 0;
    std::optional<Date> last_event;
    bool assumed = false;
    if (events != nullptr) {
      const auto found = by_person.find(trim(field_text(record, who.person)));
      if (found != by_person.end() && !trim(field_text(record, who.person)).empty()) {
        const auto& dates = found->second;
        const auto from = std::lower_bound(dates.begin(), dates.end(), start.date);
        const auto to = std::upper_bound(dates.begin(), dates.end(), as_of);
        if (from < to) {
          const auto held = static_cast<std::size_t>(to - from);
          last_event = *(to - 1);
          base = *last_event;
          interval = std::min(held, last_interval);
        }
      }
    } else if (latest.is_date() && latest.date >= start.date && latest.date <= as_of) {
      last_event = latest.date;
      base = latest.date;
      interval = last_interval;
      assumed = true;
    }
    const Due next = dues[interval].get(base, [&](Date from) {
      Due d;
      d.due = due_date(from, rule.schedule[interval], calendar, count_start_day);
      d.state = open_state(d.due, as_of, rule.warn, calendar);
      return d;
    });
    const Date due = next.due;
    const auto state = next.state;
    if (!state) continue;
    const std::size_t band = bands.index(start.date, due);
    bands.count(band);
    Finding finding = new_finding(rule, record, who);
    finding.band = bands.label(band);
    finding.state = *state;
    finding.start = start.date;
    finding.due = due;
    finding.end = last_event;
    finding.days = as_of - due;
    finding.working_days =
        working_days.get(start.date, [&](Date from) { return calendar.working_days(from, as_of); });
    finding.assumed_interval = assumed;
    out.findings.push_back(std::move(finding));
  }
  sort_findings(out.findings, first_finding);
  bands.append_counts(rule.id, out);
}

}  // namespace rules::internal
