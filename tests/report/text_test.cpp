#include <catch2/catch.hpp>
#include <sstream>
#include <string>

#include "report/report.h"
#include "tests/report/fixture.h"
#include "tests/support/seed_table.h"

using report_test::d;

namespace {

std::size_t code_points(const std::string& line) {
  std::size_t n = 0;
  for (const char c : line) {
    n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  }
  return n;
}

// The lines longer than 100 columns, with their numbers.
std::string long_lines(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  std::string found;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (code_points(line) > 100) {
      found += std::to_string(number) + ": " + line + "\n";
    }
  }
  return found;
}

// A week whose data is as awkward as real extracts get: long keys, names and teams, UTF-8,
// newlines and tabs in a note, many weeks carried.
std::unique_ptr<report_test::Fixture> awkward_week() {
  auto fixture = report_test::week_47();
  auto& open = fixture->review.sections[0].open;
  rules::Finding f{.rule = "unallocated",
                   .key = "LONGKEY-0000000000000000000001|SECOND-PART-OF-THE-KEY",
                   .person = "P-0000000000000000000000000001",
                   .team = "Children With Disabilities Team (North East Locality) — Zoë's team",
                   .worker = "Dr Siobhán Ní Bhriain-Featherstonehaugh (Agency Locum Worker)",
                   .band = "3 months or more"};
  f.since = d(2025, 1, 1);
  f.days = 688;
  auto item = report_test::tracked(f, rules::FindingStatus::kCarried, 99, d(2025, 1, 3));
  item.silenced = true;
  item.latest_note = rules::Note{
      std::string("Line one\nline two\r\n\tand a very ") + std::string(300, 'x') + " end",
      "Ms Ångström-Longname of the Quality Assurance and Performance Team", "not a time"};
  open.push_back(item);
  return fixture;
}

}  // namespace

TEST_CASE("every line of the text review fits 100 columns", "[report][text]") {
  SECTION("the fixed week") {
    CHECK(long_lines(report::render_text(report_test::week_47()->review)).empty());
  }
  SECTION("awkward data") {
    const auto fixture = awkward_week();
    const std::string text = report::render_text(fixture->review);
    CHECK(long_lines(text).empty());
    // Long keys and names wrap in their columns; the band never wraps mid-phrase.
    const auto row = text.find("\n  LONGKEY-0000");
    REQUIRE(row != std::string::npos);
    const std::string line = text.substr(row + 1, text.find('\n', row + 1) - row - 1);
    CHECK(line.find("3 months or more") != std::string::npos);
    CHECK(line.find("CARRIED (99") != std::string::npos);
  }
  SECTION("a team slice") {
    const auto fixture = awkward_week();
    CHECK(long_lines(report::render_text(report::for_teams(fixture->review, {"*"}))).empty());
  }
  SECTION("the seed committee table") {
    const auto seed = test_support::essex_seed_table();
    report::Review review;
    review.week = rules::iso_week(seed.as_of);
    review.today = seed.as_of;
    report::RuleSection section;
    section.rule = &seed.rule;
    section.as_of = seed.as_of;
    for (int i = 0; i < 60; ++i) {
      rules::Finding f{.rule = "unallocated",
                       .key = "CASE-" + std::to_string(i),
                       .person = "C" + std::to_string(100000 + i),
                       .team = "North Quadrant Team",
                       .band = "1 to 2 months"};
      f.since = seed.as_of - (30 + i);
      f.days = 30 + i;
      section.open.push_back(report_test::tracked(f, rules::FindingStatus::kNew, 0, seed.as_of));
    }
    review.sections.push_back(section);
    CHECK(long_lines(report::render_text(review)).empty());
  }
}

TEST_CASE("control characters in a note never reach the text review", "[report][text]") {
  const auto fixture = awkward_week();
  const std::string text = report::render_text(fixture->review);
  CHECK(text.find('\r') == std::string::npos);
  CHECK(text.find('\t') == std::string::npos);
  CHECK(text.find("Note (Ms Ångström-Longname of the Quality Assurance and Performance Team, not a "
                  "time): Line\n      one line two and a very\n      xxxxxxxxxx") !=
        std::string::npos);
}

