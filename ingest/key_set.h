// The set of keys seen in one extract, internal to ingest/: tells a repeated key from a new one
// exactly, in 16 bytes per slot (load <= 0.7) plus the key's bytes and 12. Measured for 1M
// nine-byte keys: 59 MB peak RSS (48 MB once grown); std::unordered_map<std::string, line>: 74 MB.
#ifndef CASEWATCH_INGEST_KEY_SET_H_
#define CASEWATCH_INGEST_KEY_SET_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace ingest {

// Open addressing on 64-bit hashes; keys are kept back to back in one arena so that a hash hit
// is confirmed by comparing the bytes. Not thread-safe.
class KeySet {
 public:
  KeySet() = default;
  KeySet(const KeySet&) = delete;
  KeySet& operator=(const KeySet&) = delete;

  static std::uint64_t hash(std::string_view key);
  // Starts loading the slot for `hash` into the cache, so that insert() later does not wait for
  // memory: call it, do other work, then insert().
  void prefetch(std::uint64_t hash) const;
  // What insert() found.
  struct Seen {
    std::size_t first_line = 0;  // 0 when the key is new, else the line where it was first seen
    bool identical = false;      // the earlier row had the same content hash
  };
  // Adds `key` (whose hash() is `hash`) of a row whose content hashes to `content`, first seen
  // on `line` (>= 1). The set keeps the first line and content hash of each key.
  Seen insert(std::string_view key, std::uint64_t hash, std::uint64_t content, std::size_t line);
  std::size_t size() const { return size_; }

 private:
  struct Slot {
    std::uint64_t hash = 0;
    std::uint32_t offset = 0;  // of the key in arena_: a 4-byte length, an 8-byte content hash,
                               // then the key's bytes
    std::uint32_t line = 0;    // 0 = empty slot
  };
  std::string_view key_at(std::uint32_t offset) const;
  std::uint64_t content_at(std::uint32_t offset) const;
  void grow();

  struct Free {
    void operator()(Slot* slots) const noexcept;
  };
  std::unique_ptr<Slot[], Free> slots_;
  std::size_t capacity_ = 0;  // a power of two, or 0
  std::string arena_;
  std::size_t size_ = 0;
};

}  // namespace ingest

#endif  // CASEWATCH_INGEST_KEY_SET_H_
