// ExtractReader::next(out, filter): rows offered by their raw hash before they are parsed.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "ingest/ingest.h"
#include "tests/ingest/reader_support.h"

namespace {

using Kind = ingest::RowCheck::Kind;

// Key "id", one text field "v".
rules::Source id_value_source() {
  rules::Source source;
  source.name = "simple";
  source.key = {"id"};
  source.fields = {{"value", {"v"}, false}};
  return source;
}

// Key "id", a text field "v" and a date field "d".
rules::Source id_value_date_source() {
  rules::Source source = id_value_source();
  source.fields.push_back({"date", {"d"}, true});
  return source;
}

std::string describe(const std::vector<rules::Problem>& problems) {
  std::string out;
  for (const auto& p : problems) {
    out += std::to_string(p.line) + " [" + p.column + "] " + p.message + "\n";
  }
  return out;
}

struct FilteredRead {
  std::vector<rules::Record> records;
  std::vector<std::uint64_t> hashes;  // row_hash() of each record
  std::vector<std::size_t> offered;   // lines offered to the filter
  std::vector<rules::Problem> problems;
  std::size_t rows = 0;
  std::size_t problem_rows = 0;
  std::optional<std::string> verdict;
  std::optional<rules::Date> as_of;
};

// Reads `bytes` whole through next(out, filter), where the filter is `decide`, noting what was
// offered.
FilteredRead read_filtered(
    const std::string& bytes, const rules::Source& source,
    const std::function<ingest::RowCheck(std::uint64_t, std::size_t)>& decide,
    std::size_t block_size = std::size_t{1} << 20) {
  std::istringstream in(bytes);
  ingest::ExtractReader reader(in, source, ingest::ExtractReader::Options{block_size});
  FilteredRead result;
  const ingest::RowFilter filter = [&](std::uint64_t hash, std::size_t line) {
    result.offered.push_back(line);
    return decide(hash, line);
  };
  rules::Record record;
  while (reader.next(record, filter)) {
    result.records.push_back(record);
    result.hashes.push_back(reader.row_hash());
  }
  result.problems = reader.problems();
  result.rows = reader.rows();
  result.problem_rows = reader.problem_rows();
  result.verdict = reader.verdict();
  result.as_of = reader.as_of_from_column();
  return result;
}

ingest::RowCheck read_it(std::uint64_t /*hash*/, std::size_t /*line*/) { return {}; }
ingest::RowCheck skip_it(std::uint64_t /*hash*/, std::size_t /*line*/) { return {Kind::kSkip, 0}; }

// The row hash of the only data row of `bytes`.
std::uint64_t hash_of_single_row(const std::string& bytes, const rules::Source& source) {
  const auto result = read_filtered(bytes, source, read_it);
  REQUIRE(result.hashes.size() == 1);
  return result.hashes[0];
}

// A file with most of the CSV traps, all rows clean.
const std::string kTraps =
    "id,v\n"
    "1,plain\n"
    "2,\"Smith, Jo\"\n"
    "3,\"say \"\"hi\"\"\"\n"
    "\n"
    "4,\"two\nlines\"\n"
    ",\n"
    "5,  spaced  \n"
    "6,\"\"\n"
    "7,last";

}  // namespace

TEST_CASE("a filter that skips every row leaves no records, counts the rows and keeps the file",
          "[ingest][row-filter]") {
  const auto result = read_filtered(kTraps, id_value_source(), skip_it);
  CHECK(result.offered == std::vector<std::size_t>{2, 3, 4, 6, 9, 10});
  // The last row has no newline, so it cannot be offered and is read.
  CHECK(result.records == std::vector<rules::Record>{{"7", {"last"}}});
  CHECK(result.rows == 7);
  CHECK(result.problems.empty());
  CHECK(result.verdict == std::nullopt);
}

TEST_CASE("a filter that skips every row of a file ending in a newline returns no records",
          "[ingest][row-filter]") {
  const auto result = read_filtered(kTraps + "\n", id_value_source(), skip_it);
  CHECK(result.records.empty());
  CHECK(result.rows == 7);
  CHECK(result.verdict == std::nullopt);
}

