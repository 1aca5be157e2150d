// The KV wire codec (versions, the reply envelope) and the versioned store of a central node.
#include <algorithm>
#include <cstring>

#include "platform/services/kv/kv_internal.h"
#include "sim/assert.h"

namespace services::kv_internal {

std::string error_reply(const sim::Error& e) {
  WireWriter w;
  w.u8(kReplyError);
  w.u8(static_cast<std::uint8_t>(e.kind));
  w.str(e.message);
  return w.take();
}

sim::Status read_envelope(WireReader& r, const char* op) {
  const std::uint8_t status = r.u8();
  if (status == kReplyOk && r.ok()) return sim::Status::Ok();
  const auto kind = static_cast<sim::ErrorKind>(r.u8());
  std::string message = r.str();
  if (!r.ok() || status != kReplyError) {
    return sim::Error{sim::ErrorKind::kIo,
                      std::string("KV ") + op + " failed: 500 malformed reply from the store"};
  }
  return sim::Error{kind, std::move(message)};
}

sim::Error kv_error(sim::ErrorKind kind, const char* op, int status, const std::string& text) {
  return sim::Error{kind,
                    std::string("KV ") + op + " failed: " + std::to_string(status) + " " + text};
}

void encode_version(WireWriter& w, const Version& v) {
  w.u64(v.seq);
  w.str(v.ns);
  w.str(v.key);
  w.u8(v.deleted ? 1 : 0);
  w.str(v.value);
  w.opt_str(v.metadata);
  w.i64(v.expires_at);
  w.i64(v.written_at);
  w.u64(v.visible_at.size());
  for (sim::Time t : v.visible_at) w.i64(t);
  w.u64(v.op);
}

std::shared_ptr<const Version> decode_version(WireReader& r) {
  auto v = std::make_shared<Version>();
  v->seq = r.u64();
  v->ns = r.str();
  v->key = r.str();
  v->deleted = r.u8() != 0;
  v->value = r.str();
  v->metadata = r.opt_str();
  v->expires_at = r.i64();
  v->written_at = r.i64();
  const std::uint64_t n = r.u64();
  // Each lag is 8 bytes on the wire: a count beyond what is left is malformed, not a huge alloc.
  if (!r.ok() || n > (1u << 20)) return nullptr;
  v->visible_at.reserve(n);
  v->visible_all_at = v->written_at;
  for (std::uint64_t i = 0; i < n && r.ok(); ++i) {
    v->visible_at.push_back(r.i64());
    v->visible_all_at = std::max(v->visible_all_at, v->visible_at.back());
  }
  v->op = r.u64();
  if (!r.ok()) return nullptr;
  return v;
}

void Store::apply(std::shared_ptr<const Version> v, sim::Time now) {
  SIM_REQUIRE(v != nullptr);
  // Writes apply in sequence order with no gaps, and a write is visible everywhere only once it
  // was written.
  SIM_REQUIRE(v->seq == applied_seq_ + 1);
  SIM_REQUIRE(v->visible_all_at >= v->written_at);
  applied_seq_ = v->seq;
  auto ns_it = namespaces_.find(v->ns);
  if (ns_it == namespaces_.end()) ns_it = namespaces_.emplace(v->ns, Keys{}).first;
  auto key_it = ns_it->second.find(v->key);
  if (key_it == ns_it->second.end()) key_it = ns_it->second.emplace(v->key, KeyState{}).first;
  KeyState& ks = key_it->second;
  // A key's versions stay in write order, oldest first.
  SIM_ASSERT(ks.versions.empty() || ks.versions.back()->seq < v->seq);
  ks.last_write_at = std::max(ks.last_write_at, v->written_at);
  ks.versions.push_back(std::move(v));
  // Versions older than the newest one every PoP already sees can never be served again.
  std::size_t keep_from = 0;
  for (std::size_t i = ks.versions.size(); i-- > 0;) {
    if (ks.versions[i]->visible_all_at <= now) {
      keep_from = i;
      break;
    }
  }
  if (keep_from > 0) {
    ks.versions.erase(ks.versions.begin(),
                      ks.versions.begin() + static_cast<std::ptrdiff_t>(keep_from));
  }
  // The write just applied is never dropped: it is the key's newest.
  SIM_ASSERT(!ks.versions.empty());
  SIM_ASSERT(ks.versions.back()->seq == applied_seq_);
}

const Store::KeyState* Store::find(std::string_view ns, std::string_view key) const {
  const Keys* k = keys(ns);
  if (k == nullptr) return nullptr;
  auto it = k->find(key);
  return it == k->end() ? nullptr : &it->second;
}

const Store::Keys* Store::keys(std::string_view ns) const {
  auto it = namespaces_.find(ns);
  return it == namespaces_.end() ? nullptr : &it->second;
}

const Version* Store::visible(const KeyState& ks, int pop, sim::Time now) {
  for (std::size_t i = ks.versions.size(); i-- > 0;) {
    if (ks.versions[i]->visible_to(pop) <= now) return ks.versions[i].get();
  }
  return nullptr;
}

std::string cache_key(std::string_view ns, std::string_view key) {
  std::string out = std::to_string(ns.size());
  out.push_back(':');
  out.append(ns);
  out.append(key);
  return out;
}

}  // namespace services::kv_internal
