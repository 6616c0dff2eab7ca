// The benchmark's xlsx phase: an Annex A List 6 workbook written here with libxlsxwriter (shared
// strings and serial dates, as Excel saves it) and the same rows as CSV, each ingested with full
// validation through Engine::ingest_file in a process of its own.
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <xlsxwriter.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <stdexcept>

#include "bench/bench.h"
#include "bench/measure.h"
#include "config/config.h"
#include "daemon/work/engine.h"
#include "storage/storage.h"

namespace bench {
namespace {

namespace fs = std::filesystem;

constexpr double kRowsPerSecondTarget = 250'000;
constexpr double kCsvRatioTarget = 3.0;
constexpr double kRssTargetMb = 200;

std::string xlsx_config(const fs::path& work) {
  return fmt::format(R"toml(
[service]
state_dir = "{state}"
socket = "{state}/control.sock"

[[source]]
name = "list6"
profile = "annex-a/list-6"
files = "annex-a*.xlsx"

# The same columns and checks, from CSV.
[[source]]
name = "list6csv"
profile = "annex-a/list-6"
format = "csv"
files = "list6*.csv"
date_formats = ["%d/%m/%Y"]

[[rule]]
id = "unallocated"
kind = "unallocated"
source = "list6"
open_values = ["Child in need plan", "Child Protection plan", "Looked after child"]

[[rule]]
id = "unallocated-csv"
kind = "unallocated"
source = "list6csv"
open_values = ["Child in need plan", "Child Protection plan", "Looked after child"]
)toml",
                     fmt::arg("state", (work / "state").string()));
}

const char* const kHeader[] = {"Child Unique ID",
                               "Gender",
                               "Ethnicity",
                               "Date of Birth",
                               "Age",
                               "Does the Child have a Disability",
                               "CIN Start Date",
                               "Primary Need Code",
                               "Date Child Was Last Seen",
                               "CIN Closure Date",
                               "Reason for Closure",
                               "Case Status",
                               "Allocated Team",
                               "Allocated Worker"};
const char* const kStatus[] = {"c) Child in need plan", "b) Child Protection plan",
                               "a) Looked after child", "e) Closed episode"};

// Day `serial` (1900 system, >= 61) as dd/mm/yyyy.
std::string dmy(int serial) {
  const rules::Date date = *rules::Date::from_ymd(1899, 12, 30) + serial;
  return fmt::format("{:02}/{:02}/{}", date.day(), date.month(), date.year());
}

// Writes `rows` List 6 rows as a workbook and as CSV.
void write_list6(std::size_t rows, const fs::path& xlsx, const fs::path& csv) {
  lxw_workbook* workbook = workbook_new(xlsx.c_str());
  lxw_format* date_format = workbook_add_format(workbook);
  format_set_num_format(date_format, "dd/mm/yyyy;@");
  lxw_worksheet* sheet = workbook_add_worksheet(workbook, "List 6");
  std::ofstream out(csv, std::ios::binary);
  worksheet_write_string(sheet, 0, 0, "List 6: Children in Need", nullptr);
  for (int c = 0; c < 14; ++c) {
    worksheet_write_string(sheet, 1, static_cast<lxw_col_t>(c), kHeader[c], nullptr);
    out << (c ? "," : "") << kHeader[c];
  }
  out << "\n";
  for (std::size_t i = 0; i < rows; ++i) {
    const auto r = static_cast<lxw_row_t>(i + 2);
    const int dob = 38000 + static_cast<int>(i * 7 % 6000);
    const int start = 43000 + static_cast<int>(i * 13 % 1800);
    const int seen = start + 30 + static_cast<int>(i % 60);
    const bool closed = i % 10 == 0;
    const std::string id = fmt::format("C{:07}", i);
    const std::string team = fmt::format("Locality {} Unit {}", i % 7 + 1, i % 3 + 1);
    const std::string worker = i % 20 == 0 ? "" : fmt::format("Worker {}", i % 900);
    const char* status = closed ? kStatus[3] : kStatus[i % 3];
    worksheet_write_string(sheet, r, 0, id.c_str(), nullptr);
    worksheet_write_string(sheet, r, 1, i % 2 ? "a) Male" : "b) Female", nullptr);
    worksheet_write_string(sheet, r, 2, "a) WBRI", nullptr);
    worksheet_write_number(sheet, r, 3, dob, date_format);
    worksheet_write_number(sheet, r, 4, (45000 - dob) / 365.25, nullptr);
    worksheet_write_string(sheet, r, 5, "b) No", nullptr);
    worksheet_write_number(sheet, r, 6, start, date_format);
    worksheet_write_string(sheet, r, 7, "N1 - Abuse or Neglect", nullptr);
    worksheet_write_number(sheet, r, 8, seen, date_format);
    if (closed) {
      worksheet_write_number(sheet, r, 9, seen + 10, date_format);
    }
    if (closed) {
      worksheet_write_string(sheet, r, 10, "RC1", nullptr);
    }
    worksheet_write_string(sheet, r, 11, status, nullptr);
    worksheet_write_string(sheet, r, 12, team.c_str(), nullptr);
    if (!worker.empty()) {
      worksheet_write_string(sheet, r, 13, worker.c_str(), nullptr);
    }
    out << fmt::format("{},{},a) WBRI,{},{:.4f},b) No,{},N1 - Abuse or Neglect,{},{},{},{},{},{}\n",
                       id, i % 2 ? "a) Male" : "b) Female", dmy(dob), (45000 - dob) / 365.25,
                       dmy(start), dmy(seen), closed ? dmy(seen + 10) : "", closed ? "RC1" : "",
                       status, team, worker);
  }
  if (workbook_close(workbook) != LXW_NO_ERROR) {
    throw std::runtime_error("workbook_close failed");
  }
}

Figures ingest(const fs::path& work, const fs::path& file, const std::string& source) {
  spdlog::set_level(spdlog::level::warn);
  const config::Config config = config::parse_config(xlsx_config(work), work / "casewatch.toml");
  service::prepare_state_dir(config);
  const rules::Calendar calendar = config::load_calendar(config);
  storage::History history(config.service.database_file());
  service::Engine engine(config, calendar, history);
  const auto start = std::chrono::steady_clock::now();
  const auto outcome = engine.ingest_file(file, *config.rules.find_source(source));
  const double seconds = seconds_since(start);
  if (outcome.info.status != storage::ExtractStatus::kIngested) {
    throw std::runtime_error(fmt::format("{} was {}: {}", outcome.info.file,
                                         storage::to_string(outcome.info.status),
                                         outcome.info.error));
  }
  return {{"seconds", seconds}, {"rows", static_cast<double>(outcome.info.rows)}};
}

}  // namespace

