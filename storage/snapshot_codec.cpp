#include "storage/snapshot_codec.h"

#include <algorithm>
#include <bit>
#include <stdexcept>
#include <utility>

namespace storage {
namespace {

constexpr std::string_view kMagic = "CWS1";

void put_u64(std::string& out, std::uint64_t value) {
  char bytes[8];
  for (int i = 0; i < 8; ++i) {
    bytes[i] = static_cast<char>(value >> (8 * i));
  }
  out.append(bytes, 8);
}

void put_varint(std::string& out, std::uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

[[noreturn]] void corrupt() { throw CorruptSnapshot(); }

std::uint64_t get_u64(const unsigned char*& at, const unsigned char* end) {
  if (end - at < 8) {
    corrupt();
  }
  std::uint64_t value = 0;
  for (int i = 0; i < 8; ++i) {
    value |= static_cast<std::uint64_t>(at[i]) << (8 * i);
  }
  at += 8;
  return value;
}

std::uint64_t get_varint(const unsigned char*& at, const unsigned char* end) {
  std::uint64_t value = 0;
  for (int shift = 0; shift <= 63; shift += 7) {
    if (at == end) {
      corrupt();
    }
    const unsigned char byte = *at++;
    value |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      return value;
    }
  }
  corrupt();
}

std::uint64_t zigzag(std::int64_t value) {
  return (static_cast<std::uint64_t>(value) << 1) ^ static_cast<std::uint64_t>(value >> 63);
}
std::int64_t unzigzag(std::uint64_t value) {
  return static_cast<std::int64_t>(value >> 1) ^ -static_cast<std::int64_t>(value & 1);
}

// A row id as a snapshot holds it: the zigzag of its difference from the previous entry's, in
// wrapping arithmetic, so any two ids encode.
std::uint64_t row_id_delta(std::int64_t row_id, std::int64_t previous) {
  return zigzag(static_cast<std::int64_t>(static_cast<std::uint64_t>(row_id) -
                                          static_cast<std::uint64_t>(previous)));
}

}  // namespace

constexpr std::size_t kPieceBytes = std::size_t{1} << 20;

SnapshotWriter::SnapshotWriter(std::size_t count, std::function<void(std::string_view)> sink)
    : sink_(std::move(sink)) {
  buffer_.reserve(kPieceBytes + 64);
  buffer_.append(kMagic);
  put_varint(buffer_, count);
}

void SnapshotWriter::append(const SnapshotEntry& entry) {
  put_varint(buffer_, entry.key.size());
  buffer_.append(entry.key);
  put_u64(buffer_, entry.content_hash);
  put_u64(buffer_, entry.row_hash);
  put_varint(buffer_, row_id_delta(entry.row_id, previous_row_id_));
  previous_row_id_ = entry.row_id;
  if (buffer_.size() >= kPieceBytes) {
    sink_(buffer_);
    buffer_.clear();
  }
}

void SnapshotWriter::finish() {
  if (!buffer_.empty()) {
    sink_(buffer_);
  }
  buffer_.clear();
}

namespace {

std::size_t varint_size(std::uint64_t value) {
  std::size_t size = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++size;
  }
  return size;
}

}  // namespace

SnapshotSize::SnapshotSize(std::size_t count) : bytes_(kMagic.size() + varint_size(count)) {}

void SnapshotSize::append(const SnapshotEntry& entry) {
  bytes_ += varint_size(entry.key.size()) + entry.key.size() + 16 +
            varint_size(row_id_delta(entry.row_id, previous_row_id_));
  previous_row_id_ = entry.row_id;
}

SnapshotReader::SnapshotReader(const void* data, std::size_t size)
    : at_(static_cast<const unsigned char*>(data)), end_(at_ + size) {
  if (size < kMagic.size() ||
      std::string_view(reinterpret_cast<const char*>(at_), kMagic.size()) != kMagic) {
    corrupt();
  }
  at_ += kMagic.size();
  count_ = static_cast<std::size_t>(get_varint(at_, end_));
  // Each entry takes at least 18 bytes: a count beyond that is corrupt (and not reserved).
  if (count_ > static_cast<std::size_t>(end_ - at_) / 18) {
    corrupt();
  }
}

