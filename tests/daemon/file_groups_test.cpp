// One file, several sources (issue 15 item 2), through Engine::run_cycle over real files and a
// real SQLite database: an Annex A workbook feeds one source per list and an SSDA903 set's files
// of one as-of date are ingested together, in one transaction and one archive move; a part that
// fails rejects its whole group, with the reason naming it.
#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "config/config.h"
#include "daemon/work/engine.h"
#include "storage/storage.h"
#include "tests/support/temp_dir.h"
#include "tests/support/workbook.h"

namespace {

namespace fs = std::filesystem;
using test_support::XlsxCell;
using test_support::XlsxSheet;

constexpr const char* kConfig = R"toml([service]
state_dir = "state"

[[source]]
name = "assessments"
profile = "annex-a/list-4"
files = "annex-a*.xlsx"

[[source]]
name = "children-in-need"
profile = "annex-a/list-6"
files = "annex-a*.xlsx"

[[rule]]
id = "unallocated"
kind = "unallocated"
source = "children-in-need"
open_values = ["Open"]
over_days = 28

[[source]]
name = "social-workers"
profile = "ssda903/social-workers"
files = "*sw*episodes*.csv"
set = "ssda903"

[[source]]
name = "episodes"
profile = "ssda903/episodes"
files = "*episodes*.csv"
set = "ssda903"

[[source]]
name = "reviews"
profile = "ssda903/reviews"
files = "*reviews*.csv"
set = "ssda903"
)toml";

// A state folder with kConfig: its configuration, calendar, database and engine.
struct Setup {
  test_support::TempDir dir;
  const config::Config config = config::parse_config(kConfig, dir / "casewatch.toml");
  const rules::Calendar calendar = [this] {
    service::prepare_state_dir(config);
    return config::load_calendar(config);
  }();
  storage::History history{config.service.database_file()};
  service::Engine engine{config, calendar, history};

  fs::path inbox(const std::string& name) const { return config.service.inbox_dir() / name; }
  fs::path archived(const std::string& name) const { return config.service.archive_dir() / name; }
  fs::path rejected(const std::string& name) const { return config.service.rejected_dir() / name; }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(inbox(name), std::ios::binary) << text;
  }
  // Runs SQL on the database through a connection of its own.
  void sql(const std::string& statement) const {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(config.service.database_file().c_str(), &db) == SQLITE_OK);
    char* error = nullptr;
    const int rc = sqlite3_exec(db, statement.c_str(), nullptr, nullptr, &error);
    const std::string message = error != nullptr ? error : "";
    sqlite3_free(error);
    sqlite3_close(db);
    REQUIRE(rc == SQLITE_OK);
    CHECK(message.empty());
  }
};

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// List 4 of the 2024 template, with the title row above its header: two assessments.
XlsxSheet list_4() {
  return XlsxSheet("List 4", {{"List 4: Assessments"},
                              {"Child Unique ID", "Continuous Assessment Start Date",
                               "Continuous Assessment Date of Authorisation", "Allocated Team",
                               "Allocated Worker"},
                              {"A1", "01/10/2026", "", "Team A", "J Smith"},
                              {"A2", "05/10/2026", "20/10/2026", "Team A", "J Smith"}});
}

// List 6: three open cases, two without a worker. `id_header` names the key column.
XlsxSheet list_6(const std::string& id_header = "Child Unique ID",
                 const std::string& third_id = "C3") {
  return XlsxSheet("List 6 - Children in Need",
                   {{id_header, "CIN Start Date", "CIN Closure Date", "Case Status",
                     "Date Child Was Last Seen", "Allocated Team", "Allocated Worker"},
                    {"C1", "01/09/2026", "", "Open", "", "Team A", ""},
                    {"C2", "01/09/2026", "", "Open", "", "Team A", "J Smith"},
                    {third_id, "01/10/2026", "", "Open", "", "Team A", ""}});
}

const std::string kEpisodes =
    "CHILD,DECOM,RNE,LS,PLACE,REC,DEC\n"
    "101,01/04/2025,S,C2,U1,,\n"
    "102,01/06/2025,S,C2,U1,,\n";
const std::string kReviews =
    "CHILD,REVIEW,REVIEW_CODE\n"
    "101,20/04/2025,PN1\n";
const std::string kSocialWorkers =
    "CHILD,SW_ID,SW_DECOM,SW_DEC,SW_REASON\n"
    "101,SW1,01/04/2025,,\n";

bool ingested(const service::ExtractOutcome& outcome) {
  return outcome.info.status == storage::ExtractStatus::kIngested;
}

}  // namespace

