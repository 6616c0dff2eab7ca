// Built-in source profiles: the field's standard datasets (Ofsted Annex A lists, SSDA903 tables,
// CIN census XML) described once, so that a [[source]] needs only `profile` and `files`.
// Headers list every variant seen in the 2019 and 2024 templates (../shared/domain.md 1.3-1.4,
// 2.1-2.2); case, surrounding spaces, a trailing '?' and curly apostrophes are ignored anyway.
// Start dates have their own names, not "opened": an unallocated rule ages a record from its
// opened date, and a CIN, CP or care episode's start is not when its allocation ended, so an
// unallocated rule on List 6 says "since at least" the first extract that showed it.
#include <array>

#include "config/readers.h"

namespace config::detail {
namespace {

using Headers = std::vector<std::string>;

const Headers kChildId = {"Child Unique ID", "Child Unique Identifier", "Child ID"};
const Headers kTeam = {"Allocated Team"};
const Headers kWorker = {"Allocated Worker"};
const std::vector<std::string> kAnnexDates = {"%d/%m/%Y", "%Y-%m-%d"};

rules::Field text(std::string name, Headers headers) {
  return rules::Field{std::move(name), std::move(headers), false};
}
rules::Field date(std::string name, Headers headers) {
  return rules::Field{std::move(name), std::move(headers), true};
}

Profile annex_a(std::string name, std::string sheet, std::vector<std::string> key,
                std::vector<rules::Field> fields) {
  Profile p;
  p.name = std::move(name);
  p.source.format = rules::Format::kXlsx;
  p.source.files = "*.xlsx";
  p.source.sheet = std::move(sheet);
  p.source.key = std::move(key);
  p.source.date_formats = kAnnexDates;
  fields.insert(fields.begin(), text("person", kChildId));
  fields.push_back(text("team", kTeam));
  fields.push_back(text("worker", kWorker));
  p.source.fields = std::move(fields);
  return p;
}

Profile ssda903(std::string name, std::string files, std::vector<std::string> key,
                std::vector<rules::Field> fields) {
  Profile p;
  p.name = std::move(name);
  p.source.format = rules::Format::kCsv;
  p.source.files = std::move(files);
  p.source.key = std::move(key);
  p.source.date_formats = {"%d/%m/%Y", "%Y-%m-%d"};
  fields.insert(fields.begin(), text("person", {"CHILD"}));
  p.source.fields = std::move(fields);
  return p;
}

Profile cin(std::string name, std::string record, std::vector<std::string> key,
            std::vector<rules::Field> fields) {
  Profile p;
  p.name = std::move(name);
  p.source.format = rules::Format::kCinXml;
  p.source.files = "*.xml";
  p.source.record = std::move(record);
  p.source.key = std::move(key);
  p.source.date_formats = {"%Y-%m-%d"};
  p.source.as_of_column = "ReferenceDate";
  fields.insert(fields.begin(), text("person", {"LAchildID"}));
  fields.insert(fields.begin() + 1, date("referred", {"CINreferralDate"}));
  p.source.fields = std::move(fields);
  return p;
}

std::vector<Profile> make_profiles() {
  const std::string id = "Child Unique ID";
  std::vector<Profile> all;
  all.push_back(
      annex_a("annex-a/list-4", "List 4", {id, "Continuous Assessment Start Date"},
              {date("started", {"Continuous Assessment Start Date", "Assessment Start Date"}),
               date("authorised", {"Continuous Assessment Date of Authorisation",
                                   "Assessment Date of Authorisation", "Date of Authorisation"})}));
  const std::string s47 = "Strategy discussion initiating Section 47 Enquiry Start Date";
  all.push_back(annex_a(
      "annex-a/list-5", "List 5", {id, s47},
      {date("strategy", {s47}),
       text("icpc_not_required", {"Was an Initial Child Protection Conference deemed unnecessary"}),
       date("icpc", {"Date of Initial Child Protection Conference"}),
       text("icpc_plan", {"Did the Initial Child Protection Conference Result in a Child "
                          "Protection Plan"})}));
  all.push_back(
      annex_a("annex-a/list-6", "List 6", {id},
              {date("cin_start", {"CIN Start Date"}), date("closed", {"CIN Closure Date"}),
               text("status", {"Case Status"}), date("last_seen", {"Date Child Was Last Seen"})}));
  all.push_back(annex_a("annex-a/list-7", "List 7", {id},
                        {date("plan_start", {"Child Protection Plan Start Date"}),
                         date("closed", {"Child Protection Plan End Date"}),
                         date("latest_review", {"Date of latest review conference"}),
                         date("last_visit", {"Date of the Last Statutory Visit"})}));
  all.push_back(annex_a(
      "annex-a/list-8", "List 8", {id},
      {date("started", {"Date Started to be Looked After"}),
       date("closed", {"Date Ceased to be Looked After"}),
       date("latest_review", {"Date of Latest Statutory Review"}),
       date("last_visit", {"Date of Last Social Work Visit"}),
       text("legal_status", {"Child's Legal Status"}),
       text("uasc",
            {"Unaccompanied Asylum Seeking Child (UASC) within the Last 12 Months (Y/N)",
             "Unaccompanied Asylum Seeking Child (UASC) within the Last 12 Months (Y/N))"})}));
  all.push_back(ssda903("ssda903/episodes", "*episodes*.csv", {"CHILD", "DECOM"},
                        {date("started", {"DECOM"}), date("ceased", {"DEC"}), text("rne", {"RNE"}),
                         text("legal_status", {"LS"}), text("placement", {"PLACE"}),
                         text("reason_ceased", {"REC"})}));
  // The same child and date can be given twice with other participation codes (the fake data
  // does), so the code is part of the key.
  all.push_back(ssda903("ssda903/reviews", "*reviews*.csv", {"CHILD", "REVIEW", "REVIEW_CODE"},
                        {date("review", {"REVIEW"}), text("participation", {"REVIEW_CODE"})}));
  all.push_back(ssda903("ssda903/social-workers", "*sw*episodes*.csv", {"CHILD", "SW_DECOM"},
                        {text("worker", {"SW_ID"}), date("allocation_start", {"SW_DECOM"}),
                         date("allocation_end", {"SW_DEC"}), text("reason", {"SW_REASON"})}));
  all.push_back(cin("cin/assessments", "Assessments", {"LAchildID", "AssessmentActualStartDate"},
                    {date("started", {"AssessmentActualStartDate"}),
                     date("authorised", {"AssessmentAuthorisationDate"})}));
  all.push_back(
      cin("cin/section47", "Section47", {"LAchildID", "S47ActualStartDate"},
          {date("strategy", {"S47ActualStartDate"}), date("icpc_target", {"InitialCPCtarget"}),
           date("icpc", {"DateOfInitialCPC"}), text("icpc_not_required", {"ICPCnotRequired"})}));
  return all;
}

}  // namespace

const std::vector<Profile>& profiles() {
  static const std::vector<Profile> kAll = make_profiles();
  return kAll;
}

const Profile* find_profile(std::string_view name) {
  for (const auto& profile : profiles()) {
    if (profile.name == name) {
      return &profile;
    }
  }
  return nullptr;
}

}  // namespace config::detail
