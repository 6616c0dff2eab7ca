// Mail transport: the one abstract seam of casewatch (STYLE.md). SmtpMailer speaks SMTP through
// libcurl; tests use FakeMailer (tests/support/fake_mailer.h).
// A Mailer sends one message to one recipient per call, so that the outbox can record, for each
// recipient, exactly whether the server accepted it.
// Not thread-safe: one Mailer per thread. SmtpMailer::send blocks (bounded by its timeouts).
#ifndef CASEWATCH_DAEMON_MAILER_H_
#define CASEWATCH_DAEMON_MAILER_H_

#include <chrono>
#include <deque>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace service {

// How a delivery attempt ended.
enum class SendOutcome {
  kSent,       // the server accepted the message (250 after DATA)
  kTemporary,  // try again later: connection refused, timeout, 4xx reply
  kPermanent,  // do not retry: 5xx reply, authentication refused, TLS refused
};
std::string_view to_string(SendOutcome outcome);  // "sent", "temporary", "permanent"

struct SendResult {
  SendOutcome outcome = SendOutcome::kSent;
  long smtp_code = 0;  // the last SMTP reply code, 0 when none was received
  std::string detail;  // plain words for logs and `casewatch outbox`; no message content
};

// One message for one recipient. `bytes` are the exact RFC 5322 message (report::build_message).
struct Envelope {
  std::string from;  // MAIL FROM
  std::string to;    // RCPT TO
};

class Mailer {
 public:
  virtual ~Mailer() = default;
  // Delivers `bytes` to `envelope.to`. Never throws for network or server failures: they are
  // SendResults. REQUIRES: bytes use CRLF line endings.
  virtual SendResult send(const Envelope& envelope, std::string_view bytes) = 0;
};

// Settings of SmtpMailer, filled by the daemon from config::MailConfig.
struct SmtpOptions {
  std::string server;  // "smtp://host:587" or "smtps://host:465"
  config::TlsMode tls = config::TlsMode::kRequired;
  std::string username;  // empty = no authentication
  std::string password;
  std::filesystem::path ca_file;  // empty = the system's CA store (tests pass their own CA)
  std::chrono::seconds connect_timeout{30};
  std::chrono::seconds timeout{120};  // the whole transaction
};

// Builds SmtpOptions from the config; the password is read with read_smtp_password.
// Throws std::runtime_error when a password file is named but cannot be read.
SmtpOptions smtp_options(const config::MailConfig& mail, const char* credentials_directory);

// The SMTP password: mail.password_file when set, else "$CREDENTIALS_DIRECTORY/smtp-password"
// when `credentials_directory` (the environment variable's value, may be null) holds one, else
// nullopt. A trailing line break is removed. Throws std::runtime_error naming the file when
// mail.password_file is set but cannot be read.
std::optional<std::string> read_smtp_password(const config::MailConfig& mail,
                                              const char* credentials_directory);

// SMTP over libcurl. TLS kRequired and kStartTls both refuse to send in clear: smtps:// is TLS
// from the start, smtp:// must upgrade with STARTTLS (CURLUSESSL_ALL). kNone sends in clear
// (config allows it only for a loopback server). Peer and host name are always verified.
// One libcurl handle is kept for the mailer's life, so that send() returns as soon as the server
// answers the message's DATA (250 or an error), before QUIT: the caller records the outcome at
// once, and QUIT is sent later (the next send() reuses the connection, or the destructor closes
// it). That keeps the exactly-once window (outbox.h) to the time it takes to record one result.
class SmtpMailer final : public Mailer {
 public:
  explicit SmtpMailer(SmtpOptions options);
  ~SmtpMailer() override;  // QUIT, when a connection is open
  SmtpMailer(const SmtpMailer&) = delete;
  SmtpMailer& operator=(const SmtpMailer&) = delete;
  SendResult send(const Envelope& envelope, std::string_view bytes) override;

 private:
  struct Handle;
  SmtpOptions options_;
  std::unique_ptr<Handle> handle_;
};

}  // namespace service

#endif  // CASEWATCH_DAEMON_MAILER_H_
