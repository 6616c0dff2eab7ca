#include "storage/migrations.h"

namespace storage {
namespace {

// The schema, one migration per element, applied in order by PRAGMA user_version.
// APPEND ONLY: never edit or reorder a migration that has shipped; add a new element at the end
// (outbox, alerts, silences, ...). Dates are ISO "YYYY-MM-DD" text (they sort as dates); times
// are UTC "YYYY-MM-DDTHH:MM:SSZ".
constexpr const char* kMigrations[] = {
    // 1: extracts, snapshots, findings history, service state.
    R"sql(
CREATE TABLE sources (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);

CREATE TABLE extracts (
  id INTEGER PRIMARY KEY,
  file TEXT NOT NULL,
  source TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  as_of TEXT NOT NULL,
  rows INTEGER NOT NULL DEFAULT 0,
  problems INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL CHECK (status IN ('ingested', 'rejected', 'duplicate')),
  error TEXT NOT NULL DEFAULT '',
  handled_at TEXT NOT NULL
);
CREATE INDEX extracts_sha256 ON extracts(sha256) WHERE status = 'ingested';
CREATE INDEX extracts_source ON extracts(source, as_of) WHERE status = 'ingested';

CREATE TABLE row_problems (
  extract_id INTEGER NOT NULL REFERENCES extracts(id),
  line INTEGER NOT NULL,
  column_name TEXT NOT NULL,
  message TEXT NOT NULL
);
CREATE INDEX row_problems_extract ON row_problems(extract_id);

-- One row per record version. valid_from/valid_to are extract ids (ingest order); valid_to is
-- NULL for the current version. hash is a 64-bit hash of data; data is the values encoded as
-- (varint length, bytes) in the source's field order.
CREATE TABLE records (
  id INTEGER PRIMARY KEY,
  source_id INTEGER NOT NULL REFERENCES sources(id),
  key TEXT NOT NULL,
  valid_from INTEGER NOT NULL REFERENCES extracts(id),
  valid_to INTEGER REFERENCES extracts(id),
  hash INTEGER NOT NULL,
  data BLOB NOT NULL
);
-- The current snapshot, in insertion order (so appended cheaply), covering what the extract
-- writer loads (key, hash; valid_to too, or SQLite does not see it covers) without reading the
-- records' data.
CREATE INDEX records_current ON records(source_id, id, key, hash, valid_to)
  WHERE valid_to IS NULL;

-- The index of records by key, kept by the extract writer rather than by SQLite so that it can
-- insert an extract's new entries in key_hash order at commit (an index on records(key) would
-- be updated in random order, row by row: three times slower for a 1M-row extract).
-- key_hash is a 64-bit hash of records.key; lookups also compare records.key.
CREATE TABLE record_keys (
  source_id INTEGER NOT NULL,
  key_hash INTEGER NOT NULL,
  record_id INTEGER NOT NULL,  -- records.id (no REFERENCES: checking it reads records at random)
  PRIMARY KEY (source_id, key_hash, record_id)
) WITHOUT ROWID;

-- Every evaluation of a rule; baseline = 1 when it started a new definition (fingerprint).
CREATE TABLE evaluations (
  id INTEGER PRIMARY KEY,
  rule TEXT NOT NULL,
  as_of TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  baseline INTEGER NOT NULL,
  UNIQUE (rule, as_of)
);

CREATE TABLE findings (
  id INTEGER PRIMARY KEY,
  rule TEXT NOT NULL,
  key TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  first_seen TEXT NOT NULL,
  last_seen TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
  resolution TEXT,          -- condition_stopped | closed | vanished | rule_changed
  resolution_detail TEXT,
  resolved_on TEXT,
  -- the last Finding seen on the list
  person TEXT NOT NULL,
  team TEXT NOT NULL,
  worker TEXT NOT NULL,
  band TEXT NOT NULL,
  state TEXT NOT NULL,
  since TEXT,
  since_at_least INTEGER NOT NULL,
  days INTEGER NOT NULL,
  start TEXT,
  due TEXT,
  end_date TEXT,
  working_days INTEGER NOT NULL,
  assumed_interval INTEGER NOT NULL,
  detail TEXT NOT NULL,
  position INTEGER NOT NULL   -- place in the rule's list at its last evaluation
);
CREATE UNIQUE INDEX findings_open ON findings(rule, key) WHERE status = 'open';
CREATE INDEX findings_resolved ON findings(rule, resolved_on) WHERE status = 'resolved';

CREATE TABLE notes (
  id INTEGER PRIMARY KEY,
  finding_id INTEGER NOT NULL REFERENCES findings(id),
  rule TEXT NOT NULL,
  key TEXT NOT NULL,
  text TEXT NOT NULL,
  author TEXT NOT NULL,
  at TEXT NOT NULL
);
CREATE INDEX notes_finding ON notes(finding_id);

-- Records per band at each evaluation (the trend). position keeps the rule's band order.
CREATE TABLE band_counts (
  rule TEXT NOT NULL,
  as_of TEXT NOT NULL,
  position INTEGER NOT NULL,
  band TEXT NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (rule, as_of, band)
);

-- Unallocated rules without dates: since when each record has been unallocated without a break.
CREATE TABLE spells (
  rule TEXT NOT NULL,
  key TEXT NOT NULL,
  since TEXT NOT NULL,
  PRIMARY KEY (rule, key)
);

CREATE TABLE audit (
  id INTEGER PRIMARY KEY,
  uid INTEGER NOT NULL,
  command TEXT NOT NULL,
  result INTEGER NOT NULL,
  at TEXT NOT NULL
);

CREATE TABLE review_runs (
  week TEXT PRIMARY KEY,
  late INTEGER NOT NULL,
  at TEXT NOT NULL
);

CREATE TABLE settings (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

PRAGMA application_id = 1128354647;  -- 'CASW': marks the file as casewatch's
)sql",
    // 2: the outbox (mail queued before it is sent), alerts and silences. Times are UTC text.
    R"sql(
-- One row per message and recipient. (key, recipient) is UNIQUE and rows are inserted with
-- INSERT OR IGNORE: a review (route + week) or an alert state change is queued once, ever.
CREATE TABLE outbox (
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL,
  recipient TEXT NOT NULL,
  sender TEXT NOT NULL,
  subject TEXT NOT NULL,
  bytes BLOB NOT NULL,
  created TEXT NOT NULL,
  deadline TEXT NOT NULL,
  next_attempt TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed', 'cancelled')),
  last_error TEXT NOT NULL,
  sent_at TEXT,
  UNIQUE (key, recipient)
);
CREATE INDEX outbox_due ON outbox(next_attempt) WHERE state = 'pending';

CREATE TABLE alerts (
  fingerprint TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  subject TEXT NOT NULL,
  scope TEXT NOT NULL,
  team TEXT NOT NULL,
  summary TEXT NOT NULL,
  detail TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('firing', 'resolved')),
  started TEXT NOT NULL,
  resolved_at TEXT,
  last_notified TEXT,
  silenced INTEGER NOT NULL
);

CREATE TABLE silences (
  id INTEGER PRIMARY KEY,
  rule TEXT NOT NULL,
  scope TEXT NOT NULL,
  reason TEXT NOT NULL,
  who TEXT NOT NULL,
  created TEXT NOT NULL,
  expires TEXT,             -- NULL: until the alerts it covers resolve
  ended INTEGER NOT NULL
);
)sql",
    // 3: no index of the current snapshot. Keeping it cost a third B-tree insert per new record
    // (first ingest of 1M rows: 3.4 -> 2.8 s of CPU) and, when a record changes, a write to an
    // index page at random. The extract writer now loads the snapshot by scanning records (as
    // fast, measured for 1M records), and current_records() reads them in id order anyway.
    R"sql(
