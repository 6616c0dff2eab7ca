#include <catch2/catch.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "ingest/ingest.h"
#include "tests/ingest/reader_support.h"

namespace {

using test_support::read_all;

// Key "id", one text field "v".
rules::Source id_value_source() {
  rules::Source source;
  source.name = "simple";
  source.key = {"id"};
  source.fields = {{"value", {"v"}, false}};
  return source;
}

// The values of field `v` in order, for an "id,v" file.
std::vector<std::string> values_of(const test_support::ReadResult& result) {
  std::vector<std::string> values;
  for (const auto& record : result.records) {
    values.push_back(record.values.at(0));
  }
  return values;
}

std::string describe(const std::vector<rules::Problem>& problems) {
  std::string out;
  for (const auto& p : problems) {
    out += std::to_string(p.line) + " [" + p.column + "] " + p.message + "\n";
  }
  return out;
}

constexpr const char* kBareQuote =
    "a quote inside an unquoted field (quote the whole field and double the quote)";
constexpr const char* kUndoubled =
    "a quote inside a quoted field is not doubled (write \"\" for a quote)";

}  // namespace

TEST_CASE("the reader splits RFC 4180 fields: quotes, commas, newlines, CRLF and LF",
          "[ingest][csv]") {
  auto [name, body, expected] = GENERATE(table<std::string, std::string, std::vector<std::string>>({
      {"plain", "1,a\n2,b\n", {"a", "b"}},
      {"quoted comma", "1,\"Smith, Jo\"\n", {"Smith, Jo"}},
      {"doubled quotes", "1,\"say \"\"hi\"\"\"\n", {"say \"hi\""}},
      {"only a doubled quote", "1,\"\"\"\"\n", {"\""}},
      {"LF inside quotes kept", "1,\"two\nlines\"\n2,b\n", {"two\nlines", "b"}},
      {"CRLF inside quotes kept", "1,\"two\r\nlines\"\r\n2,b\r\n", {"two\r\nlines", "b"}},
      {"CRLF rows", "1,a\r\n2,b\r\n", {"a", "b"}},
      {"mixed CRLF and LF rows", "1,a\r\n2,b\n3,c\r\n", {"a", "b", "c"}},
      {"final row without newline", "1,a\n2,b", {"a", "b"}},
      {"final quoted row without newline", "1,a\n2,\"b\"", {"a", "b"}},
      {"blank lines skipped", "\n1,a\n\n\r\n2,b\n\n", {"a", "b"}},
      {"rows of empty fields skipped", "1,a\n,\n , \n2,b\n", {"a", "b"}},
      {"empty quoted value", "1,\"\"\n", {""}},
      {"surrounding spaces trimmed", "1,  a  b \t\n", {"a  b"}},
      {"spaces around a quoted field", "1,  \"a,b\"  \n", {"a,b"}},
      {"quoted key", "\"1\",a\n", {"a"}},
      {"lone CR inside a value kept", "1,a\rb\n", {"a\rb"}},
  }));
  CAPTURE(name);
  const auto result = read_all("id,v\n" + body, id_value_source());
  CHECK(describe(result.problems) == "");
  CHECK(values_of(result) == expected);
  CHECK(result.verdict == std::nullopt);
}

