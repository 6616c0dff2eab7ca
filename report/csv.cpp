// The CSV review: UTF-8 with BOM, RFC 4180, one row per item, columns limited to an allow-list.
#include <fmt/format.h>

#include <algorithm>
#include <functional>

#include "report/format_util.h"
#include "report/report.h"

namespace report {
namespace {

// One CSV row's source: an open finding or a resolved one.
struct Item {
  const rules::Rule* rule;
  const rules::Finding* finding;
  const rules::TrackedFinding* open = nullptr;       // set for open findings
  const rules::ResolvedFinding* resolved = nullptr;  // set for resolved findings
};

std::string iso_or_empty(const std::optional<rules::Date>& date) { return date ? date->iso() : ""; }

// Free text from the data: guarded against spreadsheet formula injection.
std::string text(std::string_view value) {
  if (!value.empty() &&
      std::string_view("=+-@\t\r").find(value.front()) != std::string_view::npos) {
    return "'" + std::string(value);
  }
  return std::string(value);
}

std::string count_or_empty(bool applies, int value) {
  return applies ? std::to_string(std::max(value, 0)) : std::string();
}

// An open item's latest note; a resolved item's last note.
const rules::Note* note_of(const Item& i) {
  if (i.open != nullptr) {
    return i.open->latest_note ? &*i.open->latest_note : nullptr;
  }
  return i.resolved != nullptr && i.resolved->last_note ? &*i.resolved->last_note : nullptr;
}

using Extractor = std::function<std::string(const Item&)>;

const std::vector<std::pair<std::string, Extractor>>& extractors() {
  static const std::vector<std::pair<std::string, Extractor>> kExtractors = {
      {"rule", [](const Item& i) { return text(i.rule->id); }},
      {"title",
       [](const Item& i) { return text(i.rule->title.empty() ? i.rule->id : i.rule->title); }},
      {"key", [](const Item& i) { return text(i.finding->key); }},
      {"person", [](const Item& i) { return text(i.finding->person); }},
      {"team", [](const Item& i) { return text(i.finding->team); }},
      {"worker",
       [](const Item& i) { return text(detail::worker_text(*i.finding, *i.rule, true)); }},
      {"band", [](const Item& i) { return text(i.finding->band); }},
      {"status",
       [](const Item& i) {
         if (i.resolved != nullptr) {
           return std::string("resolved");
         }
         return std::string(rules::to_string(i.open->review_status));
       }},
      {"since", [](const Item& i) { return iso_or_empty(i.finding->since); }},
      {"days_unallocated",
       [](const Item& i) {
         return count_or_empty(
             i.rule->kind == rules::RuleKind::kUnallocated && i.finding->since.has_value(),
             i.finding->days);
       }},
      {"start", [](const Item& i) { return iso_or_empty(i.finding->start); }},
      {"due", [](const Item& i) { return iso_or_empty(i.finding->due); }},
      // "yes" when the due date is inferred from a latest-event column (DESIGN.md "Recurring"),
      // "no" for any other due date, empty without one.
      {"due_inferred",
       [](const Item& i) {
         if (!i.finding->due) {
           return std::string();
         }
         return std::string(i.finding->assumed_interval ? "yes" : "no");
       }},
      {"end", [](const Item& i) { return iso_or_empty(i.finding->end); }},
      {"working_days_elapsed",
       [](const Item& i) {
         return count_or_empty(i.finding->start.has_value() && detail::has_due_dates(*i.rule),
                               i.finding->working_days);
       }},
      {"days_overdue",
       [](const Item& i) {
         return count_or_empty(i.finding->state == rules::State::kOverdue, i.finding->days);
       }},
      {"due_in_days",
       [](const Item& i) {
         return count_or_empty(i.finding->state == rules::State::kDueSoon, -i.finding->days);
       }},
      {"weeks_on_list",
       [](const Item& i) {
         return i.open != nullptr ? std::to_string(i.open->weeks_on_review) : std::string();
       }},
      {"note",
       [](const Item& i) {
         return note_of(i) != nullptr ? text(note_of(i)->text) : std::string();
       }},
      {"note_author",
       [](const Item& i) {
         return note_of(i) != nullptr ? text(note_of(i)->author) : std::string();
       }},
      {"note_at",
       [](const Item& i) { return note_of(i) != nullptr ? text(note_of(i)->at) : std::string(); }},
      {"resolved_on",
       [](const Item& i) {
         return i.resolved != nullptr ? i.resolved->resolved_on.iso() : std::string();
       }},
      {"reason",
       [](const Item& i) {
         return i.resolved != nullptr ? text(detail::resolution_text(*i.resolved, *i.rule, true))
                                      : std::string();
       }},
  };
  return kExtractors;
}

}  // namespace

std::string detail::field_value(const rules::Rule& rule, const rules::TrackedFinding& item,
                                std::string_view field) {
  const auto& all = extractors();
  const auto it =
      std::find_if(all.begin(), all.end(), [&](const auto& e) { return e.first == field; });
  if (it == all.end()) {
    return {};
  }
  return it->second(Item{&rule, &item.finding, &item});
}

const std::vector<std::string>& known_fields() { return rules::kReviewFields; }

const std::vector<std::string>& default_fields() { return rules::kDefaultReviewFields; }

std::string render_csv(const Review& review, const std::vector<std::string>& columns) {
  std::vector<const Extractor*> chosen;
  std::vector<std::string> names;
  for (const auto& name : columns) {
    const auto& all = extractors();
    const auto it =
        std::find_if(all.begin(), all.end(), [&](const auto& e) { return e.first == name; });
    if (it == all.end()) {
      continue;
    }
    chosen.push_back(&it->second);
    names.push_back(name);
  }
  std::string out = "\xEF\xBB\xBF";  // UTF-8 byte order mark, for spreadsheets
  const auto add_line = [&](const std::vector<std::string>& fields) {
    for (std::size_t i = 0; i < fields.size(); ++i) {
      if (i > 0) {
        out += ',';
      }
      out += detail::csv_field(fields[i]);
    }
    out += "\r\n";
  };
  add_line(names);
  for (const auto& section : review.sections) {
    if (!section.rule->review) {
      continue;
    }
    std::vector<Item> items;
    for (const auto& group : detail::group_by_team(section.open)) {
      for (const auto* open : group.items) {
        items.push_back({section.rule, &open->finding, open});
      }
    }
    for (const auto* open : detail::data_problems(section.open)) {
      items.push_back({section.rule, &open->finding, open});
    }
    for (const auto* resolved : detail::resolved_in_order(section.resolved)) {
      items.push_back({section.rule, &resolved->last, nullptr, resolved});
    }
    for (const auto& item : items) {
      std::vector<std::string> fields;
      fields.reserve(chosen.size());
      for (const auto* extract : chosen) {
        fields.push_back((*extract)(item));
      }
      add_line(fields);
    }
  }
  return out;
}

}  // namespace report
