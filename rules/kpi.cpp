// KPIs of timescale and recurring rules (DESIGN.md "KPIs"): completed (held), in timescale (on
// time), % and RAG.
#include "rules/evaluate.h"

namespace rules {

std::string_view to_string(Rag rag) {
  switch (rag) {
    case Rag::kNone:
      return "none";
    case Rag::kRed:
      return "red";
    case Rag::kAmber:
      return "amber";
    case Rag::kGreen:
      return "green";
  }
  return "unknown";
}

Kpi kpi(const std::vector<Completion>& completions, std::string_view rule, Date from, Date to,
        double target_percent, double tolerance) {
  Kpi result;
  for (const auto& completion : completions) {
    if (completion.rule != rule || completion.end < from || completion.end > to) {
      continue;
    }
    ++result.completed;
    if (!completion.judged) {
      continue;
    }
    ++result.judged;
    if (completion.in_timescale) {
      ++result.in_timescale;
    }
  }
  if (result.judged == 0) {
    return result;
  }
  result.percent = 100.0 * result.in_timescale / result.judged;
  if (target_percent <= 0) {
    return result;
  }
  if (result.percent >= target_percent) {
    result.rag = Rag::kGreen;
  } else if (result.percent >= target_percent - tolerance) {
    result.rag = Rag::kAmber;
  } else {
    result.rag = Rag::kRed;
  }
  return result;
}

}  // namespace rules
