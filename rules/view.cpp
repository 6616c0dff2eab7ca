#include "rules/view.h"

#include <stdexcept>

#include "rules/evaluate_internal.h"

namespace rules {
namespace {

std::uint32_t text_hash(std::string_view text) {  // FNV-1a, folded to 32 bits
  std::uint64_t h = 14695981039346656037ULL;
  for (const char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return static_cast<std::uint32_t>(h ^ (h >> 32));
}

// Dictionary::slots holds slot i as entries 2i (the hash) and 2i + 1 (code + 1, 0 = empty).
constexpr std::size_t kFirstSlots = 64;
// How many distinct texts a text field holds before the builder asks whether it is worth
// looking them up (RecordViewBuilder::code_of).
constexpr std::size_t kPlainAfter = 4096;

std::uint32_t checked_end(std::size_t end) {
  if (end > UINT32_MAX) {
    throw std::length_error("RecordView: over 4 GiB of texts in one column");
  }
  return static_cast<std::uint32_t>(end);
}

}  // namespace

const DateValue RecordView::kNoDate{};

DateValue parse_date_value(std::string_view text) {
  text = internal::trim(text);
  if (text.empty()) {
    return {};
  }
  std::int32_t days = 0;
  if (civil::parse_iso_days(text, days)) {
    return {DateValue::Kind::kDate, Date::from_days(days), {}};
  }
  return {DateValue::Kind::kBad, Date(), text};
}

std::vector<FieldUse> fields_read(const RuleSet& rules, const Source& source) {
  std::vector<FieldUse> uses(source.fields.size(), FieldUse::kNone);
  const auto use = [&](std::string_view name, FieldUse how) {
    const int index = source.field_index(name);
    if (index < 0) {
      return;
    }
    FieldUse& field = uses[static_cast<std::size_t>(index)];
    if (how == FieldUse::kDate || field == FieldUse::kNone) {
      field = how;
    }
  };
  for (const Rule& rule : rules.rules) {
    if (rule.kind == RuleKind::kRecurring && rule.events_source == source.name) {
      use("person", FieldUse::kText);
      use(rule.event, FieldUse::kDate);
    }
    if (rule.kind == RuleKind::kUnallocated && rule.allocations_source == source.name) {
      for (const char* name : {"person", "worker", "team"}) {
        use(name, FieldUse::kText);
      }
      use("allocation_start", FieldUse::kDate);
      use("allocation_end", FieldUse::kDate);
    }
    if (rule.source != source.name) {
      continue;
    }
    for (const Filter& filter : rule.where) {
      use(filter.field, FieldUse::kText);
    }
    for (const Filter& filter : rule.unless) {
      use(filter.field, FieldUse::kText);
    }
    for (const char* name : {"person", "team", "worker"}) {
      use(name, FieldUse::kText);
    }
    switch (rule.kind) {
      case RuleKind::kUnallocated:
      case RuleKind::kCaseload:
        use("status", FieldUse::kText);
        for (const char* name : {"opened", "closed", "allocation_start", "allocation_end"}) {
          use(name, FieldUse::kDate);
        }
        if (!rule.allocations_source.empty()) {
          use(rule.start, FieldUse::kDate);
          use(rule.end, FieldUse::kDate);
        }
        break;
      case RuleKind::kTimescale:
        use(rule.start, FieldUse::kDate);
        use(rule.end, FieldUse::kDate);
        break;
      case RuleKind::kRecurring:
        use(rule.start, FieldUse::kDate);
        use(rule.end, FieldUse::kDate);
        if (rule.events_source.empty()) {
          use(rule.event, FieldUse::kDate);
        }
        break;
    }
  }
  return uses;
}

RecordView RecordView::of(const Source& source, const std::vector<Record>& records) {
  RecordViewBuilder builder(std::vector<FieldUse>(source.fields.size(), FieldUse::kDate));
  builder.reserve(records.size());
  for (const Record& record : records) {
    builder.add(record);
  }
  return builder.finish();
}

std::size_t RecordView::bytes() const {
  std::size_t total = keys_.capacity() + key_ends_.capacity() * sizeof(std::uint32_t);
  for (const Column& column : columns_) {
    total += column.codes.capacity() * sizeof(std::uint32_t) + column.texts.capacity() +
             column.ends.capacity() * sizeof(std::uint32_t) +
             column.dates.capacity() * sizeof(DateValue);
  }
  return total;
}

RecordViewBuilder::RecordViewBuilder(const std::vector<FieldUse>& uses) {
  view_.columns_.resize(uses.size());
  dictionaries_.resize(uses.size());
  for (std::size_t i = 0; i < uses.size(); ++i) {
    if (uses[i] == FieldUse::kNone) {
      continue;
    }
    view_.columns_[i].held = true;
    view_.columns_[i].ends.push_back(0);  // code 0: ""
    dictionaries_[i].dated = uses[i] == FieldUse::kDate;
    dictionaries_[i].slots.assign(2 * kFirstSlots, 0);  // "" is never looked up
  }
}

void RecordViewBuilder::reserve(std::size_t records) {
  view_.key_ends_.reserve(records);
  for (auto& column : view_.columns_) {
    if (column.held) {
      column.codes.reserve(records);
    }
  }
}

void RecordViewBuilder::grow(std::size_t field) {
  std::vector<std::uint32_t>& slots = dictionaries_[field].slots;
  std::vector<std::uint32_t> old(2 * slots.size(), 0);
  old.swap(slots);
  const std::size_t mask = slots.size() / 2 - 1;
  for (std::size_t at = 0; at < old.size(); at += 2) {
    if (old[at + 1] == 0) {
      continue;
    }
    std::size_t slot = old[at] & mask;
    while (slots[2 * slot + 1] != 0) {
      slot = (slot + 1) & mask;
    }
    slots[2 * slot] = old[at];
    slots[2 * slot + 1] = old[at + 1];
  }
}

std::uint32_t RecordViewBuilder::code_of(std::size_t field, std::string_view text) {
  if (text.empty()) {
    return 0;
  }
  RecordView::Column& column = view_.columns_[field];
  Dictionary& dictionary = dictionaries_[field];
  if (dictionary.plain) {  // every text gets a code of its own
    column.texts.append(text);
    column.ends.push_back(checked_end(column.texts.size()));
    return static_cast<std::uint32_t>(column.ends.size() - 1);
  }
  std::vector<std::uint32_t>& slots = dictionary.slots;
  const std::size_t mask = slots.size() / 2 - 1;
  const std::uint32_t hash = text_hash(text);
  std::size_t slot = hash & mask;
  while (slots[2 * slot + 1] != 0) {
    if (slots[2 * slot] == hash && column.entry(slots[2 * slot + 1] - 1) == text) {
      return slots[2 * slot + 1] - 1;
    }
    slot = (slot + 1) & mask;
  }
  const auto code = static_cast<std::uint32_t>(column.ends.size());
  column.texts.append(text);
  column.ends.push_back(checked_end(column.texts.size()));
  slots[2 * slot] = hash;
  slots[2 * slot + 1] = code + 1;
  if (2 * column.ends.size() > slots.size() / 2) {
    // A text field whose texts are nearly all distinct (a person's identifier) gains nothing
    // from the dictionary but its cost: a cache miss per record in a table that keeps growing.
    // Past kPlainAfter texts, when more than half the records so far had a new one, the field
    // stops looking its texts up.
    if (!dictionary.dated && column.ends.size() > kPlainAfter &&
        2 * column.ends.size() > view_.key_ends_.size()) {
      dictionary.plain = true;
      dictionary.slots = {};
    } else {
      grow(field);
    }
  }
  return code;
}

void RecordViewBuilder::add(std::string_view key, const std::vector<std::string_view>& values) {
  view_.keys_.append(key);
  view_.key_ends_.push_back(checked_end(view_.keys_.size()));
  for (std::size_t field = 0; field < view_.columns_.size(); ++field) {
    RecordView::Column& column = view_.columns_[field];
    if (!column.held) {
      continue;
    }
    column.codes.push_back(code_of(field, field < values.size() ? values[field] : ""));
  }
}

void RecordViewBuilder::add(const Record& record) {
  scratch_.assign(record.values.begin(), record.values.end());
  add(record.key, scratch_);
}

RecordView RecordViewBuilder::finish() {
  for (std::size_t field = 0; field < view_.columns_.size(); ++field) {
    RecordView::Column& column = view_.columns_[field];
    dictionaries_[field].slots = {};
    if (!column.held || !dictionaries_[field].dated) {
      continue;
    }
    column.dates.reserve(column.ends.size());
    for (std::uint32_t code = 0; code < column.ends.size(); ++code) {
      column.dates.push_back(parse_date_value(column.entry(code)));
    }
  }
  RecordView view = std::move(view_);
  view_ = RecordView();
  return view;
}

}  // namespace rules