TEST_CASE("a week with no findings says so plainly", "[report][text]") {
  rules::Rule rule = report_test::unallocated_rule();
  report::Review review;
  review.week = rules::IsoWeek{2026, 47};
  review.today = d(2026, 11, 22);
  report::RuleSection section;
  section.rule = &rule;
  section.as_of = d(2026, 11, 20);
  section.previous_review = d(2026, 11, 13);
  section.previous_week = rules::iso_week(d(2026, 11, 13));
  review.sections.push_back(section);

  const std::string text = report::render_text(review);
  CHECK(text ==
        "casewatch weekly review: 2026-W47 (16 Nov 2026 to 22 Nov 2026), as of 22 Nov 2026\n"
        "=================================================================================\n"
        "\n"
        "Summary\n"
        "-------\n"
        "- Cases unallocated over 4 weeks: 0 on the list (last review 0, no change)\n"
        "\n"
        "Cases unallocated over 4 weeks\n"
        "------------------------------\n"
        "Rule unallocated, evaluated as of 20 Nov 2026.\n"
        "Compared with the review of 2026-W46 (as of 13 Nov 2026).\n"
        "\n"
        "No cases unallocated over 4 weeks this week.\n"
        "\n"
        "RESOLVED since last review (0)\n"
        "None.\n");
  CHECK(report::render_html(review).find("No cases unallocated over 4 weeks this week.") !=
        std::string::npos);
}

TEST_CASE("a baseline list says it has no earlier week to compare with", "[report][text]") {
  rules::Rule rule = report_test::unallocated_rule();
  report::Review review;
  review.week = rules::IsoWeek{2026, 47};
  review.today = d(2026, 11, 22);
  review.late = true;
  report::RuleSection section;
  section.rule = &rule;
  section.as_of = d(2026, 11, 20);
  section.baseline = true;
  review.sections.push_back(section);

  const std::string text = report::render_text(review);
  CHECK(text.find("Produced late: the service was down at the scheduled time.\n") !=
        std::string::npos);
  CHECK(text.find("First review: there is no earlier review to compare with; every item is "
                  "NEW.\n") != std::string::npos);
  CHECK(text.find("RESOLVED") == std::string::npos);
}

TEST_CASE("review items are grouped by team, most overdue first, data problems apart",
          "[report][text]") {
  const std::string text = report::render_text(report_test::week_47()->review);
  const auto at = [&](const std::string& s) { return text.find(s); };
  CHECK(at("Team: North Assessment (2)") < at("C-1001"));
  CHECK(at("C-1001") < at("C-1002"));  // 80 days before 39 days
  CHECK(at("C-1002") < at("Team: South & East <Family Support> (1)"));
  CHECK(at("Data cleansing: dates that cannot be trusted (1)") < at("C-1004"));
  CHECK(text.find("  C-1002  P-502   no worker (Duty)        12 Oct 2026     39  1 to 2 months  "
                  "NEW, silenced\n") != std::string::npos);
  CHECK(text.find("VANISHED from the extract") != std::string::npos);
}

TEST_CASE("text: keys that now belong to a different person are a data-quality section") {
  auto fixture = report_test::week_47();
  auto& review = fixture->review;
  review.person_changes = {{"cases", "cases_2026-11-17.csv", d(2026, 11, 17), "EP-1042", 5},
                           {"cases", "cases_2026-11-18.csv", d(2026, 11, 18), "EP-2001", 9}};
  const auto text = report::render_text(review);
  CHECK(text.find("Data quality: keys that now belong to a different person (2)") !=
        std::string::npos);
  CHECK(text.find("EP-1042") != std::string::npos);
  CHECK(text.find("17 Nov 2026") != std::string::npos);
  CHECK(long_lines(text).empty());
  const auto html = report::render_html(review);
  CHECK(html.find("Data quality: keys that now belong to a different person (2)") !=
        std::string::npos);
  CHECK(html.find("EP-2001") != std::string::npos);

  // A body that may not show keys says how many and where they are; a team's slice has none.
  report::Output no_keys;
  no_keys.fields = std::vector<std::string>{"rule", "team", "band", "status"};
  const auto body = report::render_text(review, no_keys);
  CHECK(body.find("2 record keys named a different person") != std::string::npos);
  CHECK(body.find("The keys are in the review files.") != std::string::npos);
  CHECK(body.find("EP-1042") == std::string::npos);
  CHECK(report::render_html(review, no_keys).find("EP-1042") == std::string::npos);
  CHECK(report::for_teams(review, {"Team A"}).person_changes.empty());
}
