#include <cstdio>

#include "bench/bench.h"

namespace bench {

SocketFigures socket_phase(const std::filesystem::path& /*work*/, const ExtractSpec& /*spec*/) {
  SocketFigures figures;
  figures.skipped =
      "TODO: socket latency not measured: casewatchd's service mode (casewatchd --config F) was "
      "not ready when the benchmark was written";
  return figures;
}

void print_socket(const SocketFigures& figures) {
  if (!figures.ran) {
    std::printf("(4) control socket: %s\n", figures.skipped.c_str());
    return;
  }
}

boost::json::value socket_json(const SocketFigures& figures) {
  boost::json::object o;
  o["ran"] = figures.ran;
  if (!figures.ran) o["skipped"] = figures.skipped;
  return o;
}

boost::json::value socket_target_met(const SocketFigures& figures) {
  if (!figures.ran) return nullptr;
  return figures.status_p99_ms <= 5.0;
}

}  // namespace bench
