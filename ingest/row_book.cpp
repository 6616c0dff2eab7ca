// Header matching, date values, repeated keys, problems and the verdict, for every reader.
#include "ingest/row_book.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "ingest/text.h"

namespace ingest {
namespace {

// Problems kept in memory; past this they are counted only (and the file is rejected, since
// not every problem could be recorded).
constexpr std::size_t kMaxStoredProblems = 100'000;
// Repeated keys named in the verdict.
constexpr std::size_t kMaxRepeatsNamed = 5;

// True when `text` looks like a date written with a two-digit year ("04/01/21", "21-01-04"):
// three groups of digits, none longer than two, before any time part.
bool looks_like_two_digit_year(std::string_view text) {
  int groups = 0;
  int length = 0;
  for (const char c : text) {
    if (c >= '0' && c <= '9') {
      if (length == 0) {
        ++groups;
      }
      if (++length > 2) {
        return false;
      }
    } else if (c == ' ' || c == 'T') {
      break;
    } else {
      length = 0;
    }
  }
  return groups == 3;
}

}  // namespace

std::string quote_list(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) {
      out += ", ";
    }
    out += "'" + item + "'";
  }
  return out;
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) {
      out += separator;
    }
    out += item;
  }
  return out;
}

HeaderMatch match_headers(const std::vector<std::string>& headers, const rules::Source& source) {
  HeaderMatch match;
  std::vector<std::string> normalised;
  normalised.reserve(headers.size());
  for (const auto& header : headers) {
    normalised.push_back(normalise_header(header));
  }
  // The columns a wanted header names; more than one when the file repeats it.
  const auto find = [&](const std::string& wanted) {
    const std::string target = normalise_header(wanted);
    std::vector<std::size_t> found;
    for (std::size_t i = 0; i < normalised.size(); ++i) {
      if (normalised[i] == target) {
        found.push_back(i);
      }
    }
    return found;
  };
  std::vector<std::string> missing;
  std::vector<std::string> repeated;
  const auto check_repeated = [&](const std::vector<std::size_t>& found) {
    if (found.size() > 1) {
      std::vector<std::string> positions;
      positions.reserve(found.size());
      for (const std::size_t i : found) {
        positions.push_back(std::to_string(i + 1));
      }
      repeated.push_back(fmt::format("column '{}' appears {} times (columns {})", headers[found[0]],
                                     found.size(), join(positions, ", ")));
    }
  };
  if (source.key.empty()) {
    missing.push_back("the source has no key columns");
  }
  match.has_keys = !source.key.empty();
  for (const auto& wanted : source.key) {
    const auto found = find(wanted);
    if (found.empty()) {
      missing.push_back(fmt::format("key column '{}' is missing", wanted));
      match.has_keys = false;
    } else {
      check_repeated(found);
      match.columns.key_columns.push_back(found[0]);
    }
  }
  for (const auto& field : source.fields) {
    std::optional<std::size_t> chosen;
    for (const auto& wanted : field.headers) {
      const auto found = find(wanted);
      check_repeated(found);
      if (!chosen && !found.empty()) {
        chosen = found[0];
      }
    }
    if (chosen) {
      match.columns.field_columns.push_back(*chosen);
    } else if (field.headers.size() == 1) {
      missing.push_back(
          fmt::format("column '{}' (field '{}') is missing", field.headers[0], field.name));
    } else {
      missing.push_back(fmt::format("none of the columns {} (field '{}') is present",
                                    quote_list(field.headers), field.name));
    }
  }
  std::vector<std::string> all = std::move(missing);
  // The same column can be named twice (as a key and a field): report it once.
  for (auto& r : repeated) {
    if (std::find(all.begin(), all.end(), r) == all.end()) {
      all.push_back(std::move(r));
    }
  }
  if (!all.empty()) {
    match.problem =
        fmt::format("{}; the file has columns: {}", join(all, "; "), join(headers, ", "));
    return match;
  }
  if (!source.as_of_column.empty()) {
    const auto found = find(source.as_of_column);
    if (!found.empty()) {
      match.columns.as_of_column = found[0];
    }
  }
  return match;
}