TEST_CASE("the reader reports malformed rows with the row's first physical line", "[ingest][csv]") {
  auto [name, body, expected_problems,
        expected_values] = GENERATE(table<std::string, std::string, std::string,
                                          std::vector<std::string>>({
      {"too many fields", "1,a\n2,b,c\n3,d\n", "3 [] expected 2 fields, found 3\n", {"a", "d"}},
      {"too few fields", "1,a\n2\n3,d\n", "3 [] expected 2 fields, found 1\n", {"a", "d"}},
      {"line numbers count lines inside quotes",
       "1,\"x\ny\nz\"\n2,b,c\n",
       "5 [] expected 2 fields, found 3\n",
       {"x\ny\nz"}},
      {"line numbers count blank lines", "\n\n1,a,b\n", "4 [] expected 2 fields, found 3\n", {}},
      {"a row that runs over lines",
       "1,\"a\n2,b\n3,c\"d,e\n",
       "2 [] expected 2 fields, found 3 (the row runs over lines 2-4: is a quote not "
       "closed?)\n",
       {}},
      {"bare quote kept as text",
       "1,ab\"c\n2,b\n",
       "2 [v] " + std::string(kBareQuote) + "\n",
       {"ab\"c", "b"}},
      {"undoubled quote kept as text",
       "1,\"He said \"hi\" there\"\n",
       "2 [v] " + std::string(kUndoubled) + "\n",
       {"He said \"hi\" there\""}},
      {"text after a closing quote",
       "1,\"ab\" cd\n",
       "2 [v] " + std::string(kUndoubled) + "\n",
       {"abcd"}},
      {"empty key",
       "1,a\n ,b\n3,c\n",
       "3 [id] key column 'id' is empty; the row is skipped\n",
       {"a", "c"}},
      {"unterminated quote",
       "1,a\n2,\"open\n3,b\n",
       "3 [v] a quoted field is not closed before the end of the file (lines 3-4 are read as "
       "one row)\n",
       {"a"}},
      {"unterminated quote without final newline",
       "1,a\n2,\"open",
       "3 [v] a quoted field is not closed before the end of the file (lines 3-3 are read as "
       "one row)\n",
       {"a"}},
  }));
  CAPTURE(name);
  const auto result = read_all("id,v\n" + body, id_value_source());
  CHECK(describe(result.problems) == expected_problems);
  CHECK(values_of(result) == expected_values);
}

TEST_CASE("an unterminated quote rejects the whole file", "[ingest][csv]") {
  const auto result = read_all("id,v\n1,a\n2,\"open\n3,b\n", id_value_source());
  CHECK(result.verdict ==
        "a quoted field starting on line 3 is not closed, so the rows after it cannot be read; 1 "
        "of 2 rows have problems, more than the 0.5% allowed "
        "(max_bad_rows)");
}

TEST_CASE("the reader strips a UTF-8 byte order mark", "[ingest][encoding]") {
  const auto result = read_all("\xEF\xBB\xBFid,v\r\n1,caf\xC3\xA9\r\n", id_value_source());
  CHECK(result.header_problem == std::nullopt);
  CHECK(values_of(result) == std::vector<std::string>{"caf\xC3\xA9"});
}

TEST_CASE("invalid UTF-8 is a row problem suggesting windows-1252, and the row is kept",
          "[ingest][encoding]") {
  const auto result = read_all("id,v\n1,caf\xE9\n2,ok\n", id_value_source());
  CHECK(describe(result.problems) ==
        "2 [v] not valid UTF-8 (is the file windows-1252? set encoding = \"windows-1252\")\n");
  CHECK(values_of(result) == std::vector<std::string>{"caf\xEF\xBF\xBD", "ok"});
  CHECK(result.problem_rows == 1);
}

TEST_CASE("windows-1252 bytes are converted to UTF-8", "[ingest][encoding]") {
  auto [bytes, utf8] = GENERATE(table<std::string, std::string>({
      {"\x80", "\xE2\x82\xAC"},  // €
      {"\x91"
       "Jo\x92",
       "\xE2\x80\x98Jo\xE2\x80\x99"},                // ‘Jo’
      {"\x93hi\x94", "\xE2\x80\x9Chi\xE2\x80\x9D"},  // “hi”
      {"a\x96"
       "b\x97"
       "c",
       "a\xE2\x80\x93"
       "b\xE2\x80\x94"
       "c"},                                                                 // – —
      {"\x85", "\xE2\x80\xA6"},                                              // …
      {"\x81\x8D\x8F\x90\x9D", "\xC2\x81\xC2\x8D\xC2\x8F\xC2\x90\xC2\x9D"},  // undefined bytes
      {"\x9F", "\xC5\xB8"},                                                  // Ÿ
      {"caf\xE9", "caf\xC3\xA9"},                                            // é
      {"\xA0\xFF", "\xC2\xA0\xC3\xBF"},
  }));
  auto source = id_value_source();
  source.encoding = rules::Encoding::kWindows1252;
  const auto result = read_all("id,v\n1,x" + bytes + "\n", source);
  CHECK(describe(result.problems) == "");
  CHECK(values_of(result) == std::vector<std::string>{"x" + utf8});
}

