#include "daemon/policy/outbox.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "report/report.h"

namespace service {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view domain_of(std::string_view address) {
  const auto at = address.rfind('@');
  return at == std::string_view::npos ? std::string_view{} : address.substr(at + 1);
}

// Keeps only the sections of `rules` (all when empty).
report::Review only_rules(report::Review review, const std::vector<std::string>& rules) {
  if (rules.empty()) {
    return review;
  }
  std::erase_if(review.sections, [&rules](const report::RuleSection& section) {
    return std::find(rules.begin(), rules.end(), section.rule->id) == rules.end();
  });
  std::erase_if(review.caseloads, [&rules](const rules::Caseload& caseload) {
    return std::find(rules.begin(), rules.end(), caseload.rule) == rules.end();
  });
  return review;
}

}  // namespace

std::chrono::seconds retry_delay(int failed_attempts, const BackoffPolicy& policy) {
  std::chrono::seconds delay = policy.first;
  for (int i = 1; i < failed_attempts && delay < policy.longest; ++i) {
    delay *= 2;
  }
  return std::min(delay, policy.longest);
}

OutboxEntry make_entry(std::string key, std::string recipient, std::string sender,
                       std::string subject, std::string bytes, Time now,
                       const BackoffPolicy& policy) {
  OutboxEntry entry;
  entry.key = std::move(key);
  entry.recipient = std::move(recipient);
  entry.sender = std::move(sender);
  entry.subject = std::move(subject);
  entry.bytes = std::move(bytes);
  entry.created = now;
  entry.deadline = now + policy.give_up_after;
  entry.next_attempt = now;
  return entry;
}

bool is_due(const OutboxEntry& entry, Time now) {
  return entry.state == OutboxState::kPending && entry.next_attempt <= now;
}

OutboxEntry after_attempt(OutboxEntry entry, const SendResult& result, Time now,
                          const BackoffPolicy& policy) {
  ++entry.attempts;
  switch (result.outcome) {
    case SendOutcome::kSent:
      entry.state = OutboxState::kSent;
      entry.sent_at = now;
      entry.last_error.clear();
      break;
    case SendOutcome::kPermanent:
      entry.state = OutboxState::kFailed;
      entry.last_error = result.detail;
      break;
    case SendOutcome::kTemporary: {
      const auto next = now + retry_delay(entry.attempts, policy);
      if (now >= entry.deadline) {
        entry.state = OutboxState::kFailed;
        entry.last_error = fmt::format(
            "gave up after {} days: {}",
            std::chrono::duration_cast<std::chrono::hours>(entry.deadline - entry.created).count() /
                24,
            result.detail);
      } else {
        entry.last_error = result.detail;
        // The last try falls on the deadline itself rather than after it.
        entry.next_attempt = std::min<Time>(next, entry.deadline);
      }
      break;
    }
  }
  return entry;
}

OutboxEntry retried(OutboxEntry entry, Time now, const BackoffPolicy& policy) {
  if (entry.state != OutboxState::kPending && entry.state != OutboxState::kFailed) {
    return entry;
  }
  entry.state = OutboxState::kPending;
  entry.next_attempt = now;
  entry.deadline = now + policy.give_up_after;
  return entry;
}

OutboxEntry cancelled(OutboxEntry entry) {
  if (entry.state == OutboxState::kPending || entry.state == OutboxState::kFailed) {
    entry.state = OutboxState::kCancelled;
  }
  return entry;
}

std::string message_id_for(std::string_view key, std::string_view from) {
  std::string_view domain = domain_of(from);
  if (domain.empty()) {
    domain = "casewatch.invalid";
  }
  if (key.starts_with("alert/")) {
    // Alert keys hold fingerprints, which may hold a case key: never put it in a header.
    return fmt::format("casewatch.alert.{:016x}@{}", report::stable_hash(key), domain);
  }
  std::string id = "casewatch.";
  for (const char c : key) {
    const auto u = static_cast<unsigned char>(c);
    id += (std::isalnum(u) || c == '-' || c == '.' || c == '_') ? c : '.';
  }
  return id + "@" + std::string(domain);
}

bool recipient_allowed(std::string_view address, const std::vector<std::string>& allowed) {
  if (allowed.empty()) {
    return true;
  }
  const std::string domain = lower(domain_of(address));
  if (domain.empty()) {
    return false;
  }
  return std::any_of(allowed.begin(), allowed.end(),
                     [&domain](const std::string& a) { return lower(a) == domain; });
}

std::vector<OutboxEntry> review_mail(const report::Review& review, const config::Config& config,
                                     Time now, const BackoffPolicy& policy) {
  std::vector<OutboxEntry> entries;
  if (!config.mail.enabled()) {
    return entries;
  }
  const std::string week = review.week.str();
  for (const config::Route& route : config.routes) {
    if (!route.reviews) {
      continue;  // an operations route: alerts only
    }
    report::Review slice = only_rules(
        route.teams.empty() ? review : report::for_teams(review, route.teams), route.rules);
    if (!route.teams.empty()) {
      slice.route = route.name;
    }
    const std::vector<std::string>& fields = route.fields ? *route.fields : config.review.fields;
    report::Output output;
    output.fields = fields;
    output.body_items = static_cast<std::size_t>(config.review.body_items);
    output.email = true;
    if (!route.attach_csv) {
      output.more_in = "the review files";
    }
    const std::string key = fmt::format("review/{}/{}", week, route.name);
    std::vector<std::string> recipients;
    for (const auto& to : route.to) {
      if (recipient_allowed(to, config.mail.allowed_domains)) {
        recipients.push_back(to);
      }
    }
    if (recipients.empty()) {
      continue;
    }

    report::MailMessage message;
    message.from = config.mail.from;
    message.to = recipients;
    message.subject = report::subject(slice);
    message.date = report::rfc5322_date(now.time_since_epoch().count());
    message.message_id = message_id_for(key, config.mail.from);
    message.text = report::render_text(slice, output);
    message.html = report::render_html(slice, output);
    if (route.attach_csv) {
      // render_csv already keeps to the allow-list; filtering again costs little and makes
      // the promise hold here whatever the renderer does.
      message.attachment =
          report::Attachment{fmt::format("casewatch-{}.csv", week), "text/csv",
                             report::filter_csv_columns(report::render_csv(slice, fields), fields)};
    }
    const std::string bytes = report::build_message(message);
    for (const auto& to : recipients) {
      entries.push_back(make_entry(key, to, config.mail.from, message.subject, bytes, now, policy));
    }
  }
  return entries;
}

}  // namespace service
