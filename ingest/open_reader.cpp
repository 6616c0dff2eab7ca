// open_reader(): the reader for a source's format.
#include <fmt/format.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "ingest/formats.h"

namespace ingest {

std::unique_ptr<Reader> open_reader(const std::filesystem::path& file,
                                    const rules::Source& source) {
  if (source.format == rules::Format::kXlsx) {
    return open_workbook(file, source);
  }
  auto in = std::make_unique<std::ifstream>(file, std::ios::binary);
  if (!*in) {
    throw std::runtime_error(fmt::format("cannot read {}", file.string()));
  }
  if (source.format == rules::Format::kCinXml) {
    return open_cin_census(std::move(in), source);
  }
  return std::make_unique<ExtractReader>(std::move(in), source);
}

std::unique_ptr<Reader> open_reader(std::string bytes, const rules::Source& source) {
  if (source.format == rules::Format::kXlsx) {
    return open_workbook(std::move(bytes), source);
  }
  auto in = std::make_unique<std::istringstream>(std::move(bytes));
  if (source.format == rules::Format::kCinXml) {
    return open_cin_census(std::move(in), source);
  }
  return std::make_unique<ExtractReader>(std::move(in), source);
}

}  // namespace ingest
