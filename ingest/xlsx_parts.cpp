// The XML parts of a workbook, read with expat: workbook.xml and its relationships, the shared
// strings, and a sheet's rows streamed a chunk at a time.
#include <expat.h>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstring>

#include "ingest/xlsx.h"

namespace ingest::xlsx {
namespace {

constexpr std::size_t kChunk = std::size_t{256} * 1024;

// The bytes read from `entry` at a time: kChunk, or less for a small part (a whole small part
// in one read, without a large buffer for each of the workbook's small parts).
std::size_t chunk_size(const Archive::Entry& entry) {
  const std::uint64_t wanted = entry.stated_size() < kChunk ? entry.stated_size() + 1 : kChunk;
  return std::max<std::size_t>(4096, static_cast<std::size_t>(wanted));
}

// An element or attribute name without its namespace prefix ("x:row" -> "row"), in one pass
// over the name (called for every element and attribute of a sheet: names are short).
std::string_view local_name(const XML_Char* name) {
  const XML_Char* local = name;
  const XML_Char* end = name;
  for (; *end != '\0'; ++end) {
    if (*end == ':') {
      local = end + 1;
    }
  }
  return {local, static_cast<std::size_t>(end - local)};
}

const XML_Char* attribute(const XML_Char** atts, std::string_view name) {
  for (std::size_t i = 0; atts[i] != nullptr; i += 2) {
    if (local_name(atts[i]) == name) {
      return atts[i + 1];
    }
  }
  return nullptr;
}

// The letters a cell reference starts with ("M12" -> "M"), up to one more than a column has:
// what column_of reads, found without first finding the reference's end.
std::string_view letters_of(const XML_Char* reference) {
  std::size_t n = 0;
  while (n < 4 && ((reference[n] >= 'A' && reference[n] <= 'Z') ||
                   (reference[n] >= 'a' && reference[n] <= 'z'))) {
    ++n;
  }
  return {reference, n};
}

bool truthy(const XML_Char* value) {
  return value != nullptr && (std::strcmp(value, "1") == 0 || std::strcmp(value, "true") == 0);
}

std::optional<std::size_t> to_size(std::string_view value) {
  std::size_t n = 0;
  const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec != std::errc() || ptr != value.data() + value.size()) {
    return std::nullopt;
  }
  return n;
}

std::optional<std::size_t> to_size(const XML_Char* value) {
  if (value == nullptr) {
    return std::nullopt;
  }
  return to_size(std::string_view(value));
}

std::string parse_error(XML_Parser parser, const std::string& part) {
  if (XML_GetErrorCode(parser) == XML_ERROR_ABORTED) {  // stopped by refuse_dtd(), the only stop
    return fmt::format(
        "the workbook's part '{}' declares a DTD (<!DOCTYPE> at line {}), which a workbook never "
        "has; refused",
        part, XML_GetCurrentLineNumber(parser));
  }
  return fmt::format(
      "the workbook's part '{}' is not well-formed XML at line {}, column {} ({}): "
      "the workbook is damaged or cut short",
      part, XML_GetCurrentLineNumber(parser), XML_GetCurrentColumnNumber(parser),
      XML_ErrorString(XML_GetErrorCode(parser)));
}

// A document type declaration is refused: no part of a workbook has one, and it is how an XML
// bomb (entities expanding to gigabytes, "billion laughs") or an external entity would get in.
// The parser stops at once; parse_error() then names the part. Entities can be declared only
// inside a DTD, so the entity handler is a second lock on the same door.
void refuse_dtd(XML_Parser parser) {
  XML_SetStartDoctypeDeclHandler(
      parser, [](void* arg, const XML_Char*, const XML_Char*, const XML_Char*, int) {
        XML_StopParser(static_cast<XML_Parser>(arg), XML_FALSE);
      });
  XML_SetEntityDeclHandler(
      parser, [](void* arg, const XML_Char*, int, const XML_Char*, int, const XML_Char*,
                 const XML_Char*, const XML_Char*,
                 const XML_Char*) { XML_StopParser(static_cast<XML_Parser>(arg), XML_FALSE); });
}

// The handler of the parser an expat callback was given (XML_UseParserAsHandlerArg).
template <class Handler>
Handler* of(void* parser) {
  return static_cast<Handler*>(XML_GetUserData(static_cast<XML_Parser>(parser)));
}

// Calls `handler`'s start, end and text for the elements and text `parser` reads, and refuses a
// DTD. The callbacks get the parser, to stop it, and find `handler` through it.
template <class Handler>
void set_callbacks(XML_Parser parser, Handler& handler) {
  XML_SetUserData(parser, &handler);
  XML_UseParserAsHandlerArg(parser);
  XML_SetElementHandler(
      parser,
      [](void* arg, const XML_Char* name, const XML_Char** atts) {
        of<Handler>(arg)->start(local_name(name), atts);
      },
      [](void* arg, const XML_Char* name) { of<Handler>(arg)->end(local_name(name)); });
  XML_SetCharacterDataHandler(parser, [](void* arg, const XML_Char* s, int len) {
    of<Handler>(arg)->text(std::string_view(s, static_cast<std::size_t>(len)));
  });
  refuse_dtd(parser);
}

// A whole small part, parsed with callbacks on `Handler` (start, end, text).
template <class Handler>
bool parse_part(const Archive& archive, const std::string& part, Handler& handler,
                std::string& error) {
  auto entry = archive.open(part, error);
  if (!entry) {
    return false;
  }
  XML_Parser parser = XML_ParserCreate("UTF-8");
  if (parser == nullptr) {
    throw std::bad_alloc();
  }
  set_callbacks(parser, handler);
  std::string chunk(chunk_size(*entry), '\0');
  bool ok = true;
  for (;;) {
    const std::int64_t n = entry->read(chunk.data(), chunk.size());
    if (n < 0) {
      error = fmt::format("the workbook's part '{}' is damaged (zip: {})", part, entry->error());
      ok = false;
      break;
    }
    if (XML_Parse(parser, chunk.data(), static_cast<int>(n), n == 0) == XML_STATUS_ERROR) {
      error = parse_error(parser, part);
      ok = false;
      break;
    }
    if (n == 0) {
      break;
    }
  }
  XML_ParserFree(parser);
  return ok;
}

struct WorkbookHandler {
  struct Listed {
    std::string name;
    std::string id;
  };
  std::vector<Listed> sheets;
  bool date1904 = false;
  void start(std::string_view name, const XML_Char** atts) {
    if (name == "sheet") {
      const XML_Char* sheet_name = attribute(atts, "name");
      const XML_Char* id = attribute(atts, "id");
      sheets.push_back({sheet_name ? sheet_name : "", id ? id : ""});
    } else if (name == "workbookPr") {
      date1904 = truthy(attribute(atts, "date1904"));
    }
  }
  void end(std::string_view) {}
  void text(std::string_view) {}
};

struct RelsHandler {
  std::vector<std::pair<std::string, std::string>> targets;  // id, target
  void start(std::string_view name, const XML_Char** atts) {
    if (name != "Relationship") {
      return;
    }
    const XML_Char* id = attribute(atts, "Id");
    const XML_Char* target = attribute(atts, "Target");
    if (id && target) {
      targets.emplace_back(id, target);
    }
  }
  void end(std::string_view) {}
  void text(std::string_view) {}
};

struct SharedStringsHandler {
  explicit SharedStringsHandler(SharedStrings& strings) : out(strings) {}
  SharedStrings& out;
  std::string current;
  bool in_si = false;
  bool in_t = false;
  int in_phonetic = 0;  // <rPh> holds a reading guide, not text
  void start(std::string_view name, const XML_Char**) {
    if (name == "si") {
      in_si = true;
      current.clear();
    } else if (name == "rPh") {
      ++in_phonetic;
    } else if (name == "t" && in_si && in_phonetic == 0) {
      in_t = true;
    }
  }
  void end(std::string_view name) {
    if (name == "si") {
      out.add(current);
      in_si = false;
    } else if (name == "rPh") {
      --in_phonetic;
    } else if (name == "t") {
      in_t = false;
    }
  }
  void text(std::string_view s) {
    if (in_t) {
      current += s;
    }
  }
};

}  // namespace

