#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>

#include "bench/bench.h"
#include "config/config.h"

namespace bench {
namespace {

// The resident set size now, in MB.
double current_rss_mb() {
  long pages = 0, resident = 0;
  if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) {
      resident = 0;
    }
    std::fclose(f);
  }
  return static_cast<double>(resident) * static_cast<double>(::sysconf(_SC_PAGESIZE)) / 1048576.0;
}

// Open single assessments started within the last 75 days: about a quarter are overdue (past 45
// working days) or due soon, the rest in progress within timescale.
std::vector<rules::Record> make_assessments(const ExtractSpec& spec, const rules::Source& source) {
  std::vector<rules::Record> records;
  records.reserve(spec.rows);
  Random random(spec.seed ^ 0xa55e55ULL);
  const auto index = [&](std::string_view name) {
    return static_cast<std::size_t>(source.field_index(name));
  };
  const std::size_t person = index("person"), type = index("type"), team = index("team"),
                    worker = index("worker"), started = index("started"),
                    authorised = index("authorised");
  for (std::size_t i = 0; i < spec.rows; ++i) {
    rules::Record record;
    record.key = fmt::format("A{:07}", 1'000'000 + i);
    record.values.resize(source.fields.size());
    record.values[person] = fmt::format("P{:07}", 2'000'000 + i);
    record.values[type] = random.chance(0.9) ? "Single" : "C&F";
    const CaseRow row = make_case_row(spec, i, false);
    record.values[team] = row.team;
    record.values[worker] = row.worker;
    record.values[started] = (spec.as_of - static_cast<int>(random.below(75))).iso();
    record.values[authorised] = "";
    records.push_back(std::move(record));
  }
  return records;
}

}  // namespace

std::string config_text(const std::filesystem::path& work) {
  return fmt::format(R"toml(
[service]
state_dir = "{state}"
socket = "{state}/control.sock"

[[source]]
name = "cases"
files = "cases*.csv"
key = ["Case ID"]
date_formats = ["%d/%m/%Y", "%Y-%m-%d"]
[source.fields]
person = "Child ID"
team = "Allocated Team"
worker = ["Allocated Worker", "Social Worker"]
opened = "Referral Date"
closed = "Closure Date"
status = "Case Status"
allocation_start = "Allocation Start"
allocation_end = "Allocation End"

[[source]]
name = "assessments"
files = "assessments*.csv"
key = ["Assessment ID"]
[source.fields]
person = "Child ID"
type = "Assessment Type"
team = "Team"
worker = "Worker"
started = "Start Date"
authorised = "Authorisation Date"

[[rule]]
id = "unallocated"
kind = "unallocated"
source = "cases"
open_values = ["Open"]
over_days = 28

[[rule]]
id = "caseload"
kind = "caseload"
source = "cases"
open_values = ["Open"]
max_cases = 20

[[rule]]
id = "single-assessment"
kind = "timescale"
source = "assessments"
where = {{ type = ["Single", "C&F"] }}
start = "started"
end = "authorised"
limit = "45wd"
warn = "5wd"
target_percent = 85
)toml",
                     fmt::arg("state", (work / "state").string()));
}

Figures evaluate_phase(const std::filesystem::path& work, const ExtractSpec& spec) {
  const config::Config config = config::parse_config(config_text(work), work / "casewatch.toml");
  const rules::Calendar calendar = config::load_calendar(config);
  const rules::Source& cases_source = *config.rules.find_source("cases");
  const rules::Source& assessments_source = *config.rules.find_source("assessments");

  ExtractSpec open = spec;
  open.closed = 0;  // every record open
  std::vector<rules::Record> cases;
  cases.reserve(open.rows);
  for (std::size_t i = 0; i < open.rows; ++i) {
    cases.push_back(to_record(make_case_row(open, i, false), cases_source));
  }
  const std::vector<rules::Record> assessments = make_assessments(open, assessments_source);

  Figures figures;
  figures["records"] = static_cast<double>(cases.size() + assessments.size());
  figures["records_rss_mb"] = current_rss_mb();
  // The rules read views of the fields they use, as the Engine keeps them (built there from the
  // stored snapshot, here from the records in memory).
  auto start = std::chrono::steady_clock::now();
  const auto view_of = [&](const rules::Source& source, const std::vector<rules::Record>& rows) {
    rules::RecordViewBuilder builder(rules::fields_read(config.rules, source));
    builder.reserve(rows.size());
    for (const auto& row : rows) {
      builder.add(row);
    }
    return builder.finish();
  };
  const rules::RecordView cases_view = view_of(cases_source, cases);
  const rules::RecordView assessments_view = view_of(assessments_source, assessments);
  figures["view_seconds"] = seconds_since(start);
  figures["view_mb"] = static_cast<double>(cases_view.bytes() + assessments_view.bytes()) / 1e6;
  std::map<std::string, rules::SourceData, std::less<>> sources;
  sources["cases"] = rules::SourceData{&cases_source, open.as_of, nullptr, {}, &cases_view};
  sources["assessments"] =
      rules::SourceData{&assessments_source, open.as_of, nullptr, {}, &assessments_view};

  const double peak_before = own_peak_rss_mb();
  start = std::chrono::steady_clock::now();
  std::size_t findings = rules::evaluate(config.rules, calendar, sources).findings.size();
  figures["seconds"] = seconds_since(start);
  figures["evaluate_extra_rss_mb"] = own_peak_rss_mb() - peak_before;
  figures["findings"] = static_cast<double>(findings);

  for (const auto& rule : config.rules.rules) {
    rules::RuleSet one;
    one.sources = config.rules.sources;
    one.count_start_day = config.rules.count_start_day;
    one.rules.push_back(rule);
    start = std::chrono::steady_clock::now();
    findings = rules::evaluate(one, calendar, sources).findings.size();
    figures["rule:" + rule.id] = seconds_since(start);
    figures["rule_findings:" + rule.id] = static_cast<double>(findings);
  }
  return figures;
}

}  // namespace bench
