// The stable 64-bit hash of a row's raw bytes, internal to ingest/: what ExtractReader::row_hash()
// gives and storage keeps, so its values are an on-disk format. Defined byte by byte (words read
// little-endian), the same on every build and machine; never std::hash.
#ifndef CASEWATCH_INGEST_ROW_HASH_H_
#define CASEWATCH_INGEST_ROW_HASH_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "rules/rules.h"

namespace ingest {

// Bumped whenever the reader's parsing of a row changes, so that hashes stored by an older
// reader no longer match (the rows are then parsed again).
inline constexpr std::uint64_t kRowParserVersion = 1;

// A 64-bit hash of `bytes` under `seed`: 16 bytes per step, each pair of words folded by a
// 64x64->128-bit multiply, the length mixed in at the end. Changing it changes every stored
// row hash (bump kRowParserVersion instead of relying on that).
std::uint64_t stable_hash64(std::string_view bytes, std::uint64_t seed) noexcept;

// The text that decides how a row of a file parses: the header row's fields as read, the source's
// key, fields (name, headers, is_date), date formats, null dates and encoding, and
// kRowParserVersion. Each part is written as "<length>:<bytes>;" so that no two different inputs
// give the same text.
std::string row_fingerprint(const std::vector<std::string_view>& header_fields,
                            const rules::Source& source);

// The seed of row hashes for a fingerprint.
std::uint64_t row_hash_seed(std::string_view fingerprint) noexcept;

}  // namespace ingest

#endif  // CASEWATCH_INGEST_ROW_HASH_H_
