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
// Invocations (a request, a cron event) have a context, as in production: it lives until the
// handler is done (the Response is out, or the event handler settled) and every promise given to
// ctx.waitUntil settled, and at most wait_until_max after the handler is done; then it ends and
// the timers its runs set (and did not clear) are cancelled. A run belongs to the invocation whose
// event started it (a request's run, or a timer set by a run of that invocation). Runs with no
// invocation (module evaluation) own timers that only the isolate's end cancels.
//
// Single-threaded; lives as long as the caller wants, across crashes of its node (a crash drops
// the isolate and its timers: volatile state).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "platform/js/engine.h"
#include "platform/js/isolate.h"
#include "platform/runtime/events.h"
#include "platform/runtime/http.h"
#include "sim/result.h"
#include "sim/sync.h"
#include "sim/world.h"

namespace runtime {

using BindingValue = js::BindingValue;
class Origins;  // web APIs: origin.h

// What a Worker's service bindings reach (Durable Objects, KV, DO storage): the platform's
// services as seen from the Worker's node. Implemented by bindings::BindingTable
// (bindings/binding_table.h) and, for a Durable Object's Worker, by objects::ObjectInstance.
class Services {
 public:
  virtual ~Services() = default;
  // A binding call (js::IsolateHost::on_call). Runs on a task of the Worker's node, outside JS;
  // may suspend. Throws TaskCancelled.
  virtual js::CallReply call(sim::Task& task, const js::CallRequest& request) = 0;
  // A call that answers at once (Durable Object storage). Called during a JS run: must not
  // suspend or re-enter the Worker.
  virtual js::CallReply call_sync(const js::CallRequest& request) {
    return js::CallReply::failure("Error", "no such service: " + std::to_string(request.target));
  }
  // Whether the call is a message that leaves the invocation (and so waits behind a Durable
  // Object's output gate). Storage sync() is none: it waits for durability, it does not leave.
  virtual bool leaves(const js::CallRequest& request) const { return true; }
};

// The runtime's JS half (dispatcher.js), embedded at build time: an extension for js::Engine
// (platform/engine_setup.h).
std::vector<js::Extension> js_extensions();

struct WorkerConfig {
  std::string name = "worker";
  js::ModuleMap modules;
  std::string main = "index.js";
  // The bindings: `env` of the handlers and of "cloudflare:workers".
  std::map<std::string, BindingValue> env;
  js::IsolateConfig isolate;
  // How long fetch() waits for the handler's Response.
  sim::Duration response_timeout = 30 * sim::kSecond;
  // ctx.waitUntil work still pending this long after the handler is done is cancelled.
  sim::Duration wait_until_max = 30 * sim::kSecond;
  // The wall-time limit of an event invocation: scheduled(), queue(), a Durable Object's alarm()
  // and WebSocket handlers (the platform's 15 minutes for crons, queue consumers and alarms).
  sim::Duration event_wall_max = 15 * sim::kMinute;
  // Timer callbacks of one invocation at one virtual instant: past this, a timer that re-arms
  // itself with no delay (which never lets virtual time pass) ends the invocation with an error.
  std::int64_t timers_per_instant_max = 100'000;
  // web APIs: where outbound fetch() goes (origin.h). Null: every fetch() rejects.
  Origins* origins = nullptr;
  // bindings: where service bindings' calls go. Null: they fail.
  Services* services = nullptr;

  // The limits and timeouts as knobs (sim/knobs.h): "response_timeout", "wait_until_max", and
  // the isolate's ("cpu_max", "heap_bytes_max", "startup_cpu_max"). The platform applies them to
  // every Worker as "worker.<name>".
  static const sim::Knobs<WorkerConfig>& knobs();
};

// How a scheduled() event ended.
struct ScheduledResult {
  // The handler and its ctx.waitUntil promises settled without an exception.
  bool ok = true;
  // The handler called controller.noRetry().
  bool no_retry = false;
  // Why not ok: the exception ("Error: ..."), a cancelled waitUntil, or a platform failure.
  std::string error;
  // queue() only: the fate of each message of the batch, in batch order (empty when the handler
  // never ran: then every message is retried).
  std::vector<QueueOutcome> outcomes;
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
  // `entrypoint` names the main module's export that serves it ("default", or a named
  // WorkerEntrypoint class or handler object). After ctx.passThroughOnException(), an uncaught
  // exception sends the request on to its origin (config.origins; 502 when that fails) instead of
  // answering 500; with no origins configured it is still a 500. Both are js.pass_through events.
  sim::Result<HttpResponse> fetch(sim::Task& task, HttpRequest request,
                                  std::string entrypoint = "default");
  // Delivers a cron event to the scheduled handler: scheduled(controller, env, ctx) with
  // controller.cron = cron and controller.scheduledTime = `time` (as Unix ms). Suspends until the
  // handler and its waitUntil work are done. Errors as for fetch(). Throws TaskCancelled.
  sim::Result<ScheduledResult> scheduled(sim::Task& task, std::string cron, sim::Time time,
                                         std::string entrypoint = "default");

