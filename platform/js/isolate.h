// js::Isolate: one V8 isolate with one context, the prelude (Web APIs) and a Worker's ES modules.
// The V8 boundary: this header is V8-free so platform/runtime can use it; isolate.cc is where
// V8 is touched.
//
// A "run" is one entry into JS: load(), fetch(), scheduled(), fire_timer(). Each run
//  - executes on the caller's stack with the isolate's stack limit set below the current frame
//    (REQUIRES: at least IsolateConfig::stack_bytes of stack below the caller, e.g. a task
//    spawned with that stack size), so deep recursion ends in a RangeError;
//  - sees one instant of virtual time (the World's now()), and draws Math.random and crypto
//    values from the isolate's own RNG stream;
//  - runs microtasks and queued V8 platform tasks before it returns, and never suspends;
//  - is watched for CPU time (host time) and heap size. A run that hits a limit returns
//    kCpuExceeded or kHeapExceeded, its effects are discarded, and the isolate is dead(): the
//    owner must destroy it and make a new one.
// Effects of a run (console lines, timers set or cleared, responses) are buffered and handed to
// the IsolateHost when the run returns normally, in the order they happened.
//
// Single-threaded, simulation thread only. Never keep it across a crash of its node.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "platform/runtime/http.h"
#include "sim/result.h"
#include "sim/rng.h"
#include "sim/time.h"

namespace sim {
class World;
}

namespace js {

// Module path -> source, e.g. "src/index.js". Paths use '/', with no leading "./". The
// extension picks the module type, as wrangler's default rules do: `.js`, `.mjs` (or none) an ES
// module; `.txt`, `.html` a Text module (default export: the string); `.bin` a Data module
// (default export: an ArrayBuffer); `.json` a JSON module (default export: the parsed value).
using ModuleMap = std::map<std::string, std::string>;

// One value of `env`, the Worker's bindings: a plain-text var, or a JSON var (parsed in JS).
// Services and storage bindings come later.
struct BindingValue {
  enum class Kind { kText, kJson };
  Kind kind = Kind::kText;
  std::string value;
  static BindingValue text(std::string v) { return {Kind::kText, std::move(v)}; }
  static BindingValue json(std::string v) { return {Kind::kJson, std::move(v)}; }
};
// Binding name -> value. The same object is the handlers' `env` argument, `this.env` of entrypoint
// classes and the `env` export of "cloudflare:workers".
using Env = std::map<std::string, BindingValue>;

// A cron trigger as scheduled(controller, env, ctx) sees it.
struct ScheduledEvent {
  std::string cron;            // controller.cron, e.g. "*/5 * * * *"
  sim::Time scheduled_time{};  // controller.scheduledTime (virtual time; JS sees Unix ms)
};

// Where the effects of JS go. Implemented by the runtime (runtime::Worker).
class IsolateHost {
 public:
  virtual ~IsolateHost() = default;
  // level is one of log, info, warn, error, debug.
  virtual void on_console(std::string_view level, std::string_view text) = 0;
  virtual void on_set_timer(std::uint64_t timer_id, sim::Duration delay) = 0;
  virtual void on_clear_timer(std::uint64_t timer_id) = 0;
  // The fetch invocation `invocation` settled with a Response.
  virtual void on_response(std::uint64_t invocation, runtime::HttpResponse response) = 0;
  // The fetch invocation threw (or its promise rejected) with this error.
  virtual void on_exception(std::uint64_t invocation, std::string message, std::string stack) = 0;
  // An error no handler caught: `where` is "unhandledrejection" (a rejected promise nobody
  // handled by the end of the run) or "timer" (a timer callback threw).
  virtual void on_uncaught(std::string_view where, std::string message, std::string stack) = 0;

  // The invocation's ctx.waitUntil(promise) was called.
  virtual void on_wait_until(std::uint64_t invocation) {}
  // A promise given to ctx.waitUntil settled: fulfilled (ok), or rejected with message and stack.
  virtual void on_wait_until_settled(std::uint64_t invocation, bool ok, std::string message,
                                     std::string stack) {}
  // The invocation called ctx.passThroughOnException().
  virtual void on_pass_through(std::uint64_t invocation) {}
  // A non-fetch event handler (scheduled) settled: ok, or threw/rejected (message, stack).
  // no_retry: the handler called controller.noRetry().
  virtual void on_event_done(std::uint64_t invocation, bool ok, bool no_retry, std::string message,
                             std::string stack) {}

