#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "report/report.h"
#include "tests/report/fixture.h"
#include "tests/support/temp_dir.h"

namespace {

using Rows = std::vector<std::vector<std::string>>;

// Reads `csv` back with Python's csv module (a real RFC 4180 reader): fields joined by \x1f,
// rows ended by \x1e.
Rows read_with_python(const std::string& csv) {
  test_support::TempDir dir;
  const auto file = dir.write("review.csv", csv);
  const std::string command =
      "/usr/bin/python3 -c 'import csv,sys\n"
      "raw = open(sys.argv[1], \"rb\").read()\n"
      "assert raw.startswith(b\"\\xef\\xbb\\xbf\"), \"no BOM\"\n"
      "for row in csv.reader(open(sys.argv[1], newline=\"\", encoding=\"utf-8-sig\"), "
      "strict=True):\n"
      "    sys.stdout.write(\"\\x1f\".join(row) + \"\\x1e\")' " +
      file.string();
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  char buffer[4096];
  std::size_t n = 0;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) {
    out.append(buffer, n);
  }
  REQUIRE(pclose(pipe) == 0);
  Rows rows;
  std::vector<std::string> row;
  std::string field;
  for (const char c : out) {
    if (c == '\x1f') {
      row.push_back(field);
      field.clear();
    } else if (c == '\x1e') {
      row.push_back(field);
      field.clear();
      rows.push_back(row);
      row.clear();
    } else {
      field += c;
    }
  }
  return rows;
}

}  // namespace

TEST_CASE("the CSV review reads back with a real CSV parser, field for field", "[report][csv]") {
  auto fixture = report_test::week_47();
  auto& item = fixture->review.sections[0].open[3];
  REQUIRE(item.finding.key == "C-1001");
  item.latest_note =
      rules::Note{"Strategy meeting, 3 Dec;\r\nsaid \"later\"\nsee plan", "J Smith", "2026-11-19"};
  item.finding.worker = "=HYPERLINK(\"x\")";
  item.finding.detail = "allocation ended 2026-03-05";
  const std::string csv = report::render_csv(
      fixture->review, {"key", "team", "worker", "status", "note", "resolved_on", "reason",
                        "days_unallocated", "days_overdue", "due_in_days"});
  CHECK(csv.starts_with("\xEF\xBB\xBFkey,team,"));

  const Rows rows = read_with_python(csv);
  REQUIRE(rows.size() == 11);  // header + 7 unallocated + 3 single assessments
  CHECK(rows[0] == std::vector<std::string>{"key", "team", "worker", "status", "note",
                                            "resolved_on", "reason", "days_unallocated",
                                            "days_overdue", "due_in_days"});
  CHECK(rows[1] == std::vector<std::string>{"C-1001", "North Assessment",
                                            "'=HYPERLINK(\"x\") (ended 2026-03-05)", "carried",
                                            "Strategy meeting, 3 Dec;\r\nsaid \"later\"\nsee plan",
                                            "", "", "80", "", ""});
  // A team's own name as the worker is no worker.
  CHECK(rows[3] == std::vector<std::string>{
                       "C-1003", "South & East <Family Support>", "no worker (Team South)",
                       "carried", "Allocation panel \"Tuesday\" agreed O'Neill's transfer", "", "",
                       "31", "", ""});
  CHECK(rows[4] ==
        std::vector<std::string>{"C-1004", "", "no worker", "new", "", "", "", "", "", ""});
  // Resolved rows: by team, then key, with the date and the reason (ISO dates in the CSV).
  CHECK(rows[5] == std::vector<std::string>{"C-0990", "North Assessment", "no worker", "resolved",
                                            "", "2026-11-20",
                                            "allocated to A Patel (seen 2026-11-20)", "", "", ""});
  CHECK(rows[6][0] == "C-0992");
  CHECK(rows[6][6] == "Case closed (by 2026-11-20)");
  const std::string vanished =
      "VANISHED from the extract (by 2026-11-20): not confirmed fixed, check the case";
  CHECK(rows[7] == std::vector<std::string>{"C-0991", "South & East <Family Support>", "no worker",
                                            "resolved", "", "2026-11-20", vanished, "", "", ""});
  // Overdue and due soon are separate columns, never negative.
  CHECK(rows[8] == std::vector<std::string>{"A-2001", "North Assessment", "B Jones", "new", "", "",
                                            "", "", "45", ""});
  CHECK(rows[9] == std::vector<std::string>{"A-2002", "South & East <Family Support>", "C O'Brien",
                                            "new", "", "", "", "", "", "3"});
}

