#include "daemon/control/findings_view.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <fstream>
#include <iterator>
#include <mutex>
#include <stdexcept>

#include "daemon/control/wire_json.h"

namespace service {
namespace {

namespace json = boost::json;

const rules::Rule& rule_named(const config::Config& config, const std::string& id) {
  const rules::Rule* rule = config.rules.find_rule(id);
  if (rule == nullptr) {
    throw std::invalid_argument(fmt::format("unknown rule '{}'", id));
  }
  return *rule;
}

}  // namespace

std::shared_ptr<const FindingsSnapshot> FindingsSnapshot::with_note(const std::string& rule,
                                                                    const std::string& key,
                                                                    const rules::Note& note) const {
  auto next = std::make_shared<FindingsSnapshot>(open_);
  next->notes_ = notes_;
  Noted& noted = next->notes_[{rule, key}];
  noted.latest = note;
  ++noted.added;
  return next;
}

json::object FindingsSnapshot::finding_json(const std::string& rule,
                                            const rules::TrackedFinding& tracked,
                                            rules::RuleKind kind) const {
  const auto noted = notes_.find({rule, tracked.finding.key});
  if (noted == notes_.end()) {
    return service::finding_json(tracked, kind);
  }
  rules::TrackedFinding shown = tracked;
  // Each note since the job pushed the one before it into the trail.
  shown.earlier_notes += noted->second.added - (tracked.latest_note ? 0 : 1);
  shown.latest_note = noted->second.latest;
  return service::finding_json(shown, kind);
}

std::optional<Answer> FindingsSnapshot::cached(const std::string& key) const {
  const std::lock_guard lock(cache_lock_);
  const auto found = cache_.find(key);
  if (found == cache_.end()) {
    return std::nullopt;
  }
  return found->second;
}

void FindingsSnapshot::cache(const std::string& key, const Answer& answer) const {
  const std::lock_guard lock(cache_lock_);
  if (cache_.size() >= kCacheEntries) {
    cache_.clear();
  }
  cache_.insert_or_assign(key, answer);
}

void FindingsView::reconfigure(std::shared_ptr<const Settings> settings) {
  settings_ = std::move(settings);
  snapshot_.reset();
}

std::shared_ptr<const FindingsSnapshot> FindingsView::set(
    std::shared_ptr<const OpenFindings> findings) {
  return std::exchange(snapshot_, std::make_shared<const FindingsSnapshot>(std::move(findings)));
}

const OpenFindings& FindingsView::open() {
  if (!snapshot_) {
    snapshot_ =
        std::make_shared<const FindingsSnapshot>(load_open_findings(settings_->config, history_));
  }
  return snapshot_->open();
}

PoolAnswer FindingsView::note(const Request& request, const Peer& peer, storage::History& history,
                              const config::Config& config, SysSeconds now) {
  const auto rule = string_argument(request, "rule");
  const auto key = string_argument(request, "key");
  const auto text = string_argument(request, "text");
  if (!rule || !key || !text || text->empty()) {
    return {Answer{ResultCode::kError, "note needs rule, key and text", nullptr}};
  }
  if (config.rules.find_rule(*rule) == nullptr) {
    std::string rules;
    for (const auto& known : config.rules.rules) {
      rules += (rules.empty() ? "" : ", ") + known.id;
    }
    return {Answer{ResultCode::kError,
                   fmt::format("unknown rule '{}'; the rules are: {}", *rule, rules), nullptr}};
  }
  const rules::Note note{*text, peer.user, utc_text(now)};
  if (!history.add_note(*rule, *key, note)) {
    const std::size_t open_keys = history.open_count(*rule);
    return {Answer{ResultCode::kError,
                   fmt::format("no open finding of rule '{}' for key '{}' ('{}' has {} open "
                               "key{}): notes go on findings that are on a list now",
                               *rule, *key, *rule, open_keys, open_keys == 1 ? "" : "s"),
                   nullptr}};
  }
  return {Answer{ResultCode::kSuccess,
                 fmt::format("note recorded on {} {} by {}", *rule, *key, peer.user), nullptr},
          [this, rule = *rule, key = *key, note] {
            if (snapshot_) {
              snapshot_ = snapshot_->with_note(rule, key, note);
            }
          }};
}

namespace {

// The cache key of a `findings` request, after checking its arguments.
struct FindingsQuery {
  std::optional<std::string> rule, team, band, status;
  std::string rule_id;
  std::size_t offset = 0;
  std::size_t limit = kPageDefault;
  std::string key;
};

FindingsQuery findings_query(const Request& request, const Settings& settings) {
  FindingsQuery q;
  q.rule = string_argument(request, "rule");
  q.team = string_argument(request, "team");
  q.band = string_argument(request, "band");
  q.status = string_argument(request, "status");
  if (q.status && *q.status != "new" && *q.status != "carried") {
    throw std::invalid_argument(fmt::format("status '{}' is not one of new, carried", *q.status));
  }
  q.offset = static_cast<std::size_t>(id_argument(request, "offset").value_or(0));
  const auto limit_argument = id_argument(request, "limit");
  if (limit_argument &&
      (*limit_argument < 1 || *limit_argument > static_cast<std::int64_t>(kPageMax))) {
    throw std::invalid_argument(fmt::format("limit must be 1 to {}", kPageMax));
  }
  if (limit_argument) {
    q.limit = static_cast<std::size_t>(*limit_argument);
  }
  q.rule_id = q.rule ? rule_named(settings.config, *q.rule).id : std::string();
  q.key = fmt::format("{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}", q.rule_id, q.team.has_value(),
                      q.team.value_or(""), q.band.has_value(), q.band.value_or(""),
                      q.status.value_or(""), q.offset, q.limit);
  return q;
}

}  // namespace

std::optional<Answer> cached_findings(const Request& request, const Settings& settings,
                                      const FindingsSnapshot& findings) {
  return findings.cached(findings_query(request, settings).key);
}

Answer findings_command(const Request& request, const Settings& settings,
                        const FindingsSnapshot& findings) {
  const FindingsQuery q = findings_query(request, settings);
  if (auto cached = findings.cached(q.key)) {
    return std::move(*cached);
  }
  json::array list;
  std::size_t total = 0;
  for (const auto& [id, rule_findings] : findings.open().rules) {
    if (q.rule && id != q.rule_id) {
      continue;
    }
    for (const auto& tracked : rule_findings) {
      if (q.team && tracked.finding.team != *q.team) {
        continue;
      }
      if (q.band && tracked.finding.band != *q.band) {
        continue;
      }
      if (q.status && rules::to_string(tracked.review_status) != *q.status) {
        continue;
      }
      if (total >= q.offset && total - q.offset < q.limit) {
        list.push_back(findings.finding_json(id, tracked, kind_of(settings, id)));
      }
      ++total;
    }
  }
  const std::size_t count = list.size();
  json::object arguments{{"findings", std::move(list)}};
  std::string text;
  if (total == 0) {
    text = "no findings";
  } else if (count == total) {
    text = fmt::format("{} finding{}", total, total == 1 ? "" : "s");
  } else {
    // A capped answer says so, and how to get the rest.
    arguments["total"] = total;
    arguments["offset"] = q.offset;
    arguments["limit"] = q.limit;
    text = fmt::format("findings {} to {} of {}", count == 0 ? q.offset : q.offset + 1,
                       q.offset + count, total);
    if (q.offset + count < total) {
      arguments["next_offset"] = q.offset + count;
      text += fmt::format("; the next page from offset {}", q.offset + count);
    }
  }
  Answer answer{count == 0 ? ResultCode::kEmpty : ResultCode::kSuccess, std::move(text), nullptr};
  answer.serialized_arguments = std::make_shared<const std::string>(json::serialize(arguments));
  findings.cache(q.key, answer);
  return answer;
}

Answer case_command(const Request& request, const Reading& reading) {
  const Settings& settings = reading.settings;
  const storage::History& history = reading.history;
  const auto key = string_argument(request, "key");
  if (!key || key->empty()) {
    return Answer{ResultCode::kError, "case needs a key", nullptr};
  }
  const rules::Date first = *rules::Date::from_ymd(1, 1, 1);
  const rules::Date last = *rules::Date::from_ymd(9999, 12, 31);
  json::array on_lists;
  json::array resolved;
  for (const auto& [rule_id, tracked_list] : reading.findings.open().rules) {
    for (const auto& tracked : tracked_list) {
      if (tracked.finding.key == *key) {
        on_lists.push_back(
            reading.findings.finding_json(rule_id, tracked, kind_of(settings, rule_id)));
      }
    }
  }
  for (const auto& rule : settings.config.rules.rules) {
    for (const auto& gone : history.resolved_between(rule.id, first, last)) {
      if (gone.last.key == *key) {
        resolved.push_back(resolved_json(gone));
      }
    }
  }
  json::array records;
  for (const auto& source : settings.config.rules.sources) {
    for (const auto& version : history.record_history(source.name, *key)) {
      json::object values;
      for (std::size_t i = 0; i < source.fields.size() && i < version.record.values.size(); ++i) {
        values[source.fields[i].name] = version.record.values[i];
      }
      records.push_back(json::object{{"source", source.name},
                                     {"valid_from", version.valid_from.iso()},
                                     {"valid_to", date_or_null(version.valid_to)},
                                     {"values", std::move(values)}});
    }
  }
  // Every note on the key, on open and resolved findings alike: the trail.
  json::array notes;
  for (const auto& entry : history.notes(*key)) {
    notes.push_back(json::object{{"rule", entry.rule},
                                 {"text", entry.note.text},
                                 {"author", entry.note.author},
                                 {"at", entry.note.at},
                                 {"finding_first_seen", entry.finding_first_seen.iso()},
                                 {"finding_open", entry.finding_open}});
  }
  if (on_lists.empty() && resolved.empty() && notes.empty() && records.empty()) {
    return Answer{ResultCode::kEmpty, fmt::format("no case '{}'", *key), nullptr};
  }
  const std::string text =
      fmt::format("{}: {} open finding{}, {} resolved, {} note{}, {} record version{}", *key,
                  on_lists.size(), on_lists.size() == 1 ? "" : "s", resolved.size(), notes.size(),
                  notes.size() == 1 ? "" : "s", records.size(), records.size() == 1 ? "" : "s");
  return Answer{ResultCode::kSuccess, text,
                json::object{{"key", *key},
                             {"findings", std::move(on_lists)},
                             {"resolved", std::move(resolved)},
                             {"notes", std::move(notes)},
                             {"records", std::move(records)}}};
}

Answer review_command(const Request& request, const Reading& reading, rules::Date today) {
  const Settings& settings = reading.settings;
  const storage::History& history = reading.history;
  const auto week_text = string_argument(request, "week");
  const std::string format = string_argument(request, "format").value_or("text");
  const rules::Date now = today;
  rules::IsoWeek week = rules::iso_week(now);
  if (week_text) {
    const auto parsed = rules::parse_iso_week(*week_text);
    if (!parsed) {
      return Answer{ResultCode::kError,
                    fmt::format("week '{}' is not an ISO week like 2026-W47", *week_text), nullptr};
    }
    week = *parsed;
  }
  const rules::IsoWeek this_week = rules::iso_week(now);
  if (this_week < week) {
    return Answer{
        ResultCode::kError,
        fmt::format("week {} is in the future (this week is {})", week.str(), this_week.str()),
        nullptr};
  }
  if (week < this_week) {
    // A past week as it was: the review produced for it, never today's data under its label.
    if (format != "text" && format != "html" && format != "csv") {
      return Answer{ResultCode::kError,
                    fmt::format("unknown review format '{}': expected text, html or csv", format),
                    nullptr};
    }
    const auto weeks = history.review_weeks();
    if (std::find(weeks.begin(), weeks.end(), week) == weeks.end()) {
      // Found nothing: a valid question with no review to answer it (result 3, "empty", and
      // produced = false), unlike a review that lists no cases or says NO DATA, which is one.
      std::string known;
      json::array produced_weeks;
      for (const auto& w : weeks) {
        known += (known.empty() ? "" : ", ") + w.str();
        produced_weeks.push_back(json::value(w.str()));
      }
      return Answer{
          ResultCode::kEmpty,
          fmt::format("no review was produced for {}; reviews exist for: {}", week.str(),
                      known.empty() ? "none yet" : known),
          json::object{
              {"week", week.str()}, {"produced", false}, {"weeks", std::move(produced_weeks)}}};
    }
    const auto file = settings.config.service.reports_dir() / week.str() /
                      (format == "text" ? "review.txt" : "review." + format);
    std::string stored;
    if (std::ifstream in(file, std::ios::binary); in) {
      stored.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    } else if (format == "text") {
      stored = history.review_text(week).value_or("");  // the files were removed: the record
    } else {
      return Answer{ResultCode::kError,
                    fmt::format("the {} review of {} is no longer on disk ({}); its text is kept: "
                                "ask for format text",
                                format, week.str(), file.string()),
                    nullptr};
    }
    return Answer{
        ResultCode::kSuccess, std::move(stored),
        json::object{
            {"week", week.str()}, {"format", format}, {"stored", true}, {"produced", true}}};
  }
  return Answer{ResultCode::kSuccess, reading.current_review(week, now, format),
                json::object{{"week", week.str()}, {"format", format}, {"produced", true}}};
}

}  // namespace service
