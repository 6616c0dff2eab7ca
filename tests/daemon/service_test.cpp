#include <date/tz.h>
#include <fmt/format.h>

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
  status.alerts_firing = {{"escalation", 200}, {"delivery_failing", 0}};
  status.outbox = {{"pending", 2}, {"sent", 7}};
  status.extracts = {{{"cases", "ingested"}, 3}, {{"cases", "rejected"}, 1}};
  status.last_review_at = started - std::chrono::hours(1);
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
  // The two extract ages: ingested 2 h before start, as-of 2026-11-20 00:00 UTC.
  CHECK(text.find("casewatch_extract_ingest_age_seconds{source=\"cases\"} 7260\n") !=
        std::string::npos);
  const auto as_of_age = 1'790'000'060LL - 20777LL * 86400;  // 2026-11-20 is day 20777
  CHECK(text.find(fmt::format("casewatch_extract_as_of_age_seconds{{source=\"cases\"}} {}\n",
                              as_of_age)) != std::string::npos);
  CHECK(text.find("casewatch_alerts_firing{kind=\"escalation\"} 200\n") != std::string::npos);
  CHECK(text.find("casewatch_outbox_messages{state=\"pending\"} 2\n") != std::string::npos);
  CHECK(text.find("# TYPE casewatch_extracts_total counter\n"
                  "casewatch_extracts_total{source=\"cases\",status=\"ingested\"} 3\n"
                  "casewatch_extracts_total{source=\"cases\",status=\"rejected\"} 1\n") !=
        std::string::npos);
  CHECK(text.find("casewatch_last_review_timestamp_seconds 1789996400\n") != std::string::npos);
  CHECK(text.find("assessments") == std::string::npos);
  CHECK(text.find(
            "# TYPE casewatch_ingest_cycles_total counter\ncasewatch_ingest_cycles_total 3\n") !=
        std::string::npos);
}

