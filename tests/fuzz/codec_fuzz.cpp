// libFuzzer harness: storage's byte formats read back from a database that may be damaged
// (storage/snapshot_codec.h, records.data in storage/impl.h). The first byte picks the format:
// a snapshot piece, a record block, a key index chunk or a record's values. Each reader must
// either read the bytes or throw its "corrupt ..." error; what it reads must write back to bytes
// that read the same (a round trip), and the snapshot's size must be what SnapshotSize counts.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "storage/impl.h"
#include "storage/key_table.h"
#include "storage/snapshot_codec.h"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

struct Entry {
  std::string key;
  std::uint64_t content_hash;
  std::uint64_t row_hash;
  std::int64_t row_id;
  bool operator==(const Entry&) const = default;
};

std::vector<Entry> read_snapshot(const void* data, std::size_t size) {
  storage::SnapshotReader reader(data, size);
  std::vector<Entry> out;
  storage::SnapshotEntry entry;
  while (reader.next(entry)) {
    out.push_back(Entry{std::string(entry.key), entry.content_hash, entry.row_hash, entry.row_id});
  }
  check(out.size() == reader.count());
  return out;
}

void snapshot(const void* data, std::size_t size) {
  std::vector<Entry> entries;
  try {
    entries = read_snapshot(data, size);
  } catch (const storage::CorruptSnapshot&) {
    return;
  }
  std::string written;
  storage::SnapshotWriter writer(entries.size(), [&](std::string_view piece) { written += piece; });
  storage::SnapshotSize counted(entries.size());
  // Loaded as a full piece, the way the extract writer loads a source's snapshot (entries that
  // would break KeyTable::add's REQUIRES, a repeated key or raw row hash, are left out).
  storage::KeyTable table;
  table.reserve(entries.size());
  std::vector<const Entry*> added;
  for (const auto& e : entries) {
    const storage::SnapshotEntry entry{e.key, e.content_hash, e.row_hash, e.row_id};
    writer.append(entry);
    counted.append(entry);
    const std::uint64_t hash = storage::content_hash(e.key);
    if (table.find(e.key, hash) == nullptr && (e.row_hash == 0 || !table.find_row(e.row_hash))) {
      table.add(e.key, hash, e.content_hash, e.row_id, e.row_hash);
      added.push_back(&e);
    }
  }
  writer.finish();
  counted.finish();
  check(counted.bytes() == written.size());
  check(read_snapshot(written.data(), written.size()) == entries);
  for (const Entry* e : added) {
    const auto* found = table.find(e->key, storage::content_hash(e->key));
    check(found != nullptr && found->row_id == e->row_id && found->content_hash == e->content_hash);
    if (e->row_hash != 0) check(table.find_row(e->row_hash) == found);
  }
}

void block(const void* data, std::size_t size) {
  std::vector<storage::BlockVersion> versions;
  try {
    versions = storage::decode_block(data, size);
  } catch (const std::runtime_error&) {
    return;
  }
  std::string written;
  for (const auto& version : versions) {
    storage::append_block_version(written, version.key, version.data);
  }
  const auto again = storage::decode_block(written.data(), written.size());
  check(again.size() == versions.size());
  for (std::size_t i = 0; i < again.size(); ++i) {
    check(again[i].key == versions[i].key && again[i].data == versions[i].data);
  }
}

void key_chunk(const std::uint8_t* data, std::size_t size) {
  const std::int64_t wanted = size >= 8 ? static_cast<std::int64_t>(storage::content_hash(
                                              {reinterpret_cast<const char*>(data), 8}))
                                        : 0;
  try {
    (void)storage::find_in_key_chunk(data, size, wanted);
    if (size >= 16) {
      std::int64_t first = 0;
      for (int i = 0; i < 8; ++i) first |= static_cast<std::int64_t>(data[i]) << (8 * i);
      (void)storage::find_in_key_chunk(data, size, first);
    }
  } catch (const std::runtime_error&) {
    check(size % 16 != 0);
  }
}

void values(const void* data, std::size_t size) {
  std::vector<std::string> decoded;
  try {
    decoded = storage::decode_values(data, size);
  } catch (const std::runtime_error&) {
    return;
  }
  const std::string written = storage::encode_values(decoded);
  check(storage::decode_values(written.data(), written.size()) == decoded);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t* bytes = data + 1;
  const std::size_t n = size - 1;
  switch (data[0] % 4) {
    case 0:
      snapshot(bytes, n);
      break;
    case 1:
      block(bytes, n);
      break;
    case 2:
      key_chunk(bytes, n);
      break;
    default:
      values(bytes, n);
      break;
  }
  return 0;
}
