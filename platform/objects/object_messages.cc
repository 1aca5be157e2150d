#include "platform/objects/object_messages.h"

#include <cstdint>

#include "sim/wire.h"

namespace objects {

namespace {

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

}  // namespace objects
