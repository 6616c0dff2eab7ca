// History::ExtractWriter: one extract written in one transaction (see storage/extract_writer.h).
#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstddef>
#include <deque>
#include <future>
#include <limits>
#include <memory>
#include <stdexcept>
#include <unordered_map>

#include "storage/impl.h"
#include "storage/key_table.h"
#include "storage/snapshot_codec.h"

namespace storage {
namespace {

// The connection's settings while an extract is written; they must change outside a
// transaction, so this is made before the writer's transaction and ends after it.
// - Foreign key checks off: the writer's rows refer only to its own extract and source, so the
//   checks (two lookups per record) could never fail; without them a 1M-row extract is written
//   about a fifth faster.
// - No automatic checkpoint at its commit: copying the WAL into the database file (the second
//   write of every page: 0.2 s for a 1M-row first ingest) is left to the next write or to
//   History::checkpoint() (or checkpoint_in_background()), after the extract has been
//   archived. The commit is durable without it. The setting it had comes back after (off while
//   a background checkpoint runs).
class WriterSettings {
 public:
  explicit WriterSettings(SQLite::Database& db)
      : db_(db), auto_checkpoint_(db.execAndGet("PRAGMA wal_autocheckpoint").getInt()) {
    db_.exec("PRAGMA foreign_keys = OFF");
    db_.exec("PRAGMA wal_autocheckpoint = 0");
  }
  ~WriterSettings() {
    try {
      db_.exec("PRAGMA foreign_keys = ON");
      db_.exec(fmt::format("PRAGMA wal_autocheckpoint = {}", auto_checkpoint_));
    } catch (const SQLite::Exception&) {
      // Only an out-of-memory error can fail a pragma; the connection is then unusable anyway.
    }
  }
  WriterSettings(const WriterSettings&) = delete;
  WriterSettings& operator=(const WriterSettings&) = delete;

 private:
  SQLite::Database& db_;
  int auto_checkpoint_;
};

}  // namespace

// A batch's transaction, shared by its extracts' writers one after another.
struct History::ExtractBatch::Impl {
  explicit Impl(History::Impl& history)
      : history(history),
        settings(history.db),
        transaction(history.db, SQLite::TransactionBehavior::IMMEDIATE) {
    history.writer_open = true;
  }
  ~Impl() { history.writer_open = false; }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  History::Impl& history;
  WriterSettings settings;          // before the transaction, so restored after it ends
  SQLite::Transaction transaction;  // rolls back on destruction unless committed
  std::size_t begun = 0;            // writers begun
  std::size_t finished = 0;         // writers committed
  bool writer_open = false;         // one of its writers is open
};

struct History::ExtractWriter::Impl {
  // Outside a batch (`batch` null) the writer holds its own transaction.
  Impl(History::Impl& history, const ExtractInfo& info, ExtractBatch::Impl* batch)
      : history(history),
        batch(batch),
        settings(batch == nullptr ? std::make_unique<WriterSettings>(history.db) : nullptr),
        transaction(batch == nullptr ? std::make_unique<SQLite::Transaction>(
                                           history.db, SQLite::TransactionBehavior::IMMEDIATE)
                                     : nullptr),
        insert_block(history.db,
                     "INSERT INTO record_blocks (id, source_id, extract_id, versions) "
                     "VALUES (?, ?, ?, ?)"),
        end_record(history.db, "INSERT INTO record_ends (record_id, extract_id) VALUES (?, ?)"),
        insert_problem(history.db,
                       "INSERT INTO row_problems (extract_id, line, column_name, message) "
                       "VALUES (?, ?, ?, ?)") {
    source_id = *history.source_id(info.source, true);
    // The source's latest extract (before this one is inserted): its snapshot blob, or the
    // records it left current.
    SQLite::Statement last(history.db,
                           "SELECT id, rows FROM extracts WHERE source = ? AND status = 'ingested' "
                           "ORDER BY id DESC LIMIT 1");
    last.bind(1, info.source);
    std::int64_t latest = 0;
    if (last.executeStep()) {
      latest = last.getColumn(0).getInt64();
      current.reserve(
          static_cast<std::size_t>(std::max<std::int64_t>(0, last.getColumn(1).getInt64())));
    }
    extract_id = insert_extract(history.db, info, ExtractStatus::kIngested, 0);
    next_block =
        history.db.execAndGet("SELECT coalesce(max(id), 0) + 1 FROM record_blocks").getInt64();
    if (latest != 0) {
      try {
        loaded = load_snapshot(history.db, source_id, latest, current);
      } catch (const CorruptSnapshot& e) {
        // Derived data: read the records instead; commit() writes a new full piece.
        snapshot_problem = e.what();
        current = KeyTable();
        loaded.reset();
      }
      if (!loaded) {
        scan_records();
      }
    }
    if (batch != nullptr) {
      batch->writer_open = true;
    } else {
      history.writer_open = true;
    }
  }
  ~Impl() {
    if (batch != nullptr) {
      batch->writer_open = false;
    } else {
      history.writer_open = false;
    }
  }