TEST_CASE("a UTF-8 byte order mark in a windows-1252 source is a header problem",
          "[ingest][encoding]") {
  auto source = id_value_source();
  source.encoding = rules::Encoding::kWindows1252;
  const auto result = read_all("\xEF\xBB\xBFid,v\n1,a\n", source);
  CHECK(result.header_problem ==
        "the file starts with a UTF-8 byte order mark but the source's encoding is windows-1252 "
        "(set encoding = \"utf-8\")");
  CHECK(result.records.empty());
  CHECK(result.verdict == result.header_problem);
}

TEST_CASE("headers match ignoring case, spaces, a trailing '?' and curly apostrophes",
          "[ingest][header]") {
  rules::Source source;
  source.key = {"Case ID"};
  source.fields = {{"worker", {"Allocated Worker", "Social Worker"}, false},
                   {"consent", {"Child's consent?"}, false}};
  auto [header, worker, consent] = GENERATE(table<std::string, std::string, std::string>({
      {"Case ID,Allocated Worker,Child's consent?", "w", "c"},
      {"case id,ALLOCATED WORKER,child's consent", "w", "c"},
      {"  Case   ID  , Allocated\tWorker ,Child's Consent ?", "w", "c"},
      {"Case ID?,Allocated Worker,Child\xE2\x80\x99s consent", "w", "c"},
      {"Case ID,Allocated Worker,Child\xE2\x80\x98s consent?", "w", "c"},
      {"\"Case ID\",\"Social Worker\",\"Child's consent\"", "w", "c"},
      // Both aliases present: the first listed in the source wins.
      {"Case ID,Social Worker,Child's consent", "w", "c"},
  }));
  CAPTURE(header);
  const auto result = read_all(header + "\n1,w,c\n", source);
  CHECK(result.header_problem == std::nullopt);
  REQUIRE(result.records.size() == 1);
  CHECK(result.records[0].values == std::vector<std::string>{worker, consent});
}

TEST_CASE("the first accepted header present wins when a file has two aliases",
          "[ingest][header]") {
  auto source = test_support::cases_source();
  const auto result = read_all(
      "Case ID,Social Worker,Child ID,Allocated Worker,Referral Date,Closure Date\n"
      "C1,Sam,P1,Alex,04/01/2021,\n",
      source);
  REQUIRE(result.records.size() == 1);
  CHECK(result.records[0].values[1] == "Alex");
}

TEST_CASE("missing key and mapped columns are header problems naming them", "[ingest][header]") {
  auto [header, problem] = GENERATE(table<std::string, std::string>({
      {"Case Ref,Child ID,Allocated Worker,Referral Date,Closure Date",
       "key column 'Case ID' is missing; the file has columns: Case Ref, Child ID, Allocated "
       "Worker, Referral Date, Closure Date"},
      {"Case ID,Child ID,Allocated Worker,Closure Date",
       "column 'Referral Date' (field 'opened') is missing; the file has columns: Case ID, Child "
       "ID, Allocated Worker, Closure Date"},
      {"Case ID,Child ID,Worker,Referral Date,Closure Date",
       "none of the columns 'Allocated Worker', 'Social Worker' (field 'worker') is present; the "
       "file has columns: Case ID, Child ID, Worker, Referral Date, Closure Date"},
      {"ID,Child ID,Allocated Worker",
       "key column 'Case ID' is missing; column 'Referral Date' (field 'opened') is missing; "
       "column 'Closure Date' (field 'closed') is missing; the file has columns: ID, Child ID, "
       "Allocated Worker"},
      {"Case ID,Child ID,Allocated Worker,Referral Date,Closure Date,case id",
       "column 'Case ID' appears 2 times (columns 1, 6); the file has columns: Case ID, Child "
       "ID, Allocated Worker, Referral Date, Closure Date, case id"},
      {"Case ID,Child ID,Allocated Worker,Referral Date,Closure Date,Social Worker?,Social "
       "Worker",
       "column 'Social Worker?' appears 2 times (columns 6, 7); the file has columns: Case ID, "
       "Child ID, Allocated Worker, Referral Date, Closure Date, Social Worker?, Social Worker"},
  }));
  CAPTURE(header);
  const auto result = read_all(header + "\nC1,P1,W,04/01/2021,,,\n", test_support::cases_source());
  CHECK(result.header_problem == problem);
  CHECK(result.records.empty());
  CHECK(result.rows == 0);
  CHECK(result.verdict == problem);
}

