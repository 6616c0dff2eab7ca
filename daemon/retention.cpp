#include "daemon/retention.h"

#include <date/date.h>
#include <spdlog/spdlog.h>

#include <sstream>

#include "ingest/ingest.h"

namespace service {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::system_clock;

constexpr std::string_view kReasonSuffix = ".reason.txt";

bool ends_with(const std::string& text, std::string_view suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// UTC "2026-11-22T09:30:00Z" -> a time point; nullopt when malformed.
std::optional<Clock::time_point> parse_handled_at(const std::string& text) {
  std::istringstream in(text);
  date::sys_seconds time;
  in >> date::parse("%Y-%m-%dT%H:%M:%SZ", time);
  if (in.fail()) {
    return std::nullopt;
  }
  return Clock::time_point(time);
}

// The extracts kept in `dir`, each with the first source whose glob matches its name.
std::vector<KeptExtract> kept_in(const fs::path& dir, const std::vector<rules::Source>& sources) {
  std::vector<KeptExtract> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return out;
  }
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_regular_file() || name.starts_with(".") || ends_with(name, kReasonSuffix)) {
      continue;
    }
    KeptExtract kept;
    kept.path = entry.path();
    for (const auto& source : sources) {
      if (ingest::glob_match(source.files, name)) {
        kept.source = source.name;
        break;
      }
    }
    kept.written = std::chrono::time_point_cast<Clock::duration>(
        std::chrono::file_clock::to_sys(entry.last_write_time()));
    out.push_back(std::move(kept));
  }
  return out;
}

}  // namespace

std::vector<fs::path> expired_extracts(
    const std::vector<KeptExtract>& kept, int archive_days,
    const std::function<std::optional<Clock::time_point>(const std::string&)>& latest_ingested,
    Clock::time_point now) {
  std::vector<fs::path> out;
  if (archive_days <= 0) {
    return out;
  }
  const auto cutoff = now - std::chrono::hours(24) * archive_days;
  for (const auto& extract : kept) {
    if (extract.source.empty() || extract.written >= cutoff) {
      continue;
    }
    const auto successor = latest_ingested(extract.source);
    if (successor && *successor > extract.written) {
      out.push_back(extract.path);
    }
  }
  return out;
}

rules::Date history_cutoff(rules::Date today, int years) {
  const auto ymd = date::year_month_day(date::sys_days(date::days(today.days())));
  const int year = static_cast<int>(ymd.year()) - years;
  const auto month = static_cast<int>(static_cast<unsigned>(ymd.month()));
  const auto day = static_cast<int>(static_cast<unsigned>(ymd.day()));
  if (auto date = rules::Date::from_ymd(year, month, day)) {
    return *date;
  }
  return *rules::Date::from_ymd(year, month, day - 1);  // 29 Feb in a common year
}

RetentionResult apply_retention(const config::Config& config, const storage::History& history,
                                Clock::time_point now) {
  RetentionResult result;
  if (const int years = config.retention.history_years; years > 0) {
    const auto today = rules::Date::from_days(
        static_cast<std::int32_t>(date::floor<date::days>(now).time_since_epoch().count()));
    const auto cutoff = history_cutoff(today, years);
    result.pruned = storage::prune_history(config.service.database_file(), cutoff);
    if (result.pruned.findings + result.pruned.record_versions > 0) {
      spdlog::info(
          "retention: deleted {} findings resolved before {} and their {} notes, and {} record "
          "versions that stopped being current before it",
          result.pruned.findings, cutoff.iso(), result.pruned.notes, result.pruned.record_versions);
    }
  }
  const int days = config.retention.archive_days;
  if (days <= 0) {
    return result;
  }
  const auto latest = [&](const std::string& source) -> std::optional<Clock::time_point> {
    const auto extract = history.latest_extract(source);
    if (!extract) {
      return std::nullopt;
    }
    return parse_handled_at(extract->handled_at);
  };
  const auto& sources = config.rules.sources;
  for (const auto& file :
       expired_extracts(kept_in(config.service.archive_dir(), sources), days, latest, now)) {
    if (fs::remove(file)) {
      ++result.archived_deleted;
    }
  }
  for (const auto& file :
       expired_extracts(kept_in(config.service.rejected_dir(), sources), days, latest, now)) {
    fs::path reason = file;
    reason += kReasonSuffix;
    std::error_code ignored;
    fs::remove(reason, ignored);
    if (fs::remove(file)) {
      ++result.rejected_deleted;
    }
  }
  if (result.archived_deleted + result.rejected_deleted > 0) {
    spdlog::info(
        "retention: deleted {} archived and {} rejected extract files older than {} days (each "
        "after a later extract of its source was ingested)",
        result.archived_deleted, result.rejected_deleted, days);
  }
  return result;
}

}  // namespace service
