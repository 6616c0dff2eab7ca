// Text measuring, wrapping and escaping, and the wording shared by the text and HTML reviews.
#include "report/format_util.h"

#include <fmt/format.h>

#include <algorithm>

namespace report {

std::string long_date(rules::Date date) {
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  return fmt::format("{} {} {}", date.day(), kMonths[date.month() - 1], date.year());
}

std::string describe(const rules::Rule& rule) {
  if (rule.kind == rules::RuleKind::kUnallocated) {
    if (rule.over_days % 7 == 0) {
      const int weeks = rule.over_days / 7;
      return fmt::format("cases unallocated over {} week{}", weeks, weeks == 1 ? "" : "s");
    }
    return fmt::format("cases unallocated over {} days", rule.over_days);
  }
  return rule.title.empty() ? rule.id : rule.title;
}

namespace detail {
namespace {

bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// The byte offset just past the first `n` code points of `text` (or its size).
std::size_t offset_of(std::string_view text, std::size_t n) {
  std::size_t i = 0;
  std::size_t count = 0;
  while (i < text.size()) {
    if (!is_continuation(text[i])) {
      if (count == n) return i;
      ++count;
    }
    ++i;
  }
  return text.size();
}

}  // namespace

std::size_t width(std::string_view text) {
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return !is_continuation(c); }));
}

std::string clean(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) c = ' ';
  }
  return out;
}

std::string truncate(std::string_view text, std::size_t max) {
  if (width(text) <= max) return std::string(text);
  if (max <= 3) return std::string(text.substr(0, offset_of(text, max)));
  return std::string(text.substr(0, offset_of(text, max - 3))) + "...";
}

std::vector<std::string> wrap(std::string_view raw, std::size_t max) {
  const std::string text = clean(raw);
  std::vector<std::string> lines;
  std::string line;
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (text[pos] == ' ') {
      ++pos;
      continue;
    }
    std::size_t end = text.find(' ', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view word(text.data() + pos, end - pos);
    pos = end;
    while (width(word) > max) {  // split an over-long word
      if (!line.empty()) {
        lines.push_back(line);
        line.clear();
      }
      const std::size_t cut = offset_of(word, max);
      lines.emplace_back(word.substr(0, cut));
      word.remove_prefix(cut);
    }
    if (word.empty()) continue;
    if (line.empty()) {
      line = word;
    } else if (width(line) + 1 + width(word) <= max) {
      line += ' ';
      line += word;
    } else {
      lines.push_back(line);
      line = word;
    }
  }
  if (!line.empty() || lines.empty()) lines.push_back(line);
  return lines;
}

std::string pad(std::string_view text, std::size_t w, bool right_align) {
  const std::size_t have = width(text);
  if (have >= w) return std::string(text);
  const std::string spaces(w - have, ' ');
  return right_align ? spaces + std::string(text) : std::string(text) + spaces;
}

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string status_text(const rules::TrackedFinding& item) {
  if (item.status == rules::FindingStatus::kNew) return "NEW";
  return fmt::format("CARRIED ({} week{})", item.weeks_on_list, item.weeks_on_list == 1 ? "" : "s");
}

std::string resolution_text(const rules::ResolvedFinding& item, const rules::Rule& rule) {
  const std::string seen = long_date(item.resolved_on);
  switch (item.reason) {
    case rules::Resolution::kVanished:
      return fmt::format("VANISHED from the extract (by {}): not confirmed fixed, check the case",
                         seen);
    case rules::Resolution::kClosed:
      return item.detail.empty() ? fmt::format("Case closed (by {})", seen)
                                 : fmt::format("Case closed: {}", item.detail);
    case rules::Resolution::kConditionStopped:
      break;
  }
  if (!item.detail.empty()) return item.detail;
  switch (rule.kind) {
    case rules::RuleKind::kUnallocated:
      return fmt::format("Allocated (by {})", seen);
    case rules::RuleKind::kTimescale:
      return fmt::format("Completed (by {})", seen);
    case rules::RuleKind::kRecurring:
      return fmt::format("Held (by {})", seen);
    case rules::RuleKind::kCaseload:
      return fmt::format("Back within the limit (by {})", seen);
  }
  return fmt::format("Left the list (by {})", seen);
}

