// Alert digests (daemon/policy/digest.h) and the alert identities and inhibition they rely on
// (daemon/policy/alerts.h): one message per route and group, tables through the allowed fields,
// one reminder per route, operator alerts to the operations route.
#include "daemon/policy/digest.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <cstddef>
#include <string>

#include "daemon/policy/alerts.h"

namespace {

using namespace std::chrono_literals;
using service::AlertKind;
using service::NoticeKind;
using service::Time;

// Mon 16 Nov 2026 07:00:00 UTC.
const Time kMonday{std::chrono::seconds(20773LL * 86400 + 7LL * 3600)};
const rules::Date kAsOf = *rules::Date::from_ymd(2026, 11, 16);

rules::Rule unallocated_rule() {
  rules::Rule rule;
  rule.id = "unallocated";
  rule.title = "Unallocated cases";
  rule.kind = rules::RuleKind::kUnallocated;
  rule.source = "cases";
  return rule;
}

// A config with mail, the unallocated rule, a whole-review route and a North team route.
config::Config mail_config() {
  config::Config config;
  config.mail.server = "smtp://127.0.0.1:2525";
  config.mail.from = "casewatch@council.example";
  config.rules.rules = {unallocated_rule()};
  config.routes = {{"all", {"head@council.example", "perf@council.example"}, {}, {}, true, {}},
                   {"North team", {"north@council.example"}, {}, {"North"}, true, {}}};
  return config;
}

// `n` breaching findings, unallocated `days` days, keys C1..Cn, person P-C1.., teams alternating
// North and South.
service::RuleList breaching(const rules::Rule& rule, int n, int days) {
  service::RuleList list{&rule, kAsOf, {}};
  for (int i = 1; i <= n; ++i) {
    rules::TrackedFinding t;
    t.finding.rule = rule.id;
    t.finding.key = "C" + std::to_string(i);
    t.finding.person = "P-C" + std::to_string(i);
    t.finding.team = i % 2 == 1 ? "North" : "South";
    t.finding.worker = "";
    t.finding.state = rules::State::kBreach;
    t.finding.since = kAsOf - days;
    t.finding.days = days;
    t.first_seen = kAsOf - 7;
    list.findings.push_back(t);
  }
  return list;
}

config::RuleAlerts escalate_after(rules::Duration d) {
  config::RuleAlerts a;
  a.rule = "unallocated";
  a.escalate_after = d;
  return a;
}

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

}  // namespace

TEST_CASE("200 cases crossing escalate_after in one cycle make one digest per route", "[digest]") {
  const config::Config config = mail_config();
  const rules::Rule& rule = config.rules.rules[0];
  const auto list = breaching(rule, 200, 60);
  const auto conditions = service::rule_conditions(
      {list}, {escalate_after({8, rules::Unit::kWeeks})}, rules::Calendar{});
  REQUIRE(conditions.size() == 200);
  const auto decision = service::decide_alerts(conditions, {}, {}, {}, kMonday);
  REQUIRE(decision.notices.size() == 200);

  const auto digests = service::build_digests(decision.notices, config, {list}, kMonday);

  REQUIRE(digests.size() == 2);
  CHECK(digests[0].route->name == "all");
  CHECK(digests[0].fired.size() == 200);
  CHECK(digests[0].subject == "casewatch: 200 cases newly past 8 weeks unallocated (all)");
  CHECK(digests[1].route->name == "North team");
  CHECK(digests[1].fired.size() == 100);
  CHECK(digests[1].subject == "casewatch: 100 cases newly past 8 weeks unallocated (North team)");
  CHECK(service::log_line(digests[1]) ==
        "alert digest to route 'North team' (case alerts): 100 firing, 0 still firing, 0 "
        "resolved");

  // One message per route: the same bytes for each recipient of a route.
  const auto all = service::digest_mail(digests[0], config, kMonday);
  REQUIRE(all.size() == 2);
  CHECK(all[0].recipient == "head@council.example");
  CHECK(all[1].recipient == "perf@council.example");
  CHECK(all[0].key == all[1].key);
  CHECK(all[0].bytes == all[1].bytes);
  CHECK(all[0].key.starts_with("alert/digest/case/all/"));
  CHECK(all[0].key.find("C1") == std::string::npos);
  const auto north = service::digest_mail(digests[1], config, kMonday);
  REQUIRE(north.size() == 1);
  CHECK(north[0].key != all[0].key);
  // The same decision replayed gives the same key: queued once.
  CHECK(service::digest_mail(digests[0], config, kMonday + 1h)[0].key == all[0].key);
}