TEST_CASE("a filter that reads every row gives the records and problems of next()",
          "[ingest][row-filter]") {
  const std::string bytes =
      GENERATE(as<std::string>{}, "traps", "id,v\r\n1,a\r\n2,\"b\r\nc\"\r\n\r\n3,d\r\n",
               "id,v\n1,ab\"c\n2,b\n3,\"x\" y\n4\n5,a,b\n1,a\n1,a\n6,\"open\n7,z\n",
               "id,v\n1,caf\xE9\n ,b\n2,\"\"\"\"\n");
  CAPTURE(bytes);
  const std::string file = bytes == "traps" ? kTraps : bytes;
  const auto plain = test_support::read_all(file, id_value_source());
  const auto filtered = read_filtered(file, id_value_source(), read_it);
  CHECK(filtered.records == plain.records);
  CHECK(describe(filtered.problems) == describe(plain.problems));
  CHECK(filtered.rows == plain.rows);
  CHECK(filtered.problem_rows == plain.problem_rows);
  CHECK(filtered.verdict == plain.verdict);
}

TEST_CASE("next() without a filter gives no row hashes", "[ingest][row-filter]") {
  std::istringstream in("id,v\n1,a\n2,b\n");
  const auto source = id_value_source();
  ingest::ExtractReader reader(in, source);
  rules::Record record;
  REQUIRE(reader.next(record));
  CHECK(reader.row_hash() == 0);
  REQUIRE(reader.next(record, ingest::RowFilter{}));
  CHECK(reader.row_hash() == 0);
}

TEST_CASE("the same row under the same header and source has the same hash in any file",
          "[ingest][row-hash]") {
  const auto source = id_value_source();
  const auto first = read_filtered("id,v\n1,a\n2,b\n3,c\n", source, read_it);
  const auto second = read_filtered("id,v\n9,z\n\n3,c\n2,b\n", source, read_it);
  REQUIRE(first.hashes.size() == 3);
  REQUIRE(second.hashes.size() == 3);
  CHECK(first.hashes[1] != 0);
  CHECK(first.hashes[1] == second.hashes[2]);
  CHECK(first.hashes[2] == second.hashes[1]);
  CHECK(first.hashes[0] != second.hashes[0]);
  CHECK(first.hashes[0] != first.hashes[1]);
}

TEST_CASE("a row's hash changes with the header, the source's parsing and each byte of the row",
          "[ingest][row-hash]") {
  const auto source = id_value_date_source();
  const std::uint64_t base = hash_of_single_row("id,v,d\n1,a,04/01/2021\n", source);
  REQUIRE(base != 0);
  CHECK(hash_of_single_row("id,v,d\n1,a,04/01/2021\n", source) == base);

  SECTION("columns reordered in the header") {
    CHECK(hash_of_single_row("id,d,v\n1,04/01/2021,a\n", source) != base);
    // The same row bytes under another header.
    CHECK(hash_of_single_row("v,id,d\n1,a,04/01/2021\n", source) != base);
  }
  SECTION("a header spelt differently though it matches the same column") {
    CHECK(hash_of_single_row("ID,v,d\n1,a,04/01/2021\n", source) != base);
  }
  SECTION("a date format of the source") {
    auto other = source;
    other.date_formats = {"%d/%m/%Y"};
    CHECK(hash_of_single_row("id,v,d\n1,a,04/01/2021\n", other) != base);
  }
  SECTION("a null date of the source") {
    auto other = source;
    other.null_dates.pop_back();
    CHECK(hash_of_single_row("id,v,d\n1,a,04/01/2021\n", other) != base);
  }
  SECTION("whether a field is a date") {
    auto other = source;
    other.fields[1].is_date = false;
    CHECK(hash_of_single_row("id,v,d\n1,a,04/01/2021\n", other) != base);
  }
  SECTION("the encoding") {
    auto other = source;
    other.encoding = rules::Encoding::kWindows1252;
    CHECK(hash_of_single_row("id,v,d\n1,a,04/01/2021\n", other) != base);
  }
  SECTION("a byte of the row") {
    const auto row = GENERATE(as<std::string>{}, "2,a,04/01/2021", "1,b,04/01/2021",
                              "1,a,05/01/2021", "1,a ,04/01/2021", "1,\"a\",04/01/2021");
    CAPTURE(row);
    CHECK(hash_of_single_row("id,v,d\n" + row + "\n", source) != base);
  }
}

