// Records as stored: versions of a key, the current records of a source, the snapshot pieces.
#include <algorithm>
#include <bit>
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "storage/impl.h"
#include "storage/key_table.h"
#include "storage/snapshot_codec.h"

namespace storage {
namespace {

// The record_keys.key_hash of `key`.
std::int64_t key_hash(std::string_view key) {
  return std::bit_cast<std::int64_t>(content_hash(key));
}

// A record from its key and its stored data (records.data's encoding).
rules::Record make_record(std::string_view key, std::string_view data) {
  return rules::Record{std::string(key), decode_values(data.data(), data.size())};
}

rules::Record read_record(SQLite::Statement& query, int key_column, int data_column) {
  const SQLite::Column data = query.getColumn(data_column);
  return make_record(query.getColumn(key_column).getString(),
                     std::string_view(static_cast<const char*>(data.getBlob()),
                                      static_cast<std::size_t>(data.getBytes())));
}

}  // namespace

std::optional<std::int64_t> History::Impl::source_id(std::string_view name, bool create) {
  SQLite::Statement query(db, "SELECT id FROM sources WHERE name = ?");
  query.bind(1, std::string(name));
  if (query.executeStep()) {
    return query.getColumn(0).getInt64();
  }
  if (!create) {
    return std::nullopt;
  }
  SQLite::Statement insert(db, "INSERT INTO sources (name) VALUES (?)");
  insert.bind(1, std::string(name));
  insert.exec();
  return db.getLastInsertRowid();
}

void History::Impl::for_each_current_version(
    std::int64_t source,
    const std::function<void(std::int64_t, std::string_view, std::string_view)>& visit) {
  SQLite::Statement legacy(db,
                           "SELECT id, key, data FROM records r WHERE source_id = ? AND NOT "
                           "EXISTS (SELECT 1 FROM record_ends e WHERE e.record_id = r.id) "
                           "ORDER BY id");
  legacy.bind(1, source);
  while (legacy.executeStep()) {
    const SQLite::Column key = legacy.getColumn(1);
    const SQLite::Column data = legacy.getColumn(2);
    visit(legacy.getColumn(0).getInt64(),
          std::string_view(key.getText(), static_cast<std::size_t>(key.getBytes())),
          std::string_view(static_cast<const char*>(data.getBlob()),
                           static_cast<std::size_t>(data.getBytes())));
  }
  std::unordered_set<std::int64_t> ended;
  SQLite::Statement ends(db, "SELECT record_id FROM record_ends WHERE record_id >= ?");
  ends.bind(1, kBlockIds);
  while (ends.executeStep()) {
    ended.insert(ends.getColumn(0).getInt64());
  }
  SQLite::Statement blocks(
      db, "SELECT id, versions FROM record_blocks WHERE source_id = ? ORDER BY id");
  blocks.bind(1, source);
  while (blocks.executeStep()) {
    const std::int64_t block = blocks.getColumn(0).getInt64();
    const SQLite::Column blob = blocks.getColumn(1);
    const auto versions = decode_block(blob.getBlob(), static_cast<std::size_t>(blob.getBytes()));
    for (std::size_t slot = 0; slot < versions.size(); ++slot) {
      const std::int64_t id = version_id(block, static_cast<std::int64_t>(slot));
      if (!ended.contains(id)) {
        visit(id, versions[slot].key, versions[slot].data);
      }
    }
  }
}

std::vector<std::int64_t> History::Impl::record_ids(std::int64_t source, std::string_view key) {
  const std::int64_t hash = key_hash(key);
  std::vector<std::int64_t> ids;
  // Versions written before migration 4.
  SQLite::Statement legacy(
      db, "SELECT record_id FROM record_keys WHERE source_id = ? AND key_hash = ?");
  legacy.bind(1, source);
  legacy.bind(2, hash);
  while (legacy.executeStep()) {
    ids.push_back(legacy.getColumn(0).getInt64());
  }
  // Then, for each extract that indexed versions of the source, the one chunk that can hold
  // the hash: the last whose first hash is not above it.
  SQLite::Statement extracts(db,
                             "SELECT DISTINCT extract_id FROM key_chunks WHERE source_id = ? "
                             "ORDER BY extract_id");
  extracts.bind(1, source);
  SQLite::Statement chunk(db,
                          "SELECT entries FROM key_chunks WHERE source_id = ? AND extract_id = ? "
                          "AND first_hash <= ? ORDER BY first_hash DESC LIMIT 1");
  while (extracts.executeStep()) {
    chunk.bind(1, source);
    chunk.bind(2, extracts.getColumn(0).getInt64());
    chunk.bind(3, hash);
    if (chunk.executeStep()) {
      const SQLite::Column entries = chunk.getColumn(0);
      const auto found =
          find_in_key_chunk(entries.getBlob(), static_cast<std::size_t>(entries.getBytes()), hash);
      ids.insert(ids.end(), found.begin(), found.end());
    }
    chunk.reset();
  }
  return ids;
}

std::vector<History::Impl::Version> History::Impl::versions(std::string_view source,
                                                            std::string_view key) {
  const auto id = source_id(source, false);
  if (!id) {
    return {};
  }
  SQLite::Statement query(db,
                          "SELECT r.key, r.data, r.valid_from, e.extract_id, f.as_of, t.as_of "
                          "FROM records r JOIN extracts f ON f.id = r.valid_from "
                          "LEFT JOIN record_ends e ON e.record_id = r.id "
                          "LEFT JOIN extracts t ON t.id = e.extract_id "
                          "WHERE r.id = ? AND r.source_id = ? AND r.key = ?");
  SQLite::Statement in_block(db,
                             "SELECT b.versions, b.extract_id, e.extract_id, f.as_of, t.as_of "
                             "FROM record_blocks b JOIN extracts f ON f.id = b.extract_id "
                             "LEFT JOIN record_ends e ON e.record_id = ?1 "
                             "LEFT JOIN extracts t ON t.id = e.extract_id "
                             "WHERE b.id = ?2 AND b.source_id = ?3");
  std::vector<Version> out;
  for (const std::int64_t record_id : record_ids(*id, key)) {
    if (is_block_version(record_id)) {
      in_block.bind(1, record_id);
      in_block.bind(2, block_of(record_id));
      in_block.bind(3, *id);
      if (in_block.executeStep()) {
        const SQLite::Column blob = in_block.getColumn(0);
        const auto block = decode_block(blob.getBlob(), static_cast<std::size_t>(blob.getBytes()));
        const auto slot = static_cast<std::size_t>(slot_of(record_id));
        // A hash that matched another key finds nothing here.
        if (slot < block.size() && block[slot].key == key) {
          Version version;
          version.record = make_record(key, block[slot].data);
          version.valid_from = in_block.getColumn(1).getInt64();
          version.valid_to = in_block.getColumn(2).isNull()
                                 ? std::nullopt
                                 : std::optional<std::int64_t>(in_block.getColumn(2).getInt64());
          version.from = required_date(in_block.getColumn(3));
          version.to = column_date(in_block.getColumn(4));
          out.push_back(std::move(version));
        }
      }
      in_block.reset();
      continue;
    }
    query.bind(1, record_id);
    query.bind(2, *id);
    query.bind(3, std::string(key));  // a hash that matched another key finds nothing here
    if (query.executeStep()) {
      Version version;
      version.record = read_record(query, 0, 1);
      version.valid_from = query.getColumn(2).getInt64();
      version.valid_to = query.getColumn(3).isNull()
                             ? std::nullopt
                             : std::optional<std::int64_t>(query.getColumn(3).getInt64());
      version.from = required_date(query.getColumn(4));
      version.to = column_date(query.getColumn(5));
      out.push_back(std::move(version));
    }
    query.reset();
  }
  std::sort(out.begin(), out.end(),
            [](const Version& a, const Version& b) { return a.valid_from < b.valid_from; });
  return out;
}

std::vector<std::string> History::Impl::version_fields(const std::vector<std::int64_t>& ids,
                                                       std::size_t field) {
  SQLite::Statement legacy(db, "SELECT data FROM records WHERE id = ?");
  SQLite::Statement in_block(db, "SELECT versions FROM record_blocks WHERE id = ?");
  std::int64_t block_id = -1;  // the block last read (versions written together share one)
  std::string block_bytes;
  std::vector<BlockVersion> block;
  std::vector<std::string_view> values;
  std::vector<std::string> out;
  out.reserve(ids.size());
  for (const std::int64_t id : ids) {
    std::string_view data;
    std::string legacy_data;
    if (is_block_version(id)) {
      if (block_of(id) != block_id) {
        block_id = block_of(id);
        block.clear();
        in_block.bind(1, block_id);
        if (in_block.executeStep()) {
          const SQLite::Column blob = in_block.getColumn(0);
          block_bytes.assign(static_cast<const char*>(blob.getBlob()),
                             static_cast<std::size_t>(blob.getBytes()));
          block = decode_block(block_bytes.data(), block_bytes.size());
        }
        in_block.reset();
      }
      const auto slot = static_cast<std::size_t>(slot_of(id));
      if (slot < block.size()) {
        data = block[slot].data;
      }
    } else {
      legacy.bind(1, id);
      if (legacy.executeStep()) {
        const SQLite::Column blob = legacy.getColumn(0);
        legacy_data.assign(static_cast<const char*>(blob.getBlob()),
                           static_cast<std::size_t>(blob.getBytes()));
        data = legacy_data;
      }
      legacy.reset();
    }
    decode_values(data.data(), data.size(), values);
    out.emplace_back(field < values.size() ? values[field] : std::string_view());
  }
  return out;
}

std::optional<rules::Record> History::Impl::current_record(std::string_view source,
                                                           std::string_view key) {
  for (auto& version : versions(source, key)) {
    if (!version.valid_to) {
      return std::move(version.record);
    }
  }
  return std::nullopt;
}

namespace {

// Whether source `source_id`'s snapshot pieces end at extract `latest` (else it was last
// ingested before migration 4, and its records are read instead).
bool snapshot_ends_at(SQLite::Database& db, std::int64_t source_id, std::int64_t latest) {
  SQLite::Statement last(db, "SELECT max(extract_id) FROM snapshots WHERE source_id = ?");
  last.bind(1, source_id);
  return last.executeStep() && !last.getColumn(0).isNull() &&
         last.getColumn(0).getInt64() == latest;
}

}  // namespace

std::optional<LoadedSnapshot> load_snapshot(SQLite::Database& db, std::int64_t source_id,
                                            std::int64_t latest, KeyTable& table) {
  if (!snapshot_ends_at(db, source_id, latest)) {
    return std::nullopt;
  }
  SQLite::Statement query(db,
                          "SELECT full, entries FROM snapshots WHERE source_id = ?1 AND "
                          "extract_id >= (SELECT max(extract_id) FROM snapshots WHERE "
                          "source_id = ?1 AND full = 1) ORDER BY extract_id");
  query.bind(1, source_id);
  LoadedSnapshot loaded;
  bool first = true;
  while (query.executeStep()) {
    const bool full = query.getColumn(0).getInt() != 0;
    if (first != full) {
      throw CorruptSnapshot();
    }
    const SQLite::Column blob = query.getColumn(1);
    SnapshotReader reader(blob.getBlob(), static_cast<std::size_t>(blob.getBytes()));
    SnapshotEntry entry;
    if (full) {
      loaded.full_entries = reader.count();
      // The keys are a part of the piece's bytes.
      table.reserve(reader.count(), static_cast<std::size_t>(blob.getBytes()));
      while (reader.next(entry)) {
        table.load(entry.key, content_hash(entry.key), entry.content_hash, entry.row_id,
                   entry.row_hash);
      }
    } else {
      loaded.delta_entries += reader.count();
      while (reader.next(entry)) {
        const std::uint64_t hash = content_hash(entry.key);
        KeyTable::Entry* found = table.find(entry.key, hash);
        if (entry.row_id == 0) {
          if (found != nullptr) {
            found->dead = true;
          }
        } else if (found == nullptr) {
          table.add(entry.key, hash, entry.content_hash, entry.row_id, entry.row_hash);
        } else {
          found->dead = false;
          found->content_hash = entry.content_hash;
          found->row_id = entry.row_id;
          if (found->row_hash != entry.row_hash) {
            found->row_hash = entry.row_hash;
            table.index_row(*found);
          }
        }
      }
    }
    first = false;
  }
  if (first) {
    throw CorruptSnapshot();  // no full piece
  }
  return loaded;
}

// ---- the records of a source

namespace {

// The row ids of a snapshot of one full piece and the deltas after it. The deltas are small
// (the keys that changed since the full piece), so they are read first into a table by key; the
// full piece is then read straight, each entry replaced or removed by its key's last delta, and
// the keys the full piece lacks come last. No table of the whole snapshot is built.
std::vector<std::int64_t> ids_through_deltas(SQLite::Database& db, std::int64_t source_id) {
  SQLite::Statement full_id(db,
                            "SELECT max(extract_id) FROM snapshots WHERE source_id = ? AND "
                            "full = 1");
  full_id.bind(1, source_id);
  if (!full_id.executeStep() || full_id.getColumn(0).isNull()) {
    throw CorruptSnapshot();  // no full piece
  }
  const std::int64_t full_extract = full_id.getColumn(0).getInt64();

  struct Change {
    std::int64_t row_id = 0;  // 0: removed
    bool in_full = false;
  };
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view key) const {
      return std::hash<std::string_view>()(key);
    }
  };
  std::unordered_map<std::string, Change, KeyHash, std::equal_to<>> changes;
  SQLite::Statement deltas(db,
                           "SELECT full, entries FROM snapshots WHERE source_id = ? AND "
                           "extract_id > ? ORDER BY extract_id");
  deltas.bind(1, source_id);
  deltas.bind(2, full_extract);
  SnapshotEntry entry;
  while (deltas.executeStep()) {
    if (deltas.getColumn(0).getInt() != 0) {
      throw CorruptSnapshot();  // a full piece after the latest one
    }
    const SQLite::Column blob = deltas.getColumn(1);
    SnapshotReader reader(blob.getBlob(), static_cast<std::size_t>(blob.getBytes()));
    while (reader.next(entry)) {
      changes.insert_or_assign(std::string(entry.key), Change{entry.row_id});
    }
  }

