// Opening the database: the file's mode, the connection's pragmas, migrations, checkpoints.
#include <fcntl.h>
#include <fmt/format.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "storage/impl.h"
#include "storage/migrations.h"

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
    if (version == known) {
      return;  // the transaction only read: rolling back is fine
    }
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

// Opens `file` read-only: checks that it is a casewatch database at the schema version this
// casewatch writes, and that nothing on the connection can write.
void open_read_only(SQLite::Database& db, const std::filesystem::path& file) {
  db.setBusyTimeout(5000);
  db.exec("PRAGMA query_only = ON");
  db.exec("PRAGMA cache_size = -16384");
  const int version = user_version(db);
  const int known = static_cast<int>(migrations().size());
  if (version != 0 && db.execAndGet("PRAGMA application_id").getInt64() != kApplicationId) {
    throw std::runtime_error(fmt::format(
        "{}: not a casewatch database or it is corrupt: foreign application id", file.string()));
  }
  if (version != known) {
    throw std::runtime_error(
        fmt::format("{}: opened read-only at schema version {}, but this casewatch reads only {} "
                    "(open it read-write once to migrate it)",
                    file.string(), version, known));
  }
}

}  // namespace

History::History(const std::filesystem::path& file, Access access) {
  if (access == Access::kReadOnly) {
    try {
      impl_ = std::make_unique<Impl>(file, SQLite::OPEN_READONLY | SQLite::OPEN_NOMUTEX);
      open_read_only(impl_->db, file);
    } catch (const SQLite::Exception& e) {
      throw std::runtime_error(fmt::format("{}: {}", file.string(), e.what()));
    }
    return;
  }
  if (!is_memory(file)) {
    create_private_file(file);
  }
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
  if (impl_->writer_open) {
    throw std::logic_error("checkpoint: an extract writer is open");
  }
  try {
    // PASSIVE: copies what no reader still needs and never waits for one.
    impl_->db.exec("PRAGMA wal_checkpoint(PASSIVE)");
    return true;
  } catch (const SQLite::Exception& e) {
    const int code = e.getErrorCode() & 0xff;
    if (code == SQLITE_BUSY || code == SQLITE_LOCKED) {
      return false;  // another is checkpointing
    }
    throw;
  }
}

struct History::BackgroundCheckpoint::State {
  Impl* history = nullptr;  // whose automatic checkpoints are off until wait()
  std::thread thread;
  std::optional<std::string> error;  // written by `thread`, read after joining it
};

History::BackgroundCheckpoint History::checkpoint_in_background() {
  if (impl_->writer_open) {
    throw std::logic_error("checkpoint_in_background: an extract writer is open");
  }
  auto state = std::make_unique<BackgroundCheckpoint::State>();
  if (is_memory(impl_->file)) {
    checkpoint();  // no log to copy; another connection could not see this database anyway
    return BackgroundCheckpoint(std::move(state));
  }
  impl_->db.exec("PRAGMA wal_autocheckpoint = 0");
  state->history = impl_.get();
  try {
    state->thread = std::thread([state = state.get(), file = impl_->file] {
      try {
        SQLite::Database db(file, SQLite::OPEN_READWRITE | SQLite::OPEN_NOMUTEX);
        // PASSIVE: copies what no reader still needs, never waits, and leaves the log whole
        // when another connection is checkpointing already.
        db.exec("PRAGMA wal_checkpoint(PASSIVE)");
      } catch (const std::exception& e) {
        state->error = fmt::format("{}: {}", file.string(), e.what());
      }
    });
  } catch (...) {
    BackgroundCheckpoint(std::move(state)).wait();  // automatic checkpoints back on
    throw;
  }
  return BackgroundCheckpoint(std::move(state));
}

History::BackgroundCheckpoint::BackgroundCheckpoint(std::unique_ptr<State> state)
    : state_(std::move(state)) {}

History::BackgroundCheckpoint::BackgroundCheckpoint(BackgroundCheckpoint&& other) noexcept =
    default;

History::BackgroundCheckpoint& History::BackgroundCheckpoint::operator=(
    BackgroundCheckpoint&& other) noexcept {
  if (this != &other) {
    wait();
    state_ = std::move(other.state_);
  }
  return *this;
}

History::BackgroundCheckpoint::~BackgroundCheckpoint() { wait(); }

std::optional<std::string> History::BackgroundCheckpoint::wait() {
  if (!state_) {
    return std::nullopt;
  }
  if (state_->thread.joinable()) {
    state_->thread.join();
  }
  if (state_->history != nullptr) {
    try {
      state_->history->db.exec(fmt::format("PRAGMA wal_autocheckpoint = {}", kAutoCheckpointPages));
    } catch (const SQLite::Exception&) {
      // Only an out-of-memory error can fail a pragma; the connection is then unusable anyway.
    }
    state_->history = nullptr;
  }
  return std::exchange(state_->error, std::nullopt);
}

}  // namespace storage
