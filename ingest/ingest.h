// ingest: extract files -> rules::Record values, behind one streaming reader. CSV (RFC 4180,
// UTF-8 with or without BOM, or windows-1252) first. Knows nothing of storage: the daemon feeds
// what the reader yields into a storage transaction and decides from the verdict whether to
// commit. Per-row problems are values; an unreadable file is an exception (std::runtime_error).
#ifndef CASEWATCH_INGEST_INGEST_H_
#define CASEWATCH_INGEST_INGEST_H_

#include <cstddef>
#include <filesystem>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rules/rules.h"

namespace ingest {

// Reads one extract of one source, a record at a time, so memory does not grow with the file.
// Header problems (a key or mapped column missing) are known after construction; duplicate keys
// and bad rows are counted as rows are read; verdict() says after the last row whether the whole
// file must be rejected.
// Not thread-safe.
class ExtractReader {
 public:
  // REQUIRES: `in` and `source` outlive the reader. Reads the header row at once.
  ExtractReader(std::istream& in, const rules::Source& source);
  ~ExtractReader();
  ExtractReader(const ExtractReader&) = delete;
  ExtractReader& operator=(const ExtractReader&) = delete;

  // Plain words when the header makes the file unusable ("key column 'Case ID' is missing"),
  // else nullopt. When set, next() returns false at once.
  const std::optional<std::string>& header_problem() const;

  // Reads the next good-enough record into `out` (rows whose key is empty are skipped and
  // recorded as problems; rows with bad dates are returned with the raw text and recorded).
  // Returns false at the end of the file.
  bool next(rules::Record& out);

  // Data rows read so far, skipped ones included (not counting the header, blank lines, or
  // rows whose fields are all empty and unquoted, like ",,,").
  std::size_t rows() const;
  // Problems so far, each with its line (1-based, physical line where the row starts), column
  // header and message.
  const std::vector<rules::Problem>& problems() const;
  // The number of distinct rows with at least one problem.
  std::size_t problem_rows() const;
  // After next() returned false: plain words when the file must be rejected whole (header
  // problem, repeated keys, too many bad rows; also a quote left open at the end of the file,
  // no data rows, or more problems than can be recorded), else nullopt. Several reasons are
  // joined with "; ".
  std::optional<std::string> verdict() const;
  // The as-of date read from the source's as_of_column, when configured and present: its first
  // non-empty value, parsed with the source's date formats (nullopt when that does not parse).
  // Known once that row has been read by next().
  std::optional<rules::Date> as_of_from_column() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The first YYYY-MM-DD or YYYYMMDD date in a file name, or nullopt.
std::optional<rules::Date> as_of_from_file_name(std::string_view file_name);

// A file waiting in the inbox and the source whose glob it matches.
struct InboxFile {
  std::filesystem::path path;
  std::string source;
  std::filesystem::file_time_type modified;
};

// Files in `inbox` that match a source's glob (first matching source wins), oldest first (by
// modification time, then name). Ignores dot-files, *.tmp, *.part and non-regular files.
// Throws std::filesystem::filesystem_error when the folder cannot be read.
std::vector<InboxFile> scan_inbox(const std::filesystem::path& inbox,
                                  const std::vector<rules::Source>& sources);

// fnmatch-style glob on a file name: '*', '?', '[abc]'.
bool glob_match(std::string_view pattern, std::string_view name);

// SHA-256 of a file's bytes, as 64 lower-case hex digits. Throws when unreadable.
std::string file_sha256(const std::filesystem::path& file);
std::string sha256_hex(std::string_view bytes);

}  // namespace ingest

#endif  // CASEWATCH_INGEST_INGEST_H_
