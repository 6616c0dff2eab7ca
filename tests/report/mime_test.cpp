#include "report/mime.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace {

report::MailMessage review_message() {
  report::MailMessage m;
  m.from = "casewatch@council.example";
  m.to = {"head.of.service@council.example", "performance@council.example"};
  m.subject = report::review_subject("2026-W47", "66 cases unallocated over 4 weeks");
  m.date = "Mon, 16 Nov 2026 07:00:00 +0000";
  m.message_id = "review.2026-W47.all@casewatch";
  m.text = "Weekly review 2026-W47\n\nunallocated: 66 cases\n";
  m.html = "<html><body><h1>Weekly review 2026-W47</h1></body></html>\n";
  m.attachment = report::Attachment{"casewatch-2026-W47.csv", "text/csv",
                                    "rule,key,team\r\nunallocated,C1,East\r\n"};
  return m;
}

std::vector<std::string> lines_of(const std::string& bytes) {
  std::vector<std::string> lines;
  std::size_t begin = 0;
  while (begin < bytes.size()) {
    const std::size_t end = bytes.find("\r\n", begin);
    if (end == std::string::npos) {
      lines.push_back(bytes.substr(begin));
      break;
    }
    lines.push_back(bytes.substr(begin, end - begin));
    begin = end + 2;
  }
  return lines;
}

std::string headers_of(const std::string& bytes) { return bytes.substr(0, bytes.find("\r\n\r\n")); }

}  // namespace

TEST_CASE("a weekly review message carries the fixed headers in order", "[mime]") {
  const std::string bytes = report::build_message(review_message());

  CHECK(headers_of(bytes) ==
        "From: casewatch@council.example\r\n"
        "To: head.of.service@council.example, performance@council.example\r\n"
        "Subject: casewatch weekly review 2026-W47: 66 cases unallocated over 4 weeks\r\n"
        "Date: Mon, 16 Nov 2026 07:00:00 +0000\r\n"
        "Message-ID: <review.2026-W47.all@casewatch>\r\n"
        "Auto-Submitted: auto-generated\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: multipart/mixed;\r\n boundary=\"=_casewatch_mixed_" +
            bytes.substr(bytes.find("mixed_") + 6, 16) + "\"");
}

TEST_CASE("a weekly review message nests text and html inside mixed with the CSV attached",
          "[mime]") {
  const std::string bytes = report::build_message(review_message());
  const std::size_t alt = bytes.find("Content-Type: multipart/alternative");
  const std::size_t plain = bytes.find("Content-Type: text/plain; charset=utf-8");
  const std::size_t html = bytes.find("Content-Type: text/html; charset=utf-8");
  const std::size_t csv =
      bytes.find("Content-Type: text/csv; charset=utf-8; name=\"casewatch-2026-W47.csv\"");

  REQUIRE(alt != std::string::npos);
  REQUIRE(plain != std::string::npos);
  REQUIRE(html != std::string::npos);
  REQUIRE(csv != std::string::npos);
  CHECK(alt < plain);
  CHECK(plain < html);
  CHECK(html < csv);
  CHECK(bytes.find("Content-Disposition: attachment; filename=\"casewatch-2026-W47.csv\"") > csv);
  // The CSV is base64 of its exact bytes.
  CHECK(bytes.find(report::base64_lines("rule,key,team\r\nunallocated,C1,East\r\n")) > csv);
  CHECK(bytes.ends_with("--\r\n"));
}

TEST_CASE("every line ends in CRLF and is at most 78 characters", "[mime]") {
  auto m = review_message();
  m.text = std::string(500, 'x') + "\n" + std::string(300, '=') + "\n";
  m.attachment->bytes = std::string(5000, 'y');
  const std::string bytes = report::build_message(m);

  CHECK(bytes.find('\n') == bytes.find("\r\n") + 1);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (bytes[i] == '\n') {
      REQUIRE(bytes[i - 1] == '\r');
    }
    if (bytes[i] == '\r') {
      REQUIRE(bytes[i + 1] == '\n');
    }
  }
  for (const auto& line : lines_of(bytes)) {
    CAPTURE(line);
    CHECK(line.size() <= 78);
  }
}

TEST_CASE("the same message builds to the same bytes", "[mime]") {
  CHECK(report::build_message(review_message()) == report::build_message(review_message()));
}

