#include "daemon/policy/alerts.h"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

#include "daemon/control/wire_json.h"
#include "daemon/work/engine.h"
#include "storage/storage.h"
#include "tests/support/temp_dir.h"

namespace {

using namespace std::chrono_literals;
using service::AlertKind;
using service::AlertStatus;
using service::NoticeKind;
using service::Time;

// Mon 16 Nov 2026 07:00:00 UTC (20773 days after 1970-01-01, plus 7 h).
const Time kMonday{std::chrono::seconds(20773LL * 86400 + 7LL * 3600)};
const std::int64_t kMondaySeconds = 20773LL * 86400 + 7LL * 3600;

service::AlertCondition escalation(std::string key, std::string team) {
  service::AlertCondition c;
  c.kind = AlertKind::kEscalation;
  c.subject = "unallocated";
  c.scope = std::move(key);
  c.team = std::move(team);
  c.summary = "past 8 weeks unallocated";
  c.detail = "case detail";
  return c;
}

service::AlertState firing_since(const service::AlertCondition& c, Time started,
                                 std::optional<Time> last_notified) {
  service::AlertState s;
  s.fingerprint = service::fingerprint(c);
  s.condition = c;
  s.started = started;
  s.last_notified = last_notified;
  return s;
}

service::Silence silence(std::string scope, std::optional<Time> expires) {
  service::Silence s;
  s.id = 7;
  s.rule = "unallocated";
  s.scope = std::move(scope);
  s.reason = "strategy meeting booked";
  s.who = "jsmith (uid 1001)";
  s.created = kMonday - 1h;
  s.expires = expires;
  return s;
}

}  // namespace

TEST_CASE("a new condition fires once with a notice keyed by its start", "[alerts]") {
  const auto c = escalation("C1", "East");

  const auto d = service::decide_alerts({c}, {}, {}, {}, kMonday);

  REQUIRE(d.states.size() == 1);
  CHECK(d.states[0].fingerprint == "escalation/unallocated/C1");
  CHECK(d.states[0].status == AlertStatus::kFiring);
  CHECK(d.states[0].started == kMonday);
  CHECK(d.states[0].last_notified == kMonday);
  REQUIRE(d.notices.size() == 1);
  CHECK(d.notices[0].kind == NoticeKind::kFiring);
  CHECK(d.notices[0].key ==
        "alert/escalation/unallocated/C1/firing/" + std::to_string(kMondaySeconds));
}

TEST_CASE("a firing alert is repeated only once repeat_interval has passed", "[alerts]") {
  auto [hours_since_notice, repeated] = GENERATE(
      table<int, bool>({{0, false}, {1, false}, {23, false}, {24, true}, {25, true}, {72, true}}));
  CAPTURE(hours_since_notice);
  const auto c = escalation("C1", "East");
  const Time now = kMonday + 100h;
  const auto stored = firing_since(c, kMonday, now - std::chrono::hours(hours_since_notice));

  const auto d = service::decide_alerts({c}, {stored}, {}, {}, now);

  REQUIRE(d.states.size() == 1);
  CHECK(d.states[0].started == kMonday);
  CHECK(d.notices.size() == (repeated ? 1u : 0u));
  if (repeated) {
    CHECK(d.notices[0].kind == NoticeKind::kRepeat);
    CHECK(d.states[0].last_notified == now);
    CHECK(d.notices[0].key == "alert/escalation/unallocated/C1/repeat/" +
                                  std::to_string(kMondaySeconds + 100LL * 3600));
  }
}

TEST_CASE("an alert that stops holding resolves, with a notice only when configured", "[alerts]") {
  const auto c = escalation("C1", "East");
  const auto stored = firing_since(c, kMonday, kMonday);
  auto [send_resolved, notices] = GENERATE(table<bool, std::size_t>({{true, 1}, {false, 0}}));
  service::AlertPolicy policy;
  policy.send_resolved = send_resolved;

  const auto d = service::decide_alerts({}, {stored}, {}, policy, kMonday + 2h);

  REQUIRE(d.states.size() == 1);
  CHECK(d.states[0].status == AlertStatus::kResolved);
  CHECK(d.states[0].resolved_at == kMonday + 2h);
  REQUIRE(d.notices.size() == notices);
  if (notices == 1) {
    CHECK(d.notices[0].kind == NoticeKind::kResolved);
    CHECK(d.notices[0].key ==
          "alert/escalation/unallocated/C1/resolved/" + std::to_string(kMondaySeconds));
  }
}