TEST_CASE("the mail's accept-to-recorded window is a histogram with its longest beside it",
          "[daemon][service]") {
  using std::chrono::microseconds;
  const service::SysSeconds started{std::chrono::seconds(1'790'000'000)};
  auto status = sample(started);
  const std::string none = service::metrics_text(status, started);
  CHECK(none.find("casewatch_mail_accept_to_recorded_seconds_bucket{le=\"+Inf\"} 0\n"
                  "casewatch_mail_accept_to_recorded_seconds_sum 0\n"
                  "casewatch_mail_accept_to_recorded_seconds_count 0\n") != std::string::npos);

  // 0.4 ms, 1 ms (on the first bound: counted in it), 3 ms and 1.5 s.
  for (const auto us : {400, 1000, 3000, 1'500'000}) {
    status.mail_window.observe(microseconds(us));
  }
  const std::string text = service::metrics_text(status, started);
  CHECK(text.find("# TYPE casewatch_mail_accept_to_recorded_seconds histogram\n"
                  "casewatch_mail_accept_to_recorded_seconds_bucket{le=\"0.001\"} 2\n"
                  "casewatch_mail_accept_to_recorded_seconds_bucket{le=\"0.0025\"} 2\n"
                  "casewatch_mail_accept_to_recorded_seconds_bucket{le=\"0.005\"} 3\n"
                  "casewatch_mail_accept_to_recorded_seconds_bucket{le=\"0.01\"} 3\n"
                  "casewatch_mail_accept_to_recorded_seconds_bucket{le=\"0.025\"} 3\n"
                  "casewatch_mail_accept_to_recorded_seconds_bucket{le=\"0.05\"} 3\n"
                  "casewatch_mail_accept_to_recorded_seconds_bucket{le=\"0.1\"} 3\n"
                  "casewatch_mail_accept_to_recorded_seconds_bucket{le=\"0.25\"} 3\n"
                  "casewatch_mail_accept_to_recorded_seconds_bucket{le=\"1\"} 3\n"
                  "casewatch_mail_accept_to_recorded_seconds_bucket{le=\"+Inf\"} 4\n"
                  "casewatch_mail_accept_to_recorded_seconds_sum 1.5044\n"
                  "casewatch_mail_accept_to_recorded_seconds_count 4\n") != std::string::npos);
  CHECK(text.find("# TYPE casewatch_mail_accept_to_recorded_max_seconds gauge\n"
                  "casewatch_mail_accept_to_recorded_max_seconds 1.5\n") != std::string::npos);
}

TEST_CASE("status reports each source's latest extract and age, and each rule's bands",
          "[daemon][service]") {
  const service::SysSeconds started{std::chrono::seconds(1'790'000'000)};  // 21 Sep 2026 14:13:20Z
  const service::SysSeconds now{std::chrono::seconds(1'795'428'000)};      // 23 Nov 2026 10:00Z
  const auto json = service::status_json(sample(started), now, date::locate_zone("Europe/London"));

  // Ingested 2 h before the start: 12:13 UTC, which is 13:13 BST in September.
  CHECK(
      boost::json::serialize(json.at("sources")) ==
      R"([{"source":"cases","file":"cases_2026-11-20.csv","as_of":"2026-11-20","rows":40,"age_days":3,"ingested_at":"2026-09-21T12:13:20Z","ingested_at_local":"2026-09-21 13:13 BST"},{"source":"assessments","file":null}])");
  CHECK(
      boost::json::serialize(json.at("rules")) ==
      R"([{"rule":"unallocated","open":6,"new":1,"listed":0,"untrusted":0,"all_unallocated":null,"totals":"","bands":{"1 to 2 months":4,"3 \"months\" or more":2}}])");
  CHECK(json.at("uptime_seconds").as_int64() == 5'428'000);
  CHECK(json.at("next_review").is_null());
  CHECK(json.at("next_review_local").is_null());
}

TEST_CASE("status gives its times in the service time zone beside UTC", "[daemon][service]") {
  const auto* london = date::locate_zone("Europe/London");
  const service::SysSeconds started{std::chrono::seconds(1'782'712'770)};  // 29 Jun 05:59:30Z
  service::StatusSnapshot status = sample(started);
  status.sources[0].as_of = *rules::Date::from_ymd(2026, 6, 30);
  status.next_review = service::SysSeconds{std::chrono::seconds(1'796'022'000)};  // 30 Nov 07:00Z
  status.last_review_at = service::SysSeconds{std::chrono::seconds(1'780'304'700)};  // 1 Jun 09:05Z
  status.fetches.push_back({"cases", "2026-06-29T05:59:30Z", true, "fetched"});
  // Tue 30 Jun 2026 23:30 UTC is already Wed 1 Jul, 00:30 BST, in London.
  const service::SysSeconds now{std::chrono::seconds(1'782'862'200)};

  const auto json = service::status_json(status, now, london);

  CHECK(json.at("timezone").as_string() == "Europe/London");
  // Summer time (BST, +01:00) and winter time (GMT) worked by hand; minutes are floored.
  CHECK(json.at("last_review_at").as_string() == "2026-06-01T09:05:00Z");
  CHECK(json.at("last_review_at_local").as_string() == "2026-06-01 10:05 BST");
  CHECK(json.at("next_review").as_string() == "2026-11-30T07:00:00Z");
  CHECK(json.at("next_review_local").as_string() == "2026-11-30 07:00 GMT");
  const auto& fetch = json.at("fetches").as_array().at(0).as_object();
  CHECK(fetch.at("last_run").as_string() == "2026-06-29T05:59:30Z");
  CHECK(fetch.at("last_run_local").as_string() == "2026-06-29 06:59 BST");
  // The age is counted from London's today (1 Jul), not UTC's (30 Jun).
  CHECK(json.at("sources").as_array().at(0).as_object().at("age_days").as_int64() == 1);

  // The same instants in a UTC service read as UTC.
  const auto utc = service::status_json(status, now, date::locate_zone("UTC"));
  CHECK(utc.at("next_review_local").as_string() == "2026-11-30 07:00 UTC");
  CHECK(utc.at("last_review_at_local").as_string() == "2026-06-01 09:05 UTC");
  CHECK(utc.at("sources").as_array().at(0).as_object().at("age_days").as_int64() == 0);
}

TEST_CASE("status names each rule's totals as --once and the review name them",
          "[daemon][service]") {
  rules::Rule unallocated;
  unallocated.id = "unallocated";
  unallocated.kind = rules::RuleKind::kUnallocated;
  unallocated.over_days = 28;
  const auto tracked = [](std::string key, rules::State state, std::string band,
                          rules::FindingStatus status) {
    rules::TrackedFinding t;
    t.finding.rule = "unallocated";
    t.finding.key = std::move(key);
    t.finding.state = state;
    t.finding.band = std::move(band);
    t.status = status;
    return t;
  };
  const std::vector<rules::TrackedFinding> open{
      tracked("C1", rules::State::kBreach, "1 to 2 months", rules::FindingStatus::kNew),
      tracked("C2", rules::State::kBreach, "1 to 2 months", rules::FindingStatus::kCarried),
      tracked("C3", rules::State::kBreach, "3 months or more", rules::FindingStatus::kCarried),
      tracked("C4", rules::State::kUntrusted, "Inaccuracies", rules::FindingStatus::kNew)};
  // Every open unallocated case at the latest evaluation, listed or not: 3 + 1 under four
  // weeks + 2 + 1 untrusted = 7. A per-team count is not added to the total.
  const std::vector<rules::BandCount> bands{{"unallocated", "Under 4 weeks", 3, ""},
                                            {"unallocated", "1 to 2 months", 2, ""},
                                            {"unallocated", "3 months or more", 1, ""},
                                            {"unallocated", "Inaccuracies", 1, ""},
                                            {"unallocated", "1 to 2 months", 2, "North"}};

  const auto status = service::rule_status(unallocated, open, bands);
  CHECK(status.open == 4);
  CHECK(status.new_findings == 2);
  CHECK(status.listed == 3);
  CHECK(status.untrusted == 1);
  CHECK(status.all_unallocated == 7);
  CHECK(status.totals ==
        "Over four weeks (listed): 3; Untrusted dates: 1; All unallocated open cases: 7");

  rules::Rule timescale;
  timescale.id = "assessments";
  timescale.kind = rules::RuleKind::kTimescale;
  const auto late = service::rule_status(timescale, {}, {});
  CHECK(late.listed == 0);
  CHECK_FALSE(late.all_unallocated.has_value());
  CHECK(late.totals == "Overdue: 0; due soon: 0; data problems: 0");

  service::StatusSnapshot snapshot;
  snapshot.rules.push_back(status);
  const auto json = service::status_json(snapshot, snapshot.started, date::locate_zone("UTC"));
  const auto& rule = json.at("rules").at(0).as_object();
  CHECK(rule.at("listed").as_int64() == 3);
  CHECK(rule.at("untrusted").as_int64() == 1);
  CHECK(rule.at("all_unallocated").as_int64() == 7);
  CHECK(rule.at("totals").as_string() == status.totals);
}
