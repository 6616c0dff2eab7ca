// `backup FILE`: a consistent copy of the database, written by the service.
#ifndef CASEWATCH_DAEMON_CONTROL_BACKUP_COMMAND_H_
#define CASEWATCH_DAEMON_CONTROL_BACKUP_COMMAND_H_

#include "config/config.h"
#include "daemon/control/command_table.h"

namespace service {

// Copies config.service.database_file() with SQLite's online backup API, on a connection of its
// own (it reads one snapshot while jobs keep writing), then checks the copy. A bare or relative
// name goes into <state_dir>/backups/, the one place under the unit's ProtectSystem=strict the
// service may write besides its state. Throws on database or file system errors (the table
// turns them into an error reply).
Answer backup_command(const Request& request, const config::Config& config);

}  // namespace service

#endif  // CASEWATCH_DAEMON_CONTROL_BACKUP_COMMAND_H_
