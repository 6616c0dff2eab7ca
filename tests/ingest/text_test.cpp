#include "ingest/text.h"

#include <catch2/catch.hpp>
#include <string>

TEST_CASE("normalise_header folds case, spaces, a trailing '?' and curly apostrophes",
          "[ingest][header]") {
  auto [header, normalised] = GENERATE(table<std::string, std::string>({
      {"Case ID", "case id"},
      {"  Case \t  ID  ", "case id"},
      {"Consent?", "consent"},
      {"Consent ? ", "consent"},
      {"Child\xE2\x80\x99s Name", "child's name"},
      {"Child\xE2\x80\x98s Name", "child's name"},
      {"Ch\xC3\x89ZE", "ch\xC3\x89ze"},  // only ASCII letters fold
      {"??", "?"},
      {"", ""},
  }));
  CHECK(ingest::normalise_header(header) == normalised);
}

TEST_CASE("is_valid_utf8 accepts well-formed UTF-8 only", "[ingest][encoding]") {
  auto [bytes, valid] = GENERATE(table<std::string, bool>({
      {"plain", true},
      {"caf\xC3\xA9", true},
      {"\xE2\x82\xAC", true},
      {"\xF0\x9F\x98\x80", true},
      {"caf\xE9", false},           // windows-1252 é
      {"\xC0\xAF", false},          // overlong '/'
      {"\xE0\x80\xAF", false},      // overlong
      {"\xED\xA0\x80", false},      // surrogate
      {"\xF4\x90\x80\x80", false},  // above U+10FFFF
      {"\xE2\x82", false},          // truncated
      {"\x80", false},              // lone continuation
  }));
  CHECK(ingest::is_valid_utf8(bytes) == valid);
}

TEST_CASE("repair_utf8 replaces each bad byte with U+FFFD", "[ingest][encoding]") {
  CHECK(ingest::repair_utf8("caf\xE9!") == "caf\xEF\xBF\xBD!");
  CHECK(ingest::repair_utf8("\xE2\x82") == "\xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK(ingest::repair_utf8("ok \xC3\xA9") == "ok \xC3\xA9");
}

TEST_CASE("every windows-1252 byte becomes one well-formed UTF-8 character", "[ingest][encoding]") {
  for (int b = 0; b < 256; ++b) {
    CAPTURE(b);
    std::string utf8;
    ingest::append_windows_1252_as_utf8(std::string(1, static_cast<char>(b)), utf8);
    CHECK(ingest::is_valid_utf8(utf8));
    if (b >= 0xA0) {
      // Latin-1 range: U+00A0..U+00FF.
      CHECK(utf8 ==
            std::string{static_cast<char>(0xC0 | (b >> 6)), static_cast<char>(0x80 | (b & 0x3F))});
    }
  }
}