std::optional<WorkbookInfo> read_workbook(const Archive& archive, std::string& error) {
  if (!archive.has("xl/workbook.xml")) {
    error = "the file is a zip archive but not an Excel workbook (it has no xl/workbook.xml)";
    return std::nullopt;
  }
  WorkbookHandler workbook;
  if (!parse_part(archive, "xl/workbook.xml", workbook, error)) {
    return std::nullopt;
  }
  RelsHandler rels;
  if (!parse_part(archive, "xl/_rels/workbook.xml.rels", rels, error)) {
    return std::nullopt;
  }
  WorkbookInfo info;
  info.date1904 = workbook.date1904;
  for (const auto& sheet : workbook.sheets) {
    std::string part;
    for (const auto& [id, target] : rels.targets) {
      if (id != sheet.id) {
        continue;
      }
      part = !target.empty() && target[0] == '/' ? target.substr(1) : "xl/" + target;
    }
    if (part.empty()) {
      error = fmt::format("the workbook lists sheet '{}' but not where it is", sheet.name);
      return std::nullopt;
    }
    info.sheets.push_back({sheet.name, part});
  }
  return info;
}

bool read_shared_strings(const Archive& archive, SharedStrings& out, std::string& error) {
  if (!archive.has("xl/sharedStrings.xml")) {
    return true;
  }
  SharedStringsHandler handler(out);
  return parse_part(archive, "xl/sharedStrings.xml", handler, error);
}

