// The caseload rule (DESIGN.md "Caseload"): open, allocated records per worker; a worker with more
// than max_cases is listed.
#include <algorithm>
#include <string>
#include <unordered_map>

#include "rules/evaluate_internal.h"

namespace rules::internal {

void evaluate_caseload(const Rule& rule, const SourceData& data, Evaluation& out) {
  const Source& source = *data.source;
  const Date as_of = data.as_of;
  const CaseFields fields(source);
  const Where where(rule, source);
  const CaseMatchers matchers(rule);
  struct Load {
    int cases = 0;
    std::vector<std::pair<std::string_view, int>> teams;  // a worker has few teams
  };
  const std::size_t first_finding = out.findings.size();
  std::unordered_map<std::string_view, Load> loads;
  for (const Record& record : *data.records) {
    if (!where.passes(record) || !is_open(record, fields, matchers, as_of)) continue;
    const std::string_view worker = trim(field_text(record, fields.worker));
    const std::string_view team = trim(field_text(record, fields.team));
    if (is_nobody(worker, team, matchers)) continue;
    const DateValue allocation_end = read_date(record, fields.allocation_end);
    if (allocation_end.bad() || (allocation_end.is_date() && allocation_end.date <= as_of)) {
      continue;  // the allocation has ended: unallocated, not this worker's case
    }
    Load& load = loads[worker];
    ++load.cases;
    auto team_count = std::find_if(load.teams.begin(), load.teams.end(),
                                   [&](const auto& entry) { return entry.first == team; });
    if (team_count == load.teams.end()) {
      load.teams.emplace_back(team, 1);
    } else {
      ++team_count->second;
    }
  }

  std::vector<Caseload> caseloads;
  caseloads.reserve(loads.size());
  for (const auto& [worker, load] : loads) {
    // The worker's most frequent team; ties go to the team named first alphabetically.
    std::string_view team;
    int most = 0;
    for (const auto& [name, count] : load.teams) {
      if (count > most || (count == most && name < team)) {
        team = name;
        most = count;
      }
    }
    caseloads.push_back(Caseload{rule.id, std::string(team), std::string(worker), load.cases});
  }
  std::sort(caseloads.begin(), caseloads.end(),
            [](const Caseload& a, const Caseload& b) { return a.worker < b.worker; });

  const std::string band = "Over " + std::to_string(rule.max_cases) + " cases";
  int over = 0;
  for (const auto& caseload : caseloads) {
    if (caseload.cases <= rule.max_cases) continue;
    ++over;
    Finding finding;
    finding.rule = rule.id;
    finding.key = caseload.worker;
    finding.team = caseload.team;
    finding.worker = caseload.worker;
    finding.band = band;
    finding.state = State::kBreach;
    finding.days = caseload.cases;
    finding.cases = caseload.cases;
    out.findings.push_back(std::move(finding));
  }
  sort_findings(out.findings, first_finding);
  out.bands.push_back(BandCount{rule.id, band, over});
  out.caseloads.insert(out.caseloads.end(), std::make_move_iterator(caseloads.begin()),
                       std::make_move_iterator(caseloads.end()));
}

}  // namespace rules::internal
