#include "daemon/control/commands.h"

#include <fmt/format.h>

#include "daemon/clock.h"
#include "daemon/control/alert_commands.h"
#include "daemon/control/backup_command.h"
#include "daemon/control/outbox_commands.h"

namespace service {

namespace json = boost::json;

void add_commands(CommandTable& table, LifecycleCommands lifecycle, CommandParts parts) {
  using P = Permission;
  using R = const Reading&;
  auto& findings = parts.findings;
  const auto settings = parts.settings;

  table.add("version-get", P::kRead, [](const Request&, const Peer&) {
    return Answer{ResultCode::kSuccess, fmt::format("casewatch {}", CASEWATCH_VERSION),
                  json::object{{"version", CASEWATCH_VERSION}, {"protocol", kProtocolVersion}}};
  });
  table.add("status", P::kRead, std::move(lifecycle.status));
  table.add("metrics", P::kRead, std::move(lifecycle.metrics));
  table.add("run-now", P::kWrite, std::move(lifecycle.run_now));
  table.add("reload", P::kWrite, std::move(lifecycle.reload));
  table.add("shutdown", P::kWrite, std::move(lifecycle.shutdown));

  // Reader commands (CommandTable::ReaderHandler): `read` holds the reader thread's read-only
  // connection, and the settings and findings snapshot of the moment the command was asked.
  // A cached `findings` answer is given on the loop at once.
  table.add_reader(
      "findings", P::kRead,
      [](const Request& r, const Peer&, R read) {
        return findings_command(r, read.settings, read.findings);
      },
      [&findings, settings](const Request& r, const Peer&) -> std::optional<Answer> {
        const auto snapshot = findings.snapshot();
        if (!snapshot) {
          return std::nullopt;
        }
        return cached_findings(r, *settings(), *snapshot);
      });
  table.add_reader("case", P::kRead,
                   [](const Request& r, const Peer&, R read) { return case_command(r, read); });
  table.add_reader("review", P::kRead, [](const Request& r, const Peer&, R read) {
    return review_command(r, read, local_date(now_utc(), read.settings.zone));
  });
  table.add_reader("alerts", P::kRead, [](const Request&, const Peer&, R read) {
    return alerts_command(read.history);
  });
  table.add_reader("outbox", P::kRead, [](const Request& r, const Peer&, R read) {
    return outbox_command(r, read.history);
  });

  // Pool commands (CommandTable::PoolHandler), the ones that write: `history` is the pool
  // thread's connection and `s` the settings of the moment the command was asked.
  table.add_pool("note", P::kWrite,
                 [&findings](const Request& r, const Peer& peer, storage::History& history,
                             const Settings& s) {
                   return findings.note(r, peer, history, s.config, now_utc());
                 });
  table.add_pool("backup", P::kWrite,
                 [](const Request& r, const Peer&, storage::History&, const Settings& s) {
                   return PoolAnswer{backup_command(r, s.config)};
                 });
  table.add_pool(
      "silence", P::kWrite,
      [](const Request& r, const Peer& peer, storage::History& history, const Settings& s) {
        return PoolAnswer{silence_command(r, peer, history, s, now_utc())};
      });
  table.add_pool("unsilence", P::kWrite,
                 [](const Request& r, const Peer& peer, storage::History& history,
                    const Settings&) { return PoolAnswer{unsilence_command(r, peer, history)}; });
  const auto change = [changed = parts.outbox_changed](bool retry) {
    return [changed, retry](const Request& r, const Peer& peer, storage::History& history,
                            const Settings&) {
      PoolAnswer out{outbox_change_command(r, peer, history, retry, now_utc())};
      if (retry && out.answer.result == ResultCode::kSuccess && changed) {
        out.then = changed;
      }
      return out;
    };
  };
  table.add_pool("outbox-retry", P::kWrite, change(true));
  table.add_pool("outbox-cancel", P::kWrite, change(false));
}

}  // namespace service
