// report/mime: builds the exact bytes of an email (RFC 5322 + MIME) from already rendered parts.
// Pure: no I/O and no clock. The Date header and the Message-ID are parameters, fixed by the
// caller when the message is created, so that the bytes queued in the outbox never change.
// Output lines end in CRLF and are at most 78 characters (well inside RFC 5322's 998).
#ifndef CASEWATCH_REPORT_MIME_H_
#define CASEWATCH_REPORT_MIME_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace report {

// A file attached to a message.
struct Attachment {
  std::string filename;                   // e.g. "casewatch-2026-W47.csv"; quoted in the header
  std::string content_type = "text/csv";  // without parameters
  std::string bytes;                      // the file's content; always sent base64-encoded
};

// One email. Header values are plain text: CR and LF in them are replaced by spaces (no header
// injection); a plain-ASCII subject is sent as it is (folded at spaces when long), any other as
// RFC 2047 encoded words.
struct MailMessage {
  std::string from;             // "casewatch@council.example"
  std::vector<std::string> to;  // addresses, as listed in the To header
  std::string subject;
  std::string date;        // RFC 5322 date, e.g. "Mon, 16 Nov 2026 07:00:00 +0000"
  std::string message_id;  // without angle brackets, e.g. "review.2026-W47.all@casewatch"
  std::string text;        // text/plain body (UTF-8); required
  std::string html;        // text/html body (UTF-8); empty = text only
  std::optional<Attachment> attachment;
};

// The message bytes: headers (From, To, Subject, Date, Message-ID, Auto-Submitted:
// auto-generated, MIME-Version) and the body. With an attachment: multipart/mixed {
// multipart/alternative { text/plain, text/html }, attachment }; without: the alternative part
// alone (or text/plain alone when html is empty). Text parts are UTF-8, quoted-printable.
// Boundaries are derived from the Message-ID and checked not to occur in the parts.
std::string build_message(const MailMessage& message);

// "Mon, 16 Nov 2026 07:00:00 +0000" for a UTC time given as seconds since 1970-01-01.
std::string rfc5322_date(std::int64_t unix_seconds);

// The subject of a weekly review: "casewatch weekly review 2026-W47: " + headline, where the
// headline (report::headline) carries counts only, never a child's identifiers.
std::string review_subject(std::string_view iso_week, std::string_view headline);

// A stable 64-bit hash (FNV-1a) of `text`: the same on every machine and run, so that boundaries
// and Message-IDs derived from it are fixed with the message. Not for secrets.
std::uint64_t stable_hash(std::string_view text);

// Encodings, exposed for tests and for other message builders.
std::string quoted_printable(std::string_view text);  // CRLF line breaks, lines <= 76
std::string base64_lines(std::string_view bytes);     // 76-character lines, each ending CRLF

// Keeps only the columns of `csv` (RFC 4180, header row first) whose header is in `allowed`,
// in their original order; the others never leave the building. Rows keep CRLF or LF endings
// as "\r\n". Quoting of kept fields and a leading UTF-8 byte order mark are preserved.
std::string filter_csv_columns(std::string_view csv, const std::vector<std::string>& allowed);

}  // namespace report

#endif  // CASEWATCH_REPORT_MIME_H_
