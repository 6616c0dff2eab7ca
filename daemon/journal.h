// Log lines the journal can rank. When systemd connects casewatchd's standard error to the
// journal it sets JOURNAL_STREAM to that stream's "device:inode"; casewatchd then starts every
// line with its syslog priority ("<3>" error, "<4>" warning, "<6>" information), which journald
// strips and records, so that `journalctl -p err -u casewatchd` shows the errors. Anywhere else
// (a terminal, a pipe, a test) lines are plain.
#ifndef CASEWATCH_DAEMON_JOURNAL_H_
#define CASEWATCH_DAEMON_JOURNAL_H_

#include <spdlog/common.h>
#include <spdlog/formatter.h>

#include <memory>
#include <string>
#include <string_view>

namespace service {

// Whether `journal_stream` (JOURNAL_STREAM's value, may be null) names the device and inode of
// the open file `fd`. False for null, malformed values and a closed fd.
bool stream_is_journal(const char* journal_stream, int fd) noexcept;

// The syslog priority of a log level: critical 2, error 3, warning 4, info 6, debug and trace 7.
int syslog_priority(spdlog::level::level_enum level) noexcept;

// The formatter of `program`'s log lines: "program: level: message", after "<N>" when
// `journal`.
std::unique_ptr<spdlog::formatter> log_formatter(std::string_view program, bool journal);

// Makes spdlog's default logger write `program`'s lines to standard error, with priorities
// when standard error is the journal (JOURNAL_STREAM). Returns whether it is. Call once, from
// main, before any other thread logs.
bool log_to_stderr(std::string_view program);

// `message`, one line per line, each after "<3>" when `journal`: for errors main prints
// itself (a bad configuration, a failed start).
std::string error_lines(std::string_view message, bool journal);

}  // namespace service

#endif  // CASEWATCH_DAEMON_JOURNAL_H_