TEST_CASE("the CSV review keeps only allowed columns, in the order given", "[report][csv]") {
  const auto fixture = report_test::week_47();
  const std::string csv =
      report::render_csv(fixture->review, {"due", "no_such_column", "key", "person"});
  CHECK(
      csv.starts_with("\xEF\xBB\xBF"
                      "due,key,person\r\n"
                      ",C-1001,P-501\r\n"));
  CHECK(csv.find("\r\n2026-10-06,A-2001,P-601\r\n") != std::string::npos);
  CHECK(csv.find("Duty") == std::string::npos);
  CHECK(csv.ends_with("\r\n"));
  CHECK(csv.find('\n') == csv.find("\r\n") + 1);
}

TEST_CASE("the CSV review has its header row even with nothing to list", "[report][csv]") {
  report::Review empty;
  empty.week = rules::IsoWeek{2026, 47};
  const std::string csv = report::render_csv(empty, report::default_fields());
  const Rows rows = read_with_python(csv);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0] == report::default_fields());
}

TEST_CASE("the known fields are the documented ones, each with a CSV column", "[report][csv]") {
  CHECK(report::known_fields() ==
        std::vector<std::string>{
            "rule",         "title",       "key",           "person", "team",
            "worker",       "band",        "status",        "since",  "days_unallocated",
            "start",        "due",         "due_inferred",  "end",    "working_days_elapsed",
            "days_overdue", "due_in_days", "weeks_on_list", "note",   "note_author",
            "note_at",      "resolved_on", "reason"});
  const auto fixture = report_test::week_47();
  const Rows rows = read_with_python(report::render_csv(fixture->review, report::known_fields()));
  CHECK(rows[0] == report::known_fields());
  // The default allow-list holds no person identifier and no note text.
  for (const auto& field : report::default_fields()) {
    CHECK(field != "person");
    CHECK(field != "note");
    CHECK(field != "note_author");
  }
}

TEST_CASE("the CSV marks a due date inferred from a latest-event column", "[report][csv]") {
  // Looked-after reviews from Annex A List 8 (latest review only) beside the fixture's rules.
  // Child L-1 came into care Mon 5 Oct 2026 with no review yet: due 20 working days later,
  // Mon 2 Nov, known exactly. L-2's latest review was 4 May 2026: read as a later review, the
  // next is due 6 months after, Wed 4 Nov 2026, inferred.
  auto fixture = report_test::week_47();
  rules::Rule rule;
  rule.id = "lac-reviews";
  rule.kind = rules::RuleKind::kRecurring;
  rule.title = "Looked-after reviews";
  report::RuleSection section;
  section.rule = fixture->add_rule(rule);
  section.as_of = report_test::d(2026, 11, 20);
  rules::Finding exact{.rule = "lac-reviews", .key = "L-1", .team = "Looked After"};
  exact.state = rules::State::kOverdue;
  exact.start = report_test::d(2026, 10, 5);
  exact.due = report_test::d(2026, 11, 2);
  exact.days = 18;
  rules::Finding inferred{.rule = "lac-reviews", .key = "L-2", .team = "Looked After"};
  inferred.state = rules::State::kOverdue;
  inferred.start = report_test::d(2025, 6, 2);
  inferred.due = report_test::d(2026, 11, 4);
  inferred.end = report_test::d(2026, 5, 4);
  inferred.days = 16;
  inferred.assumed_interval = true;
  const auto seen = report_test::d(2026, 11, 20);
  section.open = {report_test::tracked(exact, rules::FindingStatus::kNew, 0, seen),
                  report_test::tracked(inferred, rules::FindingStatus::kNew, 0, seen)};
  fixture->review.sections.push_back(std::move(section));

  const Rows rows =
      read_with_python(report::render_csv(fixture->review, {"key", "due", "due_inferred"}));
  REQUIRE(rows.size() == 13);  // header, 10 fixture rows, 2 looked-after reviews
  // Unallocated rows have no due date, so no mark; a timescale's due date is never inferred.
  CHECK(rows[1] == std::vector<std::string>{"C-1001", "", ""});
  CHECK(rows[8] == std::vector<std::string>{"A-2001", "2026-10-06", "no"});
  CHECK(rows[11] == std::vector<std::string>{"L-1", "2026-11-02", "no"});
  CHECK(rows[12] == std::vector<std::string>{"L-2", "2026-11-04", "yes"});
  // In the default columns, right after the due date.
  const Rows all = read_with_python(report::render_csv(fixture->review, report::default_fields()));
  const auto& header = all[0];
  const auto due = std::find(header.begin(), header.end(), "due");
  REQUIRE(due + 1 < header.end());
  CHECK(*(due + 1) == "due_inferred");
  CHECK(all[12][static_cast<std::size_t>(due + 1 - header.begin())] == "yes");
}