  // Loads the source's current versions from the records themselves (no usable snapshot).
  void scan_records() {
    history.for_each_current_version(
        source_id, [&](std::int64_t id, std::string_view key, std::string_view data) {
          current.load(key, content_hash(key), content_hash(data), id);
        });
  }

  void classify(PreparedRecord& record);
  // Classifies prepared[0, count) and writes them.
  void classify_and_write(std::size_t count);

  // Adds a new version to the block being filled, and writes the block when it is full; its
  // key index entry and snapshot entry are written at commit.
  void insert(const PreparedRecord& record) {
    const std::string& key = record.key;
    const std::int64_t row_id = version_id(next_block, block_slots);
    append_block_version(block, key, record.data);
    ++block_slots;
    Added added_record;
    added_record.key_hash = record.key_hash;  // key_hash(key)
    added_record.content_hash = record.content_hash;
    added_record.row_hash = record.row_hash;
    added_record.row_id = row_id;
    // Keys go into 1 MiB blocks, never moved once written (a growing string would copy them all,
    // and for a moment hold them twice).
    if (added_keys.empty() ||
        added_keys.back().size() + key.size() > added_keys.back().capacity()) {
      added_keys.emplace_back();
      added_keys.back().reserve(std::max<std::size_t>(kKeyBlockBytes, key.size()));
    }
    added_record.key_block = static_cast<std::uint32_t>(added_keys.size() - 1);
    added_record.key_offset = static_cast<std::uint32_t>(added_keys.back().size());
    added_record.key_size = static_cast<std::uint32_t>(key.size());
    added.push_back(added_record);
    added_keys.back().append(key);
    if (block_slots == kBlockVersions || block.size() >= kBlockBytes) {
      flush_block();
    }
  }

  // Writes the block being filled, if it holds any version.
  void flush_block() {
    if (block_slots == 0) {
      return;
    }
    insert_block.bind(1, next_block);
    insert_block.bind(2, source_id);
    insert_block.bind(3, extract_id);
    insert_block.bindNoCopy(4, block.data(), static_cast<int>(block.size()));
    insert_block.exec();
    insert_block.reset();
    block.clear();
    block_slots = 0;
    ++next_block;
  }

  void end(std::int64_t row_id) {
    end_record.bind(1, row_id);
    end_record.bind(2, extract_id);
    end_record.exec();
    end_record.reset();
  }

  void write_all(std::span<const PreparedRecord> records) {
    for (const auto& record : records) {
      switch (record.action) {
        case PreparedRecord::Action::kReplace:
          end(record.replaces);
          insert(record);
          if (watched) {
            keep_watched(record);
          }
          break;
        case PreparedRecord::Action::kInsert:
          insert(record);
          break;
        case PreparedRecord::Action::kKeep:
        case PreparedRecord::Action::kRepeat:
          break;
      }
    }
  }

  // watch_field: the watched field of a changed record, with the version it replaces.
  void keep_watched(const PreparedRecord& record) {
    decode_values(record.data.data(), record.data.size(), values);
    changed.push_back({record.replaces, {record.key, record.line, {}, ""}});
    if (*watched < values.size()) {
      changed.back().second.after = values[*watched];
    }
  }
  std::optional<std::size_t> watched;
  std::vector<std::pair<std::int64_t, FieldChange>> changed;
  std::vector<std::string_view> values;

