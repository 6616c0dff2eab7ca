// The RFC 4180 tokenizer under ExtractReader, internal to ingest/: splits a stream into rows of
// fields, reading large blocks and never calling the stream per character.
#ifndef CASEWATCH_INGEST_CSV_TOKENIZER_H_
#define CASEWATCH_INGEST_CSV_TOKENIZER_H_

#include <cstddef>
#include <cstdint>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include "rules/rules.h"

namespace ingest {

// What went wrong with the quoting of one field of a row.
enum class QuoteIssue {
  kBareQuote,       // a quote inside an unquoted field (kept as text)
  kUndoubledQuote,  // a quote inside a quoted field not doubled (kept as text)
  kUnterminated,    // the file ends inside a quoted field
  kTooLong,         // the row is longer than the limit; the tokenizer reads no further
};

// One row as the tokenizer found it. Buffers are reused from row to row.
struct CsvRow {
  std::size_t line = 0;             // physical line (1-based) where the row starts
  std::size_t last_line = 0;        // physical line where it ends
  std::string data;                 // the fields' bytes back to back
  std::vector<std::uint32_t> ends;  // end offset of each field in `data`
  struct Issue {
    std::size_t field = 0;
    QuoteIssue kind = QuoteIssue::kBareQuote;
  };
  std::vector<Issue> issues;
  bool quoted = false;  // some field was quoted

  std::size_t size() const { return ends.size(); }
  std::string_view field(std::size_t i) const {
    const std::uint32_t begin = i == 0 ? 0 : ends[i - 1];
    return std::string_view(data).substr(begin, ends[i] - begin);
  }
};

// Reads rows from a stream. Rows end at LF or CR LF outside quotes; inside quotes CR and LF are
// kept. A final row may lack its newline. Blank lines, and rows whose fields are all empty or
// spaces and unquoted (",,,"), are skipped. For Encoding::kWindows1252 the bytes are converted to
// UTF-8 as read; for kUtf8 a leading byte order mark is removed (see utf8_bom_seen()), and the
// bytes are passed on unchecked. Not thread-safe.
class CsvTokenizer {
 public:
  // A row longer than this (in practice: a quote never closed) ends the reading.
  static constexpr std::size_t kMaxRowBytes = std::size_t{16} << 20;

  struct Options {
    std::size_t block_size = std::size_t{1} << 20;  // bytes read from the stream at a time
    std::size_t max_row_bytes = kMaxRowBytes;
  };

  // REQUIRES: `in` outlives the tokenizer.
  CsvTokenizer(std::istream& in, rules::Encoding encoding, Options options);

  // Reads the next non-blank row into `row`; false at the end of the input, or after a row
  // with QuoteIssue::kTooLong (which is returned, holding its first kMaxRowBytes or so).
  // Throws std::runtime_error when the stream fails other than at its end.
  bool next(CsvRow& row);

  // True when the input began with a UTF-8 byte order mark (EF BB BF).
  bool utf8_bom_seen() const { return bom_seen_; }

  // A row's raw bytes, found in the current block without tokenizing them (see peek_raw()).
  struct RawRow {
    std::string_view bytes;       // without the LF that ends it and a CR before that LF
    std::size_t line = 0;         // physical line where it starts
    std::size_t newlines = 0;     // LFs inside it (in quoted fields)
    const char* after = nullptr;  // just past its LF
    std::uint64_t block = 0;      // the block it lies in
  };

  // Finds the next row's raw bytes without tokenizing them: from the current position to the
  // first LF with an even number of quotes before it since the row's start. Blank rows before
  // it (only commas, spaces and tabs) are passed over as next() would pass them. Returns false
  // when no such row lies wholly in the current block: it crosses the block's end, the input
  // ends without a final LF, or it is longer than max_row_bytes; next() then reads it as usual.
  // For a well-formed row the span is exactly what next() reads; a row with quote issues may
  // end elsewhere (see ended_at()). Throws as next() does.
  bool peek_raw(RawRow& raw);
  // Moves past the row peek_raw() just found, without tokenizing it.
  // REQUIRES: nothing read since that peek_raw().
  void skip_raw(const RawRow& raw);
  // True when the row next() last read ended exactly where `raw` ends (just past its LF).
  bool ended_at(const RawRow& raw) const { return block_ == raw.block && pos_ == raw.after; }

 private:
  bool refill();
  // Reads one row (possibly blank) into `row`; false when the input was already exhausted.
  bool read_row(CsvRow& row);

  std::istream& in_;
  rules::Encoding encoding_;
  std::size_t block_size_;
  std::size_t max_row_bytes_;
  bool gave_up_ = false;   // a row was too long: the rest is not read
  std::string raw_;        // the block as read
  std::string converted_;  // the block as UTF-8 when converting from windows-1252
  const char* pos_ = nullptr;
  const char* end_ = nullptr;
  std::uint64_t block_ = 0;  // blocks read so far: tells a position in one block from another
  std::size_t line_ = 1;     // physical line of the next byte
  bool started_ = false;
  bool bom_seen_ = false;
};

}  // namespace ingest

#endif  // CASEWATCH_INGEST_CSV_TOKENIZER_H_
