// Every control command through the command table, against an in-memory database and no
// socket: what each answers, and what it refuses.
#include "daemon/control/commands.h"

#include <date/tz.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <filesystem>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "config/config.h"
#include "daemon/control/findings_view.h"
#include "daemon/policy/outbox.h"
#include "storage/storage.h"
#include "tests/support/temp_dir.h"

namespace {

namespace json = boost::json;
using service::ResultCode;

constexpr const char* kConfig = R"toml([service]
state_dir = "state"
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

[[rule]]
id = "caseload"
kind = "caseload"
source = "cases"
review = false
open_values = ["Open"]
max_cases = 2
)toml";

const rules::Date kAsOf = *rules::Date::from_ymd(2026, 11, 23);

rules::Finding unallocated(const std::string& key, const std::string& team, int days) {
  rules::Finding f;
  f.rule = "unallocated";
  f.key = key;
  f.person = "P-" + key;
  f.team = team;
  f.band = "1-2 months";
  f.since = kAsOf - days;
  f.days = days;
  return f;
}

struct Fixture {
  Fixture() {
    auto built = std::make_shared<service::Settings>();
    built->config = config::parse_config(kConfig, "casewatch.toml");
    built->zone = date::locate_zone("Europe/London");
    settings = built;
    const auto& source = *settings->config.rules.find_source("cases");
    rules::Evaluation evaluation;
    evaluation.findings = {unallocated("C1", "North", 40), unallocated("C2", "South", 35),
                           unallocated("C3", "North", 30)};
    rules::Finding load;
    load.rule = "caseload";
    load.key = "J Smith";
    load.worker = "J Smith";
    load.team = "North";
    load.band = "Over 2 cases";
    load.cases = 3;
    evaluation.findings.push_back(load);
    for (const auto& rule : settings->config.rules.rules) {
      history.apply_evaluation(rule, source, kAsOf, evaluation);
    }
    view.reconfigure(settings);
    service::LifecycleCommands lifecycle;
    const auto named = [this](const std::string& name) {
      return [this, name](const service::Request&, const service::Peer&) {
        lifecycle_calls.push_back(name);
        return service::Answer{ResultCode::kSuccess, name, nullptr};
      };
    };
    lifecycle.status = named("status");
    lifecycle.metrics = named("metrics");
    lifecycle.run_now = named("run-now");
    lifecycle.reload = named("reload");
    lifecycle.shutdown = named("shutdown");
    service::add_commands(
        table, lifecycle,
        service::CommandParts{view, [this] { return settings; }, [this] { ++outbox_changes; }});
  }

  // The reply to `command` with `arguments` from a peer who may do everything.
  json::object ask(const std::string& command, json::object arguments = {},
                   service::Permission permission = service::Permission::kWrite) {
    service::Peer peer;
    peer.uid = 1000;
    peer.user = "jsmith";
    peer.permission = permission;
    const json::object request{{"command", command}, {"arguments", std::move(arguments)}};
    // Pool and reader commands run here, with this history, these settings and the snapshot of
    // now.
    view.open();
    const service::Reading reading{history, *settings, *view.snapshot(), render};
    const auto reply =
        table.handle_line(json::serialize(request), peer, &history, settings.get(), &reading);
    return json::parse(reply.line).as_object();
  }

  static int result(const json::object& reply) {
    return static_cast<int>(reply.at("result").as_int64());
  }
  static std::string text(const json::object& reply) {
    return json::value_to<std::string>(reply.at("text"));
  }

  std::shared_ptr<const service::Settings> settings;
  const service::RenderReview render = [](rules::IsoWeek week, rules::Date as_of,
                                          std::string_view format) {
    return week.str() + " as of " + as_of.iso() + " in " + std::string(format);
  };
  storage::History history{":memory:"};
  service::FindingsView view{history};
  service::CommandTable table;
  std::vector<std::string> lifecycle_calls;
  int outbox_changes = 0;
};

}  // namespace

TEST_CASE("the table holds every command once", "[daemon][commands]") {
  Fixture f;
  CHECK(f.table.names() == std::vector<std::string>{
                               "alerts", "backup", "case", "findings", "metrics", "note", "outbox",
                               "outbox-cancel", "outbox-retry", "reload", "review", "run-now",
                               "shutdown", "silence", "status", "unsilence", "version-get"});
}

