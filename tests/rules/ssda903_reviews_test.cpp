// Looked-after reviews (Care Planning, Placement and Case Review (England) Regulations 2010, reg.
// 33: first within 20 working days, second within 3 months, then every 6 months) on the public
// fake SSDA903 return of data-to-insight/csc-validator-be-903 (../shared/peer-data), through a
// recurring rule with an events source (one row per review) whose episodes are joined into
// periods of care, as examples/ssda903.toml does. The return covers 2017-18, so the as-of date
// is its reference date, Sat 31 Mar 2018. The files are simple (no quotes), so they are split
// on commas here rather than through ingest.
#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "rules/rules.h"
#include "tests/rules/rules_test_util.h"
#include "tests/support/lac_reviews.h"
#include "tests/support/peer_data.h"

namespace {

using rules::Date;
using rules::Duration;
using rules::Unit;
using rules_test::d;
using rules_test::england;
using rules_test::finding_for;

// Rows of a CSV file without quotes, header first.
std::vector<std::vector<std::string>> read_rows(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::vector<std::vector<std::string>> rows;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    std::vector<std::string> cells;
    std::stringstream cells_in(line);
    std::string cell;
    while (std::getline(cells_in, cell, ',')) {
      cells.push_back(cell);
    }
    if (!line.empty() && line.back() == ',') {
      cells.emplace_back();
    }
    rows.push_back(std::move(cells));
  }
  return rows;
}

// "DD/MM/YYYY" as "YYYY-MM-DD"; "" stays "".
std::string iso(const std::string& text) {
  if (text.size() != 10) {
    return text;
  }
  return text.substr(6, 4) + "-" + text.substr(3, 2) + "-" + text.substr(0, 2);
}

// The episodes as records of the test's "periods" source with a legal_status field: person,
// started (DECOM), ceased (DEC), legal_status (LS), keyed "CHILD|DECOM". The rule joins them
// into periods of care (Rule::join_contiguous), as the shipped example does.
std::vector<rules::Record> episodes_of(const std::vector<std::vector<std::string>>& rows) {
  std::vector<rules::Record> episodes;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const auto& r = rows[i];  // CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,...
    episodes.push_back(
        {r.at(0) + "|" + iso(r.at(1)), {r.at(0), iso(r.at(1)), iso(r.at(7)), r.at(3)}});
  }
  return episodes;
}

const rules::Completion* completion(const rules::Evaluation& evaluation, std::string_view key,
                                    Date held) {
  for (const auto& c : evaluation.completions) {
    if (c.key == key && c.end == held) {
      return &c;
    }
  }
  return nullptr;
}

}  // namespace

