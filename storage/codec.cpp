// Encoding of record values and dates for the database.
#include <bit>
#include <stdexcept>

#include "storage/impl.h"

namespace storage {

std::string encode_values(const std::vector<std::string>& values) {
  std::string out;
  encode_values(values, out);
  return out;
}

void encode_values(const std::vector<std::string>& values, std::string& out) {
  std::size_t size = 0;
  for (const auto& value : values) {
    size += value.size() + 2;
  }
  out.clear();
  out.reserve(size);
  for (const auto& value : values) {
    std::size_t length = value.size();
    while (length >= 0x80) {
      out.push_back(static_cast<char>((length & 0x7f) | 0x80));
      length >>= 7;
    }
    out.push_back(static_cast<char>(length));
    out.append(value);
  }
}

void decode_values(const void* data, std::size_t size, std::vector<std::string_view>& values) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  values.clear();
  std::size_t at = 0;
  while (at < size) {
    std::size_t length = 0;
    int shift = 0;
    while (true) {
      if (at >= size || shift > 56) {
        throw std::runtime_error("corrupt record data in the database");
      }
      const unsigned char byte = bytes[at++];
      length |= static_cast<std::size_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) {
        break;
      }
      shift += 7;
    }
    if (length > size - at) {
      throw std::runtime_error("corrupt record data in the database");
    }
    values.emplace_back(reinterpret_cast<const char*>(bytes + at), length);
    at += length;
  }
}

std::vector<std::string> decode_values(const void* data, std::size_t size) {
  std::vector<std::string_view> views;
  decode_values(data, size, views);
  return std::vector<std::string>(views.begin(), views.end());
}

std::uint64_t content_hash(std::string_view bytes) {
  // Eight bytes at a time, each word mixed (multiply, xor-shift) into the state; murmur3's
  // finaliser at the end. Defined byte by byte (little-endian words), so stable across builds.
  constexpr std::uint64_t kMul = 0x9e3779b97f4a7c15ULL;
  const auto mix = [](std::uint64_t w) {
    w *= 0xff51afd7ed558ccdULL;
    return w ^ (w >> 32);
  };
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t n = bytes.size();
  std::uint64_t h = 0x243f6a8885a308d3ULL ^ (n * kMul);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w = 0;
    for (int b = 0; b < 8; ++b) {
      w |= static_cast<std::uint64_t>(p[i + b]) << (8 * b);
    }
    h = std::rotl((h ^ mix(w)) * kMul, 31);
  }
  std::uint64_t tail = 0;
  for (int b = 0; i < n; ++i, ++b) {
    tail |= static_cast<std::uint64_t>(p[i]) << (8 * b);
  }
  h = std::rotl((h ^ mix(tail)) * kMul, 31);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

void bind_date(SQLite::Statement& statement, int index, const std::optional<rules::Date>& date) {
  if (date) {
    statement.bind(index, date->iso());
  } else {
    statement.bind(index);
  }
}

std::optional<rules::Date> column_date(const SQLite::Column& column) {
  if (column.isNull()) {
    return std::nullopt;
  }
  return rules::Date::parse_iso(column.getText());
}

rules::Date required_date(const SQLite::Column& column) {
  const auto date = column_date(column);
  if (!date) {
    throw std::runtime_error("corrupt date in the database: '" + column.getString() + "'");
  }
  return *date;
}

}  // namespace storage
