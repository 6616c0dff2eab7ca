// The unallocated rule with an allocations source (docs/design.md "Unallocated from an
// allocations source"), as examples/ssda903.toml ships it: looked-after children's SSDA903
// episodes, joined into periods of care, against the social worker episodes (CHILD, SW_ID,
// SW_DECOM, SW_DEC). A period nobody is allocated to on the as-of date is unallocated exactly
// since the later of its start and the child's last SW_DEC. Days worked by hand from Tue 31 Mar
// 2026 (the return's reference date).
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "rules/rules.h"
#include "tests/rules/rules_test_util.h"

namespace {

using rules::Date;
using rules_test::d;
using rules_test::finding_for;

const Date kAsOf = d(2026, 3, 31);

struct Episode {
  std::string decom;
  std::string dec;
  std::string ls = "C2";
};

struct SocialWorker {
  std::string id;
  std::string decom;
  std::string dec;
};

// "episodes" (person, started, ceased, legal_status) and "social-workers" (person, worker,
// allocation_start, allocation_end), and the shipped example's rule over them.
struct Return {
  rules::RuleSet set;
  std::vector<rules::Record> episodes;
  std::vector<rules::Record> social_workers;

  Return() {
    rules::Source episodes_source;
    episodes_source.name = "episodes";
    episodes_source.fields = {{"person", {"CHILD"}},
                              {"started", {"DECOM"}, true},
                              {"ceased", {"DEC"}, true},
                              {"legal_status", {"LS"}}};
    rules::Source workers;
    workers.name = "social-workers";
    workers.fields = {{"person", {"CHILD"}},
                      {"worker", {"SW_ID"}},
                      {"allocation_start", {"SW_DECOM"}, true},
                      {"allocation_end", {"SW_DEC"}, true}};
    set.sources = {episodes_source, workers};
    rules::Rule rule;
    rule.id = "unallocated-lac";
    rule.kind = rules::RuleKind::kUnallocated;
    rule.source = "episodes";
    rule.start = "started";
    rule.end = "ceased";
    rule.join_contiguous = true;
    rule.allocations_source = "social-workers";
    rule.unless = {rules::Filter{"legal_status", {"V3", "V4"}}};
    set.rules = {rule};
  }

  void episode(const std::string& child, const Episode& e) {
    episodes.push_back({child + "|" + e.decom, {child, e.decom, e.dec, e.ls}});
  }
  void social_worker(const std::string& child, const SocialWorker& w) {
    social_workers.push_back({child + "|" + w.decom, {child, w.id, w.decom, w.dec}});
  }

  rules::Evaluation run(bool with_social_workers = true) const {
    std::map<std::string, rules::SourceData, std::less<>> sources;
    sources["episodes"] = rules::SourceData{&set.sources[0], kAsOf, &episodes, {}};
    if (with_social_workers) {
      sources["social-workers"] = rules::SourceData{&set.sources[1], kAsOf, &social_workers, {}};
    }
    return rules::evaluate(set, rules::Calendar(), sources);
  }
};

int counted(const rules::Evaluation& evaluation) {
  int total = 0;
  for (const auto& band : evaluation.bands) {
    total += band.count;
  }
  return total;
}

// One child's episodes and social worker episodes, and what the rule makes of them.
struct Scenario {
  std::string what;
  std::vector<Episode> episodes;
  std::vector<SocialWorker> workers;
  int counted = 0;    // in the band table
  std::string state;  // "" = not listed
  std::string key;    // the listed period's key
  std::string since;  // ISO; "" for untrusted
  int days = 0;
  std::string band;
  std::string worker;
  std::string detail;
};

Scenario quiet(std::string what, std::vector<Episode> episodes, std::vector<SocialWorker> workers,
               int counted) {
  Scenario s;
  s.what = std::move(what);
  s.episodes = std::move(episodes);
  s.workers = std::move(workers);
  s.counted = counted;
  return s;
}

// Listed (and so counted).
Scenario listed(std::string what, std::vector<Episode> episodes, std::vector<SocialWorker> workers,
                std::string state, std::string key, std::string since, int days, std::string band,
                std::string worker = "", std::string detail = "") {
  Scenario s = quiet(std::move(what), std::move(episodes), std::move(workers), 1);
  s.state = std::move(state);
  s.key = std::move(key);
  s.since = std::move(since);
  s.days = days;
  s.band = std::move(band);
  s.worker = std::move(worker);
  s.detail = std::move(detail);
  return s;
}

}  // namespace

