// storage's plain values: extracts as handled, record versions, what an evaluation did to a
// rule's findings, and the UTC time type of the service state.
#ifndef CASEWATCH_STORAGE_VALUES_H_
#define CASEWATCH_STORAGE_VALUES_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rules/rules.h"

namespace storage {

enum class ExtractStatus { kIngested, kRejected, kDuplicate };
std::string_view to_string(ExtractStatus status);  // "ingested", "rejected", "duplicate"

// One extract file as casewatch handled it.
struct ExtractInfo {
  std::int64_t id = 0;
  std::string file;  // file name (no folder)
  std::string source;
  std::string sha256;
  rules::Date as_of;
  std::size_t rows = 0;
  std::size_t problems = 0;
  ExtractStatus status = ExtractStatus::kIngested;
  std::string error;       // plain words when rejected or duplicate
  std::string handled_at;  // UTC "2026-11-22T09:30:00Z"
};

// One version of a record: its values from the extract that introduced them until the one
// that changed or dropped them.
struct RecordVersion {
  rules::Record record;
  rules::Date valid_from;               // as-of of the extract that introduced this version
  std::optional<rules::Date> valid_to;  // as-of of the extract that replaced or dropped it
};

// What one rule's evaluation did to its findings history.
struct RuleOutcome {
  std::string rule;
  rules::Date as_of;
  bool baseline = false;  // first evaluation of this rule (or of its new definition)
  std::vector<rules::TrackedFinding> open;       // on the list now, NEW or CARRIED
  std::vector<rules::ResolvedFinding> resolved;  // left the list at this evaluation
};

// One note of the trail on (rule, key), with the finding it was written on.
struct NoteEntry {
  std::string rule;
  std::string key;
  rules::Note note;
  rules::Date finding_first_seen;  // the finding it was written on: first seen then
  bool finding_open = false;       // that finding is still open
};

// A rule's definition changed: at the first evaluation of the new one (its as-of date), from
// fingerprint `before` to `after` (config's canonical text of the settings).
struct DefinitionChange {
  rules::Date on;
  std::string before;
  std::string after;
};

using Time = std::chrono::sys_seconds;  // UTC, whole seconds

}  // namespace storage

#endif  // CASEWATCH_STORAGE_VALUES_H_
