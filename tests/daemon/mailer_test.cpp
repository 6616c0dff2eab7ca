#include "daemon/mailer.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "report/mime.h"
#include "tests/support/fake_mailer.h"
#include "tests/support/temp_dir.h"

namespace {

namespace fs = std::filesystem;

// A real SMTP server (tests/e2e/mail_smtp_server.py, aiosmtpd) on loopback, started for one
// test and stopped by closing its stdin. Readiness is its "PORT n" line: no waiting on a clock.
class SmtpServer {
 public:
  SmtpServer(const fs::path& folder, const std::vector<std::string>& extra_args) {
    std::vector<std::string> args = {
        "/usr/bin/python3", std::string(CASEWATCH_SOURCE_DIR) + "/tests/e2e/mail_smtp_server.py",
        "--dir", folder.string()};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    int in[2];
    int out[2];
    REQUIRE(pipe(in) == 0);
    REQUIRE(pipe(out) == 0);
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      // The server's own log (TLS handshake failures are expected in some tests).
      const int log = open((folder / "server.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      if (log >= 0) {
        dup2(log, 2);
      }
      close(in[1]);
      close(out[0]);
      std::vector<char*> argv;
      argv.reserve(args.size());
      for (auto& a : args) {
        argv.push_back(a.data());
      }
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    stdin_ = in[1];
    std::string line;
    char c = 0;
    while (read(out[0], &c, 1) == 1 && c != '\n') {
      line += c;
    }
    close(out[0]);
    if (line.rfind("PORT ", 0) == 0) {
      port_ = std::atoi(line.c_str() + 5);
    }
  }
  ~SmtpServer() {
    if (stdin_ >= 0) {
      close(stdin_);
    }
    int status = 0;
    if (pid_ > 0) {
      waitpid(pid_, &status, 0);
    }
  }
  SmtpServer(const SmtpServer&) = delete;
  SmtpServer& operator=(const SmtpServer&) = delete;

  int port() const { return port_; }  // 0 when the server did not start

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  int port_ = 0;
};

bool have_aiosmtpd() {
  return std::system("/usr/bin/python3 -c 'import aiosmtpd' >/dev/null 2>&1") == 0;
}

// A port on loopback with nothing listening (bound, then released).
int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

std::string test_message() {
  report::MailMessage m;
  m.from = "casewatch@council.example";
  m.to = {"manager@council.example"};
  m.subject = report::review_subject("2026-W47", "66 cases unallocated over 4 weeks");
  m.date = "Mon, 16 Nov 2026 07:00:00 +0000";
  m.message_id = "review.2026-W47.all@casewatch";
  m.text = "Weekly review\r\n.\r\nA line that is only a dot above.\r\n";
  m.html = "<p>Weekly review</p>\r\n";
  m.attachment = report::Attachment{"casewatch-2026-W47.csv", "text/csv", "rule,key\r\nu,C1\r\n"};
  return report::build_message(m);
}

service::SmtpOptions plain_options(int port) {
  service::SmtpOptions options;
  options.server = "smtp://127.0.0.1:" + std::to_string(port);
  options.tls = config::TlsMode::kNone;
  options.connect_timeout = std::chrono::seconds(5);
  options.timeout = std::chrono::seconds(20);
  return options;
}

const service::Envelope kEnvelope{"casewatch@council.example", "manager@council.example"};

}  // namespace

TEST_CASE("SmtpMailer delivers the exact bytes to a real SMTP server", "[mailer][smtp]") {
  if (!have_aiosmtpd()) {
    WARN("skipped: python3-aiosmtpd is not installed");
    return;
  }
  test_support::TempDir dir;
  SmtpServer server(dir.path(), {});
  REQUIRE(server.port() != 0);
  service::SmtpMailer mailer(plain_options(server.port()));

  const std::string bytes = test_message();
  const auto result = mailer.send(kEnvelope, bytes);

  CHECK(result.outcome == service::SendOutcome::kSent);
  CHECK(result.smtp_code == 250);
  REQUIRE(fs::exists(dir / "1.eml"));
  std::string received = test_support::read_file(dir / "1.eml");
  // aiosmtpd hands over the content with SMTP's dot-stuffing undone: the bytes we built.
  if (!received.ends_with("\r\n")) {
    received += "\r\n";
  }
  CHECK(received == bytes);
  CHECK(test_support::read_file(dir / "1.rcpt") == "manager@council.example\n");
}

TEST_CASE("a delivered review parses back with Python's email package", "[mailer][smtp]") {
  if (!have_aiosmtpd()) {
    WARN("skipped: python3-aiosmtpd is not installed");
    return;
  }
  test_support::TempDir dir;
  SmtpServer server(dir.path(), {});
  REQUIRE(server.port() != 0);
  REQUIRE(
      service::SmtpMailer(plain_options(server.port())).send(kEnvelope, test_message()).outcome ==
      service::SendOutcome::kSent);

  const std::string command = "/usr/bin/python3 " + std::string(CASEWATCH_SOURCE_DIR) +
                              "/tests/e2e/mail_inspect.py " + (dir / "1.eml").string();
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[4096];
  while (const std::size_t n = fread(buffer, 1, sizeof buffer, pipe)) {
    output.append(buffer, n);
  }
  REQUIRE(pclose(pipe) == 0);
  const auto parsed = boost::json::parse(output).as_object();

  const auto& headers = parsed.at("headers").as_object();
  CHECK(headers.at("Subject").as_string() ==
        "casewatch weekly review 2026-W47: 66 cases unallocated over 4 weeks");
  CHECK(headers.at("Message-ID").as_string() == "<review.2026-W47.all@casewatch>");
  CHECK(headers.at("Auto-Submitted").as_string() == "auto-generated");
  CHECK(headers.at("Date").as_string() == "Mon, 16 Nov 2026 07:00:00 +0000");
  CHECK(boost::json::serialize(parsed.at("structure")) ==
        R"(["multipart/mixed","multipart/alternative","text/plain","text/html","text/csv"])");
  CHECK(parsed.at("text").as_string() ==
        "Weekly review\r\n.\r\nA line that is only a dot above.\r\n");
  CHECK(parsed.at("html").as_string() == "<p>Weekly review</p>\r\n");
  const auto& attachment = parsed.at("attachments").as_array().at(0).as_object();
  CHECK(attachment.at("filename").as_string() == "casewatch-2026-W47.csv");
  CHECK(attachment.at("content").as_string() == "rule,key\r\nu,C1\r\n");
  CHECK(parsed.at("defects").as_array().empty());
  CHECK(parsed.at("longest_line").as_int64() <= 78);
  CHECK_FALSE(parsed.at("bare_lf").as_bool());
}

TEST_CASE("SmtpMailer reports a refused connection as temporary", "[mailer][smtp]") {
  service::SmtpMailer mailer(plain_options(free_port()));

  const auto result = mailer.send(kEnvelope, test_message());

  CHECK(result.outcome == service::SendOutcome::kTemporary);
  CHECK(result.detail.starts_with("cannot connect to the mail server ("));
}

TEST_CASE("SmtpMailer sorts recipient refusals: 5xx permanent, 4xx temporary", "[mailer][smtp]") {
  if (!have_aiosmtpd()) {
    WARN("skipped: python3-aiosmtpd is not installed");
    return;
  }
  test_support::TempDir dir;
  SmtpServer server(dir.path(),
                    {"--reject", "gone@council.example", "--defer", "busy@council.example"});
  REQUIRE(server.port() != 0);
  service::SmtpMailer mailer(plain_options(server.port()));

  const auto gone = mailer.send({kEnvelope.from, "gone@council.example"}, test_message());
  const auto busy = mailer.send({kEnvelope.from, "busy@council.example"}, test_message());

  CHECK(gone.outcome == service::SendOutcome::kPermanent);
  CHECK(gone.smtp_code == 550);
  CHECK(gone.detail.starts_with("rejected by the server (SMTP 550: "));
  CHECK(busy.outcome == service::SendOutcome::kTemporary);
  CHECK(busy.smtp_code == 451);
  CHECK_FALSE(fs::exists(dir / "1.eml"));
}

TEST_CASE("SmtpMailer refuses to send in clear when TLS is required and STARTTLS is absent",
          "[mailer][smtp]") {
  if (!have_aiosmtpd()) {
    WARN("skipped: python3-aiosmtpd is not installed");
    return;
  }
  test_support::TempDir dir;
  SmtpServer server(dir.path(), {});
  REQUIRE(server.port() != 0);
  auto options = plain_options(server.port());
  options.tls = config::TlsMode::kStartTls;
  service::SmtpMailer mailer(options);

  const auto result = mailer.send(kEnvelope, test_message());

  CHECK(result.outcome == service::SendOutcome::kPermanent);
  CHECK(result.detail.starts_with("the server refused STARTTLS"));
  CHECK_FALSE(fs::exists(dir / "1.eml"));
}

TEST_CASE("SmtpMailer upgrades with STARTTLS, verifies the test CA and authenticates",
          "[mailer][smtp][tls]") {
  if (!have_aiosmtpd()) {
    WARN("skipped: python3-aiosmtpd is not installed");
    return;
  }
  test_support::TempDir dir;
  const fs::path cert = dir / "cert.pem";
  const fs::path key = dir / "key.pem";
  const std::string openssl =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost "
      "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout " +
      key.string() + " -out " + cert.string() + " >/dev/null 2>&1";
  REQUIRE(std::system(openssl.c_str()) == 0);
  fs::create_directories(dir / "mail");
  SmtpServer server(dir / "mail",
                    {"--tls", cert.string(), key.string(), "--auth", "casewatch", "s3cret"});
  REQUIRE(server.port() != 0);
  auto options = plain_options(server.port());
  options.tls = config::TlsMode::kRequired;
  options.username = "casewatch";

  SECTION("with the right password and the test CA the message is delivered") {
    options.password = "s3cret";
    options.ca_file = cert;
    const auto result = service::SmtpMailer(options).send(kEnvelope, test_message());
    CAPTURE(result.detail);
    CHECK(result.outcome == service::SendOutcome::kSent);
    CHECK(fs::exists(dir / "mail" / "1.eml"));
  }
  SECTION("a wrong password is permanent") {
    options.password = "wrong";
    options.ca_file = cert;
    const auto result = service::SmtpMailer(options).send(kEnvelope, test_message());
    CAPTURE(result.detail);
    CHECK(result.outcome == service::SendOutcome::kPermanent);
    CHECK(result.detail.starts_with("authentication refused"));
  }
  SECTION("an unknown certificate is refused, permanently") {
    options.password = "s3cret";
    const auto result = service::SmtpMailer(options).send(kEnvelope, test_message());
    CAPTURE(result.detail);
    CHECK(result.outcome == service::SendOutcome::kPermanent);
    CHECK(result.detail.starts_with("TLS refused"));
    CHECK_FALSE(fs::exists(dir / "mail" / "1.eml"));
  }
}

TEST_CASE("FakeMailer answers as scripted, then accepts", "[mailer]") {
  service::FakeMailer mailer;
  mailer.script({service::SendOutcome::kTemporary, 451, "deferred"});

  CHECK(mailer.send(kEnvelope, "a").outcome == service::SendOutcome::kTemporary);
  CHECK(mailer.send(kEnvelope, "b").outcome == service::SendOutcome::kSent);
  REQUIRE(mailer.calls().size() == 2);
  REQUIRE(mailer.delivered().size() == 1);
  CHECK(mailer.delivered()[0].bytes == "b");
}

TEST_CASE("the SMTP password comes from the named file, else the systemd credential", "[mailer]") {
  test_support::TempDir dir;
  dir.write("named", "from-file\n");
  dir.write("creds/smtp-password", "from-credential");
  config::MailConfig mail;

  CHECK(service::read_smtp_password(mail, nullptr) == std::nullopt);
  CHECK(service::read_smtp_password(mail, (dir / "nowhere").c_str()) == std::nullopt);
  CHECK(service::read_smtp_password(mail, (dir / "creds").c_str()) == "from-credential");
  mail.password_file = dir / "named";
  CHECK(service::read_smtp_password(mail, (dir / "creds").c_str()) == "from-file");
  mail.password_file = dir / "missing";
  CHECK_THROWS_WITH(service::read_smtp_password(mail, nullptr),
                    "cannot read the SMTP password file " + (dir / "missing").string());
}

TEST_CASE("smtp_options carries the server, TLS mode, user and CA file from the mail settings",
          "[daemon][mail]") {
  config::MailConfig mail;
  mail.server = "smtp://mail.example.gov.uk:587";
  mail.tls = config::TlsMode::kStartTls;
  mail.username = "casewatch";
  mail.ca_file = "/etc/casewatch/council-ca.pem";
  const auto options = service::smtp_options(mail, nullptr);
  CHECK(options.server == "smtp://mail.example.gov.uk:587");
  CHECK(options.tls == config::TlsMode::kStartTls);
  CHECK(options.username == "casewatch");
  CHECK(options.password.empty());
  CHECK(options.ca_file == "/etc/casewatch/council-ca.pem");
}
