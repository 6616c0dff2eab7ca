// History's private state and helpers shared by storage's .cpp files (internal to storage).
#ifndef CASEWATCH_STORAGE_IMPL_H_
#define CASEWATCH_STORAGE_IMPL_H_

#include <SQLiteCpp/SQLiteCpp.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/storage.h"

namespace storage {

struct History::Impl {
  Impl(const std::filesystem::path& file, int flags) : file(file), db(file, flags) {}

  std::filesystem::path file;
  SQLite::Database db;
  bool writer_open = false;  // an ExtractWriter holds the write transaction

  // The id of source `name`; creates it when `create`, else returns nullopt when unknown.
  std::optional<std::int64_t> source_id(std::string_view name, bool create);
  // The values of the current version of (source, key), if any.
  std::optional<rules::Record> current_record(std::string_view source, std::string_view key);
  // Calls visit(id, key, data) for each current version of source `source` (not ended), found
  // from the versions themselves: records, then record_blocks. For when there is no snapshot.
  void for_each_current_version(
      std::int64_t source,
      const std::function<void(std::int64_t, std::string_view, std::string_view)>& visit);
  // The records.id of every version whose key hashes like `key` (other keys' too, rarely).
  std::vector<std::int64_t> record_ids(std::int64_t source, std::string_view key);
  // Every version of (source, key), oldest first, with the extracts that began and ended it.
  struct Version {
    rules::Record record;
    std::int64_t valid_from = 0;
    std::optional<std::int64_t> valid_to;
    rules::Date from;
    std::optional<rules::Date> to;
  };
  std::vector<Version> versions(std::string_view source, std::string_view key);
  // Field `field` of each record version in `ids` (in that order); "" for one not found or
  // without the field.
  std::vector<std::string> version_fields(const std::vector<std::int64_t>& ids, std::size_t field);
};

// Stores that `key`, on `line` of extract `extract_id`, now belongs to a different person.
void insert_person_change(SQLite::Database& db, std::int64_t extract_id, std::string_view key,
                          std::size_t line);

// rules::State <-> its stored code ("breach", "overdue", "due_soon", "untrusted", "data_problem").
std::string_view state_code(rules::State state);
rules::State state_from(std::string_view code);

// Inserts the extracts row of `info` with `status` and `problems`; returns its id.
std::int64_t insert_extract(SQLite::Database& db, const ExtractInfo& info, ExtractStatus status,
                            std::size_t problems);

class KeyTable;
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
                                            std::int64_t latest, KeyTable& table);

// Record values <-> the compact blob stored in records.data: each value as a varint length
// followed by its bytes.
std::string encode_values(const std::vector<std::string>& values);
void encode_values(const std::vector<std::string>& values, std::string& out);  // reuses `out`
std::vector<std::string> decode_values(const void* data, std::size_t size);
// The same as views into `data`, into `values` (cleared first; reused, so no allocation per
// record).
void decode_values(const void* data, std::size_t size, std::vector<std::string_view>& values);
// A 64-bit hash of `bytes`, defined byte by byte and stable across builds (it is stored: in
// records.hash, snapshots and the key index).
std::uint64_t content_hash(std::string_view bytes);

// Binds text; an empty optional date binds NULL.
void bind_date(SQLite::Statement& statement, int index, const std::optional<rules::Date>& date);
// Reads an ISO date column; NULL or malformed -> nullopt.
std::optional<rules::Date> column_date(const SQLite::Column& column);
// Reads an ISO date column that must be present (throws std::runtime_error otherwise).
rules::Date required_date(const SQLite::Column& column);

}  // namespace storage

#endif  // CASEWATCH_STORAGE_IMPL_H_
