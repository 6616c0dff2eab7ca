// [service], [[source]] and [calendar].
#include <date/tz.h>
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

bool is_field_name(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// The keys of a [[source]] table; a field of that name is a key written below [source.fields].
const std::set<std::string> kSourceKeys = {
    "name",         "files",        "key",    "encoding", "date_formats", "null_dates",
    "as_of_column", "max_bad_rows", "fields", "fetch",    "fetch_at",     "fetch_timeout",
    "max_age",      "profile",      "format", "sheet",    "record",       "set"};

// Applies `profile` (a built-in dataset's settings) to `source`, keeping its name.
void apply_profile(Table& t, rules::Source& source) {
  const auto name = t.string("profile");
  if (!name) {
    return;
  }
  const Profile* profile = find_profile(*name);
  if (profile == nullptr) {
    std::vector<std::string> known;
    for (const auto& p : profiles()) {
      known.push_back(p.name);
    }
    t.error(*t.find("profile"),
            fmt::format("unknown profile '{}': expected one of {}", *name, join(known, ", ")));
    return;
  }
  std::string kept = source.name;
  source = profile->source;
  source.name = std::move(kept);
}

void read_format(Table& t, rules::Source& source) {
  if (auto v = t.string("format")) {
    const std::string format = lower(*v);
    if (format == "csv") {
      source.format = rules::Format::kCsv;
    } else if (format == "xlsx") {
      source.format = rules::Format::kXlsx;
    } else if (format == "cin-xml") {
      source.format = rules::Format::kCinXml;
    } else {
      t.error(*t.find("format"),
              fmt::format("unknown format '{}': expected \"csv\", \"xlsx\" or \"cin-xml\"", *v));
    }
  }
  if (auto v = t.string("sheet")) {
    source.sheet = *v;
  }
  if (auto v = t.string("record")) {
    source.record = *v;
  }
  if (source.format != rules::Format::kXlsx && t.has("sheet")) {
    t.error(*t.find("sheet"), "'sheet' needs format = \"xlsx\"");
  }
  if (source.format == rules::Format::kCinXml && source.record.empty()) {
    t.error(
        fmt::format("{} has format = \"cin-xml\" but no 'record' (the element each record "
                    "comes from, such as \"Assessments\")",
                    t.name()));
  }
}

}  // namespace

void read_service(Table& t, const fs::path& base, ServiceConfig& service) {
  if (auto v = t.string("state_dir")) {
    service.state_dir = resolve(base, *v);
  }
  if (auto v = t.string("socket")) {
    service.socket = resolve(base, *v);
  }
  if (auto v = t.string("timezone")) {
    try {
      date::locate_zone(*v);  // the service needs it at start-up: --check finds it now
      service.timezone = *v;
    } catch (const std::exception&) {
      t.error(*t.find("timezone"),
              fmt::format("unknown time zone '{}': expected a name like \"Europe/London\"", *v));
    }
  }
  if (auto v = t.string("socket_group")) {
    service.socket_group = *v;
  }
  if (auto v = t.string("admin_group")) {
    service.admin_group = *v;
  }
  if (auto v = seconds_duration(t, "settle")) {
    service.settle = *v;
  }
  if (auto v = seconds_duration(t, "rescan")) {
    service.rescan = *v;
  }
  if (auto v = seconds_duration(t, "idle_timeout")) {
    service.idle_timeout = *v;
  }
  if (auto v = t.integer("max_connections")) {
    if (*v < 1 || *v > 100000) {
      t.error(*t.find("max_connections"), "'max_connections' must be between 1 and 100000");
    } else {
      service.max_connections = static_cast<int>(*v);
    }
  }
  if (auto v = t.string("holidays_file")) {
    service.holidays_file = resolve(base, *v);
  }
  t.finish();
}

