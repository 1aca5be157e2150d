// Tasks: straight-line service code on Boost.Context fibers. A function that can suspend takes the
// Task first (`net.call(task, ...)`), so every suspension point is visible at the call site;
// re-check what you rely on after each one.
//
// Rules:
// - Tasks belong to a node. When the node crashes its tasks are unwound at once: each suspended
//   task resumes one last time, its suspension point throws TaskCancelled, destructors run, and the
//   task never runs again. Never swallow TaskCancelled (catch(...) must rethrow).
// - Only the simulation thread runs tasks; one runs at a time.
// - Never suspend with V8 frames on the stack.
#pragma once

#include <boost/context/fiber.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "sim/scheduler.h"
#include "sim/time.h"

namespace sim {

class Node;
class World;
class Task;

// Thrown at a suspension point of a cancelled task. Deliberately not a std::exception.
struct TaskCancelled {};

// A weak reference to a task: stays valid (and compares unequal to any new task) after the task
// ends and its slot is reused.
struct TaskRef {
  std::uint32_t index = UINT32_MAX;
  std::uint32_t gen = 0;
  bool valid() const { return index != UINT32_MAX; }
  bool operator==(const TaskRef&) const = default;
};

// A ticket for waking one particular suspension of a task. Stale tickets do nothing.
struct WakeToken {
  TaskRef task;
  std::uint64_t wait_gen = 0;
};

class Task {
 public:
  using Body = std::function<void(Task&)>;

  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task();

  World& world() const { return *world_; }
  Node& node() const { return *node_; }
  const std::string& name() const { return name_; }
  TaskRef ref() const { return ref_; }
  std::uint64_t serial() const { return serial_; }
  Time now() const;
  bool cancelled() const { return cancelled_; }

  // Suspends for `d` of virtual time. Throws TaskCancelled.
  void sleep(Duration d);
  void sleep_until(Time t);
  // Lets other events due now run first (their order drawn from the seed).
  void yield();

  // Low-level waiting, for building primitives (see sync.h). prepare_wait() issues a token that a
  // waker passes to World::wake(); park() suspends until that wake or the deadline. Returns true
  // when woken, false on timeout. Throws TaskCancelled.
  WakeToken prepare_wait();
  bool park(Time deadline = kTimeMax);

 private:
  friend class World;
  enum class State { kCreated, kRunning, kParked, kDone };
  enum class WakeReason { kNone, kNotified, kTimeout, kCancelled };

  Task(World* world, Node* node, std::string name, Body body, TaskRef ref, std::uint64_t serial);
  void entry();
  void switch_out();

  World* world_;
  Node* node_;
  std::string name_;
  Body body_;
  TaskRef ref_;
  std::uint64_t serial_;
  boost::context::fiber fiber_;   // this task's context while it is not running
  boost::context::fiber caller_;  // who resumed us; switched to on suspension
  State state_ = State::kCreated;
  std::uint64_t wait_gen_ = 0;
  bool wake_pending_ = false;
  WakeReason reason_ = WakeReason::kNone;
  EventId timer_ = 0;
  bool cancelled_ = false;
  std::vector<WakeToken> joiners_;
  // Stack bounds, for telling AddressSanitizer about fiber switches.
  boost::context::stack_context stack_{};
  const void* caller_stack_bottom_ = nullptr;
  std::size_t caller_stack_size_ = 0;
};

}  // namespace sim
