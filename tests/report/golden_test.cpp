#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "report/report.h"
#include "tests/report/fixture.h"
#include "tests/support/temp_dir.h"

namespace {

const std::filesystem::path kGolden =
    std::filesystem::path(CASEWATCH_SOURCE_DIR) / "tests" / "report" / "golden";

bool updating() {
  const char* flag = std::getenv("CASEWATCH_UPDATE_GOLDEN");
  return flag != nullptr && std::string(flag) == "1";
}

// Compares `actual` with the golden file, or rewrites it (and fails, saying so) when
// CASEWATCH_UPDATE_GOLDEN=1.
void check_golden(const std::string& name, const std::string& actual) {
  const auto file = kGolden / name;
  if (updating()) {
    std::ofstream out(file, std::ios::binary);
    out << actual;
    FAIL("rewrote " << file.string()
                    << " (CASEWATCH_UPDATE_GOLDEN=1); check the diff, commit it "
                       "and run again without the variable");
  }
  REQUIRE(std::filesystem::exists(file));
  CHECK(actual == test_support::read_file(file));
}

}  // namespace

TEST_CASE("the text review of the fixed week matches its golden file", "[report][golden]") {
  const auto fixture = report_test::week_47();
  check_golden("review.txt", report::render_text(fixture->review));
}

TEST_CASE("the HTML review of the fixed week matches its golden file", "[report][golden]") {
  const auto fixture = report_test::week_47();
  check_golden("review.html", report::render_html(fixture->review));
}

TEST_CASE("the CSV review of the fixed week matches its golden file", "[report][golden]") {
  const auto fixture = report_test::week_47();
  check_golden("review.csv", report::render_csv(fixture->review, report::known_fields()));
}
