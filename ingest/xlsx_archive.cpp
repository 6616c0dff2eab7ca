// The zip container of a workbook (libzip), sheet names, cell references and serial dates.
#include <fmt/format.h>
#include <zip.h>

#include <cmath>
#include <stdexcept>

#include "ingest/xlsx.h"

namespace ingest::xlsx {
namespace {

std::string error_text(int code) {
  zip_error_t error;
  zip_error_init_with_code(&error, code);
  std::string text = zip_error_strerror(&error);
  zip_error_fini(&error);
  return text;
}

// A sheet name as compared: lower case, '_' as ' ', runs of spaces as one, trimmed.
std::string sheet_key(std::string_view name) {
  std::string out;
  bool space = false;
  for (char c : name) {
    if (c == '_' || c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) {
      out.push_back(' ');
    }
    space = false;
    out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  return out;
}

bool is_alnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

}  // namespace

std::unique_ptr<Archive> Archive::open_file(const std::filesystem::path& file, std::string& error) {
  int code = 0;
  zip_t* archive = zip_open(file.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code);
  if (archive == nullptr) {
    // The file itself cannot be opened or read: the environment, not its content.
    if (code == ZIP_ER_OPEN || code == ZIP_ER_READ || code == ZIP_ER_NOENT) {
      throw std::runtime_error(fmt::format("cannot read {} ({})", file.string(), error_text(code)));
    }
    error = fmt::format("the file is not a readable .xlsx workbook (zip: {})", error_text(code));
    return nullptr;
  }
  return std::unique_ptr<Archive>(new Archive(archive, {}));
}

std::unique_ptr<Archive> Archive::open_bytes(std::string bytes, std::string& error) {
  zip_error_t zerror;
  zip_error_init(&zerror);
  // The zip source reads the bytes where the Archive keeps them.
  auto owned = std::unique_ptr<Archive>(new Archive(nullptr, std::move(bytes)));
  zip_source_t* source =
      zip_source_buffer_create(owned->bytes_.data(), owned->bytes_.size(), 0, &zerror);
  if (source == nullptr) {
    error = fmt::format("the workbook cannot be read (zip: {})", zip_error_strerror(&zerror));
    zip_error_fini(&zerror);
    return nullptr;
  }
  zip_t* archive = zip_open_from_source(source, ZIP_RDONLY | ZIP_CHECKCONS, &zerror);
  if (archive == nullptr) {
    error = fmt::format("the file is not a readable .xlsx workbook (zip: {})",
                        zip_error_strerror(&zerror));
    zip_source_free(source);
    zip_error_fini(&zerror);
    return nullptr;
  }
  zip_error_fini(&zerror);
  owned->archive_ = archive;
  return owned;
}

Archive::~Archive() {
  if (archive_ != nullptr) {
    zip_discard(archive_);
  }
}

bool Archive::has(const std::string& name) const {
  return zip_name_locate(archive_, name.c_str(), 0) >= 0;
}

std::unique_ptr<Archive::Entry> Archive::open(const std::string& name, std::string& error) const {
  const zip_int64_t index = zip_name_locate(archive_, name.c_str(), 0);
  if (index < 0) {
    error = fmt::format("the workbook has no part '{}'", name);
    return nullptr;
  }
  zip_file_t* file = zip_fopen_index(archive_, static_cast<zip_uint64_t>(index), 0);
  if (file == nullptr) {
    error = fmt::format("the workbook's part '{}' cannot be read (zip: {})", name,
                        zip_error_strerror(zip_get_error(archive_)));
    return nullptr;
  }
  zip_stat_t stat;
  zip_stat_init(&stat);
  const bool sized = zip_stat_index(archive_, static_cast<zip_uint64_t>(index), 0, &stat) == 0 &&
                     (stat.valid & ZIP_STAT_SIZE) != 0;
  return std::unique_ptr<Entry>(new Entry(file, sized ? stat.size : ~std::uint64_t{0}));
}

Archive::Entry::~Entry() { zip_fclose(file_); }

std::int64_t Archive::Entry::read(char* buffer, std::size_t size) {
  const zip_int64_t n = zip_fread(file_, buffer, size);
  if (n < 0) {
    error_ = zip_error_strerror(zip_file_get_error(file_));
  }
  return n;
}

ReadAhead::ReadAhead(std::unique_ptr<Archive::Entry> entry, std::size_t chunk)
    : entry_(std::move(entry)) {
  if (entry_->stated_size() < chunk) {
    // The whole part fits one chunk (the workbook's small parts, a short sheet): nothing to
    // read ahead of, and no thread to start for it.
    buffers_[0].bytes.resize(chunk);
    return;
  }
  for (Buffer& buffer : buffers_) {
    buffer.bytes.resize(chunk);
  }
  thread_ = std::thread([this] { run(); });
}

ReadAhead::~ReadAhead() {
  if (!thread_.joinable()) {
    return;
  }
  {
    const std::lock_guard lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void ReadAhead::run() {
  for (std::size_t i = 0;; i ^= 1) {
    Buffer& buffer = buffers_[i];
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] { return stop_ || !buffer.full; });
      if (stop_) {
        return;
      }
    }
    // The buffer is this thread's until it is marked full.
    const std::int64_t n = entry_->read(buffer.bytes.data(), buffer.bytes.size());
    {
      const std::lock_guard lock(mutex_);
      buffer.size = n;
      buffer.full = true;
    }
    changed_.notify_all();
    if (n <= 0) {
      return;
    }
  }
}

std::int64_t ReadAhead::next(const char*& data) {
  if (ended_) {
    return *ended_;
  }
  if (!thread_.joinable()) {  // read here, a chunk at a time (a damaged file may hold more)
    Buffer& buffer = buffers_[0];
    const std::int64_t n = entry_->read(buffer.bytes.data(), buffer.bytes.size());
    data = buffer.bytes.data();
    if (n <= 0) {
      ended_ = n;
    }
    return n;
  }
  std::unique_lock lock(mutex_);
  if (holding_) {
    buffers_[wanted_ ^ 1].full = false;
    changed_.notify_all();
  }
  Buffer& buffer = buffers_[wanted_];
  changed_.wait(lock, [&] { return buffer.full; });
  holding_ = true;
  wanted_ ^= 1;
  data = buffer.bytes.data();
  if (buffer.size <= 0) {
    ended_ = buffer.size;
  }
  return buffer.size;
}

std::optional<std::size_t> find_sheet(const std::vector<SheetInfo>& sheets,
                                      std::string_view wanted) {
  if (wanted.empty()) {
    if (sheets.empty()) {
      return std::nullopt;
    }
    return 0;
  }
  const std::string target = sheet_key(wanted);
  for (std::size_t i = 0; i < sheets.size(); ++i) {
    if (sheet_key(sheets[i].name) == target) {
      return i;
    }
  }
  for (std::size_t i = 0; i < sheets.size(); ++i) {
    const std::string key = sheet_key(sheets[i].name);
    // "list 6 - children in need" but not "list 60".
    if (key.size() > target.size() && key.compare(0, target.size(), target) == 0 &&
        !is_alnum(key[target.size()])) {
      return i;
    }
  }
  return std::nullopt;
}

bool Row::blank() const {
  for (const auto& cell : cells) {
    if (cell.type != Cell::Type::kEmpty && !(cell.type == Cell::Type::kText && cell.text.empty())) {
      return false;
    }
  }
  return true;
}

std::optional<std::size_t> column_of(std::string_view reference) {
  std::size_t column = 0;
  std::size_t letters = 0;
  for (const char c : reference) {
    if (c >= 'A' && c <= 'Z') {
      column = column * 26 + static_cast<std::size_t>(c - 'A' + 1);
    } else if (c >= 'a' && c <= 'z') {
      column = column * 26 + static_cast<std::size_t>(c - 'a' + 1);
    } else {
      break;
    }
    if (++letters > 3) {
      return std::nullopt;  // past XFD
    }
  }
  if (letters == 0) {
    return std::nullopt;
  }
  return column - 1;
}

std::string column_name(std::size_t column) {
  std::string name;
  ++column;
  while (column > 0) {
    const std::size_t rest = (column - 1) % 26;
    name.insert(name.begin(), static_cast<char>('A' + rest));
    column = (column - 1) / 26;
  }
  return name;
}

std::optional<rules::Date> serial_date(double serial, bool date1904, std::string& why) {
  // 2958465 is 31 Dec 9999 in the 1900 system.
  if (!std::isfinite(serial) || serial < 0 || serial >= 2958466) {
    why = fmt::format("{} is not an Excel date serial number", serial);
    return std::nullopt;
  }
  static const rules::Date k1904 = *rules::Date::from_ymd(1904, 1, 1);
  static const rules::Date kBefore60 = *rules::Date::from_ymd(1899, 12, 31);
  static const rules::Date kFrom61 = *rules::Date::from_ymd(1899, 12, 30);
  const auto day = static_cast<std::int32_t>(std::floor(serial));
  if (date1904) {
    const rules::Date date = k1904 + day;
    if (date.year() > 9999) {
      why = fmt::format("{} is not an Excel date serial number", serial);
      return std::nullopt;
    }
    return date;
  }
  if (day == 0) {
    why = "the serial date 0 (Excel's 00/01/1900) is not a date";
    return std::nullopt;
  }
  if (day == 60) {
    why = "the serial date 60 is 29/02/1900, a day that never was (Excel's 1900 leap-year error)";
    return std::nullopt;
  }
  // Serials 1-59 count from 31 Dec 1899; from 61 on, Excel's phantom 29 Feb 1900 is skipped.
  return (day < 60 ? kBefore60 : kFrom61) + day;
}

}  // namespace ingest::xlsx
