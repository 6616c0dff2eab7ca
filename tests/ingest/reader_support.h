// Helpers for the ingest tests: a typical case source and a whole-file read.
#ifndef CASEWATCH_TESTS_INGEST_READER_SUPPORT_H_
#define CASEWATCH_TESTS_INGEST_READER_SUPPORT_H_

#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "ingest/ingest.h"

namespace test_support {

// Key "Case ID"; fields person, worker (two accepted headers), opened and closed (dates).
inline rules::Source cases_source() {
  rules::Source source;
  source.name = "cases";
  source.key = {"Case ID"};
  source.fields = {
      {"person", {"Child ID"}, false},
      {"worker", {"Allocated Worker", "Social Worker"}, false},
      {"opened", {"Referral Date"}, true},
      {"closed", {"Closure Date"}, true},
  };
  return source;
}

struct ReadResult {
  std::optional<std::string> header_problem;
  std::vector<rules::Record> records;
  std::vector<rules::Problem> problems;
  std::size_t rows = 0;
  std::size_t problem_rows = 0;
  std::optional<std::string> verdict;
  std::optional<rules::Date> as_of;
  std::vector<std::size_t> lines;  // of each record
};

// Reads `reader` to its end.
inline ReadResult read_reader(ingest::Reader& reader) {
  ReadResult result;
  result.header_problem = reader.header_problem();
  rules::Record record;
  while (reader.next(record)) {
    result.records.push_back(record);
    result.lines.push_back(reader.line());
  }
  result.problems = reader.problems();
  result.rows = reader.rows();
  result.problem_rows = reader.problem_rows();
  result.verdict = reader.verdict();
  result.as_of = reader.as_of_from_column();
  return result;
}

inline ReadResult read_all(const std::string& bytes, const rules::Source& source) {
  std::istringstream in(bytes);
  ingest::ExtractReader reader(in, source);
  return read_reader(reader);
}

}  // namespace test_support

#endif  // CASEWATCH_TESTS_INGEST_READER_SUPPORT_H_
