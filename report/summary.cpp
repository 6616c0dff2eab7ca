// The review's summary: one set of totals named the same everywhere, the line per rule, the team
// tables and the email subject.
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "report/format_util.h"
#include "report/report.h"

namespace report {
namespace {

std::string title_of(const rules::Rule& rule) { return rule.title.empty() ? rule.id : rule.title; }

std::string number_word(int n) {
  static constexpr std::string_view kWords[] = {"zero", "one",   "two",   "three", "four", "five",
                                                "six",  "seven", "eight", "nine",  "ten"};
  return n >= 0 && n <= 10 ? std::string(kWords[n]) : std::to_string(n);
}

std::vector<const rules::Finding*> findings_of(const RuleSection& section) {
  std::vector<const rules::Finding*> out;
  for (const auto& item : section.open) {
    out.push_back(&item.finding);
  }
  return out;
}

// The items the previous review listed: given, or the CARRIED items plus those RESOLVED since.
std::optional<int> previous_count(const RuleSection& section) {
  if (section.previous_count) {
    return section.previous_count;
  }
  if (section.baseline || !section.previous_review) {
    return std::nullopt;
  }
  int count = 0;
  for (const auto& item : section.open) {
    if (!detail::is_data_problem(item.finding) &&
        item.review_status == rules::FindingStatus::kCarried) {
      ++count;
    }
  }
  for (const auto& item : section.resolved) {
    if (!detail::is_data_problem(item.last)) {
      ++count;
    }
  }
  return count;
}

std::string signed_change(int change) {
  if (change == 0) {
    return "no change";
  }
  return change > 0 ? fmt::format("+{}", change) : std::to_string(change);
}

}  // namespace

bool Output::allows(std::string_view field) const {
  return !fields || std::find(fields->begin(), fields->end(), field) != fields->end();
}

std::string listed_label(const rules::Rule& rule) {
  if (rule.kind != rules::RuleKind::kUnallocated) {
    return "On the list";
  }
  if (rule.over_days % 7 == 0) {
    const int weeks = rule.over_days / 7;
    return fmt::format("Over {} week{} (listed)", number_word(weeks), weeks == 1 ? "" : "s");
  }
  return fmt::format("Over {} days (listed)", rule.over_days);
}

std::string trend_total_label(const rules::Rule& rule) {
  return rule.kind == rules::RuleKind::kUnallocated ? "All unallocated" : "All in bands";
}

RuleTotals rule_totals(const rules::Rule& rule, const std::vector<const rules::Finding*>& open,
                       const std::vector<rules::BandCount>& bands) {
  RuleTotals totals;
  for (const auto* f : open) {
    if (f->rule != rule.id) {
      continue;
    }
    if (detail::is_data_problem(*f)) {
      ++totals.untrusted;
      continue;
    }
    ++totals.listed;
    if (f->state == rules::State::kOverdue) {
      ++totals.overdue;
    }
    if (f->state == rules::State::kDueSoon) {
      ++totals.due_soon;
    }
  }
  if (rule.kind == rules::RuleKind::kUnallocated) {
    for (const auto& band : bands) {
      if (band.rule == rule.id && band.team.empty()) {
        totals.all += band.count;
      }
    }
  }
  return totals;
}

std::string totals_text(const rules::Rule& rule, const RuleTotals& totals) {
  switch (rule.kind) {
    case rules::RuleKind::kUnallocated:
      return fmt::format("{}: {}; {}: {}; {}: {}", listed_label(rule), totals.listed,
                         kUntrustedLabel, totals.untrusted, kAllUnallocatedLabel, totals.all);
    case rules::RuleKind::kTimescale:
    case rules::RuleKind::kRecurring:
      return fmt::format("Overdue: {}; due soon: {}; data problems: {}", totals.overdue,
                         totals.due_soon, totals.untrusted);
    case rules::RuleKind::kCaseload:
      break;
  }
  return fmt::format("Over the caseload limit: {}", totals.listed);
}

std::string summary_line(const RuleSection& section) {
  const rules::Rule& rule = *section.rule;
  const std::string title = detail::clean(title_of(rule));
  if (!section.no_data.empty()) {
    return fmt::format("{}: NO DATA ({}): the list cannot be produced", title,
                       detail::clean(section.no_data));
  }
  const RuleTotals totals = rule_totals(rule, findings_of(section), section.bands);
  std::string line = fmt::format("{}: {} on the list", title, totals.listed);
  if (const auto previous = previous_count(section)) {
    line +=
        fmt::format(" (last review {}, {})", *previous, signed_change(totals.listed - *previous));
  } else {
    line += " (first review of this list)";
  }
  if (detail::has_due_dates(rule)) {
    line += fmt::format(": {} overdue, {} due soon", totals.overdue, totals.due_soon);
  }
  // The other numbers named as `--once` and `status` name them (totals_text).
  if (rule.kind == rules::RuleKind::kUnallocated) {
    if (totals.untrusted > 0) {
      line += fmt::format("; untrusted dates: {}", totals.untrusted);
    }
    if (!section.bands.empty()) {
      line += fmt::format("; all unallocated open cases: {}", totals.all);
    }
  } else if (totals.untrusted > 0) {
    line += fmt::format("; data problems: {}", totals.untrusted);
  }
  return line;
}

std::string subject(const Review& review) {
  constexpr std::size_t kMax = 79;
  std::string prefix;
  if (!review.stale.empty()) {
    prefix = "DATA OUT OF DATE: ";
  }
  bool no_data = false;
  const RuleSection* unallocated = nullptr;
  int overdue = 0;
  bool any_due_dates = false;
  for (const auto& section : review.sections) {
    if (!section.rule->review) {
      continue;
    }
    if (!section.no_data.empty()) {
      no_data = true;
      continue;
    }
    if (section.rule->kind == rules::RuleKind::kUnallocated && unallocated == nullptr) {
      unallocated = &section;
    }
    if (detail::has_due_dates(*section.rule)) {
      any_due_dates = true;
      overdue += rule_totals(*section.rule, findings_of(section), {}).overdue;
    }
  }
  if (no_data) {
    prefix = "NO DATA: " + prefix;
  }
  std::vector<std::string> parts;
  std::string change;
  if (unallocated != nullptr) {
    const auto totals = rule_totals(*unallocated->rule, findings_of(*unallocated), {});
    std::string what = describe(*unallocated->rule);
    if (what.starts_with("cases ")) {
      what.erase(0, 6);
    }
    parts.push_back(fmt::format("{} {}", totals.listed, what));
    if (const auto previous = previous_count(*unallocated)) {
      change = fmt::format(" ({})", signed_change(totals.listed - *previous));
    }
  }
  if (any_due_dates) {
    parts.push_back(fmt::format("{} overdue", overdue));
  }
  std::string route = detail::clean(review.route);
  const auto build = [&](bool with_change) {
    std::string line = prefix + "casewatch " + review.week.str();
    if (!route.empty()) {
      line += " " + route;
    }
    line += ":";
    for (std::size_t i = 0; i < parts.size(); ++i) {
      line += (i == 0 ? " " : "; ") + parts[i];
      if (i == 0 && unallocated != nullptr && with_change) {
        line += change;
      }
    }
    if (parts.empty()) {
      line += " no review lists";
    }
    return line;
  };
  std::string line = build(true);
  if (detail::width(line) > kMax) {
    line = build(false);
  }
  if (detail::width(line) > kMax && !route.empty()) {
    const std::size_t over = detail::width(line) - kMax;
    route =
        detail::truncate(route, detail::width(route) > over + 4 ? detail::width(route) - over : 4);
    line = build(false);
  }
  return detail::truncate(line, kMax);
}

std::vector<TeamTable> team_tables(const Review& review) {
  std::vector<TeamTable> tables;
  for (const auto& section : review.sections) {
    const rules::Rule& rule = *section.rule;
    if (!section.no_data.empty()) {
      continue;
    }
    const bool unallocated = rule.kind == rules::RuleKind::kUnallocated;
    if (!unallocated && !detail::has_due_dates(rule)) {
      continue;
    }
    if (!unallocated && !rule.review) {
      continue;
    }
    TeamTable table{rule.id, title_of(rule), {}, {}, {}, 0};
    for (const auto& count : section.bands) {
      if (std::find(table.bands.begin(), table.bands.end(), count.band) == table.bands.end()) {
        table.bands.push_back(count.band);
      }
    }
    std::map<std::string, std::map<std::string, int>> counts;  // team -> band -> count
    const auto add = [&](const std::string& team, const std::string& band, int n) {
      if (std::find(table.bands.begin(), table.bands.end(), band) == table.bands.end()) {
        table.bands.push_back(band);
      }
      counts[team][band] += n;
    };
    if (unallocated) {
      for (const auto& count : section.team_bands) {
        add(count.team, count.band, count.count);
      }
    } else {
      for (const auto& item : section.open) {
        const auto& f = item.finding;
        std::string band = f.band;
        if (f.state == rules::State::kDueSoon) {
          band = std::string(rules::kDueSoonBand);
        }
        if (detail::is_data_problem(f)) {
          band = std::string(rules::kDataProblemsBand);
        }
        if (band.empty()) {
          band = std::string(rules::to_string(f.state));
        }
        add(f.team, band, 1);
      }
    }
    if (!unallocated) {
      // Only the states that hold items: timescale rules count records by band far beyond the
      // list (in timescale, not yet due), which the table does not show.
      std::vector<std::string> used;
      for (const auto& band : table.bands) {
        const bool any = std::any_of(counts.begin(), counts.end(),
                                     [&](const auto& team) { return team.second.count(band) > 0; });
        if (any) {
          used.push_back(band);
        }
      }
      table.bands = used;
    }
    table.band_totals.assign(table.bands.size(), 0);
    std::vector<std::string> teams;
    teams.reserve(counts.size());
    for (const auto& [team, by_band] : counts) {
      teams.push_back(team);
    }
    std::stable_sort(teams.begin(), teams.end(), [](const std::string& a, const std::string& b) {
      if (a.empty() != b.empty()) {
        return b.empty();
      }
      return a < b;
    });
    for (const auto& team : teams) {
      TeamTable::Row row{team, std::vector<int>(table.bands.size(), 0), 0};
      for (std::size_t b = 0; b < table.bands.size(); ++b) {
        const auto it = counts[team].find(table.bands[b]);
        const int n = it == counts[team].end() ? 0 : it->second;
        row.counts[b] = n;
        row.total += n;
        table.band_totals[b] += n;
        table.grand_total += n;
      }
      table.rows.push_back(std::move(row));
    }
    if (!table.rows.empty()) {
      tables.push_back(std::move(table));
    }
  }
  return tables;
}

}  // namespace report
