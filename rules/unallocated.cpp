// The unallocated rule (DESIGN.md "Unallocated"): open records whose worker is nobody or whose
// allocation has ended, aged from the latest of the open date and the allocation end date.
#include <string>

#include "rules/evaluate_internal.h"

namespace rules::internal {
namespace {

std::string not_a_date(std::string_view what, std::string_view raw) {
  return std::string(what) + " '" + std::string(raw) + "' is not a date";
}

}  // namespace

void append_unallocated_counts(const Rule& rule, const std::vector<Band>& bands,
                               const std::vector<int>& counts, const TeamBandCounts& team_counts,
                               Evaluation& out) {
  for (std::size_t i = 0; i < bands.size(); ++i) {
    out.bands.push_back(BandCount{rule.id, bands[i].label, counts[i], {}});
  }
  out.bands.push_back(BandCount{rule.id, std::string(kInaccuraciesBand), counts.back(), {}});
  for (const auto& [at, count] : team_counts) {
    const std::string label =
        at.second < bands.size() ? bands[at.second].label : std::string(kInaccuraciesBand);
    out.team_bands.push_back(BandCount{rule.id, label, count, at.first});
  }
}

void evaluate_unallocated(const Rule& rule, const SourceData& data, const RecordView& records,
                          const Calendar& calendar, Evaluation& out) {
  const Source& source = *data.source;
  const Date as_of = data.as_of;
  const CaseFields fields(source);
  const Where where(rule, source, records);
  const CaseMatchers matchers(rule);
  const CaseTests tests(records, fields, matchers, as_of);
  const std::vector<Band> bands = rule.bands.empty() ? default_unallocated_bands() : rule.bands;
  const BandIndex band_index(bands, as_of, calendar);
  std::vector<int> counts(bands.size() + 1, 0);  // the last is the inaccuracies band
  const std::unordered_map<std::string, Date>* first_seen = nullptr;
  if (const auto found = data.first_seen_unallocated.find(rule.id);
      found != data.first_seen_unallocated.end()) {
    first_seen = &found->second;
  }

  // The records on the list, made into findings once all are known (a light entry is cheap to
  // add as the list grows; a Finding, moved each time the vector grows, is not).
  struct Listed {
    std::size_t row;
    std::optional<Date> since;
    bool since_at_least;
    int days;
    std::size_t band;  // bands.size(): the dates cannot be trusted
    std::string detail;
  };
  std::vector<Listed> listed;
  TeamBandCounts team_counts;
  for (std::size_t row = 0; row < records.size(); ++row) {
    const Row record{records, row};
    if (!where.passes(record) || !tests.open(record)) {
      continue;
    }
    const std::string_view team = field_text(record, fields.team);
    const DateValue& allocation_end = read_date(record, fields.allocation_end);
    const bool nobody = tests.nobody(record);
    const bool unallocated = nobody || allocation_end.bad() ||
                             (allocation_end.is_date() && allocation_end.date <= as_of);
    if (!unallocated) {
      continue;
    }

    const DateValue& opened = read_date(record, fields.opened);
    const DateValue& allocation_start = read_date(record, fields.allocation_start);
    std::string detail;  // non-empty: the dates cannot be trusted
    std::optional<Date> since;
    bool since_at_least = false;
    if (opened.bad()) {
      detail = not_a_date("open date", opened.raw);
    } else if (allocation_start.bad()) {
      detail = not_a_date("allocation start", allocation_start.raw);
    } else if (allocation_end.bad()) {
      detail = not_a_date("allocation end", allocation_end.raw);
    } else if (allocation_end.is_date() && allocation_start.is_date() &&
               allocation_end.date < allocation_start.date) {
      detail = "allocation end " + allocation_end.date.iso() + " is before allocation start " +
               allocation_start.date.iso();
    } else if (opened.is_date() || allocation_end.is_date()) {
      since = opened.is_date() ? opened.date : allocation_end.date;
      if (allocation_end.is_date() && allocation_end.date > *since) {
        since = allocation_end.date;
      }
      if (*since > as_of) {
        detail = "unallocated since " + since->iso() + ", after the extract date " + as_of.iso();
      }
    } else if (fields.opened >= 0) {
      detail = "no open date and no allocation end date";
    } else {
      // Neither date is known (not mapped, or no allocation end given): since the first extract
      // that saw the record unallocated without a break.
      since_at_least = true;
      since = as_of;
      if (first_seen != nullptr) {
        if (const auto seen = first_seen->find(std::string(record.key()));
            seen != first_seen->end()) {
          since = std::min(seen->second, as_of);
        }
      }
      out.spells.push_back(UnallocatedSpell{rule.id, std::string(record.key()), *since});
    }

    const bool untrusted = !detail.empty();
    const int days = untrusted ? 0 : as_of - *since;
    const std::size_t band = untrusted ? bands.size() : band_index.index(*since);
    ++counts[band];
    ++team_counts[{std::string(trim(team)), band}];
    if (!untrusted && days <= rule.over_days) {
      continue;
    }

    if (detail.empty() && allocation_end.is_date() && !nobody) {
      detail = std::string(kAllocationEnded) + allocation_end.date.iso();
    }
    listed.push_back(Listed{row, since, since_at_least, days, band, std::move(detail)});
  }

  const std::size_t first_finding = out.findings.size();
  out.findings.resize(first_finding + listed.size());
  for (std::size_t i = 0; i < listed.size(); ++i) {
    Listed& entry = listed[i];
    const Row record{records, entry.row};
    const bool untrusted = entry.band == bands.size();
    Finding& finding = out.findings[first_finding + i];
    finding.rule = rule.id;
    finding.key = record.key();
    finding.person = std::string(trim(field_text(record, fields.person)));
    finding.team = std::string(trim(field_text(record, fields.team)));
    finding.worker = std::string(trim(field_text(record, fields.worker)));
    finding.band = untrusted ? std::string(kInaccuraciesBand) : bands[entry.band].label;
    finding.state = untrusted ? State::kUntrusted : State::kBreach;
    finding.since = entry.since;
    finding.since_at_least = entry.since_at_least;
    finding.days = entry.days;
    finding.detail = std::move(entry.detail);
  }

  sort_findings(out.findings, first_finding);
  append_unallocated_counts(rule, bands, counts, team_counts, out);
}

}  // namespace rules::internal
