// The Annex A workbook reader on workbooks generated here with libxlsxwriter.
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "ingest/ingest.h"
#include "ingest/xlsx.h"
#include "tests/ingest/reader_support.h"
#include "tests/support/peer_data.h"
#include "tests/support/temp_dir.h"
#include "tests/support/workbook.h"

namespace {

using test_support::XlsxCell;
using test_support::XlsxSheet;

// Annex A List 6, the columns casewatch reads.
rules::Source list6_source() {
  rules::Source source;
  source.name = "children-in-need";
  source.format = rules::Format::kXlsx;
  source.sheet = "List 6";
  source.key = {"Child Unique ID"};
  source.fields = {{"opened", {"CIN Start Date"}, true},
                   {"closed", {"CIN Closure Date"}, true},
                   {"status", {"Case Status", "Case status"}, false},
                   {"team", {"Allocated Team"}, false},
                   {"worker", {"Allocated Worker"}, false}};
  return source;
}

const std::vector<XlsxCell> kList6Header = {"Child Unique ID",
                                            "Gender",
                                            "Ethnicity",
                                            "Date of Birth",
                                            "Age",
                                            "Does the Child have a Disability",
                                            "CIN Start Date",
                                            "Primary Need Code",
                                            "Date Child Was Last Seen",
                                            "CIN Closure Date",
                                            "Reason for Closure",
                                            "Case Status",
                                            "Allocated Team",
                                            "Allocated Worker"};

std::vector<XlsxCell> list6_row(XlsxCell id, XlsxCell start, XlsxCell closed, XlsxCell team,
                                XlsxCell worker) {
  return {std::move(id),
          "b) Female",
          "a) WBRI",
          XlsxCell::date(40000),
          9.5,
          "b) No",
          std::move(start),
          "N1",
          XlsxCell::date(44200),
          std::move(closed),
          XlsxCell(),
          "c) Child in need plan",
          std::move(team),
          std::move(worker)};
}

using Read = test_support::ReadResult;

Read read_file(const std::filesystem::path& file, const rules::Source& source) {
  auto reader = ingest::open_reader(file, source);
  return test_support::read_reader(*reader);
}

std::string describe(const std::vector<rules::Problem>& problems) {
  std::string out;
  for (const auto& p : problems) {
    out += std::to_string(p.line) + " [" + p.column + "] " + p.message + "\n";
  }
  return out;
}

// A cell written as the text "#N/A" (inline) becomes a real Excel error cell.
std::string make_error_cells(std::string xml) {
  return test_support::replace_all(std::move(xml), "t=\"inlineStr\"><is><t>#N/A</t></is>",
                                   "t=\"e\"><v>#N/A</v>");
}

// A List 6 of `rows` rows, many 256 KiB chunks of XML: texts from none up to 60 characters (past
// any short-string buffer), rows of different widths, hidden rows between and skipped row
// numbers; and the records and sheet lines it reads as.
struct LongList6 {
  XlsxSheet sheet{"List 6", {kList6Header}};
  std::vector<rules::Record> expected;
  std::vector<std::size_t> expected_lines;
};
LongList6 long_list6(int rows) {
  LongList6 out;
  XlsxSheet& sheet = out.sheet;
  for (int i = 0; i < rows; ++i) {
    const std::string id = "C" + std::to_string(100'000 + i);
    if (i % 997 == 5) {
      sheet.rows.emplace_back();  // an empty row: no row number in the sheet at all
      continue;
    }
    // Not in step with the widths below.
    const std::string team =
        i % 5 == 0 ? "" : "Team " + std::string(static_cast<std::size_t>(i % 56), 't');
    const std::string worker = i % 3 == 0 ? ""
                                          : "Worker " + std::to_string(i) +
                                                std::string(static_cast<std::size_t>(i % 41), 'w');
    const double start = 44000 + i % 700;  // 2020-06-18 on
    auto row = list6_row(
        id, XlsxCell::date(start), i % 11 == 0 ? XlsxCell::date(start + 30) : XlsxCell(),
        team.empty() ? XlsxCell() : XlsxCell(team), worker.empty() ? XlsxCell() : XlsxCell(worker));
    if (i % 7 == 0) {
      row.resize(12);  // ends at Case Status: no team or worker cell at all
    }
    if (i % 501 == 9) {
      sheet.hidden_rows.push_back(static_cast<int>(sheet.rows.size()));  // hidden, between
    }
    sheet.rows.push_back(row);
    const auto date = [](double serial) {
      return (*rules::Date::from_ymd(1899, 12, 30) + static_cast<int>(serial)).iso();
    };
    out.expected.push_back(
        {id,
         {date(start), i % 11 == 0 ? date(start + 30) : "", "c) Child in need plan",
          i % 7 == 0 ? "" : team, i % 7 == 0 ? "" : worker}});
    out.expected_lines.push_back(sheet.rows.size());
  }
  return out;
}

}  // namespace

TEST_CASE("Excel serial dates: the 1900 system with its 29 Feb 1900, and the 1904 system",
          "[ingest][xlsx]") {
  auto [serial, date1904, expected] = GENERATE(table<double, bool, std::string>({
      {1, false, "1900-01-01"},
      {59, false, "1900-02-28"},
      {61, false, "1900-03-01"},        // 60 is Excel's 29 Feb 1900, which never was
      {44090, false, "2020-09-16"},     // (domain.md's "44090 = 2020-09-15" is a day out)
      {44090.75, false, "2020-09-16"},  // a time of day is dropped
      {2958465, false, "9999-12-31"},
      {0, true, "1904-01-01"},
      {42628, true, "2020-09-16"},  // 1,462 days fewer than in the 1900 system
  }));
  std::string why;
  const auto date = ingest::xlsx::serial_date(serial, date1904, why);
  REQUIRE(date);
  CHECK(date->iso() == expected);
}

TEST_CASE("serial dates that are not dates say why", "[ingest][xlsx]") {
  std::string why;
  CHECK_FALSE(ingest::xlsx::serial_date(60, false, why));
  CHECK(why ==
        "the serial date 60 is 29/02/1900, a day that never was (Excel's 1900 leap-year error)");
  CHECK_FALSE(ingest::xlsx::serial_date(0, false, why));
  CHECK(why == "the serial date 0 (Excel's 00/01/1900) is not a date");
  CHECK_FALSE(ingest::xlsx::serial_date(-3, false, why));
  CHECK_FALSE(ingest::xlsx::serial_date(2958466, false, why));
}

TEST_CASE("a sheet is chosen by its list: List 6, List_6 and List 6 - Children in Need",
          "[ingest][xlsx]") {
  using ingest::xlsx::find_sheet;
  using ingest::xlsx::SheetInfo;
  const std::vector<SheetInfo> underscored = {{"List_60", ""}, {"List_6", ""}};
  CHECK(find_sheet(underscored, "List 6") == 1u);
  const std::vector<SheetInfo> titled = {{"List 60 - Other", ""},
                                         {"LIST 6 - Children in Need", ""}};
  CHECK(find_sheet(titled, "list 6") == 1u);
  const std::vector<SheetInfo> both = {{"List 6 - Children in Need", ""}, {"List 6", ""}};
  CHECK(find_sheet(both, "List 6") == 1u);  // the exact name first
  CHECK(find_sheet(titled, "List 7") == std::nullopt);
  CHECK(find_sheet(titled, "") == 0u);
  CHECK(ingest::xlsx::column_of("M12") == 12u);
  CHECK(ingest::xlsx::column_of("AH3") == 33u);
  CHECK(ingest::xlsx::column_name(33) == "AH");
  CHECK(ingest::xlsx::column_name(0) == "A");
}

TEST_CASE("an Annex A List 6 with a title row, serial and text dates and #N/A cells",
          "[ingest][xlsx]") {
  test_support::TempDir dir;
  const auto file = dir / "annex-a_2026-11-23.xlsx";
  XlsxSheet other{"List 5", {{"List 5: Section 47"}, {"Child Unique ID", "Allocated Worker"}}};
  XlsxSheet sheet{"List 6 - Children in Need", {}};
  sheet.rows.push_back({"List 6: Children in Need"});  // the template's title row
  sheet.rows.push_back(kList6Header);
  // Row 3: serial dates, allocated. Row 4: dates typed as text, worker #N/A. Row 5: a number
  // key, a closure date, team and worker #N/A. Row 6: a text date that is not a date.
  sheet.rows.push_back(
      list6_row("C001", XlsxCell::date(44090), XlsxCell(), "Locality 1", "Jo Bloggs"));
  sheet.rows.push_back(list6_row("C002", "04/01/2021", XlsxCell(), "Locality 2", "#N/A"));
  sheet.rows.push_back(
      list6_row(12598894, XlsxCell::date(40338), XlsxCell::date(44217), "#N/A", "#N/A"));
  sheet.rows.push_back(list6_row("C004", "31/02/2021", XlsxCell(), "Locality 1", "Sam Smith"));
  test_support::write_workbook(file, {other, sheet}, /*constant_memory=*/true);
  test_support::patch_part(file, "xl/worksheets/sheet2.xml", make_error_cells);

  const auto source = list6_source();
  const Read read = read_file(file, source);
  INFO(describe(read.problems));
  REQUIRE(read.header_problem == std::nullopt);
  REQUIRE(read.records.size() == 4);
  CHECK(read.records[0] ==
        rules::Record{"C001",
                      {"2020-09-16", "", "c) Child in need plan", "Locality 1", "Jo Bloggs"}});
  CHECK(read.records[1] ==
        rules::Record{"C002", {"2021-01-04", "", "c) Child in need plan", "Locality 2", ""}});
  CHECK(read.records[2] ==
        rules::Record{"12598894", {"2010-06-09", "2021-01-21", "c) Child in need plan", "", ""}});
  CHECK(read.records[3].values[0] == "31/02/2021");
  CHECK(read.lines == std::vector<std::size_t>{3, 4, 5, 6});
  CHECK(read.rows == 4);
  REQUIRE(read.problems.size() == 4);
  CHECK(read.problems[0] ==
        rules::Problem{4, "List 6 - Children in Need!N4",
                       "'Allocated Worker' is an error cell (#N/A); read as empty"});
  CHECK(read.problems[1].column == "List 6 - Children in Need!M5");
  CHECK(read.problems[2].column == "List 6 - Children in Need!N5");
  CHECK(read.problems[3] ==
        rules::Problem{6, "List 6 - Children in Need!G6",
                       "'31/02/2021' is not a date in an accepted format (%d/%m/%Y, %Y-%m-%d)"});
  // Error cells are listed but are the workbook's own (a failed VLOOKUP): only row 6 counts
  // against max_bad_rows, and 1 of 4 is over the 0.5% allowed.
  CHECK(read.problem_rows == 1);
  CHECK(read.verdict == "1 of 4 rows have problems, more than the 0.5% allowed (max_bad_rows)");
}

TEST_CASE("shared strings, booleans and the 2019 header spelling read the same", "[ingest][xlsx]") {
  test_support::TempDir dir;
  const auto file = dir / "annex.xlsx";
  auto header = kList6Header;
  header[4] = "Age of Child (Years)";
  header[11] = "Case status";
  auto row = list6_row("C9", XlsxCell::date(45000), XlsxCell(), "Team A", "Ann");
  row[5] = XlsxCell::boolean(true);
  test_support::write_workbook(file, {{"List_6", {header, row}}});
  auto source = list6_source();
  source.fields.push_back({"disabled", {"Does the Child have a Disability"}, false});
  const Read read = read_file(file, source);
  REQUIRE(read.header_problem == std::nullopt);
  REQUIRE(read.records.size() == 1);
  CHECK(read.records[0] ==
        rules::Record{"C9", {"2023-03-15", "", "c) Child in need plan", "Team A", "Ann", "TRUE"}});
  CHECK(read.verdict == std::nullopt);
}

TEST_CASE("a 1904-system workbook reads its serial dates from 1 Jan 1904", "[ingest][xlsx]") {
  test_support::TempDir dir;
  const auto file = dir / "mac.xlsx";
  test_support::write_workbook(
      file,
      {{"List 6", {kList6Header, list6_row("C1", XlsxCell::date(42627), XlsxCell(), "T", "W")}}});
  // libxlsxwriter cannot set the 1904 flag: set it in workbook.xml.
  test_support::patch_part(file, "xl/workbook.xml", [](std::string xml) {
    REQUIRE(xml.find("<workbookPr") != std::string::npos);
    return test_support::replace_all(std::move(xml), "<workbookPr", "<workbookPr date1904=\"1\"");
  });
  const Read read = read_file(file, list6_source());
  REQUIRE(read.records.size() == 1);
  CHECK(read.records[0].values[0] == "2020-09-15");
}

TEST_CASE("hidden trailing rows and columns are ignored; a hidden row between is read",
          "[ingest][xlsx]") {
  test_support::TempDir dir;
  const auto file = dir / "hidden.xlsx";
  auto header = kList6Header;
  header.push_back("lookup helper");  // column O, hidden
  XlsxSheet sheet{"List 6", {header}};
  for (const char* id : {"A1", "A2", "A3", "A4"}) {
    auto row = list6_row(id, XlsxCell::date(45000), XlsxCell(), "T", "W");
    row.push_back("=VLOOKUP failed");
    sheet.rows.push_back(row);
  }
  sheet.rows.push_back(list6_row("A5", "not a date", XlsxCell(), "T", "W"));  // hidden, trailing
  sheet.hidden_rows = {2, 5};  // A2 (between visible rows) and A5
  sheet.hidden_columns = {14};
  test_support::write_workbook(file, {sheet});
  auto source = list6_source();
  source.fields.push_back({"helper", {"lookup helper"}, false});
  CHECK(read_file(file, source).header_problem ==
        "sheet 'List 6', header row 1: column 'lookup helper' (field 'helper') is missing; the "
        "file has columns: Child Unique ID, Gender, Ethnicity, Date of Birth, Age, Does the Child "
        "have a Disability, CIN Start Date, Primary Need Code, Date Child Was Last Seen, CIN "
        "Closure Date, Reason for Closure, Case Status, Allocated Team, Allocated Worker");
  const Read read = read_file(file, list6_source());
  std::vector<std::string> keys;
  for (const auto& r : read.records) {
    keys.push_back(r.key);
  }
  CHECK(keys == std::vector<std::string>{"A1", "A2", "A3", "A4"});
  CHECK(read.problems.empty());
  CHECK(read.verdict == std::nullopt);
}

TEST_CASE("a sheet many chunks long reads every row as written, wherever the chunks end",
          "[ingest][xlsx]") {
  // The sheet is inflated a chunk (256 KiB) at a time on a thread of its own, and its rows and
  // their cells are filled again for later rows: rows that cross the ends of chunks, a row with
  // long text after one with none and the other way round, short rows, hidden rows between and
  // skipped row numbers must each read as written.
  test_support::TempDir dir;
  const auto file = dir / "long.xlsx";
  const LongList6 list = long_list6(12'000);
  const auto& expected = list.expected;
  const auto& expected_lines = list.expected_lines;
  test_support::write_workbook(file, {list.sheet});
  std::string error;
  const auto archive = ingest::xlsx::Archive::open_file(file, error);
  REQUIRE(archive);
  const auto part = archive->open("xl/worksheets/sheet1.xml", error);
  REQUIRE(part);
  INFO("the sheet's XML: " << part->stated_size() << " bytes");
  REQUIRE(part->stated_size() > std::uint64_t{8} * 256 * 1024);  // eight chunks and more

  const Read read = read_file(file, list6_source());
  INFO(describe(read.problems));
  REQUIRE(read.header_problem == std::nullopt);
  CHECK(read.problems.empty());
  CHECK(read.verdict == std::nullopt);
  REQUIRE(read.records.size() == expected.size());
  std::size_t unequal = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    if (!(read.records[i] == expected[i]) || read.lines[i] != expected_lines[i]) {
      if (unequal++ < 3) {
        CHECK(read.records[i] == expected[i]);
        CHECK(read.lines[i] == expected_lines[i]);
      }
    }
  }
  CHECK(unequal == 0);
}

TEST_CASE(
    "a sheet read ahead on a thread of its own gives its bytes in order and stops when dropped",
    "[ingest][xlsx]") {
  test_support::TempDir dir;
  const auto file = dir / "long.xlsx";
  test_support::write_workbook(file, {long_list6(6'000).sheet});
  std::string error;
  const auto archive = ingest::xlsx::Archive::open_file(file, error);
  REQUIRE(archive);
  const std::string part = "xl/worksheets/sheet1.xml";
  const auto read_direct = [&] {
    auto entry = archive->open(part, error);
    REQUIRE(entry);
    std::string bytes;
    std::string chunk(65'536, '\0');
    for (std::int64_t n; (n = entry->read(chunk.data(), chunk.size())) > 0;) {
      bytes.append(chunk.data(), static_cast<std::size_t>(n));
    }
    return bytes;
  };
  const std::string direct = read_direct();
  REQUIRE(direct.size() > std::size_t{4} * 65'536);

  std::string ahead;
  std::size_t chunks = 0;
  {
    ingest::xlsx::ReadAhead reader(archive->open(part, error), 65'536);
    const char* data = nullptr;
    for (std::int64_t n; (n = reader.next(data)) > 0; ++chunks) {
      ahead.append(data, static_cast<std::size_t>(n));
    }
    CHECK(reader.next(data) == 0);  // the end, again
  }
  CHECK(chunks > 4);
  CHECK(ahead == direct);

  // A chunk larger than the entry: read on this thread, the same bytes.
  {
    ingest::xlsx::ReadAhead reader(archive->open(part, error), direct.size() + 1);
    const char* data = nullptr;
    std::string whole;
    for (std::int64_t n; (n = reader.next(data)) > 0;) {
      whole.append(data, static_cast<std::size_t>(n));
    }
    CHECK(reader.next(data) == 0);
    CHECK(whole == direct);
  }

  // Dropped after its first chunk, while its thread waits for a buffer to come back: it stops,
  // and the archive is free again for whatever reads it next.
  {
    ingest::xlsx::ReadAhead reader(archive->open(part, error), 4096);
    const char* data = nullptr;
    REQUIRE(reader.next(data) == 4096);
    CHECK(std::string_view(data, 4096) == std::string_view(direct).substr(0, 4096));
  }
  CHECK(read_direct() == direct);
}

TEST_CASE("a sheet whose bytes fail the zip's checksum at its end is rejected, naming the part",
          "[ingest][xlsx]") {
  // libzip finds the damage only once the whole entry is inflated: the error comes through the
  // read-ahead thread after every chunk has been parsed.
  test_support::TempDir dir;
  const auto whole = dir / "whole.xlsx";
  test_support::write_workbook(whole, {long_list6(6'000).sheet});
  std::string bytes = test_support::read_file(whole);
  // The sheet's CRC-32 in its local header (at 14) and its central directory entry (at 16),
  // each found 30 and 46 bytes before the entry's name.
  const std::string part = "xl/worksheets/sheet1.xml";
  const std::size_t local = bytes.find(part);
  const std::size_t central = bytes.find(part, local + part.size());
  REQUIRE(central != std::string::npos);
  REQUIRE(bytes.compare(local - 30, 4, "PK\x03\x04") == 0);
  REQUIRE(bytes.compare(central - 46, 4, "PK\x01\x02") == 0);
  for (const std::size_t crc : {local - 30 + 14, central - 46 + 16}) {
    bytes[crc] = static_cast<char>(bytes[crc] ^ 0x5A);
  }
  const auto file = dir.write("annex-a.xlsx", bytes);
  const Read read = read_file(file, list6_source());
  REQUIRE(read.header_problem == std::nullopt);  // the sheet reads well up to its end
  REQUIRE(read.verdict);
  CHECK(*read.verdict ==
        "sheet 'List 6' cannot be read to its end, so none of it is taken: the workbook's part "
        "'xl/worksheets/sheet1.xml' is damaged (zip: CRC error)");
}

TEST_CASE("a row that ends before a date key column is skipped as having an empty key",
          "[ingest][xlsx]") {
  // Found by tests/fuzz/xlsx_fuzz (the seed finding-list4-row-short-of-date-key): the serial
  // date check of a key column read a cell past the row's last one.
  rules::Source source;
  source.name = "assessments";
  source.format = rules::Format::kXlsx;
  source.sheet = "List 4";
  source.key = {"Child Unique ID", "Continuous Assessment Start Date"};
  source.date_formats = {"%d/%m/%Y"};
  source.fields = {{"started", {"Continuous Assessment Start Date"}, true},
                   {"team", {"Allocated Team"}, false}};
  test_support::TempDir dir;
  const auto file = dir / "list4.xlsx";
  test_support::write_workbook(
      file, {{"List 4",
              {{"Child Unique ID", "Continuous Assessment Start Date", "Allocated Team"},
               {"A1", XlsxCell::date(45200), "Team A"},  // 1 Oct 2023
               {"A2"},  // its cells stop before the key's date column
               {"A3", XlsxCell::date(45201)}}}});
  const Read read = read_file(file, source);
  INFO(describe(read.problems));
  REQUIRE(read.records.size() == 2);
  CHECK(read.records[0] == rules::Record{"A1|2023-10-01", {"2023-10-01", "Team A"}});
  CHECK(read.records[1] == rules::Record{"A3|2023-10-02", {"2023-10-02", ""}});
  REQUIRE(read.problems.size() == 1);
  CHECK(read.problems[0].line == 3);
  CHECK(read.problems[0].column == "List 4!B3");
  CHECK(read.problems[0].message ==
        "key column 'Continuous Assessment Start Date' is empty; the row is skipped");
}

TEST_CASE("a workbook without the list is rejected, naming the list and the sheets it has",
          "[ingest][xlsx]") {
  test_support::TempDir dir;
  const auto file = dir / "annex.xlsx";
  test_support::write_workbook(file, {{"List 4", {{"Child Unique ID"}}}, {"List 5", {{"x"}}}});
  const Read read = read_file(file, list6_source());
  CHECK(read.header_problem == "the workbook has no sheet 'List 6' (its sheets: List 4, List 5)");
  CHECK(read.verdict == read.header_problem);
  CHECK(read.records.empty());
}

TEST_CASE("a sheet without the key column says which row it looked at", "[ingest][xlsx]") {
  test_support::TempDir dir;
  const auto file = dir / "annex.xlsx";
  test_support::write_workbook(file,
                               {{"List 6", {{"List 6: Children in Need"}, {"ID", "Worker"}}}});
  CHECK(read_file(file, list6_source()).header_problem ==
        "sheet 'List 6' has no header row in its first 20 rows that holds the key column 'Child "
        "Unique ID'; its first row has: List 6: Children in Need");
}

TEST_CASE("a corrupt zip and a truncated sheet are rejected with a clear reason",
          "[ingest][xlsx]") {
  test_support::TempDir dir;
  const auto source = list6_source();
  SECTION("not a zip at all") {
    const auto file = dir.write("annex.xlsx", "Child Unique ID,Allocated Worker\nC1,Jo\n");
    const Read read = read_file(file, source);
    REQUIRE(read.header_problem);
    CHECK(*read.header_problem ==
          "the file is not a readable .xlsx workbook (zip: Not a zip archive)");
  }
  SECTION("a zip cut in half") {
    const auto whole = dir / "whole.xlsx";
    test_support::write_workbook(whole, {{"List 6", {kList6Header}}});
    std::ifstream in(whole, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    const auto file = dir.write("annex.xlsx", bytes.substr(0, bytes.size() / 2));
    const Read read = read_file(file, source);
    REQUIRE(read.header_problem);
    CHECK(read.header_problem->starts_with("the file is not a readable .xlsx workbook (zip: "));
    // The same bytes in memory (the entry point fuzzing uses) say the same.
    auto reader = ingest::open_reader(bytes.substr(0, bytes.size() / 2), source);
    CHECK(reader->header_problem() == read.header_problem);
  }
  SECTION("a sheet whose XML is cut short") {
    const auto file = dir / "annex.xlsx";
    XlsxSheet sheet{"List 6", {kList6Header}};
    for (int i = 0; i < 50; ++i) {
      sheet.rows.push_back(
          list6_row("C" + std::to_string(i), XlsxCell::date(45000), XlsxCell(), "T", "W"));
    }
    test_support::write_workbook(file, {sheet});
    test_support::patch_part(file, "xl/worksheets/sheet1.xml", [](const std::string& xml) {
      return xml.substr(0, xml.find("<row r=\"30\""));
    });
    const Read read = read_file(file, source);
    CHECK(read.header_problem == std::nullopt);
    CHECK(read.records.size() == 28);  // rows 2-29 were read before the XML stopped
    REQUIRE(read.verdict);
    CHECK(read.verdict->starts_with(
        "sheet 'List 6' cannot be read to its end, so none of it is taken: the workbook's part "
        "'xl/worksheets/sheet1.xml' is not well-formed XML at line 2, column "));
    CHECK(read.verdict->ends_with("(no element found): the workbook is damaged or cut short"));
  }
}

TEST_CASE("the public fake Annex A workbook: List 6 with #N/A workers, List 4 assessments",
          "[ingest][xlsx][peer-data]") {
  CASEWATCH_REQUIRE_PEER_DATA(file, "liia-tools-pipeline/Annex_A_2024_Jan.xlsx");
  const auto source = list6_source();
  const Read read = read_file(file, source);
  REQUIRE(read.header_problem == std::nullopt);
  REQUIRE(read.records.size() == 5);
  // Row 2: 12598894, CIN Start Date 40338 (09/06/2010), no closure, c) Child in need plan, #N/A.
  CHECK(read.records[0] ==
        rules::Record{"12598894", {"2010-06-09", "", "c) Child in need plan", "", ""}});
  CHECK(read.records[4].key == "6434087");
  CHECK(read.records[4].values[0] == "2017-03-26");  // 42820
  CHECK(read.problems.size() == 10);                 // team and worker on each of the 5 rows
  CHECK(read.problems[0].column == "List 6!M2");
  CHECK(read.problem_rows == 0);
  CHECK(read.verdict == std::nullopt);

  rules::Source list4;
  list4.format = rules::Format::kXlsx;
  list4.sheet = "List_4";
  list4.key = {"Child Unique ID", "Continuous Assessment Start Date"};
  list4.fields = {{"started", {"Continuous Assessment Start Date"}, true},
                  {"authorised", {"Continuous Assessment Date of Authorisation"}, true}};
  const Read assessments = read_file(file, list4);
  REQUIRE(assessments.records.size() == 5);
  // 10692868: started 43601 (16/05/2019), authorised 44235 (08/02/2021).
  CHECK(assessments.records[0] ==
        rules::Record{"10692868|2019-05-16", {"2019-05-16", "2021-02-08"}});
  CHECK(assessments.verdict == std::nullopt);
}

TEST_CASE("a workbook part that declares a DTD is refused, naming the part, never expanded",
          "[ingest][xlsx]") {
  // No part of a workbook has a DTD; entities are how an XML bomb or an external entity gets in.
  // Without the refusal, expat's amplification limit stopped the bomb and the reader called the
  // workbook "damaged or cut short".
  struct Case {
    const char* what;
    const char* dtd;        // written on line 2, after the XML declaration
    const char* reference;  // replaces the header cell's text
  };
  const Case cases[] = {
      {"billion laughs",
       "<!DOCTYPE worksheet [<!ENTITY a \"lol\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">"
       "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\"><!ENTITY d "
       "\"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">"
       "<!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\"><!ENTITY f "
       "\"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\">"
       "<!ENTITY g \"&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;\"><!ENTITY h "
       "\"&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;\">"
       "<!ENTITY i \"&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;\">]>",
       "&i;"},
      {"an external entity", "<!DOCTYPE worksheet [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>",
       "&x;"},
      {"a plain DOCTYPE", "<!DOCTYPE worksheet>", "Child Unique ID"},
  };
  const auto source = list6_source();
  for (const Case& c : cases) {
    for (const std::string part : {"xl/worksheets/sheet1.xml", "xl/workbook.xml"}) {
      CAPTURE(c.what, part);
      test_support::TempDir dir;
      const auto file = dir / "annex.xlsx";
      XlsxSheet sheet{"List 6", {kList6Header}};
      sheet.rows.push_back(list6_row("C1", XlsxCell::date(45000), XlsxCell(), "Team", "Worker"));
      test_support::write_workbook(file, {sheet});
      test_support::patch_part(file, part, [&](std::string xml) {
        const auto declaration_end = xml.find("?>");
        REQUIRE(declaration_end != std::string::npos);
        xml.insert(declaration_end + 2, std::string("\n") + c.dtd + "\n");
        return test_support::replace_all(std::move(xml), ">Child Unique ID<",
                                         std::string(">") + c.reference + "<");
      });
      const Read read = read_file(file, source);
      const std::string refused = "the workbook's part '" + part +
                                  "' declares a DTD (<!DOCTYPE> at line 2), which a workbook "
                                  "never has; refused";
      // Before the header row or the sheet list: the whole file is refused.
      CHECK(read.records.empty());
      CHECK(read.header_problem ==
            (part == "xl/workbook.xml" ? refused : "sheet 'List 6': " + refused));
      CHECK(read.verdict == read.header_problem);
    }
  }
}