  // The new versions' (key hash, row id) pairs, sorted. Only reads: may run on another thread
  // while this one writes the snapshot.
  std::vector<KeyIndexEntry> sorted_key_index() const;
  void write_key_index(const std::vector<KeyIndexEntry>& index);
  void write_snapshot();
  void write_full_snapshot();

  History::Impl& history;
  ExtractBatch::Impl* batch;  // the batch whose transaction this extract is written in, or null
  // Outside a batch: the settings before the transaction, so restored after it ends; the
  // transaction rolls back on destruction unless committed.
  std::unique_ptr<WriterSettings> settings;
  std::unique_ptr<SQLite::Transaction> transaction;
  std::int64_t source_id = 0;
  std::int64_t extract_id = 0;
  std::size_t problems = 0;
  // Snapshot side: the source's current snapshot, marked as this extract meets its records.
  // Only these small entries are kept per record.
  KeyTable current;
  std::optional<LoadedSnapshot> loaded;         // what `current` was loaded from; nullopt: records
  std::optional<std::string> snapshot_problem;  // why the stored snapshot could not be used
  bool repeated = false;                        // a key of the extract was classified twice
  // Writing side: the versions this extract inserted.
  struct Added {
    std::uint64_t key_hash = 0;
    std::uint64_t content_hash = 0;
    std::uint64_t row_hash = 0;
    std::int64_t row_id = 0;
    std::uint32_t key_block = 0;  // the key is added_keys[key_block].substr(key_offset, key_size)
    std::uint32_t key_offset = 0;
    std::uint32_t key_size = 0;
  };
  static constexpr std::size_t kKeyBlockBytes = std::size_t{1} << 20;
  std::deque<Added> added;  // a deque: growing it never copies what it holds
  std::vector<std::string> added_keys;
  std::string_view added_key(const Added& a) const {
    return std::string_view(added_keys[a.key_block]).substr(a.key_offset, a.key_size);
  }
  std::vector<PreparedRecord> prepared;  // for add()
  // The block being filled: its id, its versions so far, how many.
  static constexpr std::size_t kBlockBytes =
      std::size_t{7} * 1024;  // a block and its row fit an 8 KiB page
  std::int64_t next_block = 0;
  std::string block;
  std::int64_t block_slots = 0;
  SQLite::Statement insert_block;
  SQLite::Statement end_record;
  SQLite::Statement insert_problem;
};

History::ExtractWriter::ExtractWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
History::ExtractWriter::~ExtractWriter() = default;
History::ExtractWriter::ExtractWriter(ExtractWriter&&) noexcept = default;

void prepare_record(const rules::Record& record, PreparedRecord& out) {
  out.key = record.key;
  encode_values(record.values, out.data);
  out.key_hash = content_hash(out.key);
  out.content_hash = content_hash(out.data);
}

void add_to_view(const PreparedRecord& record, rules::RecordViewBuilder& view,
                 std::vector<std::string_view>& values) {
  decode_values(record.data.data(), record.data.size(), values);
  view.add(record.key, values);
}

void History::ExtractWriter::add(const rules::Record& record) {
  add(std::span<const rules::Record>(&record, 1));
}

void History::ExtractWriter::add(std::span<const rules::Record> records) {
  if (!impl_) {
    throw std::logic_error("ExtractWriter::add after commit");
  }
  Impl& w = *impl_;
  w.prepared.resize(std::max(w.prepared.size(), records.size()));
  for (std::size_t i = 0; i < records.size(); ++i) {
    prepare_record(records[i], w.prepared[i]);
    w.prepared[i].row_hash = 0;
    w.prepared[i].line = 0;
  }
  w.classify_and_write(records.size());
}

void History::ExtractWriter::add(std::span<const PreparedRecord> records) {
  if (!impl_) {
    throw std::logic_error("ExtractWriter::add after commit");
  }
  Impl& w = *impl_;
  w.prepared.resize(std::max(w.prepared.size(), records.size()));
  std::copy(records.begin(), records.end(), w.prepared.begin());  // reuses their buffers
  w.classify_and_write(records.size());
}

void History::ExtractWriter::Impl::classify_and_write(std::size_t count) {
  // Each lookup in the snapshot table misses the CPU cache; starting them kAhead records early
  // overlaps the misses (1%-changed re-ingest of 1M records: the lookups took half as long).
  constexpr std::size_t kAhead = 16;
  for (std::size_t i = 0; i < count && i < kAhead; ++i) {
    current.prefetch(prepared[i].key_hash);
  }
  for (std::size_t i = 0; i < count; ++i) {
    if (i + kAhead < count) {
      current.prefetch(prepared[i + kAhead].key_hash);
    }
    classify(prepared[i]);
  }
  write_all(std::span<const PreparedRecord>(prepared.data(), count));
}

History::ExtractWriter::RowMatch History::ExtractWriter::match_row(std::uint64_t row_hash,
                                                                   std::size_t line) {
  if (!impl_) {
    throw std::logic_error("ExtractWriter::match_row after commit");
  }
  KeyTable::Entry* entry = impl_->current.find_row(row_hash);
  if (entry == nullptr || entry->dead) {
    return {};
  }
  if (entry->seen) {
    // Matched before: the same bytes again, an exact repeat. Read before (the key's first row
    // had other bytes): the caller reads this row, and its reader tells a repeat from a change.
    if (entry->by_row) {
      return {RowMatch::Kind::kRepeat, entry->seen_line};
    }
    return {};
  }
  entry->seen = true;
  entry->by_row = true;
  entry->seen_line = static_cast<std::uint32_t>(std::min<std::size_t>(line, UINT32_MAX));
  return {RowMatch::Kind::kUnchanged, 0};
}

const std::optional<std::string>& History::ExtractWriter::snapshot_problem() const {
  if (!impl_) {
    throw std::logic_error("ExtractWriter::snapshot_problem after commit");
  }
  return impl_->snapshot_problem;
}

void History::ExtractWriter::classify(PreparedRecord& record) {
  if (!impl_) {
    throw std::logic_error("ExtractWriter::classify after commit");
  }
  impl_->classify(record);
}

void History::ExtractWriter::write(std::span<const PreparedRecord> records) {
  if (!impl_) {
    throw std::logic_error("ExtractWriter::write after commit");
  }
  impl_->write_all(records);
}

void History::ExtractWriter::Impl::classify(PreparedRecord& record) {
  using Action = PreparedRecord::Action;
  record.replaces = 0;
  record.repeats_skipped_line = 0;
  record.repeats_same_values = false;
  KeyTable::Entry* found = current.find(record.key, record.key_hash);
  if (found == nullptr || found->dead) {
    // New to the snapshot. A new key added twice is caught by the caller's reader, and by
    // commit() if not.
    record.action = Action::kInsert;
    return;
  }
  if (found->seen) {
    // Ingest rejects such a file after reading it whole, and discards this writer; commit()
    // refuses if it does not.
    repeated = true;
    record.action = Action::kRepeat;
    if (found->by_row) {
      record.repeats_skipped_line = found->seen_line;
    }
    record.repeats_same_values = found->content_hash == record.content_hash;
    return;
  }
  found->seen = true;
  found->seen_line = static_cast<std::uint32_t>(std::min<std::size_t>(record.line, UINT32_MAX));
  if (found->content_hash == record.content_hash) {
    // Unchanged: not rewritten. Its raw row is now this one (the old one may have been
    // written differently, with the same values).
    if (found->row_hash != record.row_hash) {
      found->row_hash = record.row_hash;
      found->rehashed = true;
    }
    record.action = Action::kKeep;
    return;
  }
  found->replaced = true;
  record.action = Action::kReplace;
  record.replaces = found->row_id;
}

void History::ExtractWriter::watch_field(std::size_t field) {
  if (!impl_) {
    throw std::logic_error("ExtractWriter::watch_field after commit");
  }
  impl_->watched = field;
}

std::vector<History::ExtractWriter::FieldChange> History::ExtractWriter::field_changes() {
  if (!impl_) {
    throw std::logic_error("ExtractWriter::field_changes after commit");
  }
  std::vector<std::int64_t> ids;
  for (const auto& [id, change] : impl_->changed) {
    ids.push_back(id);
  }
  const auto before = impl_->history.version_fields(ids, impl_->watched.value_or(0));
  std::vector<FieldChange> out;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (before[i] == impl_->changed[i].second.after) {
      continue;
    }
    out.push_back(impl_->changed[i].second);
    out.back().before = before[i];
  }
  return out;
}

