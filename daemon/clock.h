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

// The current UTC time, floored to the second: the wall clock, or the test clock when one is in
// use (use_test_clock).
SysSeconds now_utc();

// For the end-to-end tests only: a clock that starts where a test puts it. `file` holds a UTC
// time ("2026-11-16T06:59:57Z"): the service's time at the moment the file was last written;
// from then on the clock runs at the wall clock's pace. The file is read on every now_utc(), so
// a test moves the clock by replacing it (and sends SIGHUP so that the timers are armed again
// from the new time); a file that cannot be read or parsed gives the wall clock. Call once, at
// start-up, before any other thread runs. casewatchd takes it from $CASEWATCH_TEST_CLOCK, says so
// in the log, and refuses it when started by systemd.
void use_test_clock(std::string file);

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