TEST_CASE("looked-after children unallocated exactly since the last SW_DEC", "[unallocated][lac]") {
  const std::string inaccuracies(rules::kInaccuraciesBand);
  const std::vector<Scenario> scenarios = {
      quiet("allocated since the period began", {{"2025-06-01", ""}}, {{"SW1", "2025-06-01", ""}},
            0),
      // 15 Jan to 31 Mar 2026: 16 + 28 + 31 = 75 days; 15 Jan + 2m = 15 Mar reached, + 3m not.
      listed("the allocation ended: since SW_DEC", {{"2025-06-01", ""}},
             {{"SW1", "2025-06-01", "2026-01-15"}}, "breach", "C1|2025-06-01", "2026-01-15", 75,
             "2 to 3 months", "SW1", "allocation ended 2026-01-15"),
      // 2 Feb to 31 Mar: 26 + 31 = 57 days; 2 Feb + 2m = 2 Apr not reached.
      listed("never allocated in the period: since its start", {{"2026-02-02", ""}}, {}, "breach",
             "C1|2026-02-02", "2026-02-02", 57, "1 to 2 months"),
      listed("an allocation of an earlier period ended before this one began: since its start",
             {{"2025-01-06", "2025-03-01"}, {"2026-02-02", ""}},
             {{"SW1", "2025-01-06", "2025-03-01"}}, "breach", "C1|2026-02-02", "2026-02-02", 57,
             "1 to 2 months"),
      // One period of care from 1 Sep 2025 (a move on 10 Dec continues it): 30 + 31 + 30 + 31
      // + 31 + 28 + 30 = 211 days to 31 Mar 2026, keyed by the first episode.
      listed("two contiguous episodes are one period: since the first DECOM",
             {{"2025-12-10", ""}, {"2025-09-01", "2025-12-10"}}, {}, "breach", "C1|2025-09-01",
             "2025-09-01", 211, "3 months or more"),
      // Ceased 10 Dec, looked after again 11 Dec: a new period, 20 + 31 + 28 + 31 = 110 days.
      listed("a day's gap starts a new period", {{"2025-09-01", "2025-12-10"}, {"2025-12-11", ""}},
             {}, "breach", "C1|2025-12-11", "2025-12-11", 110, "3 months or more"),
      // 5 Jan to 31 Mar: 26 + 28 + 31 = 85 days.
      listed("an allocation starting after the as-of date does not count", {{"2026-01-05", ""}},
             {{"SW1", "2026-04-01", ""}}, "breach", "C1|2026-01-05", "2026-01-05", 85,
             "2 to 3 months"),
      listed("an allocation to a pseudo-worker does not count", {{"2026-01-05", ""}},
             {{" unallocated ", "2026-01-05", ""}}, "breach", "C1|2026-01-05", "2026-01-05", 85,
             "2 to 3 months"),
      // Duty from 1 Feb: unallocated since SW1's allocation ended, 27 + 31 = 58 days.
      listed("nor does the end of one: since the last worker's SW_DEC", {{"2026-01-05", ""}},
             {{"SW1", "2026-01-05", "2026-02-01"}, {"Duty", "2026-02-01", "2026-03-20"}}, "breach",
             "C1|2026-01-05", "2026-02-01", 58, "1 to 2 months", "SW1",
             "allocation ended 2026-02-01"),
      quiet("a new worker from the day the last left: allocated", {{"2026-01-05", ""}},
            {{"SW1", "2026-01-05", "2026-02-01"}, {"SW2", "2026-02-01", ""}}, 0),
      quiet("an allocation ending on the as-of date: unallocated today, not listed",
            {{"2026-01-05", ""}}, {{"SW1", "2026-01-05", "2026-03-31"}}, 1),
      quiet("an allocation ending after the as-of date: allocated", {{"2026-01-05", ""}},
            {{"SW1", "2026-01-05", "2026-04-01"}}, 0),
      // 3 Mar to 31 Mar is 28 days: not over four weeks; 2 Mar is 29.
      quiet("28 days since the start: counted, not listed", {{"2026-03-03", ""}}, {}, 1),
      listed("29 days since the start: listed", {{"2026-03-02", ""}}, {}, "breach", "C1|2026-03-02",
             "2026-03-02", 29, "1 to 2 months"),
      quiet("28 days since SW_DEC: counted, not listed", {{"2025-12-01", ""}},
            {{"SW1", "2025-12-01", "2026-03-03"}}, 1),
      listed("29 days since SW_DEC: listed", {{"2025-12-01", ""}},
             {{"SW1", "2025-12-01", "2026-03-02"}}, "breach", "C1|2025-12-01", "2026-03-02", 29,
             "1 to 2 months", "SW1", "allocation ended 2026-03-02"),
      quiet("a period that ceased on the as-of date is not open", {{"2025-06-01", "2026-03-31"}},
            {}, 0),
      quiet("a period starting after the as-of date is not open", {{"2026-04-01", ""}}, {}, 0),
      quiet("a short break (V3) is left out", {{"2025-06-01", "", "V3"}}, {}, 0),
      listed("a bad DECOM", {{"31/02/2026", ""}}, {}, "untrusted", "C1|31/02/2026", "", 0,
             inaccuracies, "", "start '31/02/2026' is not a date"),
      listed("a bad SW_DEC", {{"2026-01-05", ""}}, {{"SW1", "2026-01-05", "2026-13-01"}},
             "untrusted", "C1|2026-01-05", "", 0, inaccuracies, "",
             "allocation end '2026-13-01' is not a date"),
      listed("a bad SW_DECOM", {{"2026-01-05", ""}}, {{"SW1", "05/01/2026", ""}}, "untrusted",
             "C1|2026-01-05", "", 0, inaccuracies, "",
             "allocation start '05/01/2026' is not a date"),
      listed("an SW_DEC before its SW_DECOM", {{"2026-01-05", ""}},
             {{"SW1", "2026-02-10", "2026-02-01"}}, "untrusted", "C1|2026-01-05", "", 0,
             inaccuracies, "", "allocation end 2026-02-01 is before allocation start 2026-02-10"),
      quiet("a bad date on an old row does not hide a current allocation", {{"2026-01-05", ""}},
            {{"SW1", "2026-01-05", "2026-13-01"}, {"SW2", "2026-02-01", ""}}, 0),
  };
  for (const Scenario& s : scenarios) {
    CAPTURE(s.what);
    Return r;
    for (const Episode& e : s.episodes) {
      r.episode("C1", e);
    }
    for (const SocialWorker& w : s.workers) {
      r.social_worker(" C1 ", w);  // joined on the child, trimmed
    }
    const auto evaluation = r.run();
    CHECK(counted(evaluation) == s.counted);
    if (s.state.empty()) {
      CHECK(evaluation.findings.empty());
      continue;
    }
    REQUIRE(evaluation.findings.size() == 1);
    const rules::Finding& finding = evaluation.findings[0];
    CHECK(rules::to_string(finding.state) == s.state);
    CHECK(finding.key == s.key);
    CHECK(finding.person == "C1");
    CHECK_FALSE(finding.since_at_least);
    if (s.since.empty()) {
      CHECK_FALSE(finding.since.has_value());
    } else {
      REQUIRE(finding.since.has_value());
      CHECK(finding.since->iso() == s.since);
    }
    CHECK(finding.days == s.days);
    CHECK(finding.band == s.band);
    CHECK(finding.worker == s.worker);
    CHECK(finding.detail == s.detail);
    CHECK(evaluation.spells.empty());  // exact: nothing to remember between extracts
  }
}

