// Where the control commands run (daemon/dispatch.h), on a real database file with the parts the
// service wires: the loop never waits on SQLite. A job on the pool holds SQLite's write lock
// (an extract being written) until the test lets it go; meanwhile `case` (read on the reader
// thread) and `status` (on the loop) answer, and a `note` waits for the job on the pool.
#include "daemon/dispatch.h"

#include <date/tz.h>
#include <fmt/format.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <optional>
#include <string>
#include <utility>

#include "config/config.h"
#include "daemon/control/commands.h"
#include "storage/storage.h"
#include "tests/support/temp_dir.h"

namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using service::Reply;

constexpr const char* kConfig = R"toml([service]
state_dir = "{}"
timezone = "Europe/London"

[[source]]
name = "cases"
files = "cases*.csv"
key = ["Case ID"]
date_formats = ["%d/%m/%Y"]
[source.fields]
person = "Child ID"
team = "Team"
worker = "Worker"
opened = "Referral Date"
status = "Status"

[[rule]]
id = "unallocated"
kind = "unallocated"
source = "cases"
open_values = ["Open"]
over_days = 28
)toml";

const rules::Date kAsOf = *rules::Date::from_ymd(2026, 11, 23);

// A bound on how long a test may wait for something that should happen at once: past it the test
// lets everything go and fails, rather than hanging.
constexpr auto kTimeout = std::chrono::seconds(60);

// The parts the service wires, on a database in a temporary state folder with open findings of
// C1 and C2. The pool's one job writes an extract of C1 and holds the write lock until release().
struct Service {
  Service() {
    auto built = std::make_shared<service::Settings>();
    built->config =
        config::parse_config(fmt::format(kConfig, dir.path().string()), dir / "casewatch.toml");
    built->zone = date::locate_zone("Europe/London");
    settings = built;
    {
      storage::History writer(database);
      rules::Evaluation evaluation;
      for (const char* key : {"C1", "C2"}) {
        rules::Finding f;
        f.rule = "unallocated";
        f.key = key;
        f.team = "North";
        f.band = "1-2 months";
        f.since = kAsOf - 40;
        f.days = 40;
        evaluation.findings.push_back(f);
      }
      writer.apply_evaluation(*settings->config.rules.find_rule("unallocated"),
                              *settings->config.rules.find_source("cases"), kAsOf, evaluation);
    }
    view.reconfigure(settings);
    service::LifecycleCommands lifecycle;
    const auto answer = [](const std::string& text) {
      return [text](const service::Request&, const service::Peer&) {
        return service::Answer{service::ResultCode::kSuccess, text, nullptr};
      };
    };
    lifecycle.status = answer("up");
    lifecycle.metrics = lifecycle.run_now = lifecycle.reload = lifecycle.shutdown = answer("");
    service::add_commands(table, lifecycle,
                          service::CommandParts{view, [this] { return settings; }, {}});
    peer.uid = 1000;
    peer.user = "jsmith";
    peer.permission = service::Permission::kWrite;
  }

  // Starts the job: returns once it holds the write lock.
  void hold_write_lock() {
    jobs.enqueue(service::Job{service::Job::Kind::kCycle, {}, {}});
    started.get_future().get();  // rethrows when the job could not take the lock
  }
  // Lets the job commit and end. Idempotent (the loop's thread only).
  void release() {
    if (!released) {
      release_.set_value();
    }
    released = true;
  }

  // Runs `line` through the dispatcher on the loop; `done` gets the reply line.
  void ask(std::string line, std::function<void(const std::string&)> done) {
    asio::co_spawn(
        io,
        [this, line = std::move(line)]() -> asio::awaitable<std::string> {
          const Reply reply = co_await dispatcher.handle(line, peer);
          co_return reply.line;
        },
        [done = std::move(done)](const std::exception_ptr& error, std::string reply) {
          done(error ? "the dispatcher threw" : std::move(reply));  // (a reply line is JSON)
        });
  }

  static std::string text(const std::string& reply) {
    return json::value_to<std::string>(json::parse(reply).at("text"));
  }

  test_support::TempDir dir;
  const std::filesystem::path database = dir / "casewatch.db";
  std::shared_ptr<const service::Settings> settings;
  asio::io_context io;
  storage::History history{database};  // the loop's
  std::promise<void> started;
  std::promise<void> release_;
  bool released = false;
  service::JobQueue jobs{
      io,
      [this](const service::Job&) -> service::JobQueue::Work {
        return [this] {
          service::JobResult result;
          bool locked = false;
          try {
            storage::History pool(database);
            storage::ExtractInfo info;
            info.file = "cases_2026-11-30.csv";
            info.source = "cases";
            info.sha256 = "held";
            info.as_of = kAsOf + 7;
            info.handled_at = "2026-11-30T09:00:00Z";
            auto writer = pool.begin_extract(info);  // BEGIN IMMEDIATE: the write lock
            writer.add(rules::Record{"C1", {"P1", "North", "", "2026-10-14", "Open"}});
            started.set_value();
            locked = true;
            release_.get_future().wait();
            writer.commit(1);
          } catch (const std::exception& e) {
            result.error = e.what();
            if (!locked) {
              started.set_exception(std::current_exception());
            }
          }
          return result;
        };
      },
      [](const service::Job&, service::JobResult&) {},
      [](const service::Job&, const service::JobResult&) {}};
  service::FindingsView view{history};
  service::CommandTable table;
  service::ReaderThread reader{database};
  service::Dispatcher dispatcher{io,  table, jobs, reader, database, [this] { return settings; },
                                 view};
  service::Peer peer;
};

}  // namespace

