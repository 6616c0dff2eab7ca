#include "ingest/csv_tokenizer.h"

#include <catch2/catch.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace {

// Every row as "line-last_line: field|field|..." plus its issues, for whole comparisons.
std::vector<std::string> tokenize(const std::string& bytes, std::size_t block_size,
                                  rules::Encoding encoding = rules::Encoding::kUtf8) {
  std::istringstream in(bytes);
  ingest::CsvTokenizer tokenizer(in, encoding, {block_size, ingest::CsvTokenizer::kMaxRowBytes});
  ingest::CsvRow row;
  std::vector<std::string> rows;
  while (tokenizer.next(row)) {
    std::string text = std::to_string(row.line) + "-" + std::to_string(row.last_line) + ":";
    for (std::size_t i = 0; i < row.size(); ++i) {
      text += (i == 0 ? "" : "|") + std::string(row.field(i));
    }
    for (const auto& issue : row.issues) {
      text +=
          " !" + std::to_string(issue.field) + "/" + std::to_string(static_cast<int>(issue.kind));
    }
    rows.push_back(text);
  }
  return rows;
}

}  // namespace

TEST_CASE("the tokenizer gives the same rows whatever the block size", "[ingest][csv]") {
  // Every trap at once, so that block edges fall inside each of them for some block size.
  const std::string csv =
      "\xEF\xBB\xBF"
      "id,name,notes\r\n"
      "1,\"Smith, Jo\",\"said \"\"hi\"\"\"\r\n"
      "\n"
      "2,plain,\"two\r\nlines\"\n"
      "3,  \"spaced\"  ,x\r\n"
      "4,ab\"c,\"d\"e\n"
      ",,\n"
      "5,\"\",last";
  const std::vector<std::string> expected = {
      "1-1:id|name|notes", "2-2:1|Smith, Jo|said \"hi\"", "4-5:2|plain|two\r\nlines",
      "6-6:3|spaced|x",    "7-7:4|ab\"c|d\"e !1/0 !2/1",  "9-9:5||last",
  };
  for (const std::size_t block : {1, 2, 3, 5, 7, 64, 1 << 20}) {
    CAPTURE(block);
    CHECK(tokenize(csv, block) == expected);
  }
}

TEST_CASE("the tokenizer converts windows-1252 across block edges", "[ingest][encoding]") {
  for (const std::size_t block : {1, 2, 1 << 20}) {
    CAPTURE(block);
    CHECK(tokenize("a,\x93q\x94\n", block, rules::Encoding::kWindows1252) ==
          std::vector<std::string>{"1-1:a|\xE2\x80\x9Cq\xE2\x80\x9D"});
  }
}

TEST_CASE("the tokenizer reports an unterminated quote on the row's first line", "[ingest][csv]") {
  for (const std::size_t block : {1, 3, 1 << 20}) {
    CAPTURE(block);
    CHECK(tokenize("a,b\n1,\"x\ny\n", block) ==
          std::vector<std::string>{"1-1:a|b", "2-3:1|x\ny\n !1/2"});
  }
}

TEST_CASE("a row longer than the limit ends the reading", "[ingest][csv]") {
  std::istringstream in("a,b\n1,\"never closed\n2,x\n3,y\n");
  ingest::CsvTokenizer tokenizer(in, rules::Encoding::kUtf8, {4, 10});
  ingest::CsvRow row;
  REQUIRE(tokenizer.next(row));
  REQUIRE(tokenizer.next(row));
  CHECK(row.line == 2);
  REQUIRE(row.issues.size() == 1);
  CHECK(row.issues[0].kind == ingest::QuoteIssue::kTooLong);
  CHECK_FALSE(tokenizer.next(row));
}

namespace {

// Each row as peek_raw() finds it ("line+newlines:bytes"), skipped with skip_raw(); a row that
// cannot be peeked is read by next() instead and shown as "line=next".
std::vector<std::string> peek_all(const std::string& bytes, std::size_t block_size) {
  std::istringstream in(bytes);
  ingest::CsvTokenizer tokenizer(in, rules::Encoding::kUtf8,
                                 {block_size, ingest::CsvTokenizer::kMaxRowBytes});
  ingest::CsvTokenizer::RawRow raw;
  ingest::CsvRow row;
  std::vector<std::string> rows;
  for (;;) {
    if (tokenizer.peek_raw(raw)) {
      rows.push_back(std::to_string(raw.line) + "+" + std::to_string(raw.newlines) + ":" +
                     std::string(raw.bytes));
      tokenizer.skip_raw(raw);
    } else if (tokenizer.next(row)) {
      rows.push_back(std::to_string(row.line) + "=next");
    } else {
      return rows;
    }
  }
}

}  // namespace

TEST_CASE("peek_raw finds each row's raw bytes by quote parity, without its line ending",
          "[ingest][csv]") {
  CHECK(peek_all("a,b\r\n1,\"x\ny\",\"say \"\"hi\"\"\"\n\n , ,\r\n2,\"\"\nlast", 1 << 20) ==
        std::vector<std::string>{"1+0:a,b", "2+1:1,\"x\ny\",\"say \"\"hi\"\"\"", "6+0:2,\"\"",
                                 "7=next"});
}

TEST_CASE("peek_raw offers no row that crosses the end of a block", "[ingest][csv]") {
  // Blocks of 6 bytes: "a,b\n1," | "x\n2,yy" | "\n3,z\n": the rows "1,x" and "2,yy" cross
  // a block's end.
  CHECK(peek_all("a,b\n1,x\n2,yy\n3,z\n", 6) ==
        std::vector<std::string>{"1+0:a,b", "2=next", "3=next", "4+0:3,z"});
}

TEST_CASE("a row read after peek_raw ends where the span ends only when well formed",
          "[ingest][csv]") {
  auto [bytes, ends_there] = GENERATE(table<std::string, bool>({
      {"1,\"a\nb\",c\n", true},
      {"1,a\"b\n2,\"c\n", false},  // a bare quote: parity and the tokenizer disagree
      {"1,a\r\n", true},
  }));
  CAPTURE(bytes);
  std::istringstream in(bytes);
  ingest::CsvTokenizer tokenizer(in, rules::Encoding::kUtf8, {});
  ingest::CsvTokenizer::RawRow raw;
  ingest::CsvRow row;
  REQUIRE(tokenizer.peek_raw(raw));
  REQUIRE(tokenizer.next(row));
  CHECK(tokenizer.ended_at(raw) == ends_there);
}