TEST_CASE("without an extract of its allocations the rule is not evaluated", "[unallocated][lac]") {
  // Every child would look unallocated since the period began.
  Return r;
  r.episode("C1", {"2025-06-01", ""});
  const auto evaluation = r.run(/*with_social_workers=*/false);
  CHECK(evaluation.findings.empty());
  CHECK(evaluation.bands.empty());
  // With the (empty) extract, the child is listed.
  CHECK(r.run().findings.size() == 1);
}

TEST_CASE("the compact view holds the fields the rule reads of both sources",
          "[unallocated][lac][view]") {
  Return r;
  const auto episodes = rules::fields_read(r.set, r.set.sources[0]);
  const auto workers = rules::fields_read(r.set, r.set.sources[1]);
  using rules::FieldUse;
  // person, started, ceased, legal_status; person, worker, allocation_start, allocation_end.
  CHECK(episodes ==
        std::vector<FieldUse>{FieldUse::kText, FieldUse::kDate, FieldUse::kDate, FieldUse::kText});
  CHECK(workers ==
        std::vector<FieldUse>{FieldUse::kText, FieldUse::kText, FieldUse::kDate, FieldUse::kDate});

  // Read through views holding only those fields, as the service does: the same findings.
  r.episode("C1", {"2025-06-01", ""});
  r.social_worker("C1", {"SW1", "2025-06-01", "2026-01-15"});
  r.episode("C2", {"2025-06-01", ""});
  r.social_worker("C2", {"SW2", "2025-06-01", ""});
  const auto view_of = [](const std::vector<FieldUse>& uses,
                          const std::vector<rules::Record>& records) {
    rules::RecordViewBuilder builder(uses);
    for (const auto& record : records) {
      builder.add(record);
    }
    return builder.finish();
  };
  const rules::RecordView episodes_view = view_of(episodes, r.episodes);
  const rules::RecordView workers_view = view_of(workers, r.social_workers);
  std::map<std::string, rules::SourceData, std::less<>> sources;
  sources["episodes"] = rules::SourceData{&r.set.sources[0], kAsOf, nullptr, {}, &episodes_view};
  sources["social-workers"] =
      rules::SourceData{&r.set.sources[1], kAsOf, nullptr, {}, &workers_view};
  const auto evaluation = rules::evaluate(r.set, rules::Calendar(), sources);
  REQUIRE(evaluation.findings.size() == 1);
  CHECK(evaluation.findings[0] == r.run().findings[0]);
  const auto* listed = finding_for(evaluation, "C1|2025-06-01");
  REQUIRE(listed != nullptr);
  CHECK(listed->since == d(2026, 1, 15));
  CHECK(listed->days == 75);
}

