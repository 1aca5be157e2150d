// js::Isolate::Impl: the V8 side of an isolate, shared by the files that implement it (internal
// to platform/js):
//   isolate.cc   lifecycle, runs and their effects, dispatch to the embedder's entry points,
//                timers, settling fetches and calls, eval and call_export;
//   modules.cc   the module loader (ES, Text, Data, JSON and built-in modules, dynamic import,
//                the env);
//   natives.cc   the natives the prelude and the extensions call through `host`.
#pragma once

#include <v8-context.h>
#include <v8-function.h>
#include <v8-isolate.h>
#include <v8-local-handle.h>
#include <v8-persistent-handle.h>
#include <v8-promise.h>
#include <v8-statistics.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "platform/js/call_natives.h"
#include "platform/js/isolate.h"
#include "platform/js/web_natives.h"

namespace js {

// The module type, from the path's extension (wrangler's default rules, plus JSON); kBuiltin for
// the modules the extensions registered (decided by the isolate, not by the name).
enum class ModuleKind { kEs, kText, kData, kJson, kBuiltin };
ModuleKind module_kind(std::string_view path);

// Something a run did that reaches the world; applied after the run returns normally.
struct Effect {
  enum class Kind {
    kConsole,
    kSetTimer,
    kClearTimer,
    kUncaught,
    kResponse,
    kSignal,
    kFetch,
    kCall
  };
  Kind kind = Kind::kConsole;
  std::uint64_t id = 0;  // timer, invocation, fetch or call
  sim::Duration delay = 0;
  std::string a;          // console level, or where
  std::string b;          // console text, or message
  std::string c;          // stack
  HttpResponse response;  // kResponse
  Signal signal;          // kSignal
  HttpRequest request;    // kFetch
  CallRequest call;       // kCall
};

class Isolate::Impl {
 public:
  Impl(const sim::World& world, IsolateConfig config, sim::Rng rng, IsolateHost* host)
      : world_(world), config_(std::move(config)), rng_(rng), host_(host) {}
  ~Impl();

  bool create();
  sim::Status load(const ModuleMap& modules, std::string_view main, RunOutcome* outcome,
                   const Env& env);
  RunOutcome dispatch(std::string_view entry, const std::vector<Arg>& args);
  bool has_entry(std::string_view entry) const { return entries_.count(entry) != 0; }
  RunOutcome fire_timer(std::uint64_t timer_id);
  RunOutcome settle_fetch(std::uint64_t fetch_id, const sim::Result<HttpResponse>& result);
  RunOutcome settle_call(std::uint64_t call_id, const CallReply& reply);
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

  // One entry into JS; see isolate.h. `body` runs inside the isolate and context scopes.
  template <typename Body>
  RunOutcome run(Body&& body);
  void set_stack_limit();
  void flush_effects();
  bool install_natives(v8::Local<v8::Context> context);
  // Takes what the prelude's __edgesim_init returned: its functions, the embedder's entry points
  // and the built-in modules.
  bool take_prelude_exports(v8::Local<v8::Context> context, v8::Local<v8::Object> exports);
  using NativeList = std::initializer_list<std::pair<const char*, v8::FunctionCallback>>;
  // Adds native functions bound to this Impl to `natives`.
  void add_natives(v8::Local<v8::Context> context, v8::Local<v8::Object> natives, NativeList list);
  v8::Local<v8::Value> to_v8(v8::Local<v8::Context> context, const Arg& arg);

  // Modules (modules.cc).
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
  sim::Status evaluate_main(v8::Local<v8::Context> context, std::string_view main);
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
  // Natives (natives.cc).
  static void native_console(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void native_fill_random(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void native_random_bytes(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void native_now_ms(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void native_set_timer(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void native_clear_timer(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void native_respond(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void native_signal(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void native_report_error(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void native_utf8_encode(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void native_utf8_decode(const v8::FunctionCallbackInfo<v8::Value>& info);
  // True when neither Array.prototype nor Object.prototype has an indexed property, so push()
  // on a fresh array runs no Worker code (the prelude's arrayAppend asks before each append).
  // Asked of V8 once per run (listing the prototypes' keys is not cheap, and a stream appends per
  // chunk); a Worker that adds an index mid-run can fail only that run's later appends.
  static void native_index_free(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void native_clone(const v8::FunctionCallbackInfo<v8::Value>& info);

  const sim::World& world_;
  IsolateConfig config_;
  sim::Rng rng_;
  IsolateHost* host_;
  std::unique_ptr<v8::ArrayBuffer::Allocator> allocator_;
  v8::Isolate* isolate_ = nullptr;
  v8::Global<v8::Context> context_;
  // From the prelude's init: its functions, the embedder's entry points and built-in modules.
  v8::Global<v8::Function> fire_timer_;
  // The intrinsic prototypes, captured before any Worker code runs (native_index_free).
  v8::Global<v8::Object> array_prototype_, object_prototype_;
  bool index_free_known_ = false, index_free_ = true;  // native_index_free's answer in this run
  v8::Global<v8::Function> settle_fetch_;              // web APIs
  v8::Global<v8::Function> after_evaluation_;
  std::map<std::string, v8::Global<v8::Function>, std::less<>> entries_;
  v8::Global<v8::Object> builtins_;  // specifier -> exports object
  std::set<std::string, std::less<>> builtin_names_;
  std::unique_ptr<WebNatives> web_;
  std::unique_ptr<CallNatives> calls_;
  v8::Global<v8::Object> main_namespace_;
  std::vector<ModuleRecord> modules_;  // in compile order
  ModuleMap sources_;                  // from load(), kept for dynamic import()
  std::vector<Effect> effects_;
  std::vector<Rejection> rejections_;
  std::uint64_t next_timer_id_ = 1;
  bool from_snapshot_ = false;
  bool in_run_ = false;
  bool starting_ = false;  // the next run evaluates the Worker's modules (startup_cpu_max)
  bool loading_ = false;   // the modules are evaluating: WebAssembly may be compiled
  bool heap_exceeded_ = false;
  bool dead_ = false;
  std::string create_error_;
};

}  // namespace js