TEST_CASE("case and status answer while a job holds the write lock on the pool; a note waits",
          "[daemon][dispatch]") {
  Service s;
  s.view.open();  // the snapshot, read on the loop as the service does at start
  s.hold_write_lock();
  std::optional<std::string> note, case_c1, status, after;
  bool case_before_release = false;
  bool status_before_release = false;
  asio::steady_timer timeout(s.io, kTimeout);
  timeout.async_wait([&](boost::system::error_code ec) {
    if (!ec) {
      s.release();  // something waited on the pool: let it go (the checks below fail)
    }
  });
  s.ask(R"({"command": "note", "arguments": {"rule": "unallocated", "key": "C1", "text": "seen"}})",
        [&](const std::string& reply) {
          note = reply;
          // The note is in: the reader now reads the committed extract and the note.
          s.ask(R"({"command": "case", "arguments": {"key": "C1"}})",
                [&](const std::string& reply) {
                  after = reply;
                  timeout.cancel();
                });
        });
  s.ask(R"({"command": "case", "arguments": {"key": "C1"}})", [&](const std::string& reply) {
    case_c1 = reply;
    case_before_release = !s.released && !note;
    s.ask(R"({"command": "status"})", [&](const std::string& reply) {
      status = reply;
      status_before_release = !s.released && !note;
      s.release();
    });
  });
  s.io.run();

  REQUIRE(case_c1);
  CHECK(case_before_release);
  CHECK(Service::text(*case_c1) == "C1: 1 open finding, 0 resolved, 0 notes, 0 record versions");
  REQUIRE(status);
  CHECK(status_before_release);
  CHECK(Service::text(*status) == "up");
  REQUIRE(note);
  CHECK(Service::text(*note) == "note recorded on unallocated C1 by jsmith");
  REQUIRE(after);
  CHECK(Service::text(*after) == "C1: 1 open finding, 0 resolved, 1 note, 1 record version");
  // The note is in the loop's snapshot too.
  const auto listed = service::findings_command(service::Request{"findings", {}, nullptr},
                                                *s.settings, *s.view.snapshot());
  const auto shown = json::parse(*listed.serialized_arguments).at("findings").at(0);
  CHECK(shown.at("key") == "C1");
  CHECK(shown.at("note").at("text") == "seen");
}

TEST_CASE("a cached findings answer is given on the loop while the reader thread is busy",
          "[daemon][dispatch]") {
  // Before the service: they outlive its reader thread, which uses them.
  std::promise<void> busy, free;
  Service s;
  s.view.open();  // the snapshot, read on the loop as the service does at start
  const std::string request = R"({"command": "findings", "arguments": {"team": "North"}})";
  std::optional<std::string> first, second;
  s.ask(request, [&](const std::string& reply) { first = reply; });
  s.io.run();
  REQUIRE(first);
  CHECK(Service::text(*first) == "2 findings");

  s.reader.post([&] {
    busy.set_value();
    free.get_future().wait();
  });
  busy.get_future().wait();
  bool timed_out = false;
  s.io.restart();
  asio::steady_timer timeout(s.io, kTimeout);
  timeout.async_wait([&](boost::system::error_code ec) {
    if (ec) {
      return;
    }
    timed_out = true;  // the answer waited for the reader: let it go (the checks below fail)
    free.set_value();
  });
  s.ask(request, [&](const std::string& reply) {
    second = reply;
    timeout.cancel();
  });
  s.io.run();
  if (!timed_out) {
    free.set_value();
  }
  CHECK_FALSE(timed_out);
  REQUIRE(second);
  CHECK(*second == *first);
}

TEST_CASE("a reader command still queued when the service stops is answered without reading",
          "[daemon][dispatch]") {
  std::promise<void> busy, free;  // before the service: they outlive its reader thread
  Service s;
  s.reader.post([&] {
    busy.set_value();
    free.get_future().wait();
  });
  busy.get_future().wait();
  std::optional<std::string> alerts;
  s.ask(R"({"command": "alerts"})", [&](const std::string& reply) { alerts = reply; });
  s.io.poll();  // the command is queued behind the busy reader
  CHECK_FALSE(alerts);
  s.reader.stop();
  free.set_value();
  s.io.run();
  REQUIRE(alerts);
  CHECK(Service::text(*alerts) == "alerts failed: the service is stopping");
  s.reader.join();
}