TEST_CASE("rows with a problem have no row hash", "[ingest][row-hash]") {
  auto source = id_value_date_source();
  source.max_bad_rows = 1.0;
  auto [name, row] = GENERATE(table<std::string, std::string>({
      {"bad date", "1,a,04/01/21"},
      {"bare quote", "1,a\"b,04/01/2021"},
      {"undoubled quote", "1,\"a\"b\",04/01/2021"},
      {"invalid UTF-8", "1,caf\xE9,04/01/2021"},
  }));
  CAPTURE(name);
  const auto result = read_filtered("id,v,d\n" + row + "\n2,b,04/01/2021\n", source, read_it);
  REQUIRE(result.records.size() == 2);
  CHECK(result.hashes[0] == 0);
  CHECK(result.hashes[1] != 0);
}

TEST_CASE("rows skipped for a problem are offered but never returned", "[ingest][row-hash]") {
  auto source = id_value_date_source();
  source.max_bad_rows = 1.0;
  const auto result = read_filtered(
      "id,v,d\n1,a\n ,b,04/01/2021\n2,b,04/01/2021,x\n3,c,04/01/2021\n", source, read_it);
  CHECK(result.offered == std::vector<std::size_t>{2, 3, 4, 5});
  REQUIRE(result.records.size() == 1);
  CHECK(result.records[0].key == "3");
  CHECK(result.hashes[0] != 0);
  CHECK(describe(result.problems) ==
        "2 [] expected 3 fields, found 2\n"
        "3 [id] key column 'id' is empty; the row is skipped\n"
        "4 [] expected 3 fields, found 4\n");
}

TEST_CASE("CRLF and LF files give the same row hashes", "[ingest][row-hash]") {
  const auto source = id_value_source();
  const auto lf = read_filtered("id,v\n1,a\n2,\"b\"\n3, c \n", source, read_it);
  const auto crlf = read_filtered("id,v\r\n1,a\r\n2,\"b\"\r\n3, c \r\n", source, read_it);
  REQUIRE(lf.hashes.size() == 3);
  CHECK(lf.hashes == crlf.hashes);
  CHECK(lf.hashes[0] != 0);
  CHECK(lf.hashes[1] != 0);
  CHECK(lf.hashes[2] != 0);
}

TEST_CASE("quoted fields with newlines and doubled quotes are offered and hashed",
          "[ingest][row-hash]") {
  const auto source = id_value_source();
  const std::string bytes = "id,v\n1,\"two\nlines, \"\"quoted\"\"\"\n2,\"a\r\nb\"\n3,c\n";
  const auto read = read_filtered(bytes, source, read_it);
  CHECK(read.offered == std::vector<std::size_t>{2, 4, 6});
  REQUIRE(read.records.size() == 3);
  CHECK(read.records[0].values[0] == "two\nlines, \"quoted\"");
  CHECK(read.hashes[0] != 0);
  CHECK(read.hashes[1] != 0);
  CHECK(read.hashes[2] != 0);

  SECTION("a skipped multi-line row advances the line numbers") {
    const auto skipped =
        read_filtered(bytes + "4,d,extra\n", source, [&](std::uint64_t hash, std::size_t line) {
          return hash == read.hashes[0] || hash == read.hashes[1] ? ingest::RowCheck{Kind::kSkip, 0}
                                                                  : read_it(hash, line);
        });
    CHECK(skipped.offered == std::vector<std::size_t>{2, 4, 6, 7});
    CHECK(skipped.records == std::vector<rules::Record>{{"3", {"c"}}});
    CHECK(describe(skipped.problems) == "7 [] expected 2 fields, found 3\n");
    CHECK(skipped.rows == 4);
  }
}