TEST_CASE("a digest's table shows the allowed fields only", "[digest]") {
  config::Config config = mail_config();
  const rules::Rule& rule = config.rules.rules[0];
  const auto list = breaching(rule, 3, 60);
  const auto conditions = service::rule_conditions(
      {list}, {escalate_after({8, rules::Unit::kWeeks})}, rules::Calendar{});
  const auto decision = service::decide_alerts(conditions, {}, {}, {}, kMonday);

  SECTION("the default fields: keys, teams and days, no person identifier") {
    const auto digests = service::build_digests(decision.notices, config, {list}, kMonday);
    const std::string& text = digests[0].text;
    CHECK(text.find("Unallocated cases, past 8 weeks unallocated (3)") != std::string::npos);
    CHECK(text.find("days_unallocated") != std::string::npos);
    CHECK(text.find("C2") != std::string::npos);
    CHECK(text.find("South") != std::string::npos);
    CHECK(text.find("2026-09-17") != std::string::npos);  // since = 16 Nov - 60 days
    CHECK(text.find("P-C") == std::string::npos);
    CHECK(count_of(text, "  60") == 3);
  }
  SECTION("a route that may see persons shows them") {
    config.routes[0].fields = std::vector<std::string>{"key", "person", "team"};
    const auto digests = service::build_digests(decision.notices, config, {list}, kMonday);
    CHECK(digests[0].text.find("P-C3") != std::string::npos);
    CHECK(digests[0].text.find("days_unallocated") == std::string::npos);
  }
  SECTION("without key no case key leaves, in the body or the headers") {
    config.review.fields = {"rule", "team", "band"};
    const auto digests = service::build_digests(decision.notices, config, {list}, kMonday);
    const auto mail = service::digest_mail(digests[0], config, kMonday);
    REQUIRE(mail.size() == 2);
    CHECK(mail[0].bytes.find("C1") == std::string::npos);
    CHECK(mail[0].bytes.find("C2") == std::string::npos);
    CHECK(mail[0].bytes.find("North") != std::string::npos);
  }
}

TEST_CASE("reminders repeat a whole group at once: one reminder per route", "[digest]") {
  const config::Config config = mail_config();
  const rules::Rule& rule = config.rules.rules[0];
  const auto list = breaching(rule, 4, 60);
  const auto conditions = service::rule_conditions(
      {list}, {escalate_after({8, rules::Unit::kWeeks})}, rules::Calendar{});
  // Told at different times: C1 and C2 a day ago, C3 and C4 five hours ago.
  std::vector<service::AlertState> stored;
  for (std::size_t i = 0; i < conditions.size(); ++i) {
    service::AlertState s;
    s.fingerprint = service::fingerprint(conditions[i]);
    s.condition = conditions[i];
    s.started = kMonday - (i < 2 ? 24h : 5h);
    s.last_notified = s.started;
    stored.push_back(s);
  }

  const auto early = service::decide_alerts(conditions, stored, {}, {}, kMonday - 1h);
  CHECK(early.notices.empty());
  const auto decision = service::decide_alerts(conditions, stored, {}, {}, kMonday);
  REQUIRE(decision.notices.size() == 4);
  for (const auto& n : decision.notices) {
    CHECK(n.kind == NoticeKind::kRepeat);
  }

  const auto digests = service::build_digests(decision.notices, config, {list}, kMonday);
  REQUIRE(digests.size() == 2);
  CHECK(digests[0].subject == "casewatch: 4 cases still past 8 weeks unallocated (all)");
  CHECK(digests[0].text.find("Still firing (reminder every 24 hours): 4") != std::string::npos);
  CHECK(digests[1].subject == "casewatch: 2 cases still past 8 weeks unallocated (North team)");
}

TEST_CASE("operator alerts go to the operations route in their own digest", "[digest]") {
  config::Config config = mail_config();
  config::Route ops{"ops", {"ops@council.example"}, {}, {}, true, {}};
  ops.reviews = false;
  config.routes.push_back(ops);
  const rules::Rule& rule = config.rules.rules[0];
  const auto list = breaching(rule, 1, 60);
  auto conditions = service::rule_conditions({list}, {escalate_after({8, rules::Unit::kWeeks})},
                                             rules::Calendar{});
  conditions.push_back(service::rejected_condition("cases", "cases_2026-11-16.csv",
                                                   "line 3: bad date '31/02/2026'"));

  const auto decision = service::decide_alerts(conditions, {}, {}, {}, kMonday);
  const auto digests = service::build_digests(decision.notices, config, {list}, kMonday);

  REQUIRE(digests.size() == 3);
  CHECK(digests[0].route->name == "all");
  CHECK(digests[0].group == service::AlertGroup::kCase);
  CHECK(digests[1].route->name == "North team");
  CHECK(digests[2].route->name == "ops");
  CHECK(digests[2].group == service::AlertGroup::kOperator);
  CHECK(digests[2].subject == "casewatch operations: a cases extract was rejected (ops)");
  CHECK(digests[2].text.find("cases_2026-11-16.csv") != std::string::npos);
  CHECK(digests[2].text.find("C1") == std::string::npos);
}

