// The workbook reader: one sheet of an .xlsx file (an Annex A list) as the records of a source.
#include <fmt/format.h>

#include <charconv>
#include <deque>
#include <utility>

#include "ingest/formats.h"
#include "ingest/row_book.h"
#include "ingest/text.h"
#include "ingest/xlsx.h"

namespace ingest {
namespace {

using xlsx::Cell;

// Rows searched for the header (the official template has a title row above it).
constexpr std::size_t kHeaderSearchRows = 20;

class WorkbookReader final : public BookReader {
 public:
  WorkbookReader(std::unique_ptr<xlsx::Archive> archive, const std::string& open_error,
                 const rules::Source& source)
      : BookReader(source), source_(source), archive_(std::move(archive)) {
    if (!archive_) {
      header_problem_ = open_error;
      return;
    }
    open_sheet();
  }

  bool next(rules::Record& out) override;
  std::optional<std::string> verdict() const override;

 private:
  void open_sheet();
  void find_header();
  bool take_row(const xlsx::Row& row, rules::Record& out);
  // The next row to read (hidden rows are held back until a visible row follows them, so that
  // hidden rows at the end are ignored); false at the end.
  bool next_row(xlsx::Row& row);
  std::string cell_name(std::size_t column) const {
    return fmt::format("{}!{}{}", sheet_name_, xlsx::column_name(column), line_);
  }
  // The cell's text, trimmed ("" past the row's last cell).
  static std::string_view text_of(const xlsx::Row& row, std::size_t column) {
    return column < row.cells.size() ? trim(row.cells[column].text) : std::string_view();
  }
  void put_value(const xlsx::Row& row, std::size_t field, std::string& target);

