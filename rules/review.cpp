// Review-relative status and the settings diff of a changed rule.
#include "rules/review.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

namespace rules {
namespace {

std::vector<std::string> split_parts(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const auto end = text.find(';');
    out.emplace_back(text.substr(0, end));
    if (end == std::string_view::npos) {
      break;
    }
    text.remove_prefix(end + 1);
  }
  return out;
}

std::string name_of(const std::string& part) { return part.substr(0, part.find('=')); }
std::string value_of(const std::string& part) {
  const auto eq = part.find('=');
  return eq == std::string::npos ? std::string() : part.substr(eq + 1);
}

}  // namespace

void mark_against(std::vector<TrackedFinding>& open, const PublishedReview* previous) {
  std::map<std::pair<std::string_view, std::string_view>, int> weeks;
  if (previous != nullptr) {
    for (const auto& item : previous->items) {
      weeks.emplace(std::pair<std::string_view, std::string_view>(item.rule, item.key), item.weeks);
    }
  }
  for (auto& tracked : open) {
    const auto found = weeks.find({tracked.finding.rule, tracked.finding.key});
    if (found == weeks.end()) {
      tracked.review_status = FindingStatus::kNew;
      tracked.weeks_on_review = 0;
    } else {
      tracked.review_status = FindingStatus::kCarried;
      tracked.weeks_on_review = found->second + 1;
    }
  }
}

std::vector<ReviewItem> left_since(const PublishedReview& previous, std::string_view rule,
                                   const std::vector<TrackedFinding>& open) {
  std::set<std::string_view> now;
  for (const auto& tracked : open) {
    if (tracked.finding.rule == rule) {
      now.insert(tracked.finding.key);
    }
  }
  std::vector<ReviewItem> out;
  for (const auto& item : previous.items) {
    if (item.rule == rule && !now.contains(item.key)) {
      out.push_back(item);
    }
  }
  return out;
}

std::vector<ReviewItem> review_items(const std::vector<TrackedFinding>& open) {
  std::vector<ReviewItem> out;
  out.reserve(open.size());
  for (const auto& tracked : open) {
    out.push_back(ReviewItem{tracked.finding.rule, tracked.finding.key, tracked.finding.band,
                             tracked.finding.state, tracked.weeks_on_review});
  }
  return out;
}

std::vector<std::string> definition_diff(std::string_view before, std::string_view after) {
  const auto old_parts = split_parts(before);
  const auto new_parts = split_parts(after);
  std::map<std::string, std::vector<std::string>> old_by_name;
  std::map<std::string, std::vector<std::string>> new_by_name;
  std::vector<std::string> names;  // in order of first appearance, old then new
  for (const auto& part : old_parts) {
    if (!old_by_name.contains(name_of(part))) {
      names.push_back(name_of(part));
    }
    old_by_name[name_of(part)].push_back(part);
  }
  for (const auto& part : new_parts) {
    if (!old_by_name.contains(name_of(part)) && !new_by_name.contains(name_of(part))) {
      names.push_back(name_of(part));
    }
    new_by_name[name_of(part)].push_back(part);
  }
  std::vector<std::string> out;
  for (const auto& name : names) {
    const auto& was = old_by_name[name];
    const auto& is = new_by_name[name];
    if (was == is) {
      continue;
    }
    if (was.size() == 1 && is.size() == 1) {
      out.push_back(name + ": " + value_of(was[0]) + " -> " + value_of(is[0]));
      continue;
    }
    for (const auto& part : was) {
      if (std::find(is.begin(), is.end(), part) == is.end()) {
        out.push_back("removed " + part);
      }
    }
    for (const auto& part : is) {
      if (std::find(was.begin(), was.end(), part) == was.end()) {
        out.push_back("added " + part);
      }
    }
  }
  return out;
}

}  // namespace rules
