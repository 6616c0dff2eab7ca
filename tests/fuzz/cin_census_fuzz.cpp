// libFuzzer harness: the DfE CIN census XML reader (ingest/cin_census_reader.cpp, expat) on
// arbitrary bytes, as an inbox file. The sources are the built-in profiles cin/assessments and
// cin/section47, plus two made here that reach the reader's other paths: the <Child> itself as
// the record (its fields found inside it and through its containers), read with a date format
// the census does not use (its dates and ReferenceDate as-of are problems), and child
// protection plans with their reviews. The input picks
// the profile whose record element it names, else one by its length. Checks: reader_checks.h.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "tests/fuzz/reader_checks.h"

namespace {

rules::Source variant(rules::Source source, std::string record, std::vector<std::string> key,
                      std::vector<rules::Field> fields) {
  source.name = record;
  source.record = std::move(record);
  source.key = std::move(key);
  source.fields = std::move(fields);
  return source;
}

std::vector<rules::Source> make_sources() {
  const std::string text =
      "[service]\nstate_dir = \"/nonexistent/casewatch-fuzz\"\n"
      "[[source]]\nname = \"assessments\"\nprofile = \"cin/assessments\"\n"
      "[[source]]\nname = \"s47\"\nprofile = \"cin/section47\"\n";
  std::vector<rules::Source> sources =
      config::parse_config(text, "/nonexistent/casewatch-fuzz/casewatch.toml").rules.sources;
  sources.push_back(variant(sources.front(), "Child", {"LAchildID"},
                            {{"person", {"LAchildID"}, false},
                             {"born", {"PersonBirthDate"}, true},
                             {"referred", {"CINreferralDate"}, true},
                             {"disability", {"Disability"}, false}}));
  sources.back().date_formats = {"%d/%m/%Y"};
  sources.push_back(variant(sources.front(), "ChildProtectionPlans", {"LAchildID", "CPPstartDate"},
                            {{"person", {"LAchildID"}, false},
                             {"started", {"CPPstartDate"}, true},
                             {"ended", {"CPPendDate"}, true},
                             {"review", {"CPPreviewDate"}, true}}));
  return sources;
}

const rules::Source& pick(const std::vector<rules::Source>& sources, std::string_view bytes) {
  static const std::array<std::string_view, 4> marks = {"<Assessments", "<Section47",
                                                        "<ChildProtectionPlans", "<Child>"};
  static const std::array<std::size_t, 4> source_of = {0, 1, 3, 2};
  for (std::size_t i = 0; i < marks.size(); ++i) {
    if (bytes.find(marks[i]) != std::string_view::npos) return sources[source_of[i]];
  }
  return sources[bytes.size() % sources.size()];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<rules::Source> sources = make_sources();
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  // A record needs an element of its own (at least "<a/>"), after expat's entity expansion.
  fuzz::read_all(bytes, pick(sources, bytes), fuzz::expanded_bound(size) / 4 + 1);
  return 0;
}
