// The set of keys seen in one extract, internal to ingest/: tells a repeated key from a new one
// exactly, in about 16 bytes per key plus the key's own bytes (1M ten-byte keys: ~45 MB).
#ifndef CASEWATCH_INGEST_KEY_SET_H_
#define CASEWATCH_INGEST_KEY_SET_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ingest {

// Open addressing on 64-bit hashes; keys are kept back to back in one arena so that a hash hit
// is confirmed by comparing the bytes. Not thread-safe.
class KeySet {
 public:
  // Adds `key` first seen on `line` (>= 1). Returns 0 when the key is new, else the line where
  // it was first seen (the set keeps that line).
  std::size_t insert(std::string_view key, std::size_t line);
  std::size_t size() const { return size_; }

 private:
  struct Slot {
    std::uint64_t hash = 0;
    std::uint32_t offset = 0;  // of the key in arena_: a 4-byte length, then the bytes
    std::uint32_t line = 0;    // 0 = empty slot
  };
  std::string_view key_at(std::uint32_t offset) const;
  void grow();

  std::vector<Slot> slots_;
  std::string arena_;
  std::size_t size_ = 0;
};

}  // namespace ingest

#endif  // CASEWATCH_INGEST_KEY_SET_H_
