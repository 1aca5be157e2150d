// Plain C++ values that cross the JS boundary (besides the HTTP ones of js/http.h): the modules a
// Worker is made of, the values of its env, the calls JS makes to the embedder's services and
// their replies, the signals the embedder's JS reports, and the arguments the embedder passes to
// its JS entry points. No V8 here. js/ gives them no meaning beyond their shape: the runtime and
// the layers above it decide what a target, a method or a signal code means.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "platform/js/http.h"
#include "sim/time.h"

namespace js {

// Module path -> source, e.g. "src/index.js". Paths use '/', with no leading "./". The
// extension picks the module type, as wrangler's default rules do: `.js`, `.mjs` (or none) an ES
// module; `.txt`, `.html` a Text module (default export: the string); `.bin` a Data module
// (default export: an ArrayBuffer); `.json` a JSON module (default export: the parsed value).
using ModuleMap = std::map<std::string, std::string>;

// One value of the modules' `env`: a plain-text var, a JSON var (parsed in JS), or a binding: a
// JSON descriptor whose "type" names a binding type an extension registered (the binding's class)
// and whose "target" is the number its calls carry (CallRequest::target).
struct BindingValue {
  enum class Kind { kText, kJson, kService };
  Kind kind = Kind::kText;
  std::string value;
  static BindingValue text(std::string v) { return {Kind::kText, std::move(v)}; }
  static BindingValue json(std::string v) { return {Kind::kJson, std::move(v)}; }
  static BindingValue service(std::string descriptor_json) {
    return {Kind::kService, std::move(descriptor_json)};
  }
};
// Binding name -> value.
using Env = std::map<std::string, BindingValue>;

// A call from JS to a service of the embedder (host.call / host.callSync): the target (a route
// the embedder defines, such as a binding's), the method, what C++ must read as JSON, and values
// it only stores or forwards as bytes (raw bytes, or V8 structured-clone serializations).
struct CallRequest {
  std::uint32_t target = 0;
  std::string method;
  std::string json = "null";
  std::string bytes;
  bool has_bytes = false;
};
// The answer. JS sees [JSON.parse(json), ArrayBuffer or null] or, on error, an Error (name,
// message) with the flags as properties (retryable, overloaded, remote) or, when `error_clone`
// is set, the deserialized error thrown remotely (a Durable Object's exception).
struct CallReply {
  bool ok = true;
  std::string json = "null";
  std::string bytes;
  bool has_bytes = false;
  std::string error_name = "Error";
  std::string error_message;
  bool retryable = false;
  bool overloaded = false;
  bool remote = false;
  std::string error_clone;
  static CallReply failure(std::string name, std::string message) {
    CallReply r;
    r.ok = false;
    r.error_name = std::move(name);
    r.error_message = std::move(message);
    return r;
  }
};

// What the embedder's JS reports about one of its invocations besides a Response
// (host.signal(invocation, code, ok, text, stack, bytes)). The codes are the embedder's.
struct Signal {
  int code = 0;
  bool ok = true;
  std::string text;
  std::string stack;
  std::string bytes;
};

// An argument the embedder passes to one of its JS entry points (Isolate::dispatch): null, a
// boolean, a number, a string, bytes (a Uint8Array over a fresh ArrayBuffer), or an array of such
// values. Strings and bytes are borrowed: they must outlive the dispatch() call.
class Arg {
 public:
  enum class Kind { kNull, kBool, kNumber, kString, kBytes, kList };
  static Arg null() { return Arg(Kind::kNull); }
  static Arg boolean(bool v) {
    Arg a(Kind::kBool);
    a.number_ = v ? 1 : 0;
    return a;
  }
  static Arg number(double v) {
    Arg a(Kind::kNumber);
    a.number_ = v;
    return a;
  }
  static Arg string(std::string_view v) {
    Arg a(Kind::kString);
    a.text_ = v;
    return a;
  }
  static Arg bytes(std::string_view v) {
    Arg a(Kind::kBytes);
    a.text_ = v;
    return a;
  }
  static Arg list(std::vector<Arg> items) {
    Arg a(Kind::kList);
    a.items_ = std::move(items);
    return a;
  }
  // [name1, value1, name2, value2, ...]
  static Arg pairs(const HeaderList& list) {
    std::vector<Arg> flat;
    flat.reserve(2 * list.size());
    for (const auto& [name, value] : list) {
      flat.push_back(string(name));
      flat.push_back(string(value));
    }
    return Arg::list(std::move(flat));
  }

  Kind kind() const { return kind_; }
  bool as_bool() const { return number_ != 0; }
  double as_number() const { return number_; }
  std::string_view as_text() const { return text_; }
  const std::vector<Arg>& items() const { return items_; }

 private:
  explicit Arg(Kind kind) : kind_(kind) {}
  Kind kind_;
  double number_ = 0;
  std::string_view text_;
  std::vector<Arg> items_;
};

// JS time (Date.now(), Unix ms) at virtual time 0: 2026-01-01T00:00:00Z.
inline constexpr double kUnixMsAtTimeZero =
    static_cast<double>(sim::kUnixSecondsAtTimeZero) * 1000.0;
// JS time (Unix ms, as Date.now() reads it) of a virtual time, in whole milliseconds.
inline double unix_ms(sim::Time t) {
  return kUnixMsAtTimeZero + static_cast<double>(t / sim::kMillisecond);
}

}  // namespace js
