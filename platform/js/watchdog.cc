#include "platform/js/watchdog.h"

#include <v8-isolate.h>

#include <algorithm>
#include <chrono>  // lint: allow-thread (the watcher waits in host time)

#include "sim/assert.h"

namespace js {

namespace {
std::int64_t cpu_ns(clockid_t clock) {
  timespec ts{};
  if (::clock_gettime(clock, &ts) != 0) return 0;  // lint: allow-wall-clock (CPU limit)
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}
}  // namespace

Watchdog::Watchdog() : thread_([this] { watch(); }) {}  // lint: allow-thread

Watchdog::~Watchdog() {
  {
    std::lock_guard lock(mu_);  // lint: allow-thread
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

std::uint64_t Watchdog::arm(v8::Isolate* isolate, std::int64_t cpu_budget_ns) {
  SIM_REQUIRE(cpu_budget_ns > 0);
  // Cached per thread: pthread_getcpuclockid is cheap but not free.
  thread_local clockid_t clock = [] {  // lint: allow-thread
    clockid_t c{};
    SIM_ASSERT(::pthread_getcpuclockid(::pthread_self(), &c) == 0);
    return c;
  }();
  bool wake = false;
  std::uint64_t token;
  {
    std::lock_guard lock(mu_);  // lint: allow-thread
    token = next_token_++;
    armed_.push_back(Armed{token, isolate, clock, cpu_budget_ns});
    ++arms_total_;
    wake = idle_;
  }
  // perf: only an idle watcher needs a wake-up (a futex call); a busy one polls (see watch()).
  if (wake) cv_.notify_one();
  return token;
}

bool Watchdog::disarm(std::uint64_t token) {
  std::lock_guard lock(mu_);  // lint: allow-thread
  auto it = std::find_if(armed_.begin(), armed_.end(),
                         [token](const Armed& a) { return a.token == token; });
  if (it == armed_.end()) return false;
  const bool fired = it->fired;
  armed_.erase(it);
  return fired;
}

// The watcher polls every millisecond (or a tenth of the shortest budget) while runs keep coming,
// and sleeps until the next arm() only after 20 polls without any: at a hundred thousand short
// runs a second, waking it per run (a futex call each) cost more than the runs' own C++.
void Watchdog::watch() {
  std::unique_lock lock(mu_);  // lint: allow-thread
  std::uint64_t arms_seen = arms_total_;
  int quiet_polls = 0;
  while (!stop_) {
    if (armed_.empty()) {
      if (arms_total_ != arms_seen) {
        arms_seen = arms_total_;
        quiet_polls = 0;
      }
      if (++quiet_polls > 20) {
        idle_ = true;
        cv_.wait(lock);
        idle_ = false;
        quiet_polls = 0;
        arms_seen = arms_total_;
        continue;
      }
      cv_.wait_for(lock, std::chrono::milliseconds(1));  // lint: allow-thread
      continue;
    }
    quiet_polls = 0;
    arms_seen = arms_total_;
    std::int64_t poll_ns = 1'000'000;
    for (Armed& a : armed_) {
      const std::int64_t now = cpu_ns(a.clock);
      if (a.start_ns < 0) a.start_ns = now;
      if (!a.fired && now - a.start_ns > a.budget_ns) {
        a.isolate->TerminateExecution();
        a.fired = true;
        ++fired_total_;
      }
      poll_ns = std::min(poll_ns, std::max<std::int64_t>(a.budget_ns / 10, 100'000));
    }
    cv_.wait_for(lock, std::chrono::nanoseconds(poll_ns));  // lint: allow-thread
  }
}

}  // namespace js
