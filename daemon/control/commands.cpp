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
  auto& history = parts.history;
  auto& findings = parts.findings;
  const auto settings = parts.settings;
  const auto today = [settings] { return local_date(now_utc(), settings()->zone); };

  table.add("version-get", P::kRead, [](const Request&, const Peer&) {
    return Answer{ResultCode::kSuccess, fmt::format("casewatch {}", CASEWATCH_VERSION),
                  json::object{{"version", CASEWATCH_VERSION}, {"protocol", kProtocolVersion}}};
  });
  table.add("status", P::kRead, std::move(lifecycle.status));
  table.add("metrics", P::kRead, std::move(lifecycle.metrics));
  table.add("run-now", P::kWrite, std::move(lifecycle.run_now));
  table.add("reload", P::kWrite, std::move(lifecycle.reload));
  table.add("shutdown", P::kWrite, std::move(lifecycle.shutdown));

  table.add("findings", P::kRead,
            [&findings](const Request& r, const Peer&) { return findings.findings(r); });
  table.add("case", P::kRead,
            [&findings](const Request& r, const Peer&) { return findings.case_of(r); });
  // The write commands are pool commands (CommandTable::PoolHandler): `history` there is the pool
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
  table.add("review", P::kRead,
            [&findings, today, render = parts.render_review](const Request& r, const Peer&) {
              return findings.review(r, today(), render);
            });

  table.add("alerts", P::kRead,
            [&history](const Request&, const Peer&) { return alerts_command(history); });
  table.add_pool(
      "silence", P::kWrite,
      [](const Request& r, const Peer& peer, storage::History& history, const Settings& s) {
        return PoolAnswer{silence_command(r, peer, history, s, now_utc())};
      });
  table.add_pool("unsilence", P::kWrite,
                 [](const Request& r, const Peer& peer, storage::History& history,
                    const Settings&) { return PoolAnswer{unsilence_command(r, peer, history)}; });

  table.add("outbox", P::kRead,
            [&history](const Request& r, const Peer&) { return outbox_command(r, history); });
  const auto change = [changed = parts.outbox_changed](bool retry) {
    return [changed, retry](const Request& r, const Peer& peer, storage::History& history,
                            const Settings&) {
      PoolAnswer out{outbox_change_command(r, peer, history, retry, now_utc())};
      if (retry && out.answer.result == ResultCode::kSuccess && changed) out.then = changed;
      return out;
    };
  };
  table.add_pool("outbox-retry", P::kWrite, change(true));
  table.add_pool("outbox-cancel", P::kWrite, change(false));
}

}  // namespace service
