#include "daemon/control/findings_view.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "daemon/control/wire_json.h"

namespace service {
namespace {

namespace json = boost::json;

const rules::Rule& rule_named(const config::Config& config, const std::string& id) {
  const rules::Rule* rule = config.rules.find_rule(id);
  if (rule == nullptr) throw std::invalid_argument(fmt::format("unknown rule '{}'", id));
  return *rule;
}

}  // namespace

void FindingsView::reconfigure(std::shared_ptr<const Settings> settings) {
  settings_ = std::move(settings);
  findings_.reset();
  cache_.clear();
}

std::shared_ptr<OpenFindings> FindingsView::set(std::shared_ptr<OpenFindings> findings) {
  cache_.clear();
  return std::exchange(findings_, std::move(findings));
}

const OpenFindings& FindingsView::open() {
  if (!findings_) findings_ = load_open_findings(settings_->config, history_);
  return *findings_;
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
    for (const auto& known : config.rules.rules) rules += (rules.empty() ? "" : ", ") + known.id;
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
            if (findings_) {
              for (auto& [rule_id, open] : findings_->rules) {
                if (rule_id != rule) continue;
                for (auto& tracked : open) {
                  if (tracked.finding.key != key) continue;
                  if (tracked.latest_note) ++tracked.earlier_notes;  // the trail grows
                  tracked.latest_note = note;
                }
              }
            }
            cache_.clear();
          }};
}

Answer FindingsView::findings(const Request& request) {
  const auto rule = string_argument(request, "rule");
  const auto team = string_argument(request, "team");
  const auto band = string_argument(request, "band");
  const auto status = string_argument(request, "status");
  if (status && *status != "new" && *status != "carried") {
    throw std::invalid_argument(fmt::format("status '{}' is not one of new, carried", *status));
  }
  const std::size_t offset = static_cast<std::size_t>(id_argument(request, "offset").value_or(0));
  const auto limit_argument = id_argument(request, "limit");
  if (limit_argument &&
      (*limit_argument < 1 || *limit_argument > static_cast<std::int64_t>(kPageMax))) {
    throw std::invalid_argument(fmt::format("limit must be 1 to {}", kPageMax));
  }
  const std::size_t limit =
      limit_argument ? static_cast<std::size_t>(*limit_argument) : kPageDefault;
  const std::string rule_id = rule ? rule_named(settings_->config, *rule).id : std::string();
  const std::string cache_key = fmt::format("{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}", rule_id,
                                            team.has_value(), team.value_or(""), band.has_value(),
                                            band.value_or(""), status.value_or(""), offset, limit);
  if (const auto cached = cache_.find(cache_key); cached != cache_.end()) {
    return cached->second;
  }
  json::array list;
  std::size_t total = 0;
  for (const auto& [id, rule_findings] : open().rules) {
    if (rule && id != rule_id) continue;
    for (const auto& tracked : rule_findings) {
      if (team && tracked.finding.team != *team) continue;
      if (band && tracked.finding.band != *band) continue;
      if (status && rules::to_string(tracked.review_status) != *status) continue;
      if (total >= offset && total - offset < limit)
        list.push_back(finding_json(tracked, kind_of(*settings_, id)));
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
    arguments["offset"] = offset;
    arguments["limit"] = limit;
    text = fmt::format("findings {} to {} of {}", count == 0 ? offset : offset + 1, offset + count,
                       total);
    if (offset + count < total) {
      arguments["next_offset"] = offset + count;
      text += fmt::format("; the next page from offset {}", offset + count);
    }
  }
  Answer answer{count == 0 ? ResultCode::kEmpty : ResultCode::kSuccess, std::move(text), nullptr};
  answer.serialized_arguments = std::make_shared<const std::string>(json::serialize(arguments));
  if (cache_.size() >= kCacheEntries) cache_.clear();
  cache_.emplace(cache_key, answer);
  return answer;
}

Answer FindingsView::case_of(const Request& request) {
  const auto key = string_argument(request, "key");
  if (!key || key->empty()) return Answer{ResultCode::kError, "case needs a key", nullptr};
  const rules::Date first = *rules::Date::from_ymd(1, 1, 1);
  const rules::Date last = *rules::Date::from_ymd(9999, 12, 31);
  json::array on_lists;
  json::array resolved;
  for (const auto& [rule_id, tracked_list] : open().rules) {
    for (const auto& tracked : tracked_list) {
      if (tracked.finding.key == *key)
        on_lists.push_back(finding_json(tracked, kind_of(*settings_, rule_id)));
    }
  }
  for (const auto& rule : settings_->config.rules.rules) {
    for (const auto& gone : history_.resolved_between(rule.id, first, last)) {
      if (gone.last.key == *key) resolved.push_back(resolved_json(gone));
    }
  }
  json::array records;
  for (const auto& source : settings_->config.rules.sources) {
    for (const auto& version : history_.record_history(source.name, *key)) {
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
  for (const auto& entry : history_.notes(*key)) {
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

Answer FindingsView::review(const Request& request, rules::Date today,
                            const RenderReview& render) const {
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
    const auto weeks = history_.review_weeks();
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
    const auto file = settings_->config.service.reports_dir() / week.str() /
                      (format == "text" ? "review.txt" : "review." + format);
    std::string stored;
    if (std::ifstream in(file, std::ios::binary); in) {
      stored.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    } else if (format == "text") {
      stored = history_.review_text(week).value_or("");  // the files were removed: the record
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
  return Answer{ResultCode::kSuccess, render(week, now, format),
                json::object{{"week", week.str()}, {"format", format}, {"produced", true}}};
}

}  // namespace service
