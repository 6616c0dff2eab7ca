// What `status` shows after a job is read on the pool thread (read_status) and applied on the
// loop (Status::apply); fetch results are shown at once and stored later, on the pool.
#include "daemon/work/status_reading.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "daemon/status.h"
#include "tests/support/engine_state.h"

namespace {

namespace fs = std::filesystem;

// kCasesConfig, with a fetch for the cases source.
std::string config_with_fetch() {
  std::string toml = test_support::kCasesConfig;
  toml.insert(toml.find("[source.fields]"), "fetch = [\"/bin/true\"]\nfetch_at = [\"06:00\"]\n");
  return toml;
}

using test_support::kCasesExtract;

struct Setup : test_support::EngineState {
  Setup() : EngineState(config_with_fetch()) {}
};

int band_total(const std::vector<rules::BandCount>& bands) {
  int total = 0;
  for (const auto& band : bands) {
    total += band.count;
  }
  return total;
}

}  // namespace

TEST_CASE("read_status reads an empty database as every count zero and no extract", "[status]") {
  Setup setup;
  const service::StatusReading reading = service::read_status(setup.config, setup.history);

  CHECK(reading.database_error.empty());
  REQUIRE(reading.latest.size() == 1);
  CHECK(reading.latest[0].first == "cases");
  CHECK(!reading.latest[0].second);
  CHECK(reading.bands.at("unallocated").empty());
  CHECK(reading.alerts_firing.at("escalation") == 0);
  CHECK(reading.outbox.at("pending") == 0);
  CHECK(reading.outbox.at("cancelled") == 0);
  CHECK(reading.extracts.empty());
  CHECK(reading.fetch_results.empty());
  CHECK(!reading.last_review_week);
  CHECK(!reading.next_outbox_attempt);
  CHECK(reading.inbox_error.empty());
  CHECK(reading.unmatched.empty());
}

TEST_CASE("read_status after a cycle: the latest extract, its bands, the counts, odd inbox files",
          "[status]") {
  Setup setup;
  setup.drop("cases_2026-11-23.csv", kCasesExtract);
  setup.drop("notes.txt", "not an extract\n");
  setup.engine.run_cycle();
  const config::Config& config = setup.config;
  storage::History& history = setup.history;
  history.set_setting("fetch/cases", R"({"at":"2026-11-23T06:00:00Z","ok":true,"detail":"x"})");

  const service::StatusReading reading = service::read_status(config, history);

  REQUIRE(reading.database_error.empty());
  REQUIRE(reading.latest.at(0).second);
  CHECK(reading.latest[0].second->file == "cases_2026-11-23.csv");
  CHECK(reading.latest[0].second->rows == 3);
  CHECK(reading.latest[0].second->as_of.iso() == "2026-11-23");
  // Both unallocated cases are counted in the bands (every open unallocated case).
  CHECK(band_total(reading.bands.at("unallocated")) == 2);
  CHECK(reading.extracts.at({"cases", "ingested"}) == 1);
  CHECK(reading.fetch_results.at("fetch/cases").find("2026-11-23T06:00:00Z") != std::string::npos);
  REQUIRE(reading.unmatched.size() == 1);
  CHECK(reading.unmatched[0].first == "notes.txt");

  // The loop applies it with the open findings it holds.
  service::Status status(service::SysSeconds{});
  const auto open = service::load_open_findings(config, history);
  status.apply(config, reading, *open);
  const auto& snapshot = status.snapshot();
  REQUIRE(snapshot.sources.size() == 1);
  CHECK(snapshot.sources[0].rows == 3);
  REQUIRE(snapshot.rules.size() == 1);
  CHECK(snapshot.rules[0].open == 2);
  CHECK(snapshot.unmatched.size() == 1);
  REQUIRE(snapshot.fetches.size() == 1);
  CHECK(snapshot.fetches[0].at == "2026-11-23T06:00:00Z");
  CHECK(snapshot.fetches[0].ok);
}

TEST_CASE("read_status names a missing inbox and still reads the database", "[status]") {
  Setup setup;
  fs::remove_all(setup.config.service.inbox_dir());
  const service::StatusReading reading = service::read_status(setup.config, setup.history);
  CHECK(reading.database_error.empty());
  CHECK(!reading.inbox_error.empty());
  CHECK(reading.latest.size() == 1);
}

TEST_CASE("a fetch result shows at once, stays pending until stored, and a newer one wins",
          "[status]") {
  Setup setup;
  service::Status status(service::SysSeconds{});
  status.apply(setup.config, service::read_status(setup.config, setup.history),
               service::OpenFindings{});
  REQUIRE(status.snapshot().fetches.size() == 1);
  CHECK(status.snapshot().fetches[0].at.empty());  // never run

  status.record_fetch({"cases", "2026-11-23T06:00:00Z", false, "exit status 3", ""}, setup.config);
  CHECK(status.snapshot().fetches[0].at == "2026-11-23T06:00:00Z");
  CHECK(!status.snapshot().fetches[0].ok);
  const auto first = status.pending_fetches();
  REQUIRE(first.size() == 1);
  CHECK(first[0].first == "fetch/cases");

  // A newer run is recorded before the first is stored: storing the first leaves it pending.
  status.record_fetch({"cases", "2026-11-24T06:00:00Z", true, "exit status 0", "c.csv"},
                      setup.config);
  status.fetches_stored(first);
  const auto second = status.pending_fetches();
  REQUIRE(second.size() == 1);
  CHECK(second[0].second.find("2026-11-24T06:00:00Z") != std::string::npos);
  status.fetches_stored(second);
  CHECK(status.pending_fetches().empty());

  // Stored, it is still shown after a reading that has not seen it yet (an older one).
  status.apply(setup.config, service::StatusReading{}, service::OpenFindings{});
  CHECK(status.snapshot().fetches[0].at == "2026-11-24T06:00:00Z");
  CHECK(status.snapshot().fetches[0].ok);
}
