// The natives of js::Isolate (see isolate_impl.h): what the prelude and the extensions call through
// `host` for what JS cannot do itself (the virtual clock, the isolate's RNG stream, timers, UTF-8,
// structured clones) and to report to the embedder (respond, signal, reportError). Effects are
// buffered (Impl::effects_) and reach the IsolateHost when the run returns.
#include <v8-array-buffer.h>
#include <v8-container.h>
#include <v8-external.h>
#include <v8-primitive.h>
#include <v8-typed-array.h>
#include <v8-value-serializer.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "platform/js/isolate_impl.h"
#include "platform/js/v8_util.h"
#include "sim/text.h"
#include "sim/world.h"

namespace js {

namespace {

// "src/a.js" + "./b.js" -> "src/b.js"; "src/a.js" + "../c.mjs" -> "c.mjs". Returns "" when the
// path climbs above the root.
}  // namespace

void Isolate::Impl::native_console(const v8::FunctionCallbackInfo<v8::Value>& info) {
  Impl* self = from(info);
  Effect& e = self->effects_.emplace_back();
  e.kind = Effect::Kind::kConsole;
  e.a = to_utf8(info.GetIsolate(), info[0]);
  e.b = to_utf8(info.GetIsolate(), info[1]);
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
  Effect& e = self->effects_.emplace_back();
  e.kind = Effect::Kind::kSetTimer;
  e.id = static_cast<std::uint64_t>(id);
  e.delay = static_cast<sim::Duration>(delay_ns < 9e18 ? delay_ns : 9e18);
  info.GetReturnValue().Set(id);
}

void Isolate::Impl::native_clear_timer(const v8::FunctionCallbackInfo<v8::Value>& info) {
  Impl* self = from(info);
  v8::Local<v8::Context> context = info.GetIsolate()->GetCurrentContext();
  const double id = info[0]->NumberValue(context).FromMaybe(0);
  if (id > 0) {
    Effect& e = self->effects_.emplace_back();
    e.kind = Effect::Kind::kClearTimer;
    e.id = static_cast<std::uint64_t>(id);
  }
}

void Isolate::Impl::native_respond(const v8::FunctionCallbackInfo<v8::Value>& info) {
  Impl* self = from(info);
  v8::Isolate* isolate = info.GetIsolate();
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  HttpResponse response;
  const double invocation = info[0]->NumberValue(context).FromMaybe(0);
  response.status = static_cast<int>(info[1]->Int32Value(context).FromMaybe(500));
  if (info[2]->IsMap()) {
    // A Headers' Map, lower-case name -> [values]: read with no JS running, then as iteration
    // gives them: names sorted, values joined with ", " except set-cookie (one header each).
    v8::Local<v8::Array> flat = info[2].As<v8::Map>()->AsArray();
    std::vector<std::pair<std::string, std::vector<std::string>>> entries;
    for (std::uint32_t i = 0; i + 1 < flat->Length(); i += 2) {
      v8::Local<v8::Value> k, vs;
      if (!flat->Get(context, i).ToLocal(&k) || !flat->Get(context, i + 1).ToLocal(&vs) ||
          !vs->IsArray()) {
        return;
      }
      auto& entry = entries.emplace_back(to_utf8(isolate, k), std::vector<std::string>{});
      auto values = vs.As<v8::Array>();
      for (std::uint32_t j = 0; j < values->Length(); ++j) {
        v8::Local<v8::Value> v;
        if (!values->Get(context, j).ToLocal(&v)) return;
        entry.second.push_back(to_utf8(isolate, v));
      }
    }
    std::sort(entries.begin(), entries.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& [name, values] : entries) {
      if (name == "set-cookie") {
        for (auto& v : values) response.headers.emplace_back(name, std::move(v));
        continue;
      }
      std::string joined;
      for (std::size_t j = 0; j < values.size(); ++j) joined += (j ? ", " : "") + values[j];
      response.headers.emplace_back(name, std::move(joined));
    }
  } else if (info[2]->IsArray()) {
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

// (invocation, code, ok, text, stack, bytes): what the embedder's JS reports besides a Response.
void Isolate::Impl::native_signal(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  const double invocation = info[0]->NumberValue(context).FromMaybe(0);
  Effect& e = from(info)->effects_.emplace_back();
  e.kind = Effect::Kind::kSignal;
  e.id = invocation > 0 ? static_cast<std::uint64_t>(invocation) : 0;
  e.signal.code = info[1]->Int32Value(context).FromMaybe(0);
  e.signal.ok = info[2]->IsTrue();
  if (info[3]->IsString()) e.signal.text = to_utf8(isolate, info[3]);
  if (info[4]->IsString()) e.signal.stack = to_utf8(isolate, info[4]);
  if (info[5]->IsArrayBuffer() || info[5]->IsArrayBufferView()) {
    e.signal.bytes = std::string(bytes_of(info[5]));
  }
}

void Isolate::Impl::native_report_error(const v8::FunctionCallbackInfo<v8::Value>& info) {
  Impl* self = from(info);
  v8::Isolate* isolate = info.GetIsolate();
  Effect& e = self->effects_.emplace_back();
  e.kind = Effect::Kind::kUncaught;
  e.a = to_utf8(isolate, info[0]);
  e.b = to_utf8(isolate, info[1]);
  e.c = to_utf8(isolate, info[2]);
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

void Isolate::Impl::native_index_free(const v8::FunctionCallbackInfo<v8::Value>& info) {
  Impl* self = from(info);
  if (self->index_free_known_) {
    info.GetReturnValue().Set(self->index_free_);
    return;
  }
  v8::Isolate* isolate = info.GetIsolate();
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  bool free = true;
  for (const v8::Global<v8::Object>* proto : {&self->array_prototype_, &self->object_prototype_}) {
    if (proto->IsEmpty()) continue;
    // V8 lists integer keys first, as numbers (kKeepNumbers): the first key says it.
    v8::Local<v8::Array> keys;
    v8::Local<v8::Value> first;
    if (!proto->Get(isolate)
             ->GetOwnPropertyNames(context, v8::ALL_PROPERTIES, v8::KeyConversionMode::kKeepNumbers)
             .ToLocal(&keys) ||
        (keys->Length() > 0 && (!keys->Get(context, 0).ToLocal(&first) || first->IsNumber()))) {
      free = false;
    }
  }
  self->index_free_known_ = true;
  self->index_free_ = free;
  info.GetReturnValue().Set(free);
}

void Isolate::Impl::native_utf8_decode(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  const std::string_view bytes = bytes_of(info[0]);
  if (info[1]->IsTrue() && !sim::is_utf8(bytes)) {
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

}  // namespace js