TEST_CASE("a workbook feeds each list's source in one commit and one archive move",
          "[engine][groups]") {
  Setup setup;
  test_support::write_workbook(setup.inbox("annex-a_2026-11-23.xlsx"), {list_4(), list_6()});

  const auto cycle = setup.engine.run_cycle();

  REQUIRE(cycle.extracts.size() == 2);
  const auto& assessments = cycle.extracts[0];
  const auto& children = cycle.extracts[1];
  CHECK(assessments.info.source == "assessments");
  CHECK(children.info.source == "children-in-need");
  for (const auto* outcome : {&assessments, &children}) {
    CHECK(ingested(*outcome));
    CHECK(outcome->info.file == "annex-a_2026-11-23.xlsx");
    CHECK(outcome->info.as_of == *rules::Date::from_ymd(2026, 11, 23));
    CHECK(outcome->moved_to == setup.archived("annex-a_2026-11-23.xlsx"));
  }
  CHECK(assessments.info.rows == 2);
  CHECK(children.info.rows == 3);
  CHECK(fs::exists(setup.archived("annex-a_2026-11-23.xlsx")));
  CHECK(fs::is_empty(setup.config.service.inbox_dir()));
  CHECK(setup.history.latest_extract("assessments")->id == assessments.info.id);
  CHECK(setup.history.latest_extract("children-in-need")->id == children.info.id);
  CHECK(setup.history.pending_evaluations().empty());
  REQUIRE(cycle.outcomes.size() == 1);                        // the unallocated rule, once
  CHECK(setup.history.open_findings("unallocated").empty());  // since at least today: 0 days
  CHECK(cycle.incomplete_sets.empty());

  SECTION("the same workbook again is a duplicate for each of its sources") {
    fs::copy_file(setup.archived("annex-a_2026-11-23.xlsx"),
                  setup.inbox("annex-a_2026-11-30.xlsx"));
    const auto again = setup.engine.run_cycle();
    REQUIRE(again.extracts.size() == 2);
    for (const auto& outcome : again.extracts) {
      CHECK(outcome.info.status == storage::ExtractStatus::kDuplicate);
      CHECK(outcome.info.error ==
            "the same content as annex-a_2026-11-23.xlsx (source assessments, as of 2026-11-23), "
            "ingested at " +
                assessments.info.handled_at);
      CHECK(outcome.moved_to == setup.rejected("annex-a_2026-11-30.xlsx"));
    }
    CHECK(setup.history.latest_extract("assessments")->id == assessments.info.id);
  }
}

TEST_CASE("a list that fails rejects the whole workbook, and the reason names the list",
          "[engine][groups]") {
  Setup setup;
  std::string expected_why;
  SECTION("a header without the key column") {
    test_support::write_workbook(setup.inbox("annex-a_2026-11-23.xlsx"),
                                 {list_4(), list_6("Child Ref")});
    expected_why =
        "List 6 (source children-in-need): sheet 'List 6 - Children in Need' has no header row "
        "in its first";
  }
  SECTION("a repeated key, found after List 4 was written") {
    test_support::write_workbook(setup.inbox("annex-a_2026-11-23.xlsx"),
                                 {list_4(), list_6("Child Unique ID", "C1")});
    expected_why =
        "List 6 (source children-in-need): key 'C1' appears on lines 2 and 4. A file that feeds "
        "several sources is ingested for all of them or for none";
  }
  SECTION("a missing list") {
    test_support::write_workbook(setup.inbox("annex-a_2026-11-23.xlsx"), {list_4()});
    expected_why =
        "List 6 (source children-in-need): the workbook has no sheet 'List 6' (its sheets: List "
        "4). A file that feeds several sources is ingested for all of them or for none";
  }

  const auto cycle = setup.engine.run_cycle();

  REQUIRE(cycle.extracts.size() == 2);
  for (const auto& outcome : cycle.extracts) {
    CAPTURE(outcome.info.source, outcome.info.error);
    CHECK(outcome.info.status == storage::ExtractStatus::kRejected);
    CHECK(outcome.info.error.rfind(expected_why, 0) == 0);
    CHECK(outcome.moved_to == setup.rejected("annex-a_2026-11-23.xlsx"));
  }
  // Nothing of either list is stored; both refusals are.
  CHECK_FALSE(setup.history.latest_extract("assessments"));
  CHECK_FALSE(setup.history.latest_extract("children-in-need"));
  CHECK(setup.history.extracts().size() == 2);
  CHECK(setup.history.pending_evaluations().empty());
  const std::string reason = read_text(setup.rejected("annex-a_2026-11-23.xlsx.reason.txt"));
  CHECK(reason.find("Sources: List 4 (source assessments), List 6 (source children-in-need)\n") !=
        std::string::npos);
  CHECK(reason.find("Why: " + expected_why) != std::string::npos);
  CHECK(reason.find("Nothing from this file was stored.") != std::string::npos);
}

