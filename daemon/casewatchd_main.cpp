// casewatchd: the composition root. Parses the command line, builds the parts from the Config
// and runs one of: --check, --once, --note, or the service. Catch site 1 of 4 (STYLE.md): startup
// and one-shot failures become a message on stderr and an exit code.
#include <date/tz.h>
#include <fmt/format.h>
#include <pwd.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "daemon/clock.h"
#include "daemon/journal.h"
#include "daemon/mailer.h"
#include "daemon/memory.h"
#include "daemon/once.h"
#include "daemon/policy/outbox.h"
#include "daemon/service.h"
#include "daemon/settings.h"
#include "daemon/work/engine.h"
#include "daemon/work/sender.h"
#include "rules/rules.h"
#include "storage/storage.h"

namespace {

constexpr int kExitUsage = 64;     // EX_USAGE
constexpr int kExitTempFail = 75;  // EX_TEMPFAIL: it ran, but mail still waits to be delivered
constexpr int kExitConfig = 78;    // EX_CONFIG

constexpr std::string_view kUsage = R"(usage:
  casewatchd --config FILE                      run as a service (systemd Type=notify)
  casewatchd --config FILE --check              validate the configuration
  casewatchd --config FILE --once [--as-of YYYY-MM-DD] [--json]
                                                one cycle: ingest the inbox, evaluate, write the
                                                week's review files, print a summary, exit
  casewatchd --config FILE --deliver            try every pending mail once, then exit (for a
                                                cron-run setup; refused while the service runs)
  casewatchd --config FILE --note RULE KEY TEXT [--author NAME]
                                                record a review note on an open finding
  casewatchd --config FILE --restore BACKUP     replace the database by a backup (made with
                                                `casewatch backup`); the service must be stopped
  casewatchd --version | --help
exit codes: 0 done (with --once and --deliver: every mail due was delivered); 1 failure (or
  --check found errors); 64 usage; 75 it ran but mail still waits to be delivered (try
  --deliver later); 78 configuration error
)";

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Options {
  std::string config_file;
  bool check = false;
  bool once = false;
  bool deliver = false;
  bool json = false;
  std::optional<rules::Date> as_of;
  std::vector<std::string> note;  // RULE KEY TEXT
  std::string restore;            // the backup file to restore
  std::string author;
};

Options parse_command_line(int argc, char* argv[]) {
  Options options;
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto arg = args[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) {
        throw UsageError(fmt::format("{} needs a value", arg));
      }
      return std::string(args[++i]);
    };
    if (arg == "--config" || arg == "-c") {
      options.config_file = value();
    } else if (arg == "--check") {
      options.check = true;
    } else if (arg == "--once") {
      options.once = true;
    } else if (arg == "--deliver") {
      options.deliver = true;
    } else if (arg == "--json") {
      options.json = true;
    } else if (arg == "--as-of") {
      const std::string text = value();
      options.as_of = rules::Date::parse_iso(text);
      if (!options.as_of) {
        throw UsageError(fmt::format("--as-of '{}' is not a YYYY-MM-DD date", text));
      }
    } else if (arg == "--note") {
      for (int n = 0; n < 3; ++n) {
        if (i + 1 >= args.size()) {
          throw UsageError("--note needs RULE KEY TEXT");
        }
        options.note.emplace_back(args[++i]);
      }
    } else if (arg == "--restore") {
      options.restore = value();
    } else if (arg == "--author") {
      options.author = value();
    } else {
      throw UsageError(fmt::format("unknown argument '{}'", arg));
    }
  }
  if (options.config_file.empty()) {
    throw UsageError("--config FILE is required");
  }
  if (static_cast<int>(options.check) + static_cast<int>(options.once) +
          static_cast<int>(options.deliver) + static_cast<int>(!options.note.empty()) +
          static_cast<int>(!options.restore.empty()) >
      1) {
    throw UsageError("--check, --once, --deliver, --note and --restore exclude each other");
  }
  if ((options.as_of || options.json) && !options.once) {
    throw UsageError("--as-of and --json go with --once");
  }
  return options;
}

std::string user_name() {
  if (const char* sudo = std::getenv("SUDO_USER"); sudo != nullptr && *sudo != '\0') {
    return sudo;
  }
  if (const passwd* pw = ::getpwuid(::getuid()); pw != nullptr) {
    return pw->pw_name;
  }
  return fmt::format("uid {}", ::getuid());
}

// 0 when no mail waits in the outbox, else 75 (EX_TEMPFAIL), saying which on stderr.
int mail_exit_code(const storage::History& history) {
  const auto waiting = history.outbox(storage::OutboxState::kPending, 100000);
  if (waiting.empty()) {
    return EXIT_SUCCESS;
  }
  std::cerr << fmt::format(
      "casewatchd: {} message{} still wait{} to be delivered (`casewatch outbox`; `casewatchd "
      "--deliver` tries again); exit {}\n",
      waiting.size(), waiting.size() == 1 ? "" : "s", waiting.size() == 1 ? "s" : "",
      kExitTempFail);
  return kExitTempFail;
}

