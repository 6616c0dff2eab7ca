// Phase 7: the whole weekly cycle as a user runs it, `casewatchd --once` as a process: the
// ingest, the evaluation of every rule, the findings history, the review files and the summary.
#include <fmt/format.h>

#include <fstream>

#include "bench/bench.h"

namespace bench {
namespace {

namespace fs = std::filesystem;

PhaseResult run_once(const fs::path& program, const fs::path& folder, const fs::path& file,
                     rules::Date as_of, const std::string& name) {
  const fs::path inbox = folder / "state" / "inbox";
  fs::create_directories(inbox);
  fs::copy_file(file, inbox / file.filename(), fs::copy_options::overwrite_existing);
  PhaseResult result =
      run_command({program.string(), "--config", (folder / "casewatch.toml").string(), "--once",
                   "--as-of", as_of.iso()},
                  (folder / (name + ".log")).string());
  if (result.ok) {
    result.figures["seconds"] = result.wall_seconds;
  }
  if (result.ok && fs::exists(inbox / file.filename())) {
    result.ok = false;
    result.error =
        fmt::format("{} was left in the inbox; see {}.log", file.filename().string(), name);
  }
  return result;
}

}  // namespace

CycleRuns cycle_phase(const fs::path& folder, const ExtractSpec& spec, const fs::path& first,
                      const fs::path& changed) {
  CycleRuns runs;
  const fs::path program = find_casewatchd();
  if (program.empty() || !fs::exists(program)) {
    runs.first.error = runs.again.error =
        fmt::format("casewatchd is not built ({})", program.string());
    return runs;
  }
  fs::remove_all(folder / "state");
  fs::create_directories(folder);
  std::ofstream(folder / "casewatch.toml") << config_text(folder);
  runs.first = run_once(program, folder, first, spec.as_of, "cycle-first");
  if (runs.first.ok) {
    runs.again = run_once(program, folder, changed, spec.as_of + 7, "cycle-again");
  }
  return runs;
}

}  // namespace bench