TEST_CASE("an SSDA903 set's files of one date are ingested together", "[engine][groups]") {
  Setup setup;
  setup.write("episodes_2026-03-31.csv", kEpisodes);
  setup.write("reviews_2026-03-31.csv", kReviews);

  SECTION("complete") {
    setup.write("sw_episodes_2026-03-31.csv", kSocialWorkers);
    const auto cycle = setup.engine.run_cycle();
    REQUIRE(cycle.extracts.size() == 3);
    CHECK(cycle.extracts[0].info.source == "social-workers");
    CHECK(cycle.extracts[1].info.source == "episodes");
    CHECK(cycle.extracts[2].info.source == "reviews");
    for (const auto& outcome : cycle.extracts) {
      CAPTURE(outcome.info.file, outcome.info.error);
      CHECK(ingested(outcome));
      CHECK(outcome.info.as_of == *rules::Date::from_ymd(2026, 3, 31));
      CHECK(fs::exists(setup.archived(outcome.info.file)));
    }
    CHECK(cycle.incomplete_sets.empty());
  }

  SECTION("without its social worker episodes: the files present are ingested, and it is said") {
    const auto cycle = setup.engine.run_cycle();
    REQUIRE(cycle.extracts.size() == 2);
    CHECK(ingested(cycle.extracts[0]));
    CHECK(ingested(cycle.extracts[1]));
    REQUIRE(cycle.incomplete_sets.size() == 1);
    const auto& incomplete = cycle.incomplete_sets[0];
    CHECK(incomplete.set == "ssda903");
    CHECK(incomplete.as_of == *rules::Date::from_ymd(2026, 3, 31));
    CHECK(incomplete.files ==
          std::vector<std::string>{"episodes_2026-03-31.csv", "reviews_2026-03-31.csv"});
    CHECK(incomplete.missing == std::vector<std::string>{"social-workers"});
  }

  SECTION("with a bad file: every file of the set is rejected, the reason naming it") {
    setup.write("sw_episodes_2026-03-31.csv", "CHILD,SW_ID\n101,SW1\n");
    const auto cycle = setup.engine.run_cycle();
    REQUIRE(cycle.extracts.size() == 3);
    for (const auto& outcome : cycle.extracts) {
      CAPTURE(outcome.info.file, outcome.info.error);
      CHECK(outcome.info.status == storage::ExtractStatus::kRejected);
      CHECK(outcome.info.error.rfind("sw_episodes_2026-03-31.csv (source social-workers): ", 0) ==
            0);
      CHECK(outcome.info.error.find(
                "The files of set 'ssda903' as of 2026-03-31 (sw_episodes_2026-03-31.csv, "
                "episodes_2026-03-31.csv, reviews_2026-03-31.csv) are ingested together or not at "
                "all") != std::string::npos);
      CHECK(fs::exists(setup.rejected(outcome.info.file)));
      CHECK(fs::exists(setup.rejected(outcome.info.file + ".reason.txt")));
    }
    CHECK_FALSE(setup.history.latest_extract("episodes"));
    CHECK(cycle.incomplete_sets.empty());
  }
}

TEST_CASE("a failure in the middle of a group stores nothing of it and leaves its files",
          "[engine][groups]") {
  Setup setup;
  std::vector<std::string> names;
  SECTION("a workbook: its second list cannot be stored") {
    test_support::write_workbook(setup.inbox("annex-a_2026-11-23.xlsx"), {list_4(), list_6()});
    names = {"annex-a_2026-11-23.xlsx"};
    setup.sql(
        "CREATE TRIGGER fail BEFORE INSERT ON extracts WHEN NEW.source = 'children-in-need' "
        "BEGIN SELECT RAISE(ABORT, 'the test stops the second part'); END");
  }
  SECTION("a set: its third file cannot be stored") {
    setup.write("episodes_2026-03-31.csv", kEpisodes);
    setup.write("reviews_2026-03-31.csv", kReviews);
    setup.write("sw_episodes_2026-03-31.csv", kSocialWorkers);
    names = {"sw_episodes_2026-03-31.csv", "episodes_2026-03-31.csv", "reviews_2026-03-31.csv"};
    setup.sql(
        "CREATE TRIGGER fail BEFORE INSERT ON extracts WHEN NEW.source = 'reviews' "
        "BEGIN SELECT RAISE(ABORT, 'the test stops the third part'); END");
  }

  try {
    setup.engine.run_cycle();
    FAIL("the cycle did not fail");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find(names.front()) == 0);
    CHECK(std::string(e.what()).find("ingest failed") != std::string::npos);
  }
  CHECK(setup.history.extracts().empty());
  CHECK(setup.history.pending_evaluations().empty());
  for (const auto& name : names) {
    CHECK(fs::exists(setup.inbox(name)));
  }

  // Once the cause is gone, the next cycle ingests the whole group.
  setup.sql("DROP TRIGGER fail");
  const auto cycle = setup.engine.run_cycle();
  CHECK(cycle.extracts.size() == (names.size() == 1 ? 2 : 3));
  for (const auto& outcome : cycle.extracts) {
    CHECK(ingested(outcome));
  }
}