TEST_CASE("a resolved alert that holds again fires anew", "[alerts]") {
  const auto c = escalation("C1", "East");
  auto old = firing_since(c, kMonday, kMonday);
  old.status = AlertStatus::kResolved;
  old.resolved_at = kMonday + 1h;

  const auto d = service::decide_alerts({c}, {old}, {}, {}, kMonday + 5h);

  REQUIRE(d.states.size() == 1);
  CHECK(d.states[0].status == AlertStatus::kFiring);
  CHECK(d.states[0].started == kMonday + 5h);
  REQUIRE(d.notices.size() == 1);
  CHECK(d.notices[0].kind == NoticeKind::kFiring);
}

TEST_CASE("a silenced alert fires without notices and its silence ends when it resolves",
          "[alerts]") {
  const auto c = escalation("C1", "East");
  const std::vector<service::Silence> silences = {silence("C1", std::nullopt)};

  const auto first = service::decide_alerts({c}, {}, silences, {}, kMonday);
  REQUIRE(first.states.size() == 1);
  CHECK(first.states[0].silenced);
  CHECK(first.states[0].status == AlertStatus::kFiring);
  CHECK(first.notices.empty());
  CHECK(first.ended_silences.empty());

  const auto later = service::decide_alerts({c}, first.states, silences, {}, kMonday + 48h);
  CHECK(later.notices.empty());

  const auto gone = service::decide_alerts({}, later.states, silences, {}, kMonday + 50h);
  REQUIRE(gone.states.size() == 1);
  CHECK(gone.states[0].status == AlertStatus::kResolved);
  CHECK(gone.notices.empty());  // nobody was told it fired
  CHECK(gone.ended_silences == std::vector<std::int64_t>{7});
}

TEST_CASE("when a silence expires the alert is notified as firing", "[alerts]") {
  const auto c = escalation("C1", "East");
  const std::vector<service::Silence> silences = {silence("", kMonday + 10h)};

  const auto silenced = service::decide_alerts({c}, {}, silences, {}, kMonday);
  CHECK(silenced.notices.empty());
  CHECK(silenced.ended_silences.empty());

  const auto expired = service::decide_alerts({c}, silenced.states, silences, {}, kMonday + 10h);
  REQUIRE(expired.notices.size() == 1);
  CHECK(expired.notices[0].kind == NoticeKind::kFiring);
  CHECK(expired.notices[0].alert.started == kMonday);
  CHECK(expired.ended_silences == std::vector<std::int64_t>{7});
}

TEST_CASE("a silence covers its rule, and when scoped only its case or team", "[alerts]") {
  auto [scope, key, team, covers] = GENERATE(table<std::string, std::string, std::string, bool>({
      {"", "C1", "East", true},
      {"C1", "C1", "East", true},
      {"C1", "C2", "East", false},
      {"east", "C2", "East", true},
      {"West", "C2", "East", false},
  }));
  CAPTURE(scope, key, team);
  const auto s = silence(scope, kMonday + 1h);

  CHECK(service::silence_covers(s, escalation(key, team), kMonday) == covers);
  CHECK(service::finding_silenced({s}, "unallocated", key, team, kMonday) == covers);
  CHECK_FALSE(service::silence_covers(s, escalation(key, team), kMonday + 1h));
  auto other_rule = escalation(key, team);
  other_rule.subject = "single-assessment";
  CHECK_FALSE(service::silence_covers(s, other_rule, kMonday));
}

TEST_CASE("rule conditions: count over alert_over and records past escalate_after", "[alerts]") {
  rules::Rule rule;
  rule.id = "unallocated";
  rule.title = "Unallocated cases";
  rule.kind = rules::RuleKind::kUnallocated;
  const rules::Date as_of = *rules::Date::from_ymd(2026, 11, 16);
  service::RuleList list{&rule, as_of, {}};
  // 8 weeks = 56 days: since 56 days ago is not past it, 57 days ago is.
  for (const auto& [key, days] : {std::pair{"C1", 57}, std::pair{"C2", 56}, std::pair{"C3", 30}}) {
    rules::Finding f;
    f.rule = "unallocated";
    f.key = key;
    f.team = "East";
    f.since = as_of - days;
    f.days = days;
    list.findings.push_back({f});
  }
  config::RuleAlerts settings;
  settings.rule = "unallocated";
  settings.alert_over = 2;
  settings.escalate_after = rules::Duration{8, rules::Unit::kWeeks};
  const rules::Calendar calendar;

  const auto conditions = service::rule_conditions({list}, {settings}, calendar);

  REQUIRE(conditions.size() == 2);
  CHECK(conditions[0].kind == AlertKind::kRuleCount);
  CHECK(conditions[0].summary == "Unallocated cases: 3 on the list, over the alert level of 2");
  CHECK(conditions[1].kind == AlertKind::kEscalation);
  CHECK(conditions[1].scope == "C1");
  CHECK(conditions[1].summary == "past 8 weeks unallocated");
  CHECK(conditions[1].summary.find("C1") == std::string::npos);

  settings.alert_over = 3;
  CHECK(service::rule_conditions({list}, {settings}, calendar).size() == 1);
}

