// storage: casewatch's SQLite database. This umbrella includes the module's public headers:
//   history.h         class History: open, checkpoint, and its methods grouped by area
//   extract_writer.h  History::ExtractWriter and PreparedRecord: the reader/writer protocol
//   values.h          ExtractStatus, ExtractInfo, RecordVersion, RuleOutcome, Time
//   outbox.h          OutboxState, OutboxEntry
//   alerts.h          AlertKind, AlertCondition, AlertState, Silence
//   backup.h          backup, restore and pruning of whole database files
// Include the one you need where that is clearer; this header is for convenience.
#ifndef CASEWATCH_STORAGE_STORAGE_H_
#define CASEWATCH_STORAGE_STORAGE_H_

#include "storage/alerts.h"          // IWYU pragma: export
#include "storage/backup.h"          // IWYU pragma: export
#include "storage/extract_writer.h"  // IWYU pragma: export
#include "storage/history.h"         // IWYU pragma: export
#include "storage/outbox.h"          // IWYU pragma: export
#include "storage/values.h"          // IWYU pragma: export

#endif  // CASEWATCH_STORAGE_STORAGE_H_
