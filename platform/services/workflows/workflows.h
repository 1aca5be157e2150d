// services::WorkflowService: Cloudflare Workflows on simulated nodes (no JS, no V8).
//
// What it is for. A Worker's `env.MY_WORKFLOW.create(...)` and an instance's `run(event, step)`
// end up here. The engine ("workflow-1", ...) owns every instance of the workflows dealt to it:
// their status, parameters, step results, sleeps, event waits and inbox live in SQLite on its
// simulated disk. To make progress on an instance the engine dispatches a *run* to a PoP that has
// the workflow's Worker (a WorkflowRunExecutor the deployment registers per PoP): the PoP calls
// `run(event, step)` from the top, and every step call goes back to the engine over the network
// (WorkflowService::call). README.md explains the model; docs/semantics.md ("Workflows") the
// behaviour and its numbers; every number is a WorkflowConfig knob ("workflow.*").
//
// A run, as the engine drives it:
//   - dispatch: the instance is runnable (queued, woken, retried, resumed); the engine counts the
//     run durably (runs are numbered from 0 per instance), marks the instance running and sends
//     the run to a PoP drawn from the seed. At most concurrent_instances_max instances run at
//     once; waiting (asleep) instances do not count.
//   - step.do: "begin" returns the persisted result (the run does not execute fn) or grants an
//     attempt with its timeout; "commit" persists the result (synced) before it answers, so a
//     step whose answer was lost, or whose run crashed after fn returned but before the commit,
//     runs again (at-least-once execution; the history shows it). A failed attempt is retried
//     after its backoff (constant: delay; linear: delay * n; exponential: delay * 2^(n-1)) by
//     suspending the run and replaying it when the delay is over; NonRetryableError or an
//     exhausted limit persists the failure, and step.do throws it.
//   - step.sleep / sleepUntil: the wake-up time is persisted on first reach; the run suspends
//     (the instance is "waiting" and uses no compute) and is replayed at the wake-up time.
//   - step.waitForEvent: an event of the type already in the inbox is consumed and persisted as
//     the step's result; else the run suspends until one arrives (sendEvent) or the timeout.
//   - finish: run() returned (complete, with its output) or threw (errored).
//   - lease: a run that says nothing for longer than the step it was granted (timeout + grace),
//     or for idle_max between steps, or whose invocation ended without finishing (a crashed PoP,
//     an exceeded limit), is lost: the engine fences it (its later calls are refused) and
//     dispatches a new run after redispatch_delay. runs_lost_max lost runs in a row error the
//     instance.
//
// Faults. Engine crash/restart (volatile state rebuilt from SQLite; running instances are
// dispatched again), PoP crashes, partitions, and code sites "workflow.lost_result" (the answer
// to a commit is dropped after the result is durable: the run is lost and the replay gets the
// persisted result) and "workflow.step_timeout_spike" (an attempt is granted a timeout of 1 ms:
// it times out and is retried, while its fn may still run: a second execution). Mutants (off by
// default): cache_steps = off (persisted results are ignored, steps run again on every replay),
// persist_after_ack = on (a step's result is acknowledged before it is durable; a writer flushes
// every unsynced_flush_every, so an engine crash loses acknowledged results), durable_sleep = off
// (a sleep's wake-up is a timer in memory: an engine crash loses it and the instance never
// wakes).
//
// Trace events (sim/events.proto, docs/events.md): workflow.status, workflow.run,
// workflow.run_lost, workflow.step (start, success, failure, retry, cached, sleep, wake, wait,
// deliver, timeout), workflow.event (sendEvent stored). props::HistoryRecorder rebuilds the
// workflow_replay and workflow_liveness checkers' input from them.
//
// Fiber rules. call() suspends the calling task (which must run on an up node). Between
// suspensions nothing else runs.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/knobs.h"
#include "sim/node.h"
#include "sim/result.h"
#include "sim/task.h"
#include "sim/time.h"
#include "sim/world.h"

namespace services {

namespace workflow_internal {
class Engine;
}

struct WorkflowConfig {
  // Limits (docs/semantics.md, "Workflows").
  std::int64_t concurrent_instances_max = 4500;
  std::int64_t steps_max = 10000;
  std::int64_t result_bytes_max = 1 << 20;   // a step's result, structured-cloned
  std::int64_t payload_bytes_max = 1 << 20;  // create() params, sendEvent() payload
  sim::Duration sleep_max = 365 * 24 * sim::kHour;
  // step.do defaults: retries {limit: 5, delay: 10 s, backoff: exponential}, timeout 10 min.
  std::int64_t retry_limit = 5;
  sim::Duration retry_delay = 10 * sim::kSecond;
  sim::Duration step_timeout = 10 * sim::kMinute;
  // step.waitForEvent's default timeout.
  sim::Duration event_timeout = 24 * sim::kHour;