TEST_CASE("rows crossing a block boundary are read, not offered", "[ingest][row-filter]") {
  const auto source = id_value_source();
  // Rows of 8 bytes with their newline; the first block holds the header and 1.5 rows.
  const std::string bytes = "id,v\n10,aaaa\n11,bbbb\n12,cccc\n13,\"d\ndd\"\n14,eeee\n15,ffff\n";
  const auto plain = test_support::read_all(bytes, source);
  for (const std::size_t block : {1, 2, 7, 13, 17, 23, 1 << 20}) {
    CAPTURE(block);
    const auto all_read = read_filtered(bytes, source, read_it, block);
    CHECK(all_read.records == plain.records);
    CHECK(describe(all_read.problems) == "");

    const auto all_skipped = read_filtered(bytes, source, skip_it, block);
    CHECK(all_skipped.rows == 6);
    CHECK(all_skipped.records.size() + all_skipped.offered.size() == 6);
    // Rows not offered are read whole and in order, as next() reads them.
    std::size_t next = 0;
    for (const auto& record : all_skipped.records) {
      while (next < plain.records.size() && !(plain.records[next] == record)) {
        ++next;
      }
      CHECK(next < plain.records.size());
    }
    // Only the rows offered have hashes.
    CHECK(static_cast<std::size_t>(std::count_if(all_read.hashes.begin(), all_read.hashes.end(),
                                                 [](std::uint64_t h) { return h != 0; })) ==
          all_read.offered.size());
    if (block == 1) {
      CHECK(all_skipped.offered.empty());
      CHECK(all_skipped.records == plain.records);
    }
  }
  // With the whole file in one block every row is offered.
  CHECK(read_filtered(bytes, source, skip_it).records.empty());
}

TEST_CASE("a row offered as a repeat is recorded as an exact repeat found by parsing is",
          "[ingest][row-filter]") {
  auto source = id_value_source();
  source.max_bad_rows = 0.5;
  const std::string bytes = "id,v\nC1,a\nC2,b\nC1,a\n";
  const auto parsed = test_support::read_all(bytes, source);
  REQUIRE(describe(parsed.problems) ==
          "4 [] the row repeats line 2 exactly; the repeat is skipped\n");

  std::vector<std::pair<std::uint64_t, std::size_t>> seen;
  const auto filtered = read_filtered(bytes, source, [&](std::uint64_t hash, std::size_t line) {
    for (const auto& [earlier, first_line] : seen) {
      if (earlier == hash) {
        return ingest::RowCheck{Kind::kRepeat, first_line};
      }
    }
    seen.emplace_back(hash, line);
    return ingest::RowCheck{};
  });
  CHECK(filtered.records == parsed.records);
  CHECK(describe(filtered.problems) == describe(parsed.problems));
  CHECK(filtered.problem_rows == 1);
  CHECK(filtered.rows == 3);
  CHECK(filtered.verdict == std::nullopt);
}

TEST_CASE("add_repeated_key rejects the file, naming the key and both lines",
          "[ingest][row-filter]") {
  std::istringstream in("id,v\nC1,a\nC2,b\n");
  const auto source = id_value_source();
  ingest::ExtractReader reader(in, source);
  rules::Record record;
  while (reader.next(record)) {
  }
  REQUIRE(reader.verdict() == std::nullopt);
  reader.add_repeated_key("C7", 2, 9);
  CHECK(reader.verdict() == "key 'C7' appears on lines 2 and 9");
}

