#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <string>

#include "ingest/ingest.h"
#include "tests/support/temp_dir.h"

TEST_CASE("as_of_from_file_name finds the first real YYYY-MM-DD or YYYYMMDD date",
          "[ingest][inbox]") {
  auto [name, expected] = GENERATE(table<std::string, std::string>({
      {"cases_2026-11-23.csv", "2026-11-23"},
      {"export20261123.csv", "2026-11-23"},
      {"cases-2026-02-30-then-2026-03-01.csv", "2026-03-01"},  // 30 Feb is not a date
      {"v2_20261301_20261124.csv", "2026-11-24"},              // month 13 is not a date
      {"cases_120261123.csv", ""},                             // nine digits: part of a longer run
      {"cases_202611234.csv", ""},                             // nine digits
      {"cases_12026-11-23.csv", ""},                           // five-digit year
      {"cases_2026-11-234.csv", ""},                           // three-digit day
      {"cases_2026-11-2.csv", ""},
      {"cases_26-11-23.csv", ""},  // two-digit year
      {"cases.csv", ""},
      {"2024-02-29.csv", "2024-02-29"},
      {"2023-02-29.csv", ""},
  }));
  CAPTURE(name);
  const auto date = ingest::as_of_from_file_name(name);
  CHECK((date ? date->iso() : std::string()) == expected);
}

TEST_CASE("glob_match follows fnmatch for '*', '?' and brackets", "[ingest][inbox]") {
  auto [pattern, name, matches] = GENERATE(table<std::string, std::string, bool>({
      {"*.csv", "cases.csv", true},
      {"*.csv", "cases.csv.part", false},
      {"cases*.csv", "cases_2026-11-23.csv", true},
      {"cases*.csv", "Cases_2026-11-23.csv", false},  // case-sensitive, as fnmatch
      {"cases*.csv", "assessments.csv", false},
      {"cases?.csv", "cases1.csv", true},
      {"cases?.csv", "cases.csv", false},
      {"cases[0-9].csv", "cases7.csv", true},
      {"cases[0-9].csv", "casesx.csv", false},
      {"cases[!0-9].csv", "casesx.csv", true},
      {"cases[abc].csv", "casesb.csv", true},
      {"*_*_*.csv", "a_b_c.csv", true},
      {"*_*_*.csv", "a_b.csv", false},
      {"*", "", true},
      {"", "", true},
      {"", "a", false},
      {"a*b*c", "aXbYbZc", true},
      {"a*b*c", "aXbYbZ", false},
      {"[ab", "[ab", true},  // an unclosed bracket is literal
  }));
  CAPTURE(pattern, name);
  CHECK(ingest::glob_match(pattern, name) == matches);
}

TEST_CASE("scan_inbox lists matching files oldest first and ignores the rest", "[ingest][inbox]") {
  namespace fs = std::filesystem;
  test_support::TempDir dir;
  const auto base = fs::file_time_type::clock::now() - std::chrono::hours(24);
  const auto write = [&](const std::string& name, int minutes) {
    const auto file = dir.write(name, "x");
    fs::last_write_time(file, base + std::chrono::minutes(minutes));
  };
  write("cases_2.csv", 10);
  write("cases_1.csv", 20);
  write("cases_0.csv", 20);  // same time as cases_1: by name
  write("assessments.csv", 5);
  write("other.txt", 1);
  write(".cases_hidden.csv", 1);
  write("cases_3.csv.tmp", 1);
  write("cases_4.csv.part", 1);
  fs::create_directory(dir / "cases_dir.csv");
  fs::create_symlink(dir / "cases_2.csv", dir / "cases_link.csv");

  rules::Source cases;
  cases.name = "cases";
  cases.files = "cases*.csv";
  rules::Source everything;
  everything.name = "everything";
  everything.files = "*.csv";

  const auto files = ingest::scan_inbox(dir.path(), {cases, everything});

  REQUIRE(files.size() == 4);
  CHECK(files[0].path == dir / "assessments.csv");
  CHECK(files[0].source == "everything");
  CHECK(files[1].path == dir / "cases_2.csv");
  CHECK(files[1].source == "cases");
  CHECK(files[2].path == dir / "cases_0.csv");
  CHECK(files[3].path == dir / "cases_1.csv");
  CHECK(files[1].modified == base + std::chrono::minutes(10));
}

