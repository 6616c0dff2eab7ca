// RecordView: dictionary coding, missing and blank values, dates as day numbers, the fields the
// rules read, and evaluation through a view of only those fields.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "rules/rules.h"
#include "tests/rules/rules_test_util.h"

using rules::DateValue;
using rules::FieldUse;
using rules::RecordView;
using rules_test::d;

namespace {

rules::Source three_fields() {
  rules::Source source;
  source.name = "s";
  source.fields = {{"team", {"Team"}, false}, {"opened", {"Opened"}, true}, {"note", {"N"}, false}};
  return source;
}

// A `cases` source of ten fields, each with its name as header; the last one no rule reads.
rules::Source ten_fields() {
  rules::Source source;
  source.name = "cases";
  for (const char* name : {"person", "team", "worker", "opened", "closed", "status",
                           "allocation_start", "allocation_end", "type", "unused"}) {
    source.fields.push_back({name, {name}, false});
  }
  return source;
}

}  // namespace

TEST_CASE("a view codes equal texts alike and keeps each record's key and text") {
  const std::vector<rules::Record> records = {
      {"1", {"Team A", "2026-01-05", "x"}},
      {"2", {"Team B", "2026-01-05", "y"}},
      {"3", {"Team A", "", "x"}},
      {"4|b", {"Team A"}},  // short: the missing values are ""
  };
  const RecordView view = RecordView::of(three_fields(), records);
  REQUIRE(view.size() == 4);
  CHECK(view.key(0) == "1");
  CHECK(view.key(3) == "4|b");
  CHECK(view.text(0, 0) == "Team A");
  CHECK(view.text(1, 0) == "Team B");
  CHECK(view.code(0, 0) == view.code(2, 0));
  CHECK(view.code(0, 0) == view.code(3, 0));
  CHECK(view.code(0, 0) != view.code(1, 0));
  // Code 0 is the empty text, for blank and missing values alike.
  CHECK(view.code(2, 1) == 0);
  CHECK(view.code(3, 1) == 0);
  CHECK(view.code(3, 2) == 0);
  CHECK(view.text(3, 2).empty());
  CHECK(view.codes(0) == 3);  // "", Team A, Team B
  CHECK(view.code_text(0, view.code(1, 0)) == "Team B");
  // A field that is not a field: empty, never out of range.
  CHECK_FALSE(view.holds(-1));
  CHECK_FALSE(view.holds(3));
  CHECK(view.text(0, -1).empty());
  CHECK(view.text(0, 7).empty());
  CHECK(view.date(0, -1).empty());
}

TEST_CASE("a text field of nearly all distinct texts is held without a dictionary, texts intact") {
  // 20,000 records: the team repeats (3 texts), the note is new in every record but a few, and
  // the date is new in every record (a date field keeps its dictionary: dates are read per text).
  std::vector<rules::Record> records;
  for (int i = 0; i < 20000; ++i) {
    const std::string note = i % 1000 == 999 ? "again" : "note " + std::to_string(i);
    const rules::Date opened = d(2000, 1, 1) + i;
    records.push_back({std::to_string(i), {i % 2 == 0 ? "Team A" : "Team B", opened.iso(), note}});
  }
  records[7].values[2].clear();
  const RecordView view = RecordView::of(three_fields(), records);
  REQUIRE(view.size() == records.size());
  bool all_intact = true;
  for (std::size_t row = 0; row < records.size(); ++row) {
    const auto& values = records[row].values;
    all_intact = all_intact && view.key(row) == records[row].key &&
                 view.text(row, 0) == values[0] && view.text(row, 1) == values[1] &&
                 view.text(row, 2) == values[2] && view.date(row, 1).is_date() &&
                 view.date(row, 1).date == d(2000, 1, 1) + static_cast<int>(row);
  }
  CHECK(all_intact);
  CHECK(view.codes(0) == 3);  // still a dictionary: "", Team A, Team B
  CHECK(view.codes(1) == 20001);
  // The note stopped being looked up: each later "again" has a code of its own.
  CHECK(view.code(998, 2) != view.code(19998, 2));
  CHECK(view.codes(2) > 19000);
  CHECK(view.code(7, 2) == 0);  // empty is still code 0
  CHECK(view.text(7, 2).empty());
}

