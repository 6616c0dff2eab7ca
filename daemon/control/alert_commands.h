// The alert commands, beside the alert states and silences they read and change: `alerts`,
// `silence` and `unsilence`. Each takes the History to use, so that it runs on whichever thread
// the caller chooses.
#ifndef CASEWATCH_DAEMON_CONTROL_ALERT_COMMANDS_H_
#define CASEWATCH_DAEMON_CONTROL_ALERT_COMMANDS_H_

#include "daemon/clock.h"
#include "daemon/control/command_table.h"
#include "daemon/settings.h"
#include "storage/storage.h"

namespace service {

// `alerts`: every alert state and active silence.
Answer alerts_command(const storage::History& history);

// `silence`: rule (a rule id, a source name or a mail recipient: what alerts name as their
// subject), optional scope (a case key or a team), reason, and expires: a date (the silence
// ends at the start of that day in the service time zone) or "until-resolved".
Answer silence_command(const Request& request, const Peer& peer, storage::History& history,
                       const Settings& settings, SysSeconds now);

// `unsilence ID`.
Answer unsilence_command(const Request& request, const Peer& peer, storage::History& history);

}  // namespace service

#endif  // CASEWATCH_DAEMON_CONTROL_ALERT_COMMANDS_H_