bool SnapshotReader::next(SnapshotEntry& entry) {
  if (read_ == count_) {
    if (at_ != end_) {
      corrupt();
    }
    return false;
  }
  const std::uint64_t key_size = get_varint(at_, end_);
  if (key_size > static_cast<std::uint64_t>(end_ - at_)) {
    corrupt();
  }
  entry.key = std::string_view(reinterpret_cast<const char*>(at_), key_size);
  at_ += key_size;
  entry.content_hash = get_u64(at_, end_);
  entry.row_hash = get_u64(at_, end_);
  entry.row_id =
      static_cast<std::int64_t>(static_cast<std::uint64_t>(previous_row_id_) +
                                static_cast<std::uint64_t>(unzigzag(get_varint(at_, end_))));
  previous_row_id_ = entry.row_id;
  ++read_;
  return true;
}

void append_block_version(std::string& block, std::string_view key, std::string_view data) {
  put_varint(block, key.size());
  block.append(key);
  put_varint(block, data.size());
  block.append(data);
}

std::vector<BlockVersion> decode_block(const void* data, std::size_t size) {
  const auto* at = static_cast<const unsigned char*>(data);
  const auto* end = at + size;
  std::vector<BlockVersion> versions;
  const auto text = [&]() -> std::string_view {
    std::uint64_t length = 0;
    try {
      length = get_varint(at, end);
    } catch (const CorruptSnapshot&) {
      throw std::runtime_error("corrupt record block in the database");
    }
    if (length > static_cast<std::uint64_t>(end - at)) {
      throw std::runtime_error("corrupt record block in the database");
    }
    const std::string_view out(reinterpret_cast<const char*>(at), length);
    at += length;
    return out;
  };
  while (at != end) {
    BlockVersion version;
    version.key = text();
    version.data = text();
    versions.push_back(version);
  }
  return versions;
}

std::string encode_key_chunk(std::span<const KeyIndexEntry> entries) {
  std::string out;
  out.reserve(entries.size() * 16);
  for (const auto& entry : entries) {
    put_u64(out, static_cast<std::uint64_t>(entry.key_hash));
    put_u64(out, static_cast<std::uint64_t>(entry.row_id));
  }
  return out;
}

std::vector<std::int64_t> find_in_key_chunk(const void* data, std::size_t size,
                                            std::int64_t key_hash) {
  if (size % 16 != 0) {
    throw std::runtime_error("corrupt key index in the database");
  }
  const auto* bytes = static_cast<const unsigned char*>(data);
  const auto entry_at = [&](std::size_t i) {
    const unsigned char* at = bytes + i * 16;
    const unsigned char* end = at + 16;
    const auto hash = static_cast<std::int64_t>(get_u64(at, end));
    const auto row_id = static_cast<std::int64_t>(get_u64(at, end));
    return KeyIndexEntry{hash, row_id};
  };
  // The first entry with a hash >= key_hash (the chunk is sorted), then those equal to it.
  std::size_t low = 0;
  std::size_t high = size / 16;
  while (low < high) {
    const std::size_t middle = low + (high - low) / 2;
    if (entry_at(middle).key_hash < key_hash) {
      low = middle + 1;
    } else {
      high = middle;
    }
  }
  std::vector<std::int64_t> ids;
  for (std::size_t i = low; i < size / 16; ++i) {
    const auto entry = entry_at(i);
    if (entry.key_hash != key_hash) {
      break;
    }
    ids.push_back(entry.row_id);
  }
  return ids;
}

void sort_row_ids(std::vector<std::int64_t>& ids) {
  if (ids.size() < 4096) {
    std::sort(ids.begin(), ids.end());
    return;
  }
  const auto [low, high] = std::minmax_element(ids.begin(), ids.end());
  const std::int64_t least = *low;
  const auto span = static_cast<std::uint64_t>(*high) - static_cast<std::uint64_t>(least);
  const auto passes = static_cast<int>((std::bit_width(span) + 15) / 16);
  if (passes > 3) {
    std::sort(ids.begin(), ids.end());
    return;
  }
  std::vector<std::int64_t> spare(ids.size());
  std::vector<std::size_t> starts(std::size_t{1} << 16);
  for (int pass = 0; pass < passes; ++pass) {
    const int shift = 16 * pass;
    const auto digit = [&](std::int64_t id) {
      return static_cast<std::size_t>(
          ((static_cast<std::uint64_t>(id) - static_cast<std::uint64_t>(least)) >> shift) & 0xffff);
    };
    std::fill(starts.begin(), starts.end(), 0);
    for (const std::int64_t id : ids) {
      ++starts[digit(id)];
    }
    std::size_t total = 0;
    for (std::size_t& start : starts) {
      const std::size_t count = start;
      start = total;
      total += count;
    }
    for (const std::int64_t id : ids) {
      spare[starts[digit(id)]++] = id;
    }
    ids.swap(spare);
  }
}

}  // namespace storage
