#include <catch2/catch.hpp>

#include "storage/storage.h"

TEST_CASE("the audit log lists requests newest first, up to the limit", "[storage][service]") {
  storage::History history(":memory:");
  history.audit(1001, "status", 0, "2026-11-22T09:30:00Z");
  history.audit(0, "reload", 1, "2026-11-22T09:31:00Z");
  history.audit(1002, "findings", 0, "2026-11-22T09:32:00Z");

  const auto log = history.audit_log(2);
  REQUIRE(log.size() == 2);
  CHECK(log[0].uid == 1002);
  CHECK(log[0].command == "findings");
  CHECK(log[0].result == 0);
  CHECK(log[0].at == "2026-11-22T09:32:00Z");
  CHECK(log[1].uid == 0);
  CHECK(log[1].command == "reload");
  CHECK(log[1].result == 1);
}

TEST_CASE("the last review week is the latest week reviewed", "[storage][service]") {
  storage::History history(":memory:");
  CHECK_FALSE(history.last_review_week());
  history.record_review_run("2026-W47", false, "2026-11-16T08:00:00Z");
  history.record_review_run("2026-W46", true,
                            "2026-11-16T08:05:00Z");  // a late one, recorded after
  history.record_review_run("2026-W47", false, "2026-11-16T08:10:00Z");  // recorded twice: no error
  CHECK(history.last_review_week() == "2026-W47");
}

TEST_CASE("settings are stored and replaced by name", "[storage][service]") {
  storage::History history(":memory:");
  CHECK_FALSE(history.setting("last_fetch"));
  history.set_setting("last_fetch", "ok");
  history.set_setting("last_fetch", "failed: timeout");
  CHECK(history.setting("last_fetch") == "failed: timeout");
}

TEST_CASE("a batch of audit entries is written in one go, in order", "[storage][service]") {
  storage::History history(":memory:");
  history.audit({{1001, "status", 0, "2026-11-22T09:30:00Z"},
                 {1002, "findings", 0, "2026-11-22T09:30:01Z"},
                 {0, "shutdown", 0, "2026-11-22T09:30:02Z"}});
  const auto log = history.audit_log(10);
  REQUIRE(log.size() == 3);
  CHECK(log[0].command == "shutdown");
  CHECK(log[1].uid == 1002);
  CHECK(log[2].at == "2026-11-22T09:30:00Z");
}
