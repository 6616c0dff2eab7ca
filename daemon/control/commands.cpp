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
  table.add("note", P::kWrite, [&findings](const Request& r, const Peer& peer) {
    return findings.note(r, peer, now_utc());
  });
  // Runs on the loop thread: the socket waits for the copy.
  table.add("backup", P::kWrite, [settings](const Request& r, const Peer&) {
    return backup_command(r, settings()->config);
  });
  table.add("review", P::kRead,
            [&findings, today, render = parts.render_review](const Request& r, const Peer&) {
              return findings.review(r, today(), render);
            });

  table.add("alerts", P::kRead,
            [&history](const Request&, const Peer&) { return alerts_command(history); });
  table.add("silence", P::kWrite, [&history, settings](const Request& r, const Peer& peer) {
    return silence_command(r, peer, history, *settings(), now_utc());
  });
  table.add("unsilence", P::kWrite, [&history](const Request& r, const Peer& peer) {
    return unsilence_command(r, peer, history);
  });

  table.add("outbox", P::kRead,
            [&history](const Request& r, const Peer&) { return outbox_command(r, history); });
  const auto change = [&history, changed = parts.outbox_changed](bool retry) {
    return [&history, changed, retry](const Request& r, const Peer& peer) {
      Answer answer = outbox_change_command(r, peer, history, retry, now_utc());
      if (retry && answer.result == ResultCode::kSuccess && changed) changed();
      return answer;
    };
  };
  table.add("outbox-retry", P::kWrite, change(true));
  table.add("outbox-cancel", P::kWrite, change(false));
}

}  // namespace service
