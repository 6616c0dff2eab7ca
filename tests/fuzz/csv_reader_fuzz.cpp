// libFuzzer harness: ingest::ExtractReader on arbitrary bytes, as an inbox extract.
// The sources are those of examples/casewatch.toml plus the SSDA903 episodes layout (a two-column
// key, one date format); the input's first line picks the source whose first key header it
// mentions, so seeds can be real extracts. Each input is read twice: plainly in one block, and with
// a row filter and a tiny block size (rows crossing blocks, skipped and repeated rows), the way the
// ingest cycle reads a re-ingested extract. Properties checked beyond "no crash": next() ends;
// every problem names a line within the file; a header problem means no records; rows() counts at
// least the records returned.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "ingest/ingest.h"

namespace {

std::vector<rules::Source> make_sources() {
  std::vector<rules::Source> sources =
      config::load_config(CASEWATCH_SOURCE_DIR "/examples/casewatch.toml").rules.sources;
  rules::Source episodes;
  episodes.name = "episodes";
  episodes.key = {"CHILD", "DECOM"};
  episodes.date_formats = {"%d/%m/%Y"};
  episodes.fields = {{"person", {"CHILD"}, false},
                     {"start", {"DECOM"}, true},
                     {"end", {"DEC"}, true},
                     {"postcode", {"HOME_POST"}, false}};
  sources.push_back(episodes);
  rules::Source latin = sources.front();  // the cases layout in windows-1252
  latin.name = "cases_1252";
  latin.encoding = rules::Encoding::kWindows1252;
  latin.as_of_column = "Extract Date";
  sources.push_back(latin);
  return sources;
}

const rules::Source& pick(const std::vector<rules::Source>& sources, std::string_view bytes) {
  const std::string_view first_line = bytes.substr(0, bytes.find('\n'));
  // The windows-1252 variant when the header has a byte >= 0x80, else the first match.
  const bool high = first_line.find_first_of("\x80\x92\xa3\xe9") != std::string_view::npos;
  for (const auto& source : sources) {
    if (high != (source.encoding == rules::Encoding::kWindows1252)) continue;
    if (first_line.find(source.key.front()) != std::string_view::npos) return source;
  }
  return sources[bytes.size() % sources.size()];
}

void check(bool ok) {
  if (!ok) std::abort();
}

void read(const std::string& bytes, const rules::Source& source, bool filtered) {
  std::istringstream in(bytes);
  // Blocks of 64 KiB (inputs are at most that: one block, as for most files) or of 7 bytes.
  ingest::ExtractReader::Options options;
  options.block_size = filtered ? 7 : std::size_t{1} << 16;
  ingest::ExtractReader reader(in, source, options);
  std::set<std::uint64_t> seen;
  std::size_t offered = 0;
  const ingest::RowFilter filter = [&](std::uint64_t hash, std::size_t line) {
    ++offered;
    check(line >= 1);
    if (!seen.insert(hash).second) return ingest::RowCheck{ingest::RowCheck::Kind::kRepeat, 1};
    if (hash % 5 == 0) return ingest::RowCheck{ingest::RowCheck::Kind::kSkip, 0};
    return ingest::RowCheck{};
  };
  rules::Record record;
  std::size_t records = 0;
  const std::size_t lines = static_cast<std::size_t>(std::count(bytes.begin(), bytes.end(), '\n') +
                                                     std::count(bytes.begin(), bytes.end(), '\r')) +
                            1;
  while (filtered ? reader.next(record, filter) : reader.next(record)) {
    ++records;
    check(record.values.size() == source.fields.size());
    check(reader.line() >= 1 && reader.line() <= lines);
    if (filtered && records % 3 == 0) reader.add_repeated_key(record.key, 1, reader.line());
    if (records > bytes.size() + 1) std::abort();  // more records than bytes: a loop
  }
  if (reader.header_problem()) check(records == 0);
  check(reader.rows() >= records);
  for (const auto& problem : reader.problems()) check(problem.line <= lines);
  (void)reader.verdict();
  (void)reader.as_of_from_column();
  (void)offered;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<rules::Source> sources = make_sources();
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  const rules::Source& source = pick(sources, bytes);
  try {
    read(bytes, source, false);
    read(bytes, source, true);
  } catch (const std::runtime_error&) {
    // An unreadable file is an exception by contract (ingest.h); anything else is a finding.
  }
  (void)ingest::as_of_from_file_name(bytes);
  (void)ingest::glob_match(bytes.substr(0, bytes.size() / 2), bytes.substr(bytes.size() / 2));
  return 0;
}
