// Looked-after reviews (Care Planning, Placement and Case Review (England) Regulations 2010, reg.
// 33: first within 20 working days, second within 3 months, then every 6 months) on the public
// fake SSDA903 return of data-to-insight/csc-validator-be-903 (../shared/peer-data), through a
// recurring rule with an events source: one row per review. The return covers 2017-18, so the
// as-of date is its reference date, Sat 31 Mar 2018. The files are simple (no quotes), so they
// are split on commas here rather than through ingest.
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
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::vector<std::string> cells;
    std::stringstream cells_in(line);
    std::string cell;
    while (std::getline(cells_in, cell, ',')) cells.push_back(cell);
    if (!line.empty() && line.back() == ',') cells.emplace_back();
    rows.push_back(std::move(cells));
  }
  return rows;
}

// "DD/MM/YYYY" as "YYYY-MM-DD"; "" stays "".
std::string iso(const std::string& text) {
  if (text.size() != 10) return text;
  return text.substr(6, 4) + "-" + text.substr(3, 2) + "-" + text.substr(0, 2);
}

struct Episode {
  std::string decom;  // ISO
  std::string rne;
  std::string dec;  // ISO or ""
  std::string rec;
};

// Periods of care: each starts at an episode whose reason for new episode is S (started to be
// looked after) and runs through the child's following episodes while each ceased with X1 (a
// new episode began) and the next is not another S; it ends at the DEC of the episode that
// ceased otherwise, or is open when an episode in it has no DEC. Record values: person, started,
// ceased.
std::vector<rules::Record> periods_of_care(const std::vector<std::vector<std::string>>& rows) {
  std::map<std::string, std::vector<Episode>> by_child;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const auto& r = rows[i];  // CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,...
    by_child[r.at(0)].push_back(Episode{iso(r.at(1)), r.at(2), iso(r.at(7)), r.at(8)});
  }
  std::vector<rules::Record> periods;
  for (auto& [child, episodes] : by_child) {
    std::stable_sort(episodes.begin(), episodes.end(),
                     [](const Episode& a, const Episode& b) { return a.decom < b.decom; });
    std::size_t i = 0;
    while (i < episodes.size()) {
      if (episodes[i].rne != "S") {
        ++i;
        continue;
      }
      std::size_t j = i;
      std::string ceased;
      while (true) {
        const Episode& e = episodes[j];
        if (e.dec.empty()) break;
        if (e.rec != "X1" || j + 1 >= episodes.size() || episodes[j + 1].rne == "S") {
          ceased = e.dec;
          break;
        }
        ++j;
      }
      periods.push_back({child + "|" + episodes[i].decom, {child, episodes[i].decom, ceased}});
      i = j + 1;
    }
  }
  return periods;
}

