// History::ExtractBatch: several extracts (a workbook's lists, an SSDA903 set) in one
// transaction, stored together or not at all, also when the process is killed between them.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "storage/storage.h"
#include "tests/storage/storage_test_support.h"
#include "tests/support/temp_dir.h"

using storage_test::case_record;
using storage_test::date;
using storage_test::extract_info;
using storage_test::ingest;

namespace {

// Writes `records` as the batch's next extract of `source` and finishes it inside the batch.
std::int64_t add_part(storage::History::ExtractBatch& batch, const std::string& source,
                      const std::vector<rules::Record>& records) {
  auto writer = batch.begin_extract(extract_info(source, date(2026, 11, 9), "sha-" + source));
  for (const auto& record : records) {
    writer.add(record);
  }
  return writer.commit(records.size());
}

}  // namespace

TEST_CASE("a batch stores its extracts together, each pending evaluation", "[storage][batch]") {
  storage::History history(":memory:");
  ingest(history, "list-6", date(2026, 11, 2), {case_record("C1", "")});
  auto batch = history.begin_batch();
  const auto a = add_part(batch, "list-4", {case_record("A1", "J Smith")});
  const auto b = add_part(batch, "list-6", {case_record("C1", "J Smith"), case_record("C2", "")});
  batch.commit();

  CHECK(history.extracts().size() == 3);
  CHECK(history.latest_extract("list-4")->id == a);
  CHECK(history.latest_extract("list-6")->id == b);
  CHECK(history.current_records("list-4") ==
        std::vector<rules::Record>{case_record("A1", "J Smith")});
  CHECK(history.current_records("list-6") ==
        std::vector<rules::Record>{case_record("C1", "J Smith"), case_record("C2", "")});
  CHECK(history.record_history("list-6", "C1").size() == 2);
  const auto pending = history.pending_evaluations();
  REQUIRE(pending.size() == 3);  // the earlier single extract too: never evaluated here
  CHECK(pending[1].id == a);
  CHECK(pending[2].id == b);
}

TEST_CASE("a batch destroyed without commit stores none of its extracts", "[storage][batch]") {
  storage::History history(":memory:");
  ingest(history, "list-6", date(2026, 11, 2), {case_record("C1", "")});
  {
    auto batch = history.begin_batch();
    add_part(batch, "list-4", {case_record("A1", "J Smith")});
    add_part(batch, "list-6", {case_record("C1", "J Smith")});
  }
  CHECK(history.extracts().size() == 1);
  CHECK_FALSE(history.latest_extract("list-4"));
  CHECK(history.current_records("list-6") == std::vector<rules::Record>{case_record("C1", "")});
  CHECK(history.pending_evaluations().size() == 1);
  // The database is usable again.
  ingest(history, "list-4", date(2026, 11, 9), {case_record("A1", "")});
  CHECK(history.extracts().size() == 2);
}

TEST_CASE("a batch whose writer was not committed refuses to commit", "[storage][batch]") {
  storage::History history(":memory:");
  {
    auto batch = history.begin_batch();
    add_part(batch, "list-4", {case_record("A1", "J Smith")});
    {
      auto writer = batch.begin_extract(extract_info("list-6", date(2026, 11, 9), "x"));
      writer.add(case_record("C1", ""));
      CHECK_THROWS_AS(batch.begin_extract(extract_info("list-7", date(2026, 11, 9), "y")),
                      std::logic_error);
    }  // destroyed without commit: the batch is spoiled
    CHECK_THROWS_AS(batch.commit(), std::logic_error);
  }
  CHECK(history.extracts().empty());
}

TEST_CASE("no other writer or batch starts while a batch is open", "[storage][batch]") {
  storage::History history(":memory:");
  auto batch = history.begin_batch();
  CHECK_THROWS_AS(history.begin_extract(extract_info("cases", date(2026, 11, 2), "a")),
                  std::logic_error);
  CHECK_THROWS_AS(history.begin_batch(), std::logic_error);
}

TEST_CASE("a batch is one transaction: another connection sees none of it before its commit",
          "[storage][batch]") {
  test_support::TempDir dir;
  const auto file = dir / "casewatch.db";
  storage::History history(file);
  const storage::History reader(file);
  auto batch = history.begin_batch();
  add_part(batch, "list-4", {case_record("A1", "")});
  add_part(batch, "list-6", {case_record("C1", "")});
  CHECK(reader.extracts().empty());  // both extracts finished, neither visible
  batch.commit();
  CHECK(reader.extracts().size() == 2);
}

TEST_CASE("a process killed inside a batch leaves none of its extracts stored",
          "[storage][batch]") {
  test_support::TempDir dir;
  const auto file = dir / "casewatch.db";
  { storage::History created(file); }
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // Two extracts finished inside the batch, then killed before the batch commits.
    storage::History history(file);
    auto batch = history.begin_batch();
    add_part(batch, "list-4", {case_record("A1", "")});
    add_part(batch, "list-6", {case_record("C1", "")});
    const char byte = 'k';
    if (::write(ready[1], &byte, 1) != 1) {
      ::_exit(2);
    }
    ::pause();  // the parent kills it here
    ::_exit(3);
  }
  ::close(ready[1]);
  char byte = 0;
  REQUIRE(::read(ready[0], &byte, 1) == 1);
  ::close(ready[0]);
  REQUIRE(::kill(child, SIGKILL) == 0);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WIFSIGNALED(status));

  const storage::History history(file);
  CHECK(history.extracts().empty());
  CHECK(history.pending_evaluations().empty());
  CHECK(history.current_records("list-4").empty());
}
