#include "platform/js/v8_util.h"

#include <cstring>

namespace js {

std::string to_utf8(v8::Isolate* isolate, v8::Local<v8::Value> value) {
  if (value.IsEmpty()) return "";
  v8::String::Utf8Value text(isolate, value);
  return *text != nullptr ? std::string(*text, static_cast<std::size_t>(text.length())) : "";
}

v8::Local<v8::String> str(v8::Isolate* isolate, std::string_view s) {
  // Only a text longer than V8's longest string (2^29 - 24) fails; the platform's limits keep
  // every value below that, so an empty string here is a last resort, never an abort.
  v8::Local<v8::String> out;
  if (s.size() > static_cast<std::size_t>(v8::String::kMaxLength) ||
      !v8::String::NewFromUtf8(isolate, s.data(), v8::NewStringType::kNormal,
                               static_cast<int>(s.size()))
           .ToLocal(&out)) {
    return v8::String::Empty(isolate);
  }
  return out;
}

bool define_property(v8::Local<v8::Context> context, v8::Local<v8::Object> object,
                     v8::Local<v8::Name> key, v8::Local<v8::Value> value) {
  return object->CreateDataProperty(context, key, value).FromMaybe(false);
}

std::string_view bytes_of(v8::Local<v8::Value> value) {
  if (value->IsArrayBufferView()) {
    auto view = value.As<v8::ArrayBufferView>();
    const char* base = static_cast<const char*>(view->Buffer()->Data());
    if (base == nullptr) return {};
    return {base + view->ByteOffset(), view->ByteLength()};
  }
  if (value->IsArrayBuffer()) {
    auto buf = value.As<v8::ArrayBuffer>();
    const char* base = static_cast<const char*>(buf->Data());
    if (base == nullptr) return {};
    return {base, buf->ByteLength()};
  }
  return {};
}

v8::Local<v8::ArrayBuffer> new_buffer(v8::Isolate* isolate, std::string_view bytes) {
  v8::Local<v8::ArrayBuffer> buffer = v8::ArrayBuffer::New(isolate, bytes.size());
  if (!bytes.empty()) std::memcpy(buffer->Data(), bytes.data(), bytes.size());
  return buffer;
}

}  // namespace js
