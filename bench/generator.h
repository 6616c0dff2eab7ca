// The benchmark's data generator: a realistic, deterministic case-management extract (the
// `cases` source of the example configuration) and, in the same pass, a copy of it a week later
// with a fraction of its rows changed. Row i depends only on (seed, i), so every run with the
// same options writes byte-identical files. The children, workers and teams are fictional.
#ifndef CASEWATCH_BENCH_GENERATOR_H_
#define CASEWATCH_BENCH_GENERATOR_H_

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "rules/rules.h"

namespace bench {

// splitmix64: small, fast and the same on every platform (std::uniform_int_distribution is not).
class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next();
  // Uniform in [0, n). REQUIRES: n > 0.
  std::uint64_t below(std::uint64_t n) { return next() % n; }
  // True with probability p.
  bool chance(double p) { return static_cast<double>(next() >> 11) * 0x1.0p-53 < p; }

 private:
  std::uint64_t state_;
};

struct ExtractSpec {
  std::size_t rows = 1'000'000;
  std::uint64_t seed = 20261116;
  rules::Date as_of = *rules::Date::from_ymd(2026, 11, 16);
  double unallocated = 0.03;  // open rows whose worker is nobody or whose allocation ended
  double closed = 0.10;       // rows with status Closed and a closure date
  double changed = 0.01;      // rows that differ in the copy a week later
};

// The header of the `cases` extract, in column order.
inline constexpr const char* kCaseHeader =
    "Case ID,Child ID,Allocated Team,Allocated Worker,Referral Date,Closure Date,Case Status,"
    "Allocation Start,Allocation End";

// One row of the extract. Dates are optional (empty cells); `null_end` writes the 31/12/9999
// sentinel that case systems use for "no end".
struct CaseRow {
  std::string case_id;
  std::string child_id;
  std::string team;
  std::string worker;
  rules::Date referral;
  std::optional<rules::Date> closure;
  std::string status;
  std::optional<rules::Date> allocation_start;
  std::optional<rules::Date> allocation_end;
  bool null_end = false;
};

// The number of teams and workers the generator draws from.
std::size_t team_count();
std::size_t worker_count();

// Row `i` of the extract as of spec.as_of; with `changed`, row i of the copy a week later (which
// differs from the original only for about spec.changed of the rows).
CaseRow make_case_row(const ExtractSpec& spec, std::size_t i, bool changed);

// Whether row i differs in the copy a week later.
bool is_changed(const ExtractSpec& spec, std::size_t i);

// The row as a CSV line (RFC 4180 quoting, dd/mm/yyyy dates, CRLF).
void append_csv_line(const CaseRow& row, std::string& out);

// The row as a record of `source` (values in its field order, dates ISO as ingest stores them).
rules::Record to_record(const CaseRow& row, const rules::Source& source);

struct GeneratedFiles {
  std::filesystem::path first;    // cases_<as_of>.csv
  std::filesystem::path changed;  // cases_<as_of + 7>.csv
  std::size_t rows = 0;
  std::size_t changed_rows = 0;
  std::size_t unallocated_rows = 0;  // open and nobody allocated, or allocation ended
  std::size_t closed_rows = 0;
  std::size_t quoted_rows = 0;  // rows with at least one quoted field
  std::uintmax_t bytes = 0;     // size of the first file
};

// Writes both extracts into `folder` (created when absent) in one pass, files 0640.
// Throws std::runtime_error when a file cannot be written.
GeneratedFiles write_extracts(const ExtractSpec& spec, const std::filesystem::path& folder);

}  // namespace bench

#endif  // CASEWATCH_BENCH_GENERATOR_H_
