#include <catch2/catch.hpp>

#include "daemon/status.h"

namespace {

service::StatusSnapshot sample(service::SysSeconds started) {
  service::StatusSnapshot status;
  status.started = started;
  status.sources.push_back({"cases", "cases_2026-11-20.csv", *rules::Date::from_ymd(2026, 11, 20),
                            40, started - std::chrono::hours(2)});
  status.sources.push_back({"assessments", "", std::nullopt, 0, std::nullopt});
  status.rules.push_back(
      {"unallocated", {{"1 to 2 months", 4}, {"3 \"months\" or more", 2}}, 6, 1});
  status.cycles = 3;
  return status;
}

}  // namespace

TEST_CASE("metrics are Prometheus text with escaped labels", "[daemon][service]") {
  const service::SysSeconds started{std::chrono::seconds(1'790'000'000)};
  const std::string text =
      service::metrics_text(sample(started), started + std::chrono::seconds(60));

  CHECK(text.find("casewatch_up 1\n") != std::string::npos);
  CHECK(text.find("casewatch_uptime_seconds 60\n") != std::string::npos);
  CHECK(text.find("casewatch_findings{rule=\"unallocated\",band=\"1 to 2 months\"} 4\n") !=
        std::string::npos);
  CHECK(
      text.find("casewatch_findings{rule=\"unallocated\",band=\"3 \\\"months\\\" or more\"} 2\n") !=
      std::string::npos);
  CHECK(text.find("casewatch_extract_age_seconds{source=\"cases\"} 7260\n") != std::string::npos);
  CHECK(text.find("casewatch_extract_rows{source=\"cases\"} 40\n") != std::string::npos);
  CHECK(text.find("assessments") == std::string::npos);
  CHECK(text.find(
            "# TYPE casewatch_ingest_cycles_total counter\ncasewatch_ingest_cycles_total 3\n") !=
        std::string::npos);
}

TEST_CASE("status reports each source's latest extract and age, and each rule's bands",
          "[daemon][service]") {
  const service::SysSeconds started{std::chrono::seconds(1'790'000'000)};
  const auto json = service::status_json(sample(started), started + std::chrono::seconds(5),
                                         *rules::Date::from_ymd(2026, 11, 23));

  CHECK(
      boost::json::serialize(json.at("sources")) ==
      R"([{"source":"cases","file":"cases_2026-11-20.csv","as_of":"2026-11-20","rows":40,"age_days":3},{"source":"assessments","file":null}])");
  CHECK(
      boost::json::serialize(json.at("rules")) ==
      R"([{"rule":"unallocated","open":6,"new":1,"bands":{"1 to 2 months":4,"3 \"months\" or more":2}}])");
  CHECK(json.at("uptime_seconds").as_int64() == 5);
  CHECK(json.at("next_review").is_null());
}
