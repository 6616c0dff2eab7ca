#include "storage/key_table.h"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace storage {

void KeyTable::add(std::string_view key, std::uint64_t key_hash, std::uint64_t content_hash,
                   std::int64_t row_id, std::uint64_t row_hash) {
  load(key, key_hash, content_hash, row_id, row_hash);
  place_pending();
}

void KeyTable::load(std::string_view key, std::uint64_t key_hash, std::uint64_t content_hash,
                    std::int64_t row_id, std::uint64_t row_hash) {
  if (entries_.size() >= std::numeric_limits<std::uint32_t>::max() - 1) {
    throw std::length_error("KeyTable: too many records");
  }
  if (keys_.size() + key.size() > std::numeric_limits<std::uint32_t>::max() ||
      key.size() >= (1U << 31)) {
    throw std::length_error("KeyTable: too many key bytes");
  }
  if ((entries_.size() + 1) * 2 > slots_.size()) {
    grow();
  }
  Entry entry;
  entry.key_hash = key_hash;
  entry.content_hash = content_hash;
  entry.row_hash = row_hash;
  entry.row_id = row_id;
  entry.key_offset = static_cast<std::uint32_t>(keys_.size());
  entry.key_size = static_cast<std::uint32_t>(key.size());
  entries_.push_back(entry);
  keys_.append(key);
  // Placed kLoadLag entries later, when its slots have arrived in the cache.
  prefetch(key_hash);
  if (row_hash != 0) {
    prefetch_row(row_hash);
  }
  while (entries_.size() - placed_ > kLoadLag) {
    place(placed_++);
  }
}

void KeyTable::place_pending() {
  while (placed_ < entries_.size()) {
    place(placed_++);
  }
}

void KeyTable::place(std::size_t index) {
  const std::size_t mask = slots_.size() - 1;
  const auto put = [&](std::vector<std::uint64_t>& slots, std::uint64_t hash) {
    std::size_t slot = hash & mask;
    while (slots[slot] != 0) {
      slot = (slot + 1) & mask;
    }
    slots[slot] = make_slot(hash, index);
  };
  put(slots_, entries_[index].key_hash);
  if (entries_[index].row_hash != 0) {
    put(row_slots_, entries_[index].row_hash);
    ++row_slots_used_;
  }
}

void KeyTable::index_row(Entry& entry) {
  if (entry.row_hash == 0) {
    return;
  }
  place_pending();
  const auto index = static_cast<std::size_t>(&entry - entries_.data());
  // Old hashes stay in row_slots_ until a rehash: keep it under 70% full so probing ends.
  if ((row_slots_used_ + 1) * 10 > row_slots_.size() * 7) {
    rehash();  // places the entry by its new hash
    return;
  }
  const std::size_t mask = row_slots_.size() - 1;
  std::size_t slot = entry.row_hash & mask;
  while (row_slots_[slot] != 0) {
    slot = (slot + 1) & mask;
  }
  row_slots_[slot] = make_slot(entry.row_hash, index);
  ++row_slots_used_;
}

KeyTable::Entry* KeyTable::find(std::string_view key, std::uint64_t key_hash) {
  if (placed_ < entries_.size()) {
    place_pending();
  }
  if (slots_.empty()) {
    return nullptr;
  }
  const std::size_t mask = slots_.size() - 1;
  const std::uint64_t tag = key_hash >> 32;
  for (std::size_t slot = key_hash & mask; slots_[slot] != 0; slot = (slot + 1) & mask) {
    // The tag (the hash's high half) spares reading the entries of other keys.
    if ((slots_[slot] >> 32) != tag) {
      continue;
    }
    Entry& entry = entries_[(slots_[slot] & 0xffffffffU) - 1];
    if (entry.key_hash == key_hash && this->key(entry) == key) {
      return &entry;
    }
  }
  return nullptr;
}

KeyTable::Entry* KeyTable::find_row(std::uint64_t row_hash) {
  if (placed_ < entries_.size()) {
    place_pending();
  }
  if (row_slots_.empty() || row_hash == 0) {
    return nullptr;
  }
  const std::size_t mask = row_slots_.size() - 1;
  const std::uint64_t tag = row_hash >> 32;
  for (std::size_t slot = row_hash & mask; row_slots_[slot] != 0; slot = (slot + 1) & mask) {
    if ((row_slots_[slot] >> 32) != tag) {
      continue;
    }
    Entry& entry = entries_[(row_slots_[slot] & 0xffffffffU) - 1];
    if (entry.row_hash == row_hash) {
      return &entry;
    }
  }
  return nullptr;
}

void KeyTable::reserve(std::size_t count, std::size_t key_bytes) {
  std::size_t size = slots_.empty() ? 1024 : slots_.size();
  while (size < count * 2) {
    size *= 2;
  }
  if (size > slots_.size()) {
    slots_.resize(size);
    row_slots_.resize(size);
    rehash();
  }
  entries_.reserve(count);
  keys_.reserve(key_bytes);
}

void KeyTable::grow() {
  slots_.resize(slots_.empty() ? 1024 : slots_.size() * 2);
  row_slots_.resize(slots_.size());
  rehash();
}

// Places every entry again. An entry whose row_hash changed since it was placed is now found by
// its new hash: only the extract writer changes it, after loading, and never rehashes then.
void KeyTable::rehash() {
  std::fill(slots_.begin(), slots_.end(), 0);
  std::fill(row_slots_.begin(), row_slots_.end(), 0);
  row_slots_used_ = 0;
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    place(i);
  }
  placed_ = entries_.size();
}

}  // namespace storage