void History::ExtractWriter::add_person_change(std::string_view key, std::size_t line) {
  if (!impl_) {
    throw std::logic_error("ExtractWriter::add_person_change after commit");
  }
  insert_person_change(impl_->history.db, impl_->extract_id, key, line);
}

void History::ExtractWriter::add_problem(const rules::Problem& problem) {
  if (!impl_) {
    throw std::logic_error("ExtractWriter::add_problem after commit");
  }
  Impl& w = *impl_;
  w.insert_problem.bind(1, w.extract_id);
  w.insert_problem.bind(2, static_cast<std::int64_t>(problem.line));
  w.insert_problem.bindNoCopy(3, problem.column);
  w.insert_problem.bindNoCopy(4, problem.message);
  w.insert_problem.exec();
  w.insert_problem.reset();
  ++w.problems;
}

void History::ExtractWriter::set_sha256(std::string_view sha256) {
  if (!impl_) {
    throw std::logic_error("ExtractWriter::set_sha256 after commit");
  }
  SQLite::Statement update(impl_->history.db, "UPDATE extracts SET sha256 = ? WHERE id = ?");
  update.bind(1, std::string(sha256));
  update.bind(2, impl_->extract_id);
  update.exec();
}

// The new versions' (key hash, row id) pairs, sorted by hash as SQLite compares them.
std::vector<KeyIndexEntry> History::ExtractWriter::Impl::sorted_key_index() const {
  // Sorted by a counting sort on the hash's top 16 bits, then each (small) bucket: key hashes
  // are uniform, so this is two passes over the entries (1M: 4 times faster than std::sort).
  const auto bucket = [](std::int64_t hash) {  // in signed order, as SQLite compares them
    return static_cast<std::size_t>((std::bit_cast<std::uint64_t>(hash) ^ (1ULL << 63)) >> 48);
  };
  std::vector<std::size_t> starts((std::size_t{1} << 16) + 1);
  for (const auto& a : added) {
    ++starts[bucket(std::bit_cast<std::int64_t>(a.key_hash)) + 1];
  }
  for (std::size_t b = 1; b < starts.size(); ++b) {
    starts[b] += starts[b - 1];
  }
  std::vector<KeyIndexEntry> index(added.size());
  {
    std::vector<std::size_t> next(starts.begin(), starts.end() - 1);
    for (const auto& a : added) {
      const auto hash = std::bit_cast<std::int64_t>(a.key_hash);
      index[next[bucket(hash)]++] = KeyIndexEntry{hash, a.row_id};
    }
  }
  for (std::size_t b = 0; b + 1 < starts.size(); ++b) {
    std::sort(index.begin() + static_cast<std::ptrdiff_t>(starts[b]),
              index.begin() + static_cast<std::ptrdiff_t>(starts[b + 1]));
  }
  return index;
}