TEST_CASE("line breaks in header values cannot inject headers", "[mime]") {
  auto m = review_message();
  m.subject = "weekly\r\nBcc: someone@evil.example";
  const std::string headers = headers_of(report::build_message(m));

  CHECK(headers.find("\r\nBcc:") == std::string::npos);
  CHECK(headers.find("Subject: weekly  Bcc: someone@evil.example\r\n") != std::string::npos);
}

TEST_CASE("a non-ASCII subject is sent as UTF-8 encoded words", "[mime]") {
  auto m = review_message();
  m.subject = "caf\xc3\xa9";
  const std::string headers = headers_of(report::build_message(m));

  CHECK(headers.find("Subject: =?utf-8?B?Y2Fmw6k=?=\r\n") != std::string::npos);
}

TEST_CASE("a message without html or attachment is a single text part", "[mime]") {
  auto m = review_message();
  m.html.clear();
  m.attachment.reset();
  const std::string bytes = report::build_message(m);

  CHECK(bytes.find("multipart") == std::string::npos);
  CHECK(
      bytes.ends_with("MIME-Version: 1.0\r\n"
                      "Content-Type: text/plain; charset=utf-8\r\n"
                      "Content-Transfer-Encoding: quoted-printable\r\n"
                      "\r\n"
                      "Weekly review 2026-W47\r\n"
                      "\r\n"
                      "unallocated: 66 cases\r\n"));
}

TEST_CASE("quoted-printable encodes what is not plain ASCII and soft-breaks long lines", "[mime]") {
  auto [text, encoded] = GENERATE(table<std::string, std::string>({
      {"plain", "plain\r\n"},
      {"a = b", "a =3D b\r\n"},
      {"trailing space ", "trailing space=20\r\n"},
      {"caf\xc3\xa9\n", "caf=C3=A9\r\n"},
      {"one\r\ntwo\n", "one\r\ntwo\r\n"},
      {".starts with a dot", "=2Estarts with a dot\r\n"},
      {std::string(80, 'a'), std::string(75, 'a') + "=\r\n" + std::string(5, 'a') + "\r\n"},
      {std::string(74, 'a') + "=", std::string(74, 'a') + "=\r\n=3D\r\n"},
  }));
  CAPTURE(text);
  CHECK(report::quoted_printable(text) == encoded);
}

TEST_CASE("base64 encodes with padding at the end", "[mime]") {
  auto [bytes, encoded] = GENERATE(table<std::string, std::string>({
      {"", ""},
      {"f", "Zg==\r\n"},
      {"fo", "Zm8=\r\n"},
      {"foo", "Zm9v\r\n"},
      {"\xff\xfe", "//4=\r\n"},
  }));
  CHECK(report::base64_lines(bytes) == encoded);
}

TEST_CASE("base64 lines are 76 characters", "[mime]") {
  // 57 bytes make exactly one full line; one more byte starts another of 4 characters.
  CHECK(report::base64_lines(std::string(57, 'a')).size() == 76 + 2);
  CHECK(report::base64_lines(std::string(58, 'a')).size() == 76 + 2 + 4 + 2);
}

TEST_CASE("rfc5322_date formats UTC seconds", "[mime]") {
  auto [seconds, text] = GENERATE(table<std::int64_t, std::string>({
      {0, "Thu, 01 Jan 1970 00:00:00 +0000"},
      // 2026-11-16 is 20773 days after 1970-01-01; 07:00 adds 25200 s.
      {20773LL * 86400 + 25200, "Mon, 16 Nov 2026 07:00:00 +0000"},
      {20779LL * 86400 + 86399, "Sun, 22 Nov 2026 23:59:59 +0000"},
      {-1, "Wed, 31 Dec 1969 23:59:59 +0000"},
  }));
  CHECK(report::rfc5322_date(seconds) == text);
}

TEST_CASE("filter_csv_columns keeps only allow-listed columns in order", "[mime]") {
  const std::string csv =
      "rule,key,person,team,\"notes, private\"\r\n"
      "unallocated,C1,Child 1,East,\"said \"\"hi\"\"\"\n"
      "unallocated,\"C,2\",Child 2,West,x\n";

  CHECK(report::filter_csv_columns(csv, {"rule", "key", "team"}) ==
        "rule,key,team\r\n"
        "unallocated,C1,East\r\n"
        "unallocated,\"C,2\",West\r\n");
  CHECK(report::filter_csv_columns(csv, {}) == "\r\n\r\n\r\n");
}
