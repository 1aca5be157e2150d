#include "platform/runtime/do_wire.h"

#include <cstdint>
#include <nlohmann/json.hpp>

namespace runtime {

namespace {

using json = nlohmann::json;

std::string frame(const json& header, std::string_view payload) {
  const std::string text = header.dump();
  const auto n = static_cast<std::uint32_t>(text.size());
  std::string out;
  out.reserve(4 + text.size() + payload.size());
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  out += text;
  out += payload;
  return out;
}

bool unframe(std::string_view bytes, json* header, std::string_view* payload) {
  if (bytes.size() < 4) return false;
  std::uint32_t n = 0;
  for (int i = 0; i < 4; ++i)
    n |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(bytes[i])) << (8 * i);
  if (bytes.size() - 4 < n) return false;
  *header = json::parse(bytes.substr(4, n), nullptr, /*allow_exceptions=*/false);
  if (header->is_discarded() || !header->is_object()) return false;
  *payload = bytes.substr(4 + n);
  return true;
}

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
  json h = {{"id", r.id_hex}, {"name", r.name}};
  if (r.kind == DoRequest::Kind::kFetch) {
    h["kind"] = "fetch";
    h["method"] = r.request.method;
    h["url"] = r.request.url;
    h["headers"] = headers_json(r.request.headers);
    return frame(h, r.request.body);
  }
  h["kind"] = "rpc";
  h["rpc"] = r.method;
  return frame(h, r.args);
}

sim::Result<DoRequest> decode_do_request(std::string_view bytes) {
  json h;
  std::string_view payload;
  if (!unframe(bytes, &h, &payload)) return malformed("request");
  try {
    DoRequest r;
    r.id_hex = h.at("id").get<std::string>();
    r.name = h.value("name", "");
    if (h.at("kind") == "fetch") {
      r.kind = DoRequest::Kind::kFetch;
      r.request.method = h.at("method").get<std::string>();
      r.request.url = h.at("url").get<std::string>();
      r.request.headers = headers_of(h.at("headers"));
      r.request.body = std::string(payload);
    } else {
      r.kind = DoRequest::Kind::kRpc;
      r.method = h.at("rpc").get<std::string>();
      r.args = std::string(payload);
    }
    return r;
  } catch (const json::exception&) {
    return malformed("request");
  }
}

std::string encode_do_reply(DoRequest::Kind kind, const DoReply& r) {
  if (kind == DoRequest::Kind::kFetch) {
    json h = {{"status", r.response.status},
              {"headers", headers_json(r.response.headers)},
              {"error", r.response.error}};
    return frame(h, r.response.body);
  }
  const js::CallReply& c = r.rpc;
  json h = {{"ok", c.ok},
            {"message", c.error_message},
            {"name", c.error_name},
            {"retryable", c.retryable},
            {"overloaded", c.overloaded}};
  return frame(h, c.ok ? c.bytes : c.error_clone);
}

sim::Result<DoReply> decode_do_reply(DoRequest::Kind kind, std::string_view bytes) {
  json h;
  std::string_view payload;
  if (!unframe(bytes, &h, &payload)) return malformed("reply");
  try {
    DoReply r;
    if (kind == DoRequest::Kind::kFetch) {
      r.response.status = h.at("status").get<int>();
      r.response.headers = headers_of(h.at("headers"));
      r.response.error = h.value("error", "");
      r.response.body = std::string(payload);
      return r;
    }
    js::CallReply& c = r.rpc;
    c.ok = h.at("ok").get<bool>();
    c.error_message = h.value("message", "");
    c.error_name = h.value("name", "Error");
    c.retryable = h.value("retryable", false);
    c.overloaded = h.value("overloaded", false);
    if (c.ok) {
      c.bytes = std::string(payload);
      c.has_bytes = true;
    } else {
      c.error_clone = std::string(payload);
    }
    return r;
  } catch (const json::exception&) {
    return malformed("reply");
  }
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
