// `edgesim sweep`: many seeds of many scenarios, each run in a worker process of its own, summed
// up as one verdict per scenario. Correct scenarios must hold on every seed and buggy variants
// must be caught on at least one, so the exit code says whether the suite behaves as it declares.
#pragma once

#include <string>
#include <vector>

namespace tools {

// The command line's `sweep` options; the defaults are the CLI's.
struct SweepOptions {
  std::vector<std::string> scenarios;  // names, folders, suites or "all"
  std::string seeds = "1..20";         // "A..B" or a single seed
  int jobs = 1;                        // worker processes at a time (>= 1)
  std::string out_dir = "edgesim-out";
  std::string faults;  // empty: each scenario's own fault plan
  bool json = false;   // one JSON line per run on stdout, as well as the table
  std::string shard;   // "I/N", or empty for the whole range
  // A seed's wall-clock bound: past it its worker is killed and the seed reported as timed out.
  double seed_timeout_s = 600;
};

// Runs the sweep, prints the verdict table and the first failure of each scenario, and returns
// the exit code: scenarios::kExitOk when every scenario behaved as it declares, kExitViolated,
// kExitUndecided or kExitInternal (the worst found), or kExitBadInput before any run starts.
int run_sweep(const SweepOptions& options);

}  // namespace tools