// Writes the key index in chunks of about kChunkEntries: one insert per chunk instead of one
// per record. A run of equal hashes stays in one chunk, so a lookup reads one chunk per extract.
// Throws std::logic_error when a key was inserted twice.
void History::ExtractWriter::Impl::write_key_index(const std::vector<KeyIndexEntry>& index) {
  constexpr std::size_t kChunkEntries = 256;  // 4 KiB: a chunk and its row fit a page
  // A repeated key, or two keys with the same 64-bit hash: compare the keys of equal hashes.
  std::unordered_map<std::int64_t, std::string_view> keys;  // of versions sharing a hash
  for (std::size_t i = 1; i < index.size(); ++i) {
    if (index[i].key_hash != index[i - 1].key_hash) {
      continue;
    }
    keys.emplace(index[i - 1].row_id, std::string_view());
    keys.emplace(index[i].row_id, std::string_view());
  }
  if (!keys.empty()) {
    for (const auto& a : added) {
      if (const auto found = keys.find(a.row_id); found != keys.end()) {
        found->second = added_key(a);
      }
    }
    for (std::size_t i = 1; i < index.size(); ++i) {
      for (std::size_t j = i; j > 0 && index[j - 1].key_hash == index[i].key_hash; --j) {
        if (keys.at(index[j - 1].row_id) == keys.at(index[i].row_id)) {
          throw std::logic_error("ExtractWriter::commit: a key repeats");
        }
      }
    }
  }
  SQLite::Statement insert_chunk(history.db,
                                 "INSERT INTO key_chunks (source_id, extract_id, first_hash, "
                                 "entries) VALUES (?, ?, ?, ?)");
  std::size_t begin = 0;
  while (begin < index.size()) {
    std::size_t end = std::min(begin + kChunkEntries, index.size());
    while (end < index.size() && index[end].key_hash == index[end - 1].key_hash) {
      ++end;
    }
    const std::string entries =
        encode_key_chunk(std::span<const KeyIndexEntry>(index.data() + begin, end - begin));
    insert_chunk.bind(1, source_id);
    insert_chunk.bind(2, extract_id);
    insert_chunk.bind(3, index[begin].key_hash);
    insert_chunk.bindNoCopy(4, entries.data(), static_cast<int>(entries.size()));
    insert_chunk.exec();
    insert_chunk.reset();
    begin = end;
  }
}

