// [mail], [[route]] and [review].
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <map>
#include <set>
#include <string_view>
#include <utility>

#include "config/readers.h"

namespace config::detail {
namespace {

// The host of "smtp://host:587" (brackets removed from an IPv6 address).
std::string url_host(std::string_view url) {
  const auto scheme = url.find("://");
  std::string_view rest = scheme == std::string_view::npos ? url : url.substr(scheme + 3);
  rest = rest.substr(0, rest.find('/'));
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    rest = rest.substr(at + 1);
  }
  if (!rest.empty() && rest[0] == '[') {
    return std::string(rest.substr(1, rest.find(']') - 1));
  }
  return std::string(rest.substr(0, rest.find(':')));
}

std::string address_domain(std::string_view address) {
  const auto at = address.rfind('@');
  if (at == std::string_view::npos) {
    return {};
  }
  return lower(address.substr(at + 1));
}

bool is_address(std::string_view address) {
  const auto at = address.rfind('@');
  return at != std::string_view::npos && at > 0 && at + 1 < address.size() &&
         address.find_first_of(" \t\r\n<>,;\"") == std::string_view::npos;
}

// The field names a list may hold; the names of before this round (days, working_days,
// resolved_reason) are read as their new ones. Errors name the key.
std::optional<std::vector<std::string>> read_fields(Table& t, const std::string& key) {
  auto names = t.strings(key);
  if (!names) {
    return std::nullopt;
  }
  std::vector<std::string> fields;
  const auto add = [&fields](const std::string& name) {
    if (std::find(fields.begin(), fields.end(), name) == fields.end()) {
      fields.push_back(name);
    }
  };
  for (const auto& name : *names) {
    if (name == "days") {
      add("days_unallocated");
      add("days_overdue");
      add("due_in_days");
    } else if (name == "working_days") {
      add("working_days_elapsed");
    } else if (name == "resolved_reason") {
      add("reason");
    } else if (std::find(rules::kReviewFields.begin(), rules::kReviewFields.end(), name) ==
               rules::kReviewFields.end()) {
      t.error(*t.find(key), fmt::format("unknown field '{}' in '{}' of {}: expected some of {}",
                                        name, key, t.name(), join(rules::kReviewFields, ", ")));
    } else {
      add(name);
    }
  }
  return fields;
}

}  // namespace

void read_mail(Table& t, const fs::path& base, MailConfig& mail) {
  const auto server = t.string("server", true);
  if (server) {
    if (server->rfind("smtp://", 0) != 0 && server->rfind("smtps://", 0) != 0) {
      t.error(*t.find("server"),
              fmt::format("'server' must start with smtp:// or smtps://, got '{}'", *server));
    } else {
      mail.server = *server;
    }
  }
  if (auto v = t.string("tls")) {
    if (*v == "required") {
      mail.tls = TlsMode::kRequired;
    } else if (*v == "starttls") {
      mail.tls = TlsMode::kStartTls;
    } else if (*v == "none") {
      mail.tls = TlsMode::kNone;
      const std::string host = server ? url_host(*server) : "";
      if (server && host != "127.0.0.1" && host != "::1" && host != "localhost") {
        t.error(*t.find("tls"),
                fmt::format("tls = \"none\" is allowed only for a server on this machine "
                            "(127.0.0.1, ::1 or localhost), not '{}'",
                            host));
      }
    } else {
      t.error(*t.find("tls"),
              fmt::format("unknown tls '{}': expected \"required\", \"starttls\" or \"none\"", *v));
    }
  }
  if (auto v = t.string("from", true)) {
    if (!is_address(*v)) {
      t.error(*t.find("from"), fmt::format("bad email address '{}' in 'from'", *v));
    }
    mail.from = *v;
  }
  if (auto v = t.string("username")) {
    mail.username = *v;
  }
  if (const Value* v = t.find("password")) {
    t.error(*v,
            "a password is never written in the config: put it in the file 'password_file' "
            "names, or in the systemd credential smtp-password");
  }
  if (auto v = t.string("password_file")) {
    mail.password_file = resolve(base, *v);
  }
  if (auto v = t.string("ca_file")) {
    mail.ca_file = resolve(base, *v);
  }
  if (auto v = t.strings("allowed_domains")) {
    for (const auto& domain : *v) {
      mail.allowed_domains.push_back(lower(domain));
    }
  }
  if (auto v = hours_duration(t, "repeat_interval")) {
    mail.repeat_interval = *v;
  }
  if (auto v = t.boolean("send_resolved")) {
    mail.send_resolved = *v;
  }
  t.finish();
}

