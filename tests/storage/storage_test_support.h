// Helpers shared by the storage tests: dates, a case source, and ingesting an extract.
#ifndef CASEWATCH_TESTS_STORAGE_STORAGE_TEST_SUPPORT_H_
#define CASEWATCH_TESTS_STORAGE_STORAGE_TEST_SUPPORT_H_

#include <string>
#include <vector>

#include "rules/rules.h"
#include "storage/storage.h"
#include "tests/rules/rules_test_util.h"

namespace storage_test {

inline rules::Date date(int y, int m, int d) { return *rules::Date::from_ymd(y, m, d); }

using rules_test::cases_source;  // person, team, worker, closed, status

inline rules::Record case_record(const std::string& key, std::string worker,
                                 std::string closed = "", std::string status = "Open") {
  return rules::Record{
      key, {"P-" + key, "Team A", std::move(worker), std::move(closed), std::move(status)}};
}

inline storage::ExtractInfo extract_info(std::string source, rules::Date as_of,
                                         std::string sha256) {
  storage::ExtractInfo info;
  info.file = source + "-" + as_of.iso() + ".csv";
  info.source = std::move(source);
  info.sha256 = std::move(sha256);
  info.as_of = as_of;
  info.handled_at = as_of.iso() + "T09:30:00Z";
  return info;
}

// Ingests `records` as one committed extract; returns its id.
inline std::int64_t ingest(storage::History& history, const std::string& source, rules::Date as_of,
                           const std::vector<rules::Record>& records) {
  auto writer = history.begin_extract(extract_info(source, as_of, "sha-" + as_of.iso()));
  for (const auto& record : records) {
    writer.add(record);
  }
  return writer.commit(records.size());
}

}  // namespace storage_test

#endif  // CASEWATCH_TESTS_STORAGE_STORAGE_TEST_SUPPORT_H_
