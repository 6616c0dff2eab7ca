// Phase 4's report: the control socket's figures as text and as JSON.
#include <fmt/format.h>

#include <cstdio>
#include <string>

#include "bench/bench.h"

namespace bench {
namespace {

constexpr double kStatusP99TargetMs = 5.0;
constexpr double kServiceRssTargetMb = 200.0;  // issue 16: the service with 1M records loaded

}  // namespace

void print_socket(const SocketFigures& figures) {
  if (!figures.ran) {
    std::printf("(4) control socket: %s\n", figures.skipped.c_str());
    return;
  }
  std::printf(
      "(4) control socket, %d clients (%s), while an extract was ingested and evaluated "
      "(%.1f s): %zu requests, %zu failed\n",
      figures.clients,
      figures.interval_ms > 0
          ? fmt::format("each a request every {} ms", figures.interval_ms).c_str()
          : "back to back",
      figures.ingest_seconds, figures.requests, figures.failures);
  std::printf("    idle, one client:    status p50 %.2f ms, findings unallocated p50 %.2f ms\n",
              figures.idle_status_p50_ms, figures.idle_findings_p50_ms);
  std::printf(
      "    status               p50 %8.2f ms   p99 %8.2f ms   max %8.2f ms   target p99 "
      "<= %.0f ms: %s\n",
      figures.status_p50_ms, figures.status_p99_ms, figures.status_max_ms, kStatusP99TargetMs,
      figures.status_p99_ms <= kStatusP99TargetMs ? "ok" : "MISSED");
  std::printf("    findings unallocated p50 %8.2f ms   p99 %8.2f ms   max %8.2f ms\n",
              figures.findings_p50_ms, figures.findings_p99_ms, figures.findings_max_ms);
  std::printf(
      "    longest time with no answer to any client: %.1f ms, ending %.2f s after the drop "
      "(target <= 50 ms: %s)\n",
      figures.longest_gap_ms, figures.longest_gap_at_s,
      figures.longest_gap_ms <= 50 ? "ok" : "MISSED");
  if (figures.note_sent) {
    std::printf("    a note sent during the ingest: answered after %.1f ms (%s)\n", figures.note_ms,
                figures.note_reply.find("\"result\":0") != std::string::npos
                    ? "recorded"
                    : figures.note_reply.c_str());
  } else {
    std::printf("    no note sent during the ingest (%s)\n", figures.note_reply.empty()
                                                                 ? "it ended before one could be"
                                                                 : figures.note_reply.c_str());
  }
  for (const auto& w : figures.windows) {
    const bool ok = w.status_p99_ms <= kStatusP99TargetMs && w.longest_gap_ms <= 50;
    std::printf("    while %s (%.2f s; asked %zu time%s, slowest answer %.1f ms):\n",
                w.what.c_str(), w.seconds, w.asked, w.asked == 1 ? "" : "s", w.command_max_ms);
    std::printf(
        "        status p50 %8.2f ms   p99 %8.2f ms   max %8.2f ms (%zu sent); longest gap %.1f "
        "ms (ending at %.2f s): %s\n",
        w.status_p50_ms, w.status_p99_ms, w.status_max_ms, w.status_count, w.longest_gap_ms,
        w.longest_gap_at_s, ok ? "ok" : "MISSED");
    if (w.first_reply.find("\"result\":0") == std::string::npos) {
      std::printf("        its reply: %s\n", w.first_reply.c_str());
    }
  }
  std::printf(
      "    casewatchd's memory: idle with the records loaded %.1f MB (target <= %.0f MB: %s); "
      "peak while the changed extract was ingested and evaluated %.1f MB; idle after the "
      "reader commands %.1f MB\n",
      figures.service_idle_rss_mb, kServiceRssTargetMb,
      figures.service_idle_rss_mb > 0 && figures.service_idle_rss_mb <= kServiceRssTargetMb
          ? "ok"
          : "MISSED",
      figures.service_cycle_peak_mb, figures.service_after_rss_mb);
  if (!figures.error.empty()) {
    std::printf("    problem: %s\n", figures.error.c_str());
  }
}

boost::json::value socket_json(const SocketFigures& figures) {
  boost::json::object o;
  o["ran"] = figures.ran;
  if (!figures.ran) {
    o["skipped"] = figures.skipped;
    return o;
  }
  o["clients"] = figures.clients;
  o["interval_ms"] = figures.interval_ms;
  o["requests"] = figures.requests;
  o["failures"] = figures.failures;
  o["ingest_seconds"] = figures.ingest_seconds;
  o["status_p50_ms"] = figures.status_p50_ms;
  o["status_p99_ms"] = figures.status_p99_ms;
  o["status_max_ms"] = figures.status_max_ms;
  o["findings_p50_ms"] = figures.findings_p50_ms;
  o["findings_p99_ms"] = figures.findings_p99_ms;
  o["findings_max_ms"] = figures.findings_max_ms;
  o["longest_gap_ms"] = figures.longest_gap_ms;
  o["longest_gap_at_s"] = figures.longest_gap_at_s;
  o["idle_status_p50_ms"] = figures.idle_status_p50_ms;
  o["idle_findings_p50_ms"] = figures.idle_findings_p50_ms;
  o["note_sent"] = figures.note_sent;
  if (figures.note_sent) {
    o["note_ms"] = figures.note_ms;
  }
  boost::json::array windows;
  for (const auto& w : figures.windows) {
    windows.push_back(boost::json::object{{"what", w.what},
                                          {"seconds", w.seconds},
                                          {"asked", w.asked},
                                          {"command_max_ms", w.command_max_ms},
                                          {"status_count", w.status_count},
                                          {"status_p50_ms", w.status_p50_ms},
                                          {"status_p99_ms", w.status_p99_ms},
                                          {"status_max_ms", w.status_max_ms},
                                          {"longest_gap_ms", w.longest_gap_ms},
                                          {"longest_gap_at_s", w.longest_gap_at_s}});
  }
  o["windows"] = std::move(windows);
  o["service_idle_rss_mb"] = figures.service_idle_rss_mb;
  o["service_cycle_peak_mb"] = figures.service_cycle_peak_mb;
  o["service_after_rss_mb"] = figures.service_after_rss_mb;
  if (!figures.error.empty()) {
    o["error"] = figures.error;
  }
  return o;
}

boost::json::value socket_target_met(const SocketFigures& figures) {
  if (!figures.ran) {
    return nullptr;
  }
  return figures.status_p99_ms <= kStatusP99TargetMs;
}

}  // namespace bench
