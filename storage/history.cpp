// Opening and migrating the database; extracts and record snapshots.
#include <fcntl.h>
#include <fmt/format.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <unordered_map>

#include "storage/impl.h"
#include "storage/key_table.h"
#include "storage/migrations.h"

namespace storage {
namespace {

constexpr std::int64_t kApplicationId = 1128354647;  // 'CASW', set by migration 1

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

rules::Record read_record(SQLite::Statement& query, int key_column, int data_column) {
  const SQLite::Column data = query.getColumn(data_column);
  return rules::Record{query.getColumn(key_column).getString(),
                       decode_values(data.getBlob(), static_cast<std::size_t>(data.getBytes()))};
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

std::optional<rules::Record> History::Impl::current_record(std::string_view source,
                                                           std::string_view key) {
  const auto id = source_id(source, false);
  if (!id) return std::nullopt;
  SQLite::Statement query(db,
                          "SELECT r.key, r.data FROM record_keys k JOIN records r ON r.id = "
                          "k.record_id WHERE k.source_id = ? AND k.key_hash = ? AND r.key = ? AND "
                          "r.valid_to IS NULL");
  query.bind(1, *id);
  query.bind(2, key_hash(key));
  query.bind(3, std::string(key));
  if (!query.executeStep()) return std::nullopt;
  return read_record(query, 0, 1);
}

History::History(const std::filesystem::path& file) {
  if (!is_memory(file)) create_private_file(file);
  try {
    impl_ = std::make_unique<Impl>(file, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
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

// ---- extracts

struct History::ExtractWriter::Impl {
  Impl(History::Impl& history, const ExtractInfo& info)
      : history(history),
        transaction(history.db, SQLite::TransactionBehavior::IMMEDIATE),
        insert_record(history.db,
                      "INSERT INTO records (source_id, key, valid_from, hash, data) "
                      "VALUES (?, ?, ?, ?, ?)"),
        insert_key(history.db,
                   "INSERT INTO record_keys (source_id, key_hash, record_id) VALUES (?, ?, ?)"),
        end_record(history.db, "UPDATE records SET valid_to = ? WHERE id = ?"),
        insert_problem(history.db,
                       "INSERT INTO row_problems (extract_id, line, column_name, message) "
                       "VALUES (?, ?, ?, ?)") {
    source_id = *history.source_id(info.source, true);
    // The source's last extract (before this one is inserted) says how large the snapshot is,
    // near enough.
    SQLite::Statement last(history.db,
                           "SELECT rows FROM extracts WHERE source = ? AND status = 'ingested' "
                           "ORDER BY id DESC LIMIT 1");
    last.bind(1, info.source);
    if (last.executeStep()) {
      current.reserve(
          static_cast<std::size_t>(std::max<std::int64_t>(0, last.getColumn(0).getInt64())));
    }
    extract_id = insert_extract(history.db, info, ExtractStatus::kIngested, 0);
    SQLite::Statement query(history.db,
                            "SELECT id, key, hash FROM records WHERE source_id = ? AND "
                            "valid_to IS NULL");
    query.bind(1, source_id);
    while (query.executeStep()) {
      const SQLite::Column key = query.getColumn(1);
      const std::string_view key_text(key.getText(), static_cast<std::size_t>(key.getBytes()));
      current.load(key_text, content_hash(key_text),
                   std::bit_cast<std::uint64_t>(query.getColumn(2).getInt64()),
                   query.getColumn(0).getInt64());
    }
    history.writer_open = true;
  }
  ~Impl() { history.writer_open = false; }

  void add(const PreparedRecord& record);

  // Inserts a new version; its record_keys entry is written at commit.
  void insert(const PreparedRecord& record) {
    const std::string& key = record.key;
    const std::string& data = record.data;
    const std::uint64_t hash = record.content_hash;
    insert_record.bind(1, source_id);
    insert_record.bindNoCopy(2, key);
    insert_record.bind(3, extract_id);
    insert_record.bind(4, std::bit_cast<std::int64_t>(hash));
    insert_record.bindNoCopy(5, data.data(), static_cast<int>(data.size()));
    insert_record.exec();
    insert_record.reset();
    added.push_back(Added{std::bit_cast<std::int64_t>(record.key_hash),  // key_hash(key)
                          history.db.getLastInsertRowid()});
  }

  void end(std::int64_t row_id) {
    end_record.bind(1, extract_id);
    end_record.bind(2, row_id);
    end_record.exec();
    end_record.reset();
  }

  History::Impl& history;
  SQLite::Transaction transaction;  // rolls back on destruction unless committed
  std::int64_t source_id = 0;
  std::int64_t extract_id = 0;
  std::size_t problems = 0;
  bool repeated = false;  // a key of the snapshot was added twice
  // The source's current snapshot: key -> (content hash, row id), and whether this extract
  // has it. Only these small entries are kept per record.
  KeyTable current;
  // The versions this extract wrote, for record_keys (16 bytes each). Sorted at commit, they
  // also reveal a key added twice.
  struct Added {
    std::int64_t key_hash = 0;
    std::int64_t row_id = 0;
    auto operator<=>(const Added&) const = default;
  };
  std::vector<Added> added;
  PreparedRecord scratch;                // for add(const rules::Record&)
  std::vector<PreparedRecord> prepared;  // for add(std::span<const rules::Record>)
  SQLite::Statement insert_record;
  SQLite::Statement insert_key;
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
  if (!impl_) throw std::logic_error("ExtractWriter::add after commit");
  prepare_record(record, impl_->scratch);
  impl_->add(impl_->scratch);
}

void History::ExtractWriter::add(std::span<const rules::Record> records) {
  if (!impl_) throw std::logic_error("ExtractWriter::add after commit");
  Impl& w = *impl_;
  w.prepared.resize(std::max(w.prepared.size(), records.size()));
  for (std::size_t i = 0; i < records.size(); ++i) prepare_record(records[i], w.prepared[i]);
  add(std::span<const PreparedRecord>(w.prepared.data(), records.size()));
}

void History::ExtractWriter::add(std::span<const PreparedRecord> records) {
  if (!impl_) throw std::logic_error("ExtractWriter::add after commit");
  Impl& w = *impl_;
  // Each lookup in the snapshot table misses the CPU cache; starting them kAhead records early
  // overlaps the misses (1%-changed re-ingest of 1M records: the lookups took half as long).
  constexpr std::size_t kAhead = 16;
  for (std::size_t i = 0; i < records.size() && i < kAhead; ++i) {
    w.current.prefetch(records[i].key_hash);
  }
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (i + kAhead < records.size()) w.current.prefetch(records[i + kAhead].key_hash);
    w.add(records[i]);
  }
}

void History::ExtractWriter::Impl::add(const PreparedRecord& record) {
  if (KeyTable::Entry* found = current.find(record.key, record.key_hash)) {
    if (found->seen) {
      // Ingest rejects such a file after reading it whole, and discards this writer; commit()
      // refuses if it does not.
      repeated = true;
      return;
    }
    found->seen = true;
    if (found->content_hash == record.content_hash) return;  // unchanged: not rewritten
    end(found->row_id);
  }
  insert(record);
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

std::int64_t History::ExtractWriter::commit(std::size_t rows) {
  if (!impl_) throw std::logic_error("ExtractWriter::commit called twice");
  Impl& w = *impl_;
  if (w.repeated) throw std::logic_error("ExtractWriter::commit: a key repeats");
  std::sort(w.added.begin(), w.added.end());
  const auto same_key_hash = [](const auto& a, const auto& b) { return a.key_hash == b.key_hash; };
  if (std::adjacent_find(w.added.begin(), w.added.end(), same_key_hash) != w.added.end()) {
    // A repeated key, or two keys with the same 64-bit hash: ask the database which.
    SQLite::Statement repeated(w.history.db,
                               "SELECT 1 FROM records WHERE source_id = ? AND valid_from = ? "
                               "GROUP BY key HAVING count(*) > 1 LIMIT 1");
    repeated.bind(1, w.source_id);
    repeated.bind(2, w.extract_id);
    if (repeated.executeStep()) throw std::logic_error("ExtractWriter::commit: a key repeats");
  }
  for (const auto& current : w.current.entries()) {
    if (!current.seen) w.end(current.row_id);  // vanished from the extract
  }
  for (const auto& added : w.added) {  // in key_hash order: a cheap, mostly sequential insert
    w.insert_key.bind(1, w.source_id);
    w.insert_key.bind(2, added.key_hash);
    w.insert_key.bind(3, added.row_id);
    w.insert_key.exec();
    w.insert_key.reset();
  }
  SQLite::Statement update(w.history.db, "UPDATE extracts SET rows = ?, problems = ? WHERE id = ?");
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
  SQLite::Statement query(impl_->db,
                          "SELECT key, data FROM records WHERE source_id = ? AND valid_to IS NULL "
                          "ORDER BY id");
  query.bind(1, *id);
  std::vector<rules::Record> out;
  while (query.executeStep()) out.push_back(read_record(query, 0, 1));
  return out;
}

std::optional<rules::Record> History::record_on(std::string_view source, std::string_view key,
                                                rules::Date date) const {
  const auto id = impl_->source_id(source, false);
  if (!id) return std::nullopt;
  // The latest ingested extract of the source on or before `date`, then the version of the
  // record that was current once that extract had been ingested.
  SQLite::Statement extract(impl_->db,
                            "SELECT id FROM extracts WHERE source = ? AND status = 'ingested' AND "
                            "as_of <= ? ORDER BY as_of DESC, id DESC LIMIT 1");
  extract.bind(1, std::string(source));
  extract.bind(2, date.iso());
  if (!extract.executeStep()) return std::nullopt;
  const std::int64_t extract_id = extract.getColumn(0).getInt64();
  SQLite::Statement query(impl_->db,
                          "SELECT r.key, r.data FROM record_keys k JOIN records r ON r.id = "
                          "k.record_id WHERE k.source_id = ? AND k.key_hash = ? AND r.key = ? AND "
                          "r.valid_from <= ? AND (r.valid_to IS NULL OR r.valid_to > ?) "
                          "ORDER BY r.valid_from DESC LIMIT 1");
  query.bind(1, *id);
  query.bind(2, key_hash(key));
  query.bind(3, std::string(key));
  query.bind(4, extract_id);
  query.bind(5, extract_id);
  if (!query.executeStep()) return std::nullopt;
  return read_record(query, 0, 1);
}

std::vector<RecordVersion> History::record_history(std::string_view source,
                                                   std::string_view key) const {
  const auto id = impl_->source_id(source, false);
  if (!id) return {};
  SQLite::Statement query(impl_->db,
                          "SELECT r.key, r.data, f.as_of, t.as_of FROM record_keys k "
                          "JOIN records r ON r.id = k.record_id "
                          "JOIN extracts f ON f.id = r.valid_from "
                          "LEFT JOIN extracts t ON t.id = r.valid_to "
                          "WHERE k.source_id = ? AND k.key_hash = ? AND r.key = ? "
                          "ORDER BY r.valid_from");
  query.bind(1, *id);
  query.bind(2, key_hash(key));
  query.bind(3, std::string(key));
  std::vector<RecordVersion> out;
  while (query.executeStep()) {
    out.push_back(RecordVersion{read_record(query, 0, 1), required_date(query.getColumn(2)),
                                column_date(query.getColumn(3))});
  }
  return out;
}

}  // namespace storage