  const rules::Source& source_;
  std::unique_ptr<xlsx::Archive> archive_;
  xlsx::SharedStrings strings_;
  std::unique_ptr<xlsx::SheetRows> sheet_;
  std::string sheet_name_;
  bool date1904_ = false;
  std::vector<std::string> headers_;
  std::size_t width_ = 0;  // columns read: up to the header's last visible one
  ColumnMap columns_;
  std::vector<bool> key_is_date_;  // a date field reads the key column: a serial is keyed as ISO
  std::string key_date_;
  std::deque<xlsx::Row> hidden_;  // hidden rows not yet known to be followed by a visible one
  std::deque<xlsx::Row> queued_;
  xlsx::Row row_;  // the row being read, kept so that its cells' strings are used again
  std::string key_;
  std::string content_;
  bool as_of_taken_ = false;
  bool finished_ = false;
};

void WorkbookReader::open_sheet() {
  std::string error;
  const auto workbook = xlsx::read_workbook(*archive_, error);
  if (!workbook) {
    header_problem_ = error;
    return;
  }
  date1904_ = workbook->date1904;
  const auto index = xlsx::find_sheet(workbook->sheets, source_.sheet);
  if (!index) {
    std::vector<std::string> names;
    for (const auto& sheet : workbook->sheets) {
      names.push_back(sheet.name);
    }
    header_problem_ = source_.sheet.empty()
                          ? std::string("the workbook has no sheets")
                          : fmt::format("the workbook has no sheet '{}' (its sheets: {})",
                                        source_.sheet, join(names, ", "));
    return;
  }
  const xlsx::SheetInfo& sheet = workbook->sheets[*index];
  sheet_name_ = sheet.name;
  if (!xlsx::read_shared_strings(*archive_, strings_, error)) {
    header_problem_ = error;
    return;
  }
  sheet_ = std::make_unique<xlsx::SheetRows>(*archive_, sheet, strings_);
  find_header();
}

void WorkbookReader::find_header() {
  xlsx::Row row;
  std::optional<HeaderMatch> first;
  std::vector<std::string> first_headers;
  for (std::size_t searched = 0; searched < kHeaderSearchRows && sheet_->next(row);) {
    if (row.blank()) {
      continue;
    }
    ++searched;
    std::vector<std::string> headers;
    std::size_t width = 0;
    for (std::size_t c = 0; c < row.cells.size(); ++c) {
      headers.emplace_back(text_of(row, c));
      if (!headers.back().empty() && !sheet_->column_hidden(c)) {
        width = c + 1;
      }
    }
    headers.resize(width);
    HeaderMatch match = match_headers(headers, source_);
    if (match.has_keys) {
      if (match.problem) {
        header_problem_ =
            fmt::format("sheet '{}', header row {}: {}", sheet_name_, row.number, *match.problem);
        return;
      }
      headers_ = std::move(headers);
      width_ = width;
      columns_ = std::move(match.columns);
      for (const std::size_t key_column : columns_.key_columns) {
        bool is_date = false;
        for (std::size_t f = 0; f < source_.fields.size(); ++f) {
          is_date =
              is_date || (source_.fields[f].is_date && columns_.field_columns[f] == key_column);
        }
        key_is_date_.push_back(is_date);
      }
      return;
    }
    if (!first) {
      first = std::move(match);
      first_headers = std::move(headers);
    }
  }
  if (sheet_->error()) {
    header_problem_ = fmt::format("sheet '{}': {}", sheet_name_, *sheet_->error());
  } else if (!first) {
    header_problem_ = fmt::format("sheet '{}' is empty: it has no header row", sheet_name_);
  } else {
    header_problem_ = fmt::format(
        "sheet '{}' has no header row in its first {} rows that holds "
        "the key column{} {}; its first row has: {}",
        sheet_name_, kHeaderSearchRows, source_.key.size() == 1 ? "" : "s", quote_list(source_.key),
        join(first_headers, ", "));
  }
}

bool WorkbookReader::next_row(xlsx::Row& row) {
  for (;;) {
    if (!queued_.empty()) {
      row = std::move(queued_.front());
      queued_.pop_front();
      return true;
    }
    if (!sheet_->next(row)) {
      return false;  // hidden rows still held are trailing: ignored
    }
    if (row.cells.size() > width_) {
      row.cells.resize(width_);
    }
    if (row.blank()) {
      continue;
    }
    if (row.hidden) {
      hidden_.push_back(std::move(row));
      continue;
    }
    if (hidden_.empty()) {
      return true;
    }
    for (auto& held : hidden_) {
      queued_.push_back(std::move(held));
    }
    hidden_.clear();
    queued_.push_back(std::move(row));
  }
}

void WorkbookReader::put_value(const xlsx::Row& row, std::size_t field, std::string& target) {
  const std::size_t column = columns_.field_columns[field];
  target.clear();
  if (column >= row.cells.size()) {
    return;
  }
  const Cell& cell = row.cells[column];
  const std::string_view text = trim(cell.text);
  const std::string& header = headers_[column];
  switch (cell.type) {
    case Cell::Type::kEmpty:
      return;
    case Cell::Type::kError:
      book_.add_note(cell_name(column),
                     fmt::format("'{}' is an error cell ({}); read as empty", header, text));
      return;
    case Cell::Type::kText:
      if (source_.fields[field].is_date && !text.empty()) {
        if (auto problem = put_date(text, source_, target)) {
          book_.add_problem(cell_name(column), std::move(*problem));
        }
      } else {
        target.assign(text);
      }
      return;
    case Cell::Type::kBool:
    case Cell::Type::kNumber:
    case Cell::Type::kIsoDate:
      break;
  }
  if (!source_.fields[field].is_date) {
    target.assign(text);
    return;
  }
  std::string why;
  if (cell.type == Cell::Type::kNumber) {
    double serial = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), serial);
    if (ec == std::errc() && end == text.data() + text.size()) {
      if (const auto date = xlsx::serial_date(serial, date1904_, why)) {
        put_known_date(*date, source_, target);
        return;
      }
    } else {
      why = fmt::format("'{}' is not a number", text);
    }
  } else if (cell.type == Cell::Type::kIsoDate) {
    if (const auto date = rules::Date::parse_iso(text.substr(0, 10))) {
      put_known_date(*date, source_, target);
      return;
    }
    why = fmt::format("'{}' is not a date", text);
  } else {
    why = fmt::format("'{}' is a true/false cell, not a date", text);
  }
  target.assign(text);
  book_.add_problem(cell_name(column), fmt::format("'{}': {}", header, why));
}

