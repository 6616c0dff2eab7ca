// The parts of an .xlsx workbook the workbook reader needs, internal to ingest/: the zip
// container (libzip), the workbook's sheet list and date system, the shared strings and a
// sheet's rows, streamed with expat (a sheet is never held whole in memory). Errors in the file
// are values (an error text), never exceptions.
#ifndef CASEWATCH_INGEST_XLSX_H_
#define CASEWATCH_INGEST_XLSX_H_

#include <array>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "rules/rules.h"

struct zip;
struct zip_file;
struct XML_ParserStruct;

namespace ingest::xlsx {

// A zip archive opened read-only, from a file or from bytes in memory.
class Archive {
 public:
  // nullopt and `error` set when the bytes are not a zip archive.
  static std::unique_ptr<Archive> open_file(const std::filesystem::path& file, std::string& error);
  static std::unique_ptr<Archive> open_bytes(std::string bytes, std::string& error);
  ~Archive();
  Archive(const Archive&) = delete;
  Archive& operator=(const Archive&) = delete;

  bool has(const std::string& name) const;

  // One entry, read in chunks.
  class Entry {
   public:
    ~Entry();
    Entry(const Entry&) = delete;
    Entry& operator=(const Entry&) = delete;
    // Reads up to `size` bytes; 0 at the end; -1 on error (see error()).
    std::int64_t read(char* buffer, std::size_t size);
    const std::string& error() const { return error_; }
    // The uncompressed size the archive states for the entry (a damaged file may state
    // anything: a hint for buffer sizes, never a bound on what read() returns).
    std::uint64_t stated_size() const { return stated_size_; }

   private:
    friend class Archive;
    Entry(zip_file* file, std::uint64_t stated_size) : file_(file), stated_size_(stated_size) {}
    zip_file* file_;
    std::uint64_t stated_size_;
    std::string error_;
  };
  // nullptr and `error` set when the entry is absent or cannot be opened.
  std::unique_ptr<Entry> open(const std::string& name, std::string& error) const;

 private:
  Archive(zip* archive, std::string bytes) : archive_(archive), bytes_(std::move(bytes)) {}
  zip* archive_;
  std::string bytes_;  // the archive's bytes when opened from memory (libzip reads them)
};

// An entry inflated on a thread of its own, a chunk ahead of its reader: a sheet's XML is parsed
// while its next chunk is inflated (on a second core, the inflating then costs the parse
// nothing). An entry that states a size under one chunk is read on the reader's thread, with no
// thread started. Not thread-safe: one reader calls next(). Nothing else may use the entry's
// archive until this is destroyed.
class ReadAhead {
 public:
  ReadAhead(std::unique_ptr<Archive::Entry> entry, std::size_t chunk);
  ~ReadAhead();  // stops the thread and waits for it
  ReadAhead(const ReadAhead&) = delete;
  ReadAhead& operator=(const ReadAhead&) = delete;

  // The next chunk's size: 0 at the end, -1 on an error (see error()). Its bytes are at `data`
  // until the next call.
  std::int64_t next(const char*& data);
  // Why the entry could not be read, once next() has returned -1.
  const std::string& error() const { return entry_->error(); }

 private:
  struct Buffer {
    std::string bytes;
    std::int64_t size = 0;
    bool full = false;  // inflated and not yet given back by the reader
  };
  void run();

