// The byte formats of snapshots.entries (a source's current snapshot, one blob per source) and
// key_chunks.entries (a slice of an extract's key index), internal to storage. Both are defined
// byte by byte (little-endian), so a database reads the same on any machine.
#ifndef CASEWATCH_STORAGE_SNAPSHOT_CODEC_H_
#define CASEWATCH_STORAGE_SNAPSHOT_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace storage {

// Snapshot bytes that are not a snapshot. The snapshot is derived data (records and
// record_ends are the truth), so callers read the records instead.
class CorruptSnapshot : public std::runtime_error {
 public:
  CorruptSnapshot() : std::runtime_error("corrupt snapshot in the database") {}
};

// One current record of a snapshot. In a delta, an entry with row_id 0 removes its key (the
// record is no longer current) and any other adds or replaces the key's entry.
struct SnapshotEntry {
  std::string_view key;
  std::uint64_t content_hash = 0;
  std::uint64_t row_hash = 0;  // 0 = none
  std::int64_t row_id = 0;
};

// Writes a snapshot of `count` entries, appended in any order, to `sink` in pieces of about
// 1 MiB (so a large snapshot is never held whole). finish() passes the last piece.
// Format: "CWS1", varint count, then per entry: varint key size, key bytes, content hash (8),
// row hash (8), row id as a zigzag varint difference from the previous entry's (the first from 0).
class SnapshotWriter {
 public:
  SnapshotWriter(std::size_t count, std::function<void(std::string_view)> sink);
  void append(const SnapshotEntry& entry);
  void finish();

 private:
  std::function<void(std::string_view)> sink_;
  std::string buffer_;
  std::int64_t previous_row_id_ = 0;
};

// The number of bytes SnapshotWriter writes for the same entries, counted without writing them.
class SnapshotSize {
 public:
  explicit SnapshotSize(std::size_t count);
  void append(const SnapshotEntry& entry);
  void finish() {}
  std::size_t bytes() const { return bytes_; }

 private:
  std::size_t bytes_ = 0;
  std::int64_t previous_row_id_ = 0;
};

// Reads a snapshot written by SnapshotWriter. Throws CorruptSnapshot when the bytes are not one.
class SnapshotReader {
 public:
  SnapshotReader(const void* data, std::size_t size);
  std::size_t count() const { return count_; }
  // The next entry (its key points into the data), or false after the last.
  bool next(SnapshotEntry& entry);

 private:
  const unsigned char* at_;
  const unsigned char* end_;
  std::size_t count_ = 0;
  std::size_t read_ = 0;
  std::int64_t previous_row_id_ = 0;
};

// record_blocks: record versions stored several to a row. A version's id is
// kBlockIds + block id * kBlockVersions + its slot in the block, above every records.id.
inline constexpr std::int64_t kBlockIds = std::int64_t{1} << 62;
inline constexpr std::int64_t kBlockVersions = 64;
inline bool is_block_version(std::int64_t id) { return id >= kBlockIds; }
inline std::int64_t block_of(std::int64_t id) { return (id - kBlockIds) / kBlockVersions; }
inline std::int64_t slot_of(std::int64_t id) { return (id - kBlockIds) % kBlockVersions; }
inline std::int64_t version_id(std::int64_t block, std::int64_t slot) {
  return kBlockIds + block * kBlockVersions + slot;
}
// Sorts row ids ascending, as std::sort. One source's ids span a narrow range (its versions'
// blocks), so it radix-sorts each id's offset from the smallest, 16 bits a pass: a million ids in
// two passes, where std::sort took a fifth of reading a source's current records.
void sort_row_ids(std::vector<std::int64_t>& ids);
// record_blocks.versions: per version, a varint key size, the key, a varint data size, the data
// (records.data's encoding).
void append_block_version(std::string& block, std::string_view key, std::string_view data);
struct BlockVersion {
  std::string_view key;
  std::string_view data;
};
// The versions of a block, in slot order. Throws std::runtime_error ("corrupt record block in
// the database") when the bytes are not a block.
std::vector<BlockVersion> decode_block(const void* data, std::size_t size);

// A key index entry: a record version's key hash (as SQLite's signed integer) and row id.
struct KeyIndexEntry {
  std::int64_t key_hash = 0;
  std::int64_t row_id = 0;
  // clang-tidy 14 reads a defaulted <=> as comparing with a literal 0.
  // NOLINTNEXTLINE(modernize-use-nullptr)
  auto operator<=>(const KeyIndexEntry&) const = default;
};
// key_chunks.entries: the entries back to back, 16 bytes each (key hash, row id).
std::string encode_key_chunk(std::span<const KeyIndexEntry> entries);
// The row ids of the entries with `key_hash` in a chunk. Throws when the size is not a multiple
// of 16.
std::vector<std::int64_t> find_in_key_chunk(const void* data, std::size_t size,
                                            std::int64_t key_hash);

}  // namespace storage

#endif  // CASEWATCH_STORAGE_SNAPSHOT_CODEC_H_