void assign_iso(rules::Date date, std::string& out) {
  const int y = date.year();
  const int m = date.month();
  const int d = date.day();
  out.resize(10);
  out[0] = static_cast<char>('0' + y / 1000);
  out[1] = static_cast<char>('0' + y / 100 % 10);
  out[2] = static_cast<char>('0' + y / 10 % 10);
  out[3] = static_cast<char>('0' + y % 10);
  out[4] = '-';
  out[5] = static_cast<char>('0' + m / 10);
  out[6] = static_cast<char>('0' + m % 10);
  out[7] = '-';
  out[8] = static_cast<char>('0' + d / 10);
  out[9] = static_cast<char>('0' + d % 10);
}

void put_known_date(rules::Date date, const rules::Source& source, std::string& target) {
  for (const auto& null_date : source.null_dates) {
    if (date == null_date) {
      target.clear();
      return;
    }
  }
  assign_iso(date, target);
}

std::optional<std::string> put_date(std::string_view value, const rules::Source& source,
                                    std::string& target) {
  if (const auto date = rules::parse_date_any(value, source.date_formats)) {
    put_known_date(*date, source, target);
    return std::nullopt;
  }
  target.assign(value);
  std::string message = fmt::format("'{}' is not a date in an accepted format ({})", value,
                                    join(source.date_formats, ", "));
  if (looks_like_two_digit_year(value)) {
    message += "; two-digit years are not accepted";
  }
  return message;
}

std::string exact_repeat_message(std::size_t first_line) {
  return fmt::format("the row repeats line {} exactly; the repeat is skipped", first_line);
}

void RowBook::add_problem_at(std::size_t line, std::string column, std::string message) {
  ++row_problem_count_;
  if (problems_.size() < kMaxStoredProblems) {
    problems_.push_back(rules::Problem{line, std::move(column), std::move(message)});
  } else {
    problems_dropped_ = true;
  }
}

void RowBook::add_note(std::string column, std::string message) {
  if (problems_.size() < kMaxStoredProblems) {
    problems_.push_back(rules::Problem{line_, std::move(column), std::move(message)});
  } else {
    problems_dropped_ = true;
  }
}

void RowBook::mark_repeated_row(std::size_t line, std::size_t first_line) {
  row_problem_count_ = 0;
  add_problem_at(line, {}, exact_repeat_message(first_line));
  ++problem_rows_;
}

bool RowBook::check_key(std::string_view key, std::uint64_t key_hash, std::uint64_t content) {
  const auto seen = keys_.insert(key, key_hash, content, line_);
  if (seen.first_line != 0 && seen.identical) {
    add_problem({}, exact_repeat_message(seen.first_line));
    return false;
  }
  if (seen.first_line != 0) {
    add_repeat(std::string(key), seen.first_line, line_);
  }
  return true;
}

void RowBook::add_repeat(std::string key, std::size_t first_line, std::size_t line) {
  ++repeat_count_;
  if (repeats_.size() < kMaxRepeatsNamed) {
    repeats_.push_back({std::move(key), first_line, line});
  }
}

std::optional<std::string> RowBook::verdict(std::vector<std::string> format_reasons,
                                            std::string_view no_rows) const {
  std::vector<std::string> reasons;
  if (rows_ == 0) {
    reasons.emplace_back(no_rows);
  }
  for (auto& reason : format_reasons) {
    reasons.push_back(std::move(reason));
  }
  if (repeat_count_ > 0) {
    std::vector<std::string> named;
    for (const auto& repeat : repeats_) {
      named.push_back(fmt::format("key '{}' appears on lines {} and {}", repeat.key,
                                  repeat.first_line, repeat.line));
    }
    std::string text = join(named, "; ");
    if (repeat_count_ > repeats_.size()) {
      text += fmt::format("; and {} more repeats ({} in all)", repeat_count_ - repeats_.size(),
                          repeat_count_);
    }
    reasons.push_back(std::move(text));
  }
  // A small tolerance keeps "5 of 1000 at 0.5%" allowed despite binary fractions.
  const double allowed = source_.max_bad_rows * static_cast<double>(rows_) + 1e-9;
  if (static_cast<double>(problem_rows_) > allowed) {
    reasons.push_back(
        fmt::format("{} of {} rows have problems, more than the {:.6g}% allowed "
                    "(max_bad_rows)",
                    problem_rows_, rows_, source_.max_bad_rows * 100));
  } else if (problems_dropped_) {
    reasons.push_back(
        fmt::format("more than {} problems, too many to record them all", kMaxStoredProblems));
  }
  if (reasons.empty()) {
    return std::nullopt;
  }
  return join(reasons, "; ");
}

}  // namespace ingest
