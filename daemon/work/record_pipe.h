// The two threads of one extract's ingest: RecordPipe carries records from the reader's thread to
// the writer (the ingesting thread) in batches; ParseThread runs the reader; write_rows runs the
// two. Internal to daemon/work (engine_ingest.cpp).
#ifndef CASEWATCH_DAEMON_WORK_RECORD_PIPE_H_
#define CASEWATCH_DAEMON_WORK_RECORD_PIPE_H_

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "ingest/ingest.h"
#include "rules/rules.h"
#include "storage/storage.h"

namespace service {

// Carries records from the reader's thread to the writer (the calling thread) in batches. At
// most kBatchesInFlight batches exist, so memory stays flat however long the file; batches are
// handed back to the reader and reused, so their strings keep their capacity.
class RecordPipe {
 public:
  struct Batch {
    // Records to write (the first `size`), prepared and classified on the reader's thread:
    // that takes the work off the writer's, the pipeline's slower side.
    std::vector<storage::PreparedRecord> prepared;
    std::size_t size = 0;
  };
  static constexpr std::size_t kBatchRecords = 1024;
  static constexpr std::size_t kBatchesInFlight = 4;

  // Reader side: an empty batch to fill; waits while every batch is in flight. nullopt when
  // the writer has given up (cancel()).
  std::optional<Batch> take_empty() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return cancelled_ || !spare_.empty() || made_ < kBatchesInFlight; });
    if (cancelled_) {
      return std::nullopt;
    }
    if (!spare_.empty()) {
      Batch batch = std::move(spare_.back());
      spare_.pop_back();
      batch.size = 0;
      return batch;
    }
    ++made_;
    Batch batch;
    batch.prepared.resize(kBatchRecords);
    return batch;
  }
  void push(Batch batch) {
    std::lock_guard lock(mutex_);
    full_.push_back(std::move(batch));
    changed_.notify_all();
  }
  // Reader side: no more batches (after the last record, or after a failure).
  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    changed_.notify_all();
  }
  // Writer side: the next full batch, or nullopt once the reader has closed and all are taken.
  std::optional<Batch> pop() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return closed_ || !full_.empty(); });
    if (full_.empty()) {
      return std::nullopt;
    }
    Batch batch = std::move(full_.front());
    full_.pop_front();
    return batch;
  }
  void give_back(Batch batch) {
    std::lock_guard lock(mutex_);
    spare_.push_back(std::move(batch));
    changed_.notify_all();
  }
  // Writer side: stop the reader (it sees nullopt from take_empty()).
  void cancel() {
    std::lock_guard lock(mutex_);
    cancelled_ = true;
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Batch> full_;
  std::vector<Batch> spare_;
  std::size_t made_ = 0;
  bool closed_ = false;
  bool cancelled_ = false;
};

// Runs `reader` to its end on its own thread, feeding `pipe` with the records `writer` must
// write. This thread is the writer's snapshot side: it offers each row's raw hash to
// writer.match_row() (an unchanged row is skipped unparsed) and classifies each record read
// (an unchanged record is not passed on). The destructor cancels and joins, so no path out of
// ingest_file leaves the thread running; wait() joins and rethrows what the reader threw (an
// unreadable file). kept_any(): whether a row was kept as it was stored with an earlier extract
// (skipped unparsed, or parsed with the same values), so that the records passed on are not the
// source's whole snapshot; final once wait() has returned.
class ParseThread {
 public:
  ParseThread(ingest::Reader& reader, storage::History::ExtractWriter& writer, RecordPipe& pipe)
      : pipe_(pipe), thread_([this, &reader, &writer] { run(reader, writer); }) {}
  ~ParseThread() {
    if (thread_.joinable()) {
      pipe_.cancel();
      thread_.join();
    }
  }
  ParseThread(const ParseThread&) = delete;
  ParseThread& operator=(const ParseThread&) = delete;

  bool kept_any() const { return kept_.load(std::memory_order_relaxed); }

  void wait() {
    thread_.join();
    if (error_) {
      std::rethrow_exception(error_);
    }
  }

 private:
  void run(ingest::Reader& reader, storage::History::ExtractWriter& writer) {
    try {
      read_all(reader, writer);
    } catch (...) {
      error_ = std::current_exception();
    }
    pipe_.close();
  }

  void read_all(ingest::Reader& reader, storage::History::ExtractWriter& writer) {
    using Action = storage::PreparedRecord::Action;
    using Match = storage::History::ExtractWriter::RowMatch::Kind;
    const ingest::RowFilter filter = [this, &writer](std::uint64_t row_hash, std::size_t line) {
      const auto match = writer.match_row(row_hash, line);
      if (match.kind != Match::kUnknown) {
        kept_.store(true, std::memory_order_relaxed);
      }
      switch (match.kind) {
        case Match::kUnchanged:
          return ingest::RowCheck{ingest::RowCheck::Kind::kSkip, 0};
        case Match::kRepeat:
          return ingest::RowCheck{ingest::RowCheck::Kind::kRepeat, match.first_line};
        case Match::kUnknown:
          break;
      }
      return ingest::RowCheck{};
    };
    rules::Record record;
    bool more = true;
    while (more) {
      auto batch = pipe_.take_empty();
      if (!batch) {
        return;  // the writer failed: stop reading
      }
      while (batch->size < batch->prepared.size() && (more = reader.next(record, filter))) {
        storage::PreparedRecord& prepared = batch->prepared[batch->size];
        storage::prepare_record(record, prepared);
        prepared.row_hash = reader.row_hash();
        prepared.line = reader.line();
        writer.classify(prepared);
        if (prepared.action == Action::kRepeat && prepared.repeats_skipped_line != 0) {
          // Its key's first row was skipped unparsed, so the reader has not seen the repeat:
          // the same values again (a copy of that row) are a repeated row, others a repeated key.
          if (prepared.repeats_same_values) {
            reader.add_repeated_row(prepared.repeats_skipped_line);
          } else {
            reader.add_repeated_key(prepared.key, prepared.repeats_skipped_line, prepared.line);
          }
        }
        if (prepared.action == Action::kInsert || prepared.action == Action::kReplace) {
          ++batch->size;
        } else if (prepared.action == Action::kKeep) {
          kept_.store(true, std::memory_order_relaxed);
        }
      }
      pipe_.push(std::move(*batch));
    }
  }

  RecordPipe& pipe_;
  std::atomic<bool> kept_{false};
  std::exception_ptr error_;
  std::thread thread_;  // last: starts once the members it uses exist
};

// The first row of a file when it was read before the writer existed (to find the as-of date).
struct FirstRow {
  const rules::Record* record = nullptr;
  std::uint64_t row_hash = 0;
  std::size_t line = 0;
};

// Writes `first` (or nullptr), then every row `reader` reads on a ParseThread, with `writer` on
// the calling thread. `view`, when it holds a builder, gets every record written, in the order
// the stored snapshot gives them back: while every row is stored anew (a source's first extract,
// or one in which every row changed), that is the source's whole snapshot, and the evaluation
// need not read it back from the database. A row kept as an earlier extract stored it resets
// `view`. Rethrows what the reader threw (an unreadable file); the caller's batch rolls back.
void write_rows(ingest::Reader& reader, storage::History::ExtractWriter& writer,
                const FirstRow* first, std::optional<rules::RecordViewBuilder>& view);

}  // namespace service

#endif  // CASEWATCH_DAEMON_WORK_RECORD_PIPE_H_
