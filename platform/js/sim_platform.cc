#include "platform/js/sim_platform.h"

#include <algorithm>
#include <cmath>
#include <utility>

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