DROP INDEX records_current;
)sql",
    // 4: the key index in sorted chunks, and each source's snapshot in one blob.
    // record_keys took one B-tree insert per new record version (0.9 s for a 1M-row first
    // ingest). From this migration on, an extract's new versions are indexed in key_chunks: the
    // (key hash, records.id) pairs sorted by key hash, a few hundred per row, so a lookup reads
    // one chunk per extract. record_keys keeps the entries written before and is still read.
    // snapshots holds what the extract writer needs of a source's current records (key, content
    // hash, hash of the raw row, records.id), written with each extract in its transaction: the
    // next extract loads it in a few reads instead of scanning records, and recognises unchanged
    // rows by their raw bytes without parsing them. It is a full piece and the deltas written
    // after it (what each later extract changed); an extract writes a new full piece instead
    // when the deltas would reach a quarter of it. A source whose pieces do not end at its
    // latest extract (one ingested before this migration) is loaded from records as before.
    // record_blocks holds the versions written from now on, several to a row (see below).
    // record_ends says when a version stopped being current, instead of records.valid_to, which
    // is no longer written or read (its values are copied here). Setting valid_to dirtied a page
    // of records at random for each changed record: a 1%-changed 1M-row extract rewrote most of
    // the table.
    R"sql(
CREATE TABLE key_chunks (
  id INTEGER PRIMARY KEY,
  source_id INTEGER NOT NULL,
  extract_id INTEGER NOT NULL,
  first_hash INTEGER NOT NULL,  -- the chunk's smallest key hash; one hash never spans two chunks
  entries BLOB NOT NULL         -- (key hash, records.id) pairs, 16 bytes each, by key hash
);
CREATE INDEX key_chunks_find ON key_chunks(source_id, extract_id, first_hash);

