#include "ingest/key_set.h"

#include <cstring>
#include <functional>
#include <limits>
#include <stdexcept>

namespace ingest {

std::string_view KeySet::key_at(std::uint32_t offset) const {
  std::uint32_t length = 0;
  std::memcpy(&length, arena_.data() + offset, sizeof length);
  return std::string_view(arena_).substr(offset + sizeof length, length);
}

void KeySet::grow() {
  std::vector<Slot> old;
  old.swap(slots_);
  slots_.assign(old.empty() ? 1024 : old.size() * 2, Slot{});
  const std::size_t mask = slots_.size() - 1;
  for (const Slot& slot : old) {
    if (slot.line == 0) continue;
    std::size_t i = slot.hash & mask;
    while (slots_[i].line != 0) i = (i + 1) & mask;
    slots_[i] = slot;
  }
}

std::size_t KeySet::insert(std::string_view key, std::size_t line) {
  if ((size_ + 1) * 10 > slots_.size() * 7) grow();  // load factor <= 0.7
  const std::uint64_t hash = std::hash<std::string_view>{}(key);
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = hash & mask;
  while (slots_[i].line != 0) {
    if (slots_[i].hash == hash && key_at(slots_[i].offset) == key) return slots_[i].line;
    i = (i + 1) & mask;
  }
  const std::size_t needed = arena_.size() + sizeof(std::uint32_t) + key.size();
  if (needed > std::numeric_limits<std::uint32_t>::max() ||
      line > std::numeric_limits<std::uint32_t>::max()) {
    throw std::runtime_error("the extract has more keys than casewatch can check (4 GB of keys)");
  }
  const auto offset = static_cast<std::uint32_t>(arena_.size());
  const auto length = static_cast<std::uint32_t>(key.size());
  arena_.append(reinterpret_cast<const char*>(&length), sizeof length);
  arena_.append(key);
  slots_[i] = Slot{hash, offset, static_cast<std::uint32_t>(line)};
  ++size_;
  return 0;
}

}  // namespace ingest