  SQLite::Statement full(db,
                         "SELECT entries FROM snapshots WHERE source_id = ? AND extract_id = ? "
                         "AND full = 1");
  full.bind(1, source_id);
  full.bind(2, full_extract);
  if (!full.executeStep()) {
    throw CorruptSnapshot();
  }
  const SQLite::Column blob = full.getColumn(0);
  SnapshotReader reader(blob.getBlob(), static_cast<std::size_t>(blob.getBytes()));
  std::vector<std::int64_t> ids;
  ids.reserve(reader.count() + changes.size());
  while (reader.next(entry)) {
    const auto found = changes.empty() ? changes.end() : changes.find(entry.key);
    if (found == changes.end()) {
      ids.push_back(entry.row_id);
      continue;
    }
    found->second.in_full = true;
    if (found->second.row_id != 0) {
      ids.push_back(found->second.row_id);
    }
  }
  for (const auto& [key, change] : changes) {
    if (!change.in_full && change.row_id != 0) {
      ids.push_back(change.row_id);
    }
  }
  return ids;
}

// The ids of source `source_id`'s current record versions, sorted, from the snapshot written
// with its latest extract `latest`; nullopt when there is none (a source last ingested before
// migration 4, or a damaged snapshot: the records say the same).
std::optional<std::vector<std::int64_t>> current_ids(SQLite::Database& db, std::int64_t source_id,
                                                     std::int64_t latest) {
  std::vector<std::int64_t> ids;
  try {
    if (!snapshot_ends_at(db, source_id, latest)) {
      return std::nullopt;
    }
    ids = ids_through_deltas(db, source_id);
  } catch (const CorruptSnapshot&) {
    return std::nullopt;
  }
  sort_row_ids(ids);
  return ids;
}

}  // namespace

