#include "daemon/control/alert_commands.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json.hpp>

#include "daemon/control/wire_json.h"
#include "daemon/policy/alerts.h"

namespace service {

namespace json = boost::json;

Answer alerts_command(const storage::History& history) {
  const auto states = history.alert_states();
  const auto silences = history.silences();
  const auto firing = std::count_if(states.begin(), states.end(), [](const AlertState& a) {
    return a.status == AlertStatus::kFiring;
  });
  if (states.empty() && silences.empty()) {
    return Answer{ResultCode::kEmpty, "no alerts", alerts_json(states, silences)};
  }
  return Answer{ResultCode::kSuccess,
                fmt::format("{} firing, {} resolved; {} active silence{}", firing,
                            states.size() - static_cast<std::size_t>(firing), silences.size(),
                            silences.size() == 1 ? "" : "s"),
                alerts_json(states, silences)};
}

// `silence`: rule (a rule id, a source name or a mail recipient: what alerts name as their
// subject), optional scope (a case key or a team), reason, and expires: a date (the silence
// ends at the start of that day in the service time zone) or "until-resolved".
Answer silence_command(const Request& request, const Peer& peer, storage::History& history,
                       const Settings& settings, SysSeconds now) {
  const auto rule = string_argument(request, "rule");
  const std::string scope = string_argument(request, "scope").value_or("");
  const auto reason = string_argument(request, "reason");
  const auto expires = string_argument(request, "expires");
  if (!rule || rule->empty() || !reason || reason->empty() || !expires) {
    return Answer{ResultCode::kError,
                  "silence needs rule, reason and expires (a date like 2026-12-01 or "
                  "until-resolved)",
                  nullptr};
  }
  const auto& rules_config = settings.config.rules;
  const bool known = rules_config.find_rule(*rule) != nullptr ||
                     std::any_of(rules_config.sources.begin(), rules_config.sources.end(),
                                 [&](const auto& s) { return s.name == *rule; }) ||
                     rule->find('@') != std::string::npos;
  if (!known) {
    return Answer{ResultCode::kError,
                  fmt::format("'{}' is not a rule, a source or a mail recipient", *rule), nullptr};
  }
  Silence silence;
  silence.rule = *rule;
  silence.scope = scope;
  silence.reason = *reason;
  silence.who = fmt::format("{} (uid {})", peer.user, peer.uid);
  silence.created = now;
  std::string until = "its alerts resolve";
  if (*expires != "until-resolved") {
    const auto day = rules::Date::parse_iso(*expires);
    if (!day) {
      return Answer{
          ResultCode::kError,
          fmt::format("expires '{}' is not a date like 2026-12-01 or until-resolved", *expires),
          nullptr};
    }
    const SysSeconds end = at_local(*day, TimeOfDay{0, 0}, settings.zone);
    if (end <= now) {
      return Answer{ResultCode::kError, fmt::format("expires {} is not in the future", day->iso()),
                    nullptr};
    }
    silence.expires = end;
    until = day->iso();
  }
  const std::int64_t id = history.add_silence(silence);
  spdlog::info("silence {} added by {}", id, peer.user);
  return Answer{ResultCode::kSuccess,
                fmt::format("silence {} on {}{} until {}, by {}", id, *rule,
                            scope.empty() ? "" : " (" + scope + ")", until, silence.who),
                json::object{{"id", id}}};
}

Answer unsilence_command(const Request& request, const Peer& peer, storage::History& history) {
  const auto id = id_argument(request, "id");
  if (!id) {
    return Answer{ResultCode::kError, "unsilence needs an id", nullptr};
  }
  if (!history.end_silence(*id)) {
    return Answer{ResultCode::kError, fmt::format("no active silence {}", *id), nullptr};
  }
  spdlog::info("silence {} ended by {}", *id, peer.user);
  return Answer{ResultCode::kSuccess, fmt::format("silence {} ended by {}", *id, peer.user),
                nullptr};
}

}  // namespace service
