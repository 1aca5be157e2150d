#include "platform/runtime/pop.h"

#include <utility>

#include "sim/assert.h"
#include "sim/events.h"
#include "sim/faults.h"
#include "sim/node.h"
#include "sim/task.h"

namespace runtime {

const sim::Knobs<PopConfig>& PopConfig::knobs() {
  using C = PopConfig;
  static const auto* table =
      &(*new sim::Knobs<C>())
           .duration("idle_timeout", &C::idle_timeout,
                     "an isolate that served no request for this long is evicted (0: never)")
           .integer("isolate_memory_bytes_max", &C::isolate_memory_bytes_max, 1 << 20,
                    std::int64_t{1} << 40,
                    "V8 heaps of all isolates of a PoP; beyond: LRU eviction")
           .decimal("evict_fault_p", &C::evict_fault_p, 0, 1,
                    "chance per request that the pop.evict_isolate code site evicts (sites on)")
           .integer("cores", &C::cores, 1, 4096, "virtual CPU cores of a PoP")
           .duration("cpu_per_request", &C::cpu_per_request, "virtual CPU time of a request")
           .duration("cpu_per_run", &C::cpu_per_run,
                     "virtual CPU time of any other JS run (timers)")
           .duration("cold_start_cpu", &C::cold_start_cpu,
                     "virtual CPU time of starting an isolate and loading the Worker");
  return *table;
}

Pop::Pop(sim::World& world, sim::Node& node, PopConfig config)
    : world_(world), node_(node), config_(std::move(config)) {
  SIM_REQUIRE(config_.cores >= 1);
  crash_hook_ = node_.add_crash_hook([this](sim::Node&) {
    // The Workers drop their isolates in their own hooks; what ran on the cores is gone too.
    busy_until_ = {};
    memory_bytes_ = 0;
    for (auto& [name, e] : workers_) e.heap_bytes = 0;
  });
}

Pop::~Pop() {
  node_.remove_crash_hook(crash_hook_);
  for (auto& [name, e] : workers_) {
    if (e.idle_check_armed) world_.scheduler().cancel(e.idle_check);
  }
}

void Pop::deploy(WorkerConfig config) {
  SIM_REQUIRE(find(config.name) == nullptr);
  std::string name = config.name;
  Entry& e = workers_[name];
  e.order = next_order_++;
  e.worker = std::make_unique<Worker>(world_, node_, std::move(config));
  // JS runs that are not a request's own (timers) take CPU in the background.
  e.worker->set_run_hook([this](std::string_view task_name) {
    if (config_.cpu_per_run > 0 && task_name != "js.fetch") reserve_core(config_.cpu_per_run);
  });
}

bool Pop::has(std::string_view worker) const { return find(worker) != nullptr; }

Pop::Entry* Pop::find(std::string_view worker) {
  auto it = workers_.find(worker);
  return it == workers_.end() ? nullptr : &it->second;
}

const Pop::Entry* Pop::find(std::string_view worker) const {
  auto it = workers_.find(worker);
  return it == workers_.end() ? nullptr : &it->second;
}

Worker& Pop::worker(std::string_view worker) {
  Entry* e = find(worker);
  SIM_REQUIRE(e != nullptr);
  return *e->worker;
}

bool Pop::warm(std::string_view worker) const {
  const Entry* e = find(worker);
  return e != nullptr && e->worker->warm();
}

std::size_t Pop::warm_isolates() const {
  std::size_t n = 0;
  for (const auto& [name, e] : workers_) n += e.worker->warm() ? 1 : 0;
  return n;
}

std::uint64_t Pop::evictions(std::string_view reason) const {
  auto it = evictions_.find(reason);
  return it == evictions_.end() ? 0 : it->second;
}

sim::Time Pop::reserve_core(sim::Duration cost) {
  const sim::Time now = world_.now();
  while (!busy_until_.empty() && busy_until_.top() <= now) busy_until_.pop();
  sim::Time start = now;
  if (busy_until_.size() >= static_cast<std::size_t>(config_.cores)) {
    start = busy_until_.top();
    busy_until_.pop();
  }
  busy_until_.push(start + cost);
  return start;
}

// Runs one invocation of `worker` (`run(worker)`) with the PoP's accounting: a core for the
// invocation's virtual CPU (a cold start costs more), the LRU clock, memory and idle checks.
template <typename R, typename Run>
sim::Result<R> Pop::serve(sim::Task& task, std::string_view worker, Run run) {
  Entry* e = find(worker);
  if (e == nullptr) {
    return sim::Error{sim::ErrorKind::kInvalid,
                      "no worker \"" + std::string(worker) + "\" on " + node_.name()};
  }
  if (!node_.up()) {
    return sim::Error{sim::ErrorKind::kUnreachable, "node " + node_.name() + " is down"};
  }
  Worker& w = *e->worker;
  if (config_.evict_fault_p > 0 && w.warm() && world_.faults().sites_enabled() &&
      world_.faults().fire("pop.evict_isolate", config_.evict_fault_p)) {
    evict(*e, "fault");
  }
  sim::Duration cost = config_.cpu_per_request + config_.cpu_per_run;
  const std::uint64_t next_generation = w.isolates_created() + 1;
  if (!w.warm() && e->cold_charged != next_generation) {
    // The first request to find the isolate cold pays for starting it.
    cost += config_.cold_start_cpu;
    e->cold_charged = next_generation;
  }

  struct InFlight {  // however the caller leaves (a cancelled task unwinds through here)
    Entry* e;
    std::weak_ptr<int> alive;
    ~InFlight() {
      if (!alive.expired()) --e->in_flight;
    }
  } in_flight{e, alive_};
  ++e->in_flight;

  sim::Time start = task.now();
  if (cost > 0) {
    start = reserve_core(cost);
    if (start > task.now()) {
      ++queued_;
      task.sleep_until(start);
    }
  }
  e->last_used = start;
  std::weak_ptr<int> alive = alive_;
  sim::Result<R> result = run(w);
  if (alive.expired()) return result;
  if (task.now() < start + cost) task.sleep_until(start + cost);
  if (alive.expired()) return result;
  e->last_used = task.now();
  measure(*e);
  enforce_memory(e);
  if (config_.idle_timeout > 0 && w.warm()) arm_idle_check(*e, e->last_used + config_.idle_timeout);
  return result;
}

sim::Result<HttpResponse> Pop::fetch(sim::Task& task, std::string_view worker,
                                     HttpRequest request) {
  return serve<HttpResponse>(task, worker,
                             [&](Worker& w) { return w.fetch(task, std::move(request)); });
}

sim::Result<ScheduledResult> Pop::scheduled(sim::Task& task, std::string_view worker,
                                            std::string cron, sim::Time time) {
  return serve<ScheduledResult>(
      task, worker, [&](Worker& w) { return w.scheduled(task, std::move(cron), time); });
}

sim::Result<ScheduledResult> Pop::workflow(sim::Task& task, std::string_view worker,
                                           WorkflowRunEvent event) {
  return serve<ScheduledResult>(task, worker,
                                [&](Worker& w) { return w.workflow(task, std::move(event)); });
}

sim::Result<ScheduledResult> Pop::queue(sim::Task& task, std::string_view worker,
                                        QueueBatch batch) {
  return serve<ScheduledResult>(task, worker,
                                [&](Worker& w) { return w.queue(task, std::move(batch)); });
}

bool Pop::evict(std::string_view worker) {
  Entry* e = find(worker);
  if (e == nullptr || !e->worker->warm()) return false;
  evict(*e, "explicit");
  return true;
}

void Pop::evict(Entry& e, std::string_view reason) {
  if (!e.worker->warm()) return;
  auto it = evictions_.find(reason);
  if (it == evictions_.end()) it = evictions_.emplace(std::string(reason), 0).first;
  ++it->second;
  world_.emit(node_.id(), [&](sim::ev::Body& b) {
    auto& ev = *b.mutable_pop_evict();
    ev.set_worker(e.worker->config().name);
    ev.set_reason(std::string(reason));
    ev.set_heap_bytes(e.heap_bytes);
  });
  memory_bytes_ -= e.heap_bytes;
  e.heap_bytes = 0;
  e.worker->evict();
}

void Pop::measure(Entry& e) {
  memory_bytes_ -= e.heap_bytes;
  e.heap_bytes = e.worker->isolate_heap_bytes();
  memory_bytes_ += e.heap_bytes;
}

bool Pop::idle(const Entry& e) const {
  return e.in_flight == 0 && e.worker->pending_invocations() == 0;
}

void Pop::enforce_memory(const Entry* keep) {
  while (memory_bytes_ > config_.isolate_memory_bytes_max) {
    Entry* victim = nullptr;
    for (auto& [name, e] : workers_) {
      if (&e == keep || !e.worker->warm() || !idle(e)) continue;
      if (victim == nullptr || e.last_used < victim->last_used ||
          (e.last_used == victim->last_used && e.order < victim->order)) {
        victim = &e;
      }
    }
    if (victim == nullptr) return;  // everything else is busy: over budget until it is not
    evict(*victim, "memory");
  }
}

void Pop::arm_idle_check(Entry& e, sim::Time at) {
  if (e.idle_check_armed) return;  // an earlier check re-arms itself from last_used
  e.idle_check_armed = true;
  std::weak_ptr<int> alive = alive_;
  Entry* p = &e;
  e.idle_check = world_.scheduler().at(at, [this, alive, p] {
    if (alive.expired()) return;
    p->idle_check_armed = false;
    idle_check(*p);
  });
}

void Pop::idle_check(Entry& e) {
  if (!e.worker->warm() || config_.idle_timeout <= 0) return;
  const sim::Time due = e.last_used + config_.idle_timeout;
  const sim::Time now = world_.now();
  if (due <= now && idle(e)) {
    evict(e, "idle");
    return;
  }
  // Used since, or busy now: look again when it could next be idle for long enough.
  arm_idle_check(e, due > now ? due : now + config_.idle_timeout);
}

}  // namespace runtime
