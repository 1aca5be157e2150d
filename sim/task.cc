#include "sim/task.h"

#include <exception>

#include "sim/assert.h"
#include "sim/node.h"
#include "sim/world.h"

namespace sim {

#if defined(__SANITIZE_ADDRESS__)
extern "C" {
void __sanitizer_start_switch_fiber(void** fake_stack_save, const void* bottom, std::size_t size);
void __sanitizer_finish_switch_fiber(void* fake_stack_save, const void** bottom_old,
                                     std::size_t* size_old);
}
void fiber_switch_begin(void** save, const void* bottom, std::size_t size) {
  __sanitizer_start_switch_fiber(save, bottom, size);
}
void fiber_switch_end(void* save, const void** bottom, std::size_t* size) {
  __sanitizer_finish_switch_fiber(save, bottom, size);
}
#else
void fiber_switch_begin(void**, const void*, std::size_t) {}
void fiber_switch_end(void*, const void**, std::size_t*) {}
#endif

Task::Task(World* world, Node* node, std::string name, Body body, TaskRef ref, std::uint64_t serial)
    : world_(world),
      node_(node),
      name_(std::move(name)),
      body_(std::move(body)),
      ref_(ref),
      serial_(serial) {}

Task::~Task() = default;

Time Task::now() const { return world_->now(); }

void Task::entry() {
  fiber_switch_end(nullptr, &caller_stack_bottom_, &caller_stack_size_);
  try {
    if (!cancelled_) body_(*this);
  } catch (const TaskCancelled&) {
    // Unwound by a crash or cancel: the normal way out.
  } catch (const std::exception& e) {
    world_->internal_error("task '" + name_ + "' on node '" + node_->name() +
                           "' threw: " + e.what());
  } catch (...) {
    world_->internal_error("task '" + name_ + "' on node '" + node_->name() +
                           "' threw a non-standard exception");
  }
  body_ = nullptr;
  state_ = State::kDone;
  // The fiber ends with the switch back to its caller (nullptr: this stack is going away).
  fiber_switch_begin(nullptr, caller_stack_bottom_, caller_stack_size_);
}

void Task::switch_out() {
  void* fake = nullptr;
  fiber_switch_begin(&fake, caller_stack_bottom_, caller_stack_size_);
  caller_ = std::move(caller_).resume();
  fiber_switch_end(fake, &caller_stack_bottom_, &caller_stack_size_);
}

WakeToken Task::prepare_wait() { return WakeToken{ref_, wait_gen_}; }

bool Task::park(Time deadline) {
  SIM_REQUIRE(world_->current_task() == this);
  if (cancelled_) throw TaskCancelled{};
  state_ = State::kParked;
  reason_ = WakeReason::kNone;
  wake_pending_ = false;
  if (deadline != kTimeMax) {
    World* w = world_;
    const TaskRef ref = ref_;
    const std::uint64_t gen = wait_gen_;
    timer_ = w->scheduler().at(deadline < w->now() ? w->now() : deadline, [w, ref, gen] {
      Task* t = w->task(ref);
      if (t == nullptr || t->state_ != State::kParked || t->wait_gen_ != gen || t->wake_pending_) {
        return;
      }
      t->timer_ = 0;
      t->wake_pending_ = true;
      t->reason_ = WakeReason::kTimeout;
      w->dispatch(t);
    });
  }
  switch_out();
  state_ = State::kRunning;
  if (timer_ != 0) {
    world_->scheduler().cancel(timer_);
    timer_ = 0;
  }
  ++wait_gen_;
  wake_pending_ = false;
  if (cancelled_) throw TaskCancelled{};
  return reason_ == WakeReason::kNotified;
}

void Task::sleep(Duration d) { sleep_until(world_->now() + (d < 0 ? 0 : d)); }

void Task::sleep_until(Time t) {
  // Nobody holds the token, so only the deadline (or a cancel) ends the wait.
  (void)prepare_wait();
  park(t);
}

void Task::yield() { sleep_until(world_->now()); }

}  // namespace sim