// Reads one [[source]]; the fetch and max_age settings go to `config`.
std::optional<rules::Source> read_source(Table& t, Config& config) {
  rules::Source source;
  const auto name = t.string("name", true);
  if (name) {
    source.name = *name;
    t.set_name(fmt::format("[[source]] '{}'", *name));
  }
  apply_profile(t, source);
  if (auto v = t.string("files")) {
    source.files = *v;
  }
  read_format(t, source);
  if (auto v = t.string_or_strings("key", !t.has("profile"))) {
    if (v->empty()) {
      t.error(*t.find("key"), "'key' must name at least one column");
    }
    source.key = *v;
  }
  if (auto v = t.string("encoding")) {
    const std::string encoding = lower(*v);
    if (encoding == "utf-8" || encoding == "utf8") {
      source.encoding = rules::Encoding::kUtf8;
    } else if (encoding == "windows-1252" || encoding == "cp1252") {
      source.encoding = rules::Encoding::kWindows1252;
    } else {
      t.error(*t.find("encoding"),
              fmt::format("unknown encoding '{}': expected \"utf-8\" or \"windows-1252\"", *v));
    }
  }
  if (auto v = t.strings("date_formats")) {
    if (v->empty()) {
      t.error(*t.find("date_formats"), "'date_formats' must not be empty");
    }
    for (const auto& format : *v) {
      if (format.find("%Y") == std::string::npos || format.find("%m") == std::string::npos ||
          format.find("%d") == std::string::npos) {
        t.error(*t.find("date_formats"),
                fmt::format("bad date format '{}': it needs %d, %m and %Y", format));
      }
    }
    if (!v->empty()) {
      source.date_formats = *v;
    }
  }
  if (auto v = dates(t, "null_dates", source.date_formats)) {
    source.null_dates = *v;
  }
  if (auto v = t.string("as_of_column")) {
    source.as_of_column = *v;
  }
  if (auto v = t.string("set")) {
    const Value& at = *t.find("set");
    if (v->empty()) {
      t.error(at, "'set' must name the set (such as \"ssda903\")");
    } else if (source.format != rules::Format::kCsv) {
      t.error(at,
              "'set' needs format = \"csv\": a workbook or CIN census file already feeds "
              "all its sources together");
    } else if (!source.as_of_column.empty()) {
      t.error(at,
              "'set' cannot be used with 'as_of_column': a set's files are matched by the "
              "date in their names (else their modification date), before they are read");
    } else {
      source.set = *v;
    }
  }
  if (const Value* v = t.find("max_bad_rows")) {
    std::optional<double> percent;
    if (v->is_integer()) {
      percent = static_cast<double>(v->as_integer());
    } else if (v->is_floating()) {
      percent = v->as_floating();
    } else if (v->is_string()) {
      std::string text = v->as_string().str;
      if (!text.empty() && text.back() == '%') {
        text.pop_back();
      }
      double parsed = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
      if (ec == std::errc() && end == text.data() + text.size() && !text.empty()) {
        percent = parsed;
      }
    } else {
      t.type_error(*v, "max_bad_rows", "a percentage such as 0.5 or \"0.5%\"");
    }
    if (percent && (*percent < 0 || *percent > 100)) {
      percent.reset();
    }
    if (percent) {
      source.max_bad_rows = *percent / 100;
    } else if (v->is_string() || v->is_integer() || v->is_floating()) {
      t.error(*v, fmt::format("bad percentage '{}' for 'max_bad_rows': expected a number from 0 "
                              "to 100, such as 0.5 or \"0.5%\"",
                              v->is_string() ? v->as_string().str : toml::format(*v)));
    }
  }

  if (const Value* fields = t.find("fields", !t.has("profile"))) {
    if (!fields->is_table()) {
      t.type_error(*fields, "fields", "a table ([source.fields])");
    } else {
      Table ft(*fields, fmt::format("[source.fields] of '{}'", source.name), t.diagnostics());
      std::vector<std::pair<const Value*, std::string>> ordered;
      for (const auto& [field, v] : fields->as_table()) {
        ordered.emplace_back(&v, field);
      }
      std::sort(ordered.begin(), ordered.end(),
                [](const auto& a, const auto& b) { return before_in_file(*a.first, *b.first); });
      if (ordered.empty() && !t.has("profile")) {
        t.error(*fields, "'fields' must map at least one field");
      }
      for (const auto& [v, field] : ordered) {
        if (!is_field_name(field)) {
          ft.error(*v, fmt::format("bad field name '{}' in {}: use letters, digits and '_' (the "
                                   "field's name goes on the left, its column header on the right)",
                                   field, ft.name()));
          ft.mark_read(field);
          continue;
        }
        if (kSourceKeys.count(field) > 0) {
          ft.error(*v, fmt::format("field '{}' in {} has the name of a [[source]] key: move the "
                                   "key above [source.fields]",
                                   field, ft.name()));
          ft.mark_read(field);
          continue;
        }
        if (auto headers = ft.string_or_strings(field)) {
          if (headers->empty()) {
            ft.error(*v, fmt::format("field '{}' must name at least one column header", field));
            continue;
          }
          // A field the profile maps takes these headers instead; others are added.
          // (A named copy: clang 14 cannot capture a structured binding in a lambda.)
          const std::string& name = field;
          auto same = std::find_if(source.fields.begin(), source.fields.end(),
                                   [&name](const rules::Field& f) { return f.name == name; });
          if (same != source.fields.end()) {
            same->headers = *headers;
          } else {
            source.fields.push_back(rules::Field{field, *headers, false});
          }
        }
      }
      ft.finish();
    }
  }

  // Scheduled pulls and the dead man's switch.
  const auto fetch = t.strings("fetch");
  const auto fetch_at = t.strings("fetch_at");
  const auto fetch_timeout = seconds_duration(t, "fetch_timeout");
  if (fetch && fetch->empty()) {
    t.error(*t.find("fetch"), "'fetch' must not be empty");
  }
  std::vector<TimeOfDay> times;
  if (fetch_at) {
    for (const auto& at : *fetch_at) {
      if (const auto time = parse_hh_mm(at)) {
        times.push_back(*time);
      } else {
        t.error(*t.find("fetch_at"),
                fmt::format("bad time '{}' in 'fetch_at': expected HH:MM", at));
      }
    }
  }
  if (t.has("fetch") && !t.has("fetch_at")) {
    t.error(fmt::format("missing required key 'fetch_at' in {} (it has 'fetch')", t.name()));
  }
  if (!t.has("fetch")) {
    for (const char* key : {"fetch_at", "fetch_timeout"}) {
      if (t.has(key)) {
        t.error(*t.find(key), fmt::format("'{}' needs 'fetch' in {}", key, t.name()));
      }
    }
  }
  if (fetch && !fetch->empty() && fetch_at) {
    FetchConfig fc;
    fc.source = source.name;
    fc.command = *fetch;
    fc.at = std::move(times);
    if (fetch_timeout) {
      fc.timeout = *fetch_timeout;
    }
    config.fetches.push_back(std::move(fc));
  }
  if (auto max_age = hours_duration(t, "max_age")) {
    config.source_alerts.push_back(SourceAlerts{source.name, *max_age});
  }

  t.finish();
  if (!name) {
    return std::nullopt;
  }
  return source;
}

