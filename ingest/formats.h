// The readers of the formats other than CSV, internal to ingest/ (open_reader() chooses).
#ifndef CASEWATCH_INGEST_FORMATS_H_
#define CASEWATCH_INGEST_FORMATS_H_

#include <filesystem>
#include <memory>
#include <string>

#include "ingest/ingest.h"

namespace ingest {

// An .xlsx workbook: the sheet Source::sheet names, its header the first row holding the key
// columns. REQUIRES: `source` outlives the reader.
std::unique_ptr<Reader> open_workbook(const std::filesystem::path& file,
                                      const rules::Source& source);
std::unique_ptr<Reader> open_workbook(std::string bytes, const rules::Source& source);

// A DfE CIN census XML file: one record per Source::record element. REQUIRES: `in` (for the
// first) and `source` outlive the reader.
std::unique_ptr<Reader> open_cin_census(std::unique_ptr<std::istream> in,
                                        const rules::Source& source);

}  // namespace ingest

#endif  // CASEWATCH_INGEST_FORMATS_H_
