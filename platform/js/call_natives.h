// The natives behind the embedder's JS calls to its services (bindings, Durable Object storage):
// the bridge from JS to C++ services, and V8's structured-clone serialization for values that
// cross isolates (RPC arguments, storage values). Internal to platform/js: the prelude and the
// extensions reach these through the `host` object of __edgesim_init.
//
// host.call(target, method, json, bytes) returns a Promise at once and hands a CallRequest (the
// target a number the embedder defines) to the embedder (StartCall), which buffers it with the
// run's other effects; the reply settles the promise in a later run (settle()). JS never waits for
// a service on its own stack. host.callSync(...) asks the IsolateHost directly (for services that
// answer at once, such as DO storage on the object's host) and returns the reply or throws.
// host.serialize(value) -> ArrayBuffer and host.deserialize(bytes) -> value are V8's
// ValueSerializer/ValueDeserializer (the structured clone algorithm).
//
// Single-threaded; one per isolate. clear() must run before the isolate is disposed.
#pragma once

#include <v8-context.h>
#include <v8-function.h>
#include <v8-local-handle.h>
#include <v8-object.h>
#include <v8-promise.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "platform/js/isolate.h"
#include "platform/js/values.h"

namespace js {

class CallNatives {
 public:
  using StartCall = std::function<void(std::uint64_t call_id, CallRequest request)>;

  CallNatives(IsolateHost* host, StartCall start_call)
      : host_(host), start_call_(std::move(start_call)) {}
  CallNatives(const CallNatives&) = delete;
  CallNatives& operator=(const CallNatives&) = delete;

  // Adds call, callSync, serialize and deserialize to `natives`.
  void install(v8::Local<v8::Context> context, v8::Local<v8::Object> natives);
  // Settles call `call_id` (inside a run). Unknown ids are ignored.
  void settle(v8::Local<v8::Context> context, std::uint64_t call_id, const CallReply& reply);
  // Drops the pending promises (before the isolate goes away).
  void clear() { pending_.clear(); }

  // The JS value of a successful reply: [parsed json, ArrayBuffer or null]. Empty on a
  // termination or a JSON syntax error (a bug of the service).
  static v8::MaybeLocal<v8::Value> reply_value(v8::Local<v8::Context> context,
                                               const CallReply& reply);
  // The JS error of a failed reply.
  static v8::Local<v8::Value> reply_error(v8::Local<v8::Context> context, const CallReply& reply);
  // Structured clone to and from bytes. serialize() returns false when the value cannot be
  // cloned (a DataCloneError is pending in the isolate then).
  static bool serialize(v8::Local<v8::Context> context, v8::Local<v8::Value> value,
                        std::string* out);
  static v8::MaybeLocal<v8::Value> deserialize(v8::Local<v8::Context> context,
                                               std::string_view bytes);

 private:
  static void native_call(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void native_call_sync(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void native_serialize(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void native_deserialize(const v8::FunctionCallbackInfo<v8::Value>& info);

  IsolateHost* host_;
  StartCall start_call_;
  std::uint64_t next_call_id_ = 1;
  std::map<std::uint64_t, v8::Global<v8::Promise::Resolver>> pending_;
};

}  // namespace js