  // ---- web APIs (outbound fetch) ----
  // JS called fetch(): send `request` and answer with Isolate::settle_fetch(fetch_id, ...) in a
  // later run. The default never answers (the JS promise stays pending).
  virtual void on_fetch(std::uint64_t fetch_id, runtime::HttpRequest request) {}
  // ---- end web APIs ----
};

struct IsolateConfig {
  std::string name = "worker";
  // Heap limit (old + young generations). Past it the run fails and the isolate must be recycled.
  std::size_t heap_bytes_max = 128u << 20;
  // Host CPU time per run. Past it the run is terminated.
  sim::Duration cpu_max = 50 * sim::kMillisecond;
  // The stack available to JS runs; see the header comment.
  std::size_t stack_bytes = 1u << 20;
  // Start from the Engine's startup snapshot when it has one.
  bool use_snapshot = true;
};

enum class RunOutcome { kOk, kCpuExceeded, kHeapExceeded };
const char* run_outcome_name(RunOutcome outcome);

// Stack for tasks that run JS: JS gets this minus kStackMarginBytes.
inline constexpr std::size_t kJsStackBytes = 1u << 20;
inline constexpr std::size_t kStackMarginBytes = 160u << 10;

class Isolate {
 public:
  // REQUIRES: Engine::init() was called. `host` must outlive the isolate.
  static std::unique_ptr<Isolate> create(const sim::World& world, IsolateConfig config,
                                         sim::Rng rng, IsolateHost* host);
  ~Isolate();
  Isolate(const Isolate&) = delete;
  Isolate& operator=(const Isolate&) = delete;

  // Makes `env` (see Env), then compiles, links and evaluates the modules reachable from `main`.
  // The isolate keeps a copy of `modules` for dynamic import(). An error names the file and line
  // ("src/index.js:3: SyntaxError: ..."). A run (see the header comment).
  sim::Status load(const ModuleMap& modules, std::string_view main, RunOutcome* outcome,
                   const Env& env = {});
  // Calls the fetch handler of the main module's export `entrypoint`: an object's
  // fetch(request, env, ctx), or, for a class extending WorkerEntrypoint, fetch(request) on a new
  // instance made with (ctx, env). The result arrives through the host (on_response /
  // on_exception), in this run or a later one. REQUIRES: load() succeeded.
  RunOutcome fetch(std::uint64_t invocation, const runtime::HttpRequest& request,
                   std::string_view entrypoint = "default");
  // Calls the scheduled handler the same way: scheduled(controller, env, ctx) or
  // scheduled(controller). The result arrives through on_event_done. REQUIRES: load() succeeded.
  RunOutcome scheduled(std::uint64_t invocation, const ScheduledEvent& event,
                       std::string_view entrypoint = "default");
  // Runs the callback of a timer the host was asked to set. Unknown ids are ignored.
  RunOutcome fire_timer(std::uint64_t timer_id);
  // Settles the promise of an outbound fetch the host was asked for (on_fetch): with the
  // origin's response, or with an error (the promise rejects with a TypeError saying its message).
  // Unknown ids are ignored (the fetch was aborted).
  RunOutcome settle_fetch(std::uint64_t fetch_id, const sim::Result<runtime::HttpResponse>& result);
  // Evaluates a classic script and returns its completion value as a string (tests, REPL).
  // Exceptions come back as an error "Name: message".
  sim::Result<std::string> eval(std::string_view source, RunOutcome* outcome = nullptr);

  // A run hit a limit: the isolate must not run again.
  bool dead() const;
  bool from_snapshot() const;
  const IsolateConfig& config() const;
  // V8 heap in use, bytes.
  std::size_t heap_used_bytes() const;

  class Impl;

 private:
  explicit Isolate(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace js