std::optional<Route> read_route(Table& t, const Config& config) {
  Route route;
  const auto name = t.string("name", true);
  if (name) {
    route.name = *name;
    t.set_name(fmt::format("[[route]] '{}'", *name));
  }
  if (auto to = t.strings("to", true)) {
    const Value& at = *t.find("to");
    if (to->empty()) {
      t.error(at, fmt::format("'to' must name at least one address in {}", t.name()));
    }
    for (const auto& address : *to) {
      if (!is_address(address)) {
        t.error(at, fmt::format("bad email address '{}' in {}", address, t.name()));
        continue;
      }
      const auto& allowed = config.mail.allowed_domains;
      if (!allowed.empty() &&
          std::find(allowed.begin(), allowed.end(), address_domain(address)) == allowed.end()) {
        t.error(at, fmt::format("address '{}' in {} is not in mail.allowed_domains ({})", address,
                                t.name(), join(allowed, ", ")));
      }
    }
    route.to = *to;
  }
  if (auto ids = t.strings("rules")) {
    for (const auto& id : *ids) {
      if (config.rules.find_rule(id) == nullptr) {
        t.error(*t.find("rules"), fmt::format("unknown rule '{}' in {}", id, t.name()));
      }
    }
    route.rules = *ids;
  }
  if (auto teams = t.strings("teams")) {
    route.teams = *teams;
  }
  if (auto v = t.boolean("attach_csv")) {
    route.attach_csv = *v;
  }
  route.fields = read_fields(t, "fields");
  if (auto kinds = t.strings("alerts")) {
    for (const auto& kind : *kinds) {
      if (std::find(kCaseAlertKinds.begin(), kCaseAlertKinds.end(), kind) ==
              kCaseAlertKinds.end() &&
          std::find(kOperatorAlertKinds.begin(), kOperatorAlertKinds.end(), kind) ==
              kOperatorAlertKinds.end()) {
        t.error(
            *t.find("alerts"),
            fmt::format("unknown alert kind '{}' in 'alerts' of {}: expected some of {}, {}", kind,
                        t.name(), join(kCaseAlertKinds, ", "), join(kOperatorAlertKinds, ", ")));
      }
    }
    route.alerts = *kinds;
  }
  if (auto v = t.boolean("reviews")) {
    route.reviews = *v;
  }
  t.finish();
  if (!name) {
    return std::nullopt;
  }
  return route;
}

void read_review(Table& t, ReviewConfig& review) {
  if (auto at = t.string("at")) {
    static constexpr std::string_view kDays[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    const auto space = at->find(' ');
    std::optional<TimeOfDay> time;
    int weekday = 0;
    if (space != std::string::npos) {
      const std::string day = lower(at->substr(0, space));
      for (int i = 0; i < 7; ++i) {
        if (day == kDays[i]) {
          weekday = i + 1;
        }
      }
      time = parse_hh_mm(std::string_view(*at).substr(space + 1));
    }
    if (weekday == 0 || !time) {
      t.error(*t.find("at"), fmt::format("bad time '{}' for 'at': expected a weekday (Mon to Sun) "
                                         "and HH:MM, such as \"Mon 07:00\"",
                                         *at));
    } else {
      review.weekday = weekday;
      review.at = *time;
    }
  }
  if (t.find("fields") != nullptr && t.find("csv_columns") != nullptr) {
    t.error(*t.find("csv_columns"),
            "'csv_columns' is the old name of 'fields': give one of them, not both");
  }
  if (auto fields = read_fields(t, "fields")) {
    review.fields = *fields;
  }
  if (auto fields = read_fields(t, "csv_columns")) {
    review.fields = *fields;
  }
  if (const Value* v = t.find("body_items")) {
    if (const auto n = t.integer("body_items"); n && (*n < 1 || *n > 1000)) {
      t.error(*v, fmt::format("'body_items' must be from 1 to 1000, got {}", *n));
    } else if (n) {
      review.body_items = static_cast<int>(*n);
    }
  }
  t.finish();
}

std::vector<std::string> route_warnings(const Config& config) {
  std::vector<std::string> warnings;
  if (config.routes.empty()) {
    return warnings;
  }
  std::vector<std::string> unrouted;
  for (const auto& kind : kOperatorAlertKinds) {
    const bool listed =
        std::any_of(config.routes.begin(), config.routes.end(), [&](const Route& r) {
          return r.alerts && std::find(r.alerts->begin(), r.alerts->end(), kind) != r.alerts->end();
        });
    const bool operations = std::any_of(config.routes.begin(), config.routes.end(),
                                        [](const Route& r) { return !r.reviews && !r.alerts; });
    if (!listed && !operations) {
      unrouted.push_back(kind);
    }
  }
  if (!unrouted.empty()) {
    warnings.push_back(fmt::format(
        "{}: warning: no [[route]] lists the operator alerts {}: they go to the whole-review "
        "route(s), with the review's recipients; add an operations route (reviews = false) for "
        "them",
        config.file.string(), join(unrouted, ", ")));
  }
  return warnings;
}

}  // namespace config::detail

namespace config {

bool Route::receives(std::string_view kind) const {
  if (alerts) {
    return std::find(alerts->begin(), alerts->end(), kind) != alerts->end();
  }
  const auto& defaults = reviews ? kCaseAlertKinds : kOperatorAlertKinds;
  return std::find(defaults.begin(), defaults.end(), kind) != defaults.end();
}

}  // namespace config
