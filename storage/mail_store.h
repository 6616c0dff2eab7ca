// Helpers shared by storage's outbox and alert stores (internal to storage).
#ifndef CASEWATCH_STORAGE_MAIL_STORE_H_
#define CASEWATCH_STORAGE_MAIL_STORE_H_

#include <SQLiteCpp/SQLiteCpp.h>

#include <string>
#include <string_view>
#include <vector>

#include "storage/storage.h"

namespace storage {

// "2026-11-16T07:00:00Z": UTC times as the database keeps them (they sort as times).
std::string format_utc(Time time);
// The inverse of format_utc. Throws std::runtime_error for anything else.
Time parse_utc(std::string_view text);

// Inserts each entry unless its (key, recipient) is already queued; returns how many were new.
// REQUIRES: called inside the caller's transaction.
std::size_t queue_mail_rows(SQLite::Database& db, const std::vector<OutboxEntry>& entries);

}  // namespace storage

#endif  // CASEWATCH_STORAGE_MAIL_STORE_H_