namespace {

// How a cell's t attribute says its value is stored.
enum class Stored { kNumber, kShared, kInline, kBool, kError, kIsoDate };

Stored stored_as(const XML_Char* t) {
  if (t == nullptr) {
    return Stored::kNumber;
  }
  if (t[0] != '\0' && t[1] == '\0') {  // the usual case, one letter
    switch (t[0]) {
      case 's':
        return Stored::kShared;
      case 'b':
        return Stored::kBool;
      case 'e':
        return Stored::kError;
      case 'd':
        return Stored::kIsoDate;
      default:
        return Stored::kNumber;
    }
  }
  const std::string_view type(t);
  return type == "inlineStr" || type == "str" ? Stored::kInline : Stored::kNumber;
}

}  // namespace

// The sheet's expat callbacks: a row is built in place in the owner's ready_ list (at index
// ready_end_) and counted there at </row>. The rows and their cells' strings are used again
// for later rows, so a sheet of many rows allocates little after its first chunk.
struct SheetRows::Handler {
  explicit Handler(SheetRows& owner) : rows(owner) {}
  SheetRows& rows;
  bool in_row = false;
  bool in_cell = false;
  bool collecting = false;  // inside <v>, or <t> of an inline string
  int in_phonetic = 0;
  std::size_t last_row = 0;
  std::size_t column = 0;
  std::size_t width = 0;  // the current row's cells: one past its last written column
  Stored stored = Stored::kNumber;
  std::string value;

  Row& row() { return rows.ready_[rows.ready_end_]; }

