// libFuzzer harness: the Annex A workbook reader (ingest/workbook_reader.cpp over xlsx.h: libzip,
// then expat on workbook.xml, its relationships, the shared strings and a sheet streamed).
// An input starting "PK" is a whole .xlsx file, read as the inbox would. Any other input is the
// workbook's XML, the parts separated by NUL bytes: the sheet, then (optional) the shared
// strings, workbook.xml and its relationships; parts left out or empty get a workbook that lists
// the Annex A lists 4-8, all on that one sheet, and no shared strings. The parts are zipped here
// (stored, uncompressed), so the mutations reach the XML rather than dying in the zip's checksums.
// The source is the built-in Annex A profile whose key header the input mentions (List 4 and 5
// have a date in their key), else one chosen by the input's length. Checks: reader_checks.h.
#include <zip.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "tests/fuzz/reader_checks.h"

namespace {

constexpr std::string_view kWorkbook =
    R"(<?xml version="1.0" encoding="UTF-8" standalone="yes"?>)"
    R"(<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" )"
    R"(xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">)"
    R"(<workbookPr/><sheets><sheet name="List 4" sheetId="1" r:id="rId1"/>)"
    R"(<sheet name="List 5" sheetId="2" r:id="rId1"/><sheet name="List_6" sheetId="3" r:id="rId1"/>)"
    R"(<sheet name="List 7 - Child Protection" sheetId="4" r:id="rId1"/>)"
    R"(<sheet name="List 8" sheetId="5" r:id="rId1"/></sheets></workbook>)";
constexpr std::string_view kRels =
    R"(<?xml version="1.0" encoding="UTF-8" standalone="yes"?>)"
    R"(<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">)"
    R"(<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/)"
    R"(relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>)";

std::vector<rules::Source> make_sources() {
  std::string text = "[service]\nstate_dir = \"/nonexistent/casewatch-fuzz\"\n";
  for (const int list : {4, 5, 6, 7, 8}) {
    text += "[[source]]\nname = \"list-" + std::to_string(list) + "\"\nprofile = \"annex-a/list-" +
            std::to_string(list) + "\"\n";
  }
  return config::parse_config(text, "/nonexistent/casewatch-fuzz/casewatch.toml").rules.sources;
}

// The source whose key header (beyond the child's id) the input names, else by length.
const rules::Source& pick(const std::vector<rules::Source>& sources, std::string_view bytes) {
  static const std::array<std::string_view, 5> marks = {"Continuous Assessment",
                                                        "Strategy discussion", "CIN Start",
                                                        "Protection Plan Start", "Looked After"};
  for (std::size_t i = 0; i < marks.size(); ++i) {
    if (bytes.find(marks[i]) != std::string_view::npos) return sources[i];
  }
  return sources[bytes.size() % sources.size()];
}

// A stored zip of `parts` (name, content), in memory.
std::string zip_parts(const std::vector<std::pair<const char*, std::string_view>>& parts) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* buffer = zip_source_buffer_create(nullptr, 0, 0, &error);
  fuzz::check(buffer != nullptr);
  zip_source_keep(buffer);
  zip_t* archive = zip_open_from_source(buffer, ZIP_TRUNCATE, &error);
  fuzz::check(archive != nullptr);
  for (const auto& [name, content] : parts) {
    zip_source_t* source = zip_source_buffer(archive, content.data(), content.size(), 0);
    const zip_int64_t index = zip_file_add(archive, name, source, ZIP_FL_OVERWRITE);
    fuzz::check(index >= 0);
    zip_set_file_compression(archive, static_cast<zip_uint64_t>(index), ZIP_CM_STORE, 0);
  }
  fuzz::check(zip_close(archive) == 0);
  std::string bytes;
  fuzz::check(zip_source_open(buffer) == 0);
  fuzz::check(zip_source_seek(buffer, 0, SEEK_END) == 0);
  bytes.resize(static_cast<std::size_t>(zip_source_tell(buffer)));
  fuzz::check(zip_source_seek(buffer, 0, SEEK_SET) == 0);
  fuzz::check(zip_source_read(buffer, bytes.data(), bytes.size()) ==
              static_cast<zip_int64_t>(bytes.size()));
  zip_source_close(buffer);
  zip_source_free(buffer);
  zip_error_fini(&error);
  return bytes;
}

std::string workbook_of(std::string_view input) {
  std::array<std::string_view, 4> parts{};
  std::size_t given = 0;
  while (given < parts.size()) {
    const auto nul = input.find('\0');
    parts[given++] = input.substr(0, nul);
    if (nul == std::string_view::npos) break;
    input.remove_prefix(nul + 1);
  }
  std::vector<std::pair<const char*, std::string_view>> entries = {
      {"xl/worksheets/sheet1.xml", parts[0]},
      {"xl/workbook.xml", parts[2].empty() ? kWorkbook : parts[2]},
      {"xl/_rels/workbook.xml.rels", parts[3].empty() ? kRels : parts[3]}};
  if (!parts[1].empty()) entries.push_back({"xl/sharedStrings.xml", parts[1]});
  return zip_parts(entries);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<rules::Source> sources = make_sources();
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const rules::Source& source = pick(sources, input);
  if (input.substr(0, 2) == "PK") {
    // A deflated part can hold far more rows than the zip has bytes; the timeout bounds loops.
    fuzz::read_all(std::string(input), source, std::size_t{1} << 24);
  } else {
    // Each row needs a <row> of its own (five bytes), after expat's expansion of any internal
    // entities (see reader_checks.h).
    fuzz::read_all(workbook_of(input), source, fuzz::expanded_bound(size) / 5 + 1);
  }
  return 0;
}