void History::for_each_current(
    std::string_view source, const std::function<void(std::size_t)>& reserve,
    const std::function<void(std::string_view, std::string_view)>& visit) const {
  const auto id = impl_->source_id(source, false);
  if (!id) {
    return;
  }
  // The current versions' ids from the snapshot written with the source's latest extract,
  // then one pass over records in id order picking them out.
  SQLite::Statement latest(impl_->db,
                           "SELECT max(id) FROM extracts WHERE source = ? AND status = 'ingested'");
  latest.bind(1, std::string(source));
  std::optional<std::vector<std::int64_t>> current;
  if (latest.executeStep() && !latest.getColumn(0).isNull()) {
    current = current_ids(impl_->db, *id, latest.getColumn(0).getInt64());
  }
  if (!current) {
    // A source last ingested before migration 4 (or whose snapshot is damaged): the versions
    // no extract ended.
    impl_->for_each_current_version(
        *id, [&](std::int64_t, std::string_view key, std::string_view data) { visit(key, data); });
    return;
  }
  const std::vector<std::int64_t>& ids = *current;
  if (ids.empty()) {
    return;
  }
  reserve(ids.size());
  auto next = ids.begin();
  const auto first_block = std::lower_bound(ids.begin(), ids.end(), kBlockIds);
  if (next != first_block) {  // versions written before migration 4
    SQLite::Statement query(impl_->db,
                            "SELECT id, key, data FROM records WHERE source_id = ? AND id >= ? "
                            "AND id <= ? ORDER BY id");
    query.bind(1, *id);
    query.bind(2, *next);
    query.bind(3, *(first_block - 1));
    while (next != first_block && query.executeStep()) {
      const std::int64_t row_id = query.getColumn(0).getInt64();
      while (next != first_block && *next < row_id) {
        ++next;  // (none: every id is a record)
      }
      if (next != first_block && *next == row_id) {
        const SQLite::Column key = query.getColumn(1);
        const SQLite::Column data = query.getColumn(2);
        visit(std::string_view(key.getText(), static_cast<std::size_t>(key.getBytes())),
              std::string_view(static_cast<const char*>(data.getBlob()),
                               static_cast<std::size_t>(data.getBytes())));
        ++next;
      }
    }
    next = first_block;
  }
  if (next != ids.end()) {
    SQLite::Statement blocks(impl_->db,
                             "SELECT id, versions FROM record_blocks WHERE source_id = ? AND "
                             "id >= ? AND id <= ? ORDER BY id");
    blocks.bind(1, *id);
    blocks.bind(2, block_of(*next));
    blocks.bind(3, block_of(ids.back()));
    while (next != ids.end() && blocks.executeStep()) {
      const std::int64_t block = blocks.getColumn(0).getInt64();
      if (block_of(*next) != block) {
        continue;
      }
      const SQLite::Column blob = blocks.getColumn(1);
      const auto versions = decode_block(blob.getBlob(), static_cast<std::size_t>(blob.getBytes()));
      for (; next != ids.end() && block_of(*next) == block; ++next) {
        const auto slot = static_cast<std::size_t>(slot_of(*next));
        if (slot >= versions.size()) {
          throw std::runtime_error("corrupt snapshot in the database");
        }
        visit(versions[slot].key, versions[slot].data);
      }
    }
    // A current version whose block is missing: the snapshot does not match the records.
    if (next != ids.end()) {
      throw std::runtime_error("corrupt snapshot in the database");
    }
  }
}

