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

// An element or attribute name without its namespace prefix ("x:row" -> "row").
std::string_view local_name(const XML_Char* name) {
  std::string_view view(name);
  const auto colon = view.rfind(':');
  return colon == std::string_view::npos ? view : view.substr(colon + 1);
}

const XML_Char* attribute(const XML_Char** atts, std::string_view name) {
  for (std::size_t i = 0; atts[i] != nullptr; i += 2) {
    if (local_name(atts[i]) == name) {
      return atts[i + 1];
    }
  }
  return nullptr;
}

bool truthy(const XML_Char* value) {
  return value != nullptr && (std::strcmp(value, "1") == 0 || std::strcmp(value, "true") == 0);
}

std::optional<std::size_t> to_size(const XML_Char* value) {
  if (value == nullptr) {
    return std::nullopt;
  }
  std::size_t n = 0;
  const char* end = value + std::strlen(value);
  const auto [ptr, ec] = std::from_chars(value, end, n);
  if (ec != std::errc() || ptr != end) {
    return std::nullopt;
  }
  return n;
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

// The sheet's expat callbacks: a row is complete at </row> and queued for next().
struct SheetRows::Handler {
  explicit Handler(SheetRows& owner) : rows(owner) {}
  SheetRows& rows;
  Row row;
  bool in_row = false;
  bool in_cell = false;
  bool collecting = false;  // inside <v>, or <t> of an inline string
  int in_phonetic = 0;
  std::size_t last_row = 0;
  std::size_t column = 0;
  std::string type;  // the cell's t attribute
  std::string value;

  void start(std::string_view name, const XML_Char** atts) {
    if (name == "c" && in_row) {
      const XML_Char* reference = attribute(atts, "r");
      const auto at = reference ? column_of(reference) : std::nullopt;
      column = at ? *at : row.cells.size();
      const XML_Char* t = attribute(atts, "t");
      type = t ? t : "n";
      value.clear();
      in_cell = true;
    } else if (in_cell && (name == "v" || (name == "t" && in_phonetic == 0))) {
      collecting = true;
    } else if (name == "rPh") {
      ++in_phonetic;
    } else if (name == "row") {
      const auto number = to_size(attribute(atts, "r"));
      row.number = number ? *number : last_row + 1;
      row.hidden = truthy(attribute(atts, "hidden"));
      row.cells.clear();
      in_row = true;
    } else if (name == "col") {
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
      last_row = row.number;
      if (!row.cells.empty()) {
        rows.ready_.push_back(std::move(row));
      }
      row = Row{};
    }
  }
  void text(std::string_view s) {
    if (collecting) {
      value += s;
    }
  }
  void store_cell() {
    if (row.cells.size() <= column) {
      row.cells.resize(column + 1);
    }
    Cell& cell = row.cells[column];
    if (type == "s") {
      const auto index = to_size(value.c_str());
      if (index && *index < rows.strings_.size()) {
        cell.type = Cell::Type::kText;
        cell.text.assign(rows.strings_.at(*index));
      } else {
        cell.type = Cell::Type::kError;
        cell.text = value.empty() ? "a shared string with no index" : "a shared string missing";
      }
    } else if (type == "inlineStr" || type == "str") {
      cell.type = Cell::Type::kText;
      cell.text = value;
    } else if (value.empty()) {
      cell.type = Cell::Type::kEmpty;
      cell.text.clear();
    } else if (type == "b") {
      cell.type = Cell::Type::kBool;
      cell.text = value == "1" || value == "true" ? "TRUE" : "FALSE";
    } else if (type == "e") {
      cell.type = Cell::Type::kError;
      cell.text = value;
    } else if (type == "d") {
      cell.type = Cell::Type::kIsoDate;
      cell.text = value;
    } else {
      cell.type = Cell::Type::kNumber;
      cell.text = value;
    }
  }
};

SheetRows::SheetRows(const Archive& archive, const SheetInfo& sheet, const SharedStrings& strings)
    : strings_(strings), handler_(std::make_unique<Handler>(*this)) {
  std::string error;
  entry_ = archive.open(sheet.part, error);
  if (!entry_) {
    error_ = error;
    done_ = true;
    return;
  }
  parser_ = XML_ParserCreate("UTF-8");
  if (parser_ == nullptr) {
    throw std::bad_alloc();
  }
  set_callbacks(parser_, *handler_);
  chunk_.resize(chunk_size(*entry_));
  part_ = sheet.part;
}

SheetRows::~SheetRows() {
  if (parser_ != nullptr) {
    XML_ParserFree(parser_);
  }
}

bool SheetRows::feed() {
  const std::int64_t n = entry_->read(chunk_.data(), chunk_.size());
  if (n < 0) {
    error_ = fmt::format("the workbook's part '{}' is damaged (zip: {})", part_, entry_->error());
    done_ = true;
    return false;
  }
  if (XML_Parse(parser_, chunk_.data(), static_cast<int>(n), n == 0) == XML_STATUS_ERROR) {
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
  while (ready_.empty() && !done_) {
    feed();
  }
  if (ready_.empty()) {
    return false;
  }
  row = std::move(ready_.front());
  ready_.pop_front();
  return true;
}

}  // namespace ingest::xlsx
