#include "rules/evaluate.h"

#include <algorithm>
#include <cstdint>

#include "rules/evaluate_internal.h"

namespace rules {
namespace internal {

bool iequals_trimmed(std::string_view a, std::string_view b) {
  a = without_code(trim(a));
  b = without_code(trim(b));
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) {
      return false;
    }
  }
  return true;
}

bool matches_any(std::string_view value, const std::vector<std::string>& values) {
  for (const auto& candidate : values) {
    if (iequals_trimmed(value, candidate)) {
      return true;
    }
  }
  return false;
}

Matcher::Matcher(const std::vector<std::string>& values) {
  values_.reserve(values.size());
  for (const auto& value : values) {
    std::string lowered(without_code(trim(value)));
    for (char& c : lowered) {
      c = ascii_lower(c);
    }
    values_.push_back(std::move(lowered));
  }
}

Where::Where(const Rule& rule, const Source& source, const RecordView& view) {
  const auto add = [&](const Filter& filter, bool must_match) {
    const Matcher values(filter.values);
    Resolved resolved{source.field_index(filter.field), must_match};
    if (!view.holds(resolved.index)) {
      resolved.index = -1;
      resolved.constant = values.matches("");
    } else {
      resolved.by_code.resize(view.codes(resolved.index));
      for (std::uint32_t code = 0; code < resolved.by_code.size(); ++code) {
        resolved.by_code[code] = values.matches(view.code_text(resolved.index, code));
      }
    }
    filters_.push_back(std::move(resolved));
  };
  for (const auto& filter : rule.where) {
    add(filter, true);
  }
  for (const auto& filter : rule.unless) {
    add(filter, false);
  }
}

CaseFields::CaseFields(const Source& source)
    : person(source.field_index("person")),
      team(source.field_index("team")),
      worker(source.field_index("worker")),
      opened(source.field_index("opened")),
      closed(source.field_index("closed")),
      status(source.field_index("status")),
      allocation_start(source.field_index("allocation_start")),
      allocation_end(source.field_index("allocation_end")) {}

template <class Test>
CaseTests::ByCode CaseTests::by_code(const RecordView& view, int field, const Test& test) {
  ByCode out;
  if (!view.holds(field)) {
    out.constant = test(std::string_view());
    return out;
  }
  out.field = field;
  out.answers.resize(view.codes(field));
  for (std::uint32_t code = 0; code < out.answers.size(); ++code) {
    out.answers[code] = test(view.code_text(field, code));
  }
  return out;
}

CaseTests::CaseTests(const RecordView& view, const CaseFields& fields, const CaseMatchers& matchers,
                     Date as_of)
    : fields_(fields), matchers_(matchers) {
  closed_ = by_code(view, fields.closed, [&](std::string_view text) {
    const DateValue closed = parse_date_value(text);
    return closed.is_date() && closed.date <= as_of;
  });
  open_status_ =
      by_code(view, matchers.open_values.empty() ? -1 : fields.status, [&](std::string_view text) {
        return fields.status < 0 || matchers.open_values.empty() ||
               matchers.open_values.matches(text);
      });
  no_worker_ = by_code(view, fields.worker, [&](std::string_view text) {
    text = trim(text);
    return text.empty() || matchers.not_a_worker.matches(text);
  });
}

bool CaseTests::nobody(const Row& record) const {
  return no_worker_.answer(record) ||
         iequals_trimmed(field_text(record, fields_.worker), field_text(record, fields_.team));
}

bool is_nobody(std::string_view worker, std::string_view team, const CaseMatchers& matchers) {
  worker = trim(worker);
  if (worker.empty()) {
    return true;
  }
  if (matchers.not_a_worker.matches(worker)) {
    return true;
  }
  return iequals_trimmed(worker, team);
}