// What this extract changed in the source's snapshot, as a delta after the pieces it was loaded
// from; or, when there are none, or the deltas would reach a quarter of the full piece, a new
// full piece. A re-ingest that changed 1% of 1M records writes about 0.3 MB instead of 29 MB.
void History::ExtractWriter::Impl::write_snapshot() {
  std::size_t changes = added.size();
  for (const auto& entry : current.entries()) {
    if (entry.dead || entry.replaced) {
      continue;  // a replaced record's new version is in added
    }
    if (!entry.seen || entry.rehashed) {
      ++changes;
    }
  }
  if (!loaded || (loaded->delta_entries + changes) * 4 > loaded->full_entries) {
    write_full_snapshot();
    return;
  }
  std::string blob;
  SnapshotWriter delta(changes, [&](std::string_view piece) { blob.append(piece); });
  for (const auto& entry : current.entries()) {
    if (entry.dead || entry.replaced) {
      continue;
    }
    if (!entry.seen) {
      delta.append(SnapshotEntry{current.key(entry), 0, 0, 0});  // vanished: removed
    } else if (entry.rehashed) {
      delta.append(
          SnapshotEntry{current.key(entry), entry.content_hash, entry.row_hash, entry.row_id});
    }
  }
  for (const auto& a : added) {
    delta.append(SnapshotEntry{added_key(a), a.content_hash, a.row_hash, a.row_id});
  }
  delta.finish();
  SQLite::Statement insert(history.db,
                           "INSERT INTO snapshots (source_id, extract_id, full, entries) "
                           "VALUES (?, ?, 0, ?)");
  insert.bind(1, source_id);
  insert.bind(2, extract_id);
  insert.bindNoCopy(3, blob.data(), static_cast<int>(blob.size()));
  insert.exec();
}

// The source's snapshot after this extract: the records it kept, then those it inserted. Its
// size is counted first; then it is written into a blob of that size in pieces, so that it is
// never held whole in memory (29 MB for 1M records).
void History::ExtractWriter::Impl::write_full_snapshot() {
  std::size_t count = added.size();
  for (const auto& entry : current.entries()) {
    count += entry.seen && !entry.replaced && !entry.dead ? 1 : 0;
  }
  const auto write_all = [&](auto& snapshot) {
    for (const auto& entry : current.entries()) {
      if (!entry.seen || entry.replaced || entry.dead) {
        continue;
      }
      snapshot.append(
          SnapshotEntry{current.key(entry), entry.content_hash, entry.row_hash, entry.row_id});
    }
    for (const auto& a : added) {
      snapshot.append(SnapshotEntry{added_key(a), a.content_hash, a.row_hash, a.row_id});
    }
    snapshot.finish();
  };
  SnapshotSize counting(count);
  write_all(counting);
  const std::size_t size = counting.bytes();
  if (size > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    throw std::length_error("the source's snapshot is larger than 2 GiB");
  }
  SQLite::Statement clear(history.db, "DELETE FROM snapshots WHERE source_id = ?");
  clear.bind(1, source_id);
  clear.exec();
  SQLite::Statement insert(history.db,
                           "INSERT INTO snapshots (source_id, extract_id, full, entries) "
                           "VALUES (?, ?, 1, zeroblob(?))");
  insert.bind(1, source_id);
  insert.bind(2, extract_id);
  insert.bind(3, static_cast<std::int64_t>(size));
  insert.exec();
  sqlite3* db = history.db.getHandle();
  sqlite3_blob* blob = nullptr;
  if (sqlite3_blob_open(db, "main", "snapshots", "entries", history.db.getLastInsertRowid(), 1,
                        &blob) != SQLITE_OK) {
    sqlite3_blob_close(blob);
    throw SQLite::Exception(db, sqlite3_errcode(db));
  }
  const std::unique_ptr<sqlite3_blob, int (*)(sqlite3_blob*)> closing(blob, sqlite3_blob_close);
  std::size_t offset = 0;
  SnapshotWriter writing(count, [&](std::string_view piece) {
    if (offset + piece.size() > size ||
        sqlite3_blob_write(blob, piece.data(), static_cast<int>(piece.size()),
                           static_cast<int>(offset)) != SQLITE_OK) {
      throw SQLite::Exception(db, sqlite3_errcode(db));
    }
    offset += piece.size();
  });
  write_all(writing);
}

