// config: casewatch.toml -> one typed, validated, immutable Config (which contains the
// rules::RuleSet). toml11 is used only in config.cpp. Every problem in a file is reported at
// once, each as "file:line: message", in one ConfigError.
#ifndef CASEWATCH_CONFIG_CONFIG_H_
#define CASEWATCH_CONFIG_CONFIG_H_

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "rules/rules.h"

namespace config {

// Thrown by load_config/parse_config. what() is every message joined by '\n'.
class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(std::vector<std::string> messages);
  const std::vector<std::string>& messages() const { return messages_; }

 private:
  std::vector<std::string> messages_;
};

struct ServiceConfig {
  std::filesystem::path state_dir = "/var/lib/casewatch";  // casewatch.db, inbox/, archive/, ...
  std::filesystem::path socket = "/run/casewatch/control.sock";
  std::string timezone = "Europe/London";
  std::string socket_group = "casewatch";  // may use read commands
  std::string admin_group;                 // may also use write commands; empty = none
  std::chrono::seconds settle{10};         // a file is taken when unchanged this long
  std::chrono::seconds rescan{60};         // periodic inbox rescan (safety net for inotify)
  std::chrono::seconds idle_timeout{60};   // control connections idle this long are closed
  int max_connections = 64;
  std::filesystem::path holidays_file;  // default: the installed data file

  std::filesystem::path database_file() const { return state_dir / "casewatch.db"; }
  std::filesystem::path inbox_dir() const { return state_dir / "inbox"; }
  std::filesystem::path archive_dir() const { return state_dir / "archive"; }
  std::filesystem::path rejected_dir() const { return state_dir / "rejected"; }
  std::filesystem::path reports_dir() const { return state_dir / "reports"; }
};

struct CalendarConfig {
  std::vector<rules::Holiday> extra_closures;  // [calendar] extra_closures
};

// A local wall-clock time of day, written "HH:MM" (two digits each, 00:00 to 23:59).
struct TimeOfDay {
  int hour = 0;    // 0..23
  int minute = 0;  // 0..59
  auto operator<=>(const TimeOfDay&) const = default;
};

// A scheduled pull for a source: a command run without a shell.
struct FetchConfig {
  std::string source;
  std::vector<std::string> command;  // "{file}" is replaced by the temporary output path
  std::vector<TimeOfDay> at;         // local times of day
  std::chrono::seconds timeout{600};
};

// Alert settings of a source: dead man's switch.
struct SourceAlerts {
  std::string source;
  std::optional<std::chrono::hours> max_age;  // alert when no new extract within this
};

// Alert settings of a rule.
struct RuleAlerts {
  std::string rule;
  std::optional<int> alert_over;  // alert when the rule's count exceeds this
  // Alert when a record's own figure crosses this: days unallocated (counted from its since-date)
  // for an unallocated rule, days overdue (counted from its due date) for timescale and recurring
  // rules.
  std::optional<rules::Duration> escalate_after;
  // Alert when a record has been on the rule's review list this long (from the as-of date of the
  // evaluation that first listed it).
  std::optional<rules::Duration> escalate_listed_after;
};

// The alert kinds a [[route]] may list in `alerts`, as named there (and in the metrics' `kind`
// label). Case alerts: escalation, threshold. Operator alerts (no child data): the rest.
inline const std::vector<std::string> kCaseAlertKinds = {"escalation", "threshold"};
inline const std::vector<std::string> kOperatorAlertKinds = {
    "rejected_extract", "stale_source", "unmatched_file", "delivery_failing", "calendar_ending"};

enum class TlsMode { kRequired, kStartTls, kNone };

struct MailConfig {
  std::string server;  // "smtp://host:587" or "smtps://host:465"; empty = no mail
  TlsMode tls = TlsMode::kRequired;
  std::string from;
  std::string username;
  std::filesystem::path password_file;  // or the systemd credential "smtp-password"
  std::filesystem::path ca_file;        // PEM CA certificates to trust; empty = the system store
  std::vector<std::string> allowed_domains;
  std::chrono::hours repeat_interval{24};  // alerts still firing are re-sent this often
  bool send_resolved = true;
  bool enabled() const { return !server.empty(); }
};

