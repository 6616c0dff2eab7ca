// ExtractReader: header matching, row checks, date parsing, repeated keys and the verdict.
#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "ingest/csv_tokenizer.h"
#include "ingest/ingest.h"
#include "ingest/key_set.h"
#include "ingest/row_hash.h"
#include "ingest/text.h"

namespace ingest {
namespace {

// Problems kept in memory; past this they are counted only (and the file is rejected, since
// not every problem could be recorded).
constexpr std::size_t kMaxStoredProblems = 100'000;
// Repeated keys named in the verdict.
constexpr std::size_t kMaxRepeatsNamed = 5;

constexpr std::string_view kNotUtf8 =
    "not valid UTF-8 (is the file windows-1252? set encoding = \"windows-1252\")";

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

std::string quote_message(QuoteIssue kind) {
  switch (kind) {
    case QuoteIssue::kBareQuote:
      return "a quote inside an unquoted field (quote the whole field and double the quote)";
    case QuoteIssue::kUndoubledQuote:
      return "a quote inside a quoted field is not doubled (write \"\" for a quote)";
    case QuoteIssue::kUnterminated:
    case QuoteIssue::kTooLong:
      break;
  }
  return "a quoted field is not closed before the end of the file";
}

// Writes "YYYY-MM-DD" into `out`, reusing its buffer (Date::iso() formats with snprintf, which
// dominated the reader's time).
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

// The problem of a row that repeats an earlier row exactly, found by parsing or by a RowFilter.
std::string exact_repeat_message(std::size_t first_line) {
  return fmt::format("the row repeats line {} exactly; the repeat is skipped", first_line);
}

struct Repeat {
  std::string key;
  std::size_t first_line = 0;
  std::size_t line = 0;
};

}  // namespace

struct ExtractReader::Impl {
  Impl(std::istream& in, const rules::Source& source, const Options& options)
      : source(source),
        csv(in, source.encoding,
            CsvTokenizer::Options{options.block_size, CsvTokenizer::kMaxRowBytes}) {}

  void read_header();
  // Fills `out` from `row`; false when the row is skipped.
  bool take_row(rules::Record& out);
  void add_problem(std::string column, std::string message) {
    add_problem_at(row.line, std::move(column), std::move(message));
  }
  void add_problem_at(std::size_t line, std::string column, std::string message) {
    ++row_problem_count;
    if (problems.size() < kMaxStoredProblems) {
      problems.push_back(rules::Problem{line, std::move(column), std::move(message)});
    } else {
      problems_dropped = true;
    }
  }
  void add_repeat(std::string repeated_key, std::size_t first_line, std::size_t line) {
    ++repeat_count;
    if (repeats.size() < kMaxRepeatsNamed) {
      repeats.push_back({std::move(repeated_key), first_line, line});
    }
  }
  // The column's header as the file spells it, for problems.
  const std::string& column_name(std::size_t column) const { return headers[column]; }

  const rules::Source& source;
  CsvTokenizer csv;
  CsvRow row;
  std::optional<std::string> header_problem;
  std::vector<std::string> headers;  // as in the file, trimmed
  std::vector<std::size_t> key_columns;
  std::vector<std::size_t> field_columns;  // one per source.fields
  std::optional<std::size_t> as_of_column;
  std::optional<rules::Date> as_of;
  bool as_of_taken = false;

