#include "storage/key_table.h"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace storage {

void KeyTable::add(std::string_view key, std::uint64_t key_hash, std::uint64_t content_hash,
                   std::int64_t row_id) {
  load(key, key_hash, content_hash, row_id);
  place_pending();
}

void KeyTable::load(std::string_view key, std::uint64_t key_hash, std::uint64_t content_hash,
                    std::int64_t row_id) {
  if (entries_.size() >= std::numeric_limits<std::uint32_t>::max() - 1) {
    throw std::length_error("KeyTable: too many records");
  }
  if (keys_.size() + key.size() > std::numeric_limits<std::uint32_t>::max() ||
      key.size() >= (1U << 31)) {
    throw std::length_error("KeyTable: too many key bytes");
  }
  if ((entries_.size() + 1) * 2 > slots_.size()) grow();
  entries_.push_back(Entry{key_hash, content_hash, row_id, static_cast<std::uint32_t>(keys_.size()),
                           static_cast<std::uint32_t>(key.size()), 0});
  keys_.append(key);
  // Placed kLoadLag entries later, when its slot has arrived in the cache.
  prefetch(key_hash);
  while (entries_.size() - placed_ > kLoadLag) place(placed_++);
}

void KeyTable::place_pending() {
  while (placed_ < entries_.size()) place(placed_++);
}

void KeyTable::place(std::size_t index) {
  const std::uint64_t key_hash = entries_[index].key_hash;
  const std::size_t mask = slots_.size() - 1;
  std::size_t slot = key_hash & mask;
  while (slots_[slot] != 0) slot = (slot + 1) & mask;
  slots_[slot] = make_slot(key_hash, index);
}

KeyTable::Entry* KeyTable::find(std::string_view key, std::uint64_t key_hash) {
  if (placed_ < entries_.size()) place_pending();
  if (slots_.empty()) return nullptr;
  const std::size_t mask = slots_.size() - 1;
  const std::uint64_t tag = key_hash >> 32;
  for (std::size_t slot = key_hash & mask; slots_[slot] != 0; slot = (slot + 1) & mask) {
    // The tag (the hash's high half) spares reading the entries of other keys.
    if ((slots_[slot] >> 32) != tag) continue;
    Entry& entry = entries_[(slots_[slot] & 0xffffffffU) - 1];
    if (entry.key_hash == key_hash && this->key(entry) == key) return &entry;
  }
  return nullptr;
}

void KeyTable::reserve(std::size_t count) {
  std::size_t size = slots_.empty() ? 1024 : slots_.size();
  while (size < count * 2) size *= 2;
  if (size > slots_.size()) {
    slots_.resize(size);
    rehash();
  }
  entries_.reserve(count);
}

void KeyTable::grow() {
  slots_.resize(slots_.empty() ? 1024 : slots_.size() * 2);
  rehash();
}

void KeyTable::rehash() {
  std::fill(slots_.begin(), slots_.end(), 0);
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    std::size_t slot = entries_[i].key_hash & mask;
    while (slots_[slot] != 0) slot = (slot + 1) & mask;
    slots_[slot] = make_slot(entries_[i].key_hash, i);
  }
  placed_ = entries_.size();
}

}  // namespace storage
