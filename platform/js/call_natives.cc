#include "platform/js/call_natives.h"

#include <v8-array-buffer.h>
#include <v8-exception.h>
#include <v8-external.h>
#include <v8-isolate.h>
#include <v8-json.h>
#include <v8-primitive.h>
#include <v8-value-serializer.h>

#include <cstdlib>
#include <utility>

#include "platform/js/v8_util.h"

namespace js {

namespace {

CallNatives* self_of(const v8::FunctionCallbackInfo<v8::Value>& info) {
  return static_cast<CallNatives*>(info.Data().As<v8::External>()->Value());
}

// (target, method, json, bytes) -> CallRequest
CallRequest request_of(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  CallRequest r;
  r.target = info[0]->Uint32Value(isolate->GetCurrentContext()).FromMaybe(0);
  r.method = to_utf8(isolate, info[1]);
  if (info[2]->IsString()) r.json = to_utf8(isolate, info[2]);
  if (info[3]->IsArrayBuffer() || info[3]->IsArrayBufferView()) {
    r.bytes = std::string(bytes_of(info[3]));
    r.has_bytes = true;
  }
  return r;
}

void set_flag(v8::Local<v8::Context> context, v8::Local<v8::Object> error, const char* name,
              bool value) {
  v8::Isolate* isolate = context->GetIsolate();
  // Define semantics: a Worker's setter on Object.prototype never runs here.
  (void)define_property(context, error, str(isolate, name), v8::Boolean::New(isolate, value));
}

}  // namespace

void CallNatives::install(v8::Local<v8::Context> context, v8::Local<v8::Object> natives) {
  v8::Isolate* isolate = context->GetIsolate();
  v8::Local<v8::External> self = v8::External::New(isolate, this);
  const std::pair<const char*, v8::FunctionCallback> list[] = {
      {"call", &CallNatives::native_call},
      {"callSync", &CallNatives::native_call_sync},
      {"serialize", &CallNatives::native_serialize},
      {"deserialize", &CallNatives::native_deserialize},
  };
  for (const auto& [name, cb] : list) {
    v8::Local<v8::Function> fn =
        v8::Function::New(context, cb, self, 0, v8::ConstructorBehavior::kThrow)
            .ToLocalChecked();  // lint: allow-v8-checked (before any Worker code runs)
    (void)define_property(context, natives, str(isolate, name), fn);
  }
}

bool CallNatives::serialize(v8::Local<v8::Context> context, v8::Local<v8::Value> value,
                            std::string* out) {
  v8::ValueSerializer serializer(context->GetIsolate());
  serializer.WriteHeader();
  if (!serializer.WriteValue(context, value).FromMaybe(false)) return false;
  std::pair<std::uint8_t*, std::size_t> data = serializer.Release();
  out->assign(reinterpret_cast<const char*>(data.first), data.second);
  std::free(data.first);
  return true;
}

v8::MaybeLocal<v8::Value> CallNatives::deserialize(v8::Local<v8::Context> context,
                                                   std::string_view bytes) {
  v8::ValueDeserializer deserializer(
      context->GetIsolate(), reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  if (!deserializer.ReadHeader(context).FromMaybe(false)) return {};
  return deserializer.ReadValue(context);
}

v8::MaybeLocal<v8::Value> CallNatives::reply_value(v8::Local<v8::Context> context,
                                                   const CallReply& reply) {
  v8::Isolate* isolate = context->GetIsolate();
  v8::Local<v8::Value> parsed;
  if (!v8::JSON::Parse(context, str(isolate, reply.json)).ToLocal(&parsed)) return {};
  v8::Local<v8::Value> bytes = v8::Null(isolate);
  if (reply.has_bytes) bytes = new_buffer(isolate, reply.bytes);
  v8::Local<v8::Value> pair[] = {parsed, bytes};
  return v8::Array::New(isolate, pair, 2);
}

v8::Local<v8::Value> CallNatives::reply_error(v8::Local<v8::Context> context,
                                              const CallReply& reply) {
  v8::Isolate* isolate = context->GetIsolate();
  if (!reply.error_clone.empty()) {
    v8::TryCatch tc(isolate);
    v8::Local<v8::Value> thrown;
    if (deserialize(context, reply.error_clone).ToLocal(&thrown)) {
      if (thrown->IsObject() && reply.remote)
        set_flag(context, thrown.As<v8::Object>(), "remote", true);
      return thrown;
    }
  }
  v8::Local<v8::String> message = str(isolate, reply.error_message);
  v8::Local<v8::Value> error;
  if (reply.error_name == "TypeError") {
    error = v8::Exception::TypeError(message);
  } else if (reply.error_name == "RangeError") {
    error = v8::Exception::RangeError(message);
  } else {
    error = v8::Exception::Error(message);
  }
  auto object = error.As<v8::Object>();
  if (reply.error_name != "Error" && reply.error_name != "TypeError" &&
      reply.error_name != "RangeError") {
    (void)define_property(context, object, str(isolate, "name"), str(isolate, reply.error_name));
  }
  if (reply.retryable) set_flag(context, object, "retryable", true);
  if (reply.overloaded) set_flag(context, object, "overloaded", true);
  if (reply.remote) set_flag(context, object, "remote", true);
  return error;
}

void CallNatives::settle(v8::Local<v8::Context> context, std::uint64_t call_id,
                         const CallReply& reply) {
  auto it = pending_.find(call_id);
  if (it == pending_.end()) return;
  v8::Isolate* isolate = context->GetIsolate();
  v8::Local<v8::Promise::Resolver> resolver = it->second.Get(isolate);
  pending_.erase(it);
  v8::TryCatch tc(isolate);
  if (reply.ok) {
    v8::Local<v8::Value> value;
    if (!reply_value(context, reply).ToLocal(&value)) {
      if (tc.HasTerminated()) return;
      value = tc.HasCaught() ? tc.Exception()
                             : v8::Exception::Error(str(isolate, "malformed service reply"));
      tc.Reset();
      if (resolver->Reject(context, value).IsNothing()) return;  // terminating
      return;
    }
    if (resolver->Resolve(context, value).IsNothing()) return;  // terminating
  } else {
    if (resolver->Reject(context, reply_error(context, reply)).IsNothing()) return;
  }
}

void CallNatives::native_call(const v8::FunctionCallbackInfo<v8::Value>& info) {
  CallNatives* self = self_of(info);
  v8::Isolate* isolate = info.GetIsolate();
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  v8::Local<v8::Promise::Resolver> resolver;
  if (!v8::Promise::Resolver::New(context).ToLocal(&resolver)) return;
  const std::uint64_t id = self->next_call_id_++;
  self->pending_.emplace(id, v8::Global<v8::Promise::Resolver>(isolate, resolver));
  self->start_call_(id, request_of(info));
  info.GetReturnValue().Set(resolver->GetPromise());
}

void CallNatives::native_call_sync(const v8::FunctionCallbackInfo<v8::Value>& info) {
  CallNatives* self = self_of(info);
  v8::Isolate* isolate = info.GetIsolate();
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  const CallReply reply = self->host_->on_call_sync(request_of(info));
  if (!reply.ok) {
    isolate->ThrowException(reply_error(context, reply));
    return;
  }
  v8::Local<v8::Value> value;
  if (reply_value(context, reply).ToLocal(&value)) info.GetReturnValue().Set(value);
}

void CallNatives::native_serialize(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  std::string bytes;
  if (!serialize(isolate->GetCurrentContext(), info[0], &bytes)) return;  // DataCloneError
  info.GetReturnValue().Set(new_buffer(isolate, bytes));
}

void CallNatives::native_deserialize(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  const std::string copy(bytes_of(info[0]));  // JS may run while deserializing
  v8::TryCatch tc(isolate);
  v8::Local<v8::Value> value;
  if (deserialize(isolate->GetCurrentContext(), copy).ToLocal(&value)) {
    info.GetReturnValue().Set(value);
    return;
  }
  if (tc.HasTerminated() || isolate->IsExecutionTerminating()) return;
  if (tc.HasCaught()) {
    tc.ReThrow();
    return;
  }
  isolate->ThrowException(v8::Exception::Error(str(isolate, "could not deserialize a value")));
}

}  // namespace js