TEST_CASE("the lifecycle commands go to the Daemon's handlers", "[daemon][commands]") {
  Fixture f;
  for (const char* name : {"status", "metrics", "run-now", "reload", "shutdown"}) {
    CHECK(Fixture::text(f.ask(name)) == name);
  }
  CHECK(f.lifecycle_calls ==
        std::vector<std::string>{"status", "metrics", "run-now", "reload", "shutdown"});
  const auto version = f.ask("version-get");
  CHECK(Fixture::result(version) == 0);
  CHECK(version.at("arguments").at("protocol").as_int64() == service::kProtocolVersion);
}

TEST_CASE("a reader may read but not write", "[daemon][commands]") {
  Fixture f;
  CHECK(Fixture::result(f.ask("findings", {}, service::Permission::kRead)) == 0);
  for (const char* name : {"note", "silence", "unsilence", "outbox-retry", "outbox-cancel",
                           "backup", "run-now", "reload", "shutdown"}) {
    const auto reply = f.ask(name, {}, service::Permission::kRead);
    CHECK(Fixture::result(reply) == 1);
    CHECK(Fixture::text(reply) == "permission denied");
  }
  CHECK(f.lifecycle_calls.empty());
}

TEST_CASE("findings are filtered and paged", "[daemon][commands]") {
  Fixture f;
  const auto all = f.ask("findings", {{"rule", "unallocated"}});
  CHECK(Fixture::text(all) == "3 findings");

  const auto first = f.ask("findings", {{"rule", "unallocated"}, {"limit", 2}});
  CHECK(Fixture::text(first) == "findings 1 to 2 of 3; the next page from offset 2");
  CHECK(first.at("arguments").at("next_offset").as_int64() == 2);
  CHECK(first.at("arguments").at("findings").as_array().size() == 2);
  const auto rest = f.ask("findings", {{"rule", "unallocated"}, {"limit", "2"}, {"offset", 2}});
  CHECK(Fixture::text(rest) == "findings 3 to 3 of 3");
  CHECK_FALSE(rest.at("arguments").as_object().contains("next_offset"));

  const auto north = f.ask("findings", {{"rule", "unallocated"}, {"team", "North"}});
  CHECK(Fixture::text(north) == "2 findings");
  CHECK(Fixture::result(f.ask("findings", {{"team", "East"}})) == 3);  // empty

  CHECK(Fixture::text(f.ask("findings", {{"rule", "nope"}})) ==
        "findings failed: unknown rule 'nope'");
  CHECK(Fixture::text(f.ask("findings", {{"status", "old"}})) ==
        "findings failed: status 'old' is not one of new, carried");
  CHECK(Fixture::text(f.ask("findings", {{"limit", 0}})) ==
        "findings failed: limit must be 1 to 10000");
}

TEST_CASE("findings take their shape from their rule's kind", "[daemon][commands]") {
  Fixture f;
  const auto load = f.ask("findings", {{"rule", "caseload"}});
  const auto& finding = load.at("arguments").at("findings").at(0).as_object();
  CHECK(finding.at("key") == "J Smith");
  CHECK(finding.at("cases").as_int64() == 3);
  CHECK_FALSE(finding.contains("days"));
  const auto open = f.ask("findings", {{"rule", "unallocated"}, {"limit", 1}});
  const auto& first = open.at("arguments").at("findings").at(0).as_object();
  CHECK(first.at("key") == "C1");
  CHECK(first.at("days").as_int64() == 40);
  CHECK(first.at("since") == "2026-10-14");
  CHECK_FALSE(first.contains("cases"));
}

TEST_CASE("case answers a key's findings, and says when there is none", "[daemon][commands]") {
  Fixture f;
  const auto reply = f.ask("case", {{"key", "C2"}});
  CHECK(Fixture::result(reply) == 0);
  CHECK(Fixture::text(reply) == "C2: 1 open finding, 0 resolved, 0 notes, 0 record versions");
  CHECK(reply.at("arguments").at("findings").at(0).at("rule") == "unallocated");
  CHECK(Fixture::result(f.ask("case", {{"key", "C9"}})) == 3);
  CHECK(Fixture::text(f.ask("case")) == "case needs a key");
}

