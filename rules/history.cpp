// Why findings leave their lists, and the names of the history's enums.
#include "rules/history.h"

#include <string>

#include "rules/evaluate_internal.h"

namespace rules {

std::string_view to_string(FindingStatus status) {
  switch (status) {
    case FindingStatus::kNew:
      return "new";
    case FindingStatus::kCarried:
      return "carried";
  }
  return "unknown";
}

std::string_view to_string(Resolution resolution) {
  switch (resolution) {
    case Resolution::kConditionStopped:
      return "condition_stopped";
    case Resolution::kClosed:
      return "closed";
    case Resolution::kVanished:
      return "vanished";
    case Resolution::kRuleChanged:
      return "rule_changed";
  }
  return "unknown";
}

ResolvedFinding resolve(const Finding& last, Date first_seen, const Rule& rule,
                        const Source& source, const Record* now, Date as_of) {
  using internal::field_text;
  using internal::read_date;
  using internal::trim;
  ResolvedFinding resolved{last, first_seen, as_of, Resolution::kConditionStopped,
                           "no longer on the list"};
  if (now == nullptr) {
    resolved.reason = Resolution::kVanished;
    resolved.detail = "no longer in the extract";
    return resolved;
  }
  switch (rule.kind) {
    case RuleKind::kUnallocated: {
      const internal::CaseFields fields(source);
      const auto closed = read_date(*now, fields.closed);
      if (closed.is_date() && closed.date <= as_of) {
        resolved.reason = Resolution::kClosed;
        resolved.detail = "case closed (closure date " + closed.date.iso() + ")";
        return resolved;
      }
      const std::string_view status = trim(field_text(*now, fields.status));
      if (fields.status >= 0 && !rule.open_values.empty() &&
          !internal::matches_any(status, rule.open_values)) {
        resolved.reason = Resolution::kClosed;
        resolved.detail = "case closed (status " + std::string(status) + ")";
        return resolved;
      }
      const std::string_view worker = trim(field_text(*now, fields.worker));
      const auto allocation_end = read_date(*now, fields.allocation_end);
      const bool ended =
          allocation_end.bad() || (allocation_end.is_date() && allocation_end.date <= as_of);
      if (!internal::is_nobody(worker, field_text(*now, fields.team),
                               internal::CaseMatchers(rule)) &&
          !ended) {
        resolved.detail = "allocated to " + std::string(worker) + " (seen " + as_of.iso() + ")";
      }
      return resolved;
    }
    case RuleKind::kTimescale: {
      const auto end = read_date(*now, source.field_index(rule.end));
      if (end.is_date()) resolved.detail = "completed on " + end.date.iso();
      return resolved;
    }
    case RuleKind::kRecurring:
    case RuleKind::kCaseload:
      return resolved;
  }
  return resolved;
}

}  // namespace rules