bool is_data_problem(const rules::Finding& finding) {
  return finding.state == rules::State::kUntrusted || finding.state == rules::State::kDataProblem;
}

ListCounts count_list(const std::vector<TeamGroup>& groups) {
  ListCounts counts;
  for (const auto& group : groups) {
    for (const auto* item : group.items) {
      ++counts.listed;
      if (item->status == rules::FindingStatus::kNew) ++counts.fresh;
      if (item->silenced) ++counts.silenced;
    }
  }
  return counts;
}

std::vector<TeamGroup> group_by_team(const std::vector<rules::TrackedFinding>& open) {
  std::vector<TeamGroup> groups;
  for (const auto& item : open) {
    if (is_data_problem(item.finding)) continue;
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&](const TeamGroup& g) { return g.team == item.finding.team; });
    if (it == groups.end()) {
      groups.push_back(TeamGroup{item.finding.team, {}});
      it = std::prev(groups.end());
    }
    it->items.push_back(&item);
  }
  std::sort(groups.begin(), groups.end(), [](const TeamGroup& a, const TeamGroup& b) {
    if (a.team.empty() != b.team.empty()) return b.team.empty();
    return a.team < b.team;
  });
  for (auto& group : groups) {
    std::stable_sort(group.items.begin(), group.items.end(),
                     [](const rules::TrackedFinding* a, const rules::TrackedFinding* b) {
                       if (a->finding.days != b->finding.days) {
                         return a->finding.days > b->finding.days;
                       }
                       if (a->finding.cases != b->finding.cases) {
                         return a->finding.cases > b->finding.cases;
                       }
                       return a->finding.key < b->finding.key;
                     });
  }
  return groups;
}

std::vector<const rules::TrackedFinding*> data_problems(
    const std::vector<rules::TrackedFinding>& open) {
  std::vector<const rules::TrackedFinding*> items;
  for (const auto& item : open) {
    if (is_data_problem(item.finding)) items.push_back(&item);
  }
  std::stable_sort(items.begin(), items.end(),
                   [](const rules::TrackedFinding* a, const rules::TrackedFinding* b) {
                     return a->finding.key < b->finding.key;
                   });
  return items;
}

std::string team_label(const std::string& team) {
  return team.empty() ? "(no team recorded)" : team;
}

std::string nothing_this_week(const rules::Rule& rule) {
  switch (rule.kind) {
    case rules::RuleKind::kUnallocated:
      return fmt::format("No {} this week.", describe(rule));
    case rules::RuleKind::kTimescale:
    case rules::RuleKind::kRecurring:
      return fmt::format("Nothing out of timescale or due soon for {} this week.", describe(rule));
    case rules::RuleKind::kCaseload:
      return fmt::format("No worker over the caseload limit for {} this week.", describe(rule));
  }
  return "Nothing on this list this week.";
}

std::string rag_text(rules::Rag rag) {
  switch (rag) {
    case rules::Rag::kRed:
      return "Red";
    case rules::Rag::kAmber:
      return "Amber";
    case rules::Rag::kGreen:
      return "Green";
    case rules::Rag::kNone:
      break;
  }
  return "-";
}

std::string percent_text(const rules::Kpi& kpi) {
  if (kpi.completed == 0) return "-";
  return fmt::format("{:.1f}%", kpi.percent);
}

std::string note_date(const rules::Note& note) {
  if (const auto date = rules::Date::parse_iso(std::string_view(note.at).substr(0, 10))) {
    return long_date(*date);
  }
  return clean(note.at);
}

bool has_due_dates(const rules::Rule& rule) {
  return rule.kind == rules::RuleKind::kTimescale || rule.kind == rules::RuleKind::kRecurring;
}

}  // namespace detail
}  // namespace report
