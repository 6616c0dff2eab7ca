// Opening and migrating the database; extracts and record snapshots.
#include <fcntl.h>
#include <fmt/format.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <deque>
#include <functional>
#include <future>
#include <limits>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "storage/impl.h"
#include "storage/key_table.h"
#include "storage/migrations.h"
#include "storage/snapshot_codec.h"

namespace storage {
namespace {

constexpr std::int64_t kApplicationId = 1128354647;  // 'CASW', set by migration 1
constexpr int kAutoCheckpointPages = 1000;           // SQLite's default

// Creates the database file 0640 when absent, before SQLite opens it, so that the mode never
// depends on the umask (SQLite gives its -wal and -shm files the database file's mode).
void create_private_file(const std::filesystem::path& file) {
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) {
    throw std::runtime_error(
        fmt::format("{}: cannot open: {}", file.string(), std::strerror(errno)));
  }
  ::close(fd);
}

bool is_memory(const std::filesystem::path& file) { return file == ":memory:"; }

int user_version(SQLite::Database& db) { return db.execAndGet("PRAGMA user_version").getInt(); }

// Applies the migrations the database has not seen, each in its own transaction. The version is
// read again inside the (immediate) transaction so that two processes opening at once cannot
// both apply the same migration.
void migrate(SQLite::Database& db, const std::filesystem::path& file) {
  const auto all = migrations();
  const int known = static_cast<int>(all.size());
  while (true) {
    SQLite::Transaction transaction(db, SQLite::TransactionBehavior::IMMEDIATE);
    const int version = user_version(db);
    if (version > known) {
      throw std::runtime_error(fmt::format(
          "{}: the database has schema version {}, newer than this casewatch knows ({}); use the "
          "casewatch that wrote it or a newer one",
          file.string(), version, known));
    }
    if (version == known) return;  // the transaction only read: rolling back is fine
    if (version == 0) {
      const int tables =
          db.execAndGet("SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'")
              .getInt();
      if (tables != 0) {
        throw std::runtime_error(fmt::format(
            "{}: not a casewatch database or it is corrupt: it holds other tables", file.string()));
      }
    } else if (db.execAndGet("PRAGMA application_id").getInt64() != kApplicationId) {
      throw std::runtime_error(fmt::format(
          "{}: not a casewatch database or it is corrupt: foreign application id", file.string()));
    }
    db.exec(all[static_cast<std::size_t>(version)]);
    db.exec(fmt::format("PRAGMA user_version = {}", version + 1));
    transaction.commit();
  }
}

ExtractInfo read_extract(SQLite::Statement& query) {
  // Columns: id, file, source, sha256, as_of, rows, problems, status, error, handled_at.
  ExtractInfo info;
  info.id = query.getColumn(0).getInt64();
  info.file = query.getColumn(1).getString();
  info.source = query.getColumn(2).getString();
  info.sha256 = query.getColumn(3).getString();
  info.as_of = required_date(query.getColumn(4));
  info.rows = static_cast<std::size_t>(query.getColumn(5).getInt64());
  info.problems = static_cast<std::size_t>(query.getColumn(6).getInt64());
  const std::string status = query.getColumn(7).getString();
  info.status = status == "rejected"    ? ExtractStatus::kRejected
                : status == "duplicate" ? ExtractStatus::kDuplicate
                                        : ExtractStatus::kIngested;
  info.error = query.getColumn(8).getString();
  info.handled_at = query.getColumn(9).getString();
  return info;
}

constexpr const char* kExtractColumns =
    "id, file, source, sha256, as_of, rows, problems, status, error, handled_at";

std::int64_t insert_extract(SQLite::Database& db, const ExtractInfo& info, ExtractStatus status,
                            std::size_t problems) {
  SQLite::Statement insert(db,
                           "INSERT INTO extracts (file, source, sha256, as_of, rows, problems, "
                           "status, error, handled_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
  insert.bind(1, info.file);
  insert.bind(2, info.source);
  insert.bind(3, info.sha256);
  insert.bind(4, info.as_of.iso());
  insert.bind(5, static_cast<std::int64_t>(info.rows));
  insert.bind(6, static_cast<std::int64_t>(problems));
  insert.bind(7, std::string(to_string(status)));
  insert.bind(8, info.error);
  insert.bind(9, info.handled_at);
  insert.exec();
  return db.getLastInsertRowid();
}

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

std::string_view to_string(ExtractStatus status) {
  switch (status) {
    case ExtractStatus::kIngested:
      return "ingested";
    case ExtractStatus::kRejected:
      return "rejected";
    case ExtractStatus::kDuplicate:
      return "duplicate";
  }
  return "ingested";
}

std::optional<std::int64_t> History::Impl::source_id(std::string_view name, bool create) {
  SQLite::Statement query(db, "SELECT id FROM sources WHERE name = ?");
  query.bind(1, std::string(name));
  if (query.executeStep()) return query.getColumn(0).getInt64();
  if (!create) return std::nullopt;
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
  while (ends.executeStep()) ended.insert(ends.getColumn(0).getInt64());
  SQLite::Statement blocks(
      db, "SELECT id, versions FROM record_blocks WHERE source_id = ? ORDER BY id");
  blocks.bind(1, source);
  while (blocks.executeStep()) {
    const std::int64_t block = blocks.getColumn(0).getInt64();
    const SQLite::Column blob = blocks.getColumn(1);
    const auto versions = decode_block(blob.getBlob(), static_cast<std::size_t>(blob.getBytes()));
    for (std::size_t slot = 0; slot < versions.size(); ++slot) {
      const std::int64_t id = version_id(block, static_cast<std::int64_t>(slot));
      if (!ended.contains(id)) visit(id, versions[slot].key, versions[slot].data);
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
  while (legacy.executeStep()) ids.push_back(legacy.getColumn(0).getInt64());
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
  if (!id) return {};
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

std::optional<rules::Record> History::Impl::current_record(std::string_view source,
                                                           std::string_view key) {
  for (auto& version : versions(source, key)) {
    if (!version.valid_to) return std::move(version.record);
  }
  return std::nullopt;
}

History::History(const std::filesystem::path& file) {
  if (!is_memory(file)) create_private_file(file);
  // Before SQLite initialises (the first connection): no count of the memory SQLite uses. The
  // count takes a process-wide mutex on every allocation, and casewatch never reads it. Too late
  // when something else in the process opened a database first; then it stays on.
  static std::once_flag memory_statistics_off;
  std::call_once(memory_statistics_off, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
  try {
    // NOMUTEX: a History, like its connection, is used by one thread at a time (each thread of
    // the service opens its own), so SQLite need not lock the connection on every call.
    impl_ = std::make_unique<Impl>(
        file, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_NOMUTEX);
    impl_->db.setBusyTimeout(5000);
    // The first statement reads the header: a file that is not SQLite fails here.
    // 8 KiB pages for a new database (ignored for an existing one): a 1M-row first ingest
    // writes fewer, fuller pages (about 6% less CPU than 4 KiB, less time in the kernel). It
    // must come before WAL mode, which fixes the page size.
    impl_->db.exec("PRAGMA page_size = 8192");
    impl_->db.exec("PRAGMA journal_mode = WAL");
    // FULL, not NORMAL: the caller moves an extract to archive/ as soon as its transaction
    // commits, so a commit must survive a power cut. In WAL mode that costs one fsync per
    // transaction, and casewatch writes few, large transactions.
    impl_->db.exec("PRAGMA synchronous = FULL");
    impl_->db.exec("PRAGMA foreign_keys = ON");
    // Bounded page cache (16 MiB): an extract's inserts append, so a larger cache bought no
    // measurable time, and the re-ingest of a 1M-row extract must stay under 200 MB in all.
    impl_->db.exec("PRAGMA cache_size = -16384");
    impl_->db.exec("PRAGMA journal_size_limit = 67108864");
    // No PRAGMA quick_check here: it reads every page (seconds for a 1M-record database).
    // SQLite reports SQLITE_CORRUPT on the pages it does read, and those errors are exceptions.
    migrate(impl_->db, file);
  } catch (const SQLite::Exception& e) {
    const int code = e.getErrorCode() & 0xff;
    if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT) {
      throw std::runtime_error(fmt::format("{}: not a casewatch database or it is corrupt: {}",
                                           file.string(), e.what()));
    }
    throw std::runtime_error(fmt::format("{}: {}", file.string(), e.what()));
  }
}

History::~History() = default;

int History::schema_version() const { return user_version(impl_->db); }

bool History::checkpoint() {
  if (impl_->writer_open) throw std::logic_error("checkpoint: an extract writer is open");
  try {
    // PASSIVE: copies what no reader still needs and never waits for one.
    impl_->db.exec("PRAGMA wal_checkpoint(PASSIVE)");
    return true;
  } catch (const SQLite::Exception& e) {
    const int code = e.getErrorCode() & 0xff;
    if (code == SQLITE_BUSY || code == SQLITE_LOCKED) return false;  // another is checkpointing
    throw;
  }
}

// ---- extracts

// What load_snapshot() read.
struct LoadedSnapshot {
  std::size_t full_entries = 0;   // in the full piece
  std::size_t delta_entries = 0;  // in the deltas after it
};

// Loads source `source_id`'s snapshot pieces into `table`: the latest full piece, then each
// delta after it. nullopt (and `table` untouched) when the pieces do not end at extract `latest`
// (a source last ingested before migration 4): the caller reads records instead. Throws
// CorruptSnapshot (leaving `table` partly loaded) when a piece is not a snapshot.
std::optional<LoadedSnapshot> load_snapshot(SQLite::Database& db, std::int64_t source_id,
                                            std::int64_t latest, KeyTable& table) {
  SQLite::Statement last(db, "SELECT max(extract_id) FROM snapshots WHERE source_id = ?");
  last.bind(1, source_id);
  if (!last.executeStep() || last.getColumn(0).isNull() || last.getColumn(0).getInt64() != latest) {
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
    if (first != full) throw CorruptSnapshot();
    const SQLite::Column blob = query.getColumn(1);
    SnapshotReader reader(blob.getBlob(), static_cast<std::size_t>(blob.getBytes()));
    SnapshotEntry entry;
    if (full) {
      loaded.full_entries = reader.count();
      table.reserve(reader.count());
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
          if (found != nullptr) found->dead = true;
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
  if (first) throw CorruptSnapshot();  // no full piece
  return loaded;
}

// The connection's settings while an extract is written; they must change outside a
// transaction, so this is made before the writer's transaction and ends after it.
// - Foreign key checks off: the writer's rows refer only to its own extract and source, so the
//   checks (two lookups per record) could never fail; without them a 1M-row extract is written
//   about a fifth faster.
// - No automatic checkpoint at its commit: copying the WAL into the database file (the second
//   write of every page: 0.2 s for a 1M-row first ingest) is left to the next write or to
//   History::checkpoint(), after the extract has been archived. The commit is durable without
//   it.
class WriterSettings {
 public:
  explicit WriterSettings(SQLite::Database& db) : db_(db) {
    db_.exec("PRAGMA foreign_keys = OFF");
    db_.exec("PRAGMA wal_autocheckpoint = 0");
  }
  ~WriterSettings() {
    try {
      db_.exec("PRAGMA foreign_keys = ON");
      db_.exec(fmt::format("PRAGMA wal_autocheckpoint = {}", kAutoCheckpointPages));
    } catch (const SQLite::Exception&) {
      // Only an out-of-memory error can fail a pragma; the connection is then unusable anyway.
    }
  }
  WriterSettings(const WriterSettings&) = delete;
  WriterSettings& operator=(const WriterSettings&) = delete;

 private:
  SQLite::Database& db_;
};

struct History::ExtractWriter::Impl {
  Impl(History::Impl& history, const ExtractInfo& info)
      : history(history),
        settings(history.db),
        transaction(history.db, SQLite::TransactionBehavior::IMMEDIATE),
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
      if (!loaded) scan_records();
    }
    history.writer_open = true;
  }
  ~Impl() { history.writer_open = false; }

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
    if (block_slots == kBlockVersions || block.size() >= kBlockBytes) flush_block();
  }

  // Writes the block being filled, if it holds any version.
  void flush_block() {
    if (block_slots == 0) return;
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

  // The new versions' (key hash, row id) pairs, sorted. Only reads: may run on another thread
  // while this one writes the snapshot.
  std::vector<KeyIndexEntry> sorted_key_index() const;
  void write_key_index(const std::vector<KeyIndexEntry>& index);
  void write_snapshot();
  void write_full_snapshot();

  History::Impl& history;
  WriterSettings settings;          // before the transaction, so restored after it ends
  SQLite::Transaction transaction;  // rolls back on destruction unless committed
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
  static constexpr std::size_t kBlockBytes = 7 * 1024;  // a block and its row fit an 8 KiB page
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

void History::ExtractWriter::add(const rules::Record& record) {
  add(std::span<const rules::Record>(&record, 1));
}

void History::ExtractWriter::add(std::span<const rules::Record> records) {
  if (!impl_) throw std::logic_error("ExtractWriter::add after commit");
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
  if (!impl_) throw std::logic_error("ExtractWriter::add after commit");
  Impl& w = *impl_;
  w.prepared.resize(std::max(w.prepared.size(), records.size()));
  std::copy(records.begin(), records.end(), w.prepared.begin());  // reuses their buffers
  w.classify_and_write(records.size());
}

void History::ExtractWriter::Impl::classify_and_write(std::size_t count) {
  // Each lookup in the snapshot table misses the CPU cache; starting them kAhead records early
  // overlaps the misses (1%-changed re-ingest of 1M records: the lookups took half as long).
  constexpr std::size_t kAhead = 16;
  for (std::size_t i = 0; i < count && i < kAhead; ++i) current.prefetch(prepared[i].key_hash);
  for (std::size_t i = 0; i < count; ++i) {
    if (i + kAhead < count) current.prefetch(prepared[i + kAhead].key_hash);
    classify(prepared[i]);
  }
  write_all(std::span<const PreparedRecord>(prepared.data(), count));
}

History::ExtractWriter::RowMatch History::ExtractWriter::match_row(std::uint64_t row_hash,
                                                                   std::size_t line) {
  if (!impl_) throw std::logic_error("ExtractWriter::match_row after commit");
  KeyTable::Entry* entry = impl_->current.find_row(row_hash);
  if (entry == nullptr || entry->dead) return {};
  if (entry->seen) {
    // Matched before: the same bytes again, an exact repeat. Read before (the key's first row
    // had other bytes): the caller reads this row, and its reader tells a repeat from a change.
    if (entry->by_row) return {RowMatch::Kind::kRepeat, entry->seen_line};
    return {};
  }
  entry->seen = true;
  entry->by_row = true;
  entry->seen_line = static_cast<std::uint32_t>(std::min<std::size_t>(line, UINT32_MAX));
  return {RowMatch::Kind::kUnchanged, 0};
}

const std::optional<std::string>& History::ExtractWriter::snapshot_problem() const {
  if (!impl_) throw std::logic_error("ExtractWriter::snapshot_problem after commit");
  return impl_->snapshot_problem;
}

void History::ExtractWriter::classify(PreparedRecord& record) {
  if (!impl_) throw std::logic_error("ExtractWriter::classify after commit");
  impl_->classify(record);
}

void History::ExtractWriter::write(std::span<const PreparedRecord> records) {
  if (!impl_) throw std::logic_error("ExtractWriter::write after commit");
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
    if (found->by_row) record.repeats_skipped_line = found->seen_line;
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

void History::ExtractWriter::add_problem(const rules::Problem& problem) {
  if (!impl_) throw std::logic_error("ExtractWriter::add_problem after commit");
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
  if (!impl_) throw std::logic_error("ExtractWriter::set_sha256 after commit");
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
  for (const auto& a : added) ++starts[bucket(std::bit_cast<std::int64_t>(a.key_hash)) + 1];
  for (std::size_t b = 1; b < starts.size(); ++b) starts[b] += starts[b - 1];
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
    if (index[i].key_hash != index[i - 1].key_hash) continue;
    keys.emplace(index[i - 1].row_id, std::string_view());
    keys.emplace(index[i].row_id, std::string_view());
  }
  if (!keys.empty()) {
    for (const auto& a : added) {
      if (const auto found = keys.find(a.row_id); found != keys.end()) found->second = added_key(a);
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
    while (end < index.size() && index[end].key_hash == index[end - 1].key_hash) ++end;
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
    if (entry.dead || entry.replaced) continue;  // a replaced record's new version is in added
    if (!entry.seen || entry.rehashed) ++changes;
  }
  if (!loaded || (loaded->delta_entries + changes) * 4 > loaded->full_entries) {
    write_full_snapshot();
    return;
  }
  std::string blob;
  SnapshotWriter delta(changes, [&](std::string_view piece) { blob.append(piece); });
  for (const auto& entry : current.entries()) {
    if (entry.dead || entry.replaced) continue;
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
      if (!entry.seen || entry.replaced || entry.dead) continue;
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
  if (!impl_) throw std::logic_error("ExtractWriter::commit called twice");
  Impl& w = *impl_;
  if (w.repeated) throw std::logic_error("ExtractWriter::commit: a key repeats");
  w.flush_block();
  // A large key index is sorted on another thread while this one writes the snapshot (both
  // only read the new versions): a 1M-row first ingest commits a tenth of a second sooner.
  constexpr std::size_t kSortApart = 65536;
  std::future<std::vector<KeyIndexEntry>> index;
  if (w.added.size() >= kSortApart) {
    index = std::async(std::launch::async, [&w] { return w.sorted_key_index(); });
  }
  for (const auto& current : w.current.entries()) {
    if (!current.seen && !current.dead) w.end(current.row_id);  // vanished from the extract
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
  w.transaction.commit();
  const std::int64_t id = w.extract_id;
  impl_.reset();
  return id;
}

History::ExtractWriter History::begin_extract(const ExtractInfo& info) {
  if (impl_->writer_open) throw std::logic_error("begin_extract: another writer is open");
  return ExtractWriter(std::make_unique<ExtractWriter::Impl>(*impl_, info));
}

std::int64_t History::record_refused(const ExtractInfo& info,
                                     const std::vector<rules::Problem>& problems) {
  if (info.status == ExtractStatus::kIngested) {
    throw std::logic_error("record_refused: status must be rejected or duplicate");
  }
  SQLite::Transaction transaction(impl_->db, SQLite::TransactionBehavior::IMMEDIATE);
  const std::int64_t id =
      insert_extract(impl_->db, info, info.status, std::max(info.problems, problems.size()));
  SQLite::Statement insert(impl_->db,
                           "INSERT INTO row_problems (extract_id, line, column_name, message) "
                           "VALUES (?, ?, ?, ?)");
  for (const auto& problem : problems) {
    insert.bind(1, id);
    insert.bind(2, static_cast<std::int64_t>(problem.line));
    insert.bind(3, problem.column);
    insert.bind(4, problem.message);
    insert.exec();
    insert.reset();
  }
  transaction.commit();
  return id;
}

std::optional<ExtractInfo> History::find_ingested(std::string_view sha256) const {
  SQLite::Statement query(
      impl_->db, fmt::format("SELECT {} FROM extracts WHERE sha256 = ? AND status = 'ingested' "
                             "ORDER BY id LIMIT 1",
                             kExtractColumns));
  query.bind(1, std::string(sha256));
  if (!query.executeStep()) return std::nullopt;
  return read_extract(query);
}

std::optional<ExtractInfo> History::latest_extract(std::string_view source) const {
  SQLite::Statement query(
      impl_->db, fmt::format("SELECT {} FROM extracts WHERE source = ? AND status = 'ingested' "
                             "ORDER BY id DESC LIMIT 1",
                             kExtractColumns));
  query.bind(1, std::string(source));
  if (!query.executeStep()) return std::nullopt;
  return read_extract(query);
}

std::vector<ExtractInfo> History::pending_evaluations() const {
  SQLite::Statement query(impl_->db,
                          fmt::format("SELECT {} FROM extracts WHERE status = 'ingested' AND "
                                      "evaluation_pending = 1 ORDER BY as_of, id",
                                      kExtractColumns));
  std::vector<ExtractInfo> out;
  while (query.executeStep()) out.push_back(read_extract(query));
  return out;
}

void History::evaluation_done(std::int64_t extract_id) {
  SQLite::Statement update(impl_->db, "UPDATE extracts SET evaluation_pending = 0 WHERE id = ?");
  update.bind(1, extract_id);
  update.exec();
}

std::vector<ExtractInfo> History::extracts() const {
  SQLite::Statement query(impl_->db,
                          fmt::format("SELECT {} FROM extracts ORDER BY id", kExtractColumns));
  std::vector<ExtractInfo> out;
  while (query.executeStep()) out.push_back(read_extract(query));
  return out;
}

std::vector<rules::Problem> History::problems(std::int64_t extract_id) const {
  SQLite::Statement query(impl_->db,
                          "SELECT line, column_name, message FROM row_problems "
                          "WHERE extract_id = ? ORDER BY rowid");
  query.bind(1, extract_id);
  std::vector<rules::Problem> out;
  while (query.executeStep()) {
    out.push_back(rules::Problem{static_cast<std::size_t>(query.getColumn(0).getInt64()),
                                 query.getColumn(1).getString(), query.getColumn(2).getString()});
  }
  return out;
}

// ---- snapshots

std::vector<rules::Record> History::current_records(std::string_view source) const {
  const auto id = impl_->source_id(source, false);
  if (!id) return {};
  std::vector<rules::Record> out;
  // The current versions' ids from the snapshot written with the source's latest extract,
  // then one pass over records in id order picking them out.
  SQLite::Statement latest(impl_->db,
                           "SELECT max(id) FROM extracts WHERE source = ? AND status = 'ingested'");
  latest.bind(1, std::string(source));
  KeyTable table;
  bool from_snapshot = false;
  try {
    from_snapshot = latest.executeStep() && !latest.getColumn(0).isNull() &&
                    load_snapshot(impl_->db, *id, latest.getColumn(0).getInt64(), table);
  } catch (const CorruptSnapshot&) {
    // Derived data: the records say the same (the next extract writes a new snapshot).
  }
  if (from_snapshot) {
    std::vector<std::int64_t> ids;
    ids.reserve(table.entries().size());
    for (const auto& entry : table.entries()) {
      if (!entry.dead) ids.push_back(entry.row_id);
    }
    table = KeyTable();  // its memory is not needed while the records are read
    std::sort(ids.begin(), ids.end());
    if (ids.empty()) return out;
    out.reserve(ids.size());
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
        while (next != first_block && *next < row_id) ++next;  // (none: every id is a record)
        if (next != first_block && *next == row_id) {
          out.push_back(read_record(query, 1, 2));
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
        if (block_of(*next) != block) continue;
        const SQLite::Column blob = blocks.getColumn(1);
        const auto versions =
            decode_block(blob.getBlob(), static_cast<std::size_t>(blob.getBytes()));
        for (; next != ids.end() && block_of(*next) == block; ++next) {
          const auto slot = static_cast<std::size_t>(slot_of(*next));
          if (slot >= versions.size()) throw std::runtime_error("corrupt snapshot in the database");
          out.push_back(make_record(versions[slot].key, versions[slot].data));
        }
      }
      // A current version whose block is missing: the snapshot does not match the records.
      if (next != ids.end()) throw std::runtime_error("corrupt snapshot in the database");
    }
    return out;
  }
  // A source last ingested before migration 4 (or whose snapshot is damaged): the versions no
  // extract ended.
  impl_->for_each_current_version(*id,
                                  [&](std::int64_t, std::string_view key, std::string_view data) {
                                    out.push_back(make_record(key, data));
                                  });
  return out;
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
  if (!extract.executeStep()) return std::nullopt;
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