BandIndex::BandIndex(const std::vector<Band>& bands, Date as_of, const Calendar& calendar) {
  for (const auto& band : bands) {
    if (!band.bound) {
      break;
    }
    // due_date(s, bound) is non-decreasing in s: find the first s with as_of < due_date.
    const Duration bound = *band.bound;
    Date lo = as_of - (bound.amount + 1) * 31 - 31;  // due_date(lo) <= as_of
    Date hi = as_of + 1;                             // due_date(hi) >= hi > as_of
    while (hi - lo > 1) {
      const Date mid = lo + (hi - lo) / 2;
      if (as_of < due_date(mid, bound, calendar)) {
        hi = mid;
      } else {
        lo = mid;
      }
    }
    cutoffs_.push_back(hi);
  }
}

std::size_t BandIndex::index(Date since) const {
  for (std::size_t i = 0; i < cutoffs_.size(); ++i) {
    if (since >= cutoffs_[i]) {
      return i;
    }
  }
  return cutoffs_.size();
}

namespace {

// List places by a counting sort, or nullopt. When the keys were found in key order, key order is
// the order found (equal keys keep it too), so the list order is a stable sort on (rank, days);
// days usually span few values (a rule's list covers weeks or months), hence buckets.
std::optional<std::vector<std::size_t>> counting_places(const std::vector<ListKey>& keys,
                                                        bool found_in_key_order) {
  if (!found_in_key_order || keys.empty()) {
    return std::nullopt;
  }
  int low = keys.front().days;
  int high = low;
  for (const ListKey& key : keys) {
    low = std::min(low, key.days);
    high = std::max(high, key.days);
  }
  const std::int64_t span = std::int64_t{high} - low + 1;
  if (span > static_cast<std::int64_t>(keys.size()) + 1024) {
    return std::nullopt;
  }
  // Bucket b holds rank b / span and days high - b % span: most days first within a rank.
  const auto bucket = [&](const ListKey& key) {
    return static_cast<std::size_t>(key.rank * span + (high - key.days));
  };
  std::vector<std::size_t> starts(static_cast<std::size_t>(2 * span) + 1, 0);
  for (const ListKey& key : keys) {
    ++starts[bucket(key) + 1];
  }
  for (std::size_t b = 1; b < starts.size(); ++b) {
    starts[b] += starts[b - 1];
  }
  std::vector<std::size_t> places(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    places[i] = starts[bucket(keys[i])]++;
  }
  return places;
}

}  // namespace

ListKey list_key(const Finding& finding, std::size_t index) {
  const bool rank = finding.state == State::kUntrusted || finding.state == State::kDataProblem;
  return ListKey{rank ? 1 : 0, finding.days + finding.cases, finding.key, index};
}

std::vector<std::size_t> list_places(const std::vector<ListKey>& keys) {
  const bool found_in_key_order = std::is_sorted(
      keys.begin(), keys.end(), [](const ListKey& a, const ListKey& b) { return a.key < b.key; });
  if (auto places = counting_places(keys, found_in_key_order)) {
    return std::move(*places);
  }
  std::vector<ListKey> sorted = keys;
  if (found_in_key_order) {
    std::stable_sort(sorted.begin(), sorted.end(), [](const ListKey& a, const ListKey& b) {
      if (a.rank != b.rank) {
        return a.rank < b.rank;
      }
      return a.days > b.days;
    });
  } else {
    std::sort(sorted.begin(), sorted.end(), [](const ListKey& a, const ListKey& b) {
      if (a.rank != b.rank) {
        return a.rank < b.rank;
      }
      if (a.days != b.days) {
        return a.days > b.days;
      }
      if (a.key != b.key) {
        return a.key < b.key;
      }
      return a.index < b.index;
    });
  }
  std::vector<std::size_t> places(keys.size());
  for (std::size_t p = 0; p < sorted.size(); ++p) {
    places[sorted[p].index] = p;
  }
  return places;
}

void sort_list_keys(std::vector<ListKey>& keys) {
  const std::vector<std::size_t> places = list_places(keys);
  std::vector<ListKey> sorted(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    sorted[places[i]] = keys[i];
  }
  keys = std::move(sorted);
}

