// Text helpers of the CSV reader, internal to ingest/: windows-1252 to UTF-8, UTF-8
// validation, trimming and header normalisation. Pure functions on bytes.
#ifndef CASEWATCH_INGEST_TEXT_H_
#define CASEWATCH_INGEST_TEXT_H_

#include <string>
#include <string_view>

namespace ingest {

// Appends `bytes`, read as windows-1252, to `out` as UTF-8. All 256 byte values map: the five
// bytes windows-1252 leaves undefined (0x81 0x8D 0x8F 0x90 0x9D) become U+0081 etc.
void append_windows_1252_as_utf8(std::string_view bytes, std::string& out);

// True when `bytes` is well-formed UTF-8 (no overlong forms, surrogates or values > U+10FFFF).
bool is_valid_utf8(std::string_view bytes);

// `bytes` with each ill-formed UTF-8 sequence replaced by U+FFFD.
std::string repair_utf8(std::string_view bytes);

// `text` without surrounding spaces and tabs.
std::string_view trim(std::string_view text);

// A header as compared (DESIGN.md): surrounding spaces, a trailing '?' and case ignored, curly
// apostrophes (U+2018, U+2019) read as "'", inner runs of spaces and tabs read as one space.
std::string normalise_header(std::string_view header);

}  // namespace ingest

#endif  // CASEWATCH_INGEST_TEXT_H_
