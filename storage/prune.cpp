// prune_history: `[retention] history_years` on the database file, in one transaction.
//
// Record versions live in two places (see migrations 1 and 4): `records`, one row per version
// written before migration 4 (indexed by record_keys), and `record_blocks`, up to 64 versions
// to a row (indexed by key_chunks, one set of chunks per extract). A version that stopped being
// current has a record_ends row naming the extract that ended it. Pruning deletes a `records`
// row with its record_keys entry and record_ends row; in a block it blanks the version's slot
// (empty key and data), keeping its record_ends row so that the slot never reads as current,
// and deletes the block, with those rows, once every slot is blank. The newest block is never
// deleted: block ids are allocated as max(id) + 1, and a reused id would let an old key_chunks
// entry point at a new version. key_chunks of an extract go with its last block; entries that
// point at a blank slot find a different key there and are skipped by the lookups.
#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "storage/backup.h"
#include "storage/snapshot_codec.h"

namespace storage {
namespace {

namespace fs = std::filesystem;

PruneResult prune_findings(SQLite::Database& db, const std::string& before) {
  PruneResult result;
  // A (rule, key)'s notes are one trail: they go only when every finding of the (rule, key)
  // resolved before the cutoff (none open, none resolved since), and a finding whose notes
  // stay stays with them.
  SQLite::Statement notes(
      db,
      "DELETE FROM notes WHERE finding_id IN (SELECT f.id FROM findings f WHERE "
      "f.status = 'resolved' AND f.resolved_on < ?1 AND NOT EXISTS (SELECT 1 FROM findings g "
      "WHERE g.rule = f.rule AND g.key = f.key AND (g.status = 'open' OR g.resolved_on >= ?1)))");
  notes.bind(1, before);
  result.notes = static_cast<std::size_t>(notes.exec());
  SQLite::Statement findings(db,
                             "DELETE FROM findings WHERE status = 'resolved' AND resolved_on < ?1 "
                             "AND NOT EXISTS (SELECT 1 FROM notes WHERE notes.finding_id = "
                             "findings.id)");
  findings.bind(1, before);
  result.findings = static_cast<std::size_t>(findings.exec());
  return result;
}

// The versions written before migration 4 that an extract as of before `before` ended.
std::size_t prune_legacy_versions(SQLite::Database& db, const std::string& before) {
  db.exec("CREATE TEMP TABLE ended_legacy (id INTEGER PRIMARY KEY)");
  SQLite::Statement ended(db,
                          "INSERT INTO temp.ended_legacy SELECT e.record_id FROM record_ends e "
                          "JOIN extracts t ON t.id = e.extract_id WHERE t.as_of < ?1 AND "
                          "e.record_id < ?2 AND EXISTS (SELECT 1 FROM records r WHERE r.id = "
                          "e.record_id)");
  ended.bind(1, before);
  ended.bind(2, kBlockIds);
  ended.exec();
  db.exec("DELETE FROM record_keys WHERE record_id IN (SELECT id FROM temp.ended_legacy)");
  const int deleted = db.exec("DELETE FROM records WHERE id IN (SELECT id FROM temp.ended_legacy)");
  db.exec("DELETE FROM record_ends WHERE record_id IN (SELECT id FROM temp.ended_legacy)");
  db.exec("DROP TABLE temp.ended_legacy");
  return static_cast<std::size_t>(deleted);
}

// The block versions that an extract as of before `before` ended: blanked, or deleted with
// their block once it holds nothing else.
std::size_t prune_block_versions(SQLite::Database& db, const std::string& before) {
  std::map<std::int64_t, std::vector<std::int64_t>> slots_by_block;  // the ended slots
  SQLite::Statement ended(db,
                          "SELECT e.record_id FROM record_ends e JOIN extracts t ON "
                          "t.id = e.extract_id WHERE t.as_of < ?1 AND e.record_id >= ?2");
  ended.bind(1, before);
  ended.bind(2, kBlockIds);
  while (ended.executeStep()) {
    const std::int64_t id = ended.getColumn(0).getInt64();
    slots_by_block[block_of(id)].push_back(slot_of(id));
  }
  if (slots_by_block.empty()) {
    return 0;
  }
  const std::int64_t newest = db.execAndGet("SELECT coalesce(max(id), 0) FROM record_blocks");
  SQLite::Statement read(db, "SELECT versions FROM record_blocks WHERE id = ?");
  SQLite::Statement rewrite(db, "UPDATE record_blocks SET versions = ? WHERE id = ?");
  SQLite::Statement remove(db, "DELETE FROM record_blocks WHERE id = ?");
  SQLite::Statement unend(db, "DELETE FROM record_ends WHERE record_id >= ? AND record_id < ?");
  std::size_t pruned = 0;
  for (const auto& [block, slots] : slots_by_block) {
    read.bind(1, block);
    if (!read.executeStep()) {  // deleted by an earlier prune (its record_ends went with it)
      read.reset();
      continue;
    }
    const SQLite::Column blob = read.getColumn(0);
    const auto versions = decode_block(blob.getBlob(), static_cast<std::size_t>(blob.getBytes()));
    std::vector<bool> blank(versions.size(), false);
    std::size_t blanked_now = 0;
    for (std::size_t slot = 0; slot < versions.size(); ++slot) {
      blank[slot] = versions[slot].key.empty() && versions[slot].data.empty();
    }
    for (const std::int64_t slot : slots) {
      const auto at = static_cast<std::size_t>(slot);
      if (at < versions.size() && !blank[at]) {
        blank[at] = true;
        ++blanked_now;
      }
    }
    std::string rewritten;
    bool all_blank = true;
    for (std::size_t slot = 0; slot < versions.size(); ++slot) {
      if (blank[slot]) {
        append_block_version(rewritten, {}, {});
      } else {
        append_block_version(rewritten, versions[slot].key, versions[slot].data);
        all_blank = false;
      }
    }
    read.reset();
    pruned += blanked_now;
    if (all_blank && block != newest) {
      remove.bind(1, block);
      remove.exec();
      remove.reset();
      unend.bind(1, version_id(block, 0));
      unend.bind(2, version_id(block + 1, 0));
      unend.exec();
      unend.reset();
    } else if (blanked_now > 0) {
      rewrite.bindNoCopy(1, rewritten.data(), static_cast<int>(rewritten.size()));
      rewrite.bind(2, block);
      rewrite.exec();
      rewrite.reset();
    }
  }
  // An extract's key index goes with its last block.
  db.exec(
      "DELETE FROM key_chunks WHERE NOT EXISTS (SELECT 1 FROM record_blocks b WHERE "
      "b.source_id = key_chunks.source_id AND b.extract_id = key_chunks.extract_id)");
  return pruned;
}

}  // namespace

PruneResult prune_history(const fs::path& database, rules::Date before) {
  const std::string cutoff = before.iso();
  try {
    SQLite::Database db(database.string(), SQLite::OPEN_READWRITE);
    db.setBusyTimeout(5000);
    db.exec("BEGIN IMMEDIATE");
    try {
      PruneResult result = prune_findings(db, cutoff);
      result.record_versions = prune_legacy_versions(db, cutoff) + prune_block_versions(db, cutoff);
      db.exec("COMMIT");
      return result;
    } catch (...) {
      try {
        db.exec("ROLLBACK");
      } catch (const SQLite::Exception&) {  // closing the connection rolls back as well
      }
      throw;
    }
  } catch (const SQLite::Exception& e) {
    throw std::runtime_error(
        fmt::format("{}: pruning history before {}: {}", database.string(), cutoff, e.what()));
  }
}

}  // namespace storage