CREATE TABLE snapshots (
  source_id INTEGER NOT NULL,
  extract_id INTEGER NOT NULL,  -- the extract that wrote it
  full INTEGER NOT NULL,        -- 1: every current record; 0: changes since the piece before
  entries BLOB NOT NULL,        -- see storage/snapshot_codec.h (a delta removes with id 0)
  PRIMARY KEY (source_id, extract_id)
);

-- Record versions written since this migration, up to 64 to a row: one insert for many
-- versions (records took one per version). A version's id is 2^62 + id * 64 + its slot, above
-- every records.id; key_chunks, record_ends and snapshots hold those ids. records keeps the
-- versions written before, and is still read.
CREATE TABLE record_blocks (
  id INTEGER PRIMARY KEY,
  source_id INTEGER NOT NULL,
  extract_id INTEGER NOT NULL,  -- the extract each version in it came from (valid_from)
  versions BLOB NOT NULL        -- per version: varint key size, key, varint data size, data
);

CREATE TABLE record_ends (
  record_id INTEGER PRIMARY KEY,  -- records.id of a version that is no longer current
  extract_id INTEGER NOT NULL     -- the extract that replaced or dropped it
);
INSERT INTO record_ends (record_id, extract_id)
  SELECT id, valid_to FROM records WHERE valid_to IS NOT NULL;
)sql",
    // 5: a caseload finding's count in its own column. Before this, the count was stored in
    // `days` (and `cases` was lost on the way through SQLite). Caseload findings written before
    // are recognised by their shape: the worker is the key, no person, band "Over N cases".
    R"sql(
ALTER TABLE findings ADD COLUMN cases INTEGER NOT NULL DEFAULT 0;
UPDATE findings SET cases = days
  WHERE key = worker AND person = '' AND band LIKE 'Over % cases';
)sql",
    // 6: "ingested, evaluation pending", set in the extract's own commit and cleared once its
    // evaluation is stored, so that a kill between the two cannot leave an extract committed but
    // never evaluated. Extracts from before are taken as evaluated.
    R"sql(
ALTER TABLE extracts ADD COLUMN evaluation_pending INTEGER NOT NULL DEFAULT 0;
)sql",
    // 7: each review run as a record (its ISO week, as-of date, the exact list it carried and
    // its text), so that the next review's NEW/CARRIED/RESOLVED are relative to it and
    // `review --week` answers from what was produced; notes found by (rule, key), their trail.
    R"sql(
CREATE TABLE reviews (
  id INTEGER PRIMARY KEY,
  week TEXT NOT NULL UNIQUE,  -- "2026-W47"; a re-run in the same week replaces the row's values
  as_of TEXT NOT NULL,
  produced_at TEXT NOT NULL,
  text TEXT NOT NULL          -- the plain-text review as produced
);
CREATE TABLE review_items (
  review_id INTEGER NOT NULL REFERENCES reviews(id),
  rule TEXT NOT NULL,
  key TEXT NOT NULL,
  band TEXT NOT NULL,
  state TEXT NOT NULL,
  weeks INTEGER NOT NULL,     -- weeks_on_review it was shown with
  PRIMARY KEY (review_id, rule, key)
) WITHOUT ROWID;
CREATE INDEX notes_rule_key ON notes(rule, key);
CREATE INDEX findings_rule_key ON findings(rule, key);
)sql",
    // 8: when a send of an outbox entry began, set before the SMTP transaction and cleared with
    // its outcome: an entry found with it at the next round was being sent when casewatch
    // stopped (perhaps accepted by the server), and is sent again with the same Message-ID.
    R"sql(
ALTER TABLE outbox ADD COLUMN sending_since TEXT;
)sql",
    // 9: keys that now belong to a different person than in their source's previous extract (a
    // data-quality item the review lists): the extract that showed it, the key, its line.
    R"sql(
CREATE TABLE person_changes (
  extract_id INTEGER NOT NULL REFERENCES extracts(id),
  key TEXT NOT NULL,
  line INTEGER NOT NULL
);
CREATE INDEX person_changes_extract ON person_changes(extract_id);
)sql",
    // 10: the as-of of each rule's open list. An evaluation writes only the findings that
    // opened, changed or resolved (issue 16); an open finding left unwritten keeps the last_seen
    // and days of its last write, and is read aged to this date (rules::aged). Until now every
    // open finding was written at every evaluation, so its last_seen is the list's as-of.
    R"sql(
CREATE TABLE rule_lists (
  rule TEXT PRIMARY KEY,
  as_of TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO rule_lists (rule, as_of)
  SELECT rule, max(last_seen) FROM findings WHERE status = 'open' GROUP BY rule;
)sql",
};

}  // namespace

std::span<const char* const> migrations() { return kMigrations; }

}  // namespace storage
