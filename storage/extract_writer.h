// The extract writer: how one extract's records reach the database, in one transaction.
//
// The protocol (the only place it is described):
// 1. History::begin_extract(info) opens the writer. It holds SQLite's write lock (BEGIN
//    IMMEDIATE) until commit() or destruction; destroying it without commit() rolls everything
//    back. Its History must not be used for anything else meanwhile, and outlives it.
// 2. Records go in, compared with the source's current snapshot: an unchanged record is not
//    rewritten, a changed one ends its old version and gets a new one, a new key is inserted.
//    Either add() (simple; one thread), or the same work split between two threads:
//    - the snapshot side (reader thread): match_row(row_hash, line) for a raw row, which may
//      tell the caller to skip an unchanged row unparsed; then, for each parsed record, in file
//      order, prepare_record() (no database) and classify(), which decides its Action;
//    - the writing side (writer thread): write() carries out the classified actions.
//    Each side is used from one thread at a time; both sides finish before step 3.
// 3. add_problem() for each row problem, set_sha256() once the file is hashed, then
//    commit(rows): the records not added are ended (vanished), the snapshot and key index are
//    written and the extract is marked ingested. A key added twice makes commit() refuse
//    (std::logic_error; ingest rejects such a file once it has read it).
// A batch (History::begin_batch) holds one transaction for several extracts: its
// begin_extract() opens writers one after another, each used as above; a writer's commit() then
// finishes its extract inside the batch, and only the batch's commit() makes them all durable
// together. Destroying the batch without commit() rolls every one of them back.
#ifndef CASEWATCH_STORAGE_EXTRACT_WRITER_H_
#define CASEWATCH_STORAGE_EXTRACT_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rules/rules.h"
#include "storage/history.h"
#include "storage/values.h"

namespace storage {

// A record encoded as the extract writer stores it. Preparing is a good part of the writer's own
// work per record and needs no database, so a caller may prepare records on another thread.
struct PreparedRecord {
  std::string key;
  std::string data;                // the values, encoded
  std::uint64_t key_hash = 0;      // of key
  std::uint64_t content_hash = 0;  // of data
  // The hash of the raw row the record was read from (ingest's ExtractReader::row_hash()), or 0.
  // Stored with the snapshot, so that the next extract can recognise the same row unparsed
  // (ExtractWriter::match_row). Set by the caller; prepare_record() leaves it alone.
  std::uint64_t row_hash = 0;
  std::size_t line = 0;  // where the row starts in its file (for repeated keys); 0 = unknown

  // What the writer does with it, decided by ExtractWriter::classify().
  enum class Action {
    kInsert,   // a new key: a new record
    kReplace,  // a changed record: ends version `replaces`, inserts a new one
    kKeep,     // unchanged: nothing written
    kRepeat,   // the key was already added to this extract: nothing written
  };
  Action action = Action::kInsert;
  std::int64_t replaces = 0;  // kReplace: the version it ends
  // kRepeat: the line of the earlier row with this key when that row was matched by
  // match_row() (not read, so the caller's reader does not know it repeats); else 0.
  std::size_t repeats_skipped_line = 0;
  bool repeats_same_values = false;  // kRepeat: the earlier record had the same values
};
// Fills `out` from `record`, reusing its buffers. Thread-safe (touches only its arguments).
void prepare_record(const rules::Record& record, PreparedRecord& out);
// Adds `record`'s key and values to `view`, as History::current_view() would read the record
// back once stored; `values` is scratch space, reused between calls.
void add_to_view(const PreparedRecord& record, rules::RecordViewBuilder& view,
                 std::vector<std::string_view>& values);

class History::ExtractBatch {
 public:
  ~ExtractBatch();  // rolls back every extract of the batch unless committed
  ExtractBatch(ExtractBatch&&) noexcept;

  // Opens the writer of the batch's next extract, inside the batch's transaction. REQUIRES: the
  // previous writer is committed or destroyed (else std::logic_error); the writer does not
  // outlive the batch. A writer destroyed without commit() spoils the batch: its commit() then
  // refuses, and the batch must be destroyed (nothing is stored).
  ExtractWriter begin_extract(const ExtractInfo& info);
  // Commits the transaction: every extract whose writer committed is stored, each marked
  // evaluation-pending, all at once. Throws std::logic_error when a writer of the batch was not
  // committed (nothing is stored). After it, the batch is spent.
  void commit();

 private:
  friend class History;
  friend class ExtractWriter;
  struct Impl;
  explicit ExtractBatch(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class History::ExtractWriter {
 public:
  ~ExtractWriter();
  ExtractWriter(ExtractWriter&&) noexcept;
  // A key added twice is not an error here (ingest rejects such a file once it has read it,
  // and destroys the writer), but commit() then refuses with std::logic_error.
  void add(const rules::Record& record);
  // add() for each record in turn; faster for many (the snapshot lookups overlap).
  void add(std::span<const rules::Record> records);
  // The same for records prepared with prepare_record().
  void add(std::span<const PreparedRecord> records);

  // add() split in two, for a reader thread and a writing thread. The snapshot side
  // (match_row, classify) and the writing side (write) may run on different threads at the
  // same time; each side is used from one thread at a time, and both are done before
  // add_problem/set_sha256/commit.
  //
  // Snapshot side. A row whose raw hash is `row_hash` (not 0), starting on `line`: kUnknown
  // when no current record was stored from those exact bytes (the caller reads the row);
  // kUnchanged when one was (the record is kept as it is, unparsed: the caller skips the
  // row); kRepeat when that record's row was already matched in this extract, on first_line.
  struct RowMatch {
    enum class Kind { kUnknown, kUnchanged, kRepeat };
    Kind kind = Kind::kUnknown;
    std::size_t first_line = 0;
  };
  RowMatch match_row(std::uint64_t row_hash, std::size_t line);
  // Decides record.action (and replaces, repeats_skipped_line) against the snapshot and marks
  // the key as added. Records must be classified in file order, each once.
  void classify(PreparedRecord& record);
  // Writing side: carries out the actions of classified records.
  void write(std::span<const PreparedRecord> records);

  // Why the source's stored snapshot could not be used (it was damaged), or nullopt. The
  // writer then read the current records instead, so nothing is lost; only unchanged rows
  // cannot be skipped this once. commit() stores a new snapshot.
  const std::optional<std::string>& snapshot_problem() const;

  // Person changes (a data-quality item). watch_field(i), before any record is added: the
  // writer keeps field i of each changed record. field_changes(), before commit(): the keys whose
  // field i differs from the version they replace (the caller judges the difference), with the
  // line of the new row; add_person_change() stores one for the review (History::person_changes).
  struct FieldChange {
    std::string key;
    std::size_t line = 0;
    std::string before;
    std::string after;
  };
  void watch_field(std::size_t field);
  std::vector<FieldChange> field_changes();
  void add_person_change(std::string_view key, std::size_t line);

  void add_problem(const rules::Problem& problem);
  // Sets the extract's content hash when it was not known at begin_extract (the caller
  // hashes the file while it is read). Until then the extract's hash is info.sha256.
  void set_sha256(std::string_view sha256);
  // Ends the versions of records not added (vanished), marks the extract ingested with its
  // row and problem counts, commits, and returns its id. After it, the writer is spent.
  // Throws std::logic_error when a key was added twice (nothing is stored).
  // In a batch: finishes the extract inside the batch's transaction, which the batch commits.
  std::int64_t commit(std::size_t rows);

 private:
  friend class History;
  friend class ExtractBatch;
  struct Impl;
  explicit ExtractWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace storage

#endif  // CASEWATCH_STORAGE_EXTRACT_WRITER_H_
