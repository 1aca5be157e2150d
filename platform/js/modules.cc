// The module loader of js::Isolate (see isolate_impl.h): ES modules from a path -> source map,
// the synthetic modules (Text, Data, JSON, and the built-ins the extensions registered), dynamic
// import(), and the env the embedder's setEnv entry point makes before the modules evaluate.
#include <v8-array-buffer.h>
#include <v8-container.h>
#include <v8-exception.h>
#include <v8-external.h>
#include <v8-json.h>
#include <v8-message.h>
#include <v8-microtask-queue.h>
#include <v8-primitive.h>
#include <v8-promise.h>
#include <v8-script.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "platform/js/isolate_impl.h"
#include "platform/js/v8_util.h"
#include "sim/assert.h"

namespace js {

ModuleKind module_kind(std::string_view path) {
  if (path.ends_with(".txt") || path.ends_with(".html")) return ModuleKind::kText;
  if (path.ends_with(".bin")) return ModuleKind::kData;
  if (path.ends_with(".json")) return ModuleKind::kJson;
  return ModuleKind::kEs;
}

namespace {

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

}  // namespace

std::string Isolate::Impl::resolve(std::string_view referrer, std::string_view specifier) const {
  if (builtin_names_.count(specifier) != 0) {
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
  const ModuleKind kind =
      builtin_names_.count(path) != 0 ? ModuleKind::kBuiltin : module_kind(path);
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
      // The built-in modules are those the extensions registered (internal.builtins).
      v8::Local<v8::Value> registered;
      if (builtins_.IsEmpty() ||
          !builtins_.Get(isolate_)->Get(context, str(isolate_, path)).ToLocal(&registered) ||
          !registered->IsObject()) {
        return sim::Error{sim::ErrorKind::kInvalid, "No such module \"" + path + "\""};
      }
      v8::Local<v8::Object> exports = registered.As<v8::Object>();
      v8::Local<v8::Array> keys;
      if (!exports->GetOwnPropertyNames(context).ToLocal(&keys)) {
        return sim::Error{sim::ErrorKind::kInvalid, "module \"" + path + "\" cannot be listed"};
      }
      for (std::uint32_t i = 0; i < keys->Length(); ++i) {
        v8::Local<v8::Value> key;
        if (!keys->Get(context, i).ToLocal(&key) || !key->IsString()) {
          return sim::Error{sim::ErrorKind::kInvalid, "module \"" + path + "\" cannot be listed"};
        }
        names.push_back(key.As<v8::String>());
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
  // Built whole (define semantics), never through a setter a Worker could define.
  std::vector<v8::Local<v8::Value>> name_list, kind_list, value_list;
  for (const auto& [name, binding] : env) {
    name_list.push_back(str(isolate_, name));
    kind_list.push_back(str(isolate_, binding.kind == BindingValue::Kind::kJson      ? "json"
                                      : binding.kind == BindingValue::Kind::kService ? "service"
                                                                                     : "text"));
    value_list.push_back(str(isolate_, binding.value));
  }
  v8::Local<v8::Array> names = v8::Array::New(isolate_, name_list.data(), name_list.size());
  v8::Local<v8::Array> kinds = v8::Array::New(isolate_, kind_list.data(), kind_list.size());
  v8::Local<v8::Array> values = v8::Array::New(isolate_, value_list.data(), value_list.size());
  auto set_env = entries_.find("setEnv");
  if (set_env == entries_.end()) {
    return sim::Error{
        sim::ErrorKind::kInvalid,
        "an env needs the embedder's setEnv entry point (no extension registered it)"};
  }
  v8::TryCatch tc(isolate_);
  v8::Local<v8::Value> argv[] = {v8::Undefined(isolate_), names, kinds, values};
  if (set_env->second.Get(isolate_)->Call(context, v8::Undefined(isolate_), 4, argv).IsEmpty()) {
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

// Compiles, links and evaluates the main module and what it imports (inside a run).
sim::Status Isolate::Impl::evaluate_main(v8::Local<v8::Context> context, std::string_view main) {
  sim::Status status = compile_module(context, std::string(main));
  if (!status.ok()) return status;
  v8::Local<v8::Module> module = find_module(main)->module.Get(isolate_);
  v8::TryCatch tc(isolate_);
  if (!module->InstantiateModule(context, &Impl::resolve_callback).FromMaybe(false)) {
    return sim::Error{sim::ErrorKind::kInvalid, describe(context, tc.Exception(), tc.Message())};
  }
  v8::Local<v8::Value> result;
  if (!module->Evaluate(context).ToLocal(&result)) {
    if (tc.HasTerminated()) return sim::Status::Ok();  // the run's outcome tells
    return sim::Error{sim::ErrorKind::kInvalid, describe(context, tc.Exception(), tc.Message())};
  }
  isolate_->PerformMicrotaskCheckpoint();
  if (module->GetStatus() == v8::Module::kErrored) {
    v8::Local<v8::Value> exception = module->GetException();
    // The evaluation promise rejected too; that is this error, not an unhandled one.
    rejections_.clear();
    return sim::Error{sim::ErrorKind::kInvalid, describe(context, exception, {})};
  }
  if (result->IsPromise() &&
      result.As<v8::Promise>()->State() == v8::Promise::PromiseState::kPending) {
    return sim::Error{sim::ErrorKind::kInvalid,
                      std::string(main) + ": top-level await did not settle while loading"};
  }
  main_namespace_.Reset(isolate_, module->GetModuleNamespace().As<v8::Object>());
  return sim::Status::Ok();
}

}  // namespace js