TEST_CASE("the dead man's switch fires when a source's newest extract is too old", "[alerts]") {
  const std::vector<config::SourceAlerts> settings = {{"cases", 48h}, {"assessments", 48h}};
  const std::map<std::string, Time> received = {{"cases", kMonday - 49h},
                                                {"assessments", kMonday - 48h}};

  const auto conditions = service::stale_conditions(settings, received, kMonday);

  REQUIRE(conditions.size() == 1);
  CHECK(service::fingerprint(conditions[0]) == "stale_source/cases/");
  CHECK(conditions[0].summary == "no new cases extract for over 48 hours");
  CHECK(service::stale_conditions(settings, {}, kMonday).empty());
}

TEST_CASE("failed outbox entries raise one delivery alert per recipient", "[alerts]") {
  auto e = service::make_entry("k", "a@council.example", "cw@council.example", "s", "b", kMonday);
  e.state = service::OutboxState::kFailed;
  e.last_error = "rejected by the server";
  auto pending = e;
  pending.state = service::OutboxState::kPending;

  const auto conditions = service::delivery_conditions({e, e, pending});

  REQUIRE(conditions.size() == 1);
  CHECK(service::fingerprint(conditions[0]) == "delivery_failing/a@council.example/");
}

TEST_CASE("alerts are routed by rules and team filters", "[alerts]") {
  const config::Route all{"all", {"head@council.example"}, {}, {}, true};
  const config::Route east{"east", {"east@council.example"}, {}, {"East*"}, true};
  const config::Route timescales{"ts", {"ts@council.example"}, {"single-assessment"}, {}, true};
  auto count = escalation("", "");
  count.kind = AlertKind::kRuleCount;
  const auto rejected = service::rejected_condition("cases", "cases-2026-11-16.csv", "bad");

  CHECK(service::route_matches(all, escalation("C1", "East")));
  CHECK(service::route_matches(east, escalation("C1", "East Locality")));
  CHECK_FALSE(service::route_matches(east, escalation("C1", "West")));
  CHECK_FALSE(service::route_matches(timescales, escalation("C1", "East")));
  CHECK(service::route_matches(all, count));
  CHECK_FALSE(service::route_matches(east, count));
  // Operator alerts go only to routes that receive their kind...
  CHECK_FALSE(service::route_matches(all, rejected));
  CHECK_FALSE(service::route_matches(east, rejected));
  CHECK_FALSE(service::route_matches(timescales, rejected));
  // ...and when none does, to the whole-review route.
  config::Config config;
  config.routes = {all, east, timescales};
  const auto fallback = service::routes_for(rejected, config);
  REQUIRE(fallback.size() == 1);
  CHECK(fallback[0]->name == "all");
}

TEST_CASE("a route's alerts list and reviews flag choose the kinds it receives", "[alerts]") {
  config::Route ops{"ops", {"ops@council.example"}, {}, {}, true, {}};
  ops.reviews = false;  // alerts unset: the operator alerts
  config::Route heads{"heads", {"head@council.example"}, {}, {}, true, {}};
  config::Route only_rejected{"rej", {"rej@council.example"}, {}, {}, true, {}};
  only_rejected.alerts = std::vector<std::string>{"rejected_extract", "escalation"};
  auto count = escalation("", "");
  count.kind = AlertKind::kRuleCount;
  const auto rejected = service::rejected_condition("cases", "cases-2026-11-16.csv", "bad");
  auto failing = rejected;
  failing.kind = AlertKind::kDeliveryFailing;

  CHECK(service::route_matches(ops, rejected));
  CHECK(service::route_matches(ops, failing));
  CHECK_FALSE(service::route_matches(ops, escalation("C1", "East")));
  CHECK_FALSE(service::route_matches(ops, count));
  CHECK_FALSE(service::route_matches(heads, rejected));
  CHECK(service::route_matches(heads, count));
  CHECK(service::route_matches(only_rejected, rejected));
  CHECK_FALSE(service::route_matches(only_rejected, failing));
  CHECK(service::route_matches(only_rejected, escalation("C1", "East")));
  CHECK_FALSE(service::route_matches(only_rejected, count));

  config::Config config;
  config.routes = {heads, ops};
  const auto to = service::routes_for(failing, config);
  REQUIRE(to.size() == 1);
  CHECK(to[0]->name == "ops");
}