struct Route {
  std::string name;
  std::vector<std::string> to;
  std::vector<std::string> rules;  // empty = all rules
  std::vector<std::string> teams;  // globs; empty = all teams (the overall route)
  bool attach_csv = true;
  // The fields this route's recipients may see, widening (or narrowing) [review] fields; unset =
  // [review] fields.
  std::optional<std::vector<std::string>> fields;
  // The alert kinds this route receives (names in kCaseAlertKinds and kOperatorAlertKinds).
  // Unset: the case alerts when the route gets reviews, the operator alerts when it does not.
  std::optional<std::vector<std::string>> alerts;
  // Whether the route gets the weekly review (its slice); false = an operations route.
  bool reviews = true;

  // Whether the route receives alerts of `kind` (a name as in `alerts`).
  bool receives(std::string_view kind) const;
};

struct ReviewConfig {
  int weekday = 1;  // ISO weekday, 1 = Monday
  TimeOfDay at{7, 0};
  // `fields` (alias `csv_columns`): the fields allowed to leave the building, in the email
  // bodies (text and HTML), the attached CSV and the subject. By default no person identifier
  // and no names of children: keys, team, worker, dates. The review files on disk keep every
  // field.
  std::vector<std::string> fields = rules::kDefaultReviewFields;
  // Items per team in each list of an email body; the rest are in the attachment.
  int body_items = 20;
};

// [metrics]: the Prometheus text format over HTTP, GET /metrics only.
struct MetricsConfig {
  std::string address;     // an IPv4 or IPv6 literal; empty = no HTTP endpoint (the default)
  std::uint16_t port = 0;  // with address: "127.0.0.1:9464" -> 127.0.0.1 and 9464
  bool enabled() const { return !address.empty(); }
};

// [retention]: how long extracts and history are kept.
struct RetentionConfig {
  // Archived and rejected extract files older than this many days are deleted once a later
  // extract of their source has been ingested; 0 keeps them forever.
  int archive_days = 90;
  // Record versions that stopped being current, and resolved findings (with their notes),
  // more than this many years ago are deleted; 0 (the default) keeps them forever.
  int history_years = 0;
};

// The whole configuration. Immutable once built; a reload builds a new one.
struct Config {
  std::filesystem::path file;  // the config file it was read from
  ServiceConfig service;
  CalendarConfig calendar;
  rules::RuleSet rules;  // sources, rules, count_start_day
  std::vector<FetchConfig> fetches;
  std::vector<SourceAlerts> source_alerts;
  std::vector<RuleAlerts> rule_alerts;
  MailConfig mail;
  std::vector<Route> routes;
  ReviewConfig review;
  MetricsConfig metrics;
  RetentionConfig retention;
  // What is valid but probably not meant, as "file: warning: ..." (`--check` prints them, the
  // service logs them at start-up and on reload).
  std::vector<std::string> warnings;
};

// Reads and validates `file`. Relative paths in it resolve against the file's folder.
// Throws ConfigError (every problem, "file:line: message") or ConfigError for an unreadable file.
Config load_config(const std::filesystem::path& file);

// The same from text; `file` names it in messages and anchors relative paths.
Config parse_config(std::string_view text, const std::filesystem::path& file);

// The working-day calendar: the holiday data file (service.holidays_file) plus extra closures.
// Throws ConfigError when the data file is missing or malformed.
rules::Calendar load_calendar(const Config& config);

// The holiday data file load_calendar reads: service.holidays_file, or the installed one.
std::filesystem::path holidays_file_in_use(const Config& config);

// The settings that differ between `old` and `next` and that a running service cannot apply
// on reload, as key names: "service.state_dir", "service.socket", "service.socket_group",
// "service.idle_timeout", "service.max_connections", "metrics.listen". Empty when a reload can
// apply everything.
std::vector<std::string> restart_needed(const Config& old, const Config& next);

}  // namespace config

#endif  // CASEWATCH_CONFIG_CONFIG_H_
