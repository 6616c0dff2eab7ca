// Text measuring, wrapping and escaping, and the wording shared by the text and HTML reviews.
#include "report/format_util.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

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
      if (count == n) {
        return i;
      }
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
    if (u < 0x20 || u == 0x7F) {
      c = ' ';
    }
  }
  return out;
}

std::string truncate(std::string_view text, std::size_t max) {
  if (width(text) <= max) {
    return std::string(text);
  }
  if (max <= 3) {
    return std::string(text.substr(0, offset_of(text, max)));
  }
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
    if (end == std::string::npos) {
      end = text.size();
    }
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
    if (word.empty()) {
      continue;
    }
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
  if (!line.empty() || lines.empty()) {
    lines.push_back(line);
  }
  return lines;
}

std::string pad(std::string_view text, std::size_t w, bool right_align) {
  const std::size_t have = width(text);
  if (have >= w) {
    return std::string(text);
  }
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
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) {
    return std::string(text);
  }
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"') {
      out += '"';
    }
    out += c;
  }
  out += '"';
  return out;
}

std::string status_text(const rules::TrackedFinding& item) {
  if (item.review_status == rules::FindingStatus::kNew) {
    return "NEW";
  }
  return fmt::format("CARRIED ({} week{})", item.weeks_on_review,
                     item.weeks_on_review == 1 ? "" : "s");
}

std::string comparison_text(const RuleSection& section) {
  if (!section.previous_week || !section.previous_review) {
    return "First review: there is no earlier review to compare with; every item is NEW.";
  }
  return fmt::format("Compared with the review of {} (as of {}).", section.previous_week->str(),
                     long_date(*section.previous_review));
}

std::string rule_change_text(const RuleSection& section) {
  if (!section.rule_changed_on) {
    return "";
  }
  std::string changes;
  for (const auto& change : section.rule_changes) {
    changes += (changes.empty() ? ": " : "; ") + clean(change);
  }
  return fmt::format(
      "Rule changed on {}{}. Cases listed under both definitions keep their weeks "
      "and notes; cases that left because of the change are listed apart.",
      long_date(*section.rule_changed_on), changes);
}

bool left_without_fix(const rules::ResolvedFinding& item) {
  return item.reason == rules::Resolution::kClockRestarted ||
         item.reason == rules::Resolution::kRuleChanged;
}

