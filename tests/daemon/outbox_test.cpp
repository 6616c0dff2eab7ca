#include "daemon/policy/outbox.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <string>

#include "daemon/control/outbox_commands.h"
#include "daemon/control/wire_json.h"
#include "daemon/mailer.h"
#include "daemon/work/sender.h"
#include "report/mime.h"
#include "storage/storage.h"
#include "tests/support/fake_mailer.h"
#include "tests/support/temp_dir.h"

namespace {

using namespace std::chrono_literals;
using service::OutboxState;
using service::SendOutcome;
using service::Time;

// Mon 16 Nov 2026 07:00:00 UTC (20773 days after 1970-01-01, plus 7 h).
const Time kMonday{std::chrono::seconds(20773LL * 86400 + 7LL * 3600)};

service::OutboxEntry entry_at(Time now) {
  return service::make_entry("review/2026-W47/all", "manager@council.example",
                             "casewatch@council.example", "casewatch weekly review 2026-W47",
                             "bytes\r\n", now);
}

const service::SendResult kRefused{SendOutcome::kTemporary, 0, "cannot connect"};

}  // namespace

TEST_CASE("retry delays start at 5 minutes and double up to an hour", "[outbox]") {
  auto [failures, minutes] =
      GENERATE(table<int, int>({{1, 5}, {2, 10}, {3, 20}, {4, 40}, {5, 60}, {6, 60}, {100, 60}}));
  CAPTURE(failures);
  CHECK(service::retry_delay(failures) == std::chrono::minutes(minutes));
}

TEST_CASE("a new entry is due at once and given up five days later", "[outbox]") {
  const auto entry = entry_at(kMonday);

  CHECK(entry.state == OutboxState::kPending);
  CHECK(service::is_due(entry, kMonday));
  CHECK_FALSE(service::is_due(entry, kMonday - 1s));
  CHECK(entry.deadline == kMonday + 120h);
}

TEST_CASE("an accepted message is marked sent and never due again", "[outbox]") {
  const auto sent =
      service::after_attempt(entry_at(kMonday), {SendOutcome::kSent, 250, "ok"}, kMonday + 1s);

  CHECK(sent.state == OutboxState::kSent);
  CHECK(sent.sent_at == kMonday + 1s);
  CHECK(sent.attempts == 1);
  CHECK_FALSE(service::is_due(sent, kMonday + 1000h));
}

TEST_CASE("temporary failures follow the backoff schedule", "[outbox]") {
  auto entry = entry_at(kMonday);
  // Each attempt happens exactly when due: 0, +5, +15, +35, +75, +135 minutes.
  const std::vector<std::chrono::minutes> expected_next = {5min,  15min,  35min,
                                                           75min, 135min, 195min};
  for (const auto next : expected_next) {
    entry = service::after_attempt(entry, kRefused, entry.next_attempt);
    CHECK(entry.state == OutboxState::kPending);
    CHECK(entry.next_attempt == kMonday + next);
  }
  CHECK(entry.attempts == 6);
  CHECK(entry.last_error == "cannot connect");
}

TEST_CASE("a server down for five days is given up with the reason kept", "[outbox]") {
  auto entry = entry_at(kMonday);
  int attempts = 0;
  while (entry.state == OutboxState::kPending && attempts < 1000) {
    entry = service::after_attempt(entry, kRefused, entry.next_attempt);
    ++attempts;
  }

  CHECK(entry.state == OutboxState::kFailed);
  CHECK(entry.last_error == "gave up after 5 days: cannot connect");
  // The last attempt is on the deadline itself: 5 + 10 + 20 + 40 minutes, then hourly.
  CHECK(entry.attempts == 4 + 119 + 1);
}

TEST_CASE("a permanent failure stops at once", "[outbox]") {
  const auto failed = service::after_attempt(
      entry_at(kMonday), {SendOutcome::kPermanent, 550, "rejected by the server"}, kMonday);

  CHECK(failed.state == OutboxState::kFailed);
  CHECK(failed.last_error == "rejected by the server");
  CHECK_FALSE(service::is_due(failed, kMonday + 1000h));
}

