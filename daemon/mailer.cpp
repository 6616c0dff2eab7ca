#include "daemon/mailer.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>

namespace service {
namespace {

struct CurlDeleter {
  void operator()(CURL* curl) const noexcept { curl_easy_cleanup(curl); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const noexcept { curl_slist_free_all(list); }
};

// The message being uploaded, read by libcurl in pieces.
struct Upload {
  std::string_view bytes;
  std::size_t offset = 0;
};

std::size_t read_upload(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* upload = static_cast<Upload*>(user);
  const std::size_t n = std::min(size * count, upload->bytes.size() - upload->offset);
  std::memcpy(buffer, upload->bytes.data() + upload->offset, n);
  upload->offset += n;
  return n;
}

std::string angle(std::string_view address) { return fmt::format("<{}>", address); }

// Sorts a libcurl failure into retry-later or give-up, from the error and the last SMTP reply.
SendResult classify(CURLcode code, long smtp_code, const char* error_buffer) {
  const std::string error = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code);
  auto result = [&](SendOutcome outcome, std::string_view what) {
    return SendResult{outcome, smtp_code,
                      smtp_code != 0 ? fmt::format("{} (SMTP {}: {})", what, smtp_code, error)
                                     : fmt::format("{} ({})", what, error)};
  };
  switch (code) {
    case CURLE_LOGIN_DENIED:
      return result(SendOutcome::kPermanent, "authentication refused");
    case CURLE_USE_SSL_FAILED:
      return result(SendOutcome::kPermanent, "the server refused STARTTLS");
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
      return result(SendOutcome::kPermanent, "TLS refused");
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
      return result(SendOutcome::kPermanent, "bad mail server address");
    default:
      break;
  }
  if (smtp_code >= 500) {
    return result(SendOutcome::kPermanent, "rejected by the server");
  }
  if (smtp_code >= 400) {
    return result(SendOutcome::kTemporary, "deferred by the server");
  }
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
      return result(SendOutcome::kTemporary, "cannot connect to the mail server");
    case CURLE_OPERATION_TIMEDOUT:
      return result(SendOutcome::kTemporary, "the mail server timed out");
    default:
      // Unknown and network failures (connection dropped, nothing received): retry; a failure
      // that lasts is given up after the outbox's deadline and raises an alert.
      return result(SendOutcome::kTemporary, "delivery failed");
  }
}

}  // namespace

std::string_view to_string(SendOutcome outcome) {
  switch (outcome) {
    case SendOutcome::kSent:
      return "sent";
    case SendOutcome::kTemporary:
      return "temporary";
    case SendOutcome::kPermanent:
      return "permanent";
  }
  return "unknown";
}

std::optional<std::string> read_smtp_password(const config::MailConfig& mail,
                                              const char* credentials_directory) {
  std::filesystem::path file = mail.password_file;
  const bool named = !file.empty();
  if (!named) {
    if (credentials_directory == nullptr || credentials_directory[0] == '\0') {
      return std::nullopt;
    }
    file = std::filesystem::path(credentials_directory) / "smtp-password";
    std::error_code ignored;
    if (!std::filesystem::exists(file, ignored)) {
      return std::nullopt;
    }
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    throw std::runtime_error(fmt::format("cannot read the SMTP password file {}", file.string()));
  }
  std::string password{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) {
    password.pop_back();
  }
  return password;
}

SmtpOptions smtp_options(const config::MailConfig& mail, const char* credentials_directory) {
  SmtpOptions options;
  options.server = mail.server;
  options.tls = mail.tls;
  options.username = mail.username;
  options.ca_file = mail.ca_file;
  if (auto password = read_smtp_password(mail, credentials_directory)) {
    options.password = std::move(*password);
  }
  return options;
}

struct SmtpMailer::Handle {
  std::unique_ptr<CURL, CurlDeleter> curl;
};

SmtpMailer::SmtpMailer(SmtpOptions options)
    : options_(std::move(options)), handle_(std::make_unique<Handle>()) {}

SmtpMailer::~SmtpMailer() = default;

SendResult SmtpMailer::send(const Envelope& envelope, std::string_view bytes) {
  // The handle (and its open connection) is kept between messages; its options are set afresh.
  if (!handle_->curl) {
    handle_->curl.reset(curl_easy_init());
  }
  if (!handle_->curl) {
    return {SendOutcome::kTemporary, 0, "cannot initialise libcurl"};
  }
  curl_easy_reset(handle_->curl.get());
  const std::string from = angle(envelope.from);
  std::unique_ptr<curl_slist, SlistDeleter> recipients(
      curl_slist_append(nullptr, angle(envelope.to).c_str()));
  Upload upload{bytes, 0};
  char error_buffer[CURL_ERROR_SIZE] = {};

  CURL* c = handle_->curl.get();
  curl_easy_setopt(c, CURLOPT_URL, options_.server.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(c, CURLOPT_USE_SSL,
                   options_.tls == config::TlsMode::kNone ? static_cast<long>(CURLUSESSL_NONE)
                                                          : static_cast<long>(CURLUSESSL_ALL));
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options_.ca_file.empty()) {
    curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
  }
  if (!options_.username.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, options_.username.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, options_.password.c_str());
  }
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, recipients.get());
  curl_easy_setopt(c, CURLOPT_READFUNCTION, read_upload);
  curl_easy_setopt(c, CURLOPT_READDATA, &upload);
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);

  const CURLcode code = curl_easy_perform(c);
  long smtp_code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &smtp_code);
  // The options point at this call's buffers: clear them before they go out of scope.
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, nullptr);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(c, CURLOPT_READDATA, nullptr);
  if (code == CURLE_OK) {
    return {SendOutcome::kSent, smtp_code, "accepted"};
  }
  // After a failure the connection may be in any state: the next message starts a fresh one.
  handle_->curl.reset();
  return classify(code, smtp_code, error_buffer);
}

}  // namespace service