const rules::Completion* completion(const rules::Evaluation& evaluation, std::string_view key,
                                    Date held) {
  for (const auto& c : evaluation.completions) {
    if (c.key == key && c.end == held) return &c;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("the fake SSDA903 reviews through an events-source rule, a few checked by hand",
          "[recurring][ssda903]") {
  CASEWATCH_REQUIRE_PEER_DATA(episodes_file, "csc-validator-be-903/episodes.csv");
  CASEWATCH_REQUIRE_PEER_DATA(reviews_file, "csc-validator-be-903/reviews.csv");
  const std::vector<rules::Record> periods = periods_of_care(read_rows(episodes_file));
  std::vector<rules::Record> reviews;
  const auto review_rows = read_rows(reviews_file);
  for (std::size_t i = 1; i < review_rows.size(); ++i) {  // CHILD,DOB,REVIEW,REVIEW_CODE
    const auto& r = review_rows[i];
    reviews.push_back({r.at(0) + "|" + iso(r.at(2)) + "|" + r.at(3), {r.at(0), iso(r.at(2))}});
  }
  REQUIRE(periods.size() == 381);  // one per S episode
  REQUIRE(reviews.size() == 12582);

  rules::RuleSet set;
  set.sources = test_support::lac_sources(false);
  set.rules = {test_support::lac_reviews_rule(true)};
  const Date as_of = d(2018, 3, 31);
  std::map<std::string, rules::SourceData, std::less<>> sources;
  sources["periods"] = rules::SourceData{&set.sources[0], as_of, &periods, {}};
  sources["reviews"] = rules::SourceData{&set.sources[1], as_of, &reviews, {}};

  const auto evaluation = rules::evaluate(set, england(), sources);

  SECTION("child 944340, looked after from Easter Sunday 2015: six reviews, three late") {
    // Sun 5 Apr 2015 rolls back past Good Friday 3 Apr to Thu 2 Apr; Easter Monday 6 Apr is
    // closed, so day 1 is Tue 7 Apr; 7-10 Apr days 1-4, 13 Apr-1 May 5-19, Mon 4 May closed:
    // the first review was due Tue 5 May 2015 (the old forward roll said Wed 6 May).
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
  }

  SECTION("child 427922, from Sat 16 Dec 2017: first review on time over Christmas") {
    // Rolls back to Fri 15 Dec; day 1 Mon 18 Dec; 18-22 Dec days 1-5, 25 and 26 Dec closed,
    // 27-29 Dec 6-8, 1 Jan closed, 2-5 Jan 9-12, 8-12 Jan 13-17, 15-17 Jan 18-20: due Wed 17
    // Jan 2018. Held Sat 30 Dec 2017: on time. The second was due 3 months later, Fri 30 Mar
    // 2018: one day overdue at 31 Mar. Reviews from 2016-17 were before this period began.
    const std::string key = "427922|2017-12-16";
    const auto* first = completion(evaluation, key, d(2017, 12, 30));
    REQUIRE(first != nullptr);
    CHECK(first->due == d(2018, 1, 17));
    CHECK(first->in_timescale);
    CHECK(completion(evaluation, key, d(2017, 6, 6)) == nullptr);
    const auto* listed = finding_for(evaluation, key);
    REQUIRE(listed != nullptr);
    CHECK(listed->due == d(2018, 3, 30));
    CHECK(listed->end == d(2017, 12, 30));
    CHECK(listed->days == 1);
    CHECK_FALSE(listed->assumed_interval);
  }

  SECTION("child 794049, from Sat 27 Jan 2018, no review: due Fri 23 Feb, not Mon 26 Feb") {
    // Rolls back to Fri 26 Jan; day 1 Mon 29 Jan; 20 working days (no closures) = 4 weeks.
    const auto* listed = finding_for(evaluation, "794049|2018-01-27");
    REQUIRE(listed != nullptr);
    CHECK(listed->due == d(2018, 2, 23));
    CHECK(listed->days == 36);
    CHECK_FALSE(listed->end.has_value());
  }

  SECTION("the whole return: totals and the due dates the statutory reading moved") {
    // An independent day-by-day count (a short script over the same files, not this code)
    // gave: 173 open periods overdue at 31 Mar 2018, 696 reviews held within periods of care,
    // 229 of them on time.
    CHECK(evaluation.findings.size() == 173);
    CHECK(evaluation.completions.size() == 696);
    const auto on_time = std::count_if(evaluation.completions.begin(), evaluation.completions.end(),
                                       [](const rules::Completion& c) { return c.in_timescale; });
    CHECK(on_time == 229);
    // Every first-review due date of a weekend or bank-holiday start moved one working day
    // earlier than the old forward roll gave: 131 of the 381.
    int moved = 0;
    for (const auto& period : periods) {
      const Date start = *Date::parse_iso(period.values[1]);
      const Date statute = rules::due_date(start, Duration{20, Unit::kWorkingDays}, england());
      const Date old = rules::due_date(england().roll_forward(start),
                                       Duration{20, Unit::kWorkingDays}, england());
      if (statute != old) {
        ++moved;
        CHECK(england().add_working_days(statute, 1) == old);
        CHECK_FALSE(england().is_working_day(start));
      }
    }
    CHECK(moved == 131);
  }
}
