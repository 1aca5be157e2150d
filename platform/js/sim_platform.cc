#include "platform/js/sim_platform.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

#include "platform/js/isolate.h"
#include "sim/world.h"

namespace js {

namespace {
// The World whose JS runs on this thread now (storage per thread, not a thread).
thread_local const sim::World* t_world = nullptr;

sim::Time due_after(double delay_in_seconds) {
  if (!(delay_in_seconds > 0)) return current_virtual_time();
  return current_virtual_time() + static_cast<sim::Duration>(std::ceil(delay_in_seconds * 1e9));
}

// A job run on the simulation thread: by pump(), or by Join() when V8 waits for it. Never runs
// concurrently with anything, so the delegate never asks it to yield.
class InlineJob {
 public:
  explicit InlineJob(std::unique_ptr<v8::JobTask> task) : task_(std::move(task)) {}
  void run() {
    if (task_ == nullptr || running_) return;
    running_ = true;
    Delegate delegate;
    // Bounded: a job whose concurrency never drops would otherwise spin forever.
    for (int i = 0; i < 100000 && !cancelled_ && task_->GetMaxConcurrency(0) > 0; ++i) {
      task_->Run(&delegate);
    }
    running_ = false;
    task_.reset();
  }
  void cancel() {
    cancelled_ = true;
    if (!running_) task_.reset();
  }
  bool active() const { return task_ != nullptr && !cancelled_; }

 private:
  class Delegate final : public v8::JobDelegate {
   public:
    bool ShouldYield() override { return false; }
    void NotifyConcurrencyIncrease() override {}
    uint8_t GetTaskId() override { return 0; }
    bool IsJoiningThread() const override { return true; }
  };
  std::unique_ptr<v8::JobTask> task_;
  bool cancelled_ = false;
  bool running_ = false;
};

class InlineJobHandle final : public v8::JobHandle {
 public:
  explicit InlineJobHandle(std::shared_ptr<InlineJob> job) : job_(std::move(job)) {}
  void NotifyConcurrencyIncrease() override {}
  void Join() override {
    if (job_) job_->run();
    job_.reset();
  }
  void Cancel() override {
    if (job_) job_->cancel();
    job_.reset();
  }
  void CancelAndDetach() override { Cancel(); }
  bool IsActive() override { return job_ != nullptr && job_->active(); }
  bool IsValid() override { return job_ != nullptr; }

 private:
  std::shared_ptr<InlineJob> job_;
};

class JobTaskAdapter final : public v8::Task {
 public:
  explicit JobTaskAdapter(std::shared_ptr<InlineJob> job) : job_(std::move(job)) {}
  void Run() override { job_->run(); }

 private:
  std::shared_ptr<InlineJob> job_;
};
}  // namespace

ClockScope::ClockScope(const sim::World* world) : prev_(t_world) { t_world = world; }
ClockScope::~ClockScope() { t_world = prev_; }

sim::Time current_virtual_time() { return t_world != nullptr ? t_world->now() : 0; }

// A FIFO of ready tasks plus delayed tasks ordered by (virtual due time, post order).
class SimPlatform::TaskQueue final : public v8::TaskRunner {
 public:
  void PostTask(std::unique_ptr<v8::Task> task) override { ready_.push_back(std::move(task)); }
  void PostNonNestableTask(std::unique_ptr<v8::Task> task) override { PostTask(std::move(task)); }
  void PostDelayedTask(std::unique_ptr<v8::Task> task, double delay_in_seconds) override {
    delayed_.emplace(std::make_pair(due_after(delay_in_seconds), next_seq_++), std::move(task));
  }
  void PostNonNestableDelayedTask(std::unique_ptr<v8::Task> task,
                                  double delay_in_seconds) override {
    PostDelayedTask(std::move(task), delay_in_seconds);
  }
  void PostIdleTask(std::unique_ptr<v8::IdleTask> task) override {}  // idle tasks are disabled
  bool IdleTasksEnabled() override { return false; }
  bool NonNestableTasksEnabled() const override { return true; }
  bool NonNestableDelayedTasksEnabled() const override { return true; }

  // Runs what is due now; what those tasks post waits for the next call.
  void run_due() {
    const sim::Time now = current_virtual_time();
    while (!delayed_.empty() && delayed_.begin()->first.first <= now) {
      ready_.push_back(std::move(delayed_.begin()->second));
      delayed_.erase(delayed_.begin());
    }
    std::deque<std::unique_ptr<v8::Task>> batch;
    batch.swap(ready_);
    for (auto& task : batch) task->Run();
  }
  std::size_t size() const { return ready_.size() + delayed_.size(); }