TEST_CASE("a view reads dates once per distinct text, as day numbers") {
  struct Case {
    std::string text;
    DateValue::Kind kind;
    std::optional<rules::Date> date;
    std::string raw;
  };
  const std::vector<Case> cases = {
      {"2026-01-05", DateValue::Kind::kDate, d(2026, 1, 5), ""},
      {" 2024-02-29\t", DateValue::Kind::kDate, d(2024, 2, 29), ""},  // trimmed
      {"", DateValue::Kind::kEmpty, std::nullopt, ""},
      {"   ", DateValue::Kind::kEmpty, std::nullopt, ""},
      {"05/01/2026", DateValue::Kind::kBad, std::nullopt, "05/01/2026"},  // as ingest kept it
      {" 2026-02-30 ", DateValue::Kind::kBad, std::nullopt, "2026-02-30"},
  };
  std::vector<rules::Record> records;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    records.push_back({std::to_string(i), {"T", cases[i].text, ""}});
  }
  const RecordView view = RecordView::of(three_fields(), records);
  for (std::size_t i = 0; i < cases.size(); ++i) {
    INFO("'" << cases[i].text << "'");
    const DateValue& value = view.date(i, 1);
    CHECK(value.kind == cases[i].kind);
    if (cases[i].date) {
      CHECK(value.date == *cases[i].date);
    }
    CHECK(std::string(value.raw) == cases[i].raw);
    CHECK(view.text(i, 1) == cases[i].text);  // the text as stored, untrimmed
    // The same reading as for one record in memory.
    const DateValue parsed = rules::parse_date_value(cases[i].text);
    CHECK(parsed.kind == value.kind);
    CHECK(parsed.date == value.date);
  }
  CHECK(view.date(0, 1).date.days() - view.date(1, 1).date.days() == 676);
}

TEST_CASE("a builder holds only the fields it is told to, dates only where read as dates") {
  rules::RecordViewBuilder builder({FieldUse::kText, FieldUse::kNone, FieldUse::kText});
  builder.add(rules::Record{"1", {"Team A", "2026-01-05", "2026-01-06"}});
  std::vector<std::string_view> values = {"Team B", "2026-01-07"};
  builder.add("2", values);
  const RecordView view = builder.finish();
  REQUIRE(view.size() == 2);
  CHECK(view.holds(0));
  CHECK_FALSE(view.holds(1));
  CHECK(view.holds(2));
  CHECK(view.text(0, 1).empty());  // not held
  CHECK(view.text(0, 2) == "2026-01-06");
  CHECK(view.date(0, 2).empty());  // held as text only
  CHECK(view.text(1, 0) == "Team B");
  CHECK(view.text(1, 2).empty());  // missing
  CHECK(view.bytes() > 0);
}