  std::unique_ptr<Archive::Entry> entry_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::array<Buffer, 2> buffers_;      // guarded by mutex_ (bytes: by its full flag)
  bool stop_ = false;                  // guarded by mutex_
  std::size_t wanted_ = 0;             // the reader's: the buffer it takes next
  bool holding_ = false;               // the reader's: it holds the other buffer
  std::optional<std::int64_t> ended_;  // the reader's: the last chunk's size (0 or -1) once seen
  std::thread thread_;                 // last: started once the rest is built
};

// A worksheet as workbook.xml lists it.
struct SheetInfo {
  std::string name;
  std::string part;  // its entry in the archive ("xl/worksheets/sheet6.xml")
};

// workbook.xml and its relationships: the sheets in order and the date system.
struct WorkbookInfo {
  std::vector<SheetInfo> sheets;
  bool date1904 = false;
};
// nullopt and `error` set when the workbook's parts are missing or not well-formed.
std::optional<WorkbookInfo> read_workbook(const Archive& archive, std::string& error);

// The index of the sheet that `wanted` names: equal ignoring case, '_' for ' ' and runs of
// spaces, or that followed by a title ("List 6 - Children in Need"); an exact name first.
// An empty `wanted` names the first sheet.
std::optional<std::size_t> find_sheet(const std::vector<SheetInfo>& sheets,
                                      std::string_view wanted);

// The shared strings table, back to back in one buffer.
class SharedStrings {
 public:
  std::size_t size() const { return ends_.size(); }
  std::string_view at(std::size_t i) const {
    const std::size_t begin = i == 0 ? 0 : ends_[i - 1];
    return std::string_view(text_).substr(begin, ends_[i] - begin);
  }
  void add(std::string_view s) {
    text_ += s;
    ends_.push_back(text_.size());
  }

 private:
  std::string text_;
  std::vector<std::size_t> ends_;
};
// Reads xl/sharedStrings.xml (absent: an empty table). False and `error` set when malformed.
bool read_shared_strings(const Archive& archive, SharedStrings& out, std::string& error);

// One cell as the sheet stores it.
struct Cell {
  enum class Type { kEmpty, kText, kNumber, kBool, kError, kIsoDate };
  Type type = Type::kEmpty;
  std::string text;  // kText: the string; kNumber: the number as written; kBool: "TRUE"/"FALSE";
                     // kError: "#N/A" etc.; kIsoDate: the ISO text
};

// One row of a sheet: its number and its cells by column (0 = A), empty cells included.
struct Row {
  std::size_t number = 0;
  bool hidden = false;
  std::vector<Cell> cells;
  // True when no cell holds anything.
  bool blank() const;
};

// "A" -> 0, "M" -> 12, "AA" -> 26; of a cell reference's letters ("M12").
std::optional<std::size_t> column_of(std::string_view reference);
// 0 -> "A", 12 -> "M", 26 -> "AA".
std::string column_name(std::size_t column);

// A sheet's rows, streamed: the XML is read in chunks as rows are asked for.
class SheetRows {
 public:
  // REQUIRES: `archive` and `strings` outlive this.
  SheetRows(const Archive& archive, const SheetInfo& sheet, const SharedStrings& strings);
  ~SheetRows();
  SheetRows(const SheetRows&) = delete;
  SheetRows& operator=(const SheetRows&) = delete;

  // The next row with a cell in it, hidden or not; false at the end or on an error. `row`'s
  // previous contents are kept to be filled again: pass the same Row each time.
  bool next(Row& row);
  // Why reading stopped early: the XML is not well-formed or cut short, the entry is damaged.
  const std::optional<std::string>& error() const { return error_; }
  // Columns the sheet marks hidden (from its <cols>), by index.
  bool column_hidden(std::size_t column) const {
    return column < hidden_columns_.size() && hidden_columns_[column];
  }

 private:
  struct Handler;
  friend struct Handler;
  bool feed();

  std::unique_ptr<ReadAhead> entry_;
  std::string part_;
  const SharedStrings& strings_;
  XML_ParserStruct* parser_ = nullptr;
  std::unique_ptr<Handler> handler_;
  std::vector<Row> ready_;       // rows read from the last chunk: given out from ready_begin_,
  std::size_t ready_begin_ = 0;  // complete up to ready_end_; past that, rows to fill again
  std::size_t ready_end_ = 0;
  std::vector<bool> hidden_columns_;
  std::optional<std::string> error_;
  bool done_ = false;
};

// An Excel serial day number as a date: the 1900 system (serial 1 = 1 Jan 1900, with its
// 29 Feb 1900 that never was at serial 60) or the 1904 system (serial 0 = 1 Jan 1904).
// The fraction of a day (a time) is dropped. nullopt with `why` for 0, 60 in the 1900 system,
// negative numbers and numbers past 31 Dec 9999.
std::optional<rules::Date> serial_date(double serial, bool date1904, std::string& why);

}  // namespace ingest::xlsx

#endif  // CASEWATCH_INGEST_XLSX_H_