namespace {

std::string_view format_name(rules::Format format) {
  switch (format) {
    case rules::Format::kCsv:
      return "csv";
    case rules::Format::kXlsx:
      return "xlsx";
    case rules::Format::kCinXml:
      return "cin-xml";
  }
  return "csv";
}

}  // namespace

void check_shared_files(const std::vector<rules::Source>& sources,
                        const std::vector<const Value*>& files_at,
                        const std::map<std::string, std::vector<const Value*>, std::less<>>& sets,
                        Diagnostics& diagnostics) {
  for (std::size_t i = 0; i < sources.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      const rules::Source& first = sources[j];
      const rules::Source& later = sources[i];
      if (first.files != later.files) {
        continue;
      }
      const auto line = files_at[j]->location().line();
      if (first.format != later.format) {
        diagnostics.add(*files_at[i],
                        fmt::format("source '{}' reads the same files ('{}') as source '{}' (line "
                                    "{}) in another format ({}, not {}): sources sharing a file "
                                    "must have the same format",
                                    later.name, later.files, first.name, line,
                                    format_name(later.format), format_name(first.format)));
      }
      break;  // one message per source, about the first it shares with
    }
  }
  for (const auto& [set_name, at] : sets) {
    if (at.size() > 1) {
      continue;
    }
    // (A named copy: clang 14 cannot capture a structured binding in a lambda.)
    const std::string& name = set_name;
    const auto member = std::find_if(sources.begin(), sources.end(),
                                     [&name](const rules::Source& s) { return s.set == name; });
    diagnostics.add(*at.front(),
                    fmt::format("set '{}' has one source ('{}'): a set groups the files of two or "
                                "more sources (is its name spelt as in the others?)",
                                name, member == sources.end() ? "" : member->name));
  }
}

void read_calendar(Table& t, const std::vector<std::string>& formats, Config& config) {
  if (auto v = dates(t, "extra_closures", formats)) {
    for (const auto& date : *v) {
      config.calendar.extra_closures.push_back({date, "Local closure"});
    }
  }
  if (auto v = t.boolean("count_start_day")) {
    config.rules.count_start_day = *v;
  }
  t.finish();
}

}  // namespace config::detail
