// Small V8 helpers shared inside platform/js (internal: only js/ includes V8).
#pragma once

#include <v8.h>

#include <string>
#include <string_view>

namespace js {

// The value as UTF-8 ("" for an empty handle or a value that cannot be converted).
std::string to_utf8(v8::Isolate* isolate, v8::Local<v8::Value> value);
// A JS string of these UTF-8 bytes.
v8::Local<v8::String> str(v8::Isolate* isolate, std::string_view s);
// Defines object[key] = value as an own data property: never runs a setter a Worker put on a
// prototype, and never aborts (false when the object refused it, or execution is terminating).
bool define_property(v8::Local<v8::Context> context, v8::Local<v8::Object> object,
                     v8::Local<v8::Name> key, v8::Local<v8::Value> value);
// The bytes of an ArrayBufferView or ArrayBuffer (empty for anything else, or a detached buffer).
// Valid until JS runs again.
std::string_view bytes_of(v8::Local<v8::Value> value);
// A new ArrayBuffer holding a copy of `bytes`.
v8::Local<v8::ArrayBuffer> new_buffer(v8::Isolate* isolate, std::string_view bytes);

}  // namespace js
