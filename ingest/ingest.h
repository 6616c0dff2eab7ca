// ingest: extract files -> rules::Record values, behind one streaming reader interface (Reader):
// CSV (RFC 4180, UTF-8 with or without BOM, or windows-1252), Ofsted Annex A workbooks (.xlsx,
// one sheet per source) and DfE CIN census XML. Knows nothing of storage: the daemon feeds
// what the reader yields into a storage transaction and decides from the verdict whether to
// commit. Per-row problems are values; an unreadable file is an exception (std::runtime_error).
#ifndef CASEWATCH_INGEST_INGEST_H_
#define CASEWATCH_INGEST_INGEST_H_

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rules/rules.h"

namespace ingest {

// What a RowFilter says of a row before it is parsed.
struct RowCheck {
  enum class Kind { kRead, kSkip, kRepeat };
  Kind kind = Kind::kRead;
  std::size_t first_line = 0;  // kRepeat: the line the row repeats exactly
};
// Given the hash of a row's raw bytes (see ExtractReader::row_hash()) and the line where the row
// starts: kRead to parse it as next() does; kSkip when the caller already knows this row (it is
// counted in rows() and not parsed); kRepeat when it repeats an earlier row of this file
// exactly (counted, and recorded as the problem "the row repeats line N exactly; the repeat is
// skipped", like a repeat found by parsing).
using RowFilter = std::function<RowCheck(std::uint64_t row_hash, std::size_t line)>;

// Reads one extract of one source, a record at a time, so memory does not grow with the file:
// the one interface of every format's reader (CSV, Annex A workbook, CIN census XML).
// Header problems (a key or mapped column missing, an unreadable workbook) are known after
// construction; duplicate keys and bad rows are counted as rows are read; verdict() says after
// the last row whether the whole file must be rejected. Problems of a file format that cannot be
// read (a damaged zip, XML cut short) are header problems or verdict reasons, never exceptions;
// only the environment (a file that cannot be opened or read) throws std::runtime_error.
// Not thread-safe.
class Reader {
 public:
  virtual ~Reader() = default;

  // Plain words when the header makes the file unusable ("key column 'Case ID' is missing"),
  // else nullopt. When set, next() returns false at once.
  virtual const std::optional<std::string>& header_problem() const = 0;

  // Reads the next good-enough record into `out` (rows whose key is empty are skipped and
  // recorded as problems; rows with bad dates are returned with the raw text and recorded).
  // Returns false at the end of the file.
  virtual bool next(rules::Record& out) = 0;

  // Like next(out), but offers each row to `filter` first, by its raw hash, when the reader can
  // hash it cheaply (see row_hash()); rows it cannot offer are read as by next(). No row is
  // offered until the as-of column's value has been taken (when the source has as_of_column).
  // Rows read while a filter is given get their row_hash(), even those not offered; so pass a
  // filter that always says kRead to get row hashes without skipping anything. An empty
  // `filter` makes this next(out): nothing is hashed and row_hash() stays 0.
  // Rows skipped by the filter do not reach the repeated-key check: a caller that skips rows
  // checks their keys itself (see add_repeated_key()).
  virtual bool next(rules::Record& out, const RowFilter& filter) = 0;

  // The raw hash of the row whose record next() last returned, or 0 when that row must not be
  // matched by its raw bytes later (see ExtractReader for what the CSV reader hashes; readers
  // of other formats return 0).
  virtual std::uint64_t row_hash() const = 0;

  // Records a repeated key found outside the reader (a row skipped by the filter and a row read
  // later have the same key): it counts in verdict() like a repeat found by reading.
  virtual void add_repeated_key(std::string key, std::size_t first_line, std::size_t line) = 0;
  // The line where the row of the record next() last returned starts (a sheet's row number).
  virtual std::size_t line() const = 0;
  // Turns the record next() last returned into a repeat of the row on `first_line`, found
  // outside the reader: a row the filter skipped had the same key and the same values. Records
  // the exact-repeat problem on its line, as for a repeat found by reading; the caller does not
  // store it.
  virtual void add_repeated_row(std::size_t first_line) = 0;

  // Rows a RowFilter said kSkip to (counted in rows(), not parsed).
  virtual std::size_t skipped_rows() const = 0;
  // Data rows read so far, skipped ones included (not counting the header, blank lines, or
  // rows whose fields are all empty).
  virtual std::size_t rows() const = 0;
  // Problems so far, each with its line (1-based: where the row starts, or its sheet row),
  // column (the header; for a workbook the cell, as in "List 6!M12") and message.
  virtual const std::vector<rules::Problem>& problems() const = 0;
  // The number of distinct rows with at least one problem that counts against max_bad_rows.
  virtual std::size_t problem_rows() const = 0;
  // After next() returned false: plain words when the file must be rejected whole (header
  // problem, repeated keys, too many bad rows, a file cut short, no data rows, or more problems
  // than can be recorded), else nullopt. Several reasons are joined with "; ".
  virtual std::optional<std::string> verdict() const = 0;
  // The as-of date read from the source's as_of_column, when configured and present: its first
  // non-empty value, parsed with the source's date formats (nullopt when that does not parse).
  // Known once that row has been read by next().
  virtual std::optional<rules::Date> as_of_from_column() const = 0;
};

// The CSV reader: RFC 4180, UTF-8 with or without BOM, or windows-1252.
// Its row_hash() is stable across runs, builds and machines (defined byte by byte,
// little-endian): a 64-bit hash of the row's bytes as decoded to UTF-8, without its line ending,
// seeded with a fingerprint of everything that decides how the row parses: the header row as
// read, the source's key, fields (name, headers, is_date), date_formats, null_dates and
// encoding, and a parser version constant. So a row hash matches only under the same header and
// definition. Spans that cannot be hashed (row_hash() 0): a row crossing a 1 MiB block of the
// file, the last row when the file does not end with a newline, rows read by next(out) without
// a filter, rows with problems.
class ExtractReader final : public Reader {
 public:
  struct Options {
    std::size_t block_size = std::size_t{1} << 20;  // bytes read from `in` at a time
  };

