#include "platform/js/isolate.h"

#include <v8-array-buffer.h>
#include <v8-container.h>
#include <v8-context.h>
#include <v8-exception.h>
#include <v8-external.h>
#include <v8-function.h>
#include <v8-initialization.h>
#include <v8-isolate.h>
#include <v8-json.h>
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
#include <v8.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

#include "platform/js/engine.h"
#include "platform/js/isolate_impl.h"
#include "platform/js/sim_platform.h"
#include "platform/js/v8_util.h"
#include "platform/js/watchdog.h"
#include "sim/assert.h"
#include "sim/world.h"

namespace js {

std::string run_prelude_in(v8::Isolate* isolate, v8::Local<v8::Context> context);

namespace {
// Heap room granted past the limit so that a terminated run can unwind.
constexpr std::size_t kHeapUnwindBytes = 32u << 20;
constexpr std::size_t kLargestObjectBytes = std::size_t{5} << 28;  // 1.25 GiB
}  // namespace

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

Isolate::Impl::~Impl() {
  if (isolate_ == nullptr) return;
  SIM_ASSERT(!in_run_);
  modules_.clear();
  rejections_.clear();
  main_namespace_.Reset();
  entries_.clear();
  builtins_.Reset();
  after_evaluation_.Reset();
  fire_timer_.Reset();
  array_prototype_.Reset();
  object_prototype_.Reset();
  settle_fetch_.Reset();  // web APIs
  if (calls_ != nullptr) calls_->clear();
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
  // As in workerd: Atomics.wait throws ("cannot be called in this context") instead of blocking
  // the one thread forever, and WebAssembly is compiled from bytes only while the modules
  // evaluate (startup), never while a request runs.
  isolate_->SetAllowAtomicsWait(false);
  isolate_->SetAllowWasmCodeGenerationCallback(
      [](v8::Local<v8::Context> context, v8::Local<v8::String>) {
        return static_cast<Impl*>(context->GetIsolate()->GetData(0))->loading_;
      });
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

void Isolate::Impl::add_natives(v8::Local<v8::Context> context, v8::Local<v8::Object> natives,
                                NativeList list) {
  v8::Local<v8::External> self = v8::External::New(isolate_, this);
  for (const auto& [name, cb] : list) {
    v8::Local<v8::Function> fn =
        v8::Function::New(context, cb, self, 0, v8::ConstructorBehavior::kThrow)
            .ToLocalChecked();  // lint: allow-v8-checked (before any Worker code runs)
    (void)define_property(context, natives, str(isolate_, name), fn);
  }
}

bool Isolate::Impl::install_natives(v8::Local<v8::Context> context) {
  v8::Local<v8::Object> natives = v8::Object::New(isolate_);
  {
    v8::Local<v8::Object> array = v8::Array::New(isolate_, 0);
    v8::Local<v8::Value> proto = array->GetPrototype();
    if (proto->IsObject()) {
      array_prototype_.Reset(isolate_, proto.As<v8::Object>());
      v8::Local<v8::Value> object_proto = proto.As<v8::Object>()->GetPrototype();
      if (object_proto->IsObject())
        object_prototype_.Reset(isolate_, object_proto.As<v8::Object>());
    }
  }
  add_natives(context, natives,
              {{"console", &Impl::native_console},
               {"fillRandom", &Impl::native_fill_random},
               {"randomBytes", &Impl::native_random_bytes},
               {"nowMs", &Impl::native_now_ms},
               {"setTimer", &Impl::native_set_timer},
               {"clearTimer", &Impl::native_clear_timer},
               {"respond", &Impl::native_respond},
               {"indexFree", &Impl::native_index_free},
               {"signal", &Impl::native_signal},
               {"reportError", &Impl::native_report_error},
               {"utf8Encode", &Impl::native_utf8_encode},
               {"utf8Decode", &Impl::native_utf8_decode},
               {"clone", &Impl::native_clone}});
  // Web APIs: an outbound fetch is an effect, like a timer.
  web_ = std::make_unique<WebNatives>([this](std::uint64_t id, HttpRequest request) {
    Effect& e = effects_.emplace_back();
    e.kind = Effect::Kind::kFetch;
    e.id = id;
    e.request = std::move(request);
  });
  web_->install(context, natives);
  // Calls to the embedder's services: effects too (host.callSync answers at once).
  calls_ = std::make_unique<CallNatives>(host_, [this](std::uint64_t id, CallRequest call) {
    Effect& e = effects_.emplace_back();
    e.kind = Effect::Kind::kCall;
    e.id = id;
    e.call = std::move(call);
  });
  calls_->install(context, natives);

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
  return take_prelude_exports(context, result.As<v8::Object>());
}

bool Isolate::Impl::take_prelude_exports(v8::Local<v8::Context> context,
                                         v8::Local<v8::Object> exports) {
  auto function = [&](const char* name, v8::Global<v8::Function>* out) {
    v8::Local<v8::Value> v;
    if (!exports->Get(context, str(isolate_, name)).ToLocal(&v) || !v->IsFunction()) return false;
    out->Reset(isolate_, v.As<v8::Function>());
    return true;
  };
  if (!function("fireTimer", &fire_timer_) || !function("settleFetch", &settle_fetch_) ||
      !function("afterEvaluation", &after_evaluation_)) {
    create_error_ = "the prelude's init returned no fireTimer, settleFetch or afterEvaluation";
    return false;
  }
  v8::Local<v8::Value> entries;
  v8::Local<v8::Value> builtins;
  v8::Local<v8::Array> names;
  if (!exports->Get(context, str(isolate_, "entries")).ToLocal(&entries) || !entries->IsObject() ||
      !exports->Get(context, str(isolate_, "builtins")).ToLocal(&builtins) ||
      !builtins->IsObject() ||
      !entries.As<v8::Object>()->GetOwnPropertyNames(context).ToLocal(&names)) {
    create_error_ = "the prelude's init returned no entries or builtins";
    return false;
  }
  builtins_.Reset(isolate_, builtins.As<v8::Object>());
  v8::Local<v8::Array> builtin_names;
  if (!builtins.As<v8::Object>()->GetOwnPropertyNames(context).ToLocal(&builtin_names)) {
    create_error_ = "the built-in modules have no names";
    return false;
  }
  for (std::uint32_t i = 0; i < builtin_names->Length(); ++i) {
    v8::Local<v8::Value> name;
    if (builtin_names->Get(context, i).ToLocal(&name)) {
      builtin_names_.insert(to_utf8(isolate_, name));
    }
  }
  for (std::uint32_t i = 0; i < names->Length(); ++i) {
    v8::Local<v8::Value> name;
    v8::Local<v8::Value> fn;
    if (!names->Get(context, i).ToLocal(&name) ||
        !entries.As<v8::Object>()->Get(context, name).ToLocal(&fn) || !fn->IsFunction()) {
      create_error_ = "an entry point is not a function";
      return false;
    }
    entries_[to_utf8(isolate_, name)].Reset(isolate_, fn.As<v8::Function>());
  }
  return true;
}

template <typename Body>
RunOutcome Isolate::Impl::run(Body&& body) {
  SIM_REQUIRE(!dead_);
  SIM_REQUIRE(!in_run_);
  in_run_ = true;
  index_free_known_ = false;  // native_index_free asks V8 again, once in this run
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
      Effect& e = effects_.emplace_back();
      e.kind = Effect::Kind::kUncaught;
      e.a = "unhandledrejection";
      e.b = std::move(r.message);
      e.c = std::move(r.stack);
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
      case Effect::Kind::kUncaught:
        host_->on_uncaught(e.a, std::move(e.b), std::move(e.c));
        break;
      case Effect::Kind::kResponse:
        host_->on_response(e.id, std::move(e.response));
        break;
      case Effect::Kind::kSignal:
        host_->on_signal(e.id, std::move(e.signal));
        break;
      case Effect::Kind::kFetch:
        host_->on_fetch(e.id, std::move(e.request));
        break;
      case Effect::Kind::kCall:
        host_->on_call(e.id, std::move(e.call));
        break;
    }
  }
}

