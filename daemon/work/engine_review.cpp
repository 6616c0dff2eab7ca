// The Engine's review side: builds a report::Review from the findings history and the current
// evaluation, renders it, and writes the week's review files.
#include <fmt/format.h>

#include <stdexcept>

#include "daemon/files.h"
#include "daemon/work/engine.h"
#include "daemon/work/sender.h"
#include "report/report.h"

namespace service {
namespace {

// How far back the trend goes.
constexpr int kTrendWeeks = 12;

report::Review make_review(const config::Config& config, const storage::History& history,
                           const rules::Evaluation& current, rules::IsoWeek week, rules::Date today,
                           bool late, std::optional<Time> now) {
  const auto silences = now ? history.silences() : std::vector<storage::Silence>{};
  report::Review review;
  review.week = week;
  review.today = today;
  review.late = late;
  review.caseloads = current.caseloads;
  for (const auto& rule : config.rules.rules) {
    report::RuleSection section;
    section.rule = &rule;
    const auto latest = history.latest_extract(rule.source);
    section.as_of = latest ? latest->as_of : today;
    // A list is a baseline when the rule's current definition was first evaluated within the
    // week before this review: nothing earlier to compare with.
    const auto baseline_since = history.baseline_since(rule.id);
    section.baseline = !baseline_since || *baseline_since > today - 7;
    if (!section.baseline) section.previous_review = today - 7;
    section.open = history.open_findings(rule.id);
    for (auto& tracked : section.open) {
      tracked.silenced = now && finding_silenced(silences, rule.id, tracked.finding.key,
                                                 tracked.finding.team, *now);
    }
    section.resolved = history.resolved_between(rule.id, today - 6, today);
    for (const auto& band : current.bands) {
      if (band.rule == rule.id) section.bands.push_back(band);
    }
    for (const auto& band : current.team_bands) {
      if (band.rule == rule.id) section.team_bands.push_back(band);
    }
    section.trend = history.trend(rule.id, today - 7 * kTrendWeeks, today);
    for (const auto& completion : current.completions) {
      if (completion.rule == rule.id) section.completions.push_back(completion);
    }
    review.sections.push_back(std::move(section));
  }
  return review;
}

}  // namespace

std::string Engine::render_review(rules::IsoWeek week, rules::Date today, std::string_view format,
                                  bool late) const {
  if (format != "text" && format != "html" && format != "csv") {
    throw std::invalid_argument(
        fmt::format("unknown review format '{}': expected text, html or csv", format));
  }
  const auto review =
      make_review(config_, history_, evaluate_current(), week, today, late, std::nullopt);
  if (format == "html") return report::render_html(review);
  if (format == "csv") return report::render_csv(review, report::known_fields());
  return report::render_text(review);
}

report::Review Engine::build_review(rules::IsoWeek week, rules::Date today, bool late,
                                    Time now) const {
  return make_review(config_, history_, evaluate_current(), week, today, late, now);
}

std::filesystem::path Engine::produce_review(rules::IsoWeek week, rules::Date today, bool late,
                                             Time now) {
  evaluate_pending();  // no review is built without an extract a kill left unevaluated
  const auto review = build_review(week, today, late, now);
  const auto folder = write_files(review);
  queue_review(history_, review, config_, late, now);
  return folder;
}

std::filesystem::path Engine::write_review(rules::IsoWeek week, rules::Date today, bool late) {
  return write_files(
      make_review(config_, history_, evaluate_current(), week, today, late, std::nullopt));
}

std::filesystem::path Engine::write_files(const report::Review& review) const {
  const auto week = review.week;
  const auto folder = config_.service.reports_dir() / week.str();
  make_private_dir(config_.service.reports_dir());
  make_private_dir(folder);
  // Each file is replaced whole, so a re-run in the same week replaces the earlier files. The
  // files (0640, for the performance team) keep every field; mail keeps to [review] fields.
  write_private_file(folder / "review.txt", report::render_text(review));
  write_private_file(folder / "review.html", report::render_html(review));
  write_private_file(folder / "review.csv", report::render_csv(review, report::known_fields()));
  return folder;
}

}  // namespace service
