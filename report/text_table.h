// Internal to report/: the plain-text table layout and paragraph helpers of render_text.
#ifndef CASEWATCH_REPORT_TEXT_TABLE_H_
#define CASEWATCH_REPORT_TEXT_TABLE_H_

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "report/format_util.h"

namespace report::text {

using detail::pad;
using detail::width;
using detail::wrap;

constexpr std::size_t kPageWidth = 100;
constexpr std::size_t kIndent = 2;
constexpr std::size_t kNoteIndent = 6;
constexpr std::size_t kNoteLines = 3;

struct Column {
  std::string header;
  std::size_t max = 10;  // the column never gets wider than this
  bool right = false;    // right-aligned (numbers)
  bool wrap = false;     // long cells wrap onto more lines instead of being cut
};

using Row = std::vector<std::string>;

// A table's layout. Each column is as wide as its widest cell or header word, up to its max;
// callers keep indent + sum(max) + separators within the page.
class Table {
 public:
  Table(std::vector<Column> columns, const std::vector<Row>& rows, std::size_t separator = 2)
      : columns_(std::move(columns)), separator_(separator) {
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      std::size_t w = 1;
      for (const auto& word : wrap(columns_[c].header, columns_[c].max)) {
        w = std::max(w, width(word));
      }
      for (const auto& row : rows) {
        w = std::max(w, width(detail::clean(row[c])));
      }
      widths_.push_back(std::min(w, columns_[c].max));
    }
  }

  // The header, bottom-aligned over a rule of dashes.
  void add_header(std::string& out) const {
    std::vector<std::vector<std::string>> cells;
    std::size_t height = 0;
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      cells.push_back(wrap(columns_[c].header, widths_[c]));
      height = std::max(height, cells.back().size());
    }
    for (auto& cell : cells) {
      cell.insert(cell.begin(), height - cell.size(), "");
    }
    emit(out, cells);
    std::string dashes(kIndent, ' ');
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      if (c > 0) {
        dashes += std::string(separator_, ' ');
      }
      dashes += std::string(widths_[c], '-');
    }
    out += dashes + "\n";
  }

  void add_row(std::string& out, const Row& row) const {
    std::vector<std::vector<std::string>> cells;
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      if (columns_[c].wrap) {
        cells.push_back(wrap(row[c], widths_[c]));
      } else {
        cells.push_back({detail::truncate(detail::clean(row[c]), widths_[c])});
      }
    }
    emit(out, cells);
  }

  // The width of a line of the table, indent included.
  std::size_t total_width() const {
    std::size_t total = kIndent;
    for (std::size_t c = 0; c < widths_.size(); ++c) {
      total += widths_[c] + (c > 0 ? separator_ : 0);
    }
    return total;
  }

  void add_all(std::string& out, const std::vector<Row>& rows) const {
    add_header(out);
    for (const auto& row : rows) {
      add_row(out, row);
    }
  }

 private:
  void emit(std::string& out, const std::vector<std::vector<std::string>>& cells) const {
    std::size_t height = 1;
    for (const auto& cell : cells) {
      height = std::max(height, cell.size());
    }
    for (std::size_t line = 0; line < height; ++line) {
      std::string text(kIndent, ' ');
      for (std::size_t c = 0; c < cells.size(); ++c) {
        if (c > 0) {
          text += std::string(separator_, ' ');
        }
        const std::string value = line < cells[c].size() ? cells[c][line] : "";
        text += pad(value, widths_[c], columns_[c].right);
      }
      while (!text.empty() && text.back() == ' ') {
        text.pop_back();
      }
      out += text + "\n";
    }
  }

  std::vector<Column> columns_;
  std::size_t separator_;
  std::vector<std::size_t> widths_;
};

inline void add_table(std::string& out, std::vector<Column> columns, const std::vector<Row>& rows,
                      std::size_t separator = 2) {
  Table(std::move(columns), rows, separator).add_all(out, rows);
}

// A heading underlined with `mark`.
inline void add_heading(std::string& out, std::string_view text, char mark) {
  std::size_t longest = 0;
  for (const auto& line : wrap(text, kPageWidth)) {
    out += line + "\n";
    longest = std::max(longest, width(line));
  }
  out += std::string(longest, mark) + "\n";
}

// A wrapped paragraph with an indent; at most `max_lines` lines (0 = no limit), cut with "...".
inline void add_paragraph(std::string& out, std::string_view text, std::size_t indent = 0,
                          std::size_t max_lines = 0) {
  auto lines = wrap(text, kPageWidth - indent);
  if (max_lines > 0 && lines.size() > max_lines) {
    lines.resize(max_lines);
    std::string& last = lines.back();
    while (width(last) + 4 > kPageWidth - indent) {
      const auto space = last.rfind(' ');
      if (space == std::string::npos) {
        break;
      }
      last.erase(space);
    }
    // A single over-long word is cut, ending with "...".
    last = detail::truncate(last + " ...", kPageWidth - indent);
  }
  for (const auto& line : lines) {
    out += std::string(indent, ' ') + line + "\n";
  }
}

}  // namespace report::text

#endif  // CASEWATCH_REPORT_TEXT_TABLE_H_