  // ---- Durable Object instances (objects::ObjectInstance) ----
  // Delivers an event to the Durable Object instance the event names, in this Worker's isolate
  // (constructing the instance on its first event). Suspends until the result: the Response
  // (kFetch; errors as fetch()), the RPC reply (kRpc: a failed reply carries the thrown error),
  // or how alarm() ended (kAlarm). Throws TaskCancelled.
  sim::Result<HttpResponse> actor_fetch(sim::Task& task, ActorEvent event);
  sim::Result<js::CallReply> actor_rpc(sim::Task& task, ActorEvent event);
  sim::Result<ScheduledResult> actor_alarm(sim::Task& task, ActorEvent event);
  // webSocketMessage / webSocketClose (ActorEvent::kSocket*), answered like alarm().
  sim::Result<ScheduledResult> actor_socket(sim::Task& task, ActorEvent event);
  // The output gate: when set, every message leaving the Worker (responses, RPC replies, and
  // the start of subrequests and binding calls) is handed to `gate` as a function that the gate
  // calls with true when the message may go (at once, or when earlier writes are durable), or
  // with false when it is dropped (a failed write: a response then becomes an error).
  using GatedMessage = std::function<void(bool send)>;
  void set_output_gate(std::function<void(GatedMessage)> gate) { output_gate_ = std::move(gate); }
  // ---- end Durable Object instances ----

  // Delivers a batch to the queue handler: queue(batch, env, ctx). Suspends until the handler
  // and its waitUntil work are done; the result says what to do with each message. Errors as
  // for scheduled(). Throws TaskCancelled.
  sim::Result<ScheduledResult> queue(sim::Task& task, QueueBatch batch,
                                     std::string entrypoint = "default");

  // Runs a workflow instance's run(event, step) (see WorkflowRunEvent). Suspends until run()
  // settled and its end was reported to the engine; answered like scheduled().
  sim::Result<ScheduledResult> workflow(sim::Task& task, WorkflowRunEvent event);

  const WorkerConfig& config() const { return config_; }
  sim::Node& node() const { return node_; }
  // Isolates created so far (cold starts).
  std::uint64_t isolates_created() const { return generation_; }
  bool warm() const { return isolate_ != nullptr; }
  std::size_t pending_invocations() const { return pending_.size(); }
  std::size_t pending_timers() const { return timers_.size(); }
  // Invocations whose context is still open (handler running, or waitUntil work pending).
  std::size_t open_contexts() const { return contexts_.size(); }
  // Drops the isolate, as an eviction policy would; pending invocations fail.
  void evict();

  // ---- hooks for runtime::Pop (its eviction policy and CPU model) ----
  // V8 heap in use by the live isolate, in bytes; 0 when there is none.
  std::size_t isolate_heap_bytes() const { return isolate_ ? isolate_->heap_used_bytes() : 0; }
  // Called after each JS task of this Worker with the task's name ("js.fetch", "js.timer", ...).
  void set_run_hook(std::function<void(std::string_view task_name)> hook) {
    run_hook_ = std::move(hook);
  }
  // ---- end of hooks for runtime::Pop ----

 private:
  struct Pending {
    std::shared_ptr<sim::Slot<HttpResponse>> slot;
  };
  using RunFn = std::function<js::RunOutcome(js::Isolate&, std::uint64_t invocation)>;
  // Starts an invocation answered with a Response (fetch, actor fetch) and waits for it.
  sim::Result<HttpResponse> serve_http(sim::Task& task, std::shared_ptr<const HttpRequest> request,
                                       std::string task_name, RunFn run, bool hang_check = false);
  // Starts an invocation answered by on_event_done (scheduled, alarm) and waits for it.
  sim::Result<ScheduledResult> serve_event(sim::Task& task, std::string task_name, RunFn run);
  // Sends `message` through the output gate (at once when there is none).
  void leave(GatedMessage message);
  // An invocation's context; see the header comment.
  struct Context {
    bool handler_done = false;
    int wait_until_pending = 0;
    bool pass_through = false;
    std::shared_ptr<const HttpRequest> request;  // fetch() only: for passThroughOnException
    sim::EventId deadline{};  // armed when the handler is done with waitUntil work pending
    bool has_deadline = false;
    // scheduled() only: where its result goes, and what it is so far.
    std::shared_ptr<sim::Slot<ScheduledResult>> scheduled;
    ScheduledResult result;
    // Timer callbacks fired at the instant timer_instant (timers_per_instant_max).
    sim::Time timer_instant = -1;
    std::int64_t timers_at_instant = 0;
    // Hang detection (a stateless Worker's fetch only, as in workerd): its subrequests and
    // binding calls still in flight. With none, no timer and no response, it can never answer.
    bool hang_check = false;
    bool started = false;  // its handler ran (an invocation may queue for a core first)
    int io_pending = 0;
  };
  struct Timer {
    sim::EventId event{};
    std::uint64_t invocation = 0;  // 0: set while no invocation ran (module evaluation)
  };

