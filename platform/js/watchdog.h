// Watchdog: enforces the CPU-time limit of a JS run. The one host thread in platform/ (see
// README.md, "Why one thread"): CPU time is host time, so it is measured and enforced outside
// the simulation. A run that hits the limit fails whatever the exact instant, and the caller
// discards everything it did (console output, timers, responses) and recycles its isolate, so the
// trace stays a function of the seed.
//
// Thread rules: arm()/disarm() are called on the simulation thread around a JS run; the watcher
// thread only reads the armed thread's CPU clock and calls v8::Isolate::TerminateExecution (which
// V8 allows from any thread).
#pragma once

#include <pthread.h>
#include <time.h>

#include <condition_variable>  // lint: allow-thread
#include <cstdint>
#include <mutex>   // lint: allow-thread
#include <thread>  // lint: allow-thread
#include <vector>

namespace v8 {
class Isolate;
}

namespace js {

class Watchdog {
 public:
  Watchdog();
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // Starts measuring the calling thread's CPU time; past `cpu_budget_ns` the isolate is
  // terminated. Returns a token for disarm(). REQUIRES: cpu_budget_ns > 0.
  std::uint64_t arm(v8::Isolate* isolate, std::int64_t cpu_budget_ns);
  // Stops measuring. Returns true when the watchdog terminated the isolate during this arm.
  // After disarm() returns, this arm can no longer terminate anything.
  bool disarm(std::uint64_t token);

  std::uint64_t fired_total() const { return fired_total_; }

 private:
  struct Armed {
    std::uint64_t token;
    v8::Isolate* isolate;
    clockid_t clock;
    std::int64_t budget_ns;
    std::int64_t start_ns = -1;  // read by the watcher when it first sees this arm
    bool fired = false;
  };
  void watch();

  std::mutex mu_;               // lint: allow-thread
  std::condition_variable cv_;  // lint: allow-thread
  std::vector<Armed> armed_;    // few (one per simulation thread); a vector: no allocation per run
  std::uint64_t arms_total_ = 0;
  std::uint64_t next_token_ = 1;
  std::uint64_t fired_total_ = 0;
  bool idle_ = true;
  bool stop_ = false;
  std::thread thread_;  // lint: allow-thread
};

}  // namespace js
