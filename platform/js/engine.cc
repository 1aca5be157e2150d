#include "platform/js/engine.h"

#include <unicode/locid.h>
#include <unicode/timezone.h>
#include <v8-context.h>
#include <v8-initialization.h>
#include <v8-isolate.h>
#include <v8-local-handle.h>
#include <v8-primitive.h>
#include <v8-script.h>
#include <v8-snapshot.h>
#include <v8.h>

#include <cstdio>
#include <string>

#include "platform/js/sim_platform.h"
#include "platform/js/watchdog.h"
#include "sim/assert.h"

namespace js {

extern const char kPreludeSource[];

namespace {
Engine* g_engine = nullptr;  // the process's V8; see the header for why it is a singleton

// Runs one script in `context`; when `internal` is given, the script's value is a function that
// is called with it (an extension). Returns "" or an error text naming the script and line.
std::string run_script(v8::Isolate* isolate, v8::Local<v8::Context> context, const char* name,
                       std::string_view text, v8::Local<v8::Value> internal) {
  v8::TryCatch tc(isolate);
  v8::Local<v8::String> source =
      v8::String::NewFromUtf8(isolate, text.data(), v8::NewStringType::kNormal,
                              static_cast<int>(text.size()))
          .ToLocalChecked();  // lint: allow-v8-checked (the platform's own scripts, at startup)
  v8::ScriptOrigin origin(
      isolate,
      v8::String::NewFromUtf8(isolate, name).ToLocalChecked());  // lint: allow-v8-checked (ditto)
  v8::Local<v8::Script> script;
  v8::Local<v8::Value> value;
  bool ok = v8::Script::Compile(context, source, &origin).ToLocal(&script) &&
            script->Run(context).ToLocal(&value);
  if (ok && !internal.IsEmpty()) {
    v8::Local<v8::Value> argv[] = {internal};
    ok = value->IsFunction() &&
         !value.As<v8::Function>()->Call(context, v8::Undefined(isolate), 1, argv).IsEmpty();
    if (ok) return "";
    if (!tc.HasCaught()) return std::string(name) + ": not a function of `internal`";
  }
  if (ok) return "";
  v8::String::Utf8Value error(isolate, tc.Exception());
  std::string where = std::string(name) + ":";
  if (!tc.Message().IsEmpty()) {
    where += std::to_string(tc.Message()->GetLineNumber(context).FromMaybe(0)) + ":";
  }
  return where + " " + (*error != nullptr ? *error : "unknown error");
}

// Runs the prelude, then the extensions with the prelude's `internal` object. Returns "" or an
// error text.
std::string run_prelude(v8::Isolate* isolate, v8::Local<v8::Context> context,
                        const std::vector<Extension>& extensions) {
  std::string error = run_script(isolate, context, "edgesim:prelude", kPreludeSource, {});
  if (!error.empty()) return error;
  v8::Local<v8::Value> internal;
  if (!context->Global()
           ->Get(context, v8::String::NewFromUtf8Literal(isolate, "__edgesim_internal"))
           .ToLocal(&internal) ||
      !internal->IsObject()) {
    return "the prelude left no __edgesim_internal";
  }
  for (const Extension& e : extensions) {
    error = run_script(isolate, context, e.name.c_str(), e.source, internal);
    if (!error.empty()) return error;
  }
  return "";
}
// Runs the Web API code a first request runs, once, before the snapshot is taken: V8 compiles
// functions lazily on first call, and the snapshot keeps the bytecode (kKeep), so isolates start
// with it instead of compiling Request, Headers, URL and Response on their first request (a
// Worker's cold start went from about 3.5 to 2.2 ms). Only what needs no host natives (they are
// installed per isolate); whatever throws is ignored; every object made here is garbage by the
// time the snapshot is taken. Keep it small: a wider warm-up (URL.searchParams, String(url),
// URLSearchParams) made the snapshot's read-only heap differ from V8's built-in one, and an
// isolate made without the snapshot next to one made with it crashed in V8
// (IsolateTest.StartsFromTheSnapshot catches that).
void warm_up(v8::Isolate* isolate, v8::Local<v8::Context> context) {
  static const char kWarmUp[] = R"js((() => {
  const attempt = (f) => { try { f(); } catch (e) {} };
  {  // (see above before adding to this)
    attempt(() => {
      const u = new URL('https://warm.up:8443/a/./b/../c?x=1&y=%20#f');
      u.pathname; u.host;
    });
    attempt(() => {
      const h = new Headers({'Content-Type': 'text/plain', 'X-A': '1'});
      h.append('x-b', '2'); h.set('x-a', '3'); h.get('x-a'); h.has('x-b'); h.delete('x-b');
      for (const [k, v] of h) String(k + v);
    });
    attempt(() => {
      const r = new Request('https://warm.up/path?q=1', {method: 'GET', headers: {'x-a': '1'}});
      r.url; r.method; r.headers.get('x-a'); new URL(r.url).pathname;
    });
    attempt(() => {
      const r = new Response(null, {status: 204, headers: {'x-a': '1'}});
      r.status; r.ok; r.headers.get('x-a'); [...r.headers];
    });
  }
})())js";
  v8::TryCatch tc(isolate);
  v8::Local<v8::String> source = v8::String::NewFromUtf8Literal(isolate, kWarmUp);
  v8::ScriptOrigin origin(isolate, v8::String::NewFromUtf8Literal(isolate, "edgesim:warm-up"));
  v8::Local<v8::Script> script;
  if (v8::Script::Compile(context, source, &origin).ToLocal(&script)) {
    v8::MaybeLocal<v8::Value> ignored = script->Run(context);
    (void)ignored;
  }
  context->GetIsolate()->PerformMicrotaskCheckpoint();
}
}  // namespace

