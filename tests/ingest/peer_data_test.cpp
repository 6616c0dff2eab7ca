// The public fake SSDA903 extracts (csc-validator-be-903) read as real extracts.
#include "tests/support/peer_data.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <string>
#include <vector>

#include "ingest/ingest.h"

namespace {

rules::Source episodes_source() {
  rules::Source source;
  source.name = "episodes";
  source.key = {"CHILD", "DECOM"};
  source.date_formats = {"%d/%m/%Y"};
  source.fields = {{"person", {"CHILD"}, false},
                   {"start", {"DECOM"}, true},
                   {"end", {"DEC"}, true},
                   {"placement", {"PLACE"}, false},
                   {"postcode", {"HOME_POST"}, false}};
  return source;
}

}  // namespace

TEST_CASE("the fake SSDA903 episodes read whole: 5,050 rows, no problems, no repeated keys",
          "[ingest][peer-data]") {
  CASEWATCH_REQUIRE_PEER_DATA(file, "csc-validator-be-903/episodes.csv");
  std::ifstream in(file, std::ios::binary);
  const auto source = episodes_source();
  ingest::ExtractReader reader(in, source);
  REQUIRE(reader.header_problem() == std::nullopt);

  std::vector<rules::Record> records;
  rules::Record record;
  std::size_t open_episodes = 0;
  std::size_t in_placement_u1 = 0;
  while (reader.next(record)) {
    if (record.values[2].empty()) {
      ++open_episodes;
    }
    if (record.values[3] == "U1") {
      ++in_placement_u1;
    }
    if (records.size() < 2) {
      records.push_back(record);
    }
  }

  CHECK(reader.rows() == 5050);
  CHECK(reader.problems().empty());
  CHECK(reader.verdict() == std::nullopt);
  // The data's own notes: 1,413 episodes are open (blank DEC). 176 rows have PLACE U1.
  CHECK(open_episodes == 1413);
  CHECK(in_placement_u1 == 176);
  // Lines 2 and 3: "566910,15/02/2016,L,C2,N3,T2,PR0,14/08/2017,X1,CLOSE,,,4244474" and
  // "566910,14/08/2017,T,C2,N3,A3,PR3,,X1,,EG19 7TT,WV27 9FW,8969628".
  REQUIRE(records.size() == 2);
  CHECK(records[0] ==
        rules::Record{"566910|15/02/2016", {"566910", "2016-02-15", "2017-08-14", "T2", ""}});
  CHECK(records[1] ==
        rules::Record{"566910|14/08/2017", {"566910", "2017-08-14", "", "A3", "EG19 7TT"}});
}

TEST_CASE(
    "the fake SSDA903 reviews repeat CHILD+REVIEW keys with other codes, so the file is rejected",
    "[ingest][peer-data]") {
  CASEWATCH_REQUIRE_PEER_DATA(file, "csc-validator-be-903/reviews.csv");
  std::ifstream in(file, std::ios::binary);
  rules::Source source;
  source.name = "reviews";
  source.key = {"CHILD", "REVIEW"};
  source.date_formats = {"%d/%m/%Y"};
  source.fields = {{"person", {"child"}, false},
                   {"birth", {"DOB"}, true},
                   {"review", {"Review"}, true},
                   {"code", {"review_code"}, false}};
  ingest::ExtractReader reader(in, source);
  REQUIRE(reader.header_problem() == std::nullopt);

  rules::Record first;
  rules::Record record;
  REQUIRE(reader.next(first));
  while (reader.next(record)) {
  }

  CHECK(reader.rows() == 12582);
  // Two of the 14 repeated pairs are whole-row repeats (same code too): row problems.
  REQUIRE(reader.problems().size() == 2);
  CHECK(reader.problems()[0].line == 9826);
  CHECK(reader.problems()[0].message == "the row repeats line 9825 exactly; the repeat is skipped");
  CHECK(reader.problems()[1].line == 12074);
  // Line 2: "566910,27/03/2008,30/08/2017,PN6"; the last line: "437361,15/12/2012,27/07/2021,PN6".
  CHECK(first == rules::Record{"566910|30/08/2017", {"566910", "2008-03-27", "2017-08-30", "PN6"}});
  CHECK(record ==
        rules::Record{"437361|27/07/2021", {"437361", "2012-12-15", "2021-07-27", "PN6"}});
  // The fake data holds 14 child+date pairs twice, each on adjacent lines.
  CHECK(reader.verdict() ==
        "key '540481|13/08/2020' appears on lines 2824 and 2825; key '542681|06/02/2017' appears "
        "on lines 3692 and 3693; key '621209|22/06/2016' appears on lines 3834 and 3835; key "
        "'281722|11/06/2018' appears on lines 4320 and 4321; key '603990|12/01/2024' appears on "
        "lines 5197 and 5198; and 7 more repeats (12 in all)");
}

TEST_CASE("the fake SSDA903 reviews keyed by child, date and code ingest with two exact repeats",
          "[ingest][peer-data]") {
  CASEWATCH_REQUIRE_PEER_DATA(file, "csc-validator-be-903/reviews.csv");
  std::ifstream in(file, std::ios::binary);
  rules::Source source;
  source.name = "reviews";
  source.key = {"CHILD", "REVIEW", "REVIEW_CODE"};
  source.date_formats = {"%d/%m/%Y"};
  source.fields = {{"person", {"CHILD"}, false}, {"review", {"REVIEW"}, true}};
  ingest::ExtractReader reader(in, source);
  rules::Record record;
  std::size_t records = 0;
  while (reader.next(record)) {
    ++records;
  }
  CHECK(reader.rows() == 12582);
  CHECK(records == 12580);
  CHECK(reader.problem_rows() == 2);
  CHECK(reader.verdict() == std::nullopt);  // 2 of 12,582 is under the 0.5% allowed
}