// Sorts light keys and then moves each Finding into place once (following the permutation's
// cycles), which matters for hundreds of thousands of findings.
void sort_findings(std::vector<Finding>& findings, std::size_t first) {
  if (findings.size() - first < 2) {
    return;
  }
  std::vector<ListKey> keys;
  keys.reserve(findings.size() - first);
  for (std::size_t i = first; i < findings.size(); ++i) {
    keys.push_back(list_key(findings[i], i - first));
  }
  const std::vector<std::size_t> places = list_places(keys);
  keys.clear();  // its keys view the findings about to move
  // Position p of the sorted range takes the finding at first + from[p].
  std::vector<std::size_t> from(places.size());
  for (std::size_t i = 0; i < places.size(); ++i) {
    from[places[i]] = i;
  }
  Finding* const base = findings.data() + first;
  for (std::size_t start = 0; start < from.size(); ++start) {
    if (from[start] == start) {
      continue;
    }
    Finding held = std::move(base[start]);
    std::size_t p = start;
    while (from[p] != start) {
      const std::size_t next = from[p];
      base[p] = std::move(base[next]);
      from[p] = p;
      p = next;
    }
    base[p] = std::move(held);
    from[p] = p;
  }
}

}  // namespace internal

std::string_view to_string(State state) {
  switch (state) {
    case State::kBreach:
      return "breach";
    case State::kOverdue:
      return "overdue";
    case State::kDueSoon:
      return "due_soon";
    case State::kUntrusted:
      return "untrusted";
    case State::kDataProblem:
      return "data_problem";
  }
  return "unknown";
}

std::string_view band_for(const std::vector<Band>& bands, Date since, Date as_of,
                          const Calendar& calendar) {
  for (const auto& band : bands) {
    if (!band.bound || as_of < due_date(since, *band.bound, calendar)) {
      return band.label;
    }
  }
  return bands.empty() ? std::string_view() : std::string_view(bands.back().label);
}

Evaluation evaluate(const RuleSet& rules, const Calendar& calendar,
                    const std::map<std::string, SourceData, std::less<>>& sources) {
  // Sources given as records are read through a view built here, once per evaluation.
  std::map<std::string_view, RecordView, std::less<>> built;
  const auto view_of = [&](const std::string& name, const SourceData& data) -> const RecordView& {
    if (data.view != nullptr) {
      return *data.view;
    }
    auto found = built.find(name);
    if (found == built.end()) {
      found = built.emplace(name, RecordView::of(*data.source, *data.records)).first;
    }
    return found->second;
  };
  Evaluation out;
  for (const auto& rule : rules.rules) {
    const auto found = sources.find(rule.source);
    if (found == sources.end()) {
      continue;
    }
    const SourceData& data = found->second;
    switch (rule.kind) {
      case RuleKind::kUnallocated: {
        if (rule.allocations_source.empty()) {
          internal::evaluate_unallocated(rule, data, view_of(found->first, data), calendar, out);
          break;
        }
        const auto allocations = sources.find(rule.allocations_source);
        // Without its allocations every record would look unallocated: skip the rule.
        if (allocations == sources.end()) {
          continue;
        }
        internal::evaluate_unallocated_joined(
            rule, data, view_of(found->first, data), allocations->second,
            view_of(allocations->first, allocations->second), calendar, out);
        break;
      }
      case RuleKind::kTimescale:
        internal::evaluate_timescale(rule, data, view_of(found->first, data), calendar,
                                     rules.counts_start_day(rule), out);
        break;
      case RuleKind::kRecurring: {
        const SourceData* events = nullptr;
        const RecordView* events_view = nullptr;
        if (!rule.events_source.empty()) {
          const auto events_found = sources.find(rule.events_source);
          // Without its events the whole population would look overdue: skip the rule.
          if (events_found == sources.end()) {
            continue;
          }
          events = &events_found->second;
          events_view = &view_of(events_found->first, *events);
        }
        internal::evaluate_recurring(rule, data, view_of(found->first, data), events, events_view,
                                     calendar, rules.counts_start_day(rule), out);
        break;
      }
      case RuleKind::kCaseload:
        internal::evaluate_caseload(rule, data, view_of(found->first, data), out);
        break;
    }
  }
  return out;
}

}  // namespace rules