std::size_t Isolate::Impl::near_heap_limit(void* data, std::size_t current, std::size_t initial) {
  auto* self = static_cast<Impl*>(data);
  self->heap_exceeded_ = true;
  self->isolate_->TerminateExecution();
  // Room for the allocation that crossed the limit too: one object may be as large as 1 GiB (a
  // FixedDoubleArray of 2^27 elements, a two-byte string of 2^29 characters), and an allocation
  // the new limit cannot hold is a fatal OOM of the whole process. The isolate is recycled when
  // the termination lands, so the memory is given back at once.
  return current + kHeapUnwindBytes + kLargestObjectBytes;
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
  loading_ = true;
  const RunOutcome o = run([&](v8::Local<v8::Context> context) {
    status = env.empty() ? sim::Status::Ok() : set_env(context, env);
    if (status.ok()) status = evaluate_main(context, main);
  });
  loading_ = false;
  isolate_->SetCaptureStackTraceForUncaughtExceptions(false);
  if (outcome != nullptr) *outcome = o;
  if (o != RunOutcome::kOk) {
    return sim::Error{sim::ErrorKind::kOverloaded,
                      std::string("loading the worker ") + run_outcome_name(o)};
  }
  return status;
}

v8::Local<v8::Value> Isolate::Impl::to_v8(v8::Local<v8::Context> context, const Arg& arg) {
  switch (arg.kind()) {
    case Arg::Kind::kNull:
      return v8::Null(isolate_);
    case Arg::Kind::kBool:
      return v8::Boolean::New(isolate_, arg.as_bool());
    case Arg::Kind::kNumber:
      return v8::Number::New(isolate_, arg.as_number());
    case Arg::Kind::kString:
      return str(isolate_, arg.as_text());
    case Arg::Kind::kBytes: {
      const std::string_view bytes = arg.as_text();
      v8::Local<v8::ArrayBuffer> buffer = v8::ArrayBuffer::New(isolate_, bytes.size());
      if (!bytes.empty()) std::memcpy(buffer->Data(), bytes.data(), bytes.size());
      return v8::Uint8Array::New(buffer, 0, bytes.size());
    }
    case Arg::Kind::kList: {
      std::vector<v8::Local<v8::Value>> items;
      items.reserve(arg.items().size());
      for (const Arg& item : arg.items()) items.push_back(to_v8(context, item));
      return v8::Array::New(isolate_, items.data(), items.size());
    }
  }
  return v8::Undefined(isolate_);
}