XlsxFigures xlsx_phase(const fs::path& work, std::size_t rows) {
  XlsxFigures figures;
  figures.rows = rows;
  const fs::path folder = work / "xlsx";
  fs::create_directories(folder);
  const fs::path xlsx = folder / "annex-a_2026-11-23.xlsx";
  const fs::path csv = folder / "list6_2026-11-23.csv";
  // Written in a child: libxlsxwriter holds the whole sheet in memory until it closes the
  // workbook, and an ingest child forked from a parent that grew so would count those pages in
  // its own peak RSS (300 MB of a 200,000-row sheet), not what the ingest uses.
  const auto start = std::chrono::steady_clock::now();
  const PhaseResult written = run_forked([&] {
    write_list6(rows, xlsx, csv);
    return Figures{};
  });
  if (!written.ok) {
    throw std::runtime_error("writing the workbook failed: " + written.error);
  }
  figures.generate_seconds = seconds_since(start);
  figures.xlsx_bytes = static_cast<double>(fs::file_size(xlsx));
  figures.csv_bytes = static_cast<double>(fs::file_size(csv));
  figures.xlsx = run_forked([&] { return ingest(folder / "a", xlsx, "list6"); });
  figures.csv = run_forked([&] { return ingest(folder / "b", csv, "list6csv"); });
  return figures;
}

void print_xlsx(const XlsxFigures& f) {
  std::printf(
      "\n(6) Annex A List 6 workbook, %zu rows (%.1f MB .xlsx, %.1f MB as CSV; written in "
      "%.1f s)\n",
      f.rows, f.xlsx_bytes / 1e6, f.csv_bytes / 1e6, f.generate_seconds);
  for (const auto* r : {&f.xlsx, &f.csv}) {
    const char* name = r == &f.xlsx ? "xlsx ingest, full validation" : "CSV ingest, same rows";
    if (!r->ok) {
      std::printf("    %-34s FAILED: %s\n", name, r->error.c_str());
      continue;
    }
    const double seconds = r->figures.at("seconds");
    std::printf("    %-34s %8.3f s %10.0f rows/s  peak %6.1f MB\n", name, seconds,
                r->figures.at("rows") / seconds, r->peak_rss_mb);
  }
  if (f.xlsx.ok && f.csv.ok) {
    const double rate = f.xlsx.figures.at("rows") / f.xlsx.figures.at("seconds");
    const double ratio = f.xlsx.figures.at("seconds") / f.csv.figures.at("seconds");
    std::printf(
        "    xlsx: %.0f rows/s (target >= %.0f: %s), %.2fx the CSV ingest (target <= "
        "%.0fx: %s), peak RSS %.1f MB (target <= %.0f MB: %s)\n",
        rate, kRowsPerSecondTarget, rate >= kRowsPerSecondTarget ? "ok" : "MISSED", ratio,
        kCsvRatioTarget, ratio <= kCsvRatioTarget ? "ok" : "MISSED", f.xlsx.peak_rss_mb,
        kRssTargetMb, f.xlsx.peak_rss_mb <= kRssTargetMb ? "ok" : "MISSED");
  }
}

boost::json::value xlsx_json(const XlsxFigures& f) {
  boost::json::object o;
  o["rows"] = f.rows;
  o["xlsx_bytes"] = f.xlsx_bytes;
  o["ok"] = f.xlsx.ok && f.csv.ok;
  if (!f.xlsx.ok) {
    o["error"] = f.xlsx.error;
  }
  if (f.xlsx.ok && f.csv.ok) {
    o["xlsx_seconds"] = f.xlsx.figures.at("seconds");
    o["csv_seconds"] = f.csv.figures.at("seconds");
    o["rows_per_second"] = f.xlsx.figures.at("rows") / f.xlsx.figures.at("seconds");
    o["ratio_to_csv"] = f.xlsx.figures.at("seconds") / f.csv.figures.at("seconds");
    o["peak_rss_mb"] = f.xlsx.peak_rss_mb;
  }
  return o;
}

}  // namespace bench
