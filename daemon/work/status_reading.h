// What `status` and `metrics` show from the database and the inbox, read in one go where a
// connection is free to read it: on the pool thread at the end of each job (run_job), so that the
// loop thread does not read SQLite after every job; on the loop only at start-up and reload.
// Status::apply (daemon/status.h) turns it into the snapshot the loop answers from.
#ifndef CASEWATCH_DAEMON_WORK_STATUS_READING_H_
#define CASEWATCH_DAEMON_WORK_STATUS_READING_H_

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "rules/rules.h"
#include "storage/storage.h"

namespace service {

struct StatusReading {
  // Empty when the database was read; else why not (nothing of the database below is filled).
  std::string database_error;
  // Each source of the configuration (in its order) and its latest ingested extract, if any.
  std::vector<std::pair<std::string, std::optional<storage::ExtractInfo>>> latest;
  // Each rule's band counts at the as-of of its source's latest extract.
  std::map<std::string, std::vector<rules::BandCount>, std::less<>> bands;
  std::optional<std::string> last_review_week;
  std::optional<std::string> last_review_at;         // UTC text
  std::map<std::string, std::size_t> alerts_firing;  // every kind, firing alerts per kind
  std::map<std::string, std::size_t> outbox;         // every state, entries per state
  std::map<std::pair<std::string, std::string>, std::size_t> extracts;  // (source, status)
  // The stored result of each configured fetch ("fetch/<source>" -> its JSON), when there is one.
  std::map<std::string, std::string> fetch_results;
  // The earliest next attempt of a pending outbox entry (for the sender's timer).
  std::optional<storage::Time> next_outbox_attempt;

  // Empty when the inbox was listed; else why not (`unmatched` is not filled).
  std::string inbox_error;
  // Inbox files matching no source: (file name, why it is not read).
  std::vector<std::pair<std::string, std::string>> unmatched;
};

// Reads the above. Never throws: a failure is held in database_error or inbox_error.
StatusReading read_status(const config::Config& config, const storage::History& history) noexcept;

}  // namespace service

#endif  // CASEWATCH_DAEMON_WORK_STATUS_READING_H_
