#include "rules/rule.h"

namespace rules {

std::string_view to_string(RuleKind kind) {
  switch (kind) {
    case RuleKind::kUnallocated:
      return "unallocated";
    case RuleKind::kTimescale:
      return "timescale";
    case RuleKind::kRecurring:
      return "recurring";
    case RuleKind::kCaseload:
      return "caseload";
  }
  return "unknown";
}

std::vector<Band> default_unallocated_bands() {
  return {
      {"Under 1 week", Duration{7, Unit::kDays}},
      {"1 to 2 weeks", Duration{14, Unit::kDays}},
      {"2 to 3 weeks", Duration{21, Unit::kDays}},
      {"3 to 4 weeks", Duration{29, Unit::kDays}},
      {"1 to 2 months", Duration{2, Unit::kMonths}},
      {"2 to 3 months", Duration{3, Unit::kMonths}},
      {"3 months or more", std::nullopt},
  };
}

std::vector<std::string> sources_of(const Rule& rule) {
  std::vector<std::string> out = {rule.source};
  for (const std::string* other : {&rule.events_source, &rule.allocations_source}) {
    if (!other->empty() && *other != rule.source) {
      out.push_back(*other);
    }
  }
  return out;
}

int Source::field_index(std::string_view name) const {
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].name == name) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

const Source* RuleSet::find_source(std::string_view name) const {
  for (const auto& source : sources) {
    if (source.name == name) {
      return &source;
    }
  }
  return nullptr;
}

const Rule* RuleSet::find_rule(std::string_view id) const {
  for (const auto& rule : rules) {
    if (rule.id == id) {
      return &rule;
    }
  }
  return nullptr;
}

}  // namespace rules
