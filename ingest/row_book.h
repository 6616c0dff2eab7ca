// What every reader in ingest/ shares, whatever the file format: finding the mapped columns in a
// header row, turning a date cell's text into a record's value, repeated keys, the problems of
// each row and the whole-file verdict. Internal to ingest/.
#ifndef CASEWATCH_INGEST_ROW_BOOK_H_
#define CASEWATCH_INGEST_ROW_BOOK_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/ingest.h"
#include "ingest/key_set.h"
#include "rules/rules.h"

namespace ingest {

// Where the source's key, fields and as-of column are in a header row.
struct ColumnMap {
  std::vector<std::size_t> key_columns;
  std::vector<std::size_t> field_columns;  // one per source.fields
  std::optional<std::size_t> as_of_column;
};

// The result of matching a header row against a source.
struct HeaderMatch {
  ColumnMap columns;
  std::optional<std::string> problem;  // plain words when a key or field column is missing
  bool has_keys = false;               // every key column was found
};

// Matches `headers` (as read, trimmed) with normalise_header() against the source's key,
// fields and as_of_column.
HeaderMatch match_headers(const std::vector<std::string>& headers, const rules::Source& source);

// "'a', 'b'" and "a; b".
std::string quote_list(const std::vector<std::string>& items);
std::string join(const std::vector<std::string>& items, std::string_view separator);

// Writes "YYYY-MM-DD" into `out`, reusing its buffer.
void assign_iso(rules::Date date, std::string& out);

// A date cell's value for a record: ISO, "" for a null date, or (returning the problem's words)
// the raw text when it is not a date in one of the source's formats.
std::optional<std::string> put_date(std::string_view value, const rules::Source& source,
                                    std::string& target);
// Puts `date` (already a date) into `target`, or "" when it is one of the source's null dates.
void put_known_date(rules::Date date, const rules::Source& source, std::string& target);

// The problem of a row that repeats an earlier row exactly.
std::string exact_repeat_message(std::size_t first_line);

// The problems, repeated keys and counts of one extract, and its verdict.
class RowBook {
 public:
  explicit RowBook(const rules::Source& source) : source_(source) {}

  // A new data row starting at `line`.
  void start_row(std::size_t line) {
    ++rows_;
    row_problem_count_ = 0;
    line_ = line;
  }
  // Ends the row: counts it as a problem row when it had problems. Returns `keep`.
  bool finish_row(bool keep) {
    if (row_problem_count_ > 0) {
      ++problem_rows_;
    }
    return keep;
  }
  void add_problem(std::string column, std::string message) {
    add_problem_at(line_, std::move(column), std::move(message));
  }
  void add_problem_at(std::size_t line, std::string column, std::string message);
  // A problem listed with the row that does not count against max_bad_rows: the file is as its
  // maker wrote it (an Excel error cell, read as empty).
  void add_note(std::string column, std::string message);
  // A row counted without being read (a RowFilter's kSkip).
  void count_skipped_row() {
    ++rows_;
    ++skipped_rows_;
  }
  // A row counted as the exact repeat of `first_line`, without being read.
  void count_repeated_row(std::size_t line, std::size_t first_line) {
    ++rows_;
    mark_repeated_row(line, first_line);
  }
  // The row on `line`, already counted, is the exact repeat of `first_line`.
  void mark_repeated_row(std::size_t line, std::size_t first_line);

  // The hash of `key`, whose slot starts loading into the cache (for check_key() after other
  // work on the row).
  std::uint64_t prefetch_key(std::string_view key) const {
    const std::uint64_t hash = KeySet::hash(key);
    keys_.prefetch(hash);
    return hash;
  }
  // Checks `key` (hashed by prefetch_key(), of the row being read, whose content hashes to
  // `content`) against earlier rows: false when the row repeats an earlier one exactly (recorded
  // as a problem); a repeated key with other content is recorded for the verdict and the row is
  // kept.
  bool check_key(std::string_view key, std::uint64_t key_hash, std::uint64_t content);
  void add_repeat(std::string key, std::size_t first_line, std::size_t line);
  std::size_t repeat_count() const { return repeat_count_; }

  std::size_t rows() const { return rows_; }
  std::size_t skipped_rows() const { return skipped_rows_; }
  std::size_t row_problem_count() const { return row_problem_count_; }
  std::size_t problem_rows() const { return problem_rows_; }
  const std::vector<rules::Problem>& problems() const { return problems_; }

  // The reasons to reject the file: `format_reasons` (the reader's own) after "no rows" and
  // before repeated keys and too many problem rows. nullopt when there are none.
  std::optional<std::string> verdict(std::vector<std::string> format_reasons,
                                     std::string_view no_rows =
                                         "the file has a header but no "
                                         "rows") const;

 private:
  struct Repeat {
    std::string key;
    std::size_t first_line = 0;
    std::size_t line = 0;
  };
  const rules::Source& source_;
  std::size_t line_ = 0;
  std::size_t rows_ = 0;
  std::size_t skipped_rows_ = 0;
  std::vector<rules::Problem> problems_;
  bool problems_dropped_ = false;
  std::size_t row_problem_count_ = 0;
  std::size_t problem_rows_ = 0;
  KeySet keys_;
  std::vector<Repeat> repeats_;  // the first few
  std::size_t repeat_count_ = 0;
};

// A reader of a format whose rows have no raw hash (a workbook, XML): its counts, problems and
// as-of date are a RowBook's. Subclasses set header_problem_, line_ and as_of_.
class BookReader : public Reader {
 public:
  const std::optional<std::string>& header_problem() const override { return header_problem_; }
  bool next(rules::Record& out, const RowFilter&) override { return next(out); }
  using Reader::next;
  std::uint64_t row_hash() const override { return 0; }
  void add_repeated_key(std::string key, std::size_t first_line, std::size_t line) override {
    book_.add_repeat(std::move(key), first_line, line);
  }
  std::size_t line() const override { return line_; }
  void add_repeated_row(std::size_t first_line) override {
    book_.mark_repeated_row(line_, first_line);
  }
  std::size_t skipped_rows() const override { return 0; }
  std::size_t rows() const override { return book_.rows(); }
  const std::vector<rules::Problem>& problems() const override { return book_.problems(); }
  std::size_t problem_rows() const override { return book_.problem_rows(); }
  std::optional<rules::Date> as_of_from_column() const override { return as_of_; }

 protected:
  explicit BookReader(const rules::Source& source) : book_(source) {}
  RowBook book_;
  std::optional<std::string> header_problem_;
  std::size_t line_ = 0;
  std::optional<rules::Date> as_of_;
};

}  // namespace ingest

#endif  // CASEWATCH_INGEST_ROW_BOOK_H_
