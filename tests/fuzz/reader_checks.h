// What the fuzz harnesses of the workbook and CIN census readers check of a whole read, beyond
// "no crash": nothing thrown for bytes held in memory (a damaged file is a header problem or a
// verdict, ingest.h); a header problem means no records and a verdict; every record has the
// source's key and one value per field; rows() counts at least the records returned; next()
// ends; verdict() and as_of_from_column() answer after the end.
#ifndef CASEWATCH_TESTS_FUZZ_READER_CHECKS_H_
#define CASEWATCH_TESTS_FUZZ_READER_CHECKS_H_

#include <cstddef>
#include <cstdlib>
#include <string>

#include "ingest/ingest.h"

namespace fuzz {

inline void check(bool ok) {
  if (!ok) std::abort();
}

// The most bytes of XML text expat hands on for `size` bytes of input: internal entities expand,
// up to its billion-laughs guard (an amplification of 100 once past 8 MiB).
inline std::size_t expanded_bound(std::size_t size) { return (std::size_t{8} << 20) + 100 * size; }

// Reads `bytes` as an extract of `source` to its end; `max_records` bounds the records a read
// may return before it counts as a loop. Repeats found outside the reader (the ingest cycle's
// row filter) are reported on every third record, as the cycle does.
inline void read_all(std::string bytes, const rules::Source& source, std::size_t max_records) {
  const auto reader = ingest::open_reader(std::move(bytes), source);
  rules::Record record;
  std::size_t records = 0;
  if (reader->header_problem()) {
    check(!reader->next(record));
    check(reader->verdict().has_value());
    return;
  }
  while (reader->next(record)) {
    ++records;
    check(!record.key.empty());
    check(record.values.size() == source.fields.size());
    check(records <= max_records);
    if (records % 3 == 0) reader->add_repeated_key(record.key, 1, reader->line());
  }
  check(!reader->next(record));  // the end stays the end
  check(reader->rows() >= records);
  check(reader->problem_rows() <= reader->rows());
  const auto verdict = reader->verdict();
  check(!verdict || !verdict->empty());
  (void)reader->as_of_from_column();
}

}  // namespace fuzz

#endif  // CASEWATCH_TESTS_FUZZ_READER_CHECKS_H_
