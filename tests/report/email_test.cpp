// The review as it leaves the building: the allow-list in every part, bounded bodies, the
// summary first, the subject, and rows that cannot mislead.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "report/report.h"
#include "tests/report/fixture.h"

namespace {

using report_test::d;

report::Output email_output(std::vector<std::string> fields, std::size_t body_items = 20) {
  report::Output output;
  output.fields = std::move(fields);
  output.body_items = body_items;
  output.email = true;
  return output;
}

// A note that names a child, on C-1001.
std::unique_ptr<report_test::Fixture> with_named_child() {
  auto fixture = report_test::week_47();
  auto& item = fixture->review.sections[0].open[3];
  REQUIRE(item.finding.key == "C-1001");
  item.latest_note = rules::Note{"Jayden Okafor's mother asked for a new worker", "J Smith",
                                 "2026-11-19T10:15:00Z"};
  return fixture;
}

std::string fmt_key(int n) { return "K-" + std::to_string(100 + n); }

}  // namespace

TEST_CASE("by default no person identifier and no note text in the text and HTML bodies",
          "[report][email]") {
  const auto fixture = with_named_child();
  const auto output = email_output(report::default_fields());
  for (const std::string& body :
       {report::render_text(fixture->review, output), report::render_html(fixture->review, output),
        report::render_csv(fixture->review, report::default_fields()),
        report::subject(fixture->review)}) {
    for (const char* person : {"P-501", "P-502", "P-503", "P-504", "P-601", "P-602", "P-603"}) {
      CHECK(body.find(person) == std::string::npos);
    }
    CHECK(body.find("Jayden") == std::string::npos);
    CHECK(body.find("Okafor") == std::string::npos);
  }
  // The case key, team, worker and dates are there.
  const std::string text = report::render_text(fixture->review, output);
  CHECK(text.find("C-1001") != std::string::npos);
  CHECK(text.find("North Assessment") != std::string::npos);
  CHECK(text.find("B Jones") != std::string::npos);
  CHECK(text.find("1 Sep 2026") != std::string::npos);
}

TEST_CASE("a route's wider fields show person identifiers and notes", "[report][email]") {
  const auto fixture = with_named_child();
  auto fields = report::default_fields();
  fields.push_back("person");
  fields.push_back("note");
  const auto output = email_output(fields);
  for (const std::string& body : {report::render_text(fixture->review, output),
                                  report::render_html(fixture->review, output)}) {
    CHECK(body.find("P-501") != std::string::npos);
    CHECK(body.find("Jayden Okafor") != std::string::npos);
    CHECK(body.find("J Smith") == std::string::npos);  // note_author was not added
  }
  // The files on disk keep every field.
  const std::string file = report::render_text(fixture->review);
  CHECK(file.find("P-501") != std::string::npos);
  CHECK(file.find("Note (J Smith, 19 Nov 2026): Jayden Okafor") != std::string::npos);
}

TEST_CASE("the summary comes first, then the tables, trend and scorecard, then the lists",
          "[report][email]") {
  auto fixture = report_test::week_47();
  fixture->review.stale = {"cases, last extract as of 9 Nov 2026, 13 days before this review"};
  fixture->review.sections[0].team_bands = {
      {"unallocated", "Under 1 week", 10, "North Assessment"},
      {"unallocated", "1 to 2 months", 2, "North Assessment"},
      {"unallocated", "2 to 3 months", 1, "South & East <Family Support>"},
      {"unallocated", std::string(rules::kInaccuraciesBand), 1, ""},
  };
  for (const std::string& body :
       {report::render_text(fixture->review), report::render_html(fixture->review)}) {
    const auto at = [&](std::string_view what) {
      const auto pos = body.find(what);
      CAPTURE(what);
      REQUIRE(pos != std::string::npos);
      return pos;
    };
    CHECK(at("DATA OUT OF DATE: cases, last extract as of 9 Nov 2026") < at("Summary"));
    CHECK(at("Summary") < at("Cases unallocated over 4 weeks: 3 on the list (last review 5, -2)"));
    CHECK(at("Single assessments: 2 on the list (first review of this list): 1 overdue, 1 due "
             "soon") < at("all unallocated open cases by team"));
    CHECK(at("all unallocated open cases by team") < at("Single assessments: on the list by team"));
    CHECK(at("Single assessments: on the list by team") < at("All unallocated open cases"));
    CHECK(at("Over four weeks (listed)") < at("Trend"));
    CHECK(at("Trend") < at("Scorecard"));
    CHECK(at("Scorecard") < at("Team: North Assessment (2)"));
  }
}

TEST_CASE("the team x band table counts every unallocated case by team", "[report][email]") {
  auto fixture = report_test::week_47();
  auto& section = fixture->review.sections[0];
  section.team_bands = {{"unallocated", "Under 1 week", 7, "North"},
                        {"unallocated", "3 months or more", 2, "North"},
                        {"unallocated", "Under 1 week", 5, "East"},
                        {"unallocated", std::string(rules::kInaccuraciesBand), 1, ""}};
  const auto tables = report::team_tables(fixture->review);
  REQUIRE(tables.size() == 2);  // the empty CP review table is left out
  const auto& table = tables[0];
  CHECK(table.rule == "unallocated");
  REQUIRE(table.bands.size() == 8);
  CHECK(table.bands.front() == "Under 1 week");
  REQUIRE(table.rows.size() == 3);
  CHECK(table.rows[0].team == "East");
  CHECK(table.rows[0].total == 5);
  CHECK(table.rows[1].team == "North");
  CHECK(table.rows[1].counts[0] == 7);
  CHECK(table.rows[1].counts[6] == 2);
  CHECK(table.rows[1].total == 9);
  CHECK(table.rows[2].team.empty());
  CHECK(table.rows[2].counts[7] == 1);
  CHECK(table.band_totals[0] == 12);
  CHECK(table.grand_total == 15);
  // The timescale rule's table: the items on its list by state, data problems apart.
  const auto& timescale = tables[1];
  CHECK(timescale.rule == "single-assessment");
  CHECK(timescale.grand_total == 3);
}