TEST_CASE("unmapped columns are ignored, even when repeated", "[ingest][header]") {
  const auto result = read_all("id,Notes,v,notes\n1,x,a,y\n", id_value_source());
  CHECK(result.header_problem == std::nullopt);
  CHECK(values_of(result) == std::vector<std::string>{"a"});
}

TEST_CASE("an empty file and a header-only file are rejected", "[ingest][csv]") {
  auto [bytes, verdict] = GENERATE(table<std::string, std::string>({
      {"", "the file is empty: it has no header row"},
      {"\n\r\n", "the file is empty: it has no header row"},
      {"\xEF\xBB\xBF", "the file is empty: it has no header row"},
      {"id,v\n", "the file has a header but no rows"},
      {"id,v", "the file has a header but no rows"},
      {"id,v\n\n", "the file has a header but no rows"},
  }));
  const auto result = read_all(bytes, id_value_source());
  CHECK(result.records.empty());
  CHECK(result.rows == 0);
  CHECK(result.verdict == verdict);
}

TEST_CASE(
    "date fields become ISO dates, null dates become empty, bad dates are kept with a "
    "problem",
    "[ingest][dates]") {
  constexpr const char* kFormats = "(%d/%m/%Y, %Y-%m-%d)";
  auto [text, stored, problem] = GENERATE_COPY(table<std::string, std::string, std::string>({
      {"04/01/2021", "2021-01-04", ""},
      {"4/1/2021", "2021-01-04", ""},
      {"2021-01-04", "2021-01-04", ""},
      {"04/01/2021 00:00", "2021-01-04", ""},
      {"2021-01-04T00:00:00", "2021-01-04", ""},
      {"29/02/2024", "2024-02-29", ""},
      {"", "", ""},
      {"01/01/1900", "", ""},
      {"1900-01-01", "", ""},
      {"1900-01-01T00:00:00", "", ""},
      {"31/12/9999", "", ""},
      {"9999-12-31", "", ""},
      {"31/12/9999 00:00:00", "", ""},
      {"04/01/21", "04/01/21",
       std::string("'04/01/21' is not a date in an accepted format ") + kFormats +
           "; two-digit years are not accepted"},
      {"4-1-21", "4-1-21",
       std::string("'4-1-21' is not a date in an accepted format ") + kFormats +
           "; two-digit years are not accepted"},
      {"29/02/2023", "29/02/2023",
       std::string("'29/02/2023' is not a date in an accepted format ") + kFormats},
      {"01/13/2021", "01/13/2021",
       std::string("'01/13/2021' is not a date in an accepted format ") + kFormats},
      {"soon", "soon", std::string("'soon' is not a date in an accepted format ") + kFormats},
  }));
  CAPTURE(text);
  const auto result = read_all(
      "Case ID,Child ID,Allocated Worker,Referral Date,Closure Date\nC1,P1,Sam," + text + ",\n",
      test_support::cases_source());
  REQUIRE(result.records.size() == 1);  // a bad date never drops the row
  CHECK(result.records[0].values[2] == stored);
  CHECK(describe(result.problems) ==
        (problem.empty() ? "" : "2 [Referral Date] " + problem + "\n"));
}