bool WorkbookReader::take_row(const xlsx::Row& row, rules::Record& out) {
  line_ = row.number;
  book_.start_row(row.number);
  key_.clear();
  for (std::size_t k = 0; k < columns_.key_columns.size(); ++k) {
    const std::size_t column = columns_.key_columns[k];
    const bool error = column < row.cells.size() && row.cells[column].type == Cell::Type::kError;
    std::string_view part = error ? std::string_view() : text_of(row, column);
    // A row may end before the key column (its cells stop at its last written one).
    if (key_is_date_[k] && column < row.cells.size() &&
        row.cells[column].type == Cell::Type::kNumber) {
      double serial = 0;
      std::string why;
      std::from_chars(part.data(), part.data() + part.size(), serial);
      if (const auto date = xlsx::serial_date(serial, date1904_, why)) {
        assign_iso(*date, key_date_);
        part = key_date_;
      }
    }
    if (part.empty()) {
      book_.add_problem(cell_name(column),
                        fmt::format("key column '{}' is {}; the row is skipped", headers_[column],
                                    error ? "an error cell" : "empty"));
      return book_.finish_row(false);
    }
    if (k > 0) {
      key_.push_back(rules::kKeySeparator);
    }
    key_.append(part);
  }
  const std::uint64_t key_hash = book_.prefetch_key(key_);
  out.key = key_;
  out.values.resize(source_.fields.size());
  for (std::size_t f = 0; f < source_.fields.size(); ++f) {
    put_value(row, f, out.values[f]);
  }
  content_.clear();
  for (const auto& cell : row.cells) {
    content_.push_back(static_cast<char>('0' + static_cast<int>(cell.type)));
    content_ += cell.text;
    content_.push_back('\x1f');
  }
  if (!book_.check_key(key_, key_hash, KeySet::hash(content_))) {
    return book_.finish_row(false);
  }
  if (columns_.as_of_column && !as_of_taken_) {
    const std::size_t column = *columns_.as_of_column;
    std::string value;
    if (column < row.cells.size() && row.cells[column].type == Cell::Type::kNumber) {
      std::string why;
      double serial = 0;
      const std::string& text = row.cells[column].text;
      std::from_chars(text.data(), text.data() + text.size(), serial);
      as_of_taken_ = true;
      as_of_ = xlsx::serial_date(serial, date1904_, why);
    } else if (const std::string_view text = text_of(row, column); !text.empty()) {
      as_of_taken_ = true;
      as_of_ = rules::parse_date_any(text, source_.date_formats);
    }
  }
  return book_.finish_row(true);
}

bool WorkbookReader::next(rules::Record& out) {
  if (header_problem_ || finished_) {
    return false;
  }
  while (next_row(row_)) {
    if (take_row(row_, out)) {
      return true;
    }
  }
  finished_ = true;
  return false;
}

std::optional<std::string> WorkbookReader::verdict() const {
  if (header_problem_) {
    return header_problem_;
  }
  std::vector<std::string> reasons;
  if (sheet_->error()) {
    reasons.push_back(
        fmt::format("sheet '{}' cannot be read to its end, so none of it is taken: {}", sheet_name_,
                    *sheet_->error()));
  }
  return book_.verdict(std::move(reasons),
                       fmt::format("sheet '{}' has a header but no rows", sheet_name_));
}

}  // namespace

std::unique_ptr<Reader> open_workbook(const std::filesystem::path& file,
                                      const rules::Source& source) {
  std::string error;
  auto archive = xlsx::Archive::open_file(file, error);
  return std::make_unique<WorkbookReader>(std::move(archive), error, source);
}

std::unique_ptr<Reader> open_workbook(std::string bytes, const rules::Source& source) {
  std::string error;
  auto archive = xlsx::Archive::open_bytes(std::move(bytes), error);
  return std::make_unique<WorkbookReader>(std::move(archive), error, source);
}

}  // namespace ingest