TEST_CASE("a bounded body keeps NEW and note-due items before other CARRIED ones",
          "[report][email]") {
  auto fixture = report_test::week_47();
  auto& section = fixture->review.sections[0];
  section.open.clear();
  section.resolved.clear();
  const auto add = [&](int n, rules::FindingStatus status, const char* note_at) {
    rules::Finding f{.rule = "unallocated",
                     .key = fmt_key(n),
                     .person = "",
                     .team = "North",
                     .worker = "",
                     .band = "1 to 2 months"};
    f.since = d(2026, 10, 1);
    f.days = 100 - n;  // listed by n
    auto item = report_test::tracked(f, status, status == rules::FindingStatus::kNew ? 0 : 3,
                                     d(2026, 10, 20));
    if (note_at != nullptr) {
      item.latest_note = rules::Note{"in hand", "J Smith", note_at};
    }
    section.open.push_back(item);
  };
  // 0-9: CARRIED with a note written since the last review (13 Nov); 10-14: CARRIED with an old
  // note (a note is due); 15-19: NEW.
  for (int n = 0; n < 20; ++n) {
    if (n < 10) {
      add(n, rules::FindingStatus::kCarried, "2026-11-18T09:00:00Z");
    } else if (n < 15) {
      add(n, rules::FindingStatus::kCarried, "2026-11-02T09:00:00Z");
    } else {
      add(n, rules::FindingStatus::kNew, nullptr);
    }
  }
  const std::string text = report::render_text(fixture->review, email_output({"key"}, 12));
  for (int n = 10; n < 20; ++n) {
    CHECK(text.find(fmt_key(n)) != std::string::npos);
  }
  CHECK(text.find(fmt_key(0)) != std::string::npos);
  CHECK(text.find(fmt_key(1)) != std::string::npos);
  CHECK(text.find(fmt_key(2)) == std::string::npos);
  CHECK(text.find("and 8 more in the attached CSV") != std::string::npos);
  // Kept items stay most overdue first.
  CHECK(text.find(fmt_key(1)) < text.find(fmt_key(10)));
  const std::string html = report::render_html(fixture->review, email_output({"key"}, 12));
  CHECK(html.find("and 8 more in the attached CSV") != std::string::npos);
  // The files on disk list everything.
  CHECK(report::render_text(fixture->review).find(fmt_key(9)) != std::string::npos);
}

TEST_CASE("the subject is short, plain and carries the headline and its change",
          "[report][email]") {
  auto fixture = report_test::week_47();
  CHECK(report::subject(fixture->review) ==
        "casewatch 2026-W47: 3 unallocated over 4 weeks (-2); 1 overdue");
  fixture->review.sections[0].previous_count = 1;
  CHECK(report::subject(fixture->review) ==
        "casewatch 2026-W47: 3 unallocated over 4 weeks (+2); 1 overdue");
  fixture->review.stale = {"cases, ..."};
  // 80 characters with the change: the change goes first, the headline stays.
  CHECK(report::subject(fixture->review) ==
        "DATA OUT OF DATE: casewatch 2026-W47: 3 unallocated over 4 weeks; 1 overdue");
  fixture->review.sections[1].no_data = "no extract of 'assessments' has been ingested";
  const std::string no_data = report::subject(fixture->review);
  CHECK(no_data.starts_with("NO DATA: DATA OUT OF DATE: casewatch 2026-W47"));
  CHECK(no_data.size() < 80);
  const auto fresh = report_test::week_47();  // the slice points into its rules: keep it alive
  auto slice = report::for_teams(fresh->review, {"North*"});
  slice.route = "north-and-central-assessment-and-family-support-teams-route";
  const std::string team = report::subject(slice);
  CHECK(team.size() < 80);
  CHECK(team.starts_with("casewatch 2026-W47 north-and-central"));
  CHECK(team.find("North*") == std::string::npos);
  CHECK(team.find("unallocated over 4 weeks") != std::string::npos);
}

TEST_CASE("rows that cannot mislead", "[report][email]") {
  auto fixture = report_test::week_47();
  auto& a = fixture->review.sections[0].open[3].finding;
  REQUIRE(a.key == "C-1001");
  a.worker = "K Reed";
  a.detail = "allocation ended 2026-03-05";
  const std::string text = report::render_text(fixture->review);
  // In text the parenthesis is held together (no-break spaces), so it never wraps inside.
  CHECK(text.find("K Reed") != std::string::npos);
  CHECK(text.find("(ended\u00A05\u00A0Mar\u00A02026)") != std::string::npos);
  CHECK(text.find("no worker (Duty)") != std::string::npos);
  CHECK(report::render_html(fixture->review).find("no worker (Team South)") !=
        std::string::npos);  // a name on the unallocated list stands for nobody
  CHECK(report::render_html(fixture->review).find("K Reed (ended 5 Mar 2026)") !=
        std::string::npos);
  // Bands are never cut mid-phrase.
  fixture->review.sections[0].open[2].finding.band = "3 months or more";
  CHECK(report::render_text(fixture->review).find("3 months or more") != std::string::npos);
  // RESOLVED by team, then key; dates in one style.
  const auto at = [&](std::string_view what) { return text.find(what); };
  CHECK(at("C-0990") < at("C-0992"));
  CHECK(at("C-0992") < at("C-0991"));
  CHECK(text.find("2026-0") == std::string::npos);
  CHECK(text.find("2026-1") == std::string::npos);
}
