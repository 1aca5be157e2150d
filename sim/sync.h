// Waiting primitives for tasks. Wakes never resume a task directly: they schedule it at the
// current instant, so the order among everything due now is drawn from the seed.
#pragma once

#include <deque>
#include <optional>
#include <utility>

#include "sim/task.h"
#include "sim/world.h"

namespace sim {

// A set of waiting tasks (a condition variable without the mutex: tasks never run in parallel).
class WaitQueue {
 public:
  // Returns true when notified, false when the deadline passed first. Throws TaskCancelled.
  bool wait(Task& task, Time deadline = kTimeMax) {
    waiters_.push_back(task.prepare_wait());
    return task.park(deadline);
  }
  bool wait_for(Task& task, Duration d) { return wait(task, task.now() + d); }
  // Wakes the longest-waiting live waiter. Returns false when there was none.
  bool notify_one(World& world) {
    while (!waiters_.empty()) {
      WakeToken t = waiters_.front();
      waiters_.pop_front();
      if (world.wake(t)) return true;
    }
    return false;
  }
  void notify_all(World& world) {
    while (notify_one(world)) {
    }
  }
  bool empty() const { return waiters_.empty(); }

 private:
  std::deque<WakeToken> waiters_;
};

// A value that is set once and awaited by tasks.
template <typename T>
class Slot {
 public:
  bool ready() const { return value_.has_value(); }
  void set(World& world, T value) {
    if (value_) return;
    value_ = std::move(value);
    waiters_.notify_all(world);
  }
  // Returns the value, or nullptr when the deadline passed. Throws TaskCancelled.
  T* wait(Task& task, Time deadline = kTimeMax) {
    while (!value_) {
      if (!waiters_.wait(task, deadline)) break;
    }
    return value_ ? &*value_ : nullptr;
  }
  T take() { return std::move(*value_); }

 private:
  std::optional<T> value_;
  WaitQueue waiters_;
};

// An unbounded FIFO between callbacks (producers) and tasks (consumers).
template <typename T>
class Mailbox {
 public:
  void push(World& world, T item) {
    items_.push_back(std::move(item));
    // All, not one: a woken waiter may be cancelled before it runs and must not strand the item.
    waiters_.notify_all(world);
  }
  // Blocks until an item arrives or the deadline passes. Throws TaskCancelled.
  std::optional<T> pop(Task& task, Time deadline = kTimeMax) {
    while (items_.empty()) {
      if (!waiters_.wait(task, deadline)) break;
    }
    if (items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    return item;
  }
  std::size_t size() const { return items_.size(); }

 private:
  std::deque<T> items_;
  WaitQueue waiters_;
};

}  // namespace sim