  // REQUIRES: `in` and `source` outlive the reader. Reads the header row at once.
  ExtractReader(std::istream& in, const rules::Source& source);
  ExtractReader(std::istream& in, const rules::Source& source, Options options);
  // Owns the stream it reads. REQUIRES: `source` outlives the reader.
  ExtractReader(std::unique_ptr<std::istream> in, const rules::Source& source);
  ~ExtractReader() override;
  ExtractReader(const ExtractReader&) = delete;
  ExtractReader& operator=(const ExtractReader&) = delete;

  const std::optional<std::string>& header_problem() const override;
  bool next(rules::Record& out) override;
  bool next(rules::Record& out, const RowFilter& filter) override;
  std::uint64_t row_hash() const override;
  void add_repeated_key(std::string key, std::size_t first_line, std::size_t line) override;
  std::size_t line() const override;
  void add_repeated_row(std::size_t first_line) override;
  std::size_t skipped_rows() const override;
  std::size_t rows() const override;
  const std::vector<rules::Problem>& problems() const override;
  std::size_t problem_rows() const override;
  std::optional<std::string> verdict() const override;
  std::optional<rules::Date> as_of_from_column() const override;

 private:
  std::unique_ptr<std::istream> owned_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The reader for the source's format (Source::format) on `file`. Throws std::runtime_error when
// the file cannot be opened.
std::unique_ptr<Reader> open_reader(const std::filesystem::path& file, const rules::Source& source);
// The same on a file's bytes held in memory (tests, fuzzing). REQUIRES: `source` outlives it.
std::unique_ptr<Reader> open_reader(std::string bytes, const rules::Source& source);

// The first YYYY-MM-DD or YYYYMMDD date in a file name, or nullopt.
std::optional<rules::Date> as_of_from_file_name(std::string_view file_name);

// A file waiting in the inbox and the sources it feeds.
struct InboxFile {
  std::filesystem::path path;
  std::string source;  // the first source whose glob matches the name
  std::filesystem::file_time_type modified;
  // Every source the file feeds, `source` first: a workbook (xlsx) or CIN census file feeds
  // every source of its format whose glob matches, in the configuration's order (one source
  // per list or record); a CSV file feeds `source` only.
  std::vector<std::string> sources;
};

// Files in `inbox` that match a source's glob, oldest first (by modification time, then name),
// with the sources each feeds (InboxFile::sources). Ignores dot-files, *.tmp, *.part and
// non-regular files. Throws std::filesystem::filesystem_error when the folder cannot be read.
std::vector<InboxFile> scan_inbox(const std::filesystem::path& inbox,
                                  const std::vector<rules::Source>& sources);

// Inbox files taken together: read in one go, committed in one transaction, archived together.
struct InboxGroup {
  std::vector<InboxFile> files;      // a set's in the order of its sources in the configuration
  std::string set;                   // the set's name (Source::set); empty for a file on its own
  rules::Date as_of;                 // sets only: the as-of date its files share
  std::vector<std::string> missing;  // sets only: its sources with no file of that date
};

// Groups scan_inbox()'s `files`: each file on its own, except the files of sources in a set,
// grouped by set and as-of date (`as_of`), one file per source of the set (a second file of the
// same source and date goes into a group of its own). Groups come in the order of their first
// file in `files`.
std::vector<InboxGroup> group_inbox(const std::vector<InboxFile>& files,
                                    const std::vector<rules::Source>& sources,
                                    const std::function<rules::Date(const InboxFile&)>& as_of);

// A file waiting in the inbox that matches no source's glob: reported (never silently left), and
// never guessed at. `reason` names the globs that exist.
struct UnmatchedFile {
  std::filesystem::path path;
  std::string reason;  // "matches no source's files glob (cases*.csv, episodes*.csv)"
  std::filesystem::file_time_type modified;
};

// The files of `inbox` that scan_inbox() leaves because they match no source (dot-files, *.tmp,
// *.part and non-regular files are not counted), by name. Throws
// std::filesystem::filesystem_error when the folder cannot be read.
std::vector<UnmatchedFile> unmatched_files(const std::filesystem::path& inbox,
                                           const std::vector<rules::Source>& sources);

// fnmatch-style glob on a file name: '*', '?', '[abc]'.
bool glob_match(std::string_view pattern, std::string_view name);

// SHA-256 of a file's bytes, as 64 lower-case hex digits. Throws when unreadable.
std::string file_sha256(const std::filesystem::path& file);
std::string sha256_hex(std::string_view bytes);

}  // namespace ingest

#endif  // CASEWATCH_INGEST_INGEST_H_
