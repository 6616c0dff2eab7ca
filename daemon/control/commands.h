// Every control command on one screen (commands.cpp): its name, the permission it needs, where
// it runs (add: the loop; add_pool: the pool thread; add_reader: the reader thread) and its
// handler. The handlers live beside their data (findings_view, alert_commands,
// outbox_commands); the lifecycle commands (status, metrics, run-now, reload, shutdown) are the
// Daemon's, passed in as handlers.
#ifndef CASEWATCH_DAEMON_CONTROL_COMMANDS_H_
#define CASEWATCH_DAEMON_CONTROL_COMMANDS_H_

#include <functional>
#include <memory>

#include "daemon/control/command_table.h"
#include "daemon/control/findings_view.h"
#include "daemon/settings.h"
#include "storage/storage.h"

namespace service {

struct LifecycleCommands {
  CommandTable::Handler status;
  CommandTable::Handler metrics;
  CommandTable::Handler run_now;
  CommandTable::Handler reload;
  CommandTable::Handler shutdown;
};

// What the data commands work on besides what the pool and reader threads give them.
// REQUIRES: findings outlives the table.
struct CommandParts {
  FindingsView& findings;                                     // the loop's snapshot
  std::function<std::shared_ptr<const Settings>()> settings;  // the current settings
  std::function<void()> outbox_changed;  // an entry became due (after outbox-retry)
};

// Registers every command in `table`.
void add_commands(CommandTable& table, LifecycleCommands lifecycle, CommandParts parts);

}  // namespace service

#endif  // CASEWATCH_DAEMON_CONTROL_COMMANDS_H_
