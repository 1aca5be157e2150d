// A scenario: a world to build, a workload, and the properties to check at the end. Kernel
// scenarios are written in C++ (the demo and tests of sim/); scenario folders with Worker code
// come with the platform.
//
// A scenario run is a pure function of (build, scenario, seed, options): build the world, install
// the fault plan, run for `duration`, then check. The runner (runner.h) adds traces and hashing.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "props/history.h"
#include "sim/faults.h"
#include "sim/time.h"
#include "sim/world.h"

namespace scenarios {

struct PropertyResult {
  std::string name;
  enum class Verdict { kOk, kViolated, kUnknown } verdict = Verdict::kOk;
  std::string explanation;  // plain words; for a violation, what happened and where
  // The checker could not run because of the scenario's own code (a JS model that does not load
  // or exceeds its limits): the run is bad input (exit 2), not a verdict. Verdict is kUnknown.
  bool bad_input = false;
};
const char* verdict_name(PropertyResult::Verdict v);

// One scenario instance for one run. Created fresh per run, so it may keep state.
class ScenarioRun {
 public:
  virtual ~ScenarioRun() = default;
  // Adds nodes and boot functions. Called before World::start().
  virtual void build(sim::World& world) = 0;
  // Called after the world ran to the end of the scenario (faults quiet, nodes restarted).
  // `history` is what the run's events recorded (props/history.h): checks that read only it
  // give the same verdicts on a trace file (edgesim check).
  virtual std::vector<PropertyResult> check(sim::World& world, const props::History& history) = 0;
  // Host-independent counters for the trace footer and the summary line.
  virtual std::map<std::string, std::uint64_t> stats(sim::World& world) { return {}; }
};

struct ScenarioInfo {
  std::string name;
  std::string summary;   // one line: what it shows
  std::string expected;  // "pass", or the property a buggy variant must violate
  sim::Duration duration = 60 * sim::kSecond;
  sim::Duration quiet_after = 45 * sim::kSecond;  // faults stop here; the rest shows recovery
  // The fault plan a run uses when none is given (--faults): none, swarm, or a plan's text.
  std::string default_faults = "none";
  // A checker compares workflow outputs with a fault-free run of the same seed (workflow_replay):
  // the runner runs that twin first and records its outputs as workflow.reference events.
  bool workflow_reference = false;
  std::function<std::unique_ptr<ScenarioRun>()> make;
};

// Built-in scenarios, sorted by name.
const std::vector<ScenarioInfo>& builtin_scenarios();
const ScenarioInfo* find_builtin(const std::string& name);

}  // namespace scenarios