  // The engine's protocol.
  sim::Duration call_timeout = 10 * sim::kSecond;  // a step or API call waits this long
  sim::Duration idle_max = sim::kMinute;           // a run silent this long between steps is lost
  sim::Duration lease_grace = 10 * sim::kSecond;   // past a step's timeout before its run is lost
  sim::Duration redispatch_delay = sim::kSecond;   // pause before a lost run is dispatched again
  std::int64_t runs_lost_max = 10;                 // lost runs in a row before the instance errors

  // Code sites (fire only when the fault plan turns sites on).
  double lost_result_p = 0.02;
  double step_timeout_spike_p = 0.02;

  // Mutants.
  bool cache_steps = true;
  bool persist_after_ack = false;
  sim::Duration unsynced_flush_every = sim::kSecond;
  bool durable_sleep = true;

  // The fields above as knobs, listed by the platform as "workflow.<name>".
  static const sim::Knobs<WorkflowConfig>& knobs();
};

// A message between a Worker (binding or step) and an engine: an operation and its fields. The
// same shape carries the answer (op "ok" or "error"). Encoded with sim/wire.h.
struct WorkflowMessage {
  std::string op;
  std::map<std::string, std::string> fields;
  std::string bytes;  // a structured clone: params, a result, an output, an event payload

  const std::string& get(const std::string& key) const;
  std::int64_t num(const std::string& key, std::int64_t otherwise = 0) const;
  WorkflowMessage& set(const std::string& key, std::string value) {
    fields[key] = std::move(value);
    return *this;
  }
  WorkflowMessage& set(const std::string& key, std::int64_t value) {
    fields[key] = std::to_string(value);
    return *this;
  }
  std::string encode() const;
  static sim::Result<WorkflowMessage> decode(std::string_view bytes);
  static WorkflowMessage error(std::string name, std::string message);
};

// A run of an instance, as a PoP receives it.
struct WorkflowRun {
  std::string workflow;
  std::string class_name;
  std::string instance_id;
  std::uint32_t generation = 0;  // restarts of the instance so far
  std::uint32_t run = 0;
  sim::Time created = 0;  // event.timestamp
  std::string params;     // event.payload, structured-cloned
};

// Runs `run(event, step)` of a workflow's class on a node (the deployment implements it with the
// workflow's Worker). Returns when the invocation ends (the steps and the finish went to the
// engine through WorkflowService::call on the way). Errors: the invocation could not run.
class WorkflowRunExecutor {
 public:
  virtual ~WorkflowRunExecutor() = default;
  // Suspends. Throws TaskCancelled.
  virtual sim::Status run(sim::Task& task, const WorkflowRun& run) = 0;
};

class WorkflowService {
 public:
  struct Stats {
    std::uint64_t instances = 0;  // created
    std::uint64_t runs = 0;       // dispatched
    std::uint64_t runs_lost = 0;
    std::uint64_t steps_run = 0;     // attempts granted
    std::uint64_t steps_cached = 0;  // results returned without running
    std::uint64_t completed = 0;
    std::uint64_t errored = 0;
  };

  // REQUIRES: the World outlives the service and is not run after it is destroyed.
  WorkflowService(sim::World& world, WorkflowConfig config);
  WorkflowService(const WorkflowService&) = delete;
  WorkflowService& operator=(const WorkflowService&) = delete;
  ~WorkflowService();

  // Declares a workflow (its name, and the class and Worker that run it). REQUIRES: before
  // World::start(); not declared yet.
  void add_workflow(const std::string& name, const std::string& class_name,
                    const std::string& worker);
  // Makes `node` an engine. REQUIRES: before World::start(); at least one.
  void add_engine(sim::Node& node);
  // `node` can run the instances of `worker`'s workflows through `executor` (which outlives the
  // service). REQUIRES: before World::start().
  void add_runner(const std::string& worker, sim::Node& node, WorkflowRunExecutor& executor);

  // Sends `message` about workflow `workflow` to its engine and returns the answer (op "ok" or
  // "error" with fields name and message). Transport errors: kUnreachable (the engine is down:
  // surely not done), kTimeout (maybe done). REQUIRES: `task` runs on an up node. Suspends.
  sim::Result<WorkflowMessage> call(sim::Task& task, const std::string& workflow,
                                    const WorkflowMessage& message);

  const WorkflowConfig& config() const { return config_; }
  sim::World& world() const { return world_; }
  const Stats& stats() const { return stats_; }
  bool has_workflow(std::string_view name) const { return workflows_.count(name) > 0; }

 private:
  friend class workflow_internal::Engine;
  struct Workflow {
    std::string name, class_name, worker;
    std::size_t engine = 0;
  };
  struct Runner {
    sim::Node* node;
    WorkflowRunExecutor* executor;
  };
  void assign_engines();

  sim::World& world_;
  WorkflowConfig config_;
  std::map<std::string, Workflow, std::less<>> workflows_;
  std::vector<std::unique_ptr<workflow_internal::Engine>> engines_;
  std::map<std::string, std::vector<Runner>> runners_;  // by Worker
  bool assigned_ = false;
  Stats stats_;
};

}  // namespace services