  void start(std::string_view name, const XML_Char** atts) {
    if (name == "c" && in_row) {
      const XML_Char* reference = nullptr;
      const XML_Char* t = nullptr;
      for (std::size_t i = 0; atts[i] != nullptr; i += 2) {
        const std::string_view attribute = local_name(atts[i]);
        if (attribute == "r") {
          reference = atts[i + 1];
        } else if (attribute == "t") {
          t = atts[i + 1];
        }
      }
      const auto at = reference ? column_of(letters_of(reference)) : std::nullopt;
      column = at ? *at : width;
      stored = stored_as(t);
      value.clear();
      in_cell = true;
    } else if (in_cell && (name == "v" || (name == "t" && in_phonetic == 0))) {
      collecting = true;
    } else if (name == "rPh") {
      ++in_phonetic;
    } else if (name == "row") {
      start_row(atts);
    } else if (name == "col") {
      hide_columns(atts);
    }
  }
  void start_row(const XML_Char** atts) {
    if (rows.ready_end_ == rows.ready_.size()) {
      rows.ready_.emplace_back();
    }
    Row& current = row();
    const auto number = to_size(attribute(atts, "r"));
    current.number = number ? *number : last_row + 1;
    current.hidden = truthy(attribute(atts, "hidden"));
    for (Cell& cell : current.cells) {
      cell.type = Cell::Type::kEmpty;
      cell.text.clear();
    }
    width = 0;
    in_row = true;
  }
  void hide_columns(const XML_Char** atts) {
    const auto min = to_size(attribute(atts, "min"));
    const auto max = to_size(attribute(atts, "max"));
    if (truthy(attribute(atts, "hidden")) && min && max && *min >= 1 && *max >= *min &&
        *max <= 16384) {
      if (rows.hidden_columns_.size() < *max) {
        rows.hidden_columns_.resize(*max);
      }
      for (std::size_t i = *min; i <= *max; ++i) {
        rows.hidden_columns_[i - 1] = true;
      }
    }
  }
  void end(std::string_view name) {
    if (name == "v" || name == "t") {
      collecting = false;
    } else if (name == "rPh") {
      --in_phonetic;
    } else if (name == "c" && in_cell) {
      in_cell = false;
      store_cell();
    } else if (name == "row" && in_row) {
      in_row = false;
      Row& current = row();
      last_row = current.number;
      current.cells.resize(width);
      if (width > 0) {
        ++rows.ready_end_;
      }
    }
  }
  void text(std::string_view s) {
    if (collecting) {
      value += s;
    }
  }
  void store_cell() {
    std::vector<Cell>& cells = row().cells;
    if (cells.size() <= column) {
      cells.resize(column + 1);
    }
    width = std::max(width, column + 1);
    Cell& cell = cells[column];
    switch (stored) {
      case Stored::kShared:
        if (const auto index = to_size(std::string_view(value));
            index && *index < rows.strings_.size()) {
          cell.type = Cell::Type::kText;
          cell.text.assign(rows.strings_.at(*index));
        } else {
          cell.type = Cell::Type::kError;
          cell.text = value.empty() ? "a shared string with no index" : "a shared string missing";
        }
        return;
      case Stored::kInline:
        cell.type = Cell::Type::kText;
        cell.text = value;
        return;
      default:
        break;
    }
    if (value.empty()) {
      cell.type = Cell::Type::kEmpty;
      cell.text.clear();
      return;
    }
    switch (stored) {
      case Stored::kBool:
        cell.type = Cell::Type::kBool;
        cell.text = value == "1" || value == "true" ? "TRUE" : "FALSE";
        return;
      case Stored::kError:
        cell.type = Cell::Type::kError;
        break;
      case Stored::kIsoDate:
        cell.type = Cell::Type::kIsoDate;
        break;
      default:
        cell.type = Cell::Type::kNumber;
        break;
    }
    cell.text = value;
  }
};

SheetRows::SheetRows(const Archive& archive, const SheetInfo& sheet, const SharedStrings& strings)
    : strings_(strings), handler_(std::make_unique<Handler>(*this)) {
  std::string error;
  auto entry = archive.open(sheet.part, error);
  if (!entry) {
    error_ = error;
    done_ = true;
    return;
  }
  parser_ = XML_ParserCreate("UTF-8");
  if (parser_ == nullptr) {
    throw std::bad_alloc();
  }
  set_callbacks(parser_, *handler_);
  part_ = sheet.part;
  const std::size_t chunk = chunk_size(*entry);
  entry_ = std::make_unique<ReadAhead>(std::move(entry), chunk);
}

SheetRows::~SheetRows() {
  if (parser_ != nullptr) {
    XML_ParserFree(parser_);
  }
}

bool SheetRows::feed() {
  const char* data = nullptr;
  const std::int64_t n = entry_->next(data);
  if (n < 0) {
    error_ = fmt::format("the workbook's part '{}' is damaged (zip: {})", part_, entry_->error());
    done_ = true;
    return false;
  }
  if (XML_Parse(parser_, data, static_cast<int>(n), n == 0) == XML_STATUS_ERROR) {
    error_ = parse_error(parser_, part_);
    done_ = true;
    return false;
  }
  if (n == 0) {
    done_ = true;
  }
  return true;
}

bool SheetRows::next(Row& row) {
  while (ready_begin_ == ready_end_ && !done_) {
    // All given out: start the list again, keeping a row begun in the last chunk (it is at
    // ready_end_) as the first.
    if (ready_end_ > 0 && ready_end_ < ready_.size()) {
      std::swap(ready_[0], ready_[ready_end_]);
    }
    ready_begin_ = ready_end_ = 0;
    feed();
  }
  if (ready_begin_ == ready_end_) {
    return false;
  }
  // A swap, not a move: the caller's previous row goes back to be filled again.
  std::swap(row, ready_[ready_begin_++]);
  return true;
}

}  // namespace ingest::xlsx
