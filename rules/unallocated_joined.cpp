// The unallocated rule with an allocations source (docs/design.md "Unallocated from an
// allocations source"): a population of records open from a start date to an end date (SSDA903
// episodes, joined into periods of care when asked) and a separate history of who was allocated
// to each person when (SSDA903 social worker episodes). A record nobody is allocated to at the
// as-of date is unallocated exactly since the later of its start and the person's last allocation
// end.
#include <string>
#include <unordered_map>

#include "rules/evaluate_internal.h"

namespace rules::internal {
namespace {

// One person's allocations, as they stand at the as-of date.
struct PersonAllocations {
  bool allocated = false;        // an allocation to a worker in effect at the as-of date
  std::optional<Date> last_end;  // the latest end on or before the as-of date (a worker's)
  std::string_view last_worker;  // whose allocation that was
  std::string problem;           // the first untrustworthy date among the rows; "" = none
};

// The allocations by person (trimmed) at `as_of`. Rows without a person are ignored; rows whose
// worker is nobody (empty, a pseudo-worker, the team's name) neither allocate nor end an
// allocation, but their dates must still be dates.
std::unordered_map<std::string_view, PersonAllocations> allocations_by_person(
    const SourceData& data, const RecordView& rows, const CaseMatchers& matchers, Date as_of) {
  const Source& source = *data.source;
  const int person_field = source.field_index("person");
  const int worker_field = source.field_index("worker");
  const int team_field = source.field_index("team");
  const int start_field = source.field_index("allocation_start");
  const int end_field = source.field_index("allocation_end");
  std::unordered_map<std::string_view, PersonAllocations> by_person;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Row row{rows, i};
    const std::string_view person = trim(field_text(row, person_field));
    if (person.empty()) {
      continue;
    }
    PersonAllocations& allocations = by_person[person];
    const DateValue& start = read_date(row, start_field);
    const DateValue& end = read_date(row, end_field);
    std::string problem;
    if (start.bad()) {
      problem = "allocation start '" + std::string(start.raw) + "' is not a date";
    } else if (end.bad()) {
      problem = "allocation end '" + std::string(end.raw) + "' is not a date";
    } else if (start.is_date() && end.is_date() && end.date < start.date) {
      problem =
          "allocation end " + end.date.iso() + " is before allocation start " + start.date.iso();
    }
    if (!problem.empty()) {
      if (allocations.problem.empty()) {
        allocations.problem = std::move(problem);
      }
      continue;
    }
    const std::string_view worker = trim(field_text(row, worker_field));
    if (is_nobody(worker, field_text(row, team_field), matchers)) {
      continue;
    }
    if (start.is_date() && start.date <= as_of && (!end.is_date() || end.date > as_of)) {
      allocations.allocated = true;
    }
    if (end.is_date() && end.date <= as_of &&
        (!allocations.last_end || end.date > *allocations.last_end)) {
      allocations.last_end = end.date;
      allocations.last_worker = worker;
    }
  }
  return by_person;
}

}  // namespace

void evaluate_unallocated_joined(const Rule& rule, const SourceData& data,
                                 const RecordView& records, const SourceData& allocations,
                                 const RecordView& allocations_view, const Calendar& calendar,
                                 Evaluation& out) {
  const Source& source = *data.source;
  const Date as_of = data.as_of;
  const WhoFields who(source);
  const CaseMatchers matchers(rule);
  const int start_field = source.field_index(rule.start);
  const int end_field = rule.end.empty() ? -1 : source.field_index(rule.end);
  const std::vector<Band> bands = rule.bands.empty() ? default_unallocated_bands() : rule.bands;
  const BandIndex band_index(bands, as_of, calendar);
  std::vector<int> counts(bands.size() + 1, 0);  // the last is the inaccuracies band
  const auto by_person = allocations_by_person(allocations, allocations_view, matchers, as_of);

  // Periods of contiguous records when asked (the filters then test a period's last record).
  RecordView periods;
  if (rule.join_contiguous) {
    periods = join_contiguous(source, records, who.person, start_field, end_field);
  }
  const RecordView& population = rule.join_contiguous ? periods : records;
  const Where where(rule, source, population);
  const std::size_t first_finding = out.findings.size();
  TeamBandCounts team_counts;
  for (std::size_t row = 0; row < population.size(); ++row) {
    const Row record{population, row};
    if (!where.passes(record)) {
      continue;
    }
    const DateValue& start = read_date(record, start_field);
    const DateValue& end = read_date(record, end_field);
    // Open from its start to its end; an unparseable end does not end it.
    if ((start.is_date() && start.date > as_of) || (end.is_date() && end.date <= as_of)) {
      continue;
    }
    const std::string_view person = trim(field_text(record, who.person));
    const auto found = person.empty() ? by_person.end() : by_person.find(person);
    const PersonAllocations* allocated = found == by_person.end() ? nullptr : &found->second;
    if (allocated != nullptr && allocated->allocated) {
      continue;
    }

    std::string detail;  // non-empty: the dates cannot be trusted
    std::optional<Date> since;
    std::string_view worker;
    if (start.empty()) {
      detail = "no start date";
    } else if (start.bad()) {
      detail = "start '" + std::string(start.raw) + "' is not a date";
    } else if (allocated != nullptr && !allocated->problem.empty()) {
      detail = allocated->problem;
    } else {
      since = start.date;
      if (allocated != nullptr && allocated->last_end && *allocated->last_end >= start.date) {
        since = allocated->last_end;
        worker = allocated->last_worker;
      }
    }

    const bool untrusted = !detail.empty();
    const int days = untrusted ? 0 : as_of - *since;
    const std::size_t band = untrusted ? bands.size() : band_index.index(*since);
    const std::string_view team = trim(field_text(record, who.team));
    ++counts[band];
    ++team_counts[{std::string(team), band}];
    if (!untrusted && days <= rule.over_days) {
      continue;
    }

    Finding finding;
    finding.rule = rule.id;
    finding.key = record.key();
    finding.person = std::string(person);
    finding.team = std::string(team);
    finding.worker = std::string(worker);
    finding.band = untrusted ? std::string(kInaccuraciesBand) : bands[band].label;
    finding.state = untrusted ? State::kUntrusted : State::kBreach;
    finding.since = since;
    finding.days = days;
    if (!untrusted && !worker.empty()) {
      detail = std::string(kAllocationEnded) + since->iso();
    }
    finding.detail = std::move(detail);
    out.findings.push_back(std::move(finding));
  }

  sort_findings(out.findings, first_finding);
  append_unallocated_counts(rule, bands, counts, team_counts, out);
}

}  // namespace rules::internal
