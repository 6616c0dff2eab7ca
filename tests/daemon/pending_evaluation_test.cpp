// Every committed extract is evaluated: an extract committed and archived by ingest_file but
// not evaluated (what a kill between the two leaves) is marked pending in the database, and the
// next cycle (or review) evaluates it before anything else, once.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/support/engine_state.h"

namespace {

namespace fs = std::filesystem;

using test_support::kCasesExtract;

using Setup = test_support::EngineState;

}  // namespace

TEST_CASE("an extract committed but not evaluated is evaluated by the next cycle, once",
          "[engine][pending]") {
  Setup setup;
  auto& [dir, config, calendar, history, engine] = setup;
  const fs::path file = config.service.inbox_dir() / "cases_2026-11-23.csv";
  std::ofstream(file, std::ios::binary) << kCasesExtract;

  // Committed and archived, then "killed" before its evaluation.
  const auto outcome = engine.ingest_file(file, *config.rules.find_source("cases"));
  REQUIRE(outcome.info.status == storage::ExtractStatus::kIngested);
  CHECK(!fs::exists(file));
  const auto pending = history.pending_evaluations();
  REQUIRE(pending.size() == 1);
  CHECK(pending[0].id == outcome.info.id);
  CHECK(history.open_findings("unallocated").empty());

  // The restart's cycle: the inbox is empty, and the extract is evaluated first.
  const auto cycle = engine.run_cycle();
  CHECK(cycle.extracts.empty());
  REQUIRE(cycle.outcomes.size() == 1);
  CHECK(history.open_findings("unallocated").size() == 2);
  CHECK(history.pending_evaluations().empty());

  // Nothing is pending any more: the next cycle evaluates nothing.
  CHECK(engine.run_cycle().outcomes.empty());
  CHECK(history.open_findings("unallocated").size() == 2);
}

TEST_CASE("a cycle that ingests and evaluates leaves nothing pending", "[engine][pending]") {
  Setup setup;
  auto& [dir, config, calendar, history, engine] = setup;
  std::ofstream(config.service.inbox_dir() / "cases_2026-11-23.csv", std::ios::binary)
      << kCasesExtract;

  const auto cycle = engine.run_cycle();

  REQUIRE(cycle.extracts.size() == 1);
  CHECK(cycle.outcomes.size() == 1);
  CHECK(history.open_findings("unallocated").size() == 2);
  CHECK(history.pending_evaluations().empty());
}

TEST_CASE("the current evaluation follows each new extract of its source", "[engine][view]") {
  Setup setup;
  auto& [dir, config, calendar, history, engine] = setup;
  CHECK(engine.evaluate_current().findings.empty());  // no extract yet

  std::ofstream(config.service.inbox_dir() / "cases_2026-11-23.csv", std::ios::binary)
      << kCasesExtract;
  engine.run_cycle();
  const auto first = engine.evaluate_current();
  REQUIRE(first.findings.size() == 2);
  CHECK(first.findings[0].key == "C1");  // 83 days, then C2's 53
  CHECK(first.findings[0].days == 83);
  CHECK(engine.evaluate_current().findings == first.findings);  // asked again: the same

  // A week later C1 has a worker and C4 arrives without one (since 1 Aug: 121 days).
  std::ofstream(config.service.inbox_dir() / "cases_2026-11-30.csv", std::ios::binary)
      << "Case ID,Child ID,Allocated Worker,Referral Date,Case Status\n"
         "C1,P1,B Okafor,01/09/2026,Open\n"
         "C2,P2,,01/10/2026,Open\n"
         "C3,P3,A Patel,01/09/2026,Open\n"
         "C4,P4,,01/08/2026,Open\n";
  engine.run_cycle();
  const auto second = engine.evaluate_current();
  REQUIRE(second.findings.size() == 2);
  CHECK(second.findings[0].key == "C4");
  CHECK(second.findings[0].days == 121);
  CHECK(second.findings[1].key == "C2");
  CHECK(second.findings[1].days == 60);
  // The same as a new engine (nothing kept) makes of the database.
  service::Engine fresh(config, calendar, history);
  CHECK(fresh.evaluate_current().findings == second.findings);
}
