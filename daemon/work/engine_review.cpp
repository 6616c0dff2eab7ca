// The Engine's review side: builds a report::Review from the findings history and the current
// evaluation, renders it, and writes the week's review files.
#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <stdexcept>
#include <utility>

#include "daemon/files.h"
#include "daemon/work/engine.h"
#include "daemon/work/sender.h"
#include "report/report.h"

namespace service {
namespace {

// How far back the trend goes.
constexpr int kTrendWeeks = 12;
// A source's latest extract older than this (or its configured max_age) makes the review say
// DATA OUT OF DATE.
constexpr int kDefaultMaxAgeDays = 8;

int max_age_days(const config::Config& config, std::string_view source) {
  for (const auto& alerts : config.source_alerts) {
    if (alerts.source == source && alerts.max_age) {
      return static_cast<int>((alerts.max_age->count() + 23) / 24);
    }
  }
  return kDefaultMaxAgeDays;
}

// NO DATA for a rule whose source has no ingested extract; one DATA OUT OF DATE line per source
// (of a reviewed rule) whose latest extract is older than its max_age on `today`.
void check_data(const config::Config& config, const storage::History& history, rules::Date today,
                report::Review& review) {
  std::vector<std::string> seen;
  for (auto& section : review.sections) {
    if (!section.rule->review) {
      continue;
    }
    for (const auto& source : rules::sources_of(*section.rule)) {
      const auto latest = history.latest_extract(source);
      if (!latest) {
        if (!section.no_data.empty()) {
          section.no_data += "; ";
        }
        section.no_data += fmt::format("no extract of '{}' has been ingested", source);
        continue;
      }
      if (std::find(seen.begin(), seen.end(), source) != seen.end()) {
        continue;
      }
      seen.push_back(source);
      const int age = today - latest->as_of;
      if (age > max_age_days(config, source)) {
        review.stale.push_back(fmt::format("{}, last extract as of {}, {} days before this review",
                                           source, report::long_date(latest->as_of), age));
      }
    }
  }
}

// The rule's part relative to `previous` (the previous published review, or none): NEW and
// CARRIED (n weeks) marks, what left since with why (from the findings history, with the last
// note), and a definition change since.
void compare(const storage::History& history, const rules::PublishedReview* previous,
             report::RuleSection& section) {
  const rules::Rule& rule = *section.rule;
  rules::mark_against(section.open, previous);
  section.baseline = previous == nullptr;
  const auto change = history.last_definition_change(rule.id);
  if (change && (previous == nullptr || change->on > previous->as_of)) {
    section.rule_changed_on = change->on;
    section.rule_changes = rules::definition_diff(change->before, change->after);
  }
  if (previous == nullptr) {
    return;
  }
  section.previous_week = previous->week;
  section.previous_review = previous->as_of;
  int count = 0;
  for (const auto& item : previous->items) {
    if (item.rule == rule.id && item.state != rules::State::kUntrusted &&
        item.state != rules::State::kDataProblem) {
      ++count;
    }
  }
  section.previous_count = count;
  for (const auto& item : rules::left_since(*previous, rule.id, section.open)) {
    if (auto resolved = history.last_resolved(rule.id, item.key)) {
      section.resolved.push_back(std::move(*resolved));
      continue;
    }
    // No resolution kept (pruned): say what is known.
    rules::ResolvedFinding left;
    left.last.rule = rule.id;
    left.last.key = item.key;
    left.last.band = item.band;
    left.last.state = item.state;
    left.first_seen = previous->as_of;
    left.resolved_on = section.as_of;
    left.detail = "no longer on the list";
    section.resolved.push_back(std::move(left));
  }
}

report::Review make_review(const config::Config& config, const storage::History& history,
                           const rules::Evaluation& current, rules::IsoWeek week, rules::Date today,
                           bool late, std::optional<Time> now) {
  const auto silences = now ? history.silences() : std::vector<storage::Silence>{};
  const auto previous = history.previous_review(week);
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
    section.open = history.open_findings(rule.id);
    for (auto& tracked : section.open) {
      tracked.silenced = now && finding_silenced(silences, rule.id, tracked.finding.key,
                                                 tracked.finding.team, *now);
    }
    compare(history, previous ? &*previous : nullptr, section);
    for (const auto& band : current.bands) {
      if (band.rule == rule.id) {
        section.bands.push_back(band);
      }
    }
    for (const auto& band : current.team_bands) {
      if (band.rule == rule.id) {
        section.team_bands.push_back(band);
      }
    }
    section.trend = history.trend(rule.id, today - 7 * kTrendWeeks, today);
    for (const auto& completion : current.completions) {
      if (completion.rule == rule.id) {
        section.completions.push_back(completion);
      }
    }
    review.sections.push_back(std::move(section));
  }
  check_data(config, history, today, review);
  // Data quality since the previous review (or ever, at the first one).
  review.person_changes = history.person_changes(
      previous ? std::optional<rules::Date>(previous->as_of) : std::nullopt, today);
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
  if (format == "html") {
    return report::render_html(review);
  }
  if (format == "csv") {
    return report::render_csv(review, report::known_fields());
  }
  return report::render_text(review);
}

report::Review Engine::build_review(rules::IsoWeek week, rules::Date today, bool late,
                                    Time now) const {
  return make_review(config_, history_, evaluate_current(), week, today, late, now);
}

std::filesystem::path Engine::produce_review(rules::IsoWeek week, rules::Date today, bool late,
                                             Time now, report::Review* built) {
  evaluate_pending();  // no review is built without an extract a kill left unevaluated
  auto review = build_review(week, today, late, now);
  auto folder = write_files(review);
  queue_review(history_, review, config_, late, now);
  if (built != nullptr) {
    *built = std::move(review);
  }
  return folder;
}

std::filesystem::path Engine::write_review(rules::IsoWeek week, rules::Date today, bool late) {
  return write_files(
      make_review(config_, history_, evaluate_current(), week, today, late, std::nullopt));
}

void Engine::record(const report::Review& review, std::string_view text) {
  rules::PublishedReview published{review.week, review.today, {}};
  for (const auto& section : review.sections) {
    if (!section.rule->review || !section.no_data.empty()) {
      continue;
    }
    auto items = rules::review_items(section.open);
    published.items.insert(published.items.end(), std::make_move_iterator(items.begin()),
                           std::make_move_iterator(items.end()));
  }
  const auto at = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  history_.record_review(published, fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", at), text);
}

std::filesystem::path Engine::write_files(const report::Review& review) {
  const auto week = review.week;
  auto folder = config_.service.reports_dir() / week.str();
  make_private_dir(config_.service.reports_dir());
  make_private_dir(folder);
  // Each file is replaced whole, so a re-run in the same week replaces the earlier files. The
  // files (0640, for the performance team) keep every field; mail keeps to [review] fields.
  // The HTML and the CSV are rendered on a thread of their own while this one renders the text
  // (rendering reads the review and changes nothing); a long review's three take as long as the
  // text alone.
  auto others = std::async(std::launch::async, [&review] {
    return std::pair{report::render_html(review),
                     report::render_csv(review, report::known_fields())};
  });
  const std::string text = report::render_text(review);
  const auto [html, csv] = others.get();
  write_private_file(folder / "review.txt", text);
  write_private_file(folder / "review.html", html);
  write_private_file(folder / "review.csv", csv);
  // Then the run as a record: the next review compares with this list.
  record(review, text);
  return folder;
}

}  // namespace service