TEST_CASE("escalation is measured on the rule's own figure or on time listed", "[digest]") {
  // Unallocated since as-of minus `days`; first listed as-of minus `listed` days.
  auto [days, listed, after, listed_after, fires, summary] =
      GENERATE(table<int, int, int, int, bool, std::string>({
          {56, 0, 8, 0, false, ""},  // 56 days is not past 8 weeks
          {57, 0, 8, 0, true, "past 8 weeks unallocated"},
          {40, 42, 0, 6, false, ""},  // on the list exactly 6 weeks
          {40, 43, 0, 6, true, "on the list over 6 weeks"},
          {57, 43, 8, 6, true, "past 8 weeks unallocated"},  // both: escalate_after's
      }));
  CAPTURE(days, listed, after, listed_after);
  const rules::Rule rule = unallocated_rule();
  auto list = breaching(rule, 1, days);
  list.findings[0].first_seen = kAsOf - listed;
  config::RuleAlerts settings;
  settings.rule = "unallocated";
  if (after > 0) {
    settings.escalate_after = rules::Duration{after, rules::Unit::kWeeks};
  }
  if (listed_after > 0) {
    settings.escalate_listed_after = rules::Duration{listed_after, rules::Unit::kWeeks};
  }

  const auto conditions = service::rule_conditions({list}, {settings}, rules::Calendar{});

  REQUIRE(conditions.size() == (fires ? 1u : 0u));
  if (fires) {
    CHECK(conditions[0].summary == summary);
  }
}

TEST_CASE("a timescale rule escalates on its days overdue, counted from the due date", "[digest]") {
  rules::Rule rule;
  rule.id = "single-assessment";
  rule.kind = rules::RuleKind::kTimescale;
  service::RuleList list{&rule, kAsOf, {}};
  // Due 2 Nov 2026: 14 days overdue at 16 Nov. Started long before: the start date is not used.
  rules::TrackedFinding overdue;
  overdue.finding.key = "A1";
  overdue.finding.state = rules::State::kOverdue;
  overdue.finding.start = *rules::Date::from_ymd(2026, 8, 1);
  overdue.finding.due = *rules::Date::from_ymd(2026, 11, 2);
  list.findings.push_back(overdue);
  config::RuleAlerts settings;
  settings.rule = rule.id;

  settings.escalate_after = rules::Duration{2, rules::Unit::kWeeks};  // due + 14 = 16 Nov: not past
  CHECK(service::rule_conditions({list}, {settings}, rules::Calendar{}).empty());
  settings.escalate_after = rules::Duration{13, rules::Unit::kDays};
  const auto conditions = service::rule_conditions({list}, {settings}, rules::Calendar{});
  REQUIRE(conditions.size() == 1);
  CHECK(conditions[0].summary == "past 13 days overdue");
}

TEST_CASE("a second rejected file does not resolve the first; an ingest resolves both",
          "[digest]") {
  const auto extract = [](std::string file, storage::ExtractStatus status) {
    storage::ExtractInfo e;
    e.file = std::move(file);
    e.source = "cases";
    e.status = status;
    e.error = "bad";
    return e;
  };
  using storage::ExtractStatus;
  const auto one = service::rejected_conditions({extract("cases_1.csv", ExtractStatus::kIngested),
                                                 extract("cases_2.csv", ExtractStatus::kRejected)});
  const auto two = service::rejected_conditions({extract("cases_1.csv", ExtractStatus::kIngested),
                                                 extract("cases_2.csv", ExtractStatus::kRejected),
                                                 extract("cases_2.csv", ExtractStatus::kDuplicate),
                                                 extract("cases_3.csv", ExtractStatus::kRejected)});
  const auto fixed =
      service::rejected_conditions({extract("cases_2.csv", ExtractStatus::kRejected),
                                    extract("cases_3.csv", ExtractStatus::kRejected),
                                    extract("cases_4.csv", ExtractStatus::kIngested)});

  REQUIRE(one.size() == 1);
  REQUIRE(two.size() == 2);
  CHECK(service::fingerprint(two[0]) == service::fingerprint(one[0]));
  CHECK(service::fingerprint(two[1]) == "rejected_extract/cases/cases_3.csv");
  CHECK(fixed.empty());

  const auto fired = service::decide_alerts(one, {}, {}, {}, kMonday);
  const auto second = service::decide_alerts(two, fired.states, {}, {}, kMonday + 1h);
  REQUIRE(second.notices.size() == 1);
  CHECK(second.notices[0].kind == NoticeKind::kFiring);
  CHECK(second.notices[0].alert.condition.scope == "cases_3.csv");
}