int run_once(const service::Settings& settings, const Options& options) {
  const config::Config& config = settings.config;
  const rules::Calendar& calendar = settings.calendar;
  const rules::Date today =
      options.as_of ? *options.as_of : service::local_date(service::now_utc(), settings.zone);
  service::warn_if_calendar_ends_soon(calendar, today);
  service::prepare_state_dir(config);  // throws naming the folder when it cannot be used
  storage::History history(config.service.database_file());
  service::Engine engine(config, calendar, history);
  const auto cycle = engine.run_cycle();
  for (const auto& file : cycle.ignored) {
    spdlog::warn("inbox: {} is not read: it {}", file.path.filename().string(), file.reason);
  }
  const auto week = rules::iso_week(today);
  const auto now = service::now_utc();
  // The week's review is due: its files, its run and its mail (queued once per route and week).
  // The alerts and the summary read the rules' lists from the review just built: nothing
  // changes the findings between.
  report::Review review;
  const auto folder = engine.produce_review(week, today, /*late=*/false, now, &review);
  engine.run_alerts(now, &review);
  std::vector<service::OutboxEntry> mail;
  if (config.mail.enabled()) {
    service::SmtpMailer mailer(
        service::smtp_options(config.mail, std::getenv("CREDENTIALS_DIRECTORY")));
    mail = service::deliver(history, mailer, now, service::Deliver::kAllPending).tried;
  }
  const auto findings = service::review_findings(review);
  const auto current = engine.evaluate_current();
  if (options.json) {
    std::cout << service::summary_json(config, history, cycle, findings, current, today, folder,
                                       mail)
              << "\n";
  } else {
    // The review shown is the file just written, not a second rendering of it (that would
    // build the whole review again: a fifth of a second at 26,000 findings).
    std::ifstream written(folder / "review.txt", std::ios::binary);
    const std::string review_text = written
                                        ? std::string(std::istreambuf_iterator<char>(written), {})
                                        : engine.render_review(week, today, "text");
    service::print_summary(std::cout, config, cycle, findings, current, today, review_text, folder,
                           mail);
  }
  return mail_exit_code(history);
}

bool service_answers(const std::filesystem::path& path);

// --deliver: every pending entry tried once (a cron-run setup's sender), then the exit code of
// mail_exit_code. Refused while the service runs: its own sender delivers, and two senders could
// send an entry twice.
int run_deliver(const config::Config& config) {
  if (service_answers(config.service.socket)) {
    std::cerr << fmt::format(
        "casewatchd: casewatchd is running (it answers on {}) and delivers the outbox itself; "
        "use `casewatch outbox retry ID` to try an entry now\n",
        config.service.socket.string());
    return EXIT_FAILURE;
  }
  storage::History history(config.service.database_file());
  if (!config.mail.enabled()) {
    std::cout << "mail is not configured ([mail] server): nothing to deliver\n";
    return mail_exit_code(history);
  }
  service::SmtpMailer mailer(
      service::smtp_options(config.mail, std::getenv("CREDENTIALS_DIRECTORY")));
  const auto tried =
      service::deliver(history, mailer, service::now_utc(), service::Deliver::kAllPending).tried;
  std::size_t sent = 0;
  for (const auto& entry : tried) {
    if (entry.state == storage::OutboxState::kSent) {
      ++sent;
    }
    std::cout << fmt::format("  {:<9} {:<32} {}{}\n", storage::to_string(entry.state),
                             entry.recipient, entry.subject,
                             entry.last_error.empty() ? "" : " (" + entry.last_error + ")");
  }
  std::cout << fmt::format("delivered {} of {} pending message{}\n", sent, tried.size(),
                           tried.size() == 1 ? "" : "s");
  return mail_exit_code(history);
}

int run_note(const config::Config& config, const Options& options) {
  storage::History history(config.service.database_file());
  const rules::Note note{options.note[2], options.author.empty() ? user_name() : options.author,
                         service::utc_text(service::now_utc())};
  if (config.rules.find_rule(options.note[0]) == nullptr) {
    std::string rules;
    for (const auto& known : config.rules.rules) {
      rules += (rules.empty() ? "" : ", ") + known.id;
    }
    std::cerr << fmt::format("casewatchd: unknown rule '{}'; the rules are: {}\n", options.note[0],
                             rules);
    return EXIT_FAILURE;
  }
  if (!history.add_note(options.note[0], options.note[1], note)) {
    const std::size_t open_keys = history.open_count(options.note[0]);
    std::cerr << fmt::format(
        "casewatchd: no open finding of rule '{}' for key '{}' ('{}' has {} open key{}): notes go "
        "on findings that are on a list now\n",
        options.note[0], options.note[1], options.note[0], open_keys, open_keys == 1 ? "" : "s");
    return EXIT_FAILURE;
  }
  std::cout << fmt::format("note recorded on {} {} by {}\n", options.note[0], options.note[1],
                           note.author);
  return EXIT_SUCCESS;
}

