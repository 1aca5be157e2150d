// Workflow replay: durable steps run once, replays are deterministic, faults do not change the
// result.
//
// Input, per workflow instance: its step events (start, success with the persisted result,
// failure, and "cached return" when a replay got a persisted result back without running the
// step), the step names each run attempt reached in order (the engine may restart run() from the
// top at any time), the final output, and the output of a fault-free run with the same input.
// Step names carry their occurrence counter when a name repeats ("fetch#2"), as the engine keys
// persisted results.
//
// Checks, per instance:
//   1. once persisted, never again: a start of a step after its result was persisted is a
//      violation, and so is a second persisted success; a cached return must return the
//      persisted result, and only for a step that has one;
//   2. deterministic replay: every run's step sequence is a prefix of the longest run's
//      sequence (the first longest, in input order);
//   3. same result: the final output equals the reference output.
// Verdict: kViolated on any violation; else kUnknown if some instance has no final output (it
// did not finish); else kOk. Without a reference output, check 3 is skipped (and noted).
//
// Events of one instance are ordered by time (ties keep input order). Pure function of the input.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "props/verdict.h"
#include "sim/time.h"

namespace props {

enum class StepEventKind {
  kStart,         // the step's function started running
  kSuccess,       // it returned; `result` was persisted
  kFailure,       // it threw (it may be retried)
  kCachedReturn,  // a replay got the persisted `result` back without running the step
};
const char* step_event_kind_name(StepEventKind k);

struct WorkflowStepEvent {
  std::string step;  // name, with its occurrence counter if the name repeats
  StepEventKind kind = StepEventKind::kStart;
  std::uint32_t run = 0;  // the run attempt (0-based) it happened in
  sim::Time time = 0;
  std::string result;  // kSuccess: the persisted result; kCachedReturn: what was returned
};

struct WorkflowInstance {
  std::string instance_id;
  std::vector<WorkflowStepEvent> events;
  // runs[k]: the step names run attempt k reached, in order (started, failed or cached).
  std::vector<std::vector<std::string>> runs;
  std::optional<std::string> final_output;      // nullopt: the instance did not finish
  std::optional<std::string> reference_output;  // from a fault-free run of the same input
};

struct WorkflowReplayInput {
  std::vector<WorkflowInstance> instances;
  std::size_t examples_max = 10;
};

struct WorkflowReplayResult {
  Verdict verdict = Verdict::kOk;
  std::size_t instances = 0;
  std::size_t runs = 0;
  std::size_t steps_reexecuted = 0;   // starts (or second successes) after a persisted result
  std::size_t cache_mismatches = 0;   // cached returns without or unlike the persisted result
  std::size_t divergent_runs = 0;     // runs whose sequence is not a prefix of the longest
  std::size_t output_mismatches = 0;  // final output differs from the reference
  std::size_t unfinished = 0;         // instances without a final output
  std::size_t unreferenced = 0;       // finished instances without a reference output
  std::vector<std::string> findings;  // plain language, violations first

  std::string report() const;
};

WorkflowReplayResult check_workflow_replay(const WorkflowReplayInput& input);

// What a run's trace says about each workflow instance (props::HistoryRecorder fills it from the
// workflow.* events): its replay record, and when it was created and reached a final status.
struct WorkflowRecord {
  std::string workflow;
  sim::Time created = 0;
  std::string status;                 // the last one
  std::optional<sim::Time> finished;  // when it reached complete, errored or terminated
  WorkflowInstance replay;
};
struct WorkflowHistory {
  std::map<std::string, WorkflowRecord> instances;  // by instance ("id", "id~1" after a restart)
};

// Liveness: every instance reaches a final status within `within` of max(its creation, `quiet`)
// (when faults stop). Violated when one did not and the run lasted past that deadline (`end`);
// unknown when the run ended before the deadline of an unfinished instance. An instance whose
// last status is paused is not judged (a pause() waits for the user, not the platform).
struct WorkflowLivenessResult {
  Verdict verdict = Verdict::kOk;
  std::size_t instances = 0;
  std::size_t finished = 0;
  std::size_t late = 0;       // not final by their deadline
  std::size_t undecided = 0;  // not final, deadline after the end of the run
  std::size_t paused = 0;     // left paused by a pause() call: not judged
  std::vector<std::string> findings;
  std::string report() const;
};
WorkflowLivenessResult check_workflow_liveness(const WorkflowHistory& history, sim::Time quiet,
                                               sim::Duration within, sim::Time end,
                                               std::size_t examples_max = 10);

}  // namespace props
