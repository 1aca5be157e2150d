// Native helpers of the Web APIs that the prelude (js/prelude/*.js) implements: what JS cannot
// do well (the SHA hashes behind crypto.subtle.digest) and the bridge for outbound fetch().
// Internal to platform/js: the prelude reaches these through the `host` object of
// __edgesim_init.
//
// Outbound fetch: the prelude calls host.fetch(method, url, headers, body) during a run. That is
// an effect like a timer: the request is handed to the embedder (StartFetch), which buffers it
// with the run's other effects and gives it to the IsolateHost when the run returns normally.
// The reply comes back in a later run through settle(), which calls the prelude's settleFetch.
// JS never waits for the network on its own stack.
//
// Single-threaded; one WebNatives per isolate, outliving the context's functions that point to it.
#pragma once

#include <v8-context.h>
#include <v8-function.h>
#include <v8-local-handle.h>
#include <v8-object.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "platform/js/http.h"
#include "sim/result.h"

namespace js {

// The hash functions of FIPS 180-4. `algorithm` is "SHA-1", "SHA-256", "SHA-384" or "SHA-512"
// (exactly). Returns the digest bytes, or "" for any other name.
std::string sha_digest(std::string_view algorithm, std::string_view data);

class WebNatives {
 public:
  using StartFetch = std::function<void(std::uint64_t fetch_id, HttpRequest request)>;

  explicit WebNatives(StartFetch start_fetch) : start_fetch_(std::move(start_fetch)) {}
  WebNatives(const WebNatives&) = delete;
  WebNatives& operator=(const WebNatives&) = delete;

  // Adds `digest` and `fetch` to `natives`, the object the prelude's __edgesim_init receives.
  void install(v8::Local<v8::Context> context, v8::Local<v8::Object> natives);

  // Settles fetch `fetch_id` in JS: calls settleFetch(id, status, headers, body, error), the
  // function the prelude's init returned. Call inside a run (isolate, handle and context scopes).
  static void settle(v8::Local<v8::Context> context, v8::Local<v8::Function> settle_fetch,
                     std::uint64_t fetch_id, const sim::Result<HttpResponse>& result);

 private:
  static void native_digest(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void native_fetch(const v8::FunctionCallbackInfo<v8::Value>& info);

  StartFetch start_fetch_;
  std::uint64_t next_fetch_id_ = 1;
};

}  // namespace js
