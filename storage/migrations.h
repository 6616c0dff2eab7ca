// The schema of casewatch's database as an ordered list of migrations (internal to storage).
#ifndef CASEWATCH_STORAGE_MIGRATIONS_H_
#define CASEWATCH_STORAGE_MIGRATIONS_H_

#include <span>

namespace storage {

// Migration i (0-based) takes the database from user_version i to i + 1. Each is applied in its
// own transaction when the database opens.
std::span<const char* const> migrations();

}  // namespace storage

#endif  // CASEWATCH_STORAGE_MIGRATIONS_H_
