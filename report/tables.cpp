// The review's tables as values (band table, trend, scorecards, caseloads), the team slice and
// the headline.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>

#include "report/format_util.h"
#include "report/report.h"

namespace report {
namespace {

std::string title_of(const rules::Rule& rule) { return rule.title.empty() ? rule.id : rule.title; }

std::vector<std::string> band_labels(const RuleSection& section) {
  std::vector<std::string> labels;
  for (const auto& count : section.bands) {
    if (std::find(labels.begin(), labels.end(), count.band) == labels.end()) {
      labels.push_back(count.band);
    }
  }
  return labels;
}

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

// `*` and `?` wildcards, case-insensitive (ASCII), over the whole text.
bool glob_match(std::string_view glob, std::string_view text) {
  std::size_t g = 0;
  std::size_t t = 0;
  std::size_t star = std::string_view::npos;
  std::size_t mark = 0;
  while (t < text.size()) {
    if (g < glob.size() && (glob[g] == '?' || lower(glob[g]) == lower(text[t]))) {
      ++g;
      ++t;
    } else if (g < glob.size() && glob[g] == '*') {
      star = g++;
      mark = t;
    } else if (star != std::string_view::npos) {
      g = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (g < glob.size() && glob[g] == '*') {
    ++g;
  }
  return g == glob.size();
}

bool team_matches(const std::string& team, const std::vector<std::string>& globs) {
  if (team.empty()) {
    return false;
  }
  return std::any_of(globs.begin(), globs.end(),
                     [&](const std::string& glob) { return glob_match(glob, team); });
}

const rules::Rule* find_rule(const Review& review, std::string_view id) {
  for (const auto& section : review.sections) {
    if (section.rule->id == id) {
      return section.rule;
    }
  }
  return nullptr;
}

}  // namespace

std::vector<BandTable> band_tables(const Review& review) {
  std::vector<BandTable> tables;
  for (const auto& section : review.sections) {
    if (section.bands.empty() || section.rule->kind != rules::RuleKind::kUnallocated) {
      continue;
    }
    const auto labels = band_labels(section);
    if (tables.empty() || tables.back().bands != labels) {
      tables.push_back(BandTable{labels, {}, std::vector<int>(labels.size(), 0), 0});
    }
    BandTable& table = tables.back();
    BandTable::Row row{section.rule->id, title_of(*section.rule),
                       std::vector<int>(labels.size(), 0), 0, 0};
    row.listed = static_cast<int>(std::count_if(
        section.open.begin(), section.open.end(),
        [](const auto& item) { return item.finding.state == rules::State::kBreach; }));
    for (const auto& count : section.bands) {
      if (!count.team.empty()) {
        continue;
      }
      const auto at = static_cast<std::size_t>(std::find(labels.begin(), labels.end(), count.band) -
                                               labels.begin());
      row.counts[at] += count.count;
      row.total += count.count;
      table.band_totals[at] += count.count;
      table.grand_total += count.count;
    }
    table.rows.push_back(std::move(row));
  }
  return tables;
}

TrendTable trend_table(const Review& review, int weeks) {
  TrendTable table;
  const rules::Date last_monday = review.week.monday();
  for (int i = weeks - 1; i >= 0; --i) {
    table.weeks.push_back(rules::iso_week(last_monday - 7 * i));
  }

  for (const auto& section : review.sections) {
    if (section.trend.empty() && section.bands.empty()) {
      continue;
    }
    auto labels = band_labels(section);
    for (const auto& point : section.trend) {
      if (std::find(labels.begin(), labels.end(), point.band) == labels.end()) {
        labels.push_back(point.band);
      }
    }
    // The latest evaluation in each week.
    std::vector<std::optional<rules::Date>> latest(table.weeks.size());
    for (const auto& point : section.trend) {
      const auto week = rules::iso_week(point.as_of);
      const auto it = std::find(table.weeks.begin(), table.weeks.end(), week);
      if (it == table.weeks.end()) {
        continue;
      }
      auto& slot = latest[static_cast<std::size_t>(it - table.weeks.begin())];
      if (!slot || *slot < point.as_of) {
        slot = point.as_of;
      }
    }
    const auto count_at = [&](std::size_t week, const std::string* band) -> std::optional<int> {
      if (!latest[week]) {
        return std::nullopt;
      }
      int sum = 0;
      for (const auto& point : section.trend) {
        if (point.as_of == *latest[week] && (band == nullptr || point.band == *band)) {
          sum += point.count;
        }
      }
      return sum;
    };
    TrendTable::Row total{section.rule->id, title_of(*section.rule), "", {}};
    for (std::size_t w = 0; w < table.weeks.size(); ++w) {
      total.counts.push_back(count_at(w, nullptr));
    }
    table.rows.push_back(std::move(total));
    for (const auto& label : labels) {
      TrendTable::Row row{section.rule->id, title_of(*section.rule), label, {}};
      for (std::size_t w = 0; w < table.weeks.size(); ++w) {
        row.counts.push_back(count_at(w, &label));
      }
      table.rows.push_back(std::move(row));
    }
  }
  return table;
}

std::vector<Scorecard> scorecards(const Review& review) {
  static constexpr std::string_view kMonths[] = {"January",   "February", "March",    "April",
                                                 "May",       "June",     "July",     "August",
                                                 "September", "October",  "November", "December"};
  std::vector<Scorecard> cards;
  const rules::Date today = review.today;
  const rules::IsoWeek week = rules::iso_week(today);
  const rules::Date month_start = *rules::Date::from_ymd(today.year(), today.month(), 1);
  const rules::Date year_start = rules::financial_year_start(today);
  for (const auto& section : review.sections) {
    const rules::Rule& rule = *section.rule;
    const bool recurring = rule.kind == rules::RuleKind::kRecurring;
    if (rule.kind != rules::RuleKind::kTimescale && !recurring) {
      continue;
    }
    Scorecard card;
    card.rule = rule.id;
    card.title = title_of(rule);
    card.recurring = recurring;
    card.latest_only = recurring && rule.events_source.empty();
    card.target_percent = rule.target_percent;
    card.tolerance = rule.tolerance;
    const auto period = [&](std::string label, rules::Date from, rules::Date to) {
      card.periods.push_back(Scorecard::Period{
          std::move(label), from, to,
          rules::kpi(section.completions, rule.id, from, to, rule.target_percent, rule.tolerance)});
    };
    period(fmt::format("Week {}", week.str()), week.monday(), week.sunday());
    const rules::Kpi& this_week = card.periods.back().kpi;
    card.held_late_this_week = recurring ? this_week.judged - this_week.in_timescale : 0;
    period(fmt::format("{} {}", kMonths[today.month() - 1], today.year()), month_start,
           rules::add_months(month_start, 1) - 1);
    period(fmt::format("Year to date (from {})", long_date(year_start)), year_start, today);
    card.overdue_in_progress = static_cast<int>(std::count_if(
        section.open.begin(), section.open.end(),
        [](const auto& item) { return item.finding.state == rules::State::kOverdue; }));
    cards.push_back(std::move(card));
  }
  return cards;
}

std::vector<TeamCaseload> team_caseloads(const Review& review) {
  std::vector<std::string> rule_order;
  std::map<std::pair<std::string, std::string>, TeamCaseload> by_team;
  for (const auto& load : review.caseloads) {
    if (std::find(rule_order.begin(), rule_order.end(), load.rule) == rule_order.end()) {
      rule_order.push_back(load.rule);
    }
    const rules::Rule* rule = find_rule(review, load.rule);
    auto& team = by_team[{load.rule, load.team}];
    team.rule = load.rule;
    team.title = rule != nullptr ? title_of(*rule) : load.rule;
    team.team = load.team;
    team.max_cases = rule != nullptr ? rule->max_cases : 0;
    team.workers += 1;
    team.cases += load.cases;
    team.maximum = std::max(team.maximum, load.cases);
    if (team.max_cases > 0 && load.cases > team.max_cases) {
      team.workers_over += 1;
    }
  }
  std::vector<TeamCaseload> teams;
  for (const auto& rule : rule_order) {
    for (auto& [key, team] : by_team) {
      if (key.first != rule) {
        continue;
      }
      team.average = static_cast<double>(team.cases) / team.workers;
      teams.push_back(team);
    }
  }
  return teams;
}

Review for_teams(const Review& review, const std::vector<std::string>& team_globs) {
  Review slice;
  slice.week = review.week;
  slice.today = review.today;
  slice.late = review.late;
  slice.title = review.title;
  std::string filter;
  for (const auto& glob : team_globs) {
    filter += (filter.empty() ? "" : ", ") + glob;
  }
  slice.team_filter = filter;
  slice.route = review.route;
  slice.stale = review.stale;
  for (const auto& section : review.sections) {
    RuleSection part;
    part.rule = section.rule;
    part.as_of = section.as_of;
    part.baseline = section.baseline;
    part.previous_review = section.previous_review;
    part.no_data = section.no_data;
    for (const auto& count : section.team_bands) {
      if (team_matches(count.team, team_globs)) {
        part.team_bands.push_back(count);
      }
    }
    for (const auto& item : section.open) {
      if (team_matches(item.finding.team, team_globs)) {
        part.open.push_back(item);
      }
    }
    for (const auto& item : section.resolved) {
      if (team_matches(item.last.team, team_globs)) {
        part.resolved.push_back(item);
      }
    }
    slice.sections.push_back(std::move(part));
  }
  for (const auto& load : review.caseloads) {
    if (team_matches(load.team, team_globs)) {
      slice.caseloads.push_back(load);
    }
  }
  return slice;
}

std::string headline(const Review& review) {
  std::vector<std::string> parts;
  for (const auto& section : review.sections) {
    const rules::Rule& rule = *section.rule;
    if (!rule.review) {
      continue;
    }
    const auto n = std::count_if(section.open.begin(), section.open.end(), [](const auto& item) {
      return item.finding.state == rules::State::kBreach ||
             item.finding.state == rules::State::kOverdue;
    });
    switch (rule.kind) {
      case rules::RuleKind::kUnallocated: {
        std::string what = describe(rule);
        if (n == 1 && what.starts_with("cases ")) {
          what.erase(4, 1);
        }
        parts.push_back(fmt::format("{} {}", n, what));
        break;
      }
      case rules::RuleKind::kTimescale:
      case rules::RuleKind::kRecurring:
        parts.push_back(fmt::format("{} out of timescale ({})", n, describe(rule)));
        break;
      case rules::RuleKind::kCaseload:
        parts.push_back(fmt::format("{} over the caseload limit ({})", n, describe(rule)));
        break;
    }
  }
  std::string line;
  for (const auto& part : parts) {
    line += (line.empty() ? "" : "; ") + part;
  }
  if (line.empty()) {
    line = "No review lists";
  }
  if (!review.team_filter.empty()) {
    line = fmt::format("{}: {}", review.team_filter, line);
  }
  return detail::clean(line);
}

}  // namespace report
