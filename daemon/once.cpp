#include "daemon/once.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <boost/json.hpp>
#include <map>

#include "daemon/control/wire_json.h"
#include "daemon/policy/outbox.h"

namespace service {
namespace {

namespace json = boost::json;

std::string problem_text(const rules::Problem& p) {
  std::string where = p.line > 0 ? fmt::format("line {}", p.line) : "";
  if (!p.column.empty()) {
    where += fmt::format("{}column '{}'", where.empty() ? "" : ", ", p.column);
  }
  return where.empty() ? p.message : where + ": " + p.message;
}

}  // namespace

std::vector<rules::TrackedFinding> review_findings(const report::Review& review) {
  std::vector<rules::TrackedFinding> all;
  for (const auto& section : review.sections) {
    all.insert(all.end(), section.open.begin(), section.open.end());
  }
  return all;
}

void print_summary(std::ostream& out, const config::Config& config, const CycleResult& cycle,
                   const std::vector<rules::TrackedFinding>& findings,
                   const rules::Evaluation& current, rules::Date today,
                   const std::string& review_text, const std::filesystem::path& review_folder,
                   const std::vector<OutboxEntry>& mail) {
  out << fmt::format("casewatch: one cycle on {} (review week {})\n\n", today.iso(),
                     rules::iso_week(today).str());
  out << "Extracts\n";
  if (cycle.extracts.empty() && cycle.ignored.empty()) {
    out << "  The inbox was empty: nothing new to ingest.\n";
  } else if (cycle.extracts.empty()) {
    out << "  Nothing ingested: no file in the inbox matches a source.\n";
  }
  for (const auto& e : cycle.extracts) {
    const auto& i = e.info;
    out << fmt::format("  {:<34} {:<13} as of {}  {:>7} rows  {:>4} problems  {}\n", i.file,
                       i.source, i.as_of.iso(), i.rows, i.problems, to_string(i.status));
    if (i.status != storage::ExtractStatus::kIngested) {
      out << fmt::format("      why: {}\n", i.error);
    }
    for (std::size_t n = 0; n < e.problems.size() && n < 5; ++n) {
      out << "      " << problem_text(e.problems[n]) << "\n";
    }
    if (e.problems.size() > 5) {
      out << fmt::format("      ... and {} more\n", e.problems.size() - 5);
    }
  }

  for (const auto& file : cycle.ignored) {
    out << fmt::format("  {:<34} NOT READ: {}\n", file.path.filename().string(), file.reason);
  }
  for (const auto& set : cycle.incomplete_sets) {
    out << fmt::format(
        "  set '{}' as of {} is incomplete: no file for {}; {} ingested without it\n", set.set,
        set.as_of.iso(), fmt::join(set.missing, ", "), fmt::join(set.files, ", "));
  }

  out << "\nFindings by rule (on the lists now)\n";
  std::vector<const rules::Finding*> open;
  open.reserve(findings.size());
  for (const auto& f : findings) {
    open.push_back(&f.finding);
  }
  for (const auto& rule : config.rules.rules) {
    const auto totals = report::rule_totals(rule, open, current.bands);
    out << fmt::format("  {:<22} {}\n", rule.id, report::totals_text(rule, totals));
    for (const auto& band : current.bands) {
      if (band.rule == rule.id && band.count > 0) {
        out << fmt::format("      {:<44} {:>5}\n", band.band, band.count);
      }
    }
  }
  out << "\n" << review_text;
  if (!review_text.empty() && review_text.back() != '\n') {
    out << "\n";
  }
  out << fmt::format("\nReview files (text, HTML, CSV) written to {}\n", review_folder.string());
  if (!mail.empty()) {
    out << "\nMail\n";
    for (const auto& entry : mail) {
      out << fmt::format("  {:<9} {:<32} {}{}\n", to_string(entry.state), entry.recipient,
                         entry.subject,
                         entry.last_error.empty() ? "" : " (" + entry.last_error + ")");
    }
  }
}

std::string summary_json(const config::Config& config, const storage::History& history,
                         const CycleResult& cycle,
                         const std::vector<rules::TrackedFinding>& findings,
                         const rules::Evaluation& current, rules::Date today,
                         const std::filesystem::path& review_folder,
                         const std::vector<OutboxEntry>& mail) {
  json::object root;
  root["today"] = today.iso();
  root["week"] = rules::iso_week(today).str();

  json::array extracts;
  for (const auto& e : cycle.extracts) {
    const auto& i = e.info;
    json::object o{{"file", i.file},
                   {"source", i.source},
                   {"as_of", i.as_of.iso()},
                   {"rows", i.rows},
                   {"problems", i.problems},
                   {"status", std::string(to_string(i.status))},
                   {"error", i.error.empty() ? json::value(nullptr) : json::value(i.error)}};
    json::array problems;
    for (const auto& p : e.problems) {
      problems.push_back(
          json::object{{"line", p.line}, {"column", p.column}, {"message", p.message}});
    }
    o["problem_list"] = std::move(problems);
    extracts.push_back(std::move(o));
  }
  root["extracts"] = std::move(extracts);
  json::array ignored;
  for (const auto& file : cycle.ignored) {
    ignored.push_back(
        json::object{{"file", file.path.filename().string()}, {"reason", file.reason}});
  }
  root["ignored"] = std::move(ignored);
  json::array incomplete;
  for (const auto& set : cycle.incomplete_sets) {
    json::array files(set.files.begin(), set.files.end());
    json::array missing(set.missing.begin(), set.missing.end());
    incomplete.push_back(json::object{{"set", set.set},
                                      {"as_of", set.as_of.iso()},
                                      {"files", std::move(files)},
                                      {"missing", std::move(missing)}});
  }
  root["incomplete_sets"] = std::move(incomplete);

  json::array list;
  for (const auto& f : findings) {
    const rules::Rule* rule = config.rules.find_rule(f.finding.rule);
    list.push_back(finding_json(f, rule != nullptr ? rule->kind : rules::RuleKind::kUnallocated));
  }
  root["findings"] = std::move(list);

  // Counts by rule and band: every band, zeros included (the band table).
  json::object counts;
  for (const auto& rule : config.rules.rules) {
    json::object bands;
    for (const auto& band : current.bands) {
      if (band.rule == rule.id) {
        bands[band.band] = band.count;
      }
    }
    counts[rule.id] = std::move(bands);
  }
  root["counts"] = std::move(counts);

  // The trend of the last 12 weeks, per rule: one point per evaluation.
  json::object trend;
  for (const auto& rule : config.rules.rules) {
    json::array points;
    for (const auto& p : history.trend(rule.id, today - 7 * 12, today)) {
      points.push_back(
          json::object{{"as_of", p.as_of.iso()}, {"band", p.band}, {"count", p.count}});
    }
    trend[rule.id] = std::move(points);
  }
  root["trend"] = std::move(trend);
  root["review_folder"] = review_folder.string();
  root["mail"] = outbox_json(mail);
  return json::serialize(root);
}

}  // namespace service
