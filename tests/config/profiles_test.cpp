// Built-in source profiles: `profile = "annex-a/list-6"` fills a source; any key overrides.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "config/config.h"
#include "tests/support/config_errors.h"

namespace {

const std::filesystem::path kFile = "/etc/casewatch/casewatch.toml";

std::vector<std::string> errors_of(const std::string& text) {
  return test_support::config_errors(text, kFile);
}

const rules::Field* field(const rules::Source& source, const std::string& name) {
  const int i = source.field_index(name);
  return i < 0 ? nullptr : &source.fields[static_cast<std::size_t>(i)];
}

}  // namespace

TEST_CASE("profile annex-a/list-6 fills format, sheet, key, dates and fields",
          "[config][profile]") {
  const auto config =
      config::parse_config("[[source]]\nname = \"cin\"\nprofile = \"annex-a/list-6\"\n", kFile);
  const rules::Source& source = config.rules.sources.at(0);
  CHECK(source.name == "cin");
  CHECK(source.format == rules::Format::kXlsx);
  CHECK(source.sheet == "List 6");
  CHECK(source.files == "*.xlsx");
  CHECK(source.key == std::vector<std::string>{"Child Unique ID"});
  CHECK(source.date_formats == std::vector<std::string>{"%d/%m/%Y", "%Y-%m-%d"});
  REQUIRE(field(source, "worker"));
  CHECK(field(source, "worker")->headers == std::vector<std::string>{"Allocated Worker"});
  REQUIRE(field(source, "last_seen"));
  CHECK(field(source, "last_seen")->is_date);  // a profile's date field, though no rule reads it
  CHECK(field(source, "cin_start")->is_date);
  CHECK(source.field_index("opened") == -1);  // unallocated "since at least" the first extract
  CHECK_FALSE(field(source, "status")->is_date);
}

TEST_CASE("every profile loads, and its keys can be overridden", "[config][profile]") {
  for (const char* name : {"annex-a/list-4", "annex-a/list-5", "annex-a/list-6", "annex-a/list-7",
                           "annex-a/list-8", "ssda903/episodes", "ssda903/reviews",
                           "ssda903/social-workers", "cin/assessments", "cin/section47"}) {
    INFO(name);
    CHECK(errors_of(std::string("[[source]]\nname = \"s\"\nprofile = \"") + name + "\"\n").empty());
  }
  const auto config = config::parse_config(
      "[[source]]\n"
      "name = \"cin\"\n"
      "profile = \"annex-a/list-6\"\n"
      "files = \"performance-pack*.xlsx\"\n"
      "sheet = \"CIN\"\n"
      "date_formats = [\"%d/%m/%Y\"]\n"
      "[source.fields]\n"
      "worker = [\"Allocated Worker\", \"Social Worker\"]\n"
      "locality = \"Locality\"\n",
      kFile);
  const rules::Source& source = config.rules.sources.at(0);
  CHECK(source.files == "performance-pack*.xlsx");
  CHECK(source.sheet == "CIN");
  CHECK(source.date_formats == std::vector<std::string>{"%d/%m/%Y"});
  CHECK(field(source, "worker")->headers ==
        std::vector<std::string>{"Allocated Worker", "Social Worker"});
  REQUIRE(field(source, "locality"));
  CHECK(field(source, "cin_start")->headers == std::vector<std::string>{"CIN Start Date"});
}

TEST_CASE("the CIN and SSDA903 profiles", "[config][profile]") {
  const auto config = config::parse_config(
      "[[source]]\nname = \"a\"\nprofile = \"cin/section47\"\n"
      "[[source]]\nname = \"b\"\nprofile = \"ssda903/reviews\"\n",
      kFile);
  const auto& s47 = config.rules.sources.at(0);
  CHECK(s47.format == rules::Format::kCinXml);
  CHECK(s47.record == "Section47");
  CHECK(s47.as_of_column == "ReferenceDate");
  CHECK(field(s47, "icpc_not_required")->headers == std::vector<std::string>{"ICPCnotRequired"});
  const auto& reviews = config.rules.sources.at(1);
  CHECK(reviews.format == rules::Format::kCsv);
  CHECK(reviews.key == std::vector<std::string>{"CHILD", "REVIEW", "REVIEW_CODE"});
  CHECK(field(reviews, "review")->is_date);
}

