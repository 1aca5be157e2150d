#include "platform/js/isolate.h"

#include <v8-array-buffer.h>
#include <v8-container.h>
#include <v8-context.h>
#include <v8-exception.h>
#include <v8-external.h>
#include <v8-function.h>
#include <v8-initialization.h>
#include <v8-isolate.h>
#include <v8-local-handle.h>
#include <v8-message.h>
#include <v8-microtask-queue.h>
#include <v8-persistent-handle.h>
#include <v8-primitive.h>
#include <v8-promise.h>
#include <v8-script.h>
#include <v8-snapshot.h>
#include <v8-statistics.h>
#include <v8-template.h>
#include <v8-typed-array.h>
#include <v8-value-serializer.h>
#include <v8.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <utility>
#include <vector>

#include "platform/js/binding_natives.h"  // bindings
#include "platform/js/engine.h"
#include "platform/js/sim_platform.h"
#include "platform/js/v8_util.h"
#include "platform/js/watchdog.h"
#include "platform/js/web_natives.h"  // web APIs
#include "sim/assert.h"
#include "sim/world.h"

namespace js {

std::string run_prelude_in(v8::Isolate* isolate, v8::Local<v8::Context> context);

const char* run_outcome_name(RunOutcome outcome) {
  switch (outcome) {
    case RunOutcome::kOk:
      return "ok";
    case RunOutcome::kCpuExceeded:
      return "exceeded CPU limit";
    case RunOutcome::kHeapExceeded:
      return "exceeded memory limit";
  }
  return "?";
}

namespace {

// How handlers are invoked, and the built-in modules' classes. A function of (natives, prelude
// helpers) run once per isolate after the prelude's init; it returns the entry points the embedder
// calls and the exports of "cloudflare:workers" and "cloudflare:workflows". Uses only the public
// Web APIs of the prelude (Request, Response, Headers), captured before any Worker code runs.
const char kDispatcherSource[] = R"js(
(function (host, util) {
  'use strict';
  const {Request, Response, Headers, Promise, Error, TypeError, JSON, Object} = globalThis;
  const {errorMessage, errorStack, setHeadersGuard, bindings} = util;

  // cloudflare:workers. As in workerd, the constructors take (ctx, env) and keep them.
  class WorkerEntrypoint {
    constructor(ctx, env) { this.ctx = ctx; this.env = env; }
  }
  class DurableObject {
    constructor(ctx, env) { this.ctx = ctx; this.env = env; }
  }
  class WorkflowEntrypoint {
    constructor(ctx, env) { this.ctx = ctx; this.env = env; }
  }
  class RpcTarget {}
  // One env object per isolate, made from the bindings before the modules evaluate.
  const env = {};
  // cloudflare:workflows
  class NonRetryableError extends Error {
    constructor(message, name = 'NonRetryableError') { super(message); this.name = name; }
  }

  function setEnv(names, kinds, values) {
    for (let i = 0; i < names.length; i++) {
      let value = values[i];
      if (kinds[i] === 'json' || kinds[i] === 'service') {
        try {
          value = JSON.parse(value);
        } catch (e) {
          throw new TypeError(`env.${names[i]}: invalid JSON (${e.message})`);
        }
      }
      if (kinds[i] === 'service') value = bindings.make(names[i], value);
      Object.defineProperty(env, names[i], {value, writable: true, enumerable: true, configurable: true});
    }
  }

  class ExecutionContext {
    #id;
    constructor(id) { this.#id = id; }
    waitUntil(promise) {
      const id = this.#id;
      host.waitUntil(id);
      Promise.resolve(promise).then(() => host.waitUntilSettled(id, true, '', ''),
          (e) => host.waitUntilSettled(id, false, errorMessage(e), errorStack(e)));
    }
    passThroughOnException() { host.passThrough(this.#id); }
    get props() { return {}; }
    get [Symbol.toStringTag]() { return 'ExecutionContext'; }
  }

  class ScheduledController {
    #cron; #time; #noRetry;
    constructor(cron, time, noRetry) { this.#cron = cron; this.#time = time; this.#noRetry = noRetry; }
    get cron() { return this.#cron; }
    get scheduledTime() { return this.#time; }
    get type() { return 'scheduled'; }
    noRetry() { this.#noRetry(); }
    get [Symbol.toStringTag]() { return 'ScheduledController'; }
  }

  // The handler `method` of export `name`, as a function of the event argument.
  function handlerFor(ns, name, method, ctx) {
    const exp = ns[name];
    if (exp === undefined || exp === null) {
      if (name === 'default') throw new Error(`Handler does not export a ${method}() function.`);
      throw new Error(`Worker has no entrypoint named "${name}".`);
    }
    if (typeof exp === 'function' && typeof exp[method] !== 'function') {
      if (!(exp.prototype instanceof WorkerEntrypoint)) {
        throw new TypeError(`Entrypoint "${name}" is a class that does not extend WorkerEntrypoint.`);
      }
      const instance = new exp(ctx, env);
      if (typeof instance[method] !== 'function') {
        throw new Error(`Entrypoint "${name}" has no ${method}() method.`);
      }
      return (arg) => instance[method](arg);
    }
    if (typeof exp[method] !== 'function') {
      throw new Error(`Handler does not export a ${method}() function.`);
    }
    return (arg) => exp[method](arg, env, ctx);
  }

  async function dispatchFetch(id, ns, name, method, url, flat, body) {
    try {
      const headers = new Headers();
      for (let i = 0; i + 1 < flat.length; i += 2) headers.append(flat[i], flat[i + 1]);
      const hasBody = body !== null && method !== 'GET' && method !== 'HEAD';
      const request = new Request(url, {method, headers, body: hasBody ? body : null});
      // As in workerd, an incoming request's headers are immutable.
      setHeadersGuard(request.headers, 'immutable');
      const response = await handlerFor(ns, name, 'fetch', new ExecutionContext(id))(request);
      if (!(response instanceof Response)) {
        throw new TypeError(`Incorrect type for Promise: the Promise did not resolve to 'Response'.`);
      }
      const out = [];
      for (const [k, v] of response.headers) out.push(k, v);
      // perf: the bytes as they are (response.body would wrap them in a stream just to read it).
      const bytes = await response._readAll();
      host.respond(id, response.status, out, bytes);
    } catch (e) {
      host.exception(id, errorMessage(e), errorStack(e));
    }
  }

  async function dispatchEvent(id, ns, name, method, makeArg) {
    let noRetry = false;
    try {
      const arg = makeArg(() => { noRetry = true; });
      await handlerFor(ns, name, method, new ExecutionContext(id))(arg);
      host.eventDone(id, true, noRetry, '', '');
    } catch (e) {
      host.eventDone(id, false, noRetry, errorMessage(e), errorStack(e));
    }
  }

  // Queues: a MessageBatch whose decisions are reported before the event is done.
  class QueueMessageImpl {
    #m; #decide;
    constructor(m, decide) { this.#m = m; this.#decide = decide; }
    get id() { return this.#m.id; }
    get timestamp() { return new Date(this.#m.timestamp); }
    get body() { return this.#m.body; }
    get attempts() { return this.#m.attempts; }
    ack() { this.#decide(this.#m.id, 'ack', undefined); }
    retry(options = undefined) { this.#decide(this.#m.id, 'retry', options?.delaySeconds); }
    get [Symbol.toStringTag]() { return 'Message'; }
  }
  class MessageBatchImpl {
    #queue; #messages; #all;
    constructor(queue, messages, all) {
      this.#queue = queue; this.#messages = Object.freeze(messages); this.#all = all;
    }
    get queue() { return this.#queue; }
    get messages() { return this.#messages; }
    ackAll() { this.#all('ack', undefined); }
    retryAll(options = undefined) { this.#all('retry', options?.delaySeconds); }
    get [Symbol.toStringTag]() { return 'MessageBatch'; }
  }
  async function dispatchQueue(id, ns, name, queue, raw) {
    const explicit = new Map();  // message id -> [action, delay]
    let batchWide = null;
    const messages = raw.map((m) => new QueueMessageImpl(m, (mid, action, delay) => {
      if (!explicit.has(mid)) explicit.set(mid, [action, delay]);
    }));
    let ok = true;
    let failure = null;
    try {
      await handlerFor(ns, name, 'queue', new ExecutionContext(id))(
          new MessageBatchImpl(queue, messages, (action, delay) => {
            if (batchWide === null) batchWide = [action, delay];
          }));
    } catch (e) {
      ok = false;
      failure = e;
    }
    const outcomes = raw.map((m) => {
      const [action, delay] = explicit.get(m.id) ?? batchWide ?? [ok ? 'ack' : 'retry', undefined];
      return {id: m.id, ack: action === 'ack', delaySeconds: delay === undefined ? -1 : Number(delay)};
    });
    host.queueOutcomes(id, JSON.stringify(outcomes));
    if (ok) host.eventDone(id, true, false, '', '');
    else host.eventDone(id, false, false, errorMessage(failure), errorStack(failure));
  }

  function dispatchScheduled(id, ns, name, cron, time) {
    return dispatchEvent(id, ns, name, 'scheduled',
        (noRetry) => new ScheduledController(cron, time, noRetry));
  }

  // Durable Object instances living in this isolate, by id: constructed on their first event.
  const actors = new Map();  // id -> {actor, state}
  function actorFor(ns, className, idHex, name) {
    let entry = actors.get(idHex);
    if (entry !== undefined) return entry.actor;
    const cls = ns[className];
    if (typeof cls !== 'function') {
      throw new Error(`Durable Object class "${className}" is not exported by the main module.`);
    }
    const state = bindings.makeState(idHex, name);
    entry = {actor: new cls(state, env), state};
    actors.set(idHex, entry);
    return entry.actor;
  }
  // An event waits for a blockConcurrencyWhile() its object's constructor started.
  function unblocked(idHex) {
    const entry = actors.get(idHex);
    return entry === undefined ? null : bindings.blocked(entry.state);
  }
  async function dispatchActor(id, ns, className, idHex, name, kind, method, url, flat, body,
      rpcMethod, args, retryCount, socket, socketText, closeCode, closeReason, closeClean) {
    if (kind === 'wsmessage' || kind === 'wsclose') {
      // The hibernation API: webSocketMessage(ws, message), webSocketClose(ws, code, reason,
      // wasClean). A missing handler ignores the event.
      try {
        const actor = actorFor(ns, className, idHex, name);
        const blocked = unblocked(idHex);
        if (blocked !== null) await blocked;
        const ws = bindings.socketFor(actors.get(idHex).state, socket);
        if (kind === 'wsmessage') {
          const message = socketText ? new TextDecoder().decode(args) : args;
          if (typeof actor.webSocketMessage === 'function') await actor.webSocketMessage(ws, message);
        } else {
          bindings.socketClosed(ws);
          if (typeof actor.webSocketClose === 'function') {
            await actor.webSocketClose(ws, closeCode, closeReason, closeClean);
          }
        }
        host.eventDone(id, true, false, '', '');
      } catch (e) {
        host.eventDone(id, false, false, errorMessage(e), errorStack(e));
      }
      return;
    }
    if (kind === 'rpc') {
      try {
        const actor = actorFor(ns, className, idHex, name);
        const blocked = unblocked(idHex);
        if (blocked !== null) await blocked;
        const fn = actor[rpcMethod];
        if (typeof fn !== 'function' || rpcMethod === 'constructor' ||
            Object.prototype.hasOwnProperty.call(Object.prototype, rpcMethod)) {
          throw new TypeError(`The RPC receiver does not implement the method "${rpcMethod}".`);
        }
        const result = await fn.apply(actor, bindings.deserialize(args));
        host.actorReply(id, true, bindings.serialize(result), '');
      } catch (e) {
        let bytes;
        try {
          bytes = bindings.serialize(e);
        } catch {
          bytes = bindings.serialize(new Error(errorMessage(e)));
        }
        host.actorReply(id, false, bytes, errorMessage(e));
      }
      return;
    }
    if (kind === 'alarm') {
      let actor;
      try {
        actor = actorFor(ns, className, idHex, name);
      } catch (e) {
        host.eventDone(id, false, false, errorMessage(e), errorStack(e));
        return;
      }
      return dispatchEvent(id, {alarm: actor}, 'alarm', 'alarm',
          () => ({retryCount, isRetry: retryCount > 0}));
    }
    try {
      const headers = new Headers();
      for (let i = 0; i + 1 < flat.length; i += 2) headers.append(flat[i], flat[i + 1]);
      const hasBody = body !== null && method !== 'GET' && method !== 'HEAD';
      const request = new Request(url, {method, headers, body: hasBody ? body : null});
      const actor = actorFor(ns, className, idHex, name);
      const blocked = unblocked(idHex);
      if (blocked !== null) await blocked;
      if (typeof actor.fetch !== 'function') {
        throw new TypeError('Handler does not export a fetch() function.');
      }
      const response = await actor.fetch(request);
      if (!(response instanceof Response)) {
        throw new TypeError(`Incorrect type for Promise: the Promise did not resolve to 'Response'.`);
      }
      const out = [];
      for (const [k, v] of response.headers) out.push(k, v);
      host.respond(id, response.status, out, await response._readAll());
    } catch (e) {
      host.exception(id, errorMessage(e), errorStack(e));
    }
  }
  function resetActors() { actors.clear(); }

  // A dynamic import(): the namespace once the module's evaluation settles.
  function afterEvaluation(evaluation, namespace) {
    return Promise.resolve(evaluation).then(() => namespace);
  }

  return {
    dispatchFetch, dispatchScheduled, dispatchQueue, setEnv, afterEvaluation, dispatchActor,
    resetActors,
    workers: {DurableObject, WorkerEntrypoint, WorkflowEntrypoint, RpcTarget, env},
    workflows: {NonRetryableError},
  };
})
)js";

// The module type, from the path's extension (wrangler's default rules, plus JSON).
enum class ModuleKind { kEs, kText, kData, kJson, kBuiltin };

ModuleKind module_kind(std::string_view path) {
  if (path.starts_with("cloudflare:")) return ModuleKind::kBuiltin;
  if (path.ends_with(".txt") || path.ends_with(".html")) return ModuleKind::kText;
  if (path.ends_with(".bin")) return ModuleKind::kData;
  if (path.ends_with(".json")) return ModuleKind::kJson;
  return ModuleKind::kEs;
}

// Heap room granted past the limit so that a terminated run can unwind.
constexpr std::size_t kHeapUnwindBytes = 32u << 20;

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n;
    std::uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      n = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // truncated sequence
    for (std::size_t k = 1; k <= n; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

// "src/a.js" + "./b.js" -> "src/b.js"; "src/a.js" + "../c.mjs" -> "c.mjs". Returns "" when the
// path climbs above the root.
std::string join_path(std::string_view referrer, std::string_view specifier) {
  std::vector<std::string> parts;
  auto push_all = [&parts](std::string_view p) {
    std::size_t start = 0;
    while (start <= p.size()) {
      std::size_t end = p.find('/', start);
      if (end == std::string_view::npos) end = p.size();
      parts.emplace_back(p.substr(start, end - start));
      start = end + 1;
    }
  };
  if (!specifier.starts_with('/')) {
    const std::size_t slash = referrer.rfind('/');
    if (slash != std::string_view::npos) push_all(referrer.substr(0, slash));
  }
  push_all(specifier);
  std::vector<std::string> out;
  for (auto& p : parts) {
    if (p.empty() || p == ".") continue;
    if (p == "..") {
      if (out.empty()) return "";
      out.pop_back();
      continue;
    }
    out.push_back(std::move(p));
  }
  std::string joined;
  for (const auto& p : out) {
    if (!joined.empty()) joined += '/';
    joined += p;
  }
  return joined;
}

// Something a run did that reaches the world; applied after the run returns normally.
struct Effect {
  enum class Kind {
    kConsole,
    kSetTimer,
    kClearTimer,
    kResponse,
    kException,
    kUncaught,
    kWaitUntil,
    kWaitUntilSettled,
    kPassThrough,
    kEventDone,
    kFetch,       // web APIs
    kCall,        // bindings
    kActorReply,  // bindings
    kQueueOutcomes,
  };
  Kind kind = Kind::kConsole;
  bool ok = true;         // kWaitUntilSettled, kEventDone
  bool no_retry = false;  // kEventDone
  std::uint64_t id = 0;   // timer or invocation
  sim::Duration delay = 0;
  std::string a;  // console level, message, or where
  std::string b;  // console text, stack, or message
  std::string c;  // stack
  HttpResponse response;
  HttpRequest request;                 // kFetch (web APIs)
  CallRequest call;                    // kCall (bindings)
  CallReply reply;                     // kActorReply (bindings)
  std::vector<QueueOutcome> outcomes;  // kQueueOutcomes
};

Effect make_effect(Effect::Kind kind, std::uint64_t id, sim::Duration delay, std::string a,
                   std::string b, std::string c) {
  Effect e;
  e.kind = kind;
  e.id = id;
  e.delay = delay;
  e.a = std::move(a);
  e.b = std::move(b);
  e.c = std::move(c);
  return e;
}

}  // namespace

class Isolate::Impl {
 public:
  Impl(const sim::World& world, IsolateConfig config, sim::Rng rng, IsolateHost* host)
      : world_(world), config_(std::move(config)), rng_(rng), host_(host) {}
  ~Impl();

  bool create();
  sim::Status load(const ModuleMap& modules, std::string_view main, RunOutcome* outcome,
                   const Env& env);
  RunOutcome fetch(std::uint64_t invocation, const HttpRequest& request,
                   std::string_view entrypoint);
  RunOutcome scheduled(std::uint64_t invocation, const ScheduledEvent& event,
                       std::string_view entrypoint);
  RunOutcome fire_timer(std::uint64_t timer_id);
  RunOutcome queue(std::uint64_t invocation, const QueueBatch& batch, std::string_view entrypoint);
  RunOutcome settle_fetch(std::uint64_t fetch_id,
                          const sim::Result<HttpResponse>& result) {  // web APIs
    return run([&](v8::Local<v8::Context> context) {
      WebNatives::settle(context, settle_fetch_.Get(isolate_), fetch_id, result);
    });
  }
  RunOutcome settle_call(std::uint64_t call_id, const CallReply& reply) {  // bindings
    return run([&](v8::Local<v8::Context> context) { bindings_->settle(context, call_id, reply); });
  }
  RunOutcome actor_event(std::uint64_t invocation, const ActorEvent& event);
  RunOutcome reset_actors();
  sim::Result<std::string> eval(std::string_view source, RunOutcome* outcome);
  sim::Result<std::string> call_export(std::string_view name, const std::vector<std::string>& args,
                                       RunOutcome* outcome);

  bool dead() const { return dead_; }
  bool from_snapshot() const { return from_snapshot_; }
  const IsolateConfig& config() const { return config_; }
  std::size_t heap_used_bytes() const {
    v8::HeapStatistics stats;
    isolate_->GetHeapStatistics(&stats);
    return stats.used_heap_size();
  }
  const std::string& create_error() const { return create_error_; }

 private:
  struct ModuleRecord {
    std::string path;
    ModuleKind kind = ModuleKind::kEs;
    v8::Global<v8::Module> module;
    // Synthetic modules: the default export (text, data, JSON), or for a built-in an object whose
    // properties are the exports.
    v8::Global<v8::Value> value;
  };
  struct Rejection {
    v8::Global<v8::Promise> promise;
    std::string message;
    std::string stack;
  };

  // One entry into JS; see the header. `body` runs inside the isolate and context scopes.
  template <typename Body>
  RunOutcome run(Body&& body);
  void set_stack_limit();
  bool install_natives(v8::Local<v8::Context> context);
  bool install_dispatcher(v8::Local<v8::Context> context, v8::Local<v8::Object> prelude);
  using NativeList = std::initializer_list<std::pair<const char*, v8::FunctionCallback>>;
  // An object of native functions bound to this Impl, handed to the prelude or the dispatcher.
  v8::Local<v8::Object> make_natives(v8::Local<v8::Context> context, NativeList natives);
  // Stores `from[name]` in `out` when it is a function (or, for a Global<Object>, an object).
  template <typename T>
  bool take(v8::Local<v8::Context> context, v8::Local<v8::Object> from, const char* name,
            v8::Global<T>* out);

  // Modules.
  std::string resolve(std::string_view referrer, std::string_view specifier) const;
  sim::Status compile_module(v8::Local<v8::Context> context, const std::string& path);
  sim::Status compile_synthetic(v8::Local<v8::Context> context, const std::string& path,
                                ModuleKind kind, std::string_view source);
  static v8::MaybeLocal<v8::Value> evaluate_synthetic(v8::Local<v8::Context> context,
                                                      v8::Local<v8::Module> module);
  static v8::MaybeLocal<v8::Promise> import_dynamic(v8::Local<v8::Context> context,
                                                    v8::Local<v8::Data> host_defined_options,
                                                    v8::Local<v8::Value> resource_name,
                                                    v8::Local<v8::String> specifier,
                                                    v8::Local<v8::FixedArray> assertions);
  sim::Status set_env(v8::Local<v8::Context> context, const Env& env);
  ModuleRecord* find_module(v8::Local<v8::Module> module);
  ModuleRecord* find_module(std::string_view path);
  static v8::MaybeLocal<v8::Module> resolve_callback(v8::Local<v8::Context> context,
                                                     v8::Local<v8::String> specifier,
                                                     v8::Local<v8::FixedArray> assertions,
                                                     v8::Local<v8::Module> referrer);
  std::string describe(v8::Local<v8::Context> context, v8::Local<v8::Value> exception,
                       v8::Local<v8::Message> message);

  // V8 callbacks.
  static std::size_t near_heap_limit(void* data, std::size_t current, std::size_t initial);
  static void on_promise_reject(v8::PromiseRejectMessage message);
  static Impl* from(const v8::FunctionCallbackInfo<v8::Value>& info) {
    return static_cast<Impl*>(info.Data().As<v8::External>()->Value());
  }
  static void native_console(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void native_fill_random(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void native_random_bytes(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void native_now_ms(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void native_set_timer(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void native_clear_timer(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void native_respond(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void native_exception(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void native_report_error(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void native_utf8_encode(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void native_utf8_decode(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void native_clone(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void native_wait_until(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void native_wait_until_settled(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void native_pass_through(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void native_event_done(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void native_actor_reply(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void native_queue_outcomes(const v8::FunctionCallbackInfo<v8::Value>& info);

  void flush_effects();

  const sim::World& world_;
  IsolateConfig config_;
  sim::Rng rng_;
  IsolateHost* host_;
  std::unique_ptr<v8::ArrayBuffer::Allocator> allocator_;
  v8::Isolate* isolate_ = nullptr;
  v8::Global<v8::Context> context_;
  v8::Global<v8::Function> dispatch_fetch_;
  v8::Global<v8::Function> dispatch_scheduled_;
  v8::Global<v8::Function> dispatch_queue_;
  v8::Global<v8::Function> set_env_;
  v8::Global<v8::Function> after_evaluation_;
  v8::Global<v8::Object> builtin_workers_;    // exports of cloudflare:workers
  v8::Global<v8::Object> builtin_workflows_;  // exports of cloudflare:workflows
  v8::Global<v8::Function> fire_timer_;
  // ---- web APIs: natives for prelude.js (fetch, digest) and the prelude's settleFetch ----
  std::unique_ptr<WebNatives> web_;
  v8::Global<v8::Function> settle_fetch_;
  // ---- bindings: natives for the prelude's binding classes; the dispatcher's actor entry ----
  std::unique_ptr<BindingNatives> bindings_;
  v8::Global<v8::Function> dispatch_actor_;
  v8::Global<v8::Function> reset_actors_;
  v8::Global<v8::Object> main_namespace_;
  std::vector<ModuleRecord> modules_;  // in compile order
  ModuleMap sources_;                  // from load(), kept for dynamic import()
  std::vector<Effect> effects_;
  std::vector<Rejection> rejections_;
  std::uint64_t next_timer_id_ = 1;
  bool from_snapshot_ = false;
  bool in_run_ = false;
  bool starting_ = false;  // the next run evaluates the Worker's modules (startup_cpu_max)
  bool heap_exceeded_ = false;
  bool dead_ = false;
  std::string create_error_;
};

Isolate::Impl::~Impl() {
  if (isolate_ == nullptr) return;
  SIM_ASSERT(!in_run_);
  modules_.clear();
  rejections_.clear();
  main_namespace_.Reset();
  dispatch_fetch_.Reset();
  dispatch_scheduled_.Reset();
  dispatch_queue_.Reset();
  set_env_.Reset();
  after_evaluation_.Reset();
  builtin_workers_.Reset();
  builtin_workflows_.Reset();
  fire_timer_.Reset();
  settle_fetch_.Reset();  // web APIs
  if (bindings_ != nullptr) bindings_->clear();
  dispatch_actor_.Reset();
  reset_actors_.Reset();
  context_.Reset();
  Engine::get().platform().forget(isolate_);
  isolate_->Dispose();
}

void Isolate::Impl::set_stack_limit() {
  // JS may use the stack below this frame down to stack_bytes minus a margin for the native
  // frames V8 runs below its limit (throwing the RangeError, runtime calls, GC).
  char probe = 0;
  const auto here = reinterpret_cast<std::uintptr_t>(&probe);
  SIM_REQUIRE(config_.stack_bytes > 2 * kStackMarginBytes);
  isolate_->SetStackLimit(here - (config_.stack_bytes - kStackMarginBytes));
}

bool Isolate::Impl::create() {
  Engine& engine = Engine::get();
  allocator_.reset(v8::ArrayBuffer::Allocator::NewDefaultAllocator());
  v8::Isolate::CreateParams params;
  params.array_buffer_allocator = allocator_.get();
  params.constraints.ConfigureDefaultsFromHeapSize(0, config_.heap_bytes_max);
  const auto* blob = static_cast<const v8::StartupData*>(engine.snapshot_blob());
  if (config_.use_snapshot && blob != nullptr) {
    params.snapshot_blob = const_cast<v8::StartupData*>(blob);
    from_snapshot_ = true;
  }
  isolate_ = v8::Isolate::New(params);
  isolate_->SetMicrotasksPolicy(v8::MicrotasksPolicy::kExplicit);
  isolate_->AddNearHeapLimitCallback(&Impl::near_heap_limit, this);
  isolate_->SetPromiseRejectCallback(&Impl::on_promise_reject);
  isolate_->SetHostImportModuleDynamicallyCallback(&Impl::import_dynamic);
  isolate_->SetData(0, this);

  ClockScope clock(&world_);
  v8::Isolate::Scope is(isolate_);
  set_stack_limit();
  v8::HandleScope hs(isolate_);
  v8::Local<v8::Context> context = v8::Context::New(isolate_);
  v8::Context::Scope cs(context);
  if (!from_snapshot_) {
    create_error_ = run_prelude_in(isolate_, context);
    if (!create_error_.empty()) return false;
  }
  // As in production: no eval() or new Function() in Worker code.
  context->AllowCodeGenerationFromStrings(false);
  context_.Reset(isolate_, context);
  return install_natives(context);
}

v8::Local<v8::Object> Isolate::Impl::make_natives(v8::Local<v8::Context> context, NativeList list) {
  v8::Local<v8::External> self = v8::External::New(isolate_, this);
  v8::Local<v8::Object> natives = v8::Object::New(isolate_);
  for (const auto& [name, cb] : list) {
    v8::Local<v8::Function> fn =
        v8::Function::New(context, cb, self, 0, v8::ConstructorBehavior::kThrow).ToLocalChecked();
    natives->Set(context, str(isolate_, name), fn).Check();
  }
  return natives;
}

template <typename T>
bool Isolate::Impl::take(v8::Local<v8::Context> context, v8::Local<v8::Object> from,
                         const char* name, v8::Global<T>* out) {
  v8::Local<v8::Value> v;
  if (!from->Get(context, str(isolate_, name)).ToLocal(&v)) return false;
  if constexpr (std::is_same_v<T, v8::Function>) {
    if (!v->IsFunction()) return false;
  } else {
    if (!v->IsObject()) return false;
  }
  out->Reset(isolate_, v.As<T>());
  return true;
}

bool Isolate::Impl::install_natives(v8::Local<v8::Context> context) {
  v8::Local<v8::Object> natives =
      make_natives(context, {{"console", &Impl::native_console},
                             {"fillRandom", &Impl::native_fill_random},
                             {"randomBytes", &Impl::native_random_bytes},
                             {"nowMs", &Impl::native_now_ms},
                             {"setTimer", &Impl::native_set_timer},
                             {"clearTimer", &Impl::native_clear_timer},
                             {"respond", &Impl::native_respond},
                             {"exception", &Impl::native_exception},
                             {"reportError", &Impl::native_report_error},
                             {"utf8Encode", &Impl::native_utf8_encode},
                             {"utf8Decode", &Impl::native_utf8_decode},
                             {"clone", &Impl::native_clone}});
  // ---- web APIs: outbound fetch is an effect, like a timer ----
  web_ = std::make_unique<WebNatives>([this](std::uint64_t id, HttpRequest request) {
    Effect& e = effects_.emplace_back();
    e.kind = Effect::Kind::kFetch;
    e.id = id;
    e.request = std::move(request);
  });
  web_->install(context, natives);
  // ---- bindings: a call to a service is an effect too ----
  bindings_ = std::make_unique<BindingNatives>(host_, [this](std::uint64_t id, CallRequest call) {
    Effect& e = effects_.emplace_back();
    e.kind = Effect::Kind::kCall;
    e.id = id;
    e.call = std::move(call);
  });
  bindings_->install(context, natives);

  v8::TryCatch tc(isolate_);
  v8::Local<v8::Value> init_fn;
  if (!context->Global()->Get(context, str(isolate_, "__edgesim_init")).ToLocal(&init_fn) ||
      !init_fn->IsFunction()) {
    create_error_ = "the prelude did not define __edgesim_init";
    return false;
  }
  v8::Local<v8::Value> argv[] = {natives};
  v8::Local<v8::Value> result;
  if (!init_fn.As<v8::Function>()->Call(context, context->Global(), 1, argv).ToLocal(&result) ||
      !result->IsObject()) {
    create_error_ = "prelude init failed: " + to_utf8(isolate_, tc.Exception());
    return false;
  }
  const auto prelude = result.As<v8::Object>();
  if (!take(context, prelude, "fireTimer", &fire_timer_) ||
      !take(context, prelude, "settleFetch", &settle_fetch_)) {
    create_error_ = "the prelude's init returned no fireTimer or settleFetch";
    return false;
  }
  return install_dispatcher(context, result.As<v8::Object>());
}

bool Isolate::Impl::install_dispatcher(v8::Local<v8::Context> context,
                                       v8::Local<v8::Object> prelude) {
  v8::Local<v8::Object> natives =
      make_natives(context, {{"respond", &Impl::native_respond},
                             {"exception", &Impl::native_exception},
                             {"waitUntil", &Impl::native_wait_until},
                             {"waitUntilSettled", &Impl::native_wait_until_settled},
                             {"passThrough", &Impl::native_pass_through},
                             {"eventDone", &Impl::native_event_done},
                             {"actorReply", &Impl::native_actor_reply},
                             {"queueOutcomes", &Impl::native_queue_outcomes}});

  v8::TryCatch tc(isolate_);
  v8::ScriptOrigin origin(isolate_, str(isolate_, "edgesim:dispatch"));
  v8::Local<v8::Script> script;
  v8::Local<v8::Value> factory;
  v8::Local<v8::Value> result;
  v8::Local<v8::Value> argv[] = {natives, prelude};
  if (!v8::Script::Compile(context, str(isolate_, kDispatcherSource), &origin).ToLocal(&script) ||
      !script->Run(context).ToLocal(&factory) || !factory->IsFunction() ||
      !factory.As<v8::Function>()
           ->Call(context, v8::Undefined(isolate_), 2, argv)
           .ToLocal(&result) ||
      !result->IsObject()) {
    create_error_ = "the dispatcher failed: " + to_utf8(isolate_, tc.Exception());
    return false;
  }
  auto exports = result.As<v8::Object>();
  auto get = [&](const char* name, auto* out) { return take(context, exports, name, out); };
  if (!get("dispatchFetch", &dispatch_fetch_) || !get("dispatchScheduled", &dispatch_scheduled_) ||
      !get("setEnv", &set_env_) || !get("afterEvaluation", &after_evaluation_) ||
      !get("workers", &builtin_workers_) || !get("workflows", &builtin_workflows_) ||
      !get("dispatchActor", &dispatch_actor_) || !get("resetActors", &reset_actors_) ||
      !get("dispatchQueue", &dispatch_queue_)) {
    create_error_ = "the dispatcher returned an incomplete object";
    return false;
  }
  return true;
}

template <typename Body>
RunOutcome Isolate::Impl::run(Body&& body) {
  SIM_REQUIRE(!dead_);
  SIM_REQUIRE(!in_run_);
  in_run_ = true;
  Engine& engine = Engine::get();
  ClockScope clock(&world_);
  const std::uint64_t watch =
      engine.watchdog().arm(isolate_, starting_ ? config_.startup_cpu_max : config_.cpu_max);
  starting_ = false;
  {
    v8::Isolate::Scope is(isolate_);
    set_stack_limit();
    v8::HandleScope hs(isolate_);
    v8::Local<v8::Context> context = context_.Get(isolate_);
    v8::Context::Scope cs(context);
    body(context);
    if (!isolate_->IsExecutionTerminating()) {
      isolate_->PerformMicrotaskCheckpoint();
      // V8's own tasks (GC finalization, FinalizationRegistry cleanup) run here: a point the
      // simulation chooses, on this thread.
      engine.platform().pump(isolate_);
      isolate_->PerformMicrotaskCheckpoint();
    }
    // Rejections still unhandled now stay unhandled: report them, in rejection order.
    for (Rejection& r : rejections_) {
      effects_.push_back(make_effect(Effect::Kind::kUncaught, 0, 0, "unhandledrejection",
                                     std::move(r.message), std::move(r.stack)));
    }
    rejections_.clear();
  }
  const bool cpu_fired = engine.watchdog().disarm(watch);
  RunOutcome outcome = RunOutcome::kOk;
  if (heap_exceeded_) {
    outcome = RunOutcome::kHeapExceeded;
  } else if (cpu_fired) {
    outcome = RunOutcome::kCpuExceeded;
  }
  if (outcome != RunOutcome::kOk) {
    // What the run did up to the (host-timed) termination is not a function of the seed: drop
    // it all, and let the owner recycle the isolate so no partial state survives either.
    dead_ = true;
    effects_.clear();
    isolate_->CancelTerminateExecution();
  }
  in_run_ = false;
  flush_effects();
  return outcome;
}

void Isolate::Impl::flush_effects() {
  std::vector<Effect> effects;
  effects.swap(effects_);
  for (Effect& e : effects) {
    switch (e.kind) {
      case Effect::Kind::kConsole:
        host_->on_console(e.a, e.b);
        break;
      case Effect::Kind::kSetTimer:
        host_->on_set_timer(e.id, e.delay);
        break;
      case Effect::Kind::kClearTimer:
        host_->on_clear_timer(e.id);
        break;
      case Effect::Kind::kResponse:
        host_->on_response(e.id, std::move(e.response));
        break;
      case Effect::Kind::kException:
        host_->on_exception(e.id, std::move(e.a), std::move(e.b));
        break;
      case Effect::Kind::kUncaught:
        host_->on_uncaught(e.a, std::move(e.b), std::move(e.c));
        break;
      case Effect::Kind::kWaitUntil:
        host_->on_wait_until(e.id);
        break;
      case Effect::Kind::kWaitUntilSettled:
        host_->on_wait_until_settled(e.id, e.ok, std::move(e.a), std::move(e.b));
        break;
      case Effect::Kind::kPassThrough:
        host_->on_pass_through(e.id);
        break;
      case Effect::Kind::kEventDone:
        host_->on_event_done(e.id, e.ok, e.no_retry, std::move(e.a), std::move(e.b));
        break;
      case Effect::Kind::kFetch:  // web APIs
        host_->on_fetch(e.id, std::move(e.request));
        break;
      case Effect::Kind::kCall:  // bindings
        host_->on_call(e.id, std::move(e.call));
        break;
      case Effect::Kind::kActorReply:  // bindings
        host_->on_actor_reply(e.id, std::move(e.reply));
        break;
      case Effect::Kind::kQueueOutcomes:
        host_->on_queue_outcomes(e.id, std::move(e.outcomes));
        break;
    }
  }
}

std::size_t Isolate::Impl::near_heap_limit(void* data, std::size_t current, std::size_t initial) {
  auto* self = static_cast<Impl*>(data);
  self->heap_exceeded_ = true;
  self->isolate_->TerminateExecution();
  return current + kHeapUnwindBytes;
}

void Isolate::Impl::on_promise_reject(v8::PromiseRejectMessage message) {
  v8::Local<v8::Promise> promise = message.GetPromise();
  v8::Isolate* isolate = promise->GetIsolate();
  auto* self = static_cast<Impl*>(isolate->GetData(0));
  if (self == nullptr) return;
  switch (message.GetEvent()) {
    case v8::kPromiseRejectWithNoHandler: {
      v8::Local<v8::Value> value = message.GetValue();
      std::string text = to_utf8(isolate, value);
      std::string stack;
      if (!value.IsEmpty() && value->IsNativeError()) {
        v8::Local<v8::Context> context = isolate->GetCurrentContext();
        v8::Local<v8::Value> s;
        if (value.As<v8::Object>()->Get(context, str(isolate, "stack")).ToLocal(&s) &&
            s->IsString()) {
          stack = to_utf8(isolate, s);
        }
      }
      self->rejections_.push_back(
          Rejection{v8::Global<v8::Promise>(isolate, promise), std::move(text), std::move(stack)});
      break;
    }
    case v8::kPromiseHandlerAddedAfterReject:
      std::erase_if(self->rejections_, [&](const Rejection& r) { return r.promise == promise; });
      break;
    default:
      break;
  }
}

// ---- natives ---------------------------------------------------------------------------------

void Isolate::Impl::native_console(const v8::FunctionCallbackInfo<v8::Value>& info) {
  Impl* self = from(info);
  self->effects_.push_back(make_effect(Effect::Kind::kConsole, 0, 0,
                                       to_utf8(info.GetIsolate(), info[0]),
                                       to_utf8(info.GetIsolate(), info[1]), {}));
}

void Isolate::Impl::native_fill_random(const v8::FunctionCallbackInfo<v8::Value>& info) {
  Impl* self = from(info);
  if (!info[0]->IsFloat64Array()) return;
  auto array = info[0].As<v8::Float64Array>();
  auto* data =
      reinterpret_cast<double*>(static_cast<char*>(array->Buffer()->Data()) + array->ByteOffset());
  for (std::size_t i = 0; i < array->Length(); ++i) data[i] = self->rng_.uniform01();
}

void Isolate::Impl::native_random_bytes(const v8::FunctionCallbackInfo<v8::Value>& info) {
  Impl* self = from(info);
  if (!info[0]->IsArrayBufferView()) return;
  auto view = info[0].As<v8::ArrayBufferView>();
  auto* data = static_cast<unsigned char*>(view->Buffer()->Data()) + view->ByteOffset();
  std::size_t n = view->ByteLength();
  for (std::size_t i = 0; i < n; i += 8) {
    std::uint64_t r = self->rng_.next_u64();
    for (std::size_t k = 0; k < 8 && i + k < n; ++k)
      data[i + k] = static_cast<unsigned char>(r >> (8 * k));
  }
}

void Isolate::Impl::native_now_ms(const v8::FunctionCallbackInfo<v8::Value>& info) {
  Impl* self = from(info);
  info.GetReturnValue().Set(static_cast<double>(self->world_.now()) / 1e6);
}

void Isolate::Impl::native_set_timer(const v8::FunctionCallbackInfo<v8::Value>& info) {
  Impl* self = from(info);
  v8::Local<v8::Context> context = info.GetIsolate()->GetCurrentContext();
  const double delay_ms = info[0]->NumberValue(context).FromMaybe(0);
  double id = info[1]->NumberValue(context).FromMaybe(0);
  if (id <= 0) id = static_cast<double>(self->next_timer_id_++);
  const double delay_ns = delay_ms > 0 ? delay_ms * 1e6 : 0;
  self->effects_.push_back(
      make_effect(Effect::Kind::kSetTimer, static_cast<std::uint64_t>(id),
                  static_cast<sim::Duration>(delay_ns < 9e18 ? delay_ns : 9e18), {}, {}, {}));
  info.GetReturnValue().Set(id);
}

void Isolate::Impl::native_clear_timer(const v8::FunctionCallbackInfo<v8::Value>& info) {
  Impl* self = from(info);
  v8::Local<v8::Context> context = info.GetIsolate()->GetCurrentContext();
  const double id = info[0]->NumberValue(context).FromMaybe(0);
  if (id > 0) {
    self->effects_.push_back(
        make_effect(Effect::Kind::kClearTimer, static_cast<std::uint64_t>(id), 0, {}, {}, {}));
  }
}

void Isolate::Impl::native_respond(const v8::FunctionCallbackInfo<v8::Value>& info) {
  Impl* self = from(info);
  v8::Isolate* isolate = info.GetIsolate();
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  HttpResponse response;
  const double invocation = info[0]->NumberValue(context).FromMaybe(0);
  response.status = static_cast<int>(info[1]->Int32Value(context).FromMaybe(500));
  if (info[2]->IsArray()) {
    auto flat = info[2].As<v8::Array>();
    for (std::uint32_t i = 0; i + 1 < flat->Length(); i += 2) {
      v8::Local<v8::Value> k, v;
      if (!flat->Get(context, i).ToLocal(&k) || !flat->Get(context, i + 1).ToLocal(&v)) return;
      response.headers.emplace_back(to_utf8(isolate, k), to_utf8(isolate, v));
    }
  }
  response.body = std::string(bytes_of(info[3]));
  Effect& e = self->effects_.emplace_back();
  e.kind = Effect::Kind::kResponse;
  e.id = static_cast<std::uint64_t>(invocation);
  e.response = std::move(response);
}

void Isolate::Impl::native_exception(const v8::FunctionCallbackInfo<v8::Value>& info) {
  Impl* self = from(info);
  v8::Isolate* isolate = info.GetIsolate();
  const double invocation = info[0]->NumberValue(isolate->GetCurrentContext()).FromMaybe(0);
  self->effects_.push_back(make_effect(Effect::Kind::kException,
                                       static_cast<std::uint64_t>(invocation), 0,
                                       to_utf8(isolate, info[1]), to_utf8(isolate, info[2]), {}));
}

void Isolate::Impl::native_report_error(const v8::FunctionCallbackInfo<v8::Value>& info) {
  Impl* self = from(info);
  v8::Isolate* isolate = info.GetIsolate();
  self->effects_.push_back(make_effect(Effect::Kind::kUncaught, 0, 0, to_utf8(isolate, info[0]),
                                       to_utf8(isolate, info[1]), to_utf8(isolate, info[2])));
}

namespace {
std::uint64_t invocation_arg(const v8::FunctionCallbackInfo<v8::Value>& info) {
  const double id = info[0]->NumberValue(info.GetIsolate()->GetCurrentContext()).FromMaybe(0);
  return id > 0 ? static_cast<std::uint64_t>(id) : 0;
}
}  // namespace

void Isolate::Impl::native_wait_until(const v8::FunctionCallbackInfo<v8::Value>& info) {
  from(info)->effects_.push_back(
      make_effect(Effect::Kind::kWaitUntil, invocation_arg(info), 0, {}, {}, {}));
}

// (invocation, ok, message, stack)
void Isolate::Impl::native_wait_until_settled(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  Effect e = make_effect(Effect::Kind::kWaitUntilSettled, invocation_arg(info), 0,
                         to_utf8(isolate, info[2]), to_utf8(isolate, info[3]), {});
  e.ok = info[1]->IsTrue();
  from(info)->effects_.push_back(std::move(e));
}

void Isolate::Impl::native_pass_through(const v8::FunctionCallbackInfo<v8::Value>& info) {
  from(info)->effects_.push_back(
      make_effect(Effect::Kind::kPassThrough, invocation_arg(info), 0, {}, {}, {}));
}

// (invocation, ok, noRetry, message, stack)
void Isolate::Impl::native_event_done(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  Effect e = make_effect(Effect::Kind::kEventDone, invocation_arg(info), 0,
                         to_utf8(isolate, info[3]), to_utf8(isolate, info[4]), {});
  e.ok = info[1]->IsTrue();
  e.no_retry = info[2]->IsTrue();
  from(info)->effects_.push_back(std::move(e));
}

// (invocation, ok, bytes, message): bytes is the structured clone of the result, or of the error
void Isolate::Impl::native_actor_reply(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  Effect& e = from(info)->effects_.emplace_back();
  e.kind = Effect::Kind::kActorReply;
  e.id = invocation_arg(info);
  e.reply.ok = info[1]->IsTrue();
  if (e.reply.ok) {
    e.reply.bytes = std::string(bytes_of(info[2]));
    e.reply.has_bytes = true;
  } else {
    e.reply.error_clone = std::string(bytes_of(info[2]));
    e.reply.error_message = to_utf8(isolate, info[3]);
  }
}

// (invocation, JSON [{id, ack, delaySeconds}])
void Isolate::Impl::native_queue_outcomes(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  Effect& e = from(info)->effects_.emplace_back();
  e.kind = Effect::Kind::kQueueOutcomes;
  e.id = invocation_arg(info);
  v8::Local<v8::Value> parsed;
  if (!info[1]->IsString() ||
      !v8::JSON::Parse(context, info[1].As<v8::String>()).ToLocal(&parsed) || !parsed->IsArray()) {
    return;
  }
  auto list = parsed.As<v8::Array>();
  for (std::uint32_t i = 0; i < list->Length(); ++i) {
    v8::Local<v8::Value> item;
    if (!list->Get(context, i).ToLocal(&item) || !item->IsObject()) continue;
    auto o = item.As<v8::Object>();
    QueueOutcome out;
    v8::Local<v8::Value> v;
    if (o->Get(context, str(isolate, "id")).ToLocal(&v)) out.id = to_utf8(isolate, v);
    if (o->Get(context, str(isolate, "ack")).ToLocal(&v)) out.ack = v->IsTrue();
    if (o->Get(context, str(isolate, "delaySeconds")).ToLocal(&v)) {
      out.delay_seconds = v->NumberValue(context).FromMaybe(-1);
    }
    e.outcomes.push_back(std::move(out));
  }
}

void Isolate::Impl::native_utf8_encode(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  v8::Local<v8::String> s;
  if (!info[0]->ToString(isolate->GetCurrentContext()).ToLocal(&s)) return;
  const int length = s->Utf8Length(isolate);
  v8::Local<v8::ArrayBuffer> buffer =
      v8::ArrayBuffer::New(isolate, static_cast<std::size_t>(length));
  if (length > 0) {
    s->WriteUtf8(isolate, static_cast<char*>(buffer->Data()), length, nullptr,
                 v8::String::NO_NULL_TERMINATION | v8::String::REPLACE_INVALID_UTF8);
  }
  info.GetReturnValue().Set(v8::Uint8Array::New(buffer, 0, static_cast<std::size_t>(length)));
}

void Isolate::Impl::native_utf8_decode(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  const std::string_view bytes = bytes_of(info[0]);
  if (info[1]->IsTrue() && !valid_utf8(bytes)) {
    info.GetReturnValue().SetNull();
    return;
  }
  v8::Local<v8::String> s;
  if (v8::String::NewFromUtf8(isolate, bytes.data(), v8::NewStringType::kNormal,
                              static_cast<int>(bytes.size()))
          .ToLocal(&s)) {
    info.GetReturnValue().Set(s);
  }
}

void Isolate::Impl::native_clone(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  v8::ValueSerializer serializer(isolate);
  serializer.WriteHeader();
  if (!serializer.WriteValue(context, info[0]).FromMaybe(false)) return;  // threw DataCloneError
  std::pair<std::uint8_t*, std::size_t> data = serializer.Release();
  v8::ValueDeserializer deserializer(isolate, data.first, data.second);
  v8::Local<v8::Value> copy;
  if (deserializer.ReadHeader(context).FromMaybe(false) &&
      deserializer.ReadValue(context).ToLocal(&copy)) {
    info.GetReturnValue().Set(copy);
  }
  std::free(data.first);
}

// ---- modules ---------------------------------------------------------------------------------

std::string Isolate::Impl::resolve(std::string_view referrer, std::string_view specifier) const {
  if (specifier == "cloudflare:workers" || specifier == "cloudflare:workflows") {
    return std::string(specifier);
  }
  const bool relative =
      specifier.starts_with("./") || specifier.starts_with("../") || specifier.starts_with("/");
  const std::string base = relative ? join_path(referrer, specifier) : std::string(specifier);
  if (base.empty()) return "";
  for (const char* suffix : {"", ".js", ".mjs"}) {
    std::string candidate = base + suffix;
    if (sources_.count(candidate) != 0) return candidate;
  }
  return "";
}

Isolate::Impl::ModuleRecord* Isolate::Impl::find_module(v8::Local<v8::Module> module) {
  for (ModuleRecord& r : modules_) {
    if (r.module == module) return &r;
  }
  return nullptr;
}

Isolate::Impl::ModuleRecord* Isolate::Impl::find_module(std::string_view path) {
  for (ModuleRecord& r : modules_) {
    if (r.path == path) return &r;
  }
  return nullptr;
}

std::string Isolate::Impl::describe(v8::Local<v8::Context> context, v8::Local<v8::Value> exception,
                                    v8::Local<v8::Message> message) {
  std::string where;
  if (message.IsEmpty() && !exception.IsEmpty()) {
    // Not thrown in a TryCatch of ours (e.g. a rejected evaluation promise): the stack trace the
    // error captured when it was thrown knows the place.
    v8::Local<v8::StackTrace> trace = v8::Exception::GetStackTrace(exception);
    if (!trace.IsEmpty() && trace->GetFrameCount() > 0) {
      v8::Local<v8::StackFrame> top = trace->GetFrame(isolate_, 0);
      return to_utf8(isolate_, top->GetScriptName()) + ":" + std::to_string(top->GetLineNumber()) +
             ": " + to_utf8(isolate_, exception);
    }
    message = v8::Exception::CreateMessage(isolate_, exception);
  }
  if (!message.IsEmpty()) {
    where = to_utf8(isolate_, message->GetScriptResourceName()) + ":" +
            std::to_string(message->GetLineNumber(context).FromMaybe(0)) + ": ";
  }
  return where + to_utf8(isolate_, exception);
}

sim::Status Isolate::Impl::compile_module(v8::Local<v8::Context> context, const std::string& path) {
  if (find_module(path) != nullptr) return sim::Status::Ok();
  const ModuleKind kind = module_kind(path);
  std::string_view source;
  if (kind != ModuleKind::kBuiltin) source = sources_.at(path);
  if (kind != ModuleKind::kEs) return compile_synthetic(context, path, kind, source);
  v8::TryCatch tc(isolate_);
  v8::ScriptOrigin origin(isolate_, str(isolate_, path), 0, 0, false, -1, v8::Local<v8::Value>(),
                          false, false, /*is_module=*/true);
  v8::ScriptCompiler::Source src(str(isolate_, source), origin);
  v8::Local<v8::Module> module;
  if (!v8::ScriptCompiler::CompileModule(isolate_, &src).ToLocal(&module)) {
    if (tc.HasTerminated()) return sim::Error{sim::ErrorKind::kInvalid, "terminated"};
    return sim::Error{sim::ErrorKind::kInvalid, describe(context, tc.Exception(), tc.Message())};
  }
  modules_.push_back(ModuleRecord{path, kind, v8::Global<v8::Module>(isolate_, module), {}});
  v8::Local<v8::FixedArray> requests = module->GetModuleRequests();
  for (int i = 0; i < requests->Length(); ++i) {
    auto request = requests->Get(context, i).As<v8::ModuleRequest>();
    const std::string specifier = to_utf8(isolate_, request->GetSpecifier());
    const std::string target = resolve(path, specifier);
    if (target.empty()) {
      v8::Location loc = module->SourceOffsetToLocation(request->GetSourceOffset());
      return sim::Error{sim::ErrorKind::kInvalid, path + ":" +
                                                      std::to_string(loc.GetLineNumber() + 1) +
                                                      ": Error: No such module \"" + specifier +
                                                      "\" (imported from " + path + ")"};
    }
    sim::Status s = compile_module(context, target);
    if (!s.ok()) return s;
  }
  return sim::Status::Ok();
}

// Text, Data, JSON and built-in modules: their exports are made now (so that a JSON syntax error is
// a load error with its place) and set when V8 evaluates the module.
sim::Status Isolate::Impl::compile_synthetic(v8::Local<v8::Context> context,
                                             const std::string& path, ModuleKind kind,
                                             std::string_view source) {
  std::vector<v8::Local<v8::String>> names;
  v8::Local<v8::Value> value;
  switch (kind) {
    case ModuleKind::kBuiltin: {
      v8::Local<v8::Object> exports;
      if (path == "cloudflare:workers") {
        exports = builtin_workers_.Get(isolate_);
      } else if (path == "cloudflare:workflows") {
        exports = builtin_workflows_.Get(isolate_);
      } else {
        return sim::Error{sim::ErrorKind::kInvalid, "No such module \"" + path + "\""};
      }
      v8::Local<v8::Array> keys = exports->GetOwnPropertyNames(context).ToLocalChecked();
      for (std::uint32_t i = 0; i < keys->Length(); ++i) {
        names.push_back(keys->Get(context, i).ToLocalChecked().As<v8::String>());
      }
      value = exports;
      break;
    }
    case ModuleKind::kText:
      value = str(isolate_, source);
      break;
    case ModuleKind::kData: {
      v8::Local<v8::ArrayBuffer> buffer = v8::ArrayBuffer::New(isolate_, source.size());
      if (!source.empty()) std::memcpy(buffer->Data(), source.data(), source.size());
      value = buffer;
      break;
    }
    case ModuleKind::kJson: {
      v8::TryCatch tc(isolate_);
      if (!v8::JSON::Parse(context, str(isolate_, source)).ToLocal(&value)) {
        if (tc.HasTerminated()) return sim::Error{sim::ErrorKind::kInvalid, "terminated"};
        // V8 says "... in JSON at position N": name the line of N.
        const std::string what = to_utf8(isolate_, tc.Exception());
        int line = 1;
        const std::size_t at = what.rfind("at position ");
        if (at != std::string::npos) {
          const std::size_t pos = std::strtoull(what.c_str() + at + 12, nullptr, 10);
          for (std::size_t i = 0; i < pos && i < source.size(); ++i) line += source[i] == '\n';
        }
        return sim::Error{sim::ErrorKind::kInvalid,
                          path + ":" + std::to_string(line) + ": " + what};
      }
      break;
    }
    case ModuleKind::kEs:
      SIM_ASSERT(false);
  }
  if (kind != ModuleKind::kBuiltin) names.push_back(str(isolate_, "default"));
  v8::Local<v8::Module> module = v8::Module::CreateSyntheticModule(
      isolate_, str(isolate_, path), names, &Impl::evaluate_synthetic);
  modules_.push_back(ModuleRecord{path, kind, v8::Global<v8::Module>(isolate_, module),
                                  v8::Global<v8::Value>(isolate_, value)});
  return sim::Status::Ok();
}

v8::MaybeLocal<v8::Value> Isolate::Impl::evaluate_synthetic(v8::Local<v8::Context> context,
                                                            v8::Local<v8::Module> module) {
  v8::Isolate* isolate = context->GetIsolate();
  auto* self = static_cast<Impl*>(isolate->GetData(0));
  ModuleRecord* record = self->find_module(module);
  SIM_ASSERT(record != nullptr);
  v8::Local<v8::Value> value = record->value.Get(isolate);
  if (record->kind == ModuleKind::kBuiltin) {
    auto exports = value.As<v8::Object>();
    v8::Local<v8::Array> keys;
    if (!exports->GetOwnPropertyNames(context).ToLocal(&keys)) return {};
    for (std::uint32_t i = 0; i < keys->Length(); ++i) {
      v8::Local<v8::Value> key;
      v8::Local<v8::Value> v;
      if (!keys->Get(context, i).ToLocal(&key) || !exports->Get(context, key).ToLocal(&v) ||
          !module->SetSyntheticModuleExport(isolate, key.As<v8::String>(), v).FromMaybe(false)) {
        return {};
      }
    }
  } else if (!module->SetSyntheticModuleExport(isolate, str(isolate, "default"), value)
                  .FromMaybe(false)) {
    return {};
  }
  v8::Local<v8::Promise::Resolver> done;
  if (!v8::Promise::Resolver::New(context).ToLocal(&done) ||
      done->Resolve(context, v8::Undefined(isolate)).IsNothing()) {
    return {};
  }
  return done->GetPromise();
}

// import(specifier) from a module or script named `resource_name`: compiles, links and evaluates
// the target (a module of the map or a built-in), and settles with its namespace.
v8::MaybeLocal<v8::Promise> Isolate::Impl::import_dynamic(v8::Local<v8::Context> context,
                                                          v8::Local<v8::Data> host_defined_options,
                                                          v8::Local<v8::Value> resource_name,
                                                          v8::Local<v8::String> specifier,
                                                          v8::Local<v8::FixedArray> assertions) {
  v8::Isolate* isolate = context->GetIsolate();
  auto* self = static_cast<Impl*>(isolate->GetData(0));
  v8::Local<v8::Promise::Resolver> failed;
  if (!v8::Promise::Resolver::New(context).ToLocal(&failed)) return {};
  const std::string referrer = to_utf8(isolate, resource_name);
  const std::string spec = to_utf8(isolate, specifier);
  auto reject = [&](v8::Local<v8::Value> error) -> v8::MaybeLocal<v8::Promise> {
    if (failed->Reject(context, error).IsNothing()) return {};
    return failed->GetPromise();
  };
  const std::string target = self->resolve(referrer, spec);
  if (target.empty()) {
    return reject(v8::Exception::Error(
        str(isolate, "No such module \"" + spec + "\" (imported from " + referrer + ")")));
  }
  v8::TryCatch tc(isolate);
  sim::Status status = self->compile_module(context, target);
  if (tc.HasTerminated()) return {};
  if (!status.ok()) return reject(v8::Exception::Error(str(isolate, status.error().message)));
  v8::Local<v8::Module> module = self->find_module(target)->module.Get(isolate);
  v8::Local<v8::Value> evaluation;
  if (!module->InstantiateModule(context, &Impl::resolve_callback).FromMaybe(false) ||
      !module->Evaluate(context).ToLocal(&evaluation)) {
    if (tc.HasTerminated() || !tc.HasCaught()) return {};
    return reject(tc.Exception());
  }
  v8::Local<v8::Value> argv[] = {evaluation, module->GetModuleNamespace()};
  v8::Local<v8::Value> result;
  if (!self->after_evaluation_.Get(isolate)
           ->Call(context, v8::Undefined(isolate), 2, argv)
           .ToLocal(&result) ||
      !result->IsPromise()) {
    if (tc.HasTerminated() || !tc.HasCaught()) return {};
    return reject(tc.Exception());
  }
  return result.As<v8::Promise>();
}

sim::Status Isolate::Impl::set_env(v8::Local<v8::Context> context, const Env& env) {
  const int n = static_cast<int>(env.size());
  v8::Local<v8::Array> names = v8::Array::New(isolate_, n);
  v8::Local<v8::Array> kinds = v8::Array::New(isolate_, n);
  v8::Local<v8::Array> values = v8::Array::New(isolate_, n);
  std::uint32_t i = 0;
  for (const auto& [name, binding] : env) {
    names->Set(context, i, str(isolate_, name)).Check();
    kinds
        ->Set(context, i,
              str(isolate_, binding.kind == BindingValue::Kind::kJson      ? "json"
                            : binding.kind == BindingValue::Kind::kService ? "service"
                                                                           : "text"))
        .Check();
    values->Set(context, i, str(isolate_, binding.value)).Check();
    ++i;
  }
  v8::TryCatch tc(isolate_);
  v8::Local<v8::Value> argv[] = {names, kinds, values};
  if (set_env_.Get(isolate_)->Call(context, v8::Undefined(isolate_), 3, argv).IsEmpty()) {
    if (tc.HasTerminated()) return sim::Error{sim::ErrorKind::kInvalid, "terminated"};
    return sim::Error{sim::ErrorKind::kInvalid, to_utf8(isolate_, tc.Exception())};
  }
  return sim::Status::Ok();
}

v8::MaybeLocal<v8::Module> Isolate::Impl::resolve_callback(v8::Local<v8::Context> context,
                                                           v8::Local<v8::String> specifier,
                                                           v8::Local<v8::FixedArray> assertions,
                                                           v8::Local<v8::Module> referrer) {
  v8::Isolate* isolate = context->GetIsolate();
  auto* self = static_cast<Impl*>(isolate->GetData(0));
  ModuleRecord* from = self->find_module(referrer);
  const std::string spec = to_utf8(isolate, specifier);
  ModuleRecord* to = from != nullptr ? self->find_module(self->resolve(from->path, spec)) : nullptr;
  if (to == nullptr) {
    isolate->ThrowException(v8::Exception::Error(str(isolate, "No such module \"" + spec + "\"")));
    return {};
  }
  return to->module.Get(isolate);
}

sim::Status Isolate::Impl::load(const ModuleMap& modules, std::string_view main,
                                RunOutcome* outcome, const Env& env) {
  if (modules.count(std::string(main)) == 0) {
    if (outcome != nullptr) *outcome = RunOutcome::kOk;
    return sim::Error{sim::ErrorKind::kInvalid,
                      "main module \"" + std::string(main) + "\" is not among the modules"};
  }
  sim::Status status;
  sources_ = modules;
  // Errors thrown while loading remember where they were thrown, so that an exception that
  // surfaces later (a module evaluation promise) still names its file and line. Only while
  // loading (perf): with it on, every `new Error` captures a detailed stack trace, which was a
  // third of a hello-world request's time.
  isolate_->SetCaptureStackTraceForUncaughtExceptions(true, 10);
  starting_ = true;  // the startup CPU limit applies to this run
  const RunOutcome o = run([&](v8::Local<v8::Context> context) {
    status = set_env(context, env);
    if (!status.ok()) return;
    status = compile_module(context, std::string(main));
    if (!status.ok()) return;
    v8::Local<v8::Module> module = find_module(main)->module.Get(isolate_);
    v8::TryCatch tc(isolate_);
    if (!module->InstantiateModule(context, &Impl::resolve_callback).FromMaybe(false)) {
      status =
          sim::Error{sim::ErrorKind::kInvalid, describe(context, tc.Exception(), tc.Message())};
      return;
    }
    v8::Local<v8::Value> result;
    if (!module->Evaluate(context).ToLocal(&result)) {
      if (!tc.HasTerminated()) {
        status =
            sim::Error{sim::ErrorKind::kInvalid, describe(context, tc.Exception(), tc.Message())};
      }
      return;
    }
    isolate_->PerformMicrotaskCheckpoint();
    if (module->GetStatus() == v8::Module::kErrored) {
      v8::Local<v8::Value> exception = module->GetException();
      status = sim::Error{sim::ErrorKind::kInvalid, describe(context, exception, {})};
      // The evaluation promise rejected too; that is this error, not an unhandled one.
      rejections_.clear();
      return;
    }
    if (result->IsPromise() &&
        result.As<v8::Promise>()->State() == v8::Promise::PromiseState::kPending) {
      status = sim::Error{sim::ErrorKind::kInvalid,
                          std::string(main) + ": top-level await did not settle while loading"};
      return;
    }
    main_namespace_.Reset(isolate_, module->GetModuleNamespace().As<v8::Object>());
  });
  isolate_->SetCaptureStackTraceForUncaughtExceptions(false);
  if (outcome != nullptr) *outcome = o;
  if (o != RunOutcome::kOk) {
    return sim::Error{sim::ErrorKind::kOverloaded,
                      std::string("loading the worker ") + run_outcome_name(o)};
  }
  return status;
}

RunOutcome Isolate::Impl::fetch(std::uint64_t invocation, const HttpRequest& request,
                                std::string_view entrypoint) {
  SIM_REQUIRE(!main_namespace_.IsEmpty());
  return run([&](v8::Local<v8::Context> context) {
    v8::Local<v8::Array> flat =
        v8::Array::New(isolate_, static_cast<int>(2 * request.headers.size()));
    std::uint32_t i = 0;
    for (const auto& [name, value] : request.headers) {
      flat->Set(context, i++, str(isolate_, name)).Check();
      flat->Set(context, i++, str(isolate_, value)).Check();
    }
    v8::Local<v8::Value> body = v8::Null(isolate_);
    if (!request.body.empty()) {
      v8::Local<v8::ArrayBuffer> buffer = v8::ArrayBuffer::New(isolate_, request.body.size());
      std::memcpy(buffer->Data(), request.body.data(), request.body.size());
      body = v8::Uint8Array::New(buffer, 0, request.body.size());
    }
    v8::Local<v8::Value> argv[] = {
        v8::Number::New(isolate_, static_cast<double>(invocation)),
        main_namespace_.Get(isolate_),
        str(isolate_, entrypoint),
        str(isolate_, request.method),
        str(isolate_, request.url),
        flat,
        body,
    };
    v8::TryCatch tc(isolate_);
    // dispatchFetch catches everything it can; what escapes is a termination.
    v8::MaybeLocal<v8::Value> ignored =
        dispatch_fetch_.Get(isolate_)->Call(context, v8::Undefined(isolate_), 7, argv);
    (void)ignored;
  });
}

RunOutcome Isolate::Impl::scheduled(std::uint64_t invocation, const ScheduledEvent& event,
                                    std::string_view entrypoint) {
  SIM_REQUIRE(!main_namespace_.IsEmpty());
  return run([&](v8::Local<v8::Context> context) {
    v8::Local<v8::Value> argv[] = {
        v8::Number::New(isolate_, static_cast<double>(invocation)),
        main_namespace_.Get(isolate_),
        str(isolate_, entrypoint),
        str(isolate_, event.cron),
        v8::Number::New(
            isolate_, kEpochUnixMs + static_cast<double>(event.scheduled_time / sim::kMillisecond)),
    };
    v8::TryCatch tc(isolate_);
    // dispatchScheduled catches everything it can; what escapes is a termination.
    v8::MaybeLocal<v8::Value> ignored =
        dispatch_scheduled_.Get(isolate_)->Call(context, v8::Undefined(isolate_), 5, argv);
    (void)ignored;
  });
}

RunOutcome Isolate::Impl::queue(std::uint64_t invocation, const QueueBatch& batch,
                                std::string_view entrypoint) {
  SIM_REQUIRE(!main_namespace_.IsEmpty());
  return run([&](v8::Local<v8::Context> context) {
    v8::TryCatch tc(isolate_);
    v8::Local<v8::Array> messages =
        v8::Array::New(isolate_, static_cast<int>(batch.messages.size()));
    for (std::uint32_t i = 0; i < batch.messages.size(); ++i) {
      const QueueMessage& m = batch.messages[i];
      v8::Local<v8::Value> body;
      if (!m.body_clone.empty()) {
        if (!BindingNatives::deserialize(context, m.body_clone).ToLocal(&body)) return;
      } else if (!v8::JSON::Parse(context,
                                  str(isolate_, m.body_json.empty() ? "null" : m.body_json))
                      .ToLocal(&body)) {
        return;
      }
      v8::Local<v8::Object> o = v8::Object::New(isolate_);
      o->Set(context, str(isolate_, "id"), str(isolate_, m.id)).Check();
      o->Set(context, str(isolate_, "timestamp"),
             v8::Number::New(isolate_,
                             kEpochUnixMs + static_cast<double>(m.timestamp / sim::kMillisecond)))
          .Check();
      o->Set(context, str(isolate_, "body"), body).Check();
      o->Set(context, str(isolate_, "attempts"), v8::Number::New(isolate_, m.attempts)).Check();
      messages->Set(context, i, o).Check();
    }
    v8::Local<v8::Value> argv[] = {
        v8::Number::New(isolate_, static_cast<double>(invocation)),
        main_namespace_.Get(isolate_),
        str(isolate_, entrypoint),
        str(isolate_, batch.queue),
        messages,
    };
    // dispatchQueue catches everything it can; what escapes is a termination.
    v8::MaybeLocal<v8::Value> ignored =
        dispatch_queue_.Get(isolate_)->Call(context, v8::Undefined(isolate_), 5, argv);
    (void)ignored;
  });
}

RunOutcome Isolate::Impl::fire_timer(std::uint64_t timer_id) {
  return run([&](v8::Local<v8::Context> context) {
    v8::Local<v8::Value> argv[] = {v8::Number::New(isolate_, static_cast<double>(timer_id))};
    v8::TryCatch tc(isolate_);
    v8::MaybeLocal<v8::Value> ignored =
        fire_timer_.Get(isolate_)->Call(context, v8::Undefined(isolate_), 1, argv);
    (void)ignored;
  });
}

RunOutcome Isolate::Impl::actor_event(std::uint64_t invocation, const ActorEvent& event) {
  SIM_REQUIRE(!main_namespace_.IsEmpty());
  return run([&](v8::Local<v8::Context> context) {
    const HttpRequest& request = event.request;
    v8::Local<v8::Array> flat =
        v8::Array::New(isolate_, static_cast<int>(2 * request.headers.size()));
    std::uint32_t i = 0;
    for (const auto& [name, value] : request.headers) {
      flat->Set(context, i++, str(isolate_, name)).Check();
      flat->Set(context, i++, str(isolate_, value)).Check();
    }
    v8::Local<v8::Value> body = v8::Null(isolate_);
    if (!request.body.empty()) body = new_buffer(isolate_, request.body);
    const char* kind = "alarm";
    switch (event.kind) {
      case ActorEvent::Kind::kFetch:
        kind = "fetch";
        break;
      case ActorEvent::Kind::kRpc:
        kind = "rpc";
        break;
      case ActorEvent::Kind::kAlarm:
        break;
      case ActorEvent::Kind::kSocketMessage:
        kind = "wsmessage";
        break;
      case ActorEvent::Kind::kSocketClose:
        kind = "wsclose";
        break;
    }
    v8::Local<v8::Value> argv[] = {
        v8::Number::New(isolate_, static_cast<double>(invocation)),
        main_namespace_.Get(isolate_),
        str(isolate_, event.class_name),
        str(isolate_, event.id_hex),
        str(isolate_, event.name),
        str(isolate_, kind),
        str(isolate_, request.method),
        str(isolate_, request.url),
        flat,
        body,
        str(isolate_, event.method),
        new_buffer(isolate_, event.args),
        v8::Number::New(isolate_, event.retry_count),
        str(isolate_, event.socket),
        v8::Boolean::New(isolate_, event.socket_text),
        v8::Number::New(isolate_, event.close_code),
        str(isolate_, event.close_reason),
        v8::Boolean::New(isolate_, event.close_clean),
    };
    v8::TryCatch tc(isolate_);
    // dispatchActor catches everything it can; what escapes is a termination.
    v8::MaybeLocal<v8::Value> ignored = dispatch_actor_.Get(isolate_)->Call(
        context, v8::Undefined(isolate_), static_cast<int>(std::size(argv)), argv);
    (void)ignored;
  });
}

RunOutcome Isolate::Impl::reset_actors() {
  return run([&](v8::Local<v8::Context> context) {
    v8::TryCatch tc(isolate_);
    v8::MaybeLocal<v8::Value> ignored =
        reset_actors_.Get(isolate_)->Call(context, v8::Undefined(isolate_), 0, nullptr);
    (void)ignored;
  });
}

sim::Result<std::string> Isolate::Impl::call_export(std::string_view name,
                                                    const std::vector<std::string>& args,
                                                    RunOutcome* outcome) {
  SIM_REQUIRE(!main_namespace_.IsEmpty());
  sim::Result<std::string> result = std::string();
  const RunOutcome o = run([&](v8::Local<v8::Context> context) {
    v8::TryCatch tc(isolate_);
    auto fail = [&](std::string message) {
      result = sim::Error{sim::ErrorKind::kRemote, std::move(message)};
    };
    v8::Local<v8::Value> fn;
    if (!main_namespace_.Get(isolate_)->Get(context, str(isolate_, name)).ToLocal(&fn) ||
        !fn->IsFunction()) {
      fail("the module exports no function " + std::string(name));
      return;
    }
    std::vector<v8::Local<v8::Value>> argv;
    for (const std::string& a : args) {
      v8::Local<v8::Value> v;
      if (!v8::JSON::Parse(context, str(isolate_, a)).ToLocal(&v)) {
        fail(tc.HasTerminated() ? "terminated" : to_utf8(isolate_, tc.Exception()));
        return;
      }
      argv.push_back(v);
    }
    v8::Local<v8::Value> out;
    if (!fn.As<v8::Function>()
             ->Call(context, v8::Undefined(isolate_), static_cast<int>(argv.size()), argv.data())
             .ToLocal(&out)) {
      fail(tc.HasTerminated() ? "terminated" : to_utf8(isolate_, tc.Exception()));
      return;
    }
    if (out->IsPromise()) {
      fail(std::string(name) + " returned a Promise: it must be synchronous");
      return;
    }
    if (out->IsUndefined()) {
      result = std::string("undefined");
      return;
    }
    v8::Local<v8::String> text;
    if (!v8::JSON::Stringify(context, out).ToLocal(&text)) {
      fail(tc.HasTerminated() ? "terminated" : to_utf8(isolate_, tc.Exception()));
      return;
    }
    result = to_utf8(isolate_, text);
  });
  if (outcome != nullptr) *outcome = o;
  if (o != RunOutcome::kOk) return sim::Error{sim::ErrorKind::kOverloaded, run_outcome_name(o)};
  return result;
}

sim::Result<std::string> Isolate::Impl::eval(std::string_view source, RunOutcome* outcome) {
  sim::Result<std::string> result = std::string();
  const RunOutcome o = run([&](v8::Local<v8::Context> context) {
    v8::TryCatch tc(isolate_);
    v8::ScriptOrigin origin(isolate_, str(isolate_, "eval.js"));
    v8::Local<v8::Script> script;
    v8::Local<v8::Value> value;
    if (!v8::Script::Compile(context, str(isolate_, source), &origin).ToLocal(&script) ||
        !script->Run(context).ToLocal(&value)) {
      result = sim::Error{sim::ErrorKind::kRemote,
                          tc.HasTerminated() ? "terminated" : to_utf8(isolate_, tc.Exception())};
      return;
    }
    result = to_utf8(isolate_, value);
  });
  if (outcome != nullptr) *outcome = o;
  if (o != RunOutcome::kOk) return sim::Error{sim::ErrorKind::kOverloaded, run_outcome_name(o)};
  return result;
}

// ---- Isolate ---------------------------------------------------------------------------------

std::unique_ptr<Isolate> Isolate::create(const sim::World& world, IsolateConfig config,
                                         sim::Rng rng, IsolateHost* host) {
  SIM_REQUIRE(Engine::initialized());
  SIM_REQUIRE(host != nullptr);
  auto impl = std::make_unique<Impl>(world, std::move(config), rng, host);
  if (!impl->create()) {
    // The prelude is ours: failing to set it up is a bug here, not in user code.
    std::fprintf(stderr, "edgesim: creating an isolate failed: %s\n", impl->create_error().c_str());
    SIM_ASSERT(false);
  }
  return std::unique_ptr<Isolate>(new Isolate(std::move(impl)));
}

Isolate::Isolate(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Isolate::~Isolate() = default;

sim::Status Isolate::load(const ModuleMap& modules, std::string_view main, RunOutcome* outcome,
                          const Env& env) {
  return impl_->load(modules, main, outcome, env);
}
RunOutcome Isolate::fetch(std::uint64_t invocation, const HttpRequest& request,
                          std::string_view entrypoint) {
  return impl_->fetch(invocation, request, entrypoint);
}
RunOutcome Isolate::scheduled(std::uint64_t invocation, const ScheduledEvent& event,
                              std::string_view entrypoint) {
  return impl_->scheduled(invocation, event, entrypoint);
}
RunOutcome Isolate::fire_timer(std::uint64_t timer_id) { return impl_->fire_timer(timer_id); }
RunOutcome Isolate::queue(std::uint64_t invocation, const QueueBatch& batch,
                          std::string_view entrypoint) {
  return impl_->queue(invocation, batch, entrypoint);
}
RunOutcome Isolate::settle_fetch(std::uint64_t fetch_id,
                                 const sim::Result<HttpResponse>& result) {  // web APIs
  return impl_->settle_fetch(fetch_id, result);
}
RunOutcome Isolate::settle_call(std::uint64_t call_id, const CallReply& reply) {  // bindings
  return impl_->settle_call(call_id, reply);
}
RunOutcome Isolate::actor_event(std::uint64_t invocation, const ActorEvent& event) {
  return impl_->actor_event(invocation, event);
}
RunOutcome Isolate::reset_actors() { return impl_->reset_actors(); }
sim::Result<std::string> Isolate::eval(std::string_view source, RunOutcome* outcome) {
  return impl_->eval(source, outcome);
}
sim::Result<std::string> Isolate::call_export(std::string_view name,
                                              const std::vector<std::string>& args,
                                              RunOutcome* outcome) {
  return impl_->call_export(name, args, outcome);
}
bool Isolate::dead() const { return impl_->dead(); }
bool Isolate::from_snapshot() const { return impl_->from_snapshot(); }
const IsolateConfig& Isolate::config() const { return impl_->config(); }
std::size_t Isolate::heap_used_bytes() const { return impl_->heap_used_bytes(); }

}  // namespace js