std::vector<rules::Record> History::current_records(std::string_view source) const {
  std::vector<rules::Record> out;
  for_each_current(
      source, [&](std::size_t count) { out.reserve(count); },
      [&](std::string_view key, std::string_view data) { out.push_back(make_record(key, data)); });
  return out;
}

namespace {

// Builds a view from records handed over in batches, coding them on a thread of its own: reading
// the next batch from the database (SQLite, the blocks) overlaps with coding this one, which is
// about two thirds of the work. Only for many records: a thread is not worth a few thousand.
class ViewPipeline {
 public:
  static constexpr std::size_t kBatchRecords = 8192;

  explicit ViewPipeline(rules::RecordViewBuilder& builder) : builder_(builder) {}
  ViewPipeline(const ViewPipeline&) = delete;
  ViewPipeline& operator=(const ViewPipeline&) = delete;
  ~ViewPipeline() {  // stops the thread, whatever state the caller left (an exception)
    if (thread_.joinable()) {
      {
        const std::lock_guard lock(mutex_);
        stop_ = true;
      }
      changed_.notify_all();
      thread_.join();
    }
  }

  // Starts the thread. REQUIRES: the builder is not used elsewhere until finish() returns.
  void start() {
    thread_ = std::thread([this] { run(); });
  }
  // A copy of the record goes into the batch being filled.
  void add(std::string_view key, std::string_view data) {
    Batch& batch = batches_[filling_];
    batch.bytes.append(key);
    batch.bytes.append(data);
    batch.ends.push_back({static_cast<std::uint32_t>(key.size()),
                          static_cast<std::uint32_t>(key.size() + data.size())});
    if (batch.ends.size() == kBatchRecords) {
      hand_over();
    }
  }
  // Hands over the last batch and waits for every batch to be coded; rethrows what the thread
  // threw (the builder's length_error).
  void finish() {
    hand_over();
    {
      std::unique_lock lock(mutex_);
      stop_ = true;
    }
    changed_.notify_all();
    thread_.join();
    if (error_) {
      std::rethrow_exception(error_);
    }
  }