  std::size_t rows = 0;
  std::size_t skipped_rows = 0;  // by a RowFilter
  std::vector<rules::Problem> problems;
  bool problems_dropped = false;
  std::size_t row_problem_count = 0;  // problems of the current row
  std::size_t problem_rows = 0;
  KeySet keys;
  std::string key;
  std::vector<Repeat> repeats;  // the first few
  std::size_t repeat_count = 0;
  std::optional<std::size_t> unterminated_line;
  bool finished = false;
  std::uint64_t row_hash_seed = 0;  // from the header row and the source (row_fingerprint())
  std::uint64_t row_hash = 0;       // of the row last returned
};

void ExtractReader::Impl::read_header() {
  if (!csv.next(row)) {
    header_problem = "the file is empty: it has no header row";
    return;
  }
  if (source.encoding == rules::Encoding::kWindows1252 && csv.utf8_bom_seen()) {
    header_problem =
        "the file starts with a UTF-8 byte order mark but the source's encoding is windows-1252 "
        "(set encoding = \"utf-8\")";
    return;
  }
  if (!is_valid_utf8(row.data)) {
    header_problem = "the header row is " + std::string(kNotUtf8);
    return;
  }
  for (const auto& issue : row.issues) {
    if (issue.kind == QuoteIssue::kUnterminated || issue.kind == QuoteIssue::kTooLong) {
      header_problem = "the header row has a quoted field that is not closed";
      return;
    }
  }
  std::vector<std::string> normalised;
  std::vector<std::string_view> as_read;
  for (std::size_t i = 0; i < row.size(); ++i) {
    headers.emplace_back(trim(row.field(i)));
    normalised.push_back(normalise_header(row.field(i)));
    as_read.push_back(row.field(i));
  }
  row_hash_seed = ingest::row_hash_seed(row_fingerprint(as_read, source));
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
  for (const auto& wanted : source.key) {
    const auto found = find(wanted);
    if (found.empty()) {
      missing.push_back(fmt::format("key column '{}' is missing", wanted));
    } else {
      check_repeated(found);
      key_columns.push_back(found[0]);
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
      field_columns.push_back(*chosen);
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
    header_problem =
        fmt::format("{}; the file has columns: {}", join(all, "; "), join(headers, ", "));
    return;
  }
  if (!source.as_of_column.empty()) {
    const auto found = find(source.as_of_column);
    if (!found.empty()) {
      as_of_column = found[0];
    }
  }
}

bool ExtractReader::Impl::take_row(rules::Record& out) {
  ++rows;
  row_problem_count = 0;
  const auto finish = [&](bool keep) {
    if (row_problem_count > 0) {
      ++problem_rows;
    }
    return keep;
  };
  for (const auto& issue : row.issues) {
    if (issue.kind == QuoteIssue::kUnterminated) {
      unterminated_line = row.line;
      add_problem(issue.field < headers.size() ? column_name(issue.field) : std::string(),
                  fmt::format("a quoted field is not closed before the end of the file (lines "
                              "{}-{} are read as one row)",
                              row.line, row.last_line));
      return finish(false);
    }
    if (issue.kind == QuoteIssue::kTooLong) {
      unterminated_line = row.line;
      add_problem({}, fmt::format("the row is longer than {} MiB (is a quote not closed?); the "
                                  "rest of the file is not read",
                                  CsvTokenizer::kMaxRowBytes >> 20));
      return finish(false);
    }
  }
  if (row.size() != headers.size()) {
    std::string message = fmt::format("expected {} fields, found {}", headers.size(), row.size());
    if (row.last_line != row.line) {
      message += fmt::format(" (the row runs over lines {}-{}: is a quote not closed?)", row.line,
                             row.last_line);
    }
    add_problem({}, std::move(message));
    return finish(false);
  }
  for (const auto& issue : row.issues) {
    add_problem(column_name(issue.field), quote_message(issue.kind));
  }
  if (!is_valid_utf8(row.data)) {
    // Report the first bad column, and repair every field so the row can still be kept.
    std::string repaired;
    std::vector<std::uint32_t> ends;
    bool reported = false;
    for (std::size_t i = 0; i < row.size(); ++i) {
      const std::string_view field = row.field(i);
      if (!is_valid_utf8(field)) {
        if (!reported) {
          add_problem(column_name(i), std::string(kNotUtf8));
        }
        reported = true;
        repaired += repair_utf8(field);
      } else {
        repaired += field;
      }
      ends.push_back(static_cast<std::uint32_t>(repaired.size()));
    }
    row.data = std::move(repaired);
    row.ends = std::move(ends);
  }

  key.clear();
  for (std::size_t k = 0; k < key_columns.size(); ++k) {
    const std::string_view part = trim(row.field(key_columns[k]));
    if (part.empty()) {
      add_problem(
          column_name(key_columns[k]),
          fmt::format("key column '{}' is empty; the row is skipped", column_name(key_columns[k])));
      return finish(false);
    }
    if (k > 0) {
      key.push_back(rules::kKeySeparator);
    }
    key.append(part);
  }
  const std::uint64_t key_hash = KeySet::hash(key);
  keys.prefetch(key_hash);  // the values below are read while the slot loads

  out.key = key;
  out.values.resize(source.fields.size());
  for (std::size_t f = 0; f < source.fields.size(); ++f) {
    const std::string_view value = trim(row.field(field_columns[f]));
    std::string& target = out.values[f];
    if (!source.fields[f].is_date || value.empty()) {
      target.assign(value);
      continue;
    }
    if (const auto date = rules::parse_date_any(value, source.date_formats)) {
      bool is_null = false;
      for (const auto& null_date : source.null_dates) {
        is_null = is_null || *date == null_date;
      }
      if (is_null) {
        target.clear();
      } else {
        assign_iso(*date, target);
      }
      continue;
    }
    target.assign(value);
    std::string message = fmt::format("'{}' is not a date in an accepted format ({})", value,
                                      join(source.date_formats, ", "));
    if (looks_like_two_digit_year(value)) {
      message += "; two-digit years are not accepted";
    }
    add_problem(column_name(field_columns[f]), std::move(message));
  }
  // A row that repeats an earlier row exactly (same key, same bytes) says nothing new: it is a
  // row problem and is skipped. The same key with different content makes the file ambiguous
  // and rejects it (verdict()).
  const std::uint64_t content =
      KeySet::hash(row.data) ^
      (KeySet::hash(std::string_view(reinterpret_cast<const char*>(row.ends.data()),
                                     row.ends.size() * sizeof(std::uint32_t))) *
       0x9E3779B97F4A7C15ULL);  // the field boundaries count: "a,bc" is not "ab,c"
  const auto seen = keys.insert(key, key_hash, content, row.line);
  if (seen.first_line != 0 && seen.identical) {
    add_problem({}, exact_repeat_message(seen.first_line));
    return finish(false);
  }
  if (seen.first_line != 0) {
    add_repeat(key, seen.first_line, row.line);
  }
  if (as_of_column && !as_of_taken) {
    const std::string_view value = trim(row.field(*as_of_column));
    if (!value.empty()) {
      as_of_taken = true;
      as_of = rules::parse_date_any(value, source.date_formats);
    }
  }
  return finish(true);
}

ExtractReader::ExtractReader(std::istream& in, const rules::Source& source)
    : ExtractReader(in, source, Options{}) {}

ExtractReader::ExtractReader(std::istream& in, const rules::Source& source, Options options)
    : impl_(std::make_unique<Impl>(in, source, options)) {
  impl_->read_header();
}

ExtractReader::~ExtractReader() = default;

const std::optional<std::string>& ExtractReader::header_problem() const {
  return impl_->header_problem;
}

bool ExtractReader::next(rules::Record& out) {
  Impl& impl = *impl_;
  if (impl.header_problem || impl.finished) {
    return false;
  }
  impl.row_hash = 0;
  while (impl.csv.next(impl.row)) {
    if (impl.take_row(out)) {
      return true;
    }
  }
  impl.finished = true;
  return false;
}

bool ExtractReader::next(rules::Record& out, const RowFilter& filter) {
  if (!filter) {
    return next(out);
  }
  Impl& impl = *impl_;
  impl.row_hash = 0;
  if (impl.header_problem || impl.finished) {
    return false;
  }
  CsvTokenizer::RawRow raw;
  for (;;) {
    const bool peeked = impl.csv.peek_raw(raw);
    std::uint64_t hash = 0;
    if (peeked) {
      hash = stable_hash64(raw.bytes, impl.row_hash_seed);
      // Rows before the as-of value are read, so that it comes from the first row holding one.
      if (!impl.as_of_column || impl.as_of_taken) {
        const RowCheck check = filter(hash, raw.line);
        if (check.kind != RowCheck::Kind::kRead) {
          impl.csv.skip_raw(raw);
          ++impl.rows;
          if (check.kind == RowCheck::Kind::kSkip) ++impl.skipped_rows;
          if (check.kind == RowCheck::Kind::kRepeat) {
            impl.row_problem_count = 0;
            impl.add_problem_at(raw.line, {}, exact_repeat_message(check.first_line));
            ++impl.problem_rows;
          }
          continue;
        }
      }
    }
    if (!impl.csv.next(impl.row)) {
      break;
    }
    const std::size_t repeats_before = impl.repeat_count;
    if (impl.take_row(out)) {
      // Only a clean row read exactly over the span that was hashed may be matched later.
      const bool clean = impl.row_problem_count == 0 && impl.repeat_count == repeats_before;
      if (peeked && clean && impl.row.line == raw.line && impl.csv.ended_at(raw)) {
        impl.row_hash = hash;
      }
      return true;
    }
  }
  impl.finished = true;
  return false;
}

std::uint64_t ExtractReader::row_hash() const { return impl_->row_hash; }

void ExtractReader::add_repeated_key(std::string key, std::size_t first_line, std::size_t line) {
  impl_->add_repeat(std::move(key), first_line, line);
}

std::size_t ExtractReader::line() const { return impl_->row.line; }

void ExtractReader::add_repeated_row(std::size_t first_line) {
  Impl& impl = *impl_;
  impl.row_hash = 0;
  impl.row_problem_count = 0;
  impl.add_problem(std::string(), exact_repeat_message(first_line));
  ++impl.problem_rows;
}

std::size_t ExtractReader::rows() const { return impl_->rows; }

std::size_t ExtractReader::skipped_rows() const { return impl_->skipped_rows; }

const std::vector<rules::Problem>& ExtractReader::problems() const { return impl_->problems; }

std::size_t ExtractReader::problem_rows() const { return impl_->problem_rows; }

std::optional<rules::Date> ExtractReader::as_of_from_column() const { return impl_->as_of; }

std::optional<std::string> ExtractReader::verdict() const {
  const Impl& impl = *impl_;
  if (impl.header_problem) {
    return impl.header_problem;
  }
  std::vector<std::string> reasons;
  if (impl.rows == 0) {
    reasons.push_back("the file has a header but no rows");
  }
  if (impl.unterminated_line) {
    reasons.push_back(fmt::format(
        "a quoted field starting on line {} is not closed, so the rows after it cannot be read",
        *impl.unterminated_line));
  }
  if (impl.repeat_count > 0) {
    std::vector<std::string> named;
    for (const auto& repeat : impl.repeats) {
      named.push_back(fmt::format("key '{}' appears on lines {} and {}", repeat.key,
                                  repeat.first_line, repeat.line));
    }
    std::string text = join(named, "; ");
    if (impl.repeat_count > impl.repeats.size()) {
      text += fmt::format("; and {} more repeats ({} in all)",
                          impl.repeat_count - impl.repeats.size(), impl.repeat_count);
    }
    reasons.push_back(std::move(text));
  }
  // A small tolerance keeps "5 of 1000 at 0.5%" allowed despite binary fractions.
  const double allowed = impl.source.max_bad_rows * static_cast<double>(impl.rows) + 1e-9;
  if (static_cast<double>(impl.problem_rows) > allowed) {
    reasons.push_back(
        fmt::format("{} of {} rows have problems, more than the {:.6g}% allowed "
                    "(max_bad_rows)",
                    impl.problem_rows, impl.rows, impl.source.max_bad_rows * 100));
  } else if (impl.problems_dropped) {
    reasons.push_back(
        fmt::format("more than {} problems, too many to record them all", kMaxStoredProblems));
  }
  if (reasons.empty()) {
    return std::nullopt;
  }
  return join(reasons, "; ");
}

}  // namespace ingest