std::int64_t History::ExtractWriter::commit(std::size_t rows) {
  if (!impl_) {
    throw std::logic_error("ExtractWriter::commit called twice");
  }
  Impl& w = *impl_;
  if (w.repeated) {
    throw std::logic_error("ExtractWriter::commit: a key repeats");
  }
  w.flush_block();
  // A large key index is sorted on another thread while this one writes the snapshot (both
  // only read the new versions): a 1M-row first ingest commits a tenth of a second sooner.
  constexpr std::size_t kSortApart = 65536;
  std::future<std::vector<KeyIndexEntry>> index;
  if (w.added.size() >= kSortApart) {
    index = std::async(std::launch::async, [&w] { return w.sorted_key_index(); });
  }
  for (const auto& current : w.current.entries()) {
    if (!current.seen && !current.dead) {
      w.end(current.row_id);  // vanished from the extract
    }
  }
  w.write_snapshot();
  w.write_key_index(index.valid() ? index.get() : w.sorted_key_index());
  // Marked pending in its own transaction: cleared by evaluation_done() once evaluated.
  SQLite::Statement update(
      w.history.db,
      "UPDATE extracts SET rows = ?, problems = ?, evaluation_pending = 1 WHERE id = ?");
  update.bind(1, static_cast<std::int64_t>(rows));
  update.bind(2, static_cast<std::int64_t>(w.problems));
  update.bind(3, w.extract_id);
  update.exec();
  if (w.transaction) {
    w.transaction->commit();
  } else {
    ++w.batch->finished;  // the batch commits
  }
  const std::int64_t id = w.extract_id;
  impl_.reset();
  return id;
}

History::ExtractWriter History::begin_extract(const ExtractInfo& info) {
  if (impl_->writer_open) {
    throw std::logic_error("begin_extract: another writer is open");
  }
  return ExtractWriter(std::make_unique<ExtractWriter::Impl>(*impl_, info, nullptr));
}

History::ExtractBatch History::begin_batch() {
  if (impl_->writer_open) {
    throw std::logic_error("begin_batch: another writer is open");
  }
  return ExtractBatch(std::make_unique<ExtractBatch::Impl>(*impl_));
}

History::ExtractBatch::ExtractBatch(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
History::ExtractBatch::~ExtractBatch() = default;
History::ExtractBatch::ExtractBatch(ExtractBatch&&) noexcept = default;

History::ExtractWriter History::ExtractBatch::begin_extract(const ExtractInfo& info) {
  if (!impl_) {
    throw std::logic_error("ExtractBatch::begin_extract after commit");
  }
  if (impl_->writer_open) {
    throw std::logic_error("ExtractBatch::begin_extract: the previous writer is open");
  }
  // Counted first: a writer that fails while it begins leaves the batch spoiled too.
  ++impl_->begun;
  return ExtractWriter(std::make_unique<ExtractWriter::Impl>(impl_->history, info, impl_.get()));
}

void History::ExtractBatch::commit() {
  if (!impl_) {
    throw std::logic_error("ExtractBatch::commit called twice");
  }
  if (impl_->writer_open || impl_->finished != impl_->begun) {
    throw std::logic_error("ExtractBatch::commit: an extract of the batch was not committed");
  }
  impl_->transaction.commit();
  impl_.reset();
}

}  // namespace storage
