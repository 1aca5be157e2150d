// SimPlatform: the v8::Platform that makes V8 a deterministic guest of the simulation.
//
// - Time: CurrentClockTimeMillis (Date.now) and MonotonicallyIncreasingTime (performance.now,
//   GC heuristics) read the virtual clock of the World whose JS is running on this thread (a
//   ClockScope installs it). Virtual time 0 is kEpochUnixMs. Time does not move while JS runs.
// - Tasks: nothing runs on a background thread. Foreground, worker and delayed tasks, and jobs,
//   are queued and run by pump() at points the caller chooses (after each JS run), on the
//   simulation thread; delayed tasks run once their virtual due time has passed.
//
// Internal to platform/js (includes <v8.h>). Thread rules: V8 runs with --single-threaded, so
// every method is called on the simulation thread; the queues are not locked.
#pragma once

#include <v8-platform.h>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <vector>

#include "sim/time.h"

namespace sim {
class World;
}

namespace js {

// Unix time in milliseconds of virtual time 0: 2026-01-01T00:00:00Z.
inline constexpr double kEpochUnixMs = 1767225600000.0;

// Installs the World whose clock JS sees on this thread, for the scope's lifetime. Nests.
class ClockScope {
 public:
  explicit ClockScope(const sim::World* world);
  ~ClockScope();
  ClockScope(const ClockScope&) = delete;
  ClockScope& operator=(const ClockScope&) = delete;

 private:
  const sim::World* prev_;
};

// Virtual now in ns for the current ClockScope (0 outside any scope).
sim::Time current_virtual_time();

class SimPlatform final : public v8::Platform {
 public:
  SimPlatform();
  ~SimPlatform() override;

  // Runs queued tasks that are due: first the isolate's foreground tasks, then worker tasks and
  // jobs. Tasks posted while pumping wait for the next pump, so a task that reposts itself cannot
  // spin. REQUIRES: the isolate is entered.
  void pump(v8::Isolate* isolate);
  // Forgets an isolate's queued tasks. Call before disposing it.
  void forget(v8::Isolate* isolate);
  std::size_t queued_tasks(v8::Isolate* isolate) const;

  // v8::Platform
  v8::PageAllocator* GetPageAllocator() override { return nullptr; }  // V8's default
  int NumberOfWorkerThreads() override { return 0; }
  std::shared_ptr<v8::TaskRunner> GetForegroundTaskRunner(v8::Isolate* isolate) override;
  void CallOnWorkerThread(std::unique_ptr<v8::Task> task) override;
  void CallDelayedOnWorkerThread(std::unique_ptr<v8::Task> task, double delay_in_seconds) override;
  bool IdleTasksEnabled(v8::Isolate* isolate) override { return false; }
  std::unique_ptr<v8::JobHandle> PostJob(v8::TaskPriority priority,
                                         std::unique_ptr<v8::JobTask> job_task) override;
  double MonotonicallyIncreasingTime() override;
  double CurrentClockTimeMillis() override;
  v8::TracingController* GetTracingController() override { return tracing_.get(); }

  class TaskQueue;

 private:
  std::unique_ptr<v8::TracingController> tracing_;
  // Looked up by isolate, never iterated: the pointer order cannot leak into behaviour.
  std::map<v8::Isolate*, std::shared_ptr<TaskQueue>> foreground_;
  std::shared_ptr<TaskQueue> worker_;
};

}  // namespace js