std::string resolution_text(const rules::ResolvedFinding& item, const rules::Rule& rule, bool iso,
                            bool worker) {
  const std::string seen = iso ? item.resolved_on.iso() : long_date(item.resolved_on);
  const auto dated = [&](std::string_view text) {
    return iso ? std::string(text) : long_dates(text);
  };
  switch (item.reason) {
    case rules::Resolution::kVanished:
      return fmt::format("VANISHED from the extract (by {}): not confirmed fixed, check the case",
                         seen);
    case rules::Resolution::kClosed:
      return item.detail.empty() ? fmt::format("Case closed (by {})", seen)
                                 : fmt::format("Case closed: {}", dated(item.detail));
    case rules::Resolution::kClockRestarted:
      return "Still unallocated: " + dated(item.detail.starts_with("still unallocated: ")
                                               ? item.detail.substr(19)
                                               : item.detail);
    case rules::Resolution::kRuleChanged:
      return fmt::format("Rule definition changed (on {}): not fixed", seen);
    case rules::Resolution::kConditionStopped:
      break;
  }
  if (!item.detail.empty() && (worker || !item.detail.starts_with("allocated to "))) {
    return dated(item.detail);
  }
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

std::string long_dates(std::string_view text) {
  std::string out;
  std::size_t i = 0;
  const auto digits = [&](std::size_t at, std::size_t n) {
    if (at + n > text.size()) {
      return false;
    }
    for (std::size_t k = at; k < at + n; ++k) {
      if (text[k] < '0' || text[k] > '9') {
        return false;
      }
    }
    return true;
  };
  while (i < text.size()) {
    if (digits(i, 4) && i + 10 <= text.size() && text[i + 4] == '-' && digits(i + 5, 2) &&
        text[i + 7] == '-' && digits(i + 8, 2) && !digits(i + 10, 1) &&
        (i == 0 || !digits(i - 1, 1))) {
      if (const auto date = rules::Date::parse_iso(text.substr(i, 10))) {
        out += long_date(*date);
        i += 10;
        continue;
      }
    }
    out += text[i++];
  }
  return out;
}

namespace {

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

}  // namespace

std::string worker_text(const rules::Finding& finding, const rules::Rule& rule, bool iso) {
  const std::string_view worker = trimmed(finding.worker);
  if (worker.empty()) {
    return "no worker";
  }
  const bool pseudo =
      iequal(worker, trimmed(finding.team)) ||
      std::any_of(rule.not_a_worker.begin(), rule.not_a_worker.end(),
                  [&](const std::string& name) { return iequal(worker, trimmed(name)); });
  if (pseudo) {
    return fmt::format("no worker ({})", clean(worker));
  }
  if (rule.kind == rules::RuleKind::kUnallocated && finding.state == rules::State::kBreach) {
    // On the unallocated list with a name: either the allocation has ended, or the name stands
    // for nobody (the rule's matchers said so when the finding was made).
    if (finding.detail.starts_with(rules::kAllocationEnded)) {
      const std::string_view day =
          std::string_view(finding.detail).substr(rules::kAllocationEnded.size());
      if (const auto date = rules::Date::parse_iso(day)) {
        return fmt::format("{} (ended {})", clean(worker), iso ? date->iso() : long_date(*date));
      }
    }
    return fmt::format("no worker ({})", clean(worker));
  }
  return clean(worker);
}

std::string short_band(std::string_view label) {
  if (label == rules::kInaccuraciesBand) {
    return "Untrusted";
  }
  if (label == rules::kDataProblemsBand) {
    return "Data problems";
  }
  std::string out(label);
  const auto replace = [&](std::string_view from, std::string_view to) {
    for (auto at = out.find(from); at != std::string::npos; at = out.find(from, at + to.size())) {
      out.replace(at, from.size(), to);
    }
  };
  replace("Overdue ", "");
  replace("Under ", "<");
  replace(" or more", "+");
  replace(" to ", "-");
  replace(" weeks", "w");
  replace(" week", "w");
  replace(" months", "m");
  replace(" month", "m");
  replace(" working days", "wd");
  replace(" days", "d");
  replace(" day", "d");
  if (label.starts_with("Overdue ")) {
    out = "Over " + out;
  }
  return out;
}

Kept keep_items(const std::vector<const rules::TrackedFinding*>& items, std::size_t limit,
                std::optional<rules::Date> previous_review) {
  if (limit == 0 || items.size() <= limit) {
    return {items, 0};
  }
  const auto first_class = [&](const rules::TrackedFinding* item) {
    if (item->review_status == rules::FindingStatus::kNew) {
      return true;
    }
    if (!item->latest_note) {
      return true;  // a note is due
    }
    const auto at = rules::Date::parse_iso(std::string_view(item->latest_note->at).substr(0, 10));
    return !at || (previous_review && *at <= *previous_review);
  };
  std::vector<std::size_t> order(items.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    order[i] = i;
  }
  std::stable_partition(order.begin(), order.end(),
                        [&](std::size_t i) { return first_class(items[i]); });
  order.resize(limit);
  std::sort(order.begin(), order.end());
  Kept kept;
  for (const std::size_t i : order) {
    kept.items.push_back(items[i]);
  }
  kept.cut = items.size() - limit;
  return kept;
}

std::string more_text(std::size_t cut, std::string_view where) {
  return fmt::format("and {} more in {}", cut, where);
}

std::vector<const rules::ResolvedFinding*> resolved_in_order(
    const std::vector<rules::ResolvedFinding>& resolved) {
  std::vector<const rules::ResolvedFinding*> out;
  out.reserve(resolved.size());
  for (const auto& item : resolved) {
    out.push_back(&item);
  }
  std::stable_sort(out.begin(), out.end(), [](const auto* a, const auto* b) {
    // Fixes first; those that left without a fix after them, apart.
    if (left_without_fix(*a) != left_without_fix(*b)) {
      return left_without_fix(*b);
    }
    if (a->last.team.empty() != b->last.team.empty()) {
      return b->last.team.empty();
    }
    if (a->last.team != b->last.team) {
      return a->last.team < b->last.team;
    }
    return a->last.key < b->last.key;
  });
  return out;
}

std::string problem_text(const rules::Finding& f) {
  if (!f.detail.empty()) {
    return long_dates(f.detail);
  }
  if (!f.band.empty()) {
    return f.band;
  }
  return std::string(rules::to_string(f.state));
}

bool is_data_problem(const rules::Finding& finding) {
  return finding.state == rules::State::kUntrusted || finding.state == rules::State::kDataProblem;
}

ListCounts count_list(const std::vector<TeamGroup>& groups) {
  ListCounts counts;
  for (const auto& group : groups) {
    for (const auto* item : group.items) {
      ++counts.listed;
      if (item->review_status == rules::FindingStatus::kNew) {
        ++counts.fresh;
      }
      if (item->silenced) {
        ++counts.silenced;
      }
    }
  }
  return counts;
}

std::vector<TeamGroup> group_by_team(const std::vector<rules::TrackedFinding>& open) {
  std::vector<TeamGroup> groups;
  for (const auto& item : open) {
    if (is_data_problem(item.finding)) {
      continue;
    }
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&](const TeamGroup& g) { return g.team == item.finding.team; });
    if (it == groups.end()) {
      groups.push_back(TeamGroup{item.finding.team, {}});
      it = std::prev(groups.end());
    }
    it->items.push_back(&item);
  }
  std::sort(groups.begin(), groups.end(), [](const TeamGroup& a, const TeamGroup& b) {
    if (a.team.empty() != b.team.empty()) {
      return b.team.empty();
    }
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
    if (is_data_problem(item.finding)) {
      items.push_back(&item);
    }
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
  if (kpi.judged == 0) {
    return "-";
  }
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

std::string person_changes_heading(const Review& review) {
  return fmt::format("Data quality: keys that now belong to a different person ({})",
                     review.person_changes.size());
}

std::string person_changes_text(const Review& review, const Output& output) {
  const std::size_t n = review.person_changes.size();
  std::string text = fmt::format(
      "In the extracts since the last review, {} record key{} named a different person than in "
      "{} source's previous extract: the history under {} (first seen, weeks on the list, notes) "
      "may be another child's. Check {} on the case system.",
      n, n == 1 ? "" : "s", n == 1 ? "its" : "their", n == 1 ? "that key" : "those keys",
      n == 1 ? "it" : "them");
  if (!output.allows("key")) {
    text += " The keys are in the review files.";
  }
  return text;
}

}  // namespace detail
}  // namespace report