 private:
  struct Batch {
    std::string bytes;  // each record's key then its data, back to back
    std::vector<std::pair<std::uint32_t, std::uint32_t>> ends;  // per record: key end, data end
    bool full = false;  // handed over: the thread's until it clears this
  };

  // Marks the batch being filled full and moves on to the other, once the thread is done
  // with it.
  void hand_over() {
    std::unique_lock lock(mutex_);
    batches_[filling_].full = true;
    filling_ ^= 1;
    changed_.notify_all();
    Batch& next = batches_[filling_];
    changed_.wait(lock, [&] { return !next.full; });
    next.bytes.clear();
    next.ends.clear();
  }

  void run() {
    std::vector<std::string_view> values;
    for (std::size_t i = 0;; i ^= 1) {
      Batch& batch = batches_[i];
      {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return batch.full || stop_; });
        if (!batch.full) {
          return;  // stopped, every batch handed over done
        }
      }
      try {
        if (!error_) {
          std::size_t begin = 0;
          const std::string_view bytes(batch.bytes);
          for (const auto& [key_end, data_end] : batch.ends) {
            const std::string_view data = bytes.substr(begin + key_end, data_end - key_end);
            decode_values(data.data(), data.size(), values);
            builder_.add(bytes.substr(begin, key_end), values);
            begin += data_end;
          }
        }
      } catch (...) {
        error_ = std::current_exception();  // read by finish() after the join
      }
      {
        const std::lock_guard lock(mutex_);
        batch.full = false;
      }
      changed_.notify_all();
    }
  }

  rules::RecordViewBuilder& builder_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable changed_;
  Batch batches_[2];
  std::size_t filling_ = 0;  // the caller's side only
  bool stop_ = false;
  std::exception_ptr error_;  // the thread's until joined
};

}  // namespace