TEST_CASE("records carry the trimmed key and values in the source's field order", "[ingest][csv]") {
  const auto result = read_all(
      "Closure Date,Referral Date,Case ID,Child ID,Team,Allocated Worker\n"
      "31/12/9999, 04/01/2021 , C17 ,P9,North,  Sam Smith \n",
      test_support::cases_source());
  REQUIRE(result.records.size() == 1);
  CHECK(result.records[0] == rules::Record{"C17", {"P9", "Sam Smith", "2021-01-04", ""}});
}

TEST_CASE("a key of several columns joins them with the separator", "[ingest][csv]") {
  rules::Source source;
  source.key = {"CHILD", "DECOM"};
  source.fields = {{"start", {"DECOM"}, true}};
  const auto result = read_all("CHILD,DECOM\n566910,15/02/2016\n566910,\n", source);
  REQUIRE(result.records.size() == 1);
  CHECK(result.records[0].key == "566910|15/02/2016");
  CHECK(result.records[0].values == std::vector<std::string>{"2016-02-15"});
  CHECK(describe(result.problems) == "3 [DECOM] key column 'DECOM' is empty; the row is skipped\n");
}

TEST_CASE("repeated keys reject the file, naming the key and both lines", "[ingest][keys]") {
  const auto result = read_all("id,v\nC17,a\nC18,b\n\nC17,c\n", id_value_source());
  CHECK(result.records.size() == 3);
  CHECK(result.verdict == "key 'C17' appears on lines 2 and 5");
}

TEST_CASE("the verdict names up to five repeated keys and counts the rest", "[ingest][keys]") {
  std::string csv = "id,v\n";
  for (int i = 0; i < 10; ++i) {
    csv += "K" + std::to_string(i) + ",a\n";  // lines 2..11
  }
  for (int i = 0; i < 7; ++i) {
    csv += "K" + std::to_string(i) + ",b\n";  // lines 12..18
  }
  csv += "K0,c\n";  // line 19
  const auto result = read_all(csv, id_value_source());
  CHECK(result.verdict ==
        "key 'K0' appears on lines 2 and 12; key 'K1' appears on lines 3 and 13; key 'K2' "
        "appears on lines 4 and 14; key 'K3' appears on lines 5 and 15; key 'K4' appears on "
        "lines 6 and 16; and 3 more repeats (8 in all)");
}

TEST_CASE("a row repeating an earlier row exactly is a row problem, not a repeated key",
          "[ingest][keys]") {
  // Exports sometimes write a row twice; the repeat carries nothing new, so the file is kept
  // (within max_bad_rows) and the repeat is skipped and recorded.
  rules::Source source = id_value_source();
  source.max_bad_rows = 0.5;
  const auto result = read_all("id,v\nC1,a\nC2,b\nC1,a\n", source);
  CHECK(result.records.size() == 2);
  CHECK(describe(result.problems) ==
        "4 [] the row repeats line 2 exactly; the repeat is skipped\n");
  CHECK(result.verdict == std::nullopt);
}

TEST_CASE("the same key with other content is still a repeated key, even beside exact repeats",
          "[ingest][keys]") {
  rules::Source source = id_value_source();
  source.max_bad_rows = 0.5;
  // Field boundaries count: "C1,ab" then "C1a,b"-like splits are different rows.
  const auto result = read_all("id,v\nC1,a\nC1,a\nC1,b\n", source);
  CHECK(result.verdict == "key 'C1' appears on lines 2 and 4");
}

TEST_CASE("keys differing only in surrounding spaces are the same key", "[ingest][keys]") {
  const auto result = read_all("id,v\nC1,a\n C1 ,b\n", id_value_source());
  CHECK(result.verdict == "key 'C1' appears on lines 2 and 3");
}

