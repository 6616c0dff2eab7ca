// move_into over real folders, on one file system and across two (a tmpfs mounted in the test,
// as a council's inbox share is another mount than the archive): modes, names taken, and a move
// that a crash interrupted, completed by the next call without a second copy or a second ingest.
#include "daemon/files.h"

#include <sys/stat.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config/config.h"
#include "daemon/work/engine.h"
#include "storage/storage.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tmpfs.h"

namespace {

namespace fs = std::filesystem;
using test_support::read_file;
using test_support::TempDir;
using test_support::Tmpfs;

unsigned mode_of(const fs::path& file) {
  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    names.push_back(entry.path().filename());
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

TEST_CASE("move_into on one file system renames and sets mode 0640", "[files]") {
  TempDir dir;
  const fs::path file = dir.write("inbox/cases_2026-11-23.csv", "Case ID\nC1\n");
  ::chmod(file.c_str(), 0644);
  fs::create_directories(dir / "archive");

  const fs::path moved = service::move_into(file, dir / "archive");

  CHECK(moved == dir / "archive" / "cases_2026-11-23.csv");
  CHECK(!fs::exists(file));
  CHECK(read_file(moved) == "Case ID\nC1\n");
  CHECK(mode_of(moved) == 0640);
}

TEST_CASE("move_into keeps a different file of the same name and adds .1", "[files]") {
  TempDir dir;
  dir.write("archive/cases.csv", "older\n");
  const fs::path file = dir.write("inbox/cases.csv", "newer\n");

  const fs::path moved = service::move_into(file, dir / "archive");

  CHECK(moved == dir / "archive" / "cases.1.csv");
  CHECK(read_file(dir / "archive" / "cases.csv") == "older\n");
  CHECK(read_file(moved) == "newer\n");
}

TEST_CASE("move_into across file systems copies, syncs, renames into place and unlinks",
          "[files][tmpfs]") {
  TempDir dir;
  Tmpfs share(dir / "archive", "1m");
  CASEWATCH_REQUIRE_MOUNTED(share);
  const std::string bytes(100000, 'x');
  const fs::path file = dir.write("inbox/cases_2026-11-23.csv", bytes);
  ::chmod(file.c_str(), 0644);

  const fs::path moved = service::move_into(file, dir / "archive");

  CHECK(moved == dir / "archive" / "cases_2026-11-23.csv");
  CHECK(!fs::exists(file));
  CHECK(read_file(moved) == bytes);
  CHECK(mode_of(moved) == 0640);
  CHECK(names_in(dir / "archive") == std::vector<std::string>{"cases_2026-11-23.csv"});
}

TEST_CASE("a cross-file-system move interrupted by a crash completes on the next call",
          "[files][tmpfs]") {
  TempDir dir;
  Tmpfs share(dir / "archive", "1m");
  CASEWATCH_REQUIRE_MOUNTED(share);
  const fs::path archive = dir / "archive";

  SECTION("killed while copying: a partial .moving copy is replaced") {
    const fs::path file = dir.write("inbox/cases.csv", "Case ID\nC1\nC2\n");
    dir.write("archive/.cases.csv.moving", "Case ID\nC");
    const fs::path moved = service::move_into(file, archive);
    CHECK(moved == archive / "cases.csv");
    CHECK(read_file(moved) == "Case ID\nC1\nC2\n");
    CHECK(names_in(archive) == std::vector<std::string>{"cases.csv"});
    CHECK(!fs::exists(file));
  }
  SECTION("killed after the rename into place: the original is unlinked, no second copy") {
    const fs::path file = dir.write("inbox/cases.csv", "Case ID\nC1\nC2\n");
    dir.write("archive/cases.csv", "Case ID\nC1\nC2\n");
    const fs::path moved = service::move_into(file, archive);
    CHECK(moved == archive / "cases.csv");
    CHECK(names_in(archive) == std::vector<std::string>{"cases.csv"});
    CHECK(!fs::exists(file));
  }
}

TEST_CASE("a full destination fails the move naming the file, and leaves the original",
          "[files][tmpfs]") {
  TempDir dir;
  Tmpfs share(dir / "archive", "64k");
  CASEWATCH_REQUIRE_MOUNTED(share);
  const std::string bytes(200000, 'x');
  const fs::path file = dir.write("inbox/cases.csv", bytes);

  try {
    service::move_into(file, dir / "archive");
    FAIL("the move should have failed");
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    CHECK(what.find(file.string()) != std::string::npos);
    CHECK(what.find("No space left on device") != std::string::npos);
  }
  CHECK(read_file(file) == bytes);
  CHECK(names_in(dir / "archive").empty());
}

TEST_CASE("an extract whose archive is another file system is ingested once and archived once",
          "[files][tmpfs]") {
  TempDir dir;
  const config::Config config = config::parse_config(R"toml([service]
state_dir = "state"

[[source]]
name = "cases"
files = "cases*.csv"
key = ["Case ID"]
date_formats = ["%d/%m/%Y"]
[source.fields]
person = "Child ID"
opened = "Referral Date"
)toml",
                                                     dir / "casewatch.toml");
  service::prepare_state_dir(config);
  Tmpfs share(config.service.archive_dir(), "1m");
  CASEWATCH_REQUIRE_MOUNTED(share);
  const rules::Calendar calendar = config::load_calendar(config);
  storage::History history(config.service.database_file());
  service::Engine engine(config, calendar, history);
  const std::string bytes = "Case ID,Child ID,Referral Date\nC1,P1,01/11/2026\nC2,P2,02/11/2026\n";
  const fs::path inbox_file = config.service.inbox_dir() / "cases_2026-11-23.csv";
  std::ofstream(inbox_file, std::ios::binary) << bytes;

  const auto first = engine.run_cycle({}, {});
  REQUIRE(first.extracts.size() == 1);
  CHECK(first.extracts[0].info.status == storage::ExtractStatus::kIngested);
  CHECK(!fs::exists(inbox_file));
  CHECK(names_in(config.service.archive_dir()) == std::vector<std::string>{"cases_2026-11-23.csv"});

  // The state a kill leaves between renaming the copy into place and unlinking the original.
  std::ofstream(inbox_file, std::ios::binary) << bytes;
  const auto again = engine.run_cycle({}, {});
  REQUIRE(again.extracts.size() == 1);
  CHECK(again.extracts[0].info.id == first.extracts[0].info.id);
  CHECK(!fs::exists(inbox_file));
  CHECK(names_in(config.service.archive_dir()) == std::vector<std::string>{"cases_2026-11-23.csv"});
  CHECK(history.extracts().size() == 1);
}

TEST_CASE("start-up tightens a loose state folder and removes stale temporary files", "[files]") {
  TempDir dir;
  const config::Config config =
      config::parse_config("[service]\nstate_dir = \"state\"\n", dir / "casewatch.toml");
  fs::create_directories(config.service.reports_dir() / "2026-W48");
  ::chmod(config.service.state_dir.c_str(), 0777);
  ::chmod(config.service.reports_dir().c_str(), 0755);
  dir.write("state/reports/2026-W48/.review.html.tmp", "<html><body>half");
  dir.write("state/reports/2026-W48/review.txt", "whole");
  dir.write("state/archive/.cases.csv.moving", "Case ID\nC");
  dir.write("state/archive/cases.csv", "Case ID\nC1\n");

  service::prepare_state_dir(config);

  // The state folder keeps others' traverse bit, as shipped (0751: the drop group reaches the
  // inbox by path); nothing else of "others" stays.
  CHECK(mode_of(config.service.state_dir) == 0751);
  CHECK(mode_of(config.service.reports_dir()) == 0750);
  CHECK(mode_of(config.service.inbox_dir()) == 0750);
  CHECK(names_in(config.service.reports_dir() / "2026-W48") ==
        std::vector<std::string>{"review.txt"});
  CHECK(names_in(config.service.archive_dir()) == std::vector<std::string>{"cases.csv"});
}

TEST_CASE("start-up keeps the shipped inbox writable by the drop group and tightens the rest",
          "[files]") {
  TempDir dir;
  const config::Config config =
      config::parse_config("[service]\nstate_dir = \"state\"\n", dir / "casewatch.toml");
  fs::create_directories(config.service.inbox_dir());
  fs::create_directories(config.service.archive_dir());
  ::chmod(config.service.state_dir.c_str(), 0751);
  ::chmod(config.service.inbox_dir().c_str(), 03770);  // systemd/casewatch.tmpfiles
  ::chmod(config.service.archive_dir().c_str(), 0770);

  service::prepare_state_dir(config);

  CHECK(mode_of(config.service.state_dir) == 0751);
  CHECK(mode_of(config.service.inbox_dir()) == 03770);
  CHECK(mode_of(config.service.archive_dir()) == 0750);

  ::chmod(config.service.inbox_dir().c_str(), 03777);  // others: never
  service::prepare_state_dir(config);
  CHECK(mode_of(config.service.inbox_dir()) == 03770);
}