TEST_CASE("a note goes on an open finding and shows in findings", "[daemon][commands]") {
  Fixture f;
  const auto before = f.ask("findings", {{"rule", "unallocated"}, {"limit", 1}});  // cached
  const auto noted = f.ask("note", {{"rule", "unallocated"}, {"key", "C1"}, {"text", "strategy"}});
  CHECK(Fixture::text(noted) == "note recorded on unallocated C1 by jsmith");
  const auto after = f.ask("findings", {{"rule", "unallocated"}, {"limit", 1}});
  const auto& note = after.at("arguments").at("findings").at(0).at("note");
  CHECK(note.at("text") == "strategy");
  CHECK(note.at("author") == "jsmith");
  CHECK(f.history.open_findings("unallocated")[0].latest_note->text == "strategy");

  const auto open_keys = f.history.open_count("unallocated");
  CHECK(Fixture::text(f.ask("note", {{"rule", "unallocated"}, {"key", "C9"}, {"text", "x"}})) ==
        fmt::format("no open finding of rule 'unallocated' for key 'C9' ('unallocated' has {} "
                    "open key{}): notes go on findings that are on a list now",
                    open_keys, open_keys == 1 ? "" : "s"));
  CHECK(Fixture::text(f.ask("note", {{"rule", "nosuch"}, {"key", "C1"}, {"text", "x"}}))
            .starts_with("unknown rule 'nosuch'; the rules are: unallocated"));
  // A second note joins the trail; the first stays.
  f.ask("note", {{"rule", "unallocated"}, {"key", "C1"}, {"text", "second"}});
  const auto trail = f.ask("case", {{"key", "C1"}}).at("arguments").at("notes").as_array();
  REQUIRE(trail.size() == 2);
  CHECK(trail[0].at("text") == "strategy");
  CHECK(trail[1].at("text") == "second");
  CHECK(f.history.open_findings("unallocated")[0].earlier_notes == 1);
  CHECK(Fixture::text(f.ask("note", {{"rule", "unallocated"}, {"key", "C1"}})) ==
        "note needs rule, key and text");
}

TEST_CASE(
    "review answers a past week from the review produced for it, and refuses a week with "
    "none, a future week or a bad one",
    "[daemon][commands]") {
  Fixture f;
  // A week with no review found nothing: the protocol's "empty" (3), said in a field too.
  const auto none = f.ask("review", {{"week", "2020-W40"}});
  CHECK(Fixture::result(none) == 3);
  CHECK(none.at("arguments").at("produced") == false);
  CHECK(none.at("arguments").at("week") == "2020-W40");
  CHECK(none.at("arguments").at("weeks").as_array().empty());
  CHECK(Fixture::text(none) == "no review was produced for 2020-W40; reviews exist for: none yet");
  const auto w41 = *rules::parse_iso_week("2020-W41");
  f.history.record_review(rules::PublishedReview{w41, w41.monday(), {}}, "2020-10-05T07:00:00Z",
                          "the review of 2020-W41 as it was sent");
  const auto stored = f.ask("review", {{"week", "2020-W41"}});
  CHECK(Fixture::result(stored) == 0);
  CHECK(stored.at("arguments").at("produced") == true);
  CHECK(Fixture::text(stored) == "the review of 2020-W41 as it was sent");
  const auto still_none = f.ask("review", {{"week", "2020-W40"}});
  CHECK(Fixture::result(still_none) == 3);
  CHECK(still_none.at("arguments").at("weeks") == boost::json::array{"2020-W41"});
  CHECK(Fixture::text(still_none) ==
        "no review was produced for 2020-W40; reviews exist for: 2020-W41");
  const auto future = f.ask("review", {{"week", "2999-W01"}});
  CHECK(Fixture::result(future) == 1);  // a question that has no answer: an error, not empty
  CHECK(Fixture::text(future).starts_with("week 2999-W01 is in the future"));
  // This week is rendered from the findings now: a review, even with nothing listed.
  const auto now = f.ask("review", {{"format", "csv"}});
  CHECK(Fixture::result(now) == 0);
  CHECK(now.at("arguments").at("produced") == true);
  CHECK(Fixture::text(now).ends_with(" in csv"));
  CHECK(Fixture::text(f.ask("review", {{"week", "week 40"}})) ==
        "week 'week 40' is not an ISO week like 2026-W47");
}

