// The daemon's one set of clock and UTC helpers. Instants are SysSeconds (UTC, whole seconds:
// the same type as storage::Time); their text form is "2026-11-22T09:30:00Z" everywhere (the
// database, the control socket, the audit). now_utc() is the only place in daemon/ that reads
// the wall clock; everything else takes `now` as a parameter.
#ifndef CASEWATCH_DAEMON_CLOCK_H_
#define CASEWATCH_DAEMON_CLOCK_H_

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "rules/rules.h"

namespace date {
class time_zone;
}

namespace service {

using SysSeconds = std::chrono::sys_seconds;

// The current UTC time, floored to the second.
SysSeconds now_utc();

// "2026-11-22T09:30:00Z".
std::string utc_text(SysSeconds instant);

// The inverse of utc_text; nullopt for anything else.
std::optional<SysSeconds> parse_utc(std::string_view text);

// The local calendar date of `instant` in `zone`.
rules::Date local_date(SysSeconds instant, const date::time_zone* zone);

// `instant` as people read it in `zone`, to the minute and with the zone's abbreviation for that
// moment: "2026-11-30 07:00 GMT", "2026-06-01 10:05 BST". For people only: JSON keeps UTC.
std::string local_time_text(SysSeconds instant, const date::time_zone* zone);

}  // namespace service

#endif  // CASEWATCH_DAEMON_CLOCK_H_
