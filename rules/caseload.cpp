// The caseload rule (DESIGN.md "Caseload"): open, allocated records per worker; a worker with more
// than max_cases is listed.
#include <algorithm>
#include <cstdint>
#include <string>

#include "rules/evaluate_internal.h"

namespace rules::internal {
namespace {

// A worker's open cases, and how many of them each team holds (a worker has few teams).
struct Load {
  int cases = 0;
  std::vector<std::pair<std::string_view, int>> teams;
};

// Loads by worker name: open addressing over a power-of-two table, the names viewing the records.
// An extract names a few hundred workers and a million records look them up.
class LoadTable {
 public:
  // The index in entries() of `name`'s load (added when new).
  std::uint32_t index(std::string_view name) {
    if (2 * (entries_.size() + 1) > slots_.size()) {
      grow();
    }
    std::size_t slot = hash(name) & (slots_.size() - 1);
    while (slots_[slot] != kEmpty) {
      auto& entry = entries_[slots_[slot]];
      if (entry.first == name) {
        return slots_[slot];
      }
      slot = (slot + 1) & (slots_.size() - 1);
    }
    slots_[slot] = static_cast<std::uint32_t>(entries_.size());
    entries_.emplace_back(name, Load{});
    return slots_[slot];
  }
  Load& at(std::uint32_t index) { return entries_[index].second; }
  std::size_t size() const { return entries_.size(); }
  const std::vector<std::pair<std::string_view, Load>>& entries() const { return entries_; }

 private:
  static constexpr std::uint32_t kEmpty = ~std::uint32_t{0};
  static std::size_t hash(std::string_view name) {  // FNV-1a
    std::uint64_t h = 14695981039346656037ULL;
    for (const char c : name) {
      h ^= static_cast<unsigned char>(c);
      h *= 1099511628211ULL;
    }
    return static_cast<std::size_t>(h ^ (h >> 29));
  }
  void grow() {
    slots_.assign(std::max<std::size_t>(64, 2 * slots_.size()), kEmpty);
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      std::size_t slot = hash(entries_[i].first) & (slots_.size() - 1);
      while (slots_[slot] != kEmpty) {
        slot = (slot + 1) & (slots_.size() - 1);
      }
      slots_[slot] = static_cast<std::uint32_t>(i);
    }
  }
  std::vector<std::uint32_t> slots_;
  std::vector<std::pair<std::string_view, Load>> entries_;
};

}  // namespace

void evaluate_caseload(const Rule& rule, const SourceData& data, const RecordView& records,
                       Evaluation& out) {
  const Source& source = *data.source;
  const Date as_of = data.as_of;
  const CaseFields fields(source);
  const Where where(rule, source, records);
  const CaseMatchers matchers(rule);
  const CaseTests tests(records, fields, matchers, as_of);
  const std::size_t first_finding = out.findings.size();
  LoadTable loads;
  constexpr std::uint32_t kNoLoad = ~std::uint32_t{0};
  std::vector<std::uint32_t> load_of_code(records.codes(fields.worker), kNoLoad);
  for (std::size_t row = 0; row < records.size(); ++row) {
    const Row record{records, row};
    if (!where.passes(record) || !tests.open(record) || tests.nobody(record)) {
      continue;
    }
    const DateValue& allocation_end = read_date(record, fields.allocation_end);
    if (allocation_end.bad() || (allocation_end.is_date() && allocation_end.date <= as_of)) {
      continue;  // the allocation has ended: unallocated, not this worker's case
    }
    // A record not nobody has a worker, so the field is held. Codes of the same trimmed name
    // share a load.
    std::uint32_t& load_index = load_of_code[records.code(row, fields.worker)];
    if (load_index == kNoLoad) {
      load_index = loads.index(trim(field_text(record, fields.worker)));
    }
    Load& load = loads.at(load_index);
    ++load.cases;
    // Equal codes view the same text: most records' team is found without comparing bytes.
    const std::string_view team = trim(field_text(record, fields.team));
    auto team_count = std::find_if(load.teams.begin(), load.teams.end(), [&](const auto& entry) {
      return (entry.first.data() == team.data() && entry.first.size() == team.size()) ||
             entry.first == team;
    });
    if (team_count == load.teams.end()) {
      load.teams.emplace_back(team, 1);
    } else {
      ++team_count->second;
    }
  }

  std::vector<Caseload> caseloads;
  caseloads.reserve(loads.size());
  for (const auto& [worker, load] : loads.entries()) {
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
    if (caseload.cases <= rule.max_cases) {
      continue;
    }
    ++over;
    Finding finding;
    finding.rule = rule.id;
    finding.key = caseload.worker;
    finding.team = caseload.team;
    finding.worker = caseload.worker;
    finding.band = band;
    finding.state = State::kBreach;
    finding.cases = caseload.cases;
    out.findings.push_back(std::move(finding));
  }
  sort_findings(out.findings, first_finding);
  out.bands.push_back(BandCount{rule.id, band, over, {}});
  out.caseloads.insert(out.caseloads.end(), std::make_move_iterator(caseloads.begin()),
                       std::make_move_iterator(caseloads.end()));
}

}  // namespace rules::internal
