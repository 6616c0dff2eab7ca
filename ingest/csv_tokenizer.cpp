#include "ingest/csv_tokenizer.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <stdexcept>

#include "ingest/text.h"

namespace ingest {
namespace {

// Bytes that end a run of plain field text outside quotes.
constexpr std::array<bool, 256> kSpecial = [] {
  std::array<bool, 256> table{};
  table[static_cast<unsigned char>(',')] = true;
  table[static_cast<unsigned char>('"')] = true;
  table[static_cast<unsigned char>('\n')] = true;
  table[static_cast<unsigned char>('\r')] = true;
  return table;
}();

enum class State { kFieldStart, kUnquoted, kQuoted, kQuoteInQuoted, kAfterQuote };

}  // namespace

CsvTokenizer::CsvTokenizer(std::istream& in, rules::Encoding encoding, Options options)
    : in_(in),
      encoding_(encoding),
      block_size_(std::max<std::size_t>(options.block_size, 1)),
      max_row_bytes_(options.max_row_bytes) {
  raw_.resize(std::max<std::size_t>(block_size_, 3));  // the first block holds any BOM whole
}

bool CsvTokenizer::refill() {
  if (!in_) {
    return false;
  }
  if (started_) {
    raw_.resize(block_size_);
  }
  in_.read(raw_.data(), static_cast<std::streamsize>(raw_.size()));
  const auto n = static_cast<std::size_t>(in_.gcount());
  if (in_.bad()) {
    throw std::runtime_error("reading the extract failed");
  }
  if (n == 0) {
    return false;
  }
  std::string_view block(raw_.data(), n);
  if (!started_) {
    started_ = true;
    if (block.substr(0, 3) == "\xEF\xBB\xBF") {
      bom_seen_ = true;
      if (encoding_ == rules::Encoding::kUtf8) {
        block.remove_prefix(3);
      }
    }
  }
  if (encoding_ == rules::Encoding::kWindows1252) {
    converted_.clear();
    append_windows_1252_as_utf8(block, converted_);
    block = converted_;
  }
  pos_ = block.data();
  end_ = block.data() + block.size();
  ++block_;
  return true;
}

bool CsvTokenizer::peek_raw(RawRow& raw) {
  for (;;) {
    if (gave_up_ || (pos_ == end_ && !refill())) {
      return false;
    }
    const char* const start = pos_;
    const char* scan = start;
    std::size_t quotes = 0;
    std::size_t newlines = 0;
    const char* lf = nullptr;
    for (;;) {
      lf = static_cast<const char*>(std::memchr(scan, '\n', static_cast<std::size_t>(end_ - scan)));
      if (lf == nullptr) {
        return false;
      }
      for (const char* q = scan;
           (q = static_cast<const char*>(std::memchr(q, '"', static_cast<std::size_t>(lf - q)))) !=
           nullptr;
           ++q) {
        ++quotes;
      }
      if (quotes % 2 == 0) {
        break;
      }
      ++newlines;
      scan = lf + 1;
    }
    const char* stop = lf;
    if (stop != start && stop[-1] == '\r') {
      --stop;
    }
    const auto size = static_cast<std::size_t>(stop - start);
    if (size > max_row_bytes_) {
      return false;
    }
    const char* p = start;
    while (p != stop && (*p == ',' || *p == ' ' || *p == '\t')) {
      ++p;
    }
    if (p == stop) {
      // A blank row: it has no quotes, so no LF inside.
      pos_ = lf + 1;
      ++line_;
      continue;
    }
    raw.bytes = std::string_view(start, size);
    raw.line = line_;
    raw.newlines = newlines;
    raw.after = lf + 1;
    raw.block = block_;
    return true;
  }
}

void CsvTokenizer::skip_raw(const RawRow& raw) {
  pos_ = raw.after;
  line_ += raw.newlines + 1;
}

bool CsvTokenizer::next(CsvRow& row) {
  while (read_row(row)) {
    if (row.quoted || !row.issues.empty()) {
      return true;
    }
    for (std::size_t i = 0; i < row.size(); ++i) {
      if (!trim(row.field(i)).empty()) {
        return true;
      }
    }
    // A blank line, or a row of empty unquoted fields (",,,"): nothing to read.
  }
  return false;
}

bool CsvTokenizer::read_row(CsvRow& row) {
  row.data.clear();
  row.ends.clear();
  row.issues.clear();
  row.quoted = false;
  if (gave_up_ || (pos_ == end_ && !refill())) {
    return false;
  }
  row.line = line_;
  State state = State::kFieldStart;
  std::size_t protected_end = 0;  // data before this offset came from inside quotes
  const auto end_field = [&] { row.ends.push_back(static_cast<std::uint32_t>(row.data.size())); };
  const auto end_row = [&] {
    // CR of a CR LF row end; a CR inside quotes stays.
    if (row.data.size() > protected_end && row.data.back() == '\r') {
      row.data.pop_back();
    }
    end_field();
    row.last_line = line_;
    ++line_;
  };
  const auto add_issue = [&](QuoteIssue kind) { row.issues.push_back({row.ends.size(), kind}); };
  for (;;) {
    if (row.data.size() > max_row_bytes_) {
      add_issue(QuoteIssue::kTooLong);
      end_field();
      row.last_line = line_;
      gave_up_ = true;
      return true;
    }
    if (pos_ == end_ && !refill()) {
      if (state == State::kQuoted) {
        add_issue(QuoteIssue::kUnterminated);
      }
      end_field();
      // A newline just before the end (inside an unclosed quote) does not start another line.
      row.last_line = !row.data.empty() && row.data.back() == '\n' ? line_ - 1 : line_;
      return true;
    }
    switch (state) {
      case State::kFieldStart:
        protected_end = row.data.size();
        if (*pos_ == '"') {
          ++pos_;
          row.quoted = true;
          state = State::kQuoted;
          break;
        }
        state = State::kUnquoted;
        [[fallthrough]];
      case State::kUnquoted: {
        const char* p = pos_;
        while (p != end_ && !kSpecial[static_cast<unsigned char>(*p)]) {
          ++p;
        }
        row.data.append(pos_, p);
        pos_ = p;
        if (p == end_) {
          break;
        }
        const char c = *pos_++;
        if (c == ',') {
          end_field();
          state = State::kFieldStart;
        } else if (c == '\n') {
          end_row();
          return true;
        } else if (c == '\r') {
          row.data.push_back('\r');  // dropped by end_row() when LF follows
        } else if (trim(std::string_view(row.data).substr(protected_end)).empty()) {
          // Spaces before an opening quote (a, "b"): the field is quoted after all.
          row.data.resize(protected_end);
          row.quoted = true;
          state = State::kQuoted;
        } else {
          if (row.issues.empty() || row.issues.back().field != row.ends.size()) {
            add_issue(QuoteIssue::kBareQuote);
          }
          row.data.push_back('"');
        }
        break;
      }
      case State::kQuoted: {
        const auto* quote =
            static_cast<const char*>(std::memchr(pos_, '"', static_cast<std::size_t>(end_ - pos_)));
        const char* p = quote == nullptr ? end_ : quote;
        line_ += static_cast<std::size_t>(std::count(pos_, p, '\n'));
        row.data.append(pos_, p);
        pos_ = p;
        if (p != end_) {
          ++pos_;
          state = State::kQuoteInQuoted;
        }
        protected_end = row.data.size();
        break;
      }
      case State::kQuoteInQuoted: {
        const char c = *pos_;
        if (c == '"') {
          row.data.push_back('"');
          ++pos_;
          state = State::kQuoted;
        } else if (c == ',' || c == '\n' || c == '\r' || c == ' ' || c == '\t') {
          state = State::kAfterQuote;
        } else {
          // "He said "hi"": the writer did not double the quote; keep it as text and read on
          // unquoted, so that damage stays within the line.
          add_issue(QuoteIssue::kUndoubledQuote);
          row.data.push_back('"');
          state = State::kUnquoted;
        }
        protected_end = row.data.size();
        break;
      }
      case State::kAfterQuote: {
        const char c = *pos_;
        if (c == ' ' || c == '\t' || c == '\r') {
          ++pos_;  // spaces after a closing quote, and the CR of CR LF, are not part of the value
        } else if (c == ',') {
          ++pos_;
          end_field();
          state = State::kFieldStart;
        } else if (c == '\n') {
          ++pos_;
          end_row();
          return true;
        } else {
          add_issue(QuoteIssue::kUndoubledQuote);
          state = State::kUnquoted;
        }
        break;
      }
    }
  }
}

}  // namespace ingest