TEST_CASE("fields_read names what each rule kind reads, filters included") {
  rules::RuleSet set;
  const rules::Source cases = ten_fields();
  rules::Source events;
  events.name = "events";
  for (const char* name : {"person", "held", "team", "other"}) {
    events.fields.push_back({name, {name}, false});
  }
  set.sources = {cases, events};
  rules::Rule unallocated;
  unallocated.id = "u";
  unallocated.source = "cases";
  unallocated.where = {{"type", {"Single"}}};
  set.rules.push_back(unallocated);
  const auto uses = rules::fields_read(set, cases);
  const std::vector<FieldUse> expected = {
      FieldUse::kText, FieldUse::kText, FieldUse::kText, FieldUse::kDate, FieldUse::kDate,
      FieldUse::kText, FieldUse::kDate, FieldUse::kDate, FieldUse::kText, FieldUse::kNone};
  CHECK(uses == expected);
  // No rule reads events yet.
  CHECK(rules::fields_read(set, events) == std::vector<FieldUse>(4, FieldUse::kNone));

  rules::Rule recurring;
  recurring.id = "r";
  recurring.kind = rules::RuleKind::kRecurring;
  recurring.source = "cases";
  recurring.start = "opened";
  recurring.events_source = "events";
  recurring.event = "held";
  recurring.unless = {{"other", {"x"}}};  // a field of the population source only
  set.rules = {recurring};
  CHECK(rules::fields_read(set, events) ==
        std::vector<FieldUse>{FieldUse::kText, FieldUse::kDate, FieldUse::kNone, FieldUse::kNone});
  const auto population = rules::fields_read(set, cases);
  CHECK(population[3] == FieldUse::kDate);  // opened: the start
  CHECK(population[4] == FieldUse::kNone);  // closed: not this rule's end
  CHECK(population[9] == FieldUse::kNone);

  rules::Rule timescale;
  timescale.id = "t";
  timescale.kind = rules::RuleKind::kTimescale;
  timescale.source = "cases";
  timescale.start = "opened";
  timescale.end = "unused";
  set.rules = {timescale};
  const auto timed = rules::fields_read(set, cases);
  CHECK(timed[3] == FieldUse::kDate);
  CHECK(timed[9] == FieldUse::kDate);
  CHECK(timed[5] == FieldUse::kNone);  // status: unallocated and caseload only
}

TEST_CASE("evaluating a view of only the fields read gives the findings of the records") {
  // An unallocated rule with a where filter over records with blank, bad and ended dates; the
  // same records as a view of every field (what evaluate() builds from records) and as a view
  // of only the fields the rule reads.
  const rules::Source source = ten_fields();
  rules::RuleSet set;
  set.sources = {source};
  rules::Rule rule;
  rule.id = "unallocated";
  rule.source = "cases";
  rule.open_values = {"Open"};
  rule.where = {{"type", {"a) Single"}}};
  set.rules = {rule};
  const std::vector<rules::Record> records = {
      {"1", {"P1", "Team A", "", "2026-01-05", "", "Open", "", "", "Single", "z"}},
      {"2", {"P2", "Team A", "Duty", "not a date", "", "open ", "", "", "single", "z"}},
      {"3",
       {"P3", "Team B", "Ann", "2026-01-05", "", "Open", "2026-01-06", "2026-02-01", "Single",
        "z"}},
      {"4", {"P4", "Team B", "", "2026-01-05", "2026-02-01", "Open", "", "", "Single", ""}},
      {"5", {"P5", "Team B", "", "2026-01-05", "", "Open", "", "", "Family", ""}},
      {"6", {"P6", "Team C"}},
  };
  const rules::Date as_of = d(2026, 11, 16);
  std::map<std::string, rules::SourceData, std::less<>> from_records;
  from_records["cases"] = rules::SourceData{&set.sources[0], as_of, &records, {}};
  const auto expected = rules::evaluate(set, rules_test::england(), from_records);

  rules::RecordViewBuilder builder(rules::fields_read(set, source));
  for (const auto& record : records) {
    builder.add(record);
  }
  const RecordView view = builder.finish();
  CHECK_FALSE(view.holds(9));
  std::map<std::string, rules::SourceData, std::less<>> from_view;
  from_view["cases"] = rules::SourceData{&set.sources[0], as_of, nullptr, {}, &view};
  const auto got = rules::evaluate(set, rules_test::england(), from_view);
  CHECK(got.findings == expected.findings);
  CHECK(got.bands == expected.bands);
  CHECK(got.team_bands == expected.team_bands);
  // Records 1 (since 5 Jan), 2 (a bad open date) and 3 (allocation ended 1 Feb) are listed.
  REQUIRE(got.findings.size() == 3);
  CHECK(got.findings[0].key == "1");
  CHECK(got.findings[1].key == "3");
  CHECK(got.findings[1].detail == "allocation ended 2026-02-01");
  CHECK(got.findings[2].key == "2");
  CHECK(got.findings[2].state == rules::State::kUntrusted);
}