TEST_CASE("scan_inbox throws when the inbox cannot be read", "[ingest][inbox]") {
  test_support::TempDir dir;
  CHECK_THROWS_AS(ingest::scan_inbox(dir / "absent", {}), std::filesystem::filesystem_error);
}

TEST_CASE("a workbook feeds every xlsx source whose glob matches; a CSV its first source only",
          "[ingest][inbox]") {
  test_support::TempDir dir;
  dir.write("annex-a_2026-11-23.xlsx", "x");
  dir.write("cases_2026-11-23.csv", "x");
  const auto source = [](std::string name, std::string files, rules::Format format) {
    rules::Source s;
    s.name = std::move(name);
    s.files = std::move(files);
    s.format = format;
    return s;
  };
  const std::vector<rules::Source> sources = {
      source("cases", "cases*.csv", rules::Format::kCsv),
      source("list-4", "annex-a*.xlsx", rules::Format::kXlsx),
      source("all-csv", "*.csv", rules::Format::kCsv),
      source("list-6", "annex-a*.xlsx", rules::Format::kXlsx),
      source("census", "*", rules::Format::kCinXml),  // matches, but another format
      source("list-8", "*.xlsx", rules::Format::kXlsx),
  };

  auto files = ingest::scan_inbox(dir.path(), sources);
  std::sort(files.begin(), files.end(),
            [](const auto& a, const auto& b) { return a.path < b.path; });

  REQUIRE(files.size() == 2);
  CHECK(files[0].source == "list-4");
  CHECK(files[0].sources == std::vector<std::string>{"list-4", "list-6", "list-8"});
  CHECK(files[1].source == "cases");
  CHECK(files[1].sources == std::vector<std::string>{"cases"});
}

TEST_CASE("group_inbox groups a set's files by as-of date and names the missing sources",
          "[ingest][inbox]") {
  const auto source = [](std::string name, std::string set) {
    rules::Source s;
    s.name = std::move(name);
    s.set = std::move(set);
    return s;
  };
  const std::vector<rules::Source> sources = {source("social-workers", "ssda903"),
                                              source("episodes", "ssda903"),
                                              source("reviews", "ssda903"), source("cases", "")};
  const auto file = [](const std::string& name, std::string source) {
    return ingest::InboxFile{name, source, {}, {source}};
  };
  const std::vector<ingest::InboxFile> files = {
      file("reviews_2026-03-31.csv", "reviews"),
      file("cases_2026-03-31.csv", "cases"),
      file("episodes_2026-03-31.csv", "episodes"),
      file("episodes_2026-04-07.csv", "episodes"),
      file("sw_episodes_2026-03-31.csv", "social-workers"),
      file("episodes_2026-03-31 (copy).csv", "episodes"),  // a second episodes file of that date
  };
  const auto as_of = [](const ingest::InboxFile& f) {
    return *ingest::as_of_from_file_name(f.path.filename().string());
  };

  const auto groups = ingest::group_inbox(files, sources, as_of);

  const auto names = [](const ingest::InboxGroup& g) {
    std::vector<std::string> out;
    for (const auto& f : g.files) {
      out.push_back(f.path.string());
    }
    return out;
  };
  REQUIRE(groups.size() == 4);
  CHECK(groups[0].set == "ssda903");
  CHECK(groups[0].as_of == *rules::Date::from_ymd(2026, 3, 31));
  CHECK(names(groups[0]) == std::vector<std::string>{"sw_episodes_2026-03-31.csv",
                                                     "episodes_2026-03-31.csv",
                                                     "reviews_2026-03-31.csv"});
  CHECK(groups[0].missing.empty());
  CHECK(groups[1].set.empty());
  CHECK(names(groups[1]) == std::vector<std::string>{"cases_2026-03-31.csv"});
  CHECK(groups[1].missing.empty());
  CHECK(names(groups[2]) == std::vector<std::string>{"episodes_2026-04-07.csv"});
  CHECK(groups[2].missing == std::vector<std::string>{"social-workers", "reviews"});
  CHECK(names(groups[3]) == std::vector<std::string>{"episodes_2026-03-31 (copy).csv"});
  CHECK(groups[3].missing == std::vector<std::string>{"social-workers", "reviews"});
}
