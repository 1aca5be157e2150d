// The World is the seam between simulated code and everything outside it (LevelDB's Env, for a
// whole platform): virtual clock, seeded randomness, nodes and their tasks, the network, faults,
// disks and the history recorder. A run is a pure function of (build, seed, what the caller does).
//
// Single-threaded: one World is driven by one OS thread. Several Worlds may exist in one process
// (tests do that), but never share objects.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/assert.h"
#include "sim/event.h"
#include "sim/location.h"
#include "sim/node.h"
#include "sim/rng.h"
#include "sim/scheduler.h"
#include "sim/task.h"
#include "sim/time.h"

namespace sim {

class Faults;
class History;
class Network;
class Rpc;
class StackPool;

struct WorldOptions {
  std::uint64_t seed = 1;
  // Fiber stack size for tasks that do not ask for one. Stacks are pooled and guard-paged.
  std::size_t stack_bytes = 256 * 1024;
  // A guard against livelock in virtual time: this many events at one instant is an error.
  std::uint64_t events_per_instant_max = 50'000'000;
};

class World {
 public:
  explicit World(WorldOptions options);
  explicit World(std::uint64_t seed) : World(WorldOptions{.seed = seed}) {}
  World(const World&) = delete;
  World& operator=(const World&) = delete;
  ~World();

  std::uint64_t seed() const { return options_.seed; }
  const WorldOptions& options() const { return options_; }
  Time now() const { return sched_.now(); }
  // A new RNG stream, a pure function of (seed, name).
  Rng rng(std::string_view name) const { return root_rng_.fork(name); }
  // A stream no other call of the run gets: `name` with how many streams were asked for under it
  // so far. For what is built anew and must not repeat its predecessor's draws (an isolate per
  // Durable Object activation). Deterministic: calls happen in the run's order.
  Rng unique_rng(std::string_view name);

  Scheduler& scheduler() { return sched_; }
  Network& net() { return *net_; }
  Rpc& rpc() { return *rpc_; }
  Faults& faults() { return *faults_; }
  History& history() { return *history_; }

  // Nodes. Names are unique. REQUIRES: no node with this name exists.
  Node& add_node(std::string name, Location location);
  Node& add_node(std::string name, std::string_view location_code);
  Node& node(NodeId id) { return *nodes_.at(static_cast<std::size_t>(id)); }
  Node* find_node(std::string_view name);
  std::size_t node_count() const { return nodes_.size(); }
  const std::vector<std::unique_ptr<Node>>& nodes() const { return nodes_; }

  // Boots every node that has not started yet (runs its boot function now).
  void start();
  void crash(Node& node);
  void restart(Node& node);
  void pause(Node& node);
  void resume(Node& node);

  // Tasks. The task starts at the current instant, after the caller yields to the scheduler.
  // REQUIRES: node.up() or node paused.
  TaskRef spawn(Node& node, std::string name, Task::Body body, std::size_t stack_bytes = 0);
  Task* task(TaskRef ref);
  // The task running right now, or nullptr on the main context.
  Task* current_task() const { return current_; }
  // Wakes a parked task for the token's wait. Returns false for a stale token.
  bool wake(const WakeToken& token);
  // Cancels a task: its next (or current) suspension throws TaskCancelled.
  void cancel(TaskRef ref);
  // Waits until `other` ends. Returns false on timeout. Throws TaskCancelled.
  bool join(Task& self, TaskRef other, Time deadline = kTimeMax);
  std::size_t live_tasks() const { return live_tasks_; }

  // Running. run_until() returns false when the run stopped early (stop() or an internal error).
  bool run_until(Time limit);
  bool run_for(Duration d) { return run_until(now() + d); }
  // Runs until no event is pending or `limit` passes.
  bool run_until_idle(Time limit = kTimeMax);
  void stop() { sched_.stop(); }

  // A bug in simulated service code (an exception escaping a task, a livelock). The run stops;
  // the CLI reports it as an internal error (exit 3).
  void internal_error(std::string message);
  const std::optional<std::string>& error() const { return error_; }

  // Trace events (sim/events.h). `fill(ev::Body&)` sets the body's one field; it runs only while
  // some sink listens, so building an event costs nothing in a run without sinks.
  void add_sink(EventSink* sink);
  void remove_sink(EventSink* sink);
  // The run is over: every sink is detached, so nothing the teardown of nodes, tasks and isolates
  // emits reaches a trace, a hash or a history. Owners call it before they finish their sinks;
  // the destructor calls it too, so no order of destruction lets the world reach a dead sink.
  void end_run() { sinks_.clear(); }
  bool tracing() const { return !sinks_.empty(); }
  template <typename Fill>
  void emit(NodeId node, Fill&& fill) {
    if (sinks_.empty()) return;
    ev::Body& body = begin_event();
    std::forward<Fill>(fill)(body);
    end_event(node, body);
  }
  std::uint64_t events_emitted() const { return events_emitted_; }

  // Where a failed assertion says it happened.
  std::string describe_position() const;

 private:
  friend class Task;
  friend class Node;
  void resume_task(Task* t);
  // Resumes now, or holds the wake until the node is resumed when it is paused.
  void dispatch(Task* t);
  void schedule_resume(Task* t);
  void finish_task(Task* t);
  void unwind(Task* t);
  void boot(Node& node);
  ev::Body& begin_event();
  void end_event(NodeId node, const ev::Body& body);

  WorldOptions options_;
  Rng root_rng_;
  std::map<std::string, std::uint64_t, std::less<>> unique_streams_;  // unique_rng() counts
  Scheduler sched_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<std::unique_ptr<Task>> tasks_;
  std::vector<std::uint32_t> free_tasks_;
  std::vector<std::uint32_t> task_gens_;
  std::uint64_t next_serial_ = 1;
  std::size_t live_tasks_ = 0;
  Task* current_ = nullptr;
  std::unique_ptr<StackPool> stacks_;
  std::vector<EventSink*> sinks_;
  std::uint64_t events_emitted_ = 0;
  std::unique_ptr<ev::Body> event_;  // the body being built (reused)
  bool emitting_ = false;
  std::optional<std::string> error_;
  std::unique_ptr<Network> net_;
  std::unique_ptr<Rpc> rpc_;
  std::unique_ptr<Faults> faults_;
  std::unique_ptr<History> history_;
  std::unique_ptr<AssertContext> assert_ctx_;
};

}  // namespace sim
