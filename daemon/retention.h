// Retention: what casewatch deletes so that it does not keep children's data longer than the
// council's policy ([retention] in the configuration). Applied after each ingest cycle.
#ifndef CASEWATCH_DAEMON_RETENTION_H_
#define CASEWATCH_DAEMON_RETENTION_H_

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "storage/storage.h"

namespace service {

// An extract file kept in archive/ or rejected/.
struct KeptExtract {
  std::filesystem::path path;
  std::string source;  // the source whose glob its name matches; empty = none
  std::chrono::system_clock::time_point written;  // its modification time
};

// Pure: the kept extracts to delete at `now`: those written more than `archive_days` days
// before `now` whose source has an ingested extract handled after they were written
// (`latest_ingested` gives that time for a source, or nullopt). None when archive_days is 0;
// files matching no source are kept.
std::vector<std::filesystem::path> expired_extracts(
    const std::vector<KeptExtract>& kept, int archive_days,
    const std::function<std::optional<std::chrono::system_clock::time_point>(const std::string&)>&
        latest_ingested,
    std::chrono::system_clock::time_point now);

struct RetentionResult {
  std::size_t archived_deleted = 0;  // files deleted from archive/
  std::size_t rejected_deleted = 0;  // files deleted from rejected/ (with their reason files)
  storage::PruneResult pruned;       // findings, notes and record versions deleted
};

// The first day kept by `history_years` at `today`: the same day `years` years before (28 Feb
// for 29 Feb).
rules::Date history_cutoff(rules::Date today, int years);

// Deletes the expired extracts of archive/ and rejected/ (a rejected file's .reason.txt with
// it) and, with history_years, the findings resolved before the cutoff with their notes and
// the record versions that stopped being current before it; logs the counts. Throws on file
// system or database failures.
RetentionResult apply_retention(const config::Config& config, const storage::History& history,
                                std::chrono::system_clock::time_point now);

}  // namespace service

#endif  // CASEWATCH_DAEMON_RETENTION_H_