// Whether a process accepts connections on the Unix socket `path`: a running casewatchd.
bool service_answers(const std::filesystem::path& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::string text = path.string();
  if (text.size() >= sizeof address.sun_path) {
    return false;
  }
  std::memcpy(address.sun_path, text.c_str(), text.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return false;
  }
  const bool connected =
      ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return connected;
}

int run_restore(const config::Config& config, const Options& options) {
  const auto& service = config.service;
  if (service_answers(service.socket)) {
    std::cerr << fmt::format(
        "casewatchd: casewatchd is running (it answers on {}): stop it first (systemctl stop "
        "casewatchd); {} was not changed\n",
        service.socket.string(), service.database_file().string());
    return EXIT_FAILURE;
  }
  const auto restored = storage::restore_database(options.restore, service.database_file());
  std::cout << fmt::format(
      "restored {} from {} ({} bytes, schema version {}); the database it replaced, if any, is "
      "{}.before-restore\n",
      service.database_file().string(), options.restore, restored.bytes, restored.schema_version,
      service.database_file().string());
  return EXIT_SUCCESS;
}

}  // namespace

int main(int argc, char* argv[]) {
  const bool journal = service::log_to_stderr("casewatchd");
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return EXIT_SUCCESS;
    }
    if (arg == "--version") {
      std::cout << "casewatchd " << CASEWATCH_VERSION << "\n";
      return EXIT_SUCCESS;
    }
  }
  service::use_huge_pages(argv);  // may run this program again, the same but for its malloc
  Options options;
  try {
    options = parse_command_line(argc, argv);
  } catch (const UsageError& e) {
    std::cerr << "casewatchd: " << e.what() << "\n" << kUsage;
    return kExitUsage;
  }
  // The end-to-end tests' clock (service::use_test_clock): said in the log, never under systemd.
  if (const char* clock = std::getenv("CASEWATCH_TEST_CLOCK"); clock != nullptr && *clock != '\0') {
    if (std::getenv("INVOCATION_ID") != nullptr) {
      std::cerr << "casewatchd: CASEWATCH_TEST_CLOCK is for the end-to-end tests and is refused "
                   "when systemd starts casewatchd; unset it\n";
      return kExitUsage;
    }
    spdlog::warn("CASEWATCH_TEST_CLOCK is set: the clock reads {} (for tests only)", clock);
    service::use_test_clock(clock);
  }
  try {
    if (!options.once && !options.deliver && options.note.empty() && !options.check &&
        options.restore.empty()) {
      return service::run_service(options.config_file);
    }
    if (!options.note.empty()) {
      return run_note(config::load_config(options.config_file), options);
    }
    if (!options.restore.empty()) {
      return run_restore(config::load_config(options.config_file), options);
    }
    if (options.deliver) {
      return run_deliver(config::load_config(options.config_file));
    }
    // What the service would load at start-up and on reload, all of it.
    const auto settings = service::load_settings(options.config_file);
    if (options.check) {
      service::check_state_dir(settings->config);
      const auto last = settings->calendar.last_listed();
      std::cout << fmt::format(
          "{}: configuration is valid ({} sources, {} rules)\nholidays: {}, listed to {}\n",
          options.config_file, settings->config.rules.sources.size(),
          settings->config.rules.rules.size(),
          config::holidays_file_in_use(settings->config).string(),
          last ? last->iso() : std::string("(no dates)"));
      for (const auto& line : service::file_groups(settings->config)) {
        std::cout << line << "\n";
      }
      for (const auto& warning : settings->config.warnings) {
        std::cout << warning << "\n";
      }
      // Given a state folder with a history: what the rules' changes will do to it.
      if (std::filesystem::exists(settings->config.service.database_file())) {
        const storage::History history(settings->config.service.database_file());
        for (const auto& change : service::definition_changes(settings->config, history)) {
          std::cout << change << "\n";
        }
      }
      return EXIT_SUCCESS;
    }
    return run_once(*settings, options);
  } catch (const config::ConfigError& e) {
    std::cerr << service::error_lines(e.what(), journal);
    return options.check ? EXIT_FAILURE : kExitConfig;
  } catch (const std::exception& e) {
    std::cerr << service::error_lines(fmt::format("casewatchd: {}", e.what()), journal);
    return EXIT_FAILURE;
  }
}
