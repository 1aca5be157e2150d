#include "sim/world.h"

#include <cstdio>

#include "sim/assert.h"
#include "sim/disk.h"
#include "sim/events.h"
#include "sim/faults.h"
#include "sim/history.h"
#include "sim/network.h"
#include "sim/rpc.h"
#include "sim/stack_pool.h"

namespace sim {

// Sanitizer annotations for fiber switches (no-ops in normal builds); defined in task.cc.
void fiber_switch_begin(void** save, const void* bottom, std::size_t size);
void fiber_switch_end(void* save, const void** bottom, std::size_t* size);

namespace {
class WorldAssertContext : public AssertContext {
 public:
  explicit WorldAssertContext(const World* w) : w_(w) {}
  void describe(char* buf, unsigned long size) const override {
    std::snprintf(buf, size, "%s\n", w_->describe_position().c_str());
  }

 private:
  const World* w_;
};

// Installs the world as the assertion context for the duration of a run.
class AssertScope {
 public:
  explicit AssertScope(const AssertContext* ctx) : prev_(assert_context()) {
    set_assert_context(ctx);
  }
  ~AssertScope() { set_assert_context(prev_); }

 private:
  const AssertContext* prev_;
};
}  // namespace

World::World(WorldOptions options)
    : options_(options),
      root_rng_(options.seed),
      sched_(root_rng_.fork("scheduler")),
      stacks_(std::make_unique<StackPool>()),
      assert_ctx_(std::make_unique<WorldAssertContext>(this)) {
  net_ = std::make_unique<Network>(*this);
  rpc_ = std::make_unique<Rpc>(*this);
  faults_ = std::make_unique<Faults>(*this);
  history_ = std::make_unique<History>(*this);
}

World::~World() {
  AssertScope scope(assert_ctx_.get());
  end_run();
  // Unwind every live task so that its destructors run while the world still exists.
  for (auto& node : nodes_) {
    while (!node->tasks_.empty()) {
      Task* t = node->tasks_.begin()->second;
      SIM_ASSERT(t->state_ != Task::State::kRunning);
      unwind(t);
    }
  }
  tasks_.clear();
}

Rng World::unique_rng(std::string_view name) {
  auto it = unique_streams_.find(name);
  if (it == unique_streams_.end()) it = unique_streams_.emplace(std::string(name), 0).first;
  return root_rng_.fork(std::string(name) + "#" + std::to_string(++it->second));
}

Node& World::add_node(std::string name, Location location) {
  SIM_REQUIRE(find_node(name) == nullptr);
  const auto id = static_cast<NodeId>(nodes_.size());
  nodes_.push_back(std::unique_ptr<Node>(new Node(this, id, std::move(name), std::move(location))));
  net_->on_node_added(*nodes_.back());
  return *nodes_.back();
}

Node& World::add_node(std::string name, std::string_view location_code) {
  auto loc = find_location(location_code);
  SIM_REQUIRE(loc.has_value());
  return add_node(std::move(name), *loc);
}

Node* World::find_node(std::string_view name) {
  for (auto& n : nodes_) {
    if (n->name() == name) return n.get();
  }
  return nullptr;
}

void World::start() {
  for (auto& n : nodes_) {
    if (n->started_) continue;
    n->started_ = true;
    n->state_ = Node::State::kUp;
    n->incarnation_ = 1;
    emit(n->id(), [&](ev::Body& b) {
      b.mutable_node_start()->set_location(n->location().code);
      b.mutable_node_start()->set_name(n->name());
    });
    boot(*n);
  }
}

void World::boot(Node& node) {
  if (node.boot_) node.boot_(node);
  for (const Node::BootFn& hook : node.boot_hooks_) hook(node);
}

void World::crash(Node& node) {
  if (node.state_ == Node::State::kDown || !node.started_) return;
  emit(node.id(), [&](ev::Body& b) { b.mutable_node_crash()->set_incarnation(node.incarnation_); });
  node.state_ = Node::State::kDown;
  // Unwind in spawn order. A task that is running now (it, or a task that it resumed, called us)
  // cannot be switched to: it throws at its next suspension instead (see the end).
  bool self = false;
  for (;;) {
    Task* victim = nullptr;
    for (auto& [serial, t] : node.tasks_) {
      if (t->state_ == Task::State::kRunning) {
        t->cancelled_ = true;
        self = true;
        continue;
      }
      victim = t;
      break;
    }
    if (victim == nullptr) break;
    unwind(victim);
  }
  node.deferred_.clear();
  net_->on_crash(node);
  for (auto& [handle, hook] : node.crash_hooks_) hook(node);
  if (node.disk_) node.disk_->crash(faults_->torn_writes());
  if (self && current_ != nullptr && &current_->node() == &node) throw TaskCancelled{};
}

void World::restart(Node& node) {
  if (node.state_ != Node::State::kDown || !node.started_) return;
  node.state_ = Node::State::kUp;
  ++node.incarnation_;
  emit(node.id(),
       [&](ev::Body& b) { b.mutable_node_restart()->set_incarnation(node.incarnation_); });
  boot(node);
}

void World::pause(Node& node) {
  if (node.state_ != Node::State::kUp) return;
  node.state_ = Node::State::kPaused;
  emit(node.id(), [](ev::Body& b) { b.mutable_node_pause(); });
}

void World::resume(Node& node) {
  if (node.state_ != Node::State::kPaused) return;
  node.state_ = Node::State::kUp;
  emit(node.id(), [&](ev::Body& b) { b.mutable_node_resume()->set_held(node.deferred_.size()); });
  auto held = std::move(node.deferred_);
  node.deferred_.clear();
  for (auto& fn : held) sched_.after(0, std::move(fn));
}

TaskRef World::spawn(Node& node, std::string name, Task::Body body, std::size_t stack_bytes) {
  if (node.state_ == Node::State::kDown) return TaskRef{};  // e.g. spawned while unwinding
  std::uint32_t index;
  if (!free_tasks_.empty()) {
    index = free_tasks_.back();
    free_tasks_.pop_back();
  } else {
    index = static_cast<std::uint32_t>(tasks_.size());
    tasks_.emplace_back();
    task_gens_.push_back(0);
  }
  const TaskRef ref{index, ++task_gens_[index]};
  const std::uint64_t serial = next_serial_++;
  tasks_[index].reset(new Task(this, &node, std::move(name), std::move(body), ref, serial));
  Task* t = tasks_[index].get();
  const std::size_t size = stack_bytes != 0 ? stack_bytes : options_.stack_bytes;
  t->fiber_ =
      boost::context::fiber(std::allocator_arg, PooledStack{stacks_.get(), size, &t->stack_},
                            [t](boost::context::fiber&& caller) {
                              t->caller_ = std::move(caller);
                              t->entry();
                              return std::move(t->caller_);
                            });
  node.tasks_.emplace(serial, t);
  ++live_tasks_;
  schedule_resume(t);
  return ref;
}

Task* World::task(TaskRef ref) {
  if (!ref.valid() || ref.index >= tasks_.size()) return nullptr;
  Task* t = tasks_[ref.index].get();
  if (t == nullptr || t->ref_.gen != ref.gen) return nullptr;
  return t;
}

void World::schedule_resume(Task* t) {
  const TaskRef ref = t->ref_;
  const std::uint64_t gen = t->wait_gen_;
  sched_.after(0, [this, ref, gen] {
    Task* t = task(ref);
    if (t == nullptr || t->wait_gen_ != gen) return;
    if (t->state_ != Task::State::kCreated && t->state_ != Task::State::kParked) return;
    dispatch(t);
  });
}

void World::dispatch(Task* t) {
  if (t->node_->state_ == Node::State::kPaused) {
    const TaskRef ref = t->ref_;
    const std::uint64_t gen = t->wait_gen_;
    t->node_->deferred_.push_back([this, ref, gen] {
      Task* t = task(ref);
      if (t == nullptr || t->wait_gen_ != gen) return;
      if (t->state_ != Task::State::kCreated && t->state_ != Task::State::kParked) return;
      dispatch(t);
    });
    return;
  }
  resume_task(t);
}

void World::resume_task(Task* t) {
  SIM_ASSERT(t->state_ == Task::State::kCreated || t->state_ == Task::State::kParked);
  Task* prev = current_;
  current_ = t;
  t->state_ = Task::State::kRunning;
  void* fake = nullptr;
  fiber_switch_begin(&fake, static_cast<const char*>(t->stack_.sp) - t->stack_.size,
                     t->stack_.size);
  t->fiber_ = std::move(t->fiber_).resume();
  fiber_switch_end(fake, nullptr, nullptr);
  current_ = prev;
  if (t->state_ == Task::State::kDone) finish_task(t);
}

void World::finish_task(Task* t) {
  for (const WakeToken& j : t->joiners_) wake(j);
  t->node_->tasks_.erase(t->serial_);
  --live_tasks_;
  const std::uint32_t index = t->ref_.index;
  tasks_[index].reset();
  free_tasks_.push_back(index);
}

void World::unwind(Task* t) {
  t->cancelled_ = true;
  // A task that never ran starts and ends at once (entry() skips the body of a cancelled task):
  // ending it through its own switch keeps stack bookkeeping in one place.
  SIM_ASSERT(t->state_ == Task::State::kParked || t->state_ == Task::State::kCreated);
  const TaskRef ref = t->ref_;
  resume_task(t);  // may free t
  // park() threw TaskCancelled and, since cancelled_ stays set, every later suspension throws too;
  // the only way the task is still alive is if it swallowed that and is running away.
  SIM_ASSERT(task(ref) == nullptr);
}

bool World::wake(const WakeToken& token) {
  Task* t = task(token.task);
  if (t == nullptr || t->state_ != Task::State::kParked || t->wait_gen_ != token.wait_gen ||
      t->wake_pending_) {
    return false;
  }
  t->wake_pending_ = true;
  t->reason_ = Task::WakeReason::kNotified;
  schedule_resume(t);
  return true;
}

void World::cancel(TaskRef ref) {
  Task* t = task(ref);
  if (t == nullptr || t->cancelled_) return;
  t->cancelled_ = true;
  if (t->state_ == Task::State::kParked && !t->wake_pending_) {
    t->wake_pending_ = true;
    t->reason_ = Task::WakeReason::kCancelled;
    schedule_resume(t);
  }
}

bool World::join(Task& self, TaskRef other, Time deadline) {
  for (;;) {
    Task* t = task(other);
    if (t == nullptr) return true;
    t->joiners_.push_back(self.prepare_wait());
    if (!self.park(deadline)) return task(other) == nullptr;
  }
}

bool World::run_until(Time limit) {
  AssertScope scope(assert_ctx_.get());
  Time instant = -1;
  std::uint64_t same_instant = 0;
  for (;;) {
    if (error_) return false;
    if (sched_.stopped()) {
      sched_.resume_after_stop();
      return false;
    }
    const Time next = sched_.next_time();
    if (next > limit || next == kTimeMax) break;
    sched_.step();
    if (sched_.now() == instant) {
      if (++same_instant > options_.events_per_instant_max) {
        internal_error("livelock: more than " + std::to_string(options_.events_per_instant_max) +
                       " events at virtual time " + format_time(instant));
      }
    } else {
      instant = sched_.now();
      same_instant = 0;
    }
  }
  if (limit != kTimeMax) sched_.advance_to(limit);
  return !error_;
}

bool World::run_until_idle(Time limit) { return run_until(limit); }

void World::internal_error(std::string message) {
  if (!error_) {
    error_ = std::move(message);
    emit(kNoNode, [&](ev::Body& b) { b.mutable_sim_error()->set_message(*error_); });
  }
  sched_.stop();
}

void World::add_sink(EventSink* sink) { sinks_.push_back(sink); }

void World::remove_sink(EventSink* sink) { std::erase(sinks_, sink); }

ev::Body& World::begin_event() {
  // A sink or a fill function that emitted again would clobber the body being built.
  SIM_REQUIRE(!emitting_);
  emitting_ = true;
  if (event_ == nullptr) event_ = std::make_unique<ev::Body>();
  event_->Clear();
  return *event_;
}

void World::end_event(NodeId node, const ev::Body& body) {
  SIM_ASSERT(body.kind_case() != ev::Body::KIND_NOT_SET);
  ++events_emitted_;
  const TraceEvent e{now(), node, &body};
  for (EventSink* s : sinks_) s->on_event(e);
  emitting_ = false;
}

std::string World::describe_position() const {
  std::string s = "seed=" + std::to_string(options_.seed) + " time=" + format_time(now());
  if (current_ != nullptr) {
    s += " node=" + current_->node().name() + " task=" + current_->name();
  }
  return s;
}

}  // namespace sim
