#include "ingest/row_hash.h"

#include <bit>
#include <cstring>

namespace ingest {
namespace {

// Odd 64-bit constants with about half their bits set (from the fractional parts of sqrt(2),
// sqrt(3) and the golden ratio).
constexpr std::uint64_t kMul0 = 0x6A09E667F3BCC909ULL;
constexpr std::uint64_t kMul1 = 0xBB67AE8584CAA73BULL;
constexpr std::uint64_t kMul2 = 0x9E3779B97F4A7C15ULL;
// Seeds the seed: any fixed value, kept forever.
constexpr std::uint64_t kFingerprintSeed = 0x3C6EF372FE94F82BULL;

__extension__ using Uint128 = unsigned __int128;  // GCC's; __extension__ for -Wpedantic

// The 128-bit product of a and b, folded to 64 bits.
inline std::uint64_t fold_multiply(std::uint64_t a, std::uint64_t b) {
  const Uint128 product = static_cast<Uint128>(a) * b;
  return static_cast<std::uint64_t>(product) ^ static_cast<std::uint64_t>(product >> 64);
}

inline std::uint64_t load64(const char* p) {
  std::uint64_t v = 0;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::big) {
    v = __builtin_bswap64(v);
  }
  return v;
}

inline std::uint64_t load32(const char* p) {
  std::uint32_t v = 0;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::big) {
    v = __builtin_bswap32(v);
  }
  return v;
}

void add_part(std::string& out, std::string_view part) {
  out += std::to_string(part.size());
  out += ':';
  out += part;
  out += ';';
}

}  // namespace

std::uint64_t stable_hash64(std::string_view bytes, std::uint64_t seed) noexcept {
  const char* p = bytes.data();
  std::size_t n = bytes.size();
  std::uint64_t h = fold_multiply(seed ^ kMul0, kMul1);
  while (n > 16) {
    h = fold_multiply(load64(p) ^ kMul1, load64(p + 8) ^ h);
    p += 16;
    n -= 16;
  }
  // The last 1 to 16 bytes, read as (possibly overlapping) words.
  std::uint64_t a = 0;
  std::uint64_t b = 0;
  if (n > 8) {
    a = load64(p);
    b = load64(p + n - 8);
  } else if (n >= 4) {
    a = load32(p) << 32 | load32(p + n - 4);
  } else if (n > 0) {
    const auto byte = [&](std::size_t i) {
      return std::uint64_t{static_cast<unsigned char>(p[i])};
    };
    a = byte(0) << 16 | byte(n / 2) << 8 | byte(n - 1);
  }
  h = fold_multiply(a ^ kMul2, b ^ h);
  return fold_multiply(h ^ kMul1, (bytes.size() ^ kMul2));
}

std::string row_fingerprint(const std::vector<std::string_view>& header_fields,
                            const rules::Source& source) {
  std::string out = "casewatch row v" + std::to_string(kRowParserVersion) + ";";
  add_part(out, "header");
  add_part(out, std::to_string(header_fields.size()));
  for (const std::string_view field : header_fields) {
    add_part(out, field);
  }
  add_part(out, "key");
  add_part(out, std::to_string(source.key.size()));
  for (const auto& column : source.key) {
    add_part(out, column);
  }
  add_part(out, "fields");
  add_part(out, std::to_string(source.fields.size()));
  for (const auto& field : source.fields) {
    add_part(out, field.name);
    add_part(out, field.is_date ? "date" : "text");
    add_part(out, std::to_string(field.headers.size()));
    for (const auto& header : field.headers) {
      add_part(out, header);
    }
  }
  add_part(out, "date_formats");
  add_part(out, std::to_string(source.date_formats.size()));
  for (const auto& format : source.date_formats) {
    add_part(out, format);
  }
  add_part(out, "null_dates");
  add_part(out, std::to_string(source.null_dates.size()));
  for (const auto& date : source.null_dates) {
    add_part(out, date.iso());
  }
  add_part(out, "encoding");
  add_part(out, source.encoding == rules::Encoding::kWindows1252 ? "windows-1252" : "utf-8");
  return out;
}

std::uint64_t row_hash_seed(std::string_view fingerprint) noexcept {
  return stable_hash64(fingerprint, kFingerprintSeed);
}

}  // namespace ingest
