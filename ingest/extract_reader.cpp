// ExtractReader: header matching, row checks, date parsing, repeated keys and the verdict.
#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "ingest/csv_tokenizer.h"
#include "ingest/ingest.h"
#include "ingest/row_book.h"
#include "ingest/row_hash.h"
#include "ingest/text.h"

namespace ingest {
namespace {

constexpr std::string_view kNotUtf8 =
    "not valid UTF-8 (is the file windows-1252? set encoding = \"windows-1252\")";

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

}  // namespace

struct ExtractReader::Impl {
  Impl(std::istream& in, const rules::Source& source, const Options& options)
      : source(source),
        csv(in, source.encoding,
            CsvTokenizer::Options{options.block_size, CsvTokenizer::kMaxRowBytes}),
        book(source) {}

  void read_header();
  // Fills `out` from `row`; false when the row is skipped.
  bool take_row(rules::Record& out);
  void add_problem(std::string column, std::string message) {
    book.add_problem(std::move(column), std::move(message));
  }
  // The column's header as the file spells it, for problems.
  const std::string& column_name(std::size_t column) const { return headers[column]; }

  const rules::Source& source;
  CsvTokenizer csv;
  CsvRow row;
  std::optional<std::string> header_problem;
  std::vector<std::string> headers;  // as in the file, trimmed
  ColumnMap columns;
  std::optional<rules::Date> as_of;
  bool as_of_taken = false;

  RowBook book;
  std::string key;
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
  std::vector<std::string_view> as_read;
  for (std::size_t i = 0; i < row.size(); ++i) {
    headers.emplace_back(trim(row.field(i)));
    as_read.push_back(row.field(i));
  }
  row_hash_seed = ingest::row_hash_seed(row_fingerprint(as_read, source));
  HeaderMatch match = match_headers(headers, source);
  header_problem = std::move(match.problem);
  columns = std::move(match.columns);
}

bool ExtractReader::Impl::take_row(rules::Record& out) {
  book.start_row(row.line);
  const auto finish = [&](bool keep) { return book.finish_row(keep); };
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
  const auto& key_columns = columns.key_columns;
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
  const std::uint64_t key_hash = book.prefetch_key(key);  // values are read while it loads

  out.key = key;
  out.values.resize(source.fields.size());
  for (std::size_t f = 0; f < source.fields.size(); ++f) {
    const std::size_t column = columns.field_columns[f];
    const std::string_view value = trim(row.field(column));
    std::string& target = out.values[f];
    if (!source.fields[f].is_date || value.empty()) {
      target.assign(value);
    } else if (auto problem = put_date(value, source, target)) {
      add_problem(column_name(column), std::move(*problem));
    }
  }
  // A row that repeats an earlier row exactly (same key, same bytes) says nothing new: it is a
  // row problem and is skipped. The same key with different content makes the file ambiguous
  // and rejects it (verdict()).
  const std::uint64_t content =
      KeySet::hash(row.data) ^
      (KeySet::hash(std::string_view(reinterpret_cast<const char*>(row.ends.data()),
                                     row.ends.size() * sizeof(std::uint32_t))) *
       0x9E3779B97F4A7C15ULL);  // the field boundaries count: "a,bc" is not "ab,c"
  if (!book.check_key(key, key_hash, content)) {
    return finish(false);
  }
  if (columns.as_of_column && !as_of_taken) {
    const std::string_view value = trim(row.field(*columns.as_of_column));
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

ExtractReader::ExtractReader(std::unique_ptr<std::istream> in, const rules::Source& source)
    : owned_(std::move(in)), impl_(std::make_unique<Impl>(*owned_, source, Options{})) {
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
      if (!impl.columns.as_of_column || impl.as_of_taken) {
        const RowCheck check = filter(hash, raw.line);
        if (check.kind != RowCheck::Kind::kRead) {
          impl.csv.skip_raw(raw);
          if (check.kind == RowCheck::Kind::kSkip) {
            impl.book.count_skipped_row();
          }
          if (check.kind == RowCheck::Kind::kRepeat) {
            impl.book.count_repeated_row(raw.line, check.first_line);
          }
          continue;
        }
      }
    }
    if (!impl.csv.next(impl.row)) {
      break;
    }
    const std::size_t repeats_before = impl.book.repeat_count();
    if (impl.take_row(out)) {
      // Only a clean row read exactly over the span that was hashed may be matched later.
      const bool clean =
          impl.book.row_problem_count() == 0 && impl.book.repeat_count() == repeats_before;
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
  impl_->book.add_repeat(std::move(key), first_line, line);
}

std::size_t ExtractReader::line() const { return impl_->row.line; }

void ExtractReader::add_repeated_row(std::size_t first_line) {
  Impl& impl = *impl_;
  impl.row_hash = 0;
  impl.book.mark_repeated_row(impl.row.line, first_line);
}

std::size_t ExtractReader::rows() const { return impl_->book.rows(); }

std::size_t ExtractReader::skipped_rows() const { return impl_->book.skipped_rows(); }

const std::vector<rules::Problem>& ExtractReader::problems() const {
  return impl_->book.problems();
}

std::size_t ExtractReader::problem_rows() const { return impl_->book.problem_rows(); }

std::optional<rules::Date> ExtractReader::as_of_from_column() const { return impl_->as_of; }

std::optional<std::string> ExtractReader::verdict() const {
  const Impl& impl = *impl_;
  if (impl.header_problem) {
    return impl.header_problem;
  }
  std::vector<std::string> reasons;
  if (impl.unterminated_line) {
    reasons.push_back(fmt::format(
        "a quoted field starting on line {} is not closed, so the rows after it cannot be read",
        *impl.unterminated_line));
  }
  return impl.book.verdict(std::move(reasons));
}

}  // namespace ingest
