#include "ingest/key_set.h"

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <new>
#include <stdexcept>

namespace ingest {

std::string_view KeySet::key_at(std::uint32_t offset) const {
  std::uint32_t length = 0;
  std::memcpy(&length, arena_.data() + offset, sizeof length);
  return std::string_view(arena_).substr(offset + sizeof length + sizeof(std::uint64_t), length);
}

std::uint64_t KeySet::content_at(std::uint32_t offset) const {
  std::uint64_t content = 0;
  std::memcpy(&content, arena_.data() + offset + sizeof(std::uint32_t), sizeof content);
  return content;
}

void KeySet::Free::operator()(Slot* slots) const noexcept { std::free(slots); }

void KeySet::grow() {
  const std::size_t capacity = capacity_ == 0 ? 1024 : capacity_ * 2;
  const std::size_t bytes = capacity * sizeof(Slot);
  // Large tables are aligned to 2 MiB and asked for huge pages: every insert lands on a random
  // slot, and with 4 KiB pages each would also miss the TLB.
  constexpr std::size_t kHugePage = std::size_t{2} << 20;
  const std::size_t alignment = bytes >= kHugePage ? kHugePage : alignof(Slot);
  void* memory = std::aligned_alloc(alignment, (bytes + alignment - 1) / alignment * alignment);
  if (memory == nullptr) {
    throw std::bad_alloc();
  }
  if (alignment == kHugePage) {
    madvise(memory, bytes, MADV_HUGEPAGE);  // advice only
  }
  std::unique_ptr<Slot[], Free> slots(static_cast<Slot*>(memory));
  std::uninitialized_fill_n(slots.get(), capacity, Slot{});
  const std::size_t mask = capacity - 1;
  for (std::size_t k = 0; k < capacity_; ++k) {
    const Slot& slot = slots_[k];
    if (slot.line == 0) {
      continue;
    }
    std::size_t i = slot.hash & mask;
    while (slots[i].line != 0) {
      i = (i + 1) & mask;
    }
    slots[i] = slot;
  }
  slots_ = std::move(slots);
  capacity_ = capacity;
}

std::uint64_t KeySet::hash(std::string_view key) { return std::hash<std::string_view>{}(key); }

void KeySet::prefetch(std::uint64_t hash) const {
  if (capacity_ != 0) {
    __builtin_prefetch(&slots_[hash & (capacity_ - 1)]);
  }
}

KeySet::Seen KeySet::insert(std::string_view key, std::uint64_t hash, std::uint64_t content,
                            std::size_t line) {
  if ((size_ + 1) * 10 > capacity_ * 7) {
    grow();  // load factor <= 0.7
  }
  const std::size_t mask = capacity_ - 1;
  std::size_t i = hash & mask;
  while (slots_[i].line != 0) {
    if (slots_[i].hash == hash && key_at(slots_[i].offset) == key) {
      return Seen{slots_[i].line, content_at(slots_[i].offset) == content};
    }
    i = (i + 1) & mask;
  }
  const std::size_t needed =
      arena_.size() + sizeof(std::uint32_t) + sizeof(std::uint64_t) + key.size();
  if (needed > std::numeric_limits<std::uint32_t>::max() ||
      line > std::numeric_limits<std::uint32_t>::max()) {
    throw std::runtime_error("the extract has more keys than casewatch can check (4 GB of keys)");
  }
  const auto offset = static_cast<std::uint32_t>(arena_.size());
  const auto length = static_cast<std::uint32_t>(key.size());
  arena_.append(reinterpret_cast<const char*>(&length), sizeof length);
  arena_.append(reinterpret_cast<const char*>(&content), sizeof content);
  arena_.append(key);
  slots_[i] = Slot{hash, offset, static_cast<std::uint32_t>(line)};
  ++size_;
  return Seen{};
}

}  // namespace ingest