TEST_CASE("findings of several children: most days first, the band table counts every one",
          "[unallocated][lac]") {
  Return r;
  r.episode("C1", {"2026-03-02", ""});  // 29 days
  r.episode("C2", {"2025-09-01", ""});  // 211 days
  r.episode("C3", {"bad", ""});         // untrusted, last
  r.episode("C4", {"2026-03-20", ""});  // 11 days: counted only
  r.episode("C5", {"2025-09-01", ""});  // allocated
  r.social_worker("C5", {"SW5", "2025-09-01", ""});
  const auto evaluation = r.run();
  std::vector<std::string> keys;
  for (const auto& finding : evaluation.findings) {
    keys.push_back(finding.key);
  }
  CHECK(keys == std::vector<std::string>{"C2|2025-09-01", "C1|2026-03-02", "C3|bad"});
  const std::vector<rules::BandCount> expected = {
      {"unallocated-lac", "Under 1 week", 0, {}},
      {"unallocated-lac", "1 to 2 weeks", 1, {}},
      {"unallocated-lac", "2 to 3 weeks", 0, {}},
      {"unallocated-lac", "3 to 4 weeks", 0, {}},
      {"unallocated-lac", "1 to 2 months", 1, {}},
      {"unallocated-lac", "2 to 3 months", 0, {}},
      {"unallocated-lac", "3 months or more", 1, {}},
      {"unallocated-lac", std::string(rules::kInaccuraciesBand), 1, {}},
  };
  CHECK(evaluation.bands == expected);
}
