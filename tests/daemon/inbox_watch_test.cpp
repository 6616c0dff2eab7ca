#include "daemon/inbox_watch.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>

#include "tests/support/temp_dir.h"

namespace {

using namespace std::chrono_literals;
using service::SettleTracker;

const SettleTracker::TimePoint kStart{};

}  // namespace

TEST_CASE("is_ignored_name skips dot-files, *.tmp and *.part", "[daemon][inbox]") {
  auto [name, ignored] = GENERATE(table<std::string, bool>({
      {"cases_2026-11-20.csv", false},
      {"cases.csv.tmp", true},
      {".cases-20261120.part", true},
      {"cases.part", true},
      {".hidden.csv", true},
      {"tmp.csv", false},
  }));
  CAPTURE(name);
  CHECK(service::is_ignored_name(name) == ignored);
}

TEST_CASE("a file is ready once its size and mtime are unchanged for the settle time",
          "[daemon][inbox]") {
  SettleTracker tracker(10s);
  const SettleTracker::Seen first{100, 1};
  const SettleTracker::Seen grown{200, 2};

  CHECK_FALSE(tracker.observe("a.csv", first, kStart));
  CHECK(tracker.settles_at("a.csv") == kStart + 10s);
  CHECK_FALSE(tracker.observe("a.csv", first, kStart + 9s));
  // Still being written: the clock starts again.
  CHECK_FALSE(tracker.observe("a.csv", grown, kStart + 9s));
  CHECK(tracker.settles_at("a.csv") == kStart + 19s);
  CHECK_FALSE(tracker.observe("a.csv", grown, kStart + 18s));
  CHECK(tracker.observe("a.csv", grown, kStart + 19s));
}

TEST_CASE("a file renamed into the inbox is ready at once, unless written to afterwards",
          "[daemon][inbox]") {
  SettleTracker tracker(10s);
  tracker.moved_in("b.csv", {100, 1});
  CHECK(tracker.observe("b.csv", {100, 1}, kStart));
  CHECK_FALSE(tracker.observe("b.csv", {150, 2}, kStart + 1s));
  CHECK(tracker.observe("b.csv", {150, 2}, kStart + 11s));
}

TEST_CASE("files that left the inbox are forgotten", "[daemon][inbox]") {
  SettleTracker tracker(10s);
  tracker.observe("a.csv", {1, 1}, kStart);
  tracker.observe("b.csv", {1, 1}, kStart);
  tracker.keep_only({"b.csv"});
  CHECK_FALSE(tracker.settles_at("a.csv"));
  CHECK(tracker.settles_at("b.csv"));
}

TEST_CASE("the watch reports a file renamed into the inbox without waiting for settle",
          "[daemon][inbox]") {
  test_support::TempDir dir;
  std::filesystem::create_directories(dir / "inbox");
  boost::asio::io_context io;
  int ready = 0;
  service::InboxWatch watch(
      io, dir / "inbox", 1h, 1h,
      [&] {
        std::vector<std::filesystem::path> out;
        for (const auto& entry : std::filesystem::directory_iterator(dir / "inbox")) {
          out.push_back(entry.path());
        }
        return out;
      },
      [&] { ++ready; });
  watch.start();
  io.poll();
  CHECK(ready == 0);  // empty inbox

  dir.write("incoming/.cases.part", "Case ID\n1\n");
  std::filesystem::rename(dir / "incoming/.cases.part", dir / "inbox/cases_2026-11-20.csv");
  const auto give_up = std::chrono::steady_clock::now() + 5s;
  while (ready == 0 && std::chrono::steady_clock::now() < give_up) {
    io.run_one_for(10ms);
  }
  CHECK(ready == 1);

  SECTION("a file written in place waits for the settle time") {
    ready = 0;
    std::filesystem::remove(dir / "inbox/cases_2026-11-20.csv");
    dir.write("inbox/cases_2026-11-21.csv", "Case ID\n1\n");
    io.run_for(100ms);
    CHECK(ready == 0);
  }
  watch.stop();
}