RunOutcome Isolate::Impl::dispatch(std::string_view entry, const std::vector<Arg>& args) {
  SIM_REQUIRE(!main_namespace_.IsEmpty());
  auto it = entries_.find(entry);
  SIM_REQUIRE(it != entries_.end());
  return run([&](v8::Local<v8::Context> context) {
    std::vector<v8::Local<v8::Value>> argv;
    argv.reserve(args.size() + 1);
    argv.push_back(main_namespace_.Get(isolate_));
    for (const Arg& a : args) argv.push_back(to_v8(context, a));
    v8::TryCatch tc(isolate_);
    // The entry points catch what they can; what escapes is a termination.
    v8::MaybeLocal<v8::Value> ignored = it->second.Get(isolate_)->Call(
        context, v8::Undefined(isolate_), static_cast<int>(argv.size()), argv.data());
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

RunOutcome Isolate::Impl::settle_fetch(std::uint64_t fetch_id,
                                       const sim::Result<HttpResponse>& result) {
  return run([&](v8::Local<v8::Context> context) {
    WebNatives::settle(context, settle_fetch_.Get(isolate_), fetch_id, result);
  });
}

RunOutcome Isolate::Impl::settle_call(std::uint64_t call_id, const CallReply& reply) {
  return run([&](v8::Local<v8::Context> context) { calls_->settle(context, call_id, reply); });
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

const sim::Knobs<IsolateConfig>& IsolateConfig::knobs() {
  using C = IsolateConfig;
  static const auto* table =
      &(*new sim::Knobs<C>())
           .integer("heap_bytes_max", &C::heap_bytes_max, 8 << 20, std::int64_t{1} << 34,
                    "V8 heap of an isolate (128 MiB); past it the run fails and the isolate is "
                    "recycled")
           .duration("cpu_max", &C::cpu_max,
                     "host CPU time one run of JS may take (a request, a timer); past it: 503",
                     sim::kMillisecond)
           .duration("startup_cpu_max", &C::startup_cpu_max,
                     "host CPU time for evaluating a Worker's modules (Cloudflare's startup limit)",
                     sim::kMillisecond);
  return *table;
}

// ---- Isolate ---------------------------------------------------------------------------------

std::unique_ptr<Isolate> Isolate::create(const sim::World& world, IsolateConfig config,
                                         sim::Rng rng, IsolateHost* host) {
  SIM_REQUIRE(Engine::initialized());
  SIM_REQUIRE(host != nullptr);
  auto impl = std::make_unique<Impl>(world, std::move(config), rng, host);
  if (!impl->create()) {
    // The prelude and the extensions are ours: failing to set them up is a bug here, not in
    // user code.
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
RunOutcome Isolate::dispatch(std::string_view entry, const std::vector<Arg>& args) {
  return impl_->dispatch(entry, args);
}
bool Isolate::has_entry(std::string_view entry) const { return impl_->has_entry(entry); }
RunOutcome Isolate::fire_timer(std::uint64_t timer_id) { return impl_->fire_timer(timer_id); }
RunOutcome Isolate::settle_fetch(std::uint64_t fetch_id, const sim::Result<HttpResponse>& result) {
  return impl_->settle_fetch(fetch_id, result);
}
RunOutcome Isolate::settle_call(std::uint64_t call_id, const CallReply& reply) {
  return impl_->settle_call(call_id, reply);
}
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