TEST_CASE("max_bad_rows: a file is rejected only when problem rows exceed the fraction",
          "[ingest][verdict]") {
  auto [bad, max_bad_rows, verdict] = GENERATE(table<int, double, std::string>({
      {0, 0.005, ""},
      {5, 0.005, ""},  // 5 of 1000 is exactly 0.5%: allowed
      {6, 0.005, "6 of 1000 rows have problems, more than the 0.5% allowed (max_bad_rows)"},
      {10, 0.01, ""},
      {11, 0.01, "11 of 1000 rows have problems, more than the 1% allowed (max_bad_rows)"},
      {1, 0.0, "1 of 1000 rows have problems, more than the 0% allowed (max_bad_rows)"},
  }));
  CAPTURE(bad, max_bad_rows);
  auto source = test_support::cases_source();
  source.max_bad_rows = max_bad_rows;
  std::string csv = "Case ID,Child ID,Allocated Worker,Referral Date,Closure Date\n";
  for (int i = 0; i < 1000; ++i) {
    // A bad row has a bad date and a wrong field count would skip it: use both kinds.
    const bool is_bad = i < bad;
    const std::string date = is_bad && i % 2 == 0 ? "04/01/21" : "04/01/2021";
    const std::string extra = is_bad && i % 2 == 1 ? ",extra" : "";
    csv.append("C").append(std::to_string(i)).append(",P,W,").append(date);
    csv.append(",01/01/1900").append(extra).append("\n");
  }
  const auto result = read_all(csv, source);
  CHECK(result.rows == 1000);
  CHECK(result.problem_rows == static_cast<std::size_t>(bad));
  CHECK(result.verdict.value_or("") == verdict);
}

TEST_CASE("a row with several problems counts once towards max_bad_rows", "[ingest][verdict]") {
  const auto result =
      read_all("Case ID,Child ID,Allocated Worker,Referral Date,Closure Date\nC1,P1,W,soon,later\n",
               test_support::cases_source());
  CHECK(result.problems.size() == 2);
  CHECK(result.problem_rows == 1);
}

TEST_CASE("as_of_from_column reads the first non-empty value of the configured column",
          "[ingest][as-of]") {
  auto source = id_value_source();
  auto [column, csv, expected] = GENERATE(table<std::string, std::string, std::string>({
      {"Extract Date", "id,v,Extract Date\n1,a,\n2,b,23/11/2026\n3,c,24/11/2026\n", "2026-11-23"},
      {"extract date?", "id,v,Extract Date\n1,a,2026-11-23T00:00:00\n", "2026-11-23"},
      {"Extract Date", "id,v,Extract Date\n1,a,23/11/26\n", ""},
      {"Extract Date", "id,v\n1,a\n", ""},
      {"", "id,v,Extract Date\n1,a,23/11/2026\n", ""},
  }));
  CAPTURE(column, csv);
  source.as_of_column = column;
  const auto result = read_all(csv, source);
  CHECK((result.as_of ? result.as_of->iso() : std::string()) == expected);
}

TEST_CASE("next() returns false at once after a header problem", "[ingest][header]") {
  std::istringstream in("x,y\n1,2\n");
  const auto source = id_value_source();
  ingest::ExtractReader reader(in, source);
  rules::Record record;
  CHECK(reader.header_problem().has_value());
  CHECK_FALSE(reader.next(record));
  CHECK(reader.rows() == 0);
}

TEST_CASE("more problems than can be kept in memory reject the file", "[ingest][verdict]") {
  auto source = id_value_source();
  source.fields[0].is_date = true;
  source.max_bad_rows = 1.0;
  std::string csv = "id,v\n";
  for (int i = 0; i < 100'001; ++i) {
    csv += std::to_string(i) + ",x\n";
  }
  const auto result = read_all(csv, source);
  CHECK(result.rows == 100'001);
  CHECK(result.problem_rows == 100'001);
  CHECK(result.problems.size() == 100'000);
  CHECK(result.verdict == "more than 100000 problems, too many to record them all");
}
