// KeyTable: a source's current snapshot as record key -> (content hash, raw row hash, row id), in
// flat arrays (internal to storage), found by key or by raw row hash. The extract writer holds
// one per extract, so it must stay small: about 80 bytes per record plus the key bytes, and no
// allocation per record.
#ifndef CASEWATCH_STORAGE_KEY_TABLE_H_
#define CASEWATCH_STORAGE_KEY_TABLE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace storage {

class KeyTable {
 public:
  struct Entry {
    std::uint64_t key_hash = 0;
    std::uint64_t content_hash = 0;
    std::uint64_t row_hash = 0;  // of the raw row the record was read from; 0 = none
    std::int64_t row_id = 0;
    std::uint32_t key_offset = 0;  // into keys_ (at most 4 GiB of keys)
    std::uint32_t key_size = 0;
    // The extract writer's marks: the key is in the extract being written (first on
    // seen_line, 0 when the line is unknown), found by its raw row hash (not read), and the
    // version row_id is being replaced.
    std::uint32_t seen_line = 0;
    bool seen : 1 = false;
    bool by_row : 1 = false;
    bool replaced : 1 = false;
    bool rehashed : 1 = false;  // its row_hash changed in this extract (same values)
    // No longer current: removed by a snapshot delta (storage/snapshot_codec.h). find() and
    // find_row() still return it; callers treat it as absent.
    bool dead : 1 = false;  // 48 bytes per entry in all
  };

  // REQUIRES: `key` is not in the table yet; `key_hash` == content_hash(key); `row_hash` is 0
  // or unique in the table.
  void add(std::string_view key, std::uint64_t key_hash, std::uint64_t content_hash,
           std::int64_t row_id, std::uint64_t row_hash = 0);
  // add() for loading many entries in a row: each is placed in the table a few loads later,
  // once its slot is in the CPU cache (a 1M-record snapshot loads faster). find() places the
  // pending ones first. REQUIRES: as for add().
  void load(std::string_view key, std::uint64_t key_hash, std::uint64_t content_hash,
            std::int64_t row_id, std::uint64_t row_hash = 0);
  // Makes room for `count` entries and `key_bytes` bytes of keys in all (estimates), so that
  // loading them neither rehashes nor copies the keys loaded so far.
  void reserve(std::size_t count, std::size_t key_bytes = 0);
  // Starts loading the slot where find(..., key_hash) starts, so that a later find() does not
  // wait for memory.
  void prefetch(std::uint64_t key_hash) const {
    if (slots_.empty()) {
      return;
    }
    const std::uint64_t* slot = &slots_[key_hash & (slots_.size() - 1)];
#if defined(__x86_64__)
    // Not __builtin_prefetch: g++ 12 drops it when it sits behind a condition.
    asm volatile("prefetcht0 (%0)" : : "r"(slot));
#else
    __builtin_prefetch(slot);
#endif
  }
  // The entry of `key`, or nullptr. The pointer is valid until the next add().
  Entry* find(std::string_view key, std::uint64_t key_hash);
  // The entry loaded with this raw row hash (not 0), or nullptr. Changing an entry's row_hash
  // afterwards does not move it: it is still found by the hash it was loaded with.
  Entry* find_row(std::uint64_t row_hash);
  // Makes find_row() find `entry` by its row_hash after it was changed (it is also still found
  // by the old one, where callers compare the hash).
  void index_row(Entry& entry);
  // As prefetch(), for find_row().
  void prefetch_row(std::uint64_t row_hash) const {
    if (row_slots_.empty()) {
      return;
    }
    const std::uint64_t* slot = &row_slots_[row_hash & (row_slots_.size() - 1)];
#if defined(__x86_64__)
    asm volatile("prefetcht0 (%0)" : : "r"(slot));
#else
    __builtin_prefetch(slot);
#endif
  }

  const std::vector<Entry>& entries() const { return entries_; }
  std::string_view key(const Entry& entry) const {
    return std::string_view(keys_).substr(entry.key_offset, entry.key_size);
  }

 private:
  // The slot of entry `index`: the key hash's high half, then index + 1 (0 = empty slot).
  static std::uint64_t make_slot(std::uint64_t key_hash, std::size_t index) {
    return (key_hash & 0xffffffff00000000ULL) | (index + 1);
  }
  static constexpr std::size_t kLoadLag = 16;
  void grow();
  void rehash();  // places every entry in slots_ (after resizing it)
  void place(std::size_t index);
  void place_pending();

  std::vector<Entry> entries_;
  std::string keys_;                      // every key, one after the other
  std::vector<std::uint64_t> slots_;      // by key hash, open addressing, see make_slot()
  std::vector<std::uint64_t> row_slots_;  // by row hash, the same way (same size)
  std::size_t placed_ = 0;                // entries_[0, placed_) are in slots_
  std::size_t row_slots_used_ = 0;        // taken slots of row_slots_, stale ones included
};

}  // namespace storage

#endif  // CASEWATCH_STORAGE_KEY_TABLE_H_