 private:
  std::deque<std::unique_ptr<v8::Task>> ready_;
  std::map<std::pair<sim::Time, std::uint64_t>, std::unique_ptr<v8::Task>> delayed_;
  std::uint64_t next_seq_ = 0;
};

// ---- CachingPageAllocator
// ------------------------------------------------------------------------

namespace {
int prot_of(v8::PageAllocator::Permission p) {
  switch (p) {
    case v8::PageAllocator::kNoAccess:
    case v8::PageAllocator::kNoAccessWillJitLater:
      return PROT_NONE;
    case v8::PageAllocator::kRead:
      return PROT_READ;
    case v8::PageAllocator::kReadWrite:
      return PROT_READ | PROT_WRITE;
    case v8::PageAllocator::kReadWriteExecute:
      return PROT_READ | PROT_WRITE | PROT_EXEC;
    case v8::PageAllocator::kReadExecute:
      return PROT_READ | PROT_EXEC;
  }
  return PROT_NONE;
}
}  // namespace

CachingPageAllocator::CachingPageAllocator()
    : page_bytes_(static_cast<std::size_t>(sysconf(_SC_PAGESIZE))) {}

CachingPageAllocator::~CachingPageAllocator() { trim(); }

void* CachingPageAllocator::AllocatePages(void* address, size_t length, size_t alignment,
                                          Permission permissions) {
  ++stats_.allocations;
  alignment = std::max(alignment, page_bytes_);
  for (auto it = cache_.lower_bound({length, 0}); it != cache_.end() && it->first.first == length;
       ++it) {
    if (it->first.second % alignment != 0) continue;
    void* base = reinterpret_cast<void*>(it->first.second);
    // Cached regions are read-write; "no access" is advisory (see SetPermissions).
    if (permissions != kNoAccess && permissions != kReadWrite &&
        mprotect(base, length, prot_of(permissions)) != 0) {
      continue;
    }
    cache_.erase(it);
    stats_.cached_bytes -= length;
    ++stats_.reused;
    live_[reinterpret_cast<std::uintptr_t>(base)] = length;
    return base;
  }
  // As V8's default allocator: over-reserve, then trim to the alignment.
  const std::size_t request = length + alignment - page_bytes_;
  const int flags =
      MAP_PRIVATE | MAP_ANONYMOUS |
      (permissions == kNoAccess || permissions == kNoAccessWillJitLater ? MAP_NORESERVE : 0);
  void* hint = reinterpret_cast<void*>(reinterpret_cast<std::uintptr_t>(address) &
                                       ~(static_cast<std::uintptr_t>(alignment) - 1));
  // With the cache on, a reservation is mapped read-write at once ("no access" is advisory), so
  // that committing parts of it later changes no page table.
  const int prot =
      enabled_ && permissions == kNoAccess ? PROT_READ | PROT_WRITE : prot_of(permissions);
  void* raw = mmap(hint, request, prot, flags, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  const auto start = reinterpret_cast<std::uintptr_t>(raw);
  const std::uintptr_t aligned =
      (start + alignment - 1) & ~(static_cast<std::uintptr_t>(alignment) - 1);
  if (aligned > start) munmap(raw, aligned - start);
  const std::uintptr_t end = start + request;
  if (end > aligned + length)
    munmap(reinterpret_cast<void*>(aligned + length), end - aligned - length);
  live_[aligned] = length;
  return reinterpret_cast<void*>(aligned);
}

bool CachingPageAllocator::scrub(char* base, std::size_t length) {
  // Cached regions are read-write throughout (parts may be executable, read-only or decommitted
  // now). Cheap when nothing changes: the kernel skips a mapping whose flags stay the same.
  if (mprotect(base, length, PROT_READ | PROT_WRITE) != 0) return false;
  const std::size_t pages = length / page_bytes_;
  resident_.resize(pages);
  if (mincore(base, length, resident_.data()) != 0) return false;
  for (std::size_t i = 0; i < pages;) {
    if ((resident_[i] & 1) == 0) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < pages && (resident_[j] & 1) != 0) ++j;
    std::memset(base + i * page_bytes_, 0, (j - i) * page_bytes_);
    stats_.zeroed_bytes += (j - i) * page_bytes_;
    i = j;
  }
  return true;
}

bool CachingPageAllocator::FreePages(void* address, size_t length) {
  ++stats_.frees;
  // A region whose tail was released (ReleasePages) is still mapped whole: free all of it.
  auto live = live_.find(reinterpret_cast<std::uintptr_t>(address));
  if (live != live_.end()) {
    length = std::max(length, live->second);
    live_.erase(live);
  }
  if (enabled_ && length % page_bytes_ == 0 && cache_.size() < kCachedRegionsMax &&
      stats_.cached_bytes + length <= kCachedBytesMax &&
      scrub(static_cast<char*>(address), length)) {
    cache_.emplace(std::make_pair(length, reinterpret_cast<std::uintptr_t>(address)), true);
    stats_.cached_bytes += length;
    ++stats_.cached;
    return true;
  }
  return munmap(address, length) == 0;
}

bool CachingPageAllocator::ReleasePages(void* address, size_t length, size_t new_length) {
  if (new_length >= length) return true;
  // V8 shrinks pages it will never grow again (immortal pages after deserialization). With the
  // cache on, the tail stays mapped as part of the region, so that the whole region (of the
  // length V8 asks for next time) is reused when it is freed; V8 no longer touches the tail.
  if (enabled_ && live_.count(reinterpret_cast<std::uintptr_t>(address)) != 0) return true;
  return munmap(static_cast<char*>(address) + new_length, length - new_length) == 0;
}

bool CachingPageAllocator::SetPermissions(void* address, size_t length, Permission permissions) {
  // Unlike V8's default, pages made inaccessible are not discarded: V8 makes them accessible
  // again soon (pooled pages, code pages), and refaulting them is what this allocator avoids.
  // "No access" is advisory while the cache is on (see the header): V8 only ever asks for it
  // to guard against its own stray accesses, and each such mprotect costs a TLB shootdown.
  if (enabled_ && permissions == kNoAccess) return true;
  return mprotect(address, length, prot_of(permissions)) == 0;
}

bool CachingPageAllocator::DiscardSystemPages(void* address, size_t size) {
#ifdef MADV_FREE
  if (madvise(address, size, MADV_FREE) == 0) return true;
#endif
  return madvise(address, size, MADV_DONTNEED) == 0;
}

bool CachingPageAllocator::DecommitPages(void* address, size_t size) {
  // Contract: inaccessible, and zero when next made accessible. MADV_DONTNEED on private
  // anonymous memory guarantees the zeros.
  if (mprotect(address, size, PROT_NONE) != 0) return false;
  return madvise(address, size, MADV_DONTNEED) == 0;
}

void CachingPageAllocator::trim() {
  for (const auto& [key, unused] : cache_) {
    munmap(reinterpret_cast<void*>(key.second), key.first);
  }
  cache_.clear();
  stats_.cached_bytes = 0;
}

void CachingPageAllocator::set_enabled(bool on) {
  enabled_ = on;
  if (!on) trim();
}

// ---- SimPlatform
// ---------------------------------------------------------------------------------

SimPlatform::SimPlatform()
    : tracing_(std::make_unique<v8::TracingController>()), worker_(std::make_shared<TaskQueue>()) {}

SimPlatform::~SimPlatform() = default;

std::shared_ptr<v8::TaskRunner> SimPlatform::GetForegroundTaskRunner(v8::Isolate* isolate) {
  auto& q = foreground_[isolate];
  if (!q) q = std::make_shared<TaskQueue>();
  return q;
}

void SimPlatform::CallOnWorkerThread(std::unique_ptr<v8::Task> task) {
  worker_->PostTask(std::move(task));
}

void SimPlatform::CallDelayedOnWorkerThread(std::unique_ptr<v8::Task> task,
                                            double delay_in_seconds) {
  worker_->PostDelayedTask(std::move(task), delay_in_seconds);
}

std::unique_ptr<v8::JobHandle> SimPlatform::PostJob(v8::TaskPriority priority,
                                                    std::unique_ptr<v8::JobTask> job_task) {
  auto job = std::make_shared<InlineJob>(std::move(job_task));
  worker_->PostTask(std::make_unique<JobTaskAdapter>(job));
  return std::make_unique<InlineJobHandle>(std::move(job));
}

void SimPlatform::pump(v8::Isolate* isolate) {
  auto it = foreground_.find(isolate);
  if (it != foreground_.end()) {
    std::shared_ptr<TaskQueue> q = it->second;  // a task may forget() the isolate
    q->run_due();
  }
  worker_->run_due();
}

void SimPlatform::forget(v8::Isolate* isolate) { foreground_.erase(isolate); }

std::size_t SimPlatform::queued_tasks(v8::Isolate* isolate) const {
  auto it = foreground_.find(isolate);
  return (it != foreground_.end() ? it->second->size() : 0) + worker_->size();
}

double SimPlatform::MonotonicallyIncreasingTime() {
  return static_cast<double>(current_virtual_time()) / 1e9;
}

double SimPlatform::CurrentClockTimeMillis() {
  return kEpochUnixMs + static_cast<double>(current_virtual_time()) / 1e6;
}

}  // namespace js

static_assert(js::kEpochUnixMs == js::kUnixMsAtTimeZero);