TEST_CASE("silence checks what it is given; unsilence ends it once", "[daemon][commands]") {
  Fixture f;
  CHECK(Fixture::text(f.ask("silence", {{"rule", "unallocated"}, {"reason", "known"}})) ==
        "silence needs rule, reason and expires (a date like 2026-12-01 or until-resolved)");
  CHECK(Fixture::text(f.ask(
            "silence", {{"rule", "nope"}, {"reason", "known"}, {"expires", "until-resolved"}})) ==
        "'nope' is not a rule, a source or a mail recipient");
  CHECK(
      Fixture::text(f.ask(
          "silence", {{"rule", "unallocated"}, {"reason", "known"}, {"expires", "2001-01-01"}})) ==
      "expires 2001-01-01 is not in the future");
  CHECK(Fixture::text(f.ask("silence",
                            {{"rule", "unallocated"}, {"reason", "known"}, {"expires", "soon"}})) ==
        "expires 'soon' is not a date like 2026-12-01 or until-resolved");
  CHECK(Fixture::result(f.ask("alerts")) == 3);

  const auto added = f.ask("silence", {{"rule", "unallocated"},
                                       {"scope", "North"},
                                       {"reason", "known"},
                                       {"expires", "until-resolved"}});
  REQUIRE(Fixture::result(added) == 0);
  const auto id = added.at("arguments").at("id").as_int64();
  CHECK(Fixture::text(added) == "silence " + std::to_string(id) +
                                    " on unallocated (North) until its alerts resolve, by "
                                    "jsmith (uid 1000)");
  const auto alerts = f.ask("alerts");
  CHECK(Fixture::text(alerts) == "0 firing, 0 resolved; 1 active silence");
  CHECK(alerts.at("arguments").at("silences").at(0).at("scope") == "North");

  CHECK(Fixture::result(f.ask("unsilence", {{"id", id}})) == 0);
  CHECK(Fixture::text(f.ask("unsilence", {{"id", id}})) ==
        "no active silence " + std::to_string(id));
  CHECK(Fixture::text(f.ask("unsilence")) == "unsilence needs an id");
}

TEST_CASE("the outbox commands list, retry and cancel entries", "[daemon][commands]") {
  Fixture f;
  CHECK(Fixture::result(f.ask("outbox")) == 3);
  const auto monday = std::chrono::sys_days{std::chrono::year{2026} / 11 / 23};
  const service::SysSeconds now{monday.time_since_epoch()};
  auto entry = service::make_entry("review/2026-W48/all", "manager@council.example",
                                   "casewatch@council.example", "Review", "bytes", now);
  auto other = entry;
  other.recipient = "team@council.example";
  f.history.queue_mail({entry, other});
  const auto listed = f.ask("outbox");
  CHECK(Fixture::text(listed) == "2 entries");
  const auto& entries = listed.at("arguments").at("entries").as_array();
  const auto first = entries.at(0).at("id").as_int64();
  const auto second = entries.at(1).at("id").as_int64();
  CHECK_FALSE(entries.at(0).as_object().contains("bytes"));

  // Mark one sent, as the sender would.
  auto sent = *f.history.outbox_entry(first);
  sent.state = service::OutboxState::kSent;
  sent.sent_at = now;
  f.history.update_outbox(sent);
  CHECK(Fixture::text(f.ask("outbox-retry", {{"id", first}})) ==
        "outbox entry " + std::to_string(first) + " is sent: unchanged");
  CHECK(f.outbox_changes == 0);

  CHECK(Fixture::text(f.ask("outbox-cancel", {{"id", second}})) ==
        "outbox entry " + std::to_string(second) + " is cancelled");
  CHECK(Fixture::text(f.ask("outbox-retry", {{"id", second}})) ==
        "outbox entry " + std::to_string(second) + " is cancelled: unchanged");
  CHECK(Fixture::text(f.ask("outbox", {{"state", "cancelled"}})) == "1 entry");
  CHECK(Fixture::text(f.ask("outbox", {{"state", "lost"}})) ==
        "state 'lost' is not one of pending, sent, failed, cancelled");
  CHECK(Fixture::text(f.ask("outbox-cancel", {{"id", 999}})) == "no outbox entry 999");
  CHECK(Fixture::text(f.ask("outbox-retry")) == "outbox-retry needs an id");
}