struct Engine::Blob {
  v8::StartupData data{nullptr, 0};
};

void Engine::init(const EngineOptions& options) {
  if (g_engine != nullptr) {
    // One set of extensions per process (the snapshot holds them).
    SIM_REQUIRE(options.extensions.empty() || options.extensions == g_engine->extensions_);
    return;
  }
  g_engine = new Engine();
  g_engine->start(options);
}

bool Engine::initialized() { return g_engine != nullptr; }

Engine& Engine::get() {
  SIM_REQUIRE(g_engine != nullptr);
  return *g_engine;
}

const void* Engine::snapshot_blob() const {
  return blob_ != nullptr && blob_->data.data != nullptr ? &blob_->data : nullptr;
}

void Engine::start(const EngineOptions& options) {
  // What JS sees of the host: nothing. Pin the time zone and locale before any isolate exists
  // (V8 reads ICU's defaults when it builds an isolate's date cache and Intl objects).
  icu::TimeZone::adoptDefault(icu::TimeZone::createTimeZone("UTC"));
  UErrorCode status = U_ZERO_ERROR;
  icu::Locale::setDefault(icu::Locale("en", "US"), status);
  SIM_ASSERT(U_SUCCESS(status));

  std::string flags =
      "--predictable --single-threaded --random-seed=" + std::to_string(kRandomSeed) +
      " --hash-seed=" + std::to_string(kHashSeed) +
      // The snapshot is made in this process a moment earlier: checksumming it at every
      // isolate creation (adler32 over the blob, ~0.2 ms) proves nothing.
      " --no-verify-snapshot-checksum"
      // Code-space write protection is hardening against exploits; here it costs an mprotect
      // (and a TLB shootdown) every time V8 writes code, a fifth of a short run's time.
      " --no-write-protect-code-memory";
  if (!options.extra_flags.empty()) flags += " " + options.extra_flags;
  v8::V8::SetFlagsFromString(flags.c_str(), flags.size());

  platform_ = new SimPlatform();
  platform_->page_allocator().set_enabled(options.page_cache);
  v8::V8::InitializePlatform(platform_);
  SIM_ASSERT(v8::V8::Initialize());
  watchdog_ = new Watchdog();
  extensions_ = options.extensions;
  blob_ = new Blob();
  if (options.snapshot) build_snapshot();
  keep_read_only_heap(options.keep_read_only_heap);
}

void Engine::keep_read_only_heap(bool on) {
  if (on == (anchor_ != nullptr)) return;
  if (on) {
    auto* allocator = v8::ArrayBuffer::Allocator::NewDefaultAllocator();
    v8::Isolate::CreateParams params;
    params.array_buffer_allocator = allocator;
    // The same blob as the isolates (its read-only part must match the shared heap's).
    if (snapshot_blob() != nullptr) params.snapshot_blob = &blob_->data;
    anchor_ = v8::Isolate::New(params);
    anchor_allocator_ = allocator;
    return;
  }
  platform_->forget(anchor_);
  anchor_->Dispose();
  anchor_ = nullptr;
  delete static_cast<v8::ArrayBuffer::Allocator*>(anchor_allocator_);
  anchor_allocator_ = nullptr;
}

void Engine::set_page_cache(bool on) { platform_->page_allocator().set_enabled(on); }
bool Engine::page_cache() const { return platform_->page_allocator().enabled(); }

PageCacheStats Engine::page_cache_stats() const {
  const CachingPageAllocator::Stats& s = platform_->page_allocator().stats();
  return PageCacheStats{s.allocations, s.reused, s.frees, s.cached, s.cached_bytes, s.zeroed_bytes};
}

void Engine::build_snapshot() {
  v8::SnapshotCreator creator;
  v8::Isolate* isolate = creator.GetIsolate();
  {
    v8::HandleScope hs(isolate);
    v8::Local<v8::Context> context = v8::Context::New(isolate);
    v8::Context::Scope cs(context);
    snapshot_error_ = run_prelude(isolate, context, extensions_);
    if (snapshot_error_.empty()) {
      warm_up(isolate, context);
      creator.SetDefaultContext(context);
    }
  }
  if (!snapshot_error_.empty()) {
    // SnapshotCreator insists on a blob being made before it is destroyed.
    std::fprintf(stderr, "edgesim: no JS startup snapshot: %s\n", snapshot_error_.c_str());
    v8::StartupData unused = creator.CreateBlob(v8::SnapshotCreator::FunctionCodeHandling::kClear);
    delete[] unused.data;
    return;
  }
  blob_->data = creator.CreateBlob(v8::SnapshotCreator::FunctionCodeHandling::kKeep);
  if (blob_->data.data == nullptr || !blob_->data.CanBeRehashed()) {
    snapshot_error_ = "CreateBlob failed";
  }
}

// For isolate.cc: runs the prelude and the extensions in a fresh context (the no-snapshot path).
std::string run_prelude_in(v8::Isolate* isolate, v8::Local<v8::Context> context) {
  return run_prelude(isolate, context, Engine::get().extensions());
}

}  // namespace js
