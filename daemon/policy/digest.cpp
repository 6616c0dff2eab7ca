#include "daemon/policy/digest.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iterator>
#include <map>
#include <utility>

#include "report/report.h"

namespace service {
namespace {

// A subject longer than this keeps its first phrases and counts the rest.
constexpr std::size_t kSubjectPhrases = 110;

std::string plural(std::size_t n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

// Notices of one kind of change, grouped by what they say: (kind, rule or source, summary).
struct Bunch {
  AlertKind kind = AlertKind::kRuleCount;
  std::string subject;
  std::string summary;
  std::vector<const AlertNotice*> notices;
};

std::vector<Bunch> bunch(const std::vector<AlertNotice>& notices) {
  std::vector<Bunch> out;
  for (const AlertNotice& n : notices) {
    const AlertCondition& c = n.alert.condition;
    auto it = std::find_if(out.begin(), out.end(), [&c](const Bunch& b) {
      return b.kind == c.kind && b.subject == c.subject && b.summary == c.summary;
    });
    if (it == out.end()) {
      out.push_back({c.kind, c.subject, c.summary, {}});
      it = std::prev(out.end());
    }
    it->notices.push_back(&n);
  }
  return out;
}

// "14 cases newly past 8 weeks unallocated", "still: a cases extract was rejected (2)".
std::string phrase(const Bunch& b, NoticeKind change) {
  const std::size_t n = b.notices.size();
  if (b.kind == AlertKind::kEscalation) {
    const std::string_view how = change == NoticeKind::kFiring   ? "newly"
                                 : change == NoticeKind::kRepeat ? "still"
                                                                 : "no longer";
    return fmt::format("{} {} {}", plural(n, "case", "cases"), how, b.summary);
  }
  const std::string count = n > 1 ? fmt::format(" ({})", n) : std::string();
  switch (change) {
    case NoticeKind::kFiring:
      return b.summary + count;
    case NoticeKind::kRepeat:
      return "still: " + b.summary + count;
    case NoticeKind::kResolved:
      return "resolved: " + b.summary + count;
  }
  return b.summary;
}

std::string subject_of(const Digest& d) {
  std::vector<std::string> phrases;
  for (const auto& [notices, change] :
       {std::pair{&d.fired, NoticeKind::kFiring}, std::pair{&d.repeated, NoticeKind::kRepeat},
        std::pair{&d.resolved, NoticeKind::kResolved}}) {
    for (const Bunch& b : bunch(*notices)) {
      phrases.push_back(phrase(b, change));
    }
  }
  std::string text;
  std::size_t used = 0;
  for (; used < phrases.size(); ++used) {
    if (used > 0 && text.size() + phrases[used].size() + 2 > kSubjectPhrases) {
      break;
    }
    text += (used > 0 ? "; " : "") + phrases[used];
  }
  if (used < phrases.size()) {
    text += fmt::format("; and {} more", phrases.size() - used);
  }
  return fmt::format("{}: {} ({})",
                     d.group == AlertGroup::kCase ? "casewatch" : "casewatch operations", text,
                     d.route->name);
}

const std::vector<std::string>& route_fields(const config::Route& route,
                                             const config::Config& config) {
  return route.fields ? *route.fields : config.review.fields;
}

// The case rows of `b`: each case's figures now, or the key and team it was last seen with.
std::vector<report::AlertRow> case_rows(const Bunch& b, const config::Config& config,
                                        const std::vector<RuleList>& lists) {
  const rules::Rule* rule = config.rules.find_rule(b.subject);
  const auto list = std::find_if(lists.begin(), lists.end(), [&b](const RuleList& l) {
    return l.rule != nullptr && l.rule->id == b.subject;
  });
  std::map<std::string, const rules::TrackedFinding*, std::less<>> open;
  if (list != lists.end()) {
    for (const auto& tracked : list->findings) {
      open.emplace(tracked.finding.key, &tracked);
    }
  }
  std::vector<report::AlertRow> rows;
  for (const AlertNotice* n : b.notices) {
    const AlertCondition& c = n->alert.condition;
    report::AlertRow row{rule, {}};
    const auto found = open.find(c.scope);
    if (n->kind != NoticeKind::kResolved && found != open.end()) {
      row.item = *found->second;
    } else {
      row.item.finding.rule = c.subject;
      row.item.finding.key = c.scope;
      row.item.finding.team = c.team;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

void add_section(std::string& out, std::string_view heading,
                 const std::vector<AlertNotice>& notices, const Digest& d,
                 const config::Config& config, const std::vector<RuleList>& lists) {
  if (notices.empty()) {
    return;
  }
  const std::string title = fmt::format("{}: {}", heading, notices.size());
  out += fmt::format("{}\n{}\n", title, std::string(title.size(), '-'));
  for (const Bunch& b : bunch(notices)) {
    const rules::Rule* rule = config.rules.find_rule(b.subject);
    if (b.kind == AlertKind::kEscalation && rule != nullptr) {
      const std::string name = rule->title.empty() ? rule->id : rule->title;
      out += fmt::format("{}, {} ({})\n", name, b.summary, b.notices.size());
      const std::string table =
          report::render_alert_table(case_rows(b, config, lists), route_fields(*d.route, config));
      out += table.empty() ? "  (no field of these cases may be shown on this route)\n" : table;
    } else {
      for (const AlertNotice* n : b.notices) {
        // A case alert's detail may name a case; operator alerts carry no child data.
        const AlertCondition& c = n->alert.condition;
        out += fmt::format("  - {}\n", is_operator_alert(c.kind) ? c.detail : c.summary);
      }
    }
    out += "\n";
  }
}

}  // namespace

std::string_view to_string(AlertGroup group) {
  return group == AlertGroup::kCase ? "case alerts" : "operator alerts";
}

AlertGroup group_of(AlertKind kind) {
  return is_operator_alert(kind) ? AlertGroup::kOperator : AlertGroup::kCase;
}

std::vector<Digest> build_digests(const std::vector<AlertNotice>& notices,
                                  const config::Config& config, const std::vector<RuleList>& lists,
                                  Time now) {
  // (route index, group) -> digest, in route order with case alerts first.
  std::map<std::pair<std::size_t, int>, Digest> by_route;
  for (const AlertNotice& notice : notices) {
    const AlertGroup group = group_of(notice.alert.condition.kind);
    for (const config::Route* route : routes_for(notice.alert.condition, config)) {
      const auto index = static_cast<std::size_t>(route - config.routes.data());
      Digest& d = by_route[{index, static_cast<int>(group)}];
      d.route = route;
      d.group = group;
      auto& into = notice.kind == NoticeKind::kFiring   ? d.fired
                   : notice.kind == NoticeKind::kRepeat ? d.repeated
                                                        : d.resolved;
      into.push_back(notice);
    }
  }
  std::vector<Digest> out;
  for (auto& [where, d] : by_route) {
    d.subject = subject_of(d);
    std::string text = d.subject + "\n\n";
    text += fmt::format("{} for the route '{}', {}.\n\n",
                        d.group == AlertGroup::kCase ? "Case alerts" : "Operator alerts",
                        d.route->name, report::rfc5322_date(now.time_since_epoch().count()));
    add_section(text, "Newly firing", d.fired, d, config, lists);
    add_section(
        text,
        fmt::format(
            "Still firing (reminder every {} hours)",
            std::chrono::duration_cast<std::chrono::hours>(config.mail.repeat_interval).count()),
        d.repeated, d, config, lists);
    add_section(text, "Resolved", d.resolved, d, config, lists);
    text +=
        "`casewatch alerts` lists every alert; `casewatch silence` quiets one while it is in "
        "hand.\n";
    d.text = std::move(text);
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<OutboxEntry> digest_mail(const Digest& digest, const config::Config& config, Time now,
                                     const BackoffPolicy& policy) {
  std::vector<OutboxEntry> entries;
  if (!config.mail.enabled()) {
    return entries;
  }
  std::vector<std::string> recipients;
  for (const auto& to : digest.route->to) {
    if (recipient_allowed(to, config.mail.allowed_domains)) {
      recipients.push_back(to);
    }
  }
  if (recipients.empty()) {
    return entries;
  }
  std::vector<std::string> keys;
  for (const auto* notices : {&digest.fired, &digest.repeated, &digest.resolved}) {
    for (const AlertNotice& n : *notices) {
      keys.push_back(n.key);
    }
  }
  std::sort(keys.begin(), keys.end());
  std::string joined;
  for (const auto& k : keys) {
    joined += k + "\n";
  }
  const std::string key = fmt::format("alert/digest/{}/{}/{:016x}",
                                      digest.group == AlertGroup::kCase ? "case" : "operator",
                                      digest.route->name, report::stable_hash(joined));
  report::MailMessage message;
  message.from = config.mail.from;
  message.to = recipients;
  message.subject = digest.subject;
  message.date = report::rfc5322_date(now.time_since_epoch().count());
  message.message_id = message_id_for(key, config.mail.from);
  message.text = digest.text;
  const std::string bytes = report::build_message(message);
  for (const auto& to : recipients) {
    entries.push_back(make_entry(key, to, config.mail.from, message.subject, bytes, now, policy));
  }
  return entries;
}

std::string log_line(const Digest& digest) {
  return fmt::format("alert digest to route '{}' ({}): {} firing, {} still firing, {} resolved",
                     digest.route->name, to_string(digest.group), digest.fired.size(),
                     digest.repeated.size(), digest.resolved.size());
}

}  // namespace service
