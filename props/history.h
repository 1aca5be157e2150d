// props::History: everything the checkers read, rebuilt from a run's trace events (sim/events.h)
// and only from them. A live run feeds its events to a HistoryRecorder as they happen; `edgesim
// check TRACE` feeds it the events of a trace file. Same events, same History, same verdicts:
// the checkers never look at a World.
//
// What the History holds, and the events it comes from:
//   nodes            node.start (id, name, location)
//   ops              op.invoke, op.complete, op.effect (sim::History's client operations)
//   do_activations   do.activate (a Durable Object instance started; its time is the start)
//   do_commits       do.commit (an acknowledged storage commit; its time is the acknowledgement)
//   load_statuses    load.response (the status of each response a scenario's load received)
//   queues           sends: the ops of objects "queue:<name>" kind "send" (input: the ids);
//                    dispatches: queue.dispatch; deliveries: queue.deliver; acks: queue.ack;
//                    dead letters: queue.store with dead_lettered_from (also a send into the
//                    dead letter queue, resolved ok)
//   faults           fault.* (the plan's actions and code sites that fired; not fault.swarm)
//   cron             runs: cron.run, ended by the cron.done of the same firing on the same
//                    node; give_ups: cron.give_up
//   workflows        per instance: workflow.status (creation, the last status, when it became
//                    final, its output), workflow.step (start, success, failure, cached, and the
//                    steps each run reached: start, cached, sleep, wait; wake and deliver are
//                    successes, timeout a failure), workflow.reference (the output of a
//                    fault-free run, kept for an instance that completed)
// Other events are ignored.
//
// Errors are values (kInvalid) naming the event index and kind: an op completed or given an
// effect that was never invoked, an op invoked, completed or given an effect twice, a completion
// before its invoke, an unknown status.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "props/cron_schedule.h"
#include "props/do_single_instance.h"
#include "props/queue_delivery.h"
#include "props/workflow_replay.h"
#include "sim/event.h"
#include "sim/history.h"
#include "sim/result.h"

namespace props {

struct NodeInfo {
  std::string name;
  std::string location;  // IATA code
};

// A fault that fired (fault.* events but the swarm's draw): what, and when.
struct FaultRecord {
  sim::Time time = 0;
  std::string kind;  // "fault.crash"
  std::string text;  // "crash host-lhr"
};

struct History {
  std::map<sim::NodeId, NodeInfo> nodes;
  // Ordered by id (ids start at 1). Operations never completed stay kPending.
  std::vector<sim::Operation> ops;
  std::vector<DoActivation> do_activations;  // in event order
  std::vector<DoCommit> do_commits;          // in event order
  // load name -> HTTP status (0: no response) -> responses.
  std::map<std::string, std::map<int, std::uint64_t>> load_statuses;
  QueueHistory queues;
  CronHistory cron;
  WorkflowHistory workflows;
  std::vector<FaultRecord> faults;  // in event order

  // The location of a node, "" when unknown.
  std::string location_of(sim::NodeId node) const;
};

// Builds a History from events fed in stream order. As an EventSink it records the first error
// and ignores the events after it (status() tells).
class HistoryRecorder final : public sim::EventSink {
 public:
  // Adds one event. `index` is its 0-based position in the stream (for errors).
  sim::Status add(std::uint64_t index, const sim::TraceEvent& event);
  void on_event(const sim::TraceEvent& event) override;

  const sim::Status& status() const { return status_; }
  // The history so far (ops ordered by id).
  History take();

 private:
  using Bad = std::function<sim::Error(const std::string&)>;
  sim::Status add_op(const sim::TraceEvent& event, const Bad& bad);
  void add_queue_event(const sim::TraceEvent& event);
  void add_cron_event(const sim::TraceEvent& event);
  void add_workflow_event(const sim::TraceEvent& event);

  std::map<sim::OpId, sim::Operation> ops_;
  History history_;
  std::uint64_t next_index_ = 0;
  sim::Status status_;
};

// Streams a trace file (plain or zstd) through traces::TraceReader into a History; reader errors
// pass through, history errors name the file and the event.
sim::Result<History> history_from_trace_file(const std::string& path);

}  // namespace props