  // Spawns a JS task on the node running `body`. Returns false when the node is down.
  bool spawn_js(std::string name, std::function<void()> body);
  // On a JS task: the live isolate, created (and the modules loaded) if needed, or nullptr.
  js::Isolate* ensure_isolate(std::string* error);
  void after_run(js::RunOutcome outcome);
  // Drops the isolate and its timers; every pending invocation gets `response`.
  void drop_isolate(const HttpResponse& response);
  void settle(std::uint64_t invocation, HttpResponse response);
  // Spawns the JS task of a new invocation; false when the node is down.
  bool start_invocation(std::string name, std::uint64_t id,
                        std::function<js::RunOutcome(js::Isolate&)> run,
                        std::function<void(std::string)> load_failed);
  // The invocation's handler is done: close its context now, or when its waitUntil work is.
  void handler_done(std::uint64_t invocation);
  // Ends the context: cancels its timers, settles a scheduled() result. `why` says why it ended
  // early (empty when it ended normally).
  void end_context(std::uint64_t invocation, std::string_view why);
  Context startup_timers_;  // timer_instant and timers_at_instant of the modules' own timers
  // Ends every hang-checked invocation that has not answered and has nothing in flight that
  // could settle it (no timer, no subrequest, no binding call): a 500, as the runtime answers.
  void end_hung_invocations();
  // A subrequest or binding call of `invocation` started (+1) or its reply arrived (-1).
  void count_io(std::uint64_t invocation, int delta);
  // Counts a timer callback of `invocation` at this instant; past timers_per_instant_max it ends
  // the invocation (a 500 if it had not answered) and returns false.
  bool timer_may_fire(std::uint64_t invocation);
  // Emits an event of this Worker: `field` is the ev::Body accessor (&ev::Body::mutable_js_cancel),
  // `fill` sets the fields other than the Worker's name. Defined in worker.cc.
  template <typename M, typename Fill>
  void emit(M* (sim::ev::Body::*field)(), Fill&& fill);

  // js::IsolateHost
  void on_console(std::string_view level, std::string_view text) override;
  void on_set_timer(std::uint64_t timer_id, sim::Duration delay) override;
  void on_clear_timer(std::uint64_t timer_id) override;
  void on_uncaught(std::string_view where, std::string message, std::string stack) override;
  void on_fetch(std::uint64_t fetch_id, HttpRequest request) override;    // web APIs
  void on_call(std::uint64_t call_id, js::CallRequest request) override;  // bindings
  js::CallReply on_call_sync(const js::CallRequest& request) override;
  void on_response(std::uint64_t invocation, HttpResponse response) override;
  void on_signal(std::uint64_t invocation, js::Signal signal) override;
  // The signals (SignalCode), one function each.
  void on_exception(std::uint64_t invocation, std::string message, std::string stack);
  void on_event_done(std::uint64_t invocation, bool ok, std::string message, std::string stack);
  void on_wait_until(std::uint64_t invocation);
  void on_wait_until_settled(std::uint64_t invocation, bool ok, std::string message,
                             std::string stack);
  void on_pass_through(std::uint64_t invocation);
  void on_actor_reply(std::uint64_t invocation, js::CallReply reply);
  void on_queue_outcomes(std::uint64_t invocation, std::string json);

  sim::World& world_;
  sim::Node& node_;
  WorkerConfig config_;
  std::unique_ptr<js::Isolate> isolate_;
  std::uint64_t generation_ = 0;
  std::uint64_t next_invocation_ = 1;
  // Ends a fetch or RPC invocation for its caller, however the caller leaves (returns, times out,
  // is cancelled): forgets the pending reply, and cancels a handler that has not answered yet.
  struct CallerGuard {
    Worker* w;
    std::uint64_t id;
    std::weak_ptr<int> alive;
    ~CallerGuard();
  };
  std::map<std::uint64_t, Pending> pending_;  // by invocation id
  std::map<std::uint64_t, std::shared_ptr<sim::Slot<js::CallReply>>> rpc_pending_;
  std::map<std::uint64_t, Context> contexts_;              // by invocation id
  std::map<std::uint64_t, Timer> timers_;                  // by JS timer id
  std::uint64_t current_invocation_ = 0;                   // of the run in progress
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // scheduler callbacks check it
  int crash_hook_ = 0;
  std::function<void(std::string_view)> run_hook_;  // see set_run_hook (runtime::Pop)
  std::function<void(GatedMessage)> output_gate_;
};

}  // namespace runtime