TEST_CASE("no row is offered before the as-of column's value is taken", "[ingest][row-filter]") {
  auto source = id_value_source();
  source.as_of_column = "Extract Date";
  const auto result = read_filtered(
      "id,v,Extract Date\n1,a,\n2,b,\n3,c,23/11/2026\n4,d,24/11/2026\n5,e,\n", source, skip_it);
  CHECK(result.offered == std::vector<std::size_t>{5, 6});
  CHECK(result.records == std::vector<rules::Record>{{"1", {"a"}}, {"2", {"b"}}, {"3", {"c"}}});
  CHECK(result.as_of == rules::Date::from_ymd(2026, 11, 23));
  // The rows read before then still get their hashes.
  CHECK(result.hashes[0] != 0);
  CHECK(result.rows == 5);
}

TEST_CASE("rows are offered at once when the as-of column is not in the file",
          "[ingest][row-filter]") {
  auto source = id_value_source();
  source.as_of_column = "Extract Date";
  const auto result = read_filtered("id,v\n1,a\n2,b\n", source, skip_it);
  CHECK(result.offered == std::vector<std::size_t>{2, 3});
  CHECK(result.records.empty());
}

TEST_CASE("windows-1252 rows are offered and hashed as converted to UTF-8", "[ingest][row-hash]") {
  auto source = id_value_source();
  source.encoding = rules::Encoding::kWindows1252;
  const std::string bytes = "id,v\n1,caf\xE9\n2,\x93q\x94\n";
  const auto read = read_filtered(bytes, source, read_it);
  CHECK(read.offered == std::vector<std::size_t>{2, 3});
  REQUIRE(read.records.size() == 2);
  CHECK(read.records[1].values[0] == "\xE2\x80\x9Cq\xE2\x80\x9D");
  CHECK(read.hashes[0] != 0);
  CHECK(read.hashes[1] != 0);
  // The same bytes read as UTF-8 are a problem row: no hash.
  auto utf8 = id_value_source();
  utf8.max_bad_rows = 1.0;
  CHECK(read_filtered(bytes, utf8, read_it).hashes[0] == 0);

  const auto skipped = read_filtered(bytes, source, [&](std::uint64_t hash, std::size_t line) {
    return hash == read.hashes[1] ? ingest::RowCheck{Kind::kSkip, 0} : read_it(hash, line);
  });
  CHECK(skipped.records == std::vector<rules::Record>{{"1", {"caf\xC3\xA9"}}});
  CHECK(skipped.rows == 2);
}

TEST_CASE("line() names each record's first line and skipped_rows() counts the rows skipped",
          "[ingest][filter]") {
  const std::string bytes = "id,v\n1,a\n2,\"two\nlines\"\n3,c\n4,d\n";
  std::istringstream in(bytes);
  const rules::Source source = id_value_source();  // the reader keeps a reference
  ingest::ExtractReader reader(in, source);
  const ingest::RowFilter skip_line_5 = [](std::uint64_t, std::size_t line) {
    return ingest::RowCheck{line == 5 ? Kind::kSkip : Kind::kRead, 0};
  };
  rules::Record record;
  std::vector<std::pair<std::string, std::size_t>> seen;
  while (reader.next(record, skip_line_5)) {
    seen.emplace_back(record.key, reader.line());
  }
  CHECK(seen == std::vector<std::pair<std::string, std::size_t>>{{"1", 2}, {"2", 3}, {"4", 6}});
  CHECK(reader.skipped_rows() == 1);
  CHECK(reader.rows() == 4);
}

TEST_CASE("a record turned into a repeated row gets the exact-repeat problem on its line",
          "[ingest][filter]") {
  std::istringstream in("id,v\n1,a\n2,b\n");
  const rules::Source source = id_value_source();  // the reader keeps a reference
  ingest::ExtractReader reader(in, source);
  rules::Record record;
  REQUIRE(reader.next(record));
  REQUIRE(reader.next(record));
  reader.add_repeated_row(2);
  CHECK(reader.row_hash() == 0);
  CHECK_FALSE(reader.next(record));
  CHECK(describe(reader.problems()) ==
        "3 [] the row repeats line 2 exactly; the repeat is skipped\n");
  CHECK(reader.problem_rows() == 1);
}
