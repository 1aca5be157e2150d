// The messages between a Durable Object stub (at a PoP) and the object (on its host), as bytes
// that travel over the simulated network. A request is a fetch (an HTTP request) or an RPC call
// (method name and the structured clone of the arguments); a reply is the Response or the RPC
// result (the structured clone of the value, or of the error the object threw).
//
// Encoding: sim/wire.h, the kind first, then the fields in declaration order.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "platform/js/isolate.h"
#include "platform/runtime/http.h"
#include "sim/result.h"

namespace objects {

struct DoRequest {
  enum class Kind : std::uint8_t { kFetch = 0, kRpc = 1 };
  Kind kind = Kind::kFetch;
  std::string id_hex;
  std::string name;              // idFromName's name, or ""
  runtime::HttpRequest request;  // kFetch
  std::string method;            // kRpc
  std::string args;              // kRpc: structured clone of the argument array
};

struct DoReply {
  runtime::HttpResponse response;  // to a kFetch
  js::CallReply rpc;               // to a kRpc
};

std::string encode_do_request(const DoRequest& r);
sim::Result<DoRequest> decode_do_request(std::string_view bytes);
std::string encode_do_reply(DoRequest::Kind kind, const DoReply& r);
sim::Result<DoReply> decode_do_reply(DoRequest::Kind kind, std::string_view bytes);

}  // namespace objects