TEST_CASE("backup copies the service's database, a bare name into state_dir/backups",
          "[daemon][commands]") {
  Fixture f;
  const test_support::TempDir dir;
  auto moved = std::make_shared<service::Settings>(*f.settings);
  moved->config.service.state_dir = dir.path();
  f.settings = moved;
  const auto database = moved->config.service.database_file();
  {
    storage::History history(database);
    const auto& source = *moved->config.rules.find_source("cases");
    rules::Evaluation evaluation;
    evaluation.findings = {unallocated("C7", "North", 40)};
    history.apply_evaluation(*moved->config.rules.find_rule("unallocated"), source, kAsOf,
                             evaluation);
  }

  const auto missing = f.ask("backup");
  CHECK(Fixture::result(missing) == 1);
  CHECK(Fixture::text(missing) == "backup needs a file");

  const auto reply = f.ask("backup", {{"file", "week48.db"}});
  REQUIRE(Fixture::result(reply) == 0);
  const auto copy = dir.path() / "backups" / "week48.db";
  const auto& arguments = reply.at("arguments").as_object();
  CHECK(json::value_to<std::string>(arguments.at("file")) == copy.string());
  CHECK(json::value_to<std::uintmax_t>(arguments.at("bytes")) == std::filesystem::file_size(copy));
  CHECK(arguments.at("schema_version").as_int64() > 0);
  struct stat st {};
  REQUIRE(::stat((dir.path() / "backups").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0750);
  const storage::History restored(copy);
  const auto open = restored.open_findings("unallocated");
  REQUIRE(open.size() == 1);
  CHECK(open[0].finding.key == "C7");
}

TEST_CASE(
    "the write commands are pool commands and the reading ones reader commands: without a "
    "database they are not run",
    "[daemon][commands]") {
  Fixture f;
  service::Peer peer;
  peer.user = "jsmith";
  peer.permission = service::Permission::kWrite;
  for (const char* name :
       {"note", "silence", "unsilence", "outbox-retry", "outbox-cancel", "backup"}) {
    const json::object request{{"command", name}, {"arguments", json::object{}}};
    const auto prepared = f.table.prepare(json::serialize(request), peer);
    REQUIRE(std::holds_alternative<service::CommandTable::Call>(prepared));
    CHECK(std::get<service::CommandTable::Call>(prepared).pool != nullptr);
    const auto reply = json::parse(f.table.handle_line(json::serialize(request), peer).line);
    CHECK(reply.at("text").as_string() ==
          std::string(name) + " runs only in the service (it needs the database)");
  }
  for (const char* name : {"findings", "case", "review", "alerts", "outbox"}) {
    const json::object request{{"command", name}};
    const auto prepared = f.table.prepare(json::serialize(request), peer);
    REQUIRE(std::holds_alternative<service::CommandTable::Call>(prepared));
    CHECK(std::get<service::CommandTable::Call>(prepared).pool == nullptr);
    CHECK(std::get<service::CommandTable::Call>(prepared).reader != nullptr);
    const auto reply = json::parse(f.table.handle_line(json::serialize(request), peer).line);
    CHECK(reply.at("text").as_string() ==
          std::string(name) + " runs only in the service (it needs the database)");
  }
  // What stays on the loop touches no database.
  for (const char* name : {"status", "metrics", "version-get", "run-now", "reload", "shutdown"}) {
    const json::object request{{"command", name}};
    const auto prepared = f.table.prepare(json::serialize(request), peer);
    REQUIRE(std::holds_alternative<service::CommandTable::Call>(prepared));
    CHECK(std::get<service::CommandTable::Call>(prepared).handler != nullptr);
  }
}