TEST_CASE("the fake SSDA903 reviews through an events-source rule, a few checked by hand",
          "[recurring][ssda903]") {
  CASEWATCH_REQUIRE_PEER_DATA(episodes_file, "csc-validator-be-903/episodes.csv");
  CASEWATCH_REQUIRE_PEER_DATA(reviews_file, "csc-validator-be-903/reviews.csv");
  const std::vector<rules::Record> episodes = episodes_of(read_rows(episodes_file));
  std::vector<rules::Record> reviews;
  const auto review_rows = read_rows(reviews_file);
  for (std::size_t i = 1; i < review_rows.size(); ++i) {  // CHILD,DOB,REVIEW,REVIEW_CODE
    const auto& r = review_rows[i];
    reviews.push_back({r.at(0) + "|" + iso(r.at(2)) + "|" + r.at(3), {r.at(0), iso(r.at(2))}});
  }
  REQUIRE(episodes.size() == 5050);
  REQUIRE(reviews.size() == 12582);

  // The shipped example's rule: episodes joined into periods of care, short breaks (legal
  // status V3 or V4 in the latest episode; reg. 48 modifies their reviews) left out.
  rules::RuleSet set;
  set.sources = test_support::lac_sources(false);
  set.sources[0].fields.push_back({"legal_status", {"LS"}});
  rules::Rule rule = test_support::lac_reviews_rule(true);
  rule.join_contiguous = true;
  rule.unless = {rules::Filter{"legal_status", {"V3", "V4"}}};
  set.rules = {rule};
  const Date as_of = d(2018, 3, 31);
  std::map<std::string, rules::SourceData, std::less<>> sources;
  sources["periods"] = rules::SourceData{&set.sources[0], as_of, &episodes, {}};
  sources["reviews"] = rules::SourceData{&set.sources[1], as_of, &reviews, {}};

  const auto evaluation = rules::evaluate(set, england(), sources);

  SECTION("child 944340, looked after from Easter Sunday 2015: six reviews, three late") {
    // One period over three episodes (5 Apr 2015, a move on 10 Jul 2017, another on 11 Nov
    // 2017). Sun 5 Apr 2015 rolls back past Good Friday 3 Apr to Thu 2 Apr; Easter Monday 6
    // Apr is closed, so day 1 is Tue 7 Apr; 7-10 Apr days 1-4, 13 Apr-1 May 5-19, Mon 4 May
    // closed: the first review was due Tue 5 May 2015 (the old forward roll said Wed 6 May).
    const std::string key = "944340|2015-04-05";
    const auto* first = completion(evaluation, key, d(2015, 9, 9));
    REQUIRE(first != nullptr);
    CHECK(first->due == d(2015, 5, 5));
    CHECK_FALSE(first->in_timescale);
    // The second was due 3 months after the first, 9 Dec 2015; held 25 Feb 2016: late.
    const auto* second = completion(evaluation, key, d(2016, 2, 25));
    REQUIRE(second != nullptr);
    CHECK(second->due == d(2015, 12, 9));
    CHECK_FALSE(second->in_timescale);
    // Then every 6 months: 22 Jun 2016 (due 25 Aug) and 11 Sep 2016 (due 22 Dec) on time;
    // 5 Dec 2017 (due 11 Mar 2017) late; 26 Jan 2018 (due 5 Jun 2018) on time.
    CHECK(completion(evaluation, key, d(2016, 6, 22))->due == d(2016, 8, 25));
    CHECK(completion(evaluation, key, d(2016, 9, 11))->in_timescale);
    CHECK(completion(evaluation, key, d(2017, 12, 5))->due == d(2017, 3, 11));
    CHECK_FALSE(completion(evaluation, key, d(2017, 12, 5))->in_timescale);
    CHECK(completion(evaluation, key, d(2018, 1, 26))->in_timescale);
    // Its 7 Aug 2018 review is after the as-of date; the next is due 26 Jul 2018: not listed.
    CHECK(completion(evaluation, key, d(2018, 8, 7)) == nullptr);
    CHECK(finding_for(evaluation, key) == nullptr);
    // The later episodes are part of this period, not periods of their own.
    CHECK(finding_for(evaluation, "944340|2017-11-11") == nullptr);
    CHECK(completion(evaluation, "944340|2017-11-11", d(2018, 1, 26)) == nullptr);
  }

  SECTION("child 708102, moved on Sun 25 Mar 2018: the first review counts from 11 Jan") {
    // Looked after from Thu 11 Jan 2018; a new placement (a new episode) from 25 Mar. Day 1
    // Fri 12 Jan, 15-19 Jan days 2-6, 22-26 Jan 7-11, 29 Jan-2 Feb 12-16, 5-8 Feb 17-20: due
    // Thu 8 Feb 2018, 51 days overdue at 31 Mar. Counted from the move it would be due Tue 24
    // Apr (Good Friday and Easter Monday 2018 closed) and not listed. No review since.
    const auto* listed = finding_for(evaluation, "708102|2018-01-11");
    REQUIRE(listed != nullptr);
    CHECK(listed->start == d(2018, 1, 11));
    CHECK(listed->due == d(2018, 2, 8));
    CHECK(listed->days == 51);
    CHECK(finding_for(evaluation, "708102|2018-03-25") == nullptr);
  }

  SECTION("child 186006, from Sun 24 Sep 2017: due Fri 20 Oct, not Mon 23 Oct") {
    // Rolls back to Fri 22 Sep; day 1 Mon 25 Sep; four whole weeks: due Fri 20 Oct 2017. A
    // move on 17 Mar 2018 does not restart it. One of the listed due dates the statutory
    // reading moved (counted below).
    const auto* listed = finding_for(evaluation, "186006|2017-09-24");
    REQUIRE(listed != nullptr);
    CHECK(listed->due == d(2017, 10, 20));
    CHECK(listed->days == 162);
    CHECK_FALSE(listed->end.has_value());
  }

  SECTION("child 794049: ceased 22 Jan 2018, looked after again Sat 27 Jan: a new period") {
    // Rolls back to Fri 26 Jan; day 1 Mon 29 Jan; 20 working days (no closures) = 4 weeks:
    // due Fri 23 Feb, not Mon 26 Feb.
    const auto* listed = finding_for(evaluation, "794049|2018-01-27");
    REQUIRE(listed != nullptr);
    CHECK(listed->due == d(2018, 2, 23));
    CHECK(listed->days == 36);
    CHECK_FALSE(listed->end.has_value());
  }

  SECTION("child 427922, on a short break (V4) since 30 Mar 2018: left out") {
    // One period from Sat 16 Dec 2017 over three episodes (V4, J1, V4); its latest legal
    // status is a short break, so it is neither listed nor counted, its 30 Dec 2017 review
    // included.
    CHECK(finding_for(evaluation, "427922|2017-12-16") == nullptr);
    CHECK(completion(evaluation, "427922|2017-12-16", d(2017, 12, 30)) == nullptr);
  }

  SECTION("the whole return: totals and the listed due dates the statutory reading moved") {
    // An independent day-by-day count (a short script over the same files, not this code,
    // joining episodes whose DECOM is the previous DEC) gave: 2,248 periods of care, 1,425
    // open at 31 Mar 2018, 1,207 of them not short breaks; 791 overdue; 2,755 reviews held
    // within periods of care that are not short breaks, 853 of them on time.
    CHECK(evaluation.findings.size() == 791);
    CHECK(evaluation.completions.size() == 2755);
    const auto on_time = std::count_if(evaluation.completions.begin(), evaluation.completions.end(),
                                       [](const rules::Completion& c) { return c.in_timescale; });
    CHECK(on_time == 853);
    // Issue 14's figure: 86 of the due dates on the list (first reviews not yet held, of
    // periods that began on a weekend or bank holiday) are one working day earlier than the
    // old forward roll gave.
    int moved = 0;
    for (const auto& finding : evaluation.findings) {
      // A later review's due date is not from the start; data problems have none.
      if (finding.end.has_value() || !finding.due.has_value()) {
        continue;
      }
      const Date start = *finding.start;
      const Date old = rules::due_date(england().roll_forward(start),
                                       Duration{20, Unit::kWorkingDays}, england());
      if (*finding.due != old) {
        ++moved;
        CHECK(england().add_working_days(*finding.due, 1) == old);
        CHECK_FALSE(england().is_working_day(start));
      }
    }
    CHECK(moved == 86);
  }
}
