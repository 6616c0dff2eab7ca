// Workbooks for tests, generated with libxlsxwriter (never committed), and a way to patch one of
// their parts with libzip: to set the 1904 date system, turn a cell into an Excel error cell or
// cut a sheet short, which libxlsxwriter cannot write.
#ifndef CASEWATCH_TESTS_SUPPORT_WORKBOOK_H_
#define CASEWATCH_TESTS_SUPPORT_WORKBOOK_H_

#include <xlsxwriter.h>
#include <zip.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace test_support {

// A cell to write: text, a number (a serial date when `date` is set) or a boolean.
struct XlsxCell {
  enum class Kind { kBlank, kText, kNumber, kDate, kBool };
  Kind kind = Kind::kBlank;
  std::string text;
  double number = 0;
  XlsxCell() = default;
  XlsxCell(const char* t) : kind(Kind::kText), text(t) {}             // NOLINT
  XlsxCell(std::string t) : kind(Kind::kText), text(std::move(t)) {}  // NOLINT
  XlsxCell(double n) : kind(Kind::kNumber), number(n) {}              // NOLINT
  XlsxCell(int n) : kind(Kind::kNumber), number(n) {}                 // NOLINT
  static XlsxCell date(double serial) {
    XlsxCell c(serial);
    c.kind = Kind::kDate;
    return c;
  }
  static XlsxCell boolean(bool b) {
    XlsxCell c(b ? 1 : 0);
    c.kind = Kind::kBool;
    return c;
  }
};

struct XlsxSheet {
  XlsxSheet(std::string sheet_name, std::vector<std::vector<XlsxCell>> sheet_rows)
      : name(std::move(sheet_name)), rows(std::move(sheet_rows)) {}
  std::string name;
  std::vector<std::vector<XlsxCell>> rows;  // from row 1
  std::vector<int> hidden_rows;             // 0-based
  std::vector<int> hidden_columns;          // 0-based
};

// Writes `sheets` to `file`. constant_memory writes inline strings instead of shared ones.
inline void write_workbook(const std::filesystem::path& file, const std::vector<XlsxSheet>& sheets,
                           bool constant_memory = false) {
  lxw_workbook_options options{};
  options.constant_memory = constant_memory ? LXW_TRUE : LXW_FALSE;
  lxw_workbook* workbook = workbook_new_opt(file.c_str(), &options);
  if (workbook == nullptr) throw std::runtime_error("workbook_new_opt failed");
  lxw_format* date_format = workbook_add_format(workbook);
  format_set_num_format(date_format, "dd/mm/yyyy;@");
  lxw_row_col_options hidden{};
  hidden.hidden = LXW_TRUE;
  for (const auto& sheet : sheets) {
    lxw_worksheet* ws = workbook_add_worksheet(workbook, sheet.name.c_str());
    for (const int column : sheet.hidden_columns) {
      worksheet_set_column_opt(ws, static_cast<lxw_col_t>(column), static_cast<lxw_col_t>(column),
                               LXW_DEF_COL_WIDTH, nullptr, &hidden);
    }
    for (std::size_t r = 0; r < sheet.rows.size(); ++r) {
      const auto row = static_cast<lxw_row_t>(r);
      for (const int h : sheet.hidden_rows) {
        if (h == static_cast<int>(r))
          worksheet_set_row_opt(ws, row, LXW_DEF_ROW_HEIGHT, nullptr, &hidden);
      }
      for (std::size_t c = 0; c < sheet.rows[r].size(); ++c) {
        const XlsxCell& cell = sheet.rows[r][c];
        const auto col = static_cast<lxw_col_t>(c);
        switch (cell.kind) {
          case XlsxCell::Kind::kBlank:
            break;
          case XlsxCell::Kind::kText:
            worksheet_write_string(ws, row, col, cell.text.c_str(), nullptr);
            break;
          case XlsxCell::Kind::kNumber:
            worksheet_write_number(ws, row, col, cell.number, nullptr);
            break;
          case XlsxCell::Kind::kDate:
            worksheet_write_number(ws, row, col, cell.number, date_format);
            break;
          case XlsxCell::Kind::kBool:
            worksheet_write_boolean(ws, row, col, cell.number != 0, nullptr);
            break;
        }
      }
    }
    // Rows hidden beyond the written ones (trailing hidden rows with content are written above).
  }
  if (workbook_close(workbook) != LXW_NO_ERROR) throw std::runtime_error("workbook_close failed");
}

// Rewrites the part `entry` of the zip `file` through `edit`.
inline void patch_part(const std::filesystem::path& file, const std::string& entry,
                       const std::function<std::string(std::string)>& edit) {
  int code = 0;
  zip_t* archive = zip_open(file.c_str(), 0, &code);
  if (archive == nullptr) throw std::runtime_error("zip_open failed");
  const zip_int64_t index = zip_name_locate(archive, entry.c_str(), 0);
  if (index < 0) throw std::runtime_error("no part " + entry);
  zip_stat_t stat;
  zip_stat_index(archive, static_cast<zip_uint64_t>(index), 0, &stat);
  std::string text(stat.size, '\0');
  zip_file_t* part = zip_fopen_index(archive, static_cast<zip_uint64_t>(index), 0);
  zip_fread(part, text.data(), text.size());
  zip_fclose(part);
  std::string edited = edit(std::move(text));
  // libzip frees the buffer it is given when freep is 1: hand it a malloc'd copy.
  void* buffer = std::malloc(edited.size() + 1);
  std::memcpy(buffer, edited.data(), edited.size());
  zip_source_t* source = zip_source_buffer(archive, buffer, edited.size(), 1);
  if (zip_file_replace(archive, static_cast<zip_uint64_t>(index), source, 0) < 0) {
    zip_source_free(source);
    throw std::runtime_error("zip_file_replace failed");
  }
  if (zip_close(archive) < 0) throw std::runtime_error("zip_close failed");
}

// `text` with every `from` replaced by `to`.
inline std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

}  // namespace test_support

#endif  // CASEWATCH_TESTS_SUPPORT_WORKBOOK_H_
