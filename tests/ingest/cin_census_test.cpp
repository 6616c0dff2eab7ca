// The CIN census XML reader on the public fake census and on small files written here.
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <string>

#include "ingest/ingest.h"
#include "tests/support/peer_data.h"

namespace {

rules::Source assessments_source() {
  rules::Source source;
  source.name = "assessments";
  source.format = rules::Format::kCinXml;
  source.record = "Assessments";
  source.key = {"LAchildID", "AssessmentActualStartDate"};
  source.date_formats = {"%Y-%m-%d"};
  source.as_of_column = "ReferenceDate";
  source.fields = {{"person", {"LAchildID"}, false},
                   {"referred", {"CINreferralDate"}, true},
                   {"started", {"AssessmentActualStartDate"}, true},
                   {"authorised", {"AssessmentAuthorisationDate"}, true},
                   {"factors", {"AssessmentFactors"}, false}};
  return source;
}

std::string describe(const std::vector<rules::Problem>& problems) {
  std::string out;
  for (const auto& p : problems) {
    out += std::to_string(p.line) + " [" + p.column + "] " + p.message + "\n";
  }
  return out;
}

}  // namespace

TEST_CASE("the fake CIN census: assessments with their child and referral, quirks as notes",
          "[ingest][cin][peer-data]") {
  CASEWATCH_REQUIRE_PEER_DATA(file, "csc-validator-be-cin/CIN_Census_2024.xml");
  const auto source = assessments_source();
  auto reader = ingest::open_reader(file, source);
  REQUIRE(reader->header_problem() == std::nullopt);
  std::vector<rules::Record> records;
  std::vector<std::size_t> lines;
  rules::Record record;
  while (reader->next(record)) {
    records.push_back(record);
    lines.push_back(reader->line());
  }
  INFO(describe(reader->problems()));
  REQUIRE(records.size() == 2);
  CHECK(records[0] ==
        rules::Record{"DfEX0000001|2028-04-28",
                      {"DfEX0000001", "2022-10-06", "2028-04-28", "2020-09-19", "1C,RB,6B"}});
  CHECK(records[1] ==
        rules::Record{"child_fails_assessments|2023-12-25",
                      {"child_fails_assessments", "2024-10-24", "2023-12-25", "2024-01-27", ""}});
  CHECK(lines == std::vector<std::size_t>{41, 92});  // where each <Assessments> starts
  REQUIRE(reader->problems().size() == 2);
  CHECK(reader->problems()[0].message ==
        "the header's Year 2023 does not match its ReferenceDate 2024-03-31 (census year 2023-24)");
  CHECK(reader->problems()[1].message ==
        "stray text 'PersonBirthDate' inside <ChildIdentifiers> (line 19) is ignored");
  CHECK(reader->problem_rows() == 0);
  CHECK(reader->verdict() == std::nullopt);
  CHECK(reader->as_of_from_column() == rules::Date::from_ymd(2024, 3, 31));
}

TEST_CASE("the fake CIN census: section 47 enquiries with ICPCnotRequired",
          "[ingest][cin][peer-data]") {
  CASEWATCH_REQUIRE_PEER_DATA(file, "csc-validator-be-cin/CIN_Census_2024.xml");
  rules::Source source;
  source.format = rules::Format::kCinXml;
  source.record = "Section47";
  source.key = {"LAchildID", "S47ActualStartDate"};
  source.date_formats = {"%Y-%m-%d"};
  source.fields = {{"started", {"S47ActualStartDate"}, true},
                   {"icpc", {"DateOfInitialCPC"}, true},
                   {"icpc_not_required", {"ICPCnotRequired"}, false}};
  auto reader = ingest::open_reader(file, source);
  rules::Record record;
  REQUIRE(reader->next(record));
  // The enquiry's own DateOfInitialCPC (2022-06-17), not its CINdetails' (2022-12-06).
  CHECK(record == rules::Record{"DfEX0000001|2022-06-02", {"2022-06-02", "2022-06-17", "false"}});
  CHECK_FALSE(reader->next(record));
  CHECK(reader->verdict() == std::nullopt);
}

TEST_CASE("a CIN census cut short is rejected with the place it stops", "[ingest][cin]") {
  const auto source = assessments_source();
  const std::string xml =
      "<Message><Header><CollectionDetails><Year>2024</Year><ReferenceDate>2024-03-31"
      "</ReferenceDate></CollectionDetails></Header><Children>\n<Child><ChildIdentifiers>"
      "<LAchildID>A1</LAchildID></ChildIdentifiers><CINdetails><Assessments>"
      "<AssessmentActualStartDate>2024-01-02</AssessmentActualStartDate></Assessments>"
      "</CINdetails></Child>\n<Child><ChildIdentifiers><LAchildID>A2</LAch";
  auto reader = ingest::open_reader(xml, source);
  rules::Record record;
  REQUIRE(reader->next(record));
  CHECK(record.key == "A1|2024-01-02");
  CHECK_FALSE(reader->next(record));
  REQUIRE(reader->verdict());
  CHECK(reader->verdict()->starts_with("the XML is not well-formed at line 3, column "));
  CHECK(reader->verdict()->ends_with(": the file is damaged or cut short"));
}

TEST_CASE("a CIN census that declares a DTD is refused, never expanded", "[ingest][cin]") {
  // A census file has no DTD; entities are how an XML bomb or an external entity gets in.
  // Without the refusal, expat's amplification limit stopped the bomb and the reader called the
  // file "damaged or cut short".
  struct Case {
    const char* what;
    const char* dtd;        // on line 2, after the XML declaration
    const char* reference;  // the first child's LAchildID
  };
  const Case cases[] = {
      {"billion laughs",
       "<!DOCTYPE Message [<!ENTITY a \"lol\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">"
       "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\"><!ENTITY d "
       "\"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">"
       "<!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\"><!ENTITY f "
       "\"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\">"
       "<!ENTITY g \"&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;\"><!ENTITY h "
       "\"&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;\">"
       "<!ENTITY i \"&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;\">]>",
       "&i;"},
      {"an external entity", "<!DOCTYPE Message [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>",
       "&x;"},
      {"a plain DOCTYPE", "<!DOCTYPE Message>", "A1"},
  };
  const auto source = assessments_source();
  for (const Case& c : cases) {
    CAPTURE(c.what);
    const std::string xml =
        std::string("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n") + c.dtd +
        "\n<Message><Header><CollectionDetails><Year>2024</Year><ReferenceDate>2024-03-31"
        "</ReferenceDate></CollectionDetails></Header><Children>\n<Child><ChildIdentifiers>"
        "<LAchildID>" +
        c.reference +
        "</LAchildID></ChildIdentifiers><CINdetails><Assessments>"
        "<AssessmentActualStartDate>2024-01-02</AssessmentActualStartDate></Assessments>"
        "</CINdetails></Child></Children></Message>\n";
    auto reader = ingest::open_reader(xml, source);
    rules::Record record;
    CHECK_FALSE(reader->next(record));
    CHECK(reader->header_problem() ==
          "the XML declares a DTD (<!DOCTYPE> at line 2), which a CIN census file never has; "
          "refused");
    CHECK(reader->verdict() == reader->header_problem());
  }
}
