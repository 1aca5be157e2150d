// js::Isolate: one V8 isolate with one context, the prelude (Web APIs), the engine's extensions
// (js::EngineOptions) and a Worker's ES modules. The V8 boundary: this header is V8-free so that
// platform/runtime can use it; isolate.cc, modules.cc and natives.cc are where V8 is touched.
//
// js/ embeds V8 and knows nothing of Workers: which JS functions serve a request, a cron event or
// a Durable Object is the embedder's business (runtime/dispatcher.js registers them as entry
// points; dispatch() calls them), and so is what its calls and signals mean (values.h).
//
// A "run" is one entry into JS: load(), dispatch(), fire_timer(), settle_fetch(), settle_call().
// Each run
//  - executes on the caller's stack with the isolate's stack limit set below the current frame
//    (REQUIRES: at least IsolateConfig::stack_bytes of stack below the caller, e.g. a task
//    spawned with that stack size), so deep recursion ends in a RangeError;
//  - sees one instant of virtual time (the World's now()), and draws Math.random and crypto
//    values from the isolate's own RNG stream;
//  - runs microtasks and queued V8 platform tasks before it returns, and never suspends;
//  - is watched for CPU time (host time) and heap size. A run that hits a limit returns
//    kCpuExceeded or kHeapExceeded, its effects are discarded, and the isolate is dead(): the
//    owner must destroy it and make a new one.
// Effects of a run (console lines, timers set or cleared, outbound fetches and calls, responses,
// signals) are buffered and handed to the IsolateHost when the run returns normally, in the order
// they happened.
//
// Single-threaded, simulation thread only. Never keep it across a crash of its node.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "platform/js/http.h"
#include "platform/js/values.h"
#include "sim/knobs.h"
#include "sim/result.h"
#include "sim/rng.h"
#include "sim/time.h"

namespace sim {
class World;
}

namespace js {

// Where the effects of JS go. Implemented by the embedder (runtime::Worker).
class IsolateHost {
 public:
  virtual ~IsolateHost() = default;
  // level is one of log, info, warn, error, debug.
  virtual void on_console(std::string_view level, std::string_view text) = 0;
  virtual void on_set_timer(std::uint64_t timer_id, sim::Duration delay) = 0;
  virtual void on_clear_timer(std::uint64_t timer_id) = 0;
  // An error no handler caught: `where` is "unhandledrejection" (a rejected promise nobody
  // handled by the end of the run), "timer" (a timer callback threw) or "event".
  virtual void on_uncaught(std::string_view where, std::string message, std::string stack) = 0;
  // JS called fetch(): send `request` and answer with Isolate::settle_fetch(fetch_id, ...) in a
  // later run. The default never answers (the JS promise stays pending).
  virtual void on_fetch(std::uint64_t fetch_id, HttpRequest request) {}
  // JS called host.call(...): answer with Isolate::settle_call(call_id, ...) in a later run. The
  // default answers nothing (the promise stays pending).
  virtual void on_call(std::uint64_t call_id, CallRequest request) {}
  // JS called host.callSync(...): answer now. Runs during the run: it must not suspend and must
  // not re-enter the isolate.
  virtual CallReply on_call_sync(const CallRequest& request) {
    return CallReply::failure("Error", "no such service: " + std::to_string(request.target));
  }
  // The embedder's JS answered invocation `invocation` with a Response (host.respond).
  virtual void on_response(std::uint64_t invocation, HttpResponse response) {}
  // The embedder's JS reported something else about an invocation (host.signal).
  virtual void on_signal(std::uint64_t invocation, Signal signal) {}
};

// A host that ignores everything: for isolates that only load or evaluate code (load checks,
// checker models written in JS, benchmarks).
struct NullIsolateHost : IsolateHost {
  void on_console(std::string_view, std::string_view) override {}
  void on_set_timer(std::uint64_t, sim::Duration) override {}
  void on_clear_timer(std::uint64_t) override {}
  void on_uncaught(std::string_view, std::string, std::string) override {}
};

struct IsolateConfig {
  std::string name = "worker";
  // Heap limit (old + young generations). Past it the run fails and the isolate must be recycled.
  std::size_t heap_bytes_max = 128u << 20;
  // Host CPU time per run. Past it the run is terminated.
  sim::Duration cpu_max = 50 * sim::kMillisecond;
  // Host CPU time for evaluating the Worker's modules (its global scope) at startup: Cloudflare
  // documents a startup limit of its own, 1 s since 2025-10 (it was 400 ms).
  sim::Duration startup_cpu_max = sim::kSecond;
  // The stack available to JS runs; see the header comment.
  std::size_t stack_bytes = 1u << 20;
  // Start from the Engine's startup snapshot when it has one.
  bool use_snapshot = true;

  // The limits above as knobs (sim/knobs.h): "heap_bytes_max", "cpu_max", "startup_cpu_max".
  static const sim::Knobs<IsolateConfig>& knobs();
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

  // Makes `env` (through the embedder's "setEnv" entry point, which an env needs), then compiles,
  // links and evaluates the modules reachable from `main`. The isolate keeps a copy of `modules`
  // for dynamic import(). Imports may also name the built-in modules the extensions registered
  // ("cloudflare:workers"). An error names the file and line ("src/index.js:3: SyntaxError:
  // ..."). A run (see the header comment).
  sim::Status load(const ModuleMap& modules, std::string_view main, RunOutcome* outcome,
                   const Env& env = {});
  // Calls the embedder's entry point `entry` (registered by an extension in internal.entries)
  // with the main module's namespace and then `args`. What the entry does arrives through the
  // host (on_response, on_signal, ...), in this run or a later one. REQUIRES: load() succeeded.
  // An unknown entry is a bug of the embedder (SIM_REQUIRE).
  RunOutcome dispatch(std::string_view entry, const std::vector<Arg>& args);
  // Whether the extensions registered entry point `entry`.
  bool has_entry(std::string_view entry) const;
  // Runs the callback of a timer the host was asked to set. Unknown ids are ignored.
  RunOutcome fire_timer(std::uint64_t timer_id);
  // Settles the promise of an outbound fetch the host was asked for (on_fetch): with the
  // origin's response, or with an error (the promise rejects with a TypeError saying its message).
  // Unknown ids are ignored (the fetch was aborted).
  RunOutcome settle_fetch(std::uint64_t fetch_id, const sim::Result<HttpResponse>& result);
  // Settles the promise of a call the host was asked for (on_call). Unknown ids are ignored.
  RunOutcome settle_call(std::uint64_t call_id, const CallReply& reply);
  // Calls the main module's export `name` with arguments parsed from JSON texts, synchronously,
  // and returns JSON.stringify of its result ("undefined" for none). Errors: no such function,
  // an exception ("Name: message"), a result that is a Promise. A run. REQUIRES: load()
  // succeeded. (Models written in JS for the checkers.)
  sim::Result<std::string> call_export(std::string_view name, const std::vector<std::string>& args,
                                       RunOutcome* outcome = nullptr);
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
