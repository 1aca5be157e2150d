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
#include <vector>

#include "platform/js/http.h"
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

// One value of `env`, the Worker's bindings: a plain-text var, a JSON var (parsed in JS), or a
// service binding described by a JSON object whose "type" picks the JS class (bindings.js in the
// prelude): {"type":"durable_object_namespace","class_name":"Counter"} or
// {"type":"kv_namespace","id":"..."}. A service binding's calls reach the IsolateHost as
// on_call(target = "<type-prefix>:<binding name>", ...).
struct BindingValue {
  enum class Kind { kText, kJson, kService };
  Kind kind = Kind::kText;
  std::string value;
  static BindingValue text(std::string v) { return {Kind::kText, std::move(v)}; }
  static BindingValue json(std::string v) { return {Kind::kJson, std::move(v)}; }
  static BindingValue service(std::string descriptor_json) {
    return {Kind::kService, std::move(descriptor_json)};
  }
};

// A call from JS to a service of the platform (a binding's method, Durable Object storage). What
// C++ must read travels as JSON; values C++ only stores or forwards travel as bytes (raw bytes,
// or V8 structured-clone serializations made by JS with the prelude's serialize()).
struct CallRequest {
  std::string target;  // "do:COUNTER", "kv:FLAGS", "storage", "actor"
  std::string method;  // "fetch", "rpc", "get", ...
  std::string json = "null";
  std::string bytes;
  bool has_bytes = false;
};
// The answer. JS sees [JSON.parse(json), ArrayBuffer or null] or, on error, an Error (name,
// message) with the flags as properties (retryable, overloaded, remote) or, when `error_clone`
// is set, the deserialized error thrown remotely (a Durable Object's exception).
struct CallReply {
  bool ok = true;
  std::string json = "null";
  std::string bytes;
  bool has_bytes = false;
  std::string error_name = "Error";
  std::string error_message;
  bool retryable = false;
  bool overloaded = false;
  bool remote = false;
  std::string error_clone;
  static CallReply failure(std::string name, std::string message) {
    CallReply r;
    r.ok = false;
    r.error_name = std::move(name);
    r.error_message = std::move(message);
    return r;
  }
};

// An event for a Durable Object instance living in this isolate (created on first event with
// `new <class_name>(state, env)` from the main module's exports).
struct ActorEvent {
  enum class Kind { kFetch, kRpc, kAlarm, kSocketMessage, kSocketClose };
  Kind kind = Kind::kFetch;
  std::string class_name;
  std::string id_hex;
  std::string name;          // the name of an idFromName() id, else ""
  HttpRequest request;       // kFetch
  std::string method;        // kRpc
  std::string args;          // kRpc: structured clone of the argument array
  int retry_count = 0;       // kAlarm
  std::string socket;        // kSocket*: the WebSocket's id (its payload is in `args`)
  bool socket_text = true;   // kSocketMessage: a text frame
  int close_code = 1005;     // kSocketClose
  std::string close_reason;  // kSocketClose
  bool close_clean = true;   // kSocketClose
};
// Binding name -> value. The same object is the handlers' `env` argument, `this.env` of entrypoint
// classes and the `env` export of "cloudflare:workers".
using Env = std::map<std::string, BindingValue>;

// A batch of queue messages as queue(batch, env, ctx) sees it.
struct QueueMessage {
  std::string id;
  sim::Time timestamp{};   // message.timestamp (a Date)
  std::string body_json;   // message.body, as JSON text (used when body_clone is empty)
  std::string body_clone;  // or a structured clone made by the producer's isolate
  int attempts = 1;
};
struct QueueBatch {
  std::string queue;
  std::vector<QueueMessage> messages;
};
// What the handler decided for one message: "ack" or "retry" (with delay_seconds, -1: the
// queue's default). Explicit per-message calls win over ackAll()/retryAll(); the first call
// wins; without calls a message is acked when the handler succeeds and retried when it throws.
struct QueueOutcome {
  std::string id;
  bool ack = true;
  double delay_seconds = -1;
};

// JS time (Date.now(), Unix ms) at virtual time 0; sim_platform.h's kEpochUnixMs.
inline constexpr double kUnixMsAtTimeZero = 1767225600000.0;

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
  virtual void on_response(std::uint64_t invocation, HttpResponse response) = 0;
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
  virtual void on_fetch(std::uint64_t fetch_id, HttpRequest request) {}
  // ---- end web APIs ----

  // ---- bindings ----
  // JS called a binding (CallRequest): answer with Isolate::settle_call(call_id, ...) in a later
  // run. The default answers nothing (the promise stays pending).
  virtual void on_call(std::uint64_t call_id, CallRequest request) {}
  // JS called a service that answers at once (Durable Object storage). Runs during the run: it
  // must not suspend and must not re-enter the isolate.
  virtual CallReply on_call_sync(const CallRequest& request) {
    return CallReply::failure("Error", "no such service: " + request.target);
  }
  // A queue() invocation decided the fate of its messages (before on_event_done).
  virtual void on_queue_outcomes(std::uint64_t invocation, std::vector<QueueOutcome> outcomes) {}
  // An actor RPC (ActorEvent::kRpc) settled: ok with the structured clone of the result in
  // `reply.bytes`, or failed with the thrown error in reply.error_clone (and its message).
  virtual void on_actor_reply(std::uint64_t invocation, CallReply reply) {}
  // ---- end bindings ----
};

// A host that ignores everything: for isolates that only load or evaluate code (load checks,
// checker models written in JS, benchmarks).
struct NullIsolateHost : IsolateHost {
  void on_console(std::string_view, std::string_view) override {}
  void on_set_timer(std::uint64_t, sim::Duration) override {}
  void on_clear_timer(std::uint64_t) override {}
  void on_response(std::uint64_t, HttpResponse) override {}
  void on_exception(std::uint64_t, std::string, std::string) override {}
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
  RunOutcome fetch(std::uint64_t invocation, const HttpRequest& request,
                   std::string_view entrypoint = "default");
  // Calls the scheduled handler the same way: scheduled(controller, env, ctx) or
  // scheduled(controller). The result arrives through on_event_done. REQUIRES: load() succeeded.
  RunOutcome scheduled(std::uint64_t invocation, const ScheduledEvent& event,
                       std::string_view entrypoint = "default");
  // Calls the queue handler: queue(batch, env, ctx) or queue(batch). The outcomes arrive through
  // on_queue_outcomes, then on_event_done. REQUIRES: load() succeeded.
  RunOutcome queue(std::uint64_t invocation, const QueueBatch& batch,
                   std::string_view entrypoint = "default");
  // Runs the callback of a timer the host was asked to set. Unknown ids are ignored.
  RunOutcome fire_timer(std::uint64_t timer_id);
  // Settles the promise of an outbound fetch the host was asked for (on_fetch): with the
  // origin's response, or with an error (the promise rejects with a TypeError saying its message).
  // Unknown ids are ignored (the fetch was aborted).
  RunOutcome settle_fetch(std::uint64_t fetch_id, const sim::Result<HttpResponse>& result);
  // Settles the promise of a binding call the host was asked for (on_call). Unknown ids are
  // ignored.
  RunOutcome settle_call(std::uint64_t call_id, const CallReply& reply);
  // Delivers an event to a Durable Object instance of this isolate. Results arrive through
  // on_response/on_exception (kFetch), on_actor_reply (kRpc), on_event_done (kAlarm).
  // REQUIRES: load() succeeded.
  RunOutcome actor_event(std::uint64_t invocation, const ActorEvent& event);
  // Forgets the Durable Object instances of this isolate (their next event constructs anew).
  RunOutcome reset_actors();
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
