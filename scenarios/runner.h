// Runs a scenario for one seed: builds the world, installs the fault plan, runs, checks, and
// (optionally) writes a trace. Also the two self-checks of a run: replay against a trace, and the
// determinism check (run twice, compare the hash streams).
//
// Exit codes (the CLI's): 0 every property holds; 1 a property was violated; 2 bad input;
// 3 nondeterminism or an internal error; 4 undecided: no property was violated but a checker
// could not decide one (its verdict is unknown), which is never a pass.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "scenarios/scenario.h"
#include "sim/event.h"
#include "sim/result.h"

namespace scenarios {

inline constexpr int kExitOk = 0;
inline constexpr int kExitViolated = 1;
inline constexpr int kExitBadInput = 2;
inline constexpr int kExitInternal = 3;
inline constexpr int kExitUndecided = 4;

struct RunConfig {
  RunConfig() = default;
  RunConfig(std::string scenario_, std::uint64_t seed_, std::string faults_ = "",
            std::string trace_path_ = "")
      : scenario(std::move(scenario_)),
        seed(seed_),
        faults(std::move(faults_)),
        trace_path(std::move(trace_path_)) {}

  // A built-in scenario's name, or a scenario folder ("scenarios/suite/do-counter", with
  // "@variant" to pick a variant).
  std::string scenario;
  std::uint64_t seed = 1;
  // none | swarm | plan file | plan text; empty: the scenario's own (swarm for the built-ins).
  std::string faults;
  std::string trace_path;  // empty: no trace file
  // Replay: the folder scenario's files (and variant) as a trace recorded them; empty: load
  // `scenario` from the disk.
  std::map<std::string, std::string> files;
  std::string variant;
  // Replay: the run comes from a trace, which is untrusted input. The fault plan is the trace's
  // own text (never a path to read), and nothing is loaded from the disk: a trace without
  // scenario files must name a built-in scenario.
  bool from_trace = false;
  std::string fault_plan_text;
};

struct RunOutcome {
  int exit_code = kExitOk;
  std::string verdict;  // "pass", "fail", "unknown" (undecided), "error"
  std::string error;    // for exit codes 2 and 3
  std::vector<PropertyResult> properties;
  std::map<std::string, std::uint64_t> stats;
  std::string faults;  // what the fault plan was, in words (the swarm draw, or the plan)
  std::uint64_t events = 0;
  std::uint64_t final_hash = 0;
  sim::Time sim_time = 0;
  std::uint64_t scheduler_events = 0;
  std::string trace_path;  // set when a trace was written
};

// The result of the property named `name`, or nullptr.
const PropertyResult* find_property(const RunOutcome& outcome, const std::string& name);

// Sets outcome.verdict and exit_code from its properties: "fail" (1) when one is violated, else
// "unknown" (4) when one is unknown, else "pass" (0).
void settle_verdict(RunOutcome& outcome);

// What a scenario name stands for (a built-in, or a folder, optionally "@variant"): its
// description (name, summary, expected verdict). Errors: unknown or malformed scenarios.
sim::Result<ScenarioInfo> describe_scenario(const std::string& name);
// The scenarios a sweep runs for `name`: a built-in or a scenario folder stands for itself and its
// variants ("dir@variant"); a folder of scenario folders (a suite) for each of them; "all" for
// the built-ins and the shipped suite (scenarios/suite).
sim::Result<std::vector<std::string>> expand_scenarios(const std::string& name);

// The one command that reproduces a run.
std::string repro_command(const RunConfig& config);

// Runs one seed. Extra sinks see every event (after the built-in hash sink).
RunOutcome run_scenario(const RunConfig& config, const std::vector<sim::EventSink*>& sinks = {});

struct ReplayOutcome {
  int exit_code = kExitOk;
  std::string report;  // what matched, or the first divergence with the events around it
  RunOutcome run;
};
// Re-runs the run recorded in `trace_path` and compares it event by event.
ReplayOutcome replay_trace(const std::string& trace_path);

struct CheckOutcome {
  int exit_code = kExitOk;
  std::string report;  // what was checked, and whether the verdicts match the trace's
  RunOutcome result;   // the properties as re-checked; verdict and exit code from them
};
// Re-runs the checkers on the history a trace recorded, without simulating: the scenario's
// properties come from the scenario files in the trace's header, the history from its events.
// Errors (exit 2): an unreadable or corrupted trace, a built-in kernel scenario (its checks read
// the simulated disks, which a trace does not hold: replay it instead).
CheckOutcome check_trace(const std::string& trace_path);

struct DeterminismOutcome {
  int exit_code = kExitOk;
  std::string report;
  std::uint64_t events = 0;
  std::uint64_t hash = 0;
};
DeterminismOutcome check_determinism(const RunConfig& config);

// One JSON object per run, for --json and sweeps.
std::string outcome_json(const RunConfig& config, const RunOutcome& outcome);

}  // namespace scenarios
