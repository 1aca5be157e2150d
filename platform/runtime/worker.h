// runtime::Worker: one Worker script deployed on one node (a PoP): its isolate, created on the
// first request (a cold start) and recycled after a fatal run, the JS tasks that run it, and its
// timers. The bridge between straight-line service code (which suspends) and JS (which never
// does).
//
// How JS is entered: always on a "JS task", a short task spawned on the node with a
// js::kJsStackBytes stack, that makes one run (js::Isolate) and ends. Requests and timer callbacks
// each get one; they never suspend, so runs of one isolate never interleave. The caller of
// fetch() suspends on a Slot instead, outside JS, until a run settles its Response — possibly a
// later run (a timer the handler awaited). Scheduler callbacks (timers) never run JS on the main
// context: they spawn a JS task.
//
// Single-threaded; lives as long as the caller wants, across crashes of its node (a crash drops
// the isolate and its timers: volatile state).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "platform/js/isolate.h"
#include "platform/runtime/http.h"
#include "sim/result.h"
#include "sim/sync.h"
#include "sim/world.h"

namespace runtime {

struct WorkerConfig {
  std::string name = "worker";
  js::ModuleMap modules;
  std::string main = "index.js";
  js::IsolateConfig isolate;
  // How long fetch() waits for the handler's Response.
  sim::Duration response_timeout = 30 * sim::kSecond;
};

class Worker final : public js::IsolateHost {
 public:
  // REQUIRES: js::Engine::init() was called. The World and the node outlive the Worker.
  Worker(sim::World& world, sim::Node& node, WorkerConfig config);
  ~Worker() override;
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Serves one request with the Worker's fetch handler. Suspends until the Response. When the
  // Worker's code fails, the response says so: status 500 and `error` set for an exception,
  // 503 for an exceeded limit or a script that does not load. Errors: kTimeout when no Response
  // came within response_timeout, kUnreachable when the node is down. Throws TaskCancelled.
  sim::Result<HttpResponse> fetch(sim::Task& task, HttpRequest request);

  const WorkerConfig& config() const { return config_; }
  sim::Node& node() const { return node_; }
  // Isolates created so far (cold starts).
  std::uint64_t isolates_created() const { return generation_; }
  bool warm() const { return isolate_ != nullptr; }
  std::size_t pending_invocations() const { return pending_.size(); }
  std::size_t pending_timers() const { return timers_.size(); }
  // Drops the isolate, as an eviction policy would; pending invocations fail.
  void evict();

 private:
  struct Pending {
    std::shared_ptr<sim::Slot<HttpResponse>> slot;
  };

  // Spawns a JS task on the node running `body`. Returns false when the node is down.
  bool spawn_js(std::string name, std::function<void()> body);
  // On a JS task: the live isolate, created (and the modules loaded) if needed, or nullptr.
  js::Isolate* ensure_isolate(std::string* error);
  void after_run(js::RunOutcome outcome);
  // Drops the isolate and its timers; every pending invocation gets `response`.
  void drop_isolate(const HttpResponse& response);
  void settle(std::uint64_t invocation, HttpResponse response);
  void emit(std::string_view kind, std::string details);

  // js::IsolateHost
  void on_console(std::string_view level, std::string_view text) override;
  void on_set_timer(std::uint64_t timer_id, sim::Duration delay) override;
  void on_clear_timer(std::uint64_t timer_id) override;
  void on_response(std::uint64_t invocation, HttpResponse response) override;
  void on_exception(std::uint64_t invocation, std::string message, std::string stack) override;
  void on_uncaught(std::string_view where, std::string message, std::string stack) override;

  sim::World& world_;
  sim::Node& node_;
  WorkerConfig config_;
  std::unique_ptr<js::Isolate> isolate_;
  std::uint64_t generation_ = 0;
  std::uint64_t next_invocation_ = 1;
  std::map<std::uint64_t, Pending> pending_;               // by invocation id
  std::map<std::uint64_t, sim::EventId> timers_;           // JS timer id -> scheduler event
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // scheduler callbacks check it
  int crash_hook_ = 0;
};

}  // namespace runtime
