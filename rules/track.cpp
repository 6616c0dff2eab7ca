// The findings lifecycle: open, carry, resolve.
#include "rules/track.h"

#include <unordered_map>

#include "rules/evaluate_internal.h"

namespace rules {

int whole_weeks(Date from, Date to) { return to > from ? (to - from) / 7 : 0; }

Finding aged(Finding finding, int days) {
  const bool counts_from_a_date =
      (finding.state == State::kBreach || finding.state == State::kOverdue ||
       finding.state == State::kDueSoon) &&
      finding.cases == 0;
  if (counts_from_a_date) {
    finding.days += days;
  }
  return finding;
}

std::vector<std::size_t> listing_places(std::span<const Finding* const> findings) {
  std::vector<internal::ListKey> keys;
  keys.reserve(findings.size());
  for (std::size_t i = 0; i < findings.size(); ++i) {
    keys.push_back(internal::list_key(*findings[i], i));
  }
  return internal::list_places(keys);
}

Track track(std::span<const OpenFinding> open_before, const Evaluation& evaluation,
            const Rule& rule, const Source& source, Date as_of, bool same_definition,
            const RecordNow& record_now) {
  Track out;
  out.baseline = !same_definition;
  // Key -> index in open_before, for the findings a listed key continues.
  std::unordered_map<std::string_view, std::size_t> open;
  std::vector<bool> listed(open_before.size(), false);
  for (std::size_t i = 0; i < open_before.size(); ++i) {
    open.emplace(open_before[i].last.key, i);
  }
  for (const Finding& finding : evaluation.findings) {
    if (finding.rule != rule.id) {
      continue;
    }
    TrackedFinding tracked;
    tracked.finding = finding;
    tracked.first_seen = as_of;
    if (const auto found = open.find(finding.key); found != open.end()) {
      listed[found->second] = true;
      tracked.first_seen = open_before[found->second].first_seen;
    }
    tracked.status = tracked.first_seen == as_of ? FindingStatus::kNew : FindingStatus::kCarried;
    tracked.weeks_on_list = whole_weeks(tracked.first_seen, as_of);
    tracked.review_status = tracked.status;  // until marked against a review
    tracked.weeks_on_review = tracked.weeks_on_list;
    out.listed.push_back(std::move(tracked));
  }
  for (std::size_t i = 0; i < open_before.size(); ++i) {
    if (listed[i]) {
      continue;
    }
    const OpenFinding& before = open_before[i];
    const std::optional<Record> now = record_now(before.last.key);
    ResolvedFinding resolved =
        resolve(before.last, before.first_seen, rule, source, now ? &*now : nullptr, as_of);
    // Under a changed definition, a key that left while its case is still there and still open
    // left because of the change: never shown as fixed.
    if (!same_definition && resolved.reason != Resolution::kClosed &&
        resolved.reason != Resolution::kVanished) {
      resolved.reason = Resolution::kRuleChanged;
      resolved.detail = "rule definition changed";
    }
    out.resolved.push_back(std::move(resolved));
  }
  return out;
}

}  // namespace rules
