// The event queue and virtual clock. Events are callbacks due at a virtual time; the run loop
// jumps to the earliest. Events due at the same instant run in an order drawn from the seed (each
// gets a random key when scheduled), so a seed explores one interleaving and repeats it exactly.
//
// Single-threaded. Callbacks run on the main context (not on a fiber) and must not suspend.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "sim/rng.h"
#include "sim/time.h"

namespace sim {

// Identifies a scheduled event so that it can be cancelled. 0 is never a valid id.
using EventId = std::uint64_t;

class Scheduler {
 public:
  using Callback = std::function<void()>;

  explicit Scheduler(Rng rng);
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  Time now() const { return now_; }
  // REQUIRES: t >= now().
  EventId at(Time t, Callback cb);
  EventId after(Duration d, Callback cb) { return at(now_ + (d < 0 ? 0 : d), std::move(cb)); }
  // Cancels a pending event. Returns false if it already ran or was cancelled.
  bool cancel(EventId id);

  // Runs the earliest event. Returns false when none is pending.
  bool step();
  // Runs every event due at or before `limit`, then sets now() to `limit` (if it is later).
  // Stops early, returning false, when stop() was called.
  bool run_until(Time limit);
  void stop() { stop_ = true; }
  bool stopped() const { return stop_; }
  void resume_after_stop() { stop_ = false; }
  // Moves the clock forward with no event. REQUIRES: no live event is due before t.
  void advance_to(Time t) {
    if (t > now_) now_ = t;
  }

  bool empty() const { return live_ == 0; }
  std::size_t pending() const { return live_; }
  // The time of the earliest live event, or kTimeMax.
  Time next_time();
  std::uint64_t events_run() const { return events_run_; }

 private:
  struct Entry {
    Time time;
    std::uint64_t key;
    std::uint32_t slot;
    std::uint32_t gen;
  };
  struct Slot {
    Callback cb;
    std::uint32_t gen = 1;
    bool armed = false;
  };
  static bool later(const Entry& a, const Entry& b) {
    if (a.time != b.time) return a.time > b.time;
    if (a.key != b.key) return a.key > b.key;
    return a.slot > b.slot;
  }
  void pop_dead();

  Rng rng_;
  Time now_ = 0;
  std::vector<Entry> heap_;
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_slots_;
  std::size_t live_ = 0;
  std::uint64_t events_run_ = 0;
  bool stop_ = false;
};

}  // namespace sim