TEST_CASE("alert state survives a restart: no re-sending, then a repeat and a resolution",
          "[alerts][storage]") {
  test_support::TempDir dir;
  const auto db = dir / "casewatch.db";
  config::Config config;
  config.mail.server = "smtp://127.0.0.1:2525";
  config.mail.from = "casewatch@council.example";
  config.routes = {{"all", {"head@council.example"}, {}, {}, true, {}}};
  const auto c = escalation("C1", "East");
  {
    storage::History history(db);
    const auto d = service::update_alerts(history, {c}, config, kMonday);
    CHECK(d.notices.size() == 1);
    CHECK(history.outbox(std::nullopt, 10).size() == 1);
  }
  storage::History history(db);  // restarted
  const auto stored = history.alert_states();
  REQUIRE(stored.size() == 1);
  CHECK(stored[0].fingerprint == "escalation/unallocated/C1");
  CHECK(stored[0].condition == c);
  CHECK(stored[0].started == kMonday);
  CHECK(stored[0].last_notified == kMonday);

  CHECK(service::update_alerts(history, {c}, config, kMonday + 1h).notices.empty());
  CHECK(service::update_alerts(history, {c}, config, kMonday + 24h).notices.size() == 1);
  const auto resolved = service::update_alerts(history, {}, config, kMonday + 30h);
  REQUIRE(resolved.notices.size() == 1);
  CHECK(resolved.notices[0].kind == NoticeKind::kResolved);
  CHECK(history.alert_states()[0].status == AlertStatus::kResolved);

  const auto mail = history.outbox(std::nullopt, 10);
  REQUIRE(mail.size() == 3);
  CHECK(mail[0].subject == "casewatch: 1 case no longer past 8 weeks unallocated (all)");
  CHECK(mail[1].subject == "casewatch: 1 case still past 8 weeks unallocated (all)");
  CHECK(mail[2].subject == "casewatch: 1 case newly past 8 weeks unallocated (all)");
}

TEST_CASE("silences are stored, covered alerts stay quiet, and they end when resolved",
          "[alerts][storage]") {
  storage::History history(":memory:");
  config::Config config;
  config.mail.server = "smtp://127.0.0.1:2525";
  config.mail.from = "casewatch@council.example";
  config.routes = {{"all", {"head@council.example"}, {}, {}, true, {}}};
  auto s = silence("East", std::nullopt);
  s.id = 0;
  const auto id = history.add_silence(s);
  const auto c = escalation("C1", "East");

  CHECK(service::update_alerts(history, {c}, config, kMonday).notices.empty());
  CHECK(history.alert_states()[0].silenced);
  const auto resolved = service::update_alerts(history, {}, config, kMonday + 1h);
  CHECK(resolved.ended_silences == std::vector<std::int64_t>{id});
  CHECK(history.silences().empty());
  REQUIRE(history.silences(true).size() == 1);
  CHECK(history.silences(true)[0].who == "jsmith (uid 1001)");
  CHECK(history.outbox(std::nullopt, 10).empty());
  CHECK_FALSE(history.end_silence(id));
}

TEST_CASE("alerts and silences list as JSON without the detail text", "[alerts]") {
  const auto d = service::decide_alerts({escalation("C1", "East")}, {}, {}, {}, kMonday);

  CHECK(boost::json::serialize(service::alerts_json(d.states, {silence("East", std::nullopt)})) ==
        R"j({"alerts":[{"fingerprint":"escalation/unallocated/C1","kind":"escalation",)j"
        R"j("subject":"unallocated","scope":"C1","team":"East",)j"
        R"j("summary":"past 8 weeks unallocated","status":"firing",)j"
        R"j("started":"2026-11-16T07:00:00Z","resolved_at":null,)j"
        R"j("last_notified":"2026-11-16T07:00:00Z","silenced":false}],)j"
        R"j("silences":[{"id":7,"rule":"unallocated","scope":"East",)j"
        R"j("reason":"strategy meeting booked","who":"jsmith (uid 1001)",)j"
        R"j("created":"2026-11-16T06:00:00Z","expires":null,"ended":false}]})j");
}
