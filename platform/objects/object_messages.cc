#include "platform/objects/object_messages.h"

#include <cstdint>
#include <nlohmann/json.hpp>

#include "sim/wire.h"

namespace runtime {

namespace {

using json = nlohmann::json;

json headers_json(const HeaderList& headers) {
  json flat = json::array();
  for (const auto& [k, v] : headers) {
    flat.push_back(k);
    flat.push_back(v);
  }
  return flat;
}

HeaderList headers_of(const json& flat) {
  HeaderList out;
  for (std::size_t i = 0; i + 1 < flat.size(); i += 2) {
    out.emplace_back(flat[i].get<std::string>(), flat[i + 1].get<std::string>());
  }
  return out;
}

sim::Error malformed(const char* what) {
  return sim::Error{sim::ErrorKind::kInvalid, std::string("malformed Durable Object ") + what};
}

}  // namespace

std::string encode_do_request(const DoRequest& r) {
  sim::WireWriter w;
  w.u8(static_cast<std::uint8_t>(r.kind)).str(r.id_hex).str(r.name);
  if (r.kind == DoRequest::Kind::kFetch) {
    w.str(r.request.method).str(r.request.url).pairs(r.request.headers).str(r.request.body);
  } else {
    w.str(r.method).str(r.args);
  }
  return w.take();
}

sim::Result<DoRequest> decode_do_request(std::string_view bytes) {
  sim::WireReader in(bytes);
  DoRequest r;
  const std::uint8_t kind = in.u8();
  if (kind > static_cast<std::uint8_t>(DoRequest::Kind::kRpc)) return malformed("request");
  r.kind = static_cast<DoRequest::Kind>(kind);
  r.id_hex = in.str();
  r.name = in.str();
  if (r.kind == DoRequest::Kind::kFetch) {
    r.request.method = in.str();
    r.request.url = in.str();
    r.request.headers = in.pairs();
    r.request.body = in.str();
  } else {
    r.method = in.str();
    r.args = in.str();
  }
  if (!in.done()) return malformed("request");
  return r;
}

std::string encode_do_reply(DoRequest::Kind kind, const DoReply& r) {
  sim::WireWriter w;
  if (kind == DoRequest::Kind::kFetch) {
    return w.u32(static_cast<std::uint32_t>(r.response.status))
        .pairs(r.response.headers)
        .str(r.response.error)
        .str(r.response.body)
        .take();
  }
  const js::CallReply& c = r.rpc;
  return w.boolean(c.ok)
      .str(c.error_message)
      .str(c.error_name)
      .boolean(c.retryable)
      .boolean(c.overloaded)
      .str(c.ok ? c.bytes : c.error_clone)
      .take();
}

sim::Result<DoReply> decode_do_reply(DoRequest::Kind kind, std::string_view bytes) {
  sim::WireReader in(bytes);
  DoReply r;
  if (kind == DoRequest::Kind::kFetch) {
    r.response.status = static_cast<int>(in.u32());
    r.response.headers = in.pairs();
    r.response.error = in.str();
    r.response.body = in.str();
  } else {
    js::CallReply& c = r.rpc;
    c.ok = in.boolean();
    c.error_message = in.str();
    c.error_name = in.str();
    c.retryable = in.boolean();
    c.overloaded = in.boolean();
    std::string payload = in.str();
    if (c.ok) {
      c.bytes = std::move(payload);
      c.has_bytes = true;
    } else {
      c.error_clone = std::move(payload);
    }
  }
  if (!in.done()) return malformed("reply");
  return r;
}

sim::Result<DoRequest> do_request_from_call(const js::CallRequest& call) {
  json h = json::parse(call.json, nullptr, /*allow_exceptions=*/false);
  if (h.is_discarded() || !h.is_object()) return malformed("stub call");
  try {
    DoRequest r;
    r.id_hex = h.at("id").get<std::string>();
    r.name = h.value("name", "");
    if (call.method == "fetch") {
      r.kind = DoRequest::Kind::kFetch;
      r.request.method = h.at("method").get<std::string>();
      r.request.url = h.at("url").get<std::string>();
      r.request.headers = headers_of(h.at("headers"));
      r.request.body = call.bytes;
    } else if (call.method == "rpc") {
      r.kind = DoRequest::Kind::kRpc;
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

js::CallReply call_reply_from_do(DoRequest::Kind kind, const sim::Result<std::string>& reply) {
  if (!reply.ok()) {
    const sim::Error& e = reply.error();
    js::CallReply r = js::CallReply::failure("Error", e.message);
    // As the platform's errors: `retryable` when retrying may help, `overloaded` for load.
    r.retryable = e.kind == sim::ErrorKind::kUnreachable || e.kind == sim::ErrorKind::kTimeout;
    r.overloaded = e.kind == sim::ErrorKind::kOverloaded;
    if (r.overloaded) r.retryable = false;
    return r;
  }
  sim::Result<DoReply> decoded = decode_do_reply(kind, reply.value());
  if (!decoded.ok()) return js::CallReply::failure("Error", decoded.error().message);
  if (kind == DoRequest::Kind::kRpc) {
    js::CallReply r = std::move(decoded->rpc);
    if (!r.ok) r.remote = true;  // thrown by the object's code
    return r;
  }
  const HttpResponse& response = decoded->response;
  js::CallReply r;
  r.json = json{{"status", response.status}, {"headers", headers_json(response.headers)}}.dump();
  r.bytes = response.body;
  r.has_bytes = true;
  return r;
}

}  // namespace runtime
