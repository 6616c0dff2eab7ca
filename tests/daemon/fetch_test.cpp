#include "daemon/fetch.h"

#include <sys/stat.h>

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <optional>

#include "tests/support/temp_dir.h"

namespace {

using namespace std::chrono_literals;

service::SysSeconds at_noon() {
  return service::SysSeconds{std::chrono::duration_cast<std::chrono::seconds>(
      std::chrono::sys_days{std::chrono::year{2026} / 11 / 20}.time_since_epoch() + 12h)};
}

const rules::Date kToday = *rules::Date::from_ymd(2026, 11, 20);

// Runs `plan` to its end with a real child process, driving the loop (at most 10 s).
std::optional<service::FetchOutcome> run(const service::FetchPlan& plan) {
  boost::asio::io_context io;
  std::optional<service::FetchOutcome> outcome;
  service::FetchRun fetch(io, plan, at_noon(), kToday);
  fetch.start([&](const service::FetchOutcome& o) { outcome = o; });
  const auto give_up = std::chrono::steady_clock::now() + 10s;
  while (!outcome && std::chrono::steady_clock::now() < give_up) {
    io.run_one_for(10ms);
  }
  return outcome;
}

service::FetchPlan plan_for(const test_support::TempDir& dir, std::vector<std::string> command) {
  service::FetchPlan plan;
  plan.source = "cases";
  plan.command = std::move(command);
  plan.timeout = 1s;
  plan.inbox = dir / "inbox";
  std::filesystem::create_directories(plan.inbox);
  return plan;
}

}  // namespace

TEST_CASE("a fetch writes to a dot-file and renames it into the inbox when it exits 0",
          "[daemon][fetch]") {
  test_support::TempDir dir;
  const auto source = dir.write("export.csv", "Case ID\nC1\n");
  const auto plan = plan_for(dir, {"/bin/cp", source.string(), "{file}"});

  const auto outcome = run(plan);

  REQUIRE(outcome);
  CHECK(outcome->ok);
  CHECK(outcome->detail == "exit status 0");
  CHECK(outcome->file == "cases_2026-11-20.csv");
  CHECK(outcome->at == "2026-11-20T12:00:00Z");
  CHECK(test_support::read_file(dir / "inbox/cases_2026-11-20.csv") == "Case ID\nC1\n");
  CHECK_FALSE(std::filesystem::exists(dir / "inbox/.cases-20261120T120000Z.part"));
  struct stat st {};
  REQUIRE(::stat((dir / "inbox/cases_2026-11-20.csv").c_str(), &st) == 0);
  CHECK((st.st_mode & 0077) == 0040);  // 0640: no access for others
}

TEST_CASE("a failed fetch leaves nothing in the inbox and says why", "[daemon][fetch]") {
  test_support::TempDir dir;

  SECTION("non-zero exit") {
    const auto outcome = run(plan_for(dir, {"/bin/false"}));
    REQUIRE(outcome);
    CHECK_FALSE(outcome->ok);
    CHECK(outcome->detail == "exit status 1");
  }
  SECTION("exit 0 without writing the file") {
    const auto outcome = run(plan_for(dir, {"/bin/true"}));
    REQUIRE(outcome);
    CHECK_FALSE(outcome->ok);
    CHECK(outcome->detail == "exit status 0, but it wrote no file");
  }
  SECTION("killed at the timeout") {
    const auto outcome = run(plan_for(dir, {"/bin/sleep", "30"}));
    REQUIRE(outcome);
    CHECK_FALSE(outcome->ok);
    CHECK(outcome->detail == "killed after the 1 s timeout");
  }
  SECTION("no such program (no shell is involved)") {
    const auto outcome = run(plan_for(dir, {"/nonexistent/export-cases", "{file}"}));
    REQUIRE(outcome);
    CHECK_FALSE(outcome->ok);
    CHECK(outcome->detail == "cannot run /nonexistent/export-cases: No such file or directory");
  }
  CHECK(std::filesystem::is_empty(dir / "inbox"));
}

TEST_CASE("fetch names and arguments", "[daemon][fetch]") {
  service::FetchPlan plan;
  plan.source = "cases";
  plan.inbox = "/var/lib/casewatch/inbox";
  plan.command = {"/usr/local/bin/export", "--out={file}", "{file}", "x"};
  const auto part = service::fetch_part_path(plan, at_noon());
  CHECK(part == "/var/lib/casewatch/inbox/.cases-20261120T120000Z.part");
  CHECK(service::fetch_target_path(plan, kToday) ==
        "/var/lib/casewatch/inbox/cases_2026-11-20.csv");
  CHECK(service::fetch_argv(plan, part) ==
        std::vector<std::string>{"/usr/local/bin/export",
                                 "--out=/var/lib/casewatch/inbox/.cases-20261120T120000Z.part",
                                 "/var/lib/casewatch/inbox/.cases-20261120T120000Z.part", "x"});
  // Times are typed and checked by config/ (config_test); a plan still refuses no command.
  config::FetchConfig bad;
  bad.source = "cases";
  bad.at = {{6, 0}};
  CHECK_THROWS_WITH(service::make_fetch_plan(bad, "/tmp"), "source cases: fetch needs a command");
}
