#include "sim/scheduler.h"

#include <algorithm>

#include "sim/assert.h"

namespace sim {

Scheduler::Scheduler(Rng rng) : rng_(rng) {
  heap_.reserve(1024);
  slots_.reserve(1024);
}

EventId Scheduler::at(Time t, Callback cb) {
  SIM_REQUIRE(t >= now_);
  std::uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    SIM_ASSERT(slots_.size() < UINT32_MAX);
    slot = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  Slot& s = slots_[slot];
  s.cb = std::move(cb);
  s.armed = true;
  heap_.push_back(Entry{t, rng_.next_u64(), slot, s.gen});
  std::push_heap(heap_.begin(), heap_.end(), later);
  ++live_;
  return (static_cast<std::uint64_t>(s.gen) << 32) | slot;
}

bool Scheduler::cancel(EventId id) {
  const auto slot = static_cast<std::uint32_t>(id & 0xffffffffu);
  const auto gen = static_cast<std::uint32_t>(id >> 32);
  if (slot >= slots_.size()) return false;
  Slot& s = slots_[slot];
  if (!s.armed || s.gen != gen) return false;
  // The heap entry stays and is skipped when popped (its generation no longer matches).
  s.armed = false;
  s.cb = nullptr;
  ++s.gen;
  free_slots_.push_back(slot);
  --live_;
  return true;
}

void Scheduler::pop_dead() {
  while (!heap_.empty()) {
    const Entry& top = heap_.front();
    const Slot& s = slots_[top.slot];
    if (s.armed && s.gen == top.gen) return;
    std::pop_heap(heap_.begin(), heap_.end(), later);
    heap_.pop_back();
  }
}

Time Scheduler::next_time() {
  pop_dead();
  return heap_.empty() ? kTimeMax : heap_.front().time;
}

bool Scheduler::step() {
  pop_dead();
  if (heap_.empty()) return false;
  Entry top = heap_.front();
  std::pop_heap(heap_.begin(), heap_.end(), later);
  heap_.pop_back();
  Slot& s = slots_[top.slot];
  Callback cb = std::move(s.cb);
  s.cb = nullptr;
  s.armed = false;
  ++s.gen;
  free_slots_.push_back(top.slot);
  --live_;
  now_ = top.time;
  ++events_run_;
  cb();
  return true;
}

bool Scheduler::run_until(Time limit) {
  stop_ = false;
  for (;;) {
    if (stop_) return false;
    pop_dead();
    if (heap_.empty() || heap_.front().time > limit) break;
    step();
  }
  if (limit > now_ && limit != kTimeMax) now_ = limit;
  return !stop_;
}

}  // namespace sim