TEST_CASE("retry makes a failed entry due at once with a fresh deadline; cancel stops it",
          "[outbox]") {
  auto failed =
      service::after_attempt(entry_at(kMonday), {SendOutcome::kPermanent, 550, "no"}, kMonday);
  const auto again = service::retried(failed, kMonday + 48h);
  CHECK(again.state == OutboxState::kPending);
  CHECK(service::is_due(again, kMonday + 48h));
  CHECK(again.deadline == kMonday + 48h + 120h);

  CHECK(service::cancelled(again).state == OutboxState::kCancelled);
  const auto sent = service::after_attempt(again, {SendOutcome::kSent, 250, "ok"}, kMonday + 48h);
  CHECK(service::cancelled(sent).state == OutboxState::kSent);
  CHECK(service::retried(sent, kMonday + 49h).state == OutboxState::kSent);
}

TEST_CASE("server down then up: each entry is delivered once", "[outbox]") {
  service::FakeMailer mailer;
  mailer.script(kRefused);
  mailer.script(kRefused);
  std::vector<service::OutboxEntry> queue = {entry_at(kMonday), entry_at(kMonday)};
  queue[1].recipient = "team@council.example";

  // The sender's loop: try what is due, store the result, move the clock to the next due time.
  Time now = kMonday;
  for (int round = 0; round < 10; ++round) {
    for (auto& entry : queue) {
      if (service::is_due(entry, now)) {
        entry = service::attempt(entry, mailer, now);
      }
    }
    now += 5min;
  }

  CHECK(mailer.calls().size() == 4);
  REQUIRE(mailer.delivered().size() == 2);
  CHECK(mailer.delivered()[0].envelope.to == "manager@council.example");
  CHECK(mailer.delivered()[1].envelope.to == "team@council.example");
  CHECK(queue[0].state == OutboxState::kSent);
  CHECK(queue[1].state == OutboxState::kSent);
}

TEST_CASE("message ids are made from the outbox key and the sender's domain", "[outbox]") {
  CHECK(service::message_id_for("review/2026-W47/east team", "casewatch@council.example") ==
        "casewatch.review.2026-W47.east.team@council.example");
  CHECK(service::message_id_for("k", "nobody") == "casewatch.k@casewatch.invalid");
}

TEST_CASE("recipients must be in an allowed domain", "[outbox]") {
  auto [address, allowed] = GENERATE(table<std::string, bool>({
      {"a@council.example", true},
      {"a@COUNCIL.example", true},
      {"a@evil.example", false},
      {"a@sub.council.example", false},
      {"no-at-sign", false},
  }));
  CAPTURE(address);
  CHECK(service::recipient_allowed(address, {"council.example"}) == allowed);
  CHECK(service::recipient_allowed(address, {}));
}

TEST_CASE("the weekly review is queued once per recipient of each route, sliced by team",
          "[outbox]") {
  rules::Rule rule;
  rule.id = "unallocated";
  rule.title = "Unallocated cases";
  report::Review review;
  review.week = {2026, 47};
  review.today = *rules::Date::from_ymd(2026, 11, 16);
  report::RuleSection section;
  section.rule = &rule;
  section.as_of = review.today;
  for (const auto& [key, team] : {std::pair{"C1", "East"}, std::pair{"C2", "West"}}) {
    rules::TrackedFinding tracked;
    tracked.finding.rule = "unallocated";
    tracked.finding.key = key;
    tracked.finding.person = std::string("Person of ") + key;
    tracked.finding.team = team;
    tracked.finding.since = review.today - 40;
    tracked.finding.days = 40;
    tracked.first_seen = review.today - 7;
    section.open.push_back(tracked);
  }
  review.sections.push_back(section);

  config::Config config;
  config.mail.server = "smtp://127.0.0.1:2525";
  config.mail.from = "casewatch@council.example";
  config.mail.allowed_domains = {"council.example"};
  config.routes = {
      {"all", {"head@council.example", "leak@elsewhere.example"}, {}, {}, true, {}},
      {"east", {"east@council.example"}, {}, {"East*"}, false, {}},
  };

  const auto entries = service::review_mail(review, config, kMonday);

  REQUIRE(entries.size() == 2);
  CHECK(entries[0].key == "review/2026-W47/all");
  CHECK(entries[0].recipient == "head@council.example");
  CHECK(entries[1].key == "review/2026-W47/east");
  CHECK(entries[1].recipient == "east@council.example");
  CHECK(entries[0].subject.starts_with("casewatch 2026-W47: "));
  const std::string& all = entries[0].bytes;
  CHECK(all.find("Message-ID: <casewatch.review.2026-W47.all@council.example>") !=
        std::string::npos);
  CHECK(all.find("Date: Mon, 16 Nov 2026 07:00:00 +0000") != std::string::npos);
  CHECK(all.find("filename=\"casewatch-2026-W47.csv\"") != std::string::npos);
  CHECK(all.find("leak@elsewhere.example") == std::string::npos);
  // The team route gets no attachment and only its team's case.
  const std::string& east = entries[1].bytes;
  CHECK(east.find("filename=") == std::string::npos);
  CHECK(east.find("C1") != std::string::npos);
  CHECK(east.find("C2") == std::string::npos);

  config.mail.server.clear();
  CHECK(service::review_mail(review, config, kMonday).empty());
}

