#include "platform/bindings/do_binding.h"

#include <nlohmann/json.hpp>
#include <utility>

#include "platform/objects/object_messages.h"

namespace bindings {

namespace {

using json = nlohmann::json;

json headers_json(const runtime::HeaderList& headers) {
  json flat = json::array();
  for (const auto& [k, v] : headers) {
    flat.push_back(k);
    flat.push_back(v);
  }
  return flat;
}

runtime::HeaderList headers_of(const json& flat) {
  runtime::HeaderList out;
  for (std::size_t i = 0; i + 1 < flat.size(); i += 2) {
    out.emplace_back(flat[i].get<std::string>(), flat[i + 1].get<std::string>());
  }
  return out;
}

sim::Error malformed(const char* what) {
  return sim::Error{sim::ErrorKind::kInvalid, std::string("malformed Durable Object ") + what};
}

// The cluster's errors as sim errors: retryable and unreachable (surely not run): kUnreachable;
// overloaded: kOverloaded; outcome unknown: kTimeout; the object's failure: kRemote.
sim::Error error_of(const services::DoError& e) {
  sim::ErrorKind kind = sim::ErrorKind::kUnreachable;
  switch (e.kind) {
    case services::DoErrorKind::kRetryable:
    case services::DoErrorKind::kUnreachable:
      kind = sim::ErrorKind::kUnreachable;
      break;
    case services::DoErrorKind::kOverloaded:
      kind = sim::ErrorKind::kOverloaded;
      break;
    case services::DoErrorKind::kTimeout:
      kind = sim::ErrorKind::kTimeout;
      break;
    case services::DoErrorKind::kRemote:
      kind = sim::ErrorKind::kRemote;
      break;
  }
  return sim::Error{kind, "Durable Object: " + e.message};
}

}  // namespace

sim::Result<objects::DoRequest> do_request_from_call(const js::CallRequest& call) {
  json h = json::parse(call.json, nullptr, /*allow_exceptions=*/false);
  if (h.is_discarded() || !h.is_object()) return malformed("stub call");
  try {
    objects::DoRequest r;
    r.id_hex = h.at("id").get<std::string>();
    r.name = h.value("name", "");
    if (call.method == "fetch") {
      r.kind = objects::DoRequest::Kind::kFetch;
      r.request.method = h.at("method").get<std::string>();
      r.request.url = h.at("url").get<std::string>();
      r.request.headers = headers_of(h.at("headers"));
      r.request.body = call.bytes;
    } else if (call.method == "rpc") {
      r.kind = objects::DoRequest::Kind::kRpc;
      r.method = h.at("method").get<std::string>();
      r.args = call.bytes;
    } else {
      return malformed("stub call");
    }
    return r;
  } catch (const json::exception&) {
    return malformed("stub call");
  }
}

js::CallReply call_reply_from_do(objects::DoRequest::Kind kind,
                                 const sim::Result<std::string>& reply) {
  if (!reply.ok()) {
    const sim::Error& e = reply.error();
    js::CallReply r = js::CallReply::failure("Error", e.message);
    // As the platform's errors: `retryable` when retrying may help, `overloaded` for load.
    r.retryable = e.kind == sim::ErrorKind::kUnreachable || e.kind == sim::ErrorKind::kTimeout;
    r.overloaded = e.kind == sim::ErrorKind::kOverloaded;
    if (r.overloaded) r.retryable = false;
    return r;
  }
  sim::Result<objects::DoReply> decoded = objects::decode_do_reply(kind, reply.value());
  if (!decoded.ok()) return js::CallReply::failure("Error", decoded.error().message);
  if (kind == objects::DoRequest::Kind::kRpc) {
    js::CallReply r = std::move(decoded->rpc);
    if (!r.ok) r.remote = true;  // thrown by the object's code
    return r;
  }
  const runtime::HttpResponse& response = decoded->response;
  js::CallReply r;
  r.json = json{{"status", response.status}, {"headers", headers_json(response.headers)}}.dump();
  r.bytes = response.body;
  r.has_bytes = true;
  return r;
}

DoBinding::DoBinding(std::string class_name, services::DoCluster& cluster)
    : class_name_(std::move(class_name)), cluster_(cluster) {}

std::string DoBinding::descriptor_fields() const {
  return "\"class_name\":" + json(class_name_).dump();
}

js::CallReply DoBinding::call(sim::Task& task, const js::CallRequest& request) {
  sim::Result<objects::DoRequest> r = do_request_from_call(request);
  if (!r.ok()) return js::CallReply::failure("TypeError", r.error().message);
  const objects::DoRequest::Kind kind = r->kind;
  services::DoResult reply = cluster_.call(task, services::object_key(class_name_, r->id_hex),
                                           objects::encode_do_request(*r));
  if (reply.ok()) return call_reply_from_do(kind, reply.value());
  return call_reply_from_do(kind, error_of(reply.error()));
}

}  // namespace bindings
