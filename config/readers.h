// Internal to config/: the section readers that parse_config (config.cpp) calls, and the value
// readers they share. Each reader records every problem it finds in its Table's diagnostics and
// returns what it could read; parse_config throws one ConfigError with all of them at the end.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.h"
#include "config/toml_table.h"

namespace config::detail {

// The TOML helpers every reader uses (config/toml_table.h).
using internal::before_in_file;
using internal::Diagnostics;
using internal::join;
using internal::lower;
using internal::Table;
using internal::type_name;
using internal::Value;
namespace fs = std::filesystem;

// ---- values (values.cpp) ----------------------------------------------------------------------

// `text` as a path, relative to `base` (the configuration file's folder) unless absolute.
std::filesystem::path resolve(const std::filesystem::path& base, const std::string& text);

// A rules duration ("45wd", "28d", "2w", "3m").
std::optional<rules::Duration> rule_duration(Table& t, const Value& v, const std::string& key);
std::optional<rules::Duration> rule_duration(Table& t, const std::string& key,
                                             bool required = false);

// A service duration: integer seconds or "10s", "5m", "2h", "1d".
std::optional<std::chrono::seconds> seconds_duration(Table& t, const std::string& key);

// A service duration that must be whole hours ("26h", "2d").
std::optional<std::chrono::hours> hours_duration(Table& t, const std::string& key);

// A date: a TOML date, or a string in ISO form or one of `formats`.
std::optional<rules::Date> date_value(Table& t, const Value& v, const std::string& key,
                                      const std::vector<std::string>& formats);
std::optional<rules::Date> date_value(Table& t, const std::string& key, bool required,
                                      const std::vector<std::string>& formats);
std::optional<std::vector<rules::Date>> dates(Table& t, const std::string& key,
                                              const std::vector<std::string>& formats);

// "HH:MM" -> (hour, minute).
std::optional<TimeOfDay> parse_hh_mm(std::string_view text);

// ---- built-in source profiles (profiles.cpp) ---------------------------------------------------

// A [[source]]'s settings for one of the field's standard datasets ("annex-a/list-6").
struct Profile {
  std::string name;
  rules::Source source;  // format, files, sheet or record, key, date formats, fields
};
const std::vector<Profile>& profiles();
const Profile* find_profile(std::string_view name);

// ---- [service], [[source]], [calendar] (source_reader.cpp) ------------------------------------

void read_service(Table& t, const std::filesystem::path& base, ServiceConfig& service);
// Reads one [[source]]; the fetch and max_age settings go to `config`.
std::optional<rules::Source> read_source(Table& t, Config& config);
void read_calendar(Table& t, const std::vector<std::string>& formats, Config& config);
// Sources that read the same files: the same `files` glob is shared only by sources of one
// format (a workbook or census file feeds them all; a CSV file its first source, as ever); a
// set (`set`, at `sets[name]`) groups two or more sources. `files_at[i]`: where sources[i]'s glob
// is written (its table when a profile gave it).
void check_shared_files(const std::vector<rules::Source>& sources,
                        const std::vector<const Value*>& files_at,
                        const std::map<std::string, std::vector<const Value*>, std::less<>>& sets,
                        Diagnostics& diagnostics);

// ---- [[rule]] (rule_reader.cpp) ---------------------------------------------------------------

// A date field that rules read: marked Field::is_date once all rules are read.
struct DateUse {
  std::string source;
  std::string field;
};

// Reads one [[rule]] against the sources read so far; the date fields it reads are added to
// `date_uses`.
std::optional<rules::Rule> read_rule(Table& t, const std::vector<rules::Source>& sources,
                                     std::vector<DateUse>& date_uses, Config& config);

// A canonical text of every setting of `rule` that changes which records are listed, or how
// they are aged or banded (not title or review).
std::string fingerprint(const rules::Rule& rule, bool count_start_day);

// ---- [mail], [[route]], [review] (mail_reader.cpp) --------------------------------------------

void read_mail(Table& t, const std::filesystem::path& base, MailConfig& mail);
std::optional<Route> read_route(Table& t, const Config& config);
void read_review(Table& t, ReviewConfig& review);
// The routing warnings --check prints: operator alerts no route lists (they then go to the
// whole-review route).
std::vector<std::string> route_warnings(const Config& config);

// ---- [metrics], [retention] (operations_reader.cpp) -------------------------------------------

void read_metrics(Table& t, MetricsConfig& metrics);
void read_retention(Table& t, RetentionConfig& retention);

}  // namespace config::detail
