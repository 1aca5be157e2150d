// runtime::Pop: an edge location (a node) hosting Workers. It owns one runtime::Worker per
// deployed script, so there is one isolate per (PoP, worker), created on the first request (a
// cold start) and evicted by a policy; and it models the location's CPU, so that load queues.
//
// Isolate lifetime. An isolate's globals live as long as it does; two PoPs never share one.
// It is evicted (a `pop.evict` trace event with the reason, then the Worker's `js.evict`):
//  - idle: no request for `idle_timeout` of virtual time (and no invocation still open);
//  - memory: after a request, while the V8 heaps of this PoP's isolates add up to more than
//    `isolate_memory_bytes_max`, the least recently used idle isolate goes (ties: the Worker
//    deployed first), never the one that just served;
//  - fault: the code-site fault "pop.evict_isolate" fires on a request with probability
//    `evict_fault_p` (when the run's fault plan enables sites): the isolate is dropped before the
//    request is served, as production may do at any time (its open invocations fail);
//  - evict(name): explicitly (tests).
//
// CPU model. The PoP has `cores` virtual cores. Each request needs one for
// cpu_per_request + cpu_per_run (+ cold_start_cpu when it starts the isolate) of virtual time:
// it waits for the earliest free core (FIFO by arrival; simultaneous arrivals in the order the
// seed drew), its JS runs at the instant it gets the core (JS time stands still while JS runs),
// and its response leaves the PoP when that CPU time has passed (or later, when the handler
// awaited I/O). So at a request rate above cores / cost, latency grows; below it, it stays at the
// cost. JS runs that are not a request's own (timers) take cpu_per_run on a core in the
// background, delaying the requests behind them. All of it is virtual and a function of the seed.
//
// Single-threaded. The World and the node outlive the Pop. A crash of the node drops every
// isolate (the Workers do it) and frees the cores.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <string>
#include <string_view>
#include <vector>

#include "platform/runtime/http.h"
#include "platform/runtime/worker.h"
#include "sim/result.h"
#include "sim/time.h"
#include "sim/world.h"

namespace runtime {

struct PopConfig {
  // Evict an isolate that served no request for this long. 0: never.
  sim::Duration idle_timeout = 30 * sim::kSecond;
  // Budget for the V8 heaps (bytes in use) of all isolates of this PoP.
  std::size_t isolate_memory_bytes_max = std::size_t{1} << 30;
  // Probability per request of the code-site fault "pop.evict_isolate".
  double evict_fault_p = 0.001;
  // Virtual cores, and the virtual CPU time of the work (see the header comment). A cost of 0
  // turns the model off for that part.
  int cores = 4;
  sim::Duration cpu_per_request = 200 * sim::kMicrosecond;
  sim::Duration cpu_per_run = 0;
  sim::Duration cold_start_cpu = 5 * sim::kMillisecond;

  // The fields above as knobs (sim/knobs.h), listed by the platform as "pop.<name>".
  static const sim::Knobs<PopConfig>& knobs();
};

class Pop {
 public:
  // REQUIRES: js::Engine::init() was called; config.cores >= 1.
  Pop(sim::World& world, sim::Node& node, PopConfig config = {});
  ~Pop();
  Pop(const Pop&) = delete;
  Pop& operator=(const Pop&) = delete;

  // Deploys a Worker script under config.name. REQUIRES: no Worker with that name here.
  void deploy(WorkerConfig config);
  bool has(std::string_view worker) const;

  // Serves one request with the named Worker: waits for a core, runs the fetch handler (cold
  // starting the isolate if needed), and returns when the response leaves the PoP. Errors as
  // Worker::fetch, plus kInvalid for an unknown Worker. Throws TaskCancelled.
  sim::Result<HttpResponse> fetch(sim::Task& task, std::string_view worker, HttpRequest request);
  // The same for a cron event (Worker::scheduled) and a queue batch (Worker::queue): a core, a
  // cold start if needed, and the isolate's accounting.
  sim::Result<ScheduledResult> scheduled(sim::Task& task, std::string_view worker, std::string cron,
                                         sim::Time time);
  sim::Result<ScheduledResult> queue(sim::Task& task, std::string_view worker, QueueBatch batch);
  // A run of a workflow instance (Worker::workflow), with the same accounting.
  sim::Result<ScheduledResult> workflow(sim::Task& task, std::string_view worker,
                                        WorkflowRunEvent event);

  // Drops the Worker's isolate now (reason "explicit"). Its open invocations fail. Returns false
  // when it had none.
  bool evict(std::string_view worker);

  sim::Node& node() const { return node_; }
  const PopConfig& config() const { return config_; }
  // REQUIRES: has(worker).
  Worker& worker(std::string_view worker);
  bool warm(std::string_view worker) const;
  std::size_t warm_isolates() const;
  // Sum of the V8 heaps in use of the warm isolates, as last measured (after each request).
  std::size_t isolate_memory_bytes() const { return memory_bytes_; }
  // Evictions so far, by reason ("idle", "memory", "fault", "explicit").
  std::uint64_t evictions(std::string_view reason) const;
  // Requests that had to wait for a core.
  std::uint64_t queued_requests() const { return queued_; }

 private:
  struct Entry {
    std::unique_ptr<Worker> worker;
    std::uint64_t order = 0;         // deployment order: the LRU tie-break
    sim::Time last_used = 0;         // virtual time of the last request's start and end
    int in_flight = 0;               // requests inside fetch()
    std::size_t heap_bytes = 0;      // as last measured; 0 when cold
    std::uint64_t cold_charged = 0;  // the isolate generation whose cold start was charged
    bool idle_check_armed = false;
    sim::EventId idle_check{};
  };

  template <typename R, typename Run>
  sim::Result<R> serve(sim::Task& task, std::string_view worker, Run run);
  Entry* find(std::string_view worker);
  const Entry* find(std::string_view worker) const;
  // Takes the earliest free core for `cost` from now; returns when the work starts.
  sim::Time reserve_core(sim::Duration cost);
  void evict(Entry& e, std::string_view reason);
  void measure(Entry& e);
  void enforce_memory(const Entry* keep);
  void arm_idle_check(Entry& e, sim::Time at);
  void idle_check(Entry& e);
  bool idle(const Entry& e) const;

  sim::World& world_;
  sim::Node& node_;
  PopConfig config_;
  std::map<std::string, Entry, std::less<>> workers_;
  std::uint64_t next_order_ = 0;
  // End times of the cores' current work (a min-heap). Fewer than `cores` entries: a core is free.
  std::priority_queue<sim::Time, std::vector<sim::Time>, std::greater<>> busy_until_;
  std::size_t memory_bytes_ = 0;
  std::map<std::string, std::uint64_t, std::less<>> evictions_;
  std::uint64_t queued_ = 0;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // scheduler callbacks check it
  int crash_hook_ = 0;
};

}  // namespace runtime