TEST_CASE("an unknown profile or format is an error naming the choices", "[config][profile]") {
  const auto errors = errors_of("[[source]]\nname = \"s\"\nprofile = \"annex-a/list-9\"\n");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find(":3: ") != std::string::npos);
  CHECK(errors[0].find("unknown profile 'annex-a/list-9': expected one of annex-a/list-4, "
                       "annex-a/list-5") != std::string::npos);
  const auto format = errors_of(
      "[[source]]\nname = \"s\"\nkey = \"k\"\nformat = \"ods\"\n[source.fields]\nx = \"X\"\n");
  REQUIRE(format.size() == 1);
  CHECK(format[0].find("unknown format 'ods': expected \"csv\", \"xlsx\" or \"cin-xml\"") !=
        std::string::npos);
  const auto record = errors_of(
      "[[source]]\nname = \"s\"\nkey = \"k\"\nformat = \"cin-xml\"\n[source.fields]\nx = \"X\"\n");
  REQUIRE(record.size() == 1);
  CHECK(record[0].find("no 'record'") != std::string::npos);
}

TEST_CASE("workbook and census sources may share a glob; a set groups two or more CSV sources",
          "[config][profile][groups]") {
  const auto config = config::parse_config(
      "[[source]]\nname = \"assessments\"\nprofile = \"annex-a/list-4\"\n"
      "files = \"annex-a*.xlsx\"\n"
      "[[source]]\nname = \"cin\"\nprofile = \"annex-a/list-6\"\nfiles = \"annex-a*.xlsx\"\n"
      "[[source]]\nname = \"episodes\"\nprofile = \"ssda903/episodes\"\nset = \"ssda903\"\n"
      "[[source]]\nname = \"reviews\"\nprofile = \"ssda903/reviews\"\nset = \"ssda903\"\n",
      kFile);
  CHECK(config.rules.sources.at(0).set.empty());
  CHECK(config.rules.sources.at(2).set == "ssda903");
  CHECK(config.rules.sources.at(3).set == "ssda903");
}

TEST_CASE("sources sharing files or a set are checked, each error with its line",
          "[config][profile][groups]") {
  const auto errors_at = [](const std::string& text) { return errors_of(text); };
  const std::string file = kFile.string();
  // Another format under the same glob.
  CHECK(errors_at("[[source]]\nname = \"a\"\nprofile = \"annex-a/list-6\"\nfiles = \"x*\"\n"
                  "[[source]]\nname = \"b\"\nprofile = \"cin/assessments\"\nfiles = \"x*\"\n") ==
        std::vector<std::string>{
            file + ":8: source 'b' reads the same files ('x*') as source 'a' (line 4) in "
                   "another format (cin-xml, not xlsx): sources sharing a file must have the "
                   "same format"});
  // Two CSV sources under the same glob: as ever, a file feeds the first.
  CHECK(errors_at("[[source]]\nname = \"a\"\nprofile = \"ssda903/reviews\"\n"
                  "[[source]]\nname = \"b\"\nprofile = \"ssda903/reviews\"\n")
            .empty());
  // A set of one (a misspelt name), a set on a workbook, a set with an as-of column.
  CHECK(errors_at("[[source]]\nname = \"a\"\nprofile = \"ssda903/episodes\"\nset = \"ssda903\"\n"
                  "[[source]]\nname = \"b\"\nprofile = \"ssda903/reviews\"\nset = \"ssda-903\"\n"
                  "[[source]]\nname = \"c\"\nprofile = \"annex-a/list-6\"\nset = \"ssda903\"\n"
                  "[[source]]\nname = \"d\"\nprofile = \"ssda903/social-workers\"\n"
                  "as_of_column = \"DATE\"\nset = \"ssda903\"\n"
                  "[[source]]\nname = \"e\"\nprofile = \"ssda903/reviews\"\n"
                  "files = \"e*.csv\"\nset = \"ssda903\"\n") ==
        std::vector<std::string>{
            file + ":8: set 'ssda-903' has one source ('b'): a set groups the files of two or "
                   "more sources (is its name spelt as in the others?)",
            file + ":12: 'set' needs format = \"csv\": a workbook or CIN census file already "
                   "feeds all its sources together",
            file + ":17: 'set' cannot be used with 'as_of_column': a set's files are matched by "
                   "the date in their names (else their modification date), before they are "
                   "read"});
}