TEST_CASE("a queued entry is stored once, whatever happens to it later", "[outbox][storage]") {
  storage::History history(":memory:");
  auto entry = entry_at(kMonday);
  auto other = entry_at(kMonday);
  other.recipient = "team@council.example";

  CHECK(history.queue_mail({entry, other}) == 2);
  CHECK(history.queue_mail({entry}) == 0);
  CHECK(history.record_review_run("2026-W47", false, "2026-11-16T07:00:00Z", {entry, other}) == 0);
  CHECK(history.last_review_week() == "2026-W47");

  const auto stored = history.outbox(std::nullopt, 10, true);
  REQUIRE(stored.size() == 2);
  CHECK(stored[1].key == "review/2026-W47/all");
  CHECK(stored[1].recipient == "manager@council.example");
  CHECK(stored[1].bytes == "bytes\r\n");
  CHECK(stored[1].created == kMonday);
  CHECK(stored[1].deadline == kMonday + 120h);
  CHECK(stored[1].state == OutboxState::kPending);
  CHECK(history.next_outbox_attempt() == kMonday);
}

TEST_CASE("across a restart and a server outage each message is delivered once",
          "[outbox][storage]") {
  test_support::TempDir dir;
  const auto db = dir / "casewatch.db";
  service::FakeMailer mailer;
  {
    storage::History history(db);
    auto other = entry_at(kMonday);
    other.recipient = "team@council.example";
    history.queue_mail({entry_at(kMonday), other});
    mailer.script(kRefused);
    mailer.script(kRefused);
    const auto round = service::deliver(history, mailer, kMonday, service::Deliver::kDue);
    const auto& first = round.tried;
    REQUIRE(first.size() == 2);
    CHECK(round.windows.empty());  // nothing sent: no window
    CHECK(first[0].next_attempt == kMonday + 5min);
    CHECK(service::deliver(history, mailer, kMonday + 4min, service::Deliver::kDue).tried.empty());
  }
  storage::History reopened(db);  // the service restarted
  CHECK(reopened.next_outbox_attempt() == kMonday + 5min);
  const auto second =
      service::deliver(reopened, mailer, kMonday + 5min, service::Deliver::kDue).tried;
  CHECK(second.size() == 2);
  CHECK(service::deliver(reopened, mailer, kMonday + 10h, service::Deliver::kDue).tried.empty());

  CHECK(mailer.calls().size() == 4);
  CHECK(mailer.delivered().size() == 2);
  CHECK(reopened.outbox(OutboxState::kSent, 10).size() == 2);
  CHECK(reopened.next_outbox_attempt() == std::nullopt);
}

