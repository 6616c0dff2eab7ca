// Why findings leave their lists, and the names of the history's enums.
#include "rules/history.h"

#include <algorithm>
#include <cctype>
#include <string>

#include "rules/evaluate_internal.h"

namespace rules {
namespace {

// "9 Dec 2025".
std::string long_date(Date date) {
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  return std::to_string(date.day()) + " " + kMonths[date.month() - 1] + " " +
         std::to_string(date.year());
}

// The lower-case header of `source`'s field `index` ("referral date"), or its name.
std::string column_name(const Source& source, int index) {
  const Field& field = source.fields[static_cast<std::size_t>(index)];
  std::string name = field.headers.empty() ? field.name : field.headers.front();
  for (char& c : name) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return name;
}

}  // namespace

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
    case Resolution::kClockRestarted:
      return "clock_restarted";
  }
  return "unknown";
}

bool different_person(std::string_view before, std::string_view after) {
  before = internal::trim(before);
  after = internal::trim(after);
  if (before.empty() || after.empty()) {
    return false;
  }
  return !std::equal(before.begin(), before.end(), after.begin(), after.end(), [](char a, char b) {
    return internal::ascii_lower(a) == internal::ascii_lower(b);
  });
}

Problem person_changed(const Source& source, std::string_view key, std::size_t line) {
  const int field = source.field_index("person");
  std::string column;
  if (field >= 0) {
    const Field& person = source.fields[static_cast<std::size_t>(field)];
    column = person.headers.empty() ? person.name : person.headers.front();
  }
  return Problem{line, std::move(column),
                 "key " + std::string(key) +
                     " now belongs to a different person than in the previous extract"};
}

ResolvedFinding resolve(const Finding& last, Date first_seen, const Rule& rule,
                        const Source& source, const Record* now, Date as_of) {
  using internal::field_text;
  using internal::read_date;
  using internal::trim;
  ResolvedFinding resolved{
      last,        first_seen, as_of, Resolution::kConditionStopped, "no longer on the list",
      std::nullopt};
  if (now == nullptr) {
    resolved.reason = Resolution::kVanished;
    resolved.detail = "no longer in the extract";
    return resolved;
  }
  switch (rule.kind) {
    case RuleKind::kUnallocated: {
      if (!rule.allocations_source.empty()) {
        // Who is allocated is another source's to say; only an ended record says more. A
        // joined period's later records are other keys: its first record's end proves nothing.
        const int end_field = rule.end.empty() ? -1 : source.field_index(rule.end);
        const auto end = read_date(*now, end_field);
        if (!rule.join_contiguous && end.is_date() && end.date <= as_of) {
          resolved.reason = Resolution::kClosed;
          resolved.detail =
              "no longer open (" + column_name(source, end_field) + " " + end.date.iso() + ")";
        }
        return resolved;
      }
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
        return resolved;
      }
      // Still open and still with nobody: when its since-date moved later, the clock restarted
      // (it left the list because its days started again, not because anyone was allocated).
      const auto opened = read_date(*now, fields.opened);
      std::optional<Date> since;
      if (opened.is_date()) {
        since = opened.date;
      }
      if (allocation_end.is_date() && (!since || allocation_end.date > *since)) {
        since = allocation_end.date;
      }
      if (since && last.since && *since > *last.since) {
        resolved.reason = Resolution::kClockRestarted;
        // Named by the column it came from: "referral date 9 Dec 2025 -> 25 Nov 2026".
        const int field =
            opened.is_date() && *since == opened.date ? fields.opened : fields.allocation_end;
        resolved.detail = "still unallocated: the clock restarted (" + column_name(source, field) +
                          " " + long_date(*last.since) + " \u2192 " + long_date(*since) + ")";
      }
      return resolved;
    }
    case RuleKind::kTimescale: {
      const auto end = read_date(*now, source.field_index(rule.end));
      if (end.is_date()) {
        resolved.detail = "completed on " + end.date.iso();
      }
      return resolved;
    }
    case RuleKind::kRecurring:
    case RuleKind::kCaseload:
      return resolved;
  }
  return resolved;
}

}  // namespace rules