TEST_CASE("delivery fails when an entry failed or keeps failing, and resolves as it drains",
          "[digest]") {
  auto e = service::make_entry("k", "a@council.example", "cw@council.example", "s", "b", kMonday);
  auto attempts = [&e](int n) {
    auto copy = e;
    copy.attempts = n;
    return copy;
  };
  CHECK(service::delivery_conditions({attempts(2)}).empty());
  CHECK(service::delivery_conditions({attempts(3)}).size() == 1);
  auto failed = e;
  failed.state = service::OutboxState::kFailed;
  CHECK(service::delivery_conditions({failed}).size() == 1);
  CHECK(service::delivery_conditions({}).empty());
}

TEST_CASE("a stale or empty source inhibits its rules' case alerts", "[digest]") {
  rules::RuleSet set;
  set.rules = {unallocated_rule()};
  rules::Rule other;
  other.id = "single-assessment";
  other.source = "assessments";
  set.rules.push_back(other);
  service::AlertCondition stale;
  stale.kind = AlertKind::kStaleSource;
  stale.subject = "cases";

  CHECK(service::inhibited_rules(set, {stale}, {}) == std::set<std::string>{"unallocated"});
  CHECK(service::inhibited_rules(set, {}, {"assessments"}) ==
        std::set<std::string>{"single-assessment"});
  CHECK(service::inhibited_rules(set, {}, {}).empty());

  // A rule reading a second source is inhibited by that one too: a recurring rule's events, an
  // unallocated rule's allocations (social worker episodes).
  rules::Rule reviews;
  reviews.id = "lac-reviews";
  reviews.source = "episodes";
  reviews.events_source = "reviews";
  rules::Rule lac;
  lac.id = "unallocated-lac";
  lac.source = "episodes";
  lac.allocations_source = "social-workers";
  rules::RuleSet two_sources;
  two_sources.rules = {reviews, lac};
  service::AlertCondition stale_reviews = stale;
  stale_reviews.subject = "reviews";
  CHECK(service::inhibited_rules(two_sources, {stale_reviews}, {}) ==
        std::set<std::string>{"lac-reviews"});
  CHECK(service::inhibited_rules(two_sources, {}, {"social-workers"}) ==
        std::set<std::string>{"unallocated-lac"});
  CHECK(service::inhibited_rules(two_sources, {}, {"episodes"}) ==
        std::set<std::string>{"lac-reviews", "unallocated-lac"});
  CHECK(service::inhibited_rules(two_sources, {stale}, {}).empty());

  const auto list = breaching(set.rules[0], 2, 60);
  const auto conditions = service::rule_conditions(
      {list}, {escalate_after({8, rules::Unit::kWeeks})}, rules::Calendar{});
  service::AlertPolicy policy;
  policy.inhibited_rules = {"unallocated"};
  auto with_stale = conditions;
  with_stale.push_back(stale);

  // While inhibited: the stale-source alert fires, the escalations keep quiet.
  const auto inhibited = service::decide_alerts(with_stale, {}, {}, policy, kMonday);
  REQUIRE(inhibited.notices.size() == 1);
  CHECK(inhibited.notices[0].alert.condition.kind == AlertKind::kStaleSource);
  CHECK(inhibited.states.size() == 3);
  // The source is fresh again: the escalations are told as firing, the stale alert resolves.
  const auto fresh = service::decide_alerts(conditions, inhibited.states, {}, {}, kMonday + 1h);
  REQUIRE(fresh.notices.size() == 3);
  CHECK(fresh.notices[0].kind == NoticeKind::kFiring);
  CHECK(fresh.notices[1].kind == NoticeKind::kFiring);
  CHECK(fresh.notices[2].kind == NoticeKind::kResolved);
}

TEST_CASE("the holiday list alerts when it ends within a year", "[digest]") {
  CHECK(service::calendar_condition(*rules::Date::from_ymd(2027, 11, 16), kAsOf) == std::nullopt);
  const auto ending = service::calendar_condition(*rules::Date::from_ymd(2027, 11, 15), kAsOf);
  REQUIRE(ending);
  CHECK(service::fingerprint(*ending) == "calendar_ending/holidays/");
  CHECK(service::calendar_condition(std::nullopt, kAsOf).has_value());
}
