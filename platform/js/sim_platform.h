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
inline constexpr double kEpochUnixMs = static_cast<double>(sim::kUnixSecondsAtTimeZero) * 1000.0;

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

// The v8::PageAllocator of SimPlatform: V8's own (plain mmap) plus a cache of freed regions.
//
// Why: on this machine (a VM with 2 vCPUs) most of an isolate's cold start was page faults on
// fresh heap pages, and most of its disposal was mprotect/munmap TLB shootdowns (inter-processor
// interrupts: the CPU watchdog thread makes the process span both CPUs). So:
//  - freed regions stay mapped (bounded by kCachedBytesMax) and are handed out again for a
//    request of the same length and alignment, already populated. A reused region reads as
//    zeros, as fresh anonymous memory does (wasm memories rely on it): its resident pages are
//    zeroed when it is freed (disposal, off the cold-start path); untouched pages are zero anyway.
//    A tail that V8 releases (ReleasePages) stays part of its region.
//  - "no access" is advisory: SetPermissions(kNoAccess) changes nothing, reservations are mapped
//    read-write. V8 asks for it only to catch its own stray accesses (no wasm trap handler is
//    installed, so no guard region is load-bearing); honouring it cost a TLB shootdown per
//    semi-space uncommit. Every other permission (read-only, executable) is applied as asked.
//    DecommitPages still zeroes (its contract). set_enabled(false) restores V8's behaviour.
//
// Deterministic-safe: which address a region gets never reaches JS or the trace (V8 runs
// without pointer compression; JS cannot observe addresses), and the mmap hint is always null
// instead of V8's randomized one. Single-threaded like the rest of V8 here (--single-threaded).
class CachingPageAllocator final : public v8::PageAllocator {
 public:
  // Regions kept for reuse, in bytes of address space (most of it is unpopulated reservations).
  static constexpr std::size_t kCachedBytesMax = std::size_t{4} << 30;
  static constexpr std::size_t kCachedRegionsMax = 4096;

  CachingPageAllocator();
  ~CachingPageAllocator() override;

  size_t AllocatePageSize() override { return page_bytes_; }
  size_t CommitPageSize() override { return page_bytes_; }
  void SetRandomMmapSeed(int64_t seed) override {}
  void* GetRandomMmapAddr() override { return nullptr; }
  void* AllocatePages(void* address, size_t length, size_t alignment,
                      Permission permissions) override;
  bool FreePages(void* address, size_t length) override;
  bool ReleasePages(void* address, size_t length, size_t new_length) override;
  bool SetPermissions(void* address, size_t length, Permission permissions) override;
  bool DiscardSystemPages(void* address, size_t size) override;
  bool DecommitPages(void* address, size_t size) override;

  struct Stats {
    std::uint64_t allocations = 0;
    std::uint64_t reused = 0;  // allocations served from the cache
    std::uint64_t frees = 0;
    std::uint64_t cached = 0;  // frees kept for reuse
    std::size_t cached_bytes = 0;
    std::size_t zeroed_bytes = 0;  // resident bytes zeroed when regions were cached
  };
  const Stats& stats() const { return stats_; }
  // Unmaps every cached region (tests and benchmarks compare with and without the cache).
  void trim();
  void set_enabled(bool on);
  bool enabled() const { return enabled_; }

 private:
  // Makes a region about to be cached read-write and zeroes its resident pages. Returns false
  // when it could not (the region is unmapped instead).
  bool scrub(char* base, std::size_t length);

  std::size_t page_bytes_;
  bool enabled_ = true;
  // Cached regions by (length, address). Addresses order only which region is reused, never
  // behaviour (see the class comment).
  std::map<std::pair<std::size_t, std::uintptr_t>, bool> cache_;
  // Regions handed out, by address: their mapped length (a released tail stays mapped).
  std::map<std::uintptr_t, std::size_t> live_;
  std::vector<unsigned char> resident_;  // scratch for scrub()
  Stats stats_;
};

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
  v8::PageAllocator* GetPageAllocator() override { return &pages_; }
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

  CachingPageAllocator& page_allocator() { return pages_; }

 private:
  CachingPageAllocator pages_;
  std::unique_ptr<v8::TracingController> tracing_;
  // Looked up by isolate, never iterated: the pointer order cannot leak into behaviour.
  std::map<v8::Isolate*, std::shared_ptr<TaskQueue>> foreground_;
  std::shared_ptr<TaskQueue> worker_;
};

}  // namespace js