rules::RecordView History::current_view(std::string_view source,
                                        const std::vector<rules::FieldUse>& uses) const {
  rules::RecordViewBuilder builder(uses);
  std::vector<std::string_view> values;
  std::optional<ViewPipeline> pipeline;
  for_each_current(
      source,
      [&](std::size_t count) {
        builder.reserve(count);
        if (count >= 4 * ViewPipeline::kBatchRecords) {
          pipeline.emplace(builder).start();
        }
      },
      [&](std::string_view key, std::string_view data) {
        if (pipeline) {
          pipeline->add(key, data);
          return;
        }
        decode_values(data.data(), data.size(), values);
        builder.add(key, values);
      });
  if (pipeline) {
    pipeline->finish();
  }
  return builder.finish();
}

std::optional<rules::Record> History::record_on(std::string_view source, std::string_view key,
                                                rules::Date date) const {
  // The latest ingested extract of the source on or before `date`, then the version of the
  // record that was current once that extract had been ingested.
  SQLite::Statement extract(impl_->db,
                            "SELECT id FROM extracts WHERE source = ? AND status = 'ingested' AND "
                            "as_of <= ? ORDER BY as_of DESC, id DESC LIMIT 1");
  extract.bind(1, std::string(source));
  extract.bind(2, date.iso());
  if (!extract.executeStep()) {
    return std::nullopt;
  }
  const std::int64_t extract_id = extract.getColumn(0).getInt64();
  auto versions = impl_->versions(source, key);
  for (auto it = versions.rbegin(); it != versions.rend(); ++it) {
    if (it->valid_from <= extract_id && (!it->valid_to || *it->valid_to > extract_id)) {
      return std::move(it->record);
    }
  }
  return std::nullopt;
}

std::vector<RecordVersion> History::record_history(std::string_view source,
                                                   std::string_view key) const {
  std::vector<RecordVersion> out;
  for (auto& version : impl_->versions(source, key)) {
    out.push_back(RecordVersion{std::move(version.record), version.from, version.to});
  }
  return out;
}

}  // namespace storage