TEST_CASE("the outbox commands retry a failed entry and cancel a pending one",
          "[outbox][storage]") {
  storage::History history(":memory:");
  auto other = entry_at(kMonday);
  other.recipient = "team@council.example";
  history.queue_mail({entry_at(kMonday), other});
  service::FakeMailer mailer;
  mailer.script({SendOutcome::kPermanent, 550, "rejected by the server"});
  mailer.script(kRefused);
  service::deliver(history, mailer, kMonday, service::Deliver::kDue);
  const auto failed = history.outbox(OutboxState::kFailed, 10);
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].last_error == "rejected by the server");

  const auto retried = service::outbox_retry(history, failed[0].id, kMonday + 1h);
  REQUIRE(retried);
  CHECK(retried->state == OutboxState::kPending);
  const auto pending = history.outbox(OutboxState::kPending, 10);
  REQUIRE(pending.size() == 2);
  CHECK(service::outbox_cancel(history, pending[1].id)->state == OutboxState::kCancelled);
  CHECK_FALSE(service::outbox_retry(history, 999, kMonday));

  const auto delivered =
      service::deliver(history, mailer, kMonday + 1h, service::Deliver::kDue).tried;
  REQUIRE(delivered.size() == 1);
  CHECK(delivered[0].state == OutboxState::kSent);
  CHECK(delivered[0].sent_at == kMonday + 1h);
}

TEST_CASE("a one-shot run tries every pending entry whatever its backoff", "[outbox][storage]") {
  storage::History history(":memory:");
  history.queue_mail({entry_at(kMonday)});
  service::FakeMailer mailer;
  mailer.script(kRefused);
  service::deliver(history, mailer, kMonday, service::Deliver::kDue);
  CHECK(service::deliver(history, mailer, kMonday + 1min, service::Deliver::kDue).tried.empty());

  const auto round =
      service::deliver(history, mailer, kMonday + 1min, service::Deliver::kAllPending);

  const auto& done = round.tried;
  REQUIRE(done.size() == 1);
  CHECK(done[0].state == OutboxState::kSent);
  CHECK(round.windows.size() == 1);  // one window measured per message sent
  CHECK(mailer.delivered().size() == 1);
}

TEST_CASE("the outbox lists as JSON without the message bytes", "[outbox]") {
  auto entry = entry_at(kMonday);
  entry.id = 3;

  CHECK(boost::json::serialize(service::outbox_json({entry})) ==
        R"([{"id":3,"key":"review/2026-W47/all","recipient":"manager@council.example",)"
        R"("subject":"casewatch weekly review 2026-W47","state":"pending","attempts":0,)"
        R"("created":"2026-11-16T07:00:00Z","next_attempt":"2026-11-16T07:00:00Z",)"
        R"("deadline":"2026-11-21T07:00:00Z","sent_at":null,"last_error":""}])");
}

TEST_CASE("a due review is recorded with its mail, and never queued twice", "[outbox][storage]") {
  storage::History history(":memory:");
  report::Review review;
  review.week = {2026, 47};
  review.today = *rules::Date::from_ymd(2026, 11, 16);
  config::Config config;
  config.mail.server = "smtp://127.0.0.1:2525";
  config.mail.from = "casewatch@council.example";
  config.routes = {{"all", {"head@council.example"}, {}, {}, true, {}}};

  CHECK(service::queue_review(history, review, config, false, kMonday) == 1);
  CHECK(service::queue_review(history, review, config, true, kMonday + 1h) == 0);

  CHECK(history.last_review_week() == "2026-W47");
  const auto entries = history.outbox(std::nullopt, 10, true);
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].key == "review/2026-W47/all");
  CHECK(entries[0].bytes.find("Date: Mon, 16 Nov 2026 07:00:00 +0000\r\n") != std::string::npos);
}

TEST_CASE("a delivery round ends between entries once asked to stop", "[outbox][storage]") {
  storage::History history(":memory:");
  auto second = entry_at(kMonday);
  second.recipient = "team@council.example";
  auto third = entry_at(kMonday);
  third.recipient = "head@council.example";
  history.queue_mail({entry_at(kMonday), second, third});
  service::FakeMailer mailer;
  int asked = 0;
  // The stop arrives while the first send runs: the round ends before the second.
  const auto round = service::deliver(history, mailer, kMonday, service::Deliver::kDue,
                                      [&] { return ++asked > 1; });
  const auto& done = round.tried;
  REQUIRE(done.size() == 1);
  CHECK(done[0].state == OutboxState::kSent);
  CHECK(done[0].bytes.empty());
  CHECK(mailer.calls().size() == 1);
  CHECK(history.outbox(OutboxState::kSent, 10).size() == 1);
  CHECK(history.outbox(OutboxState::kPending, 10).size() == 2);
  // The next round takes the rest.
  CHECK(service::deliver(history, mailer, kMonday, service::Deliver::kDue).tried.size() == 2);
}
