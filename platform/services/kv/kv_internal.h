// Internal to the KV service (kv_central.cc, kv_client.cc, kv_store.cc, kv_test.cc): the wire codec
// of its RPCs and the versioned store every central node keeps. Not part of the public API (see
// kv.h).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/result.h"
#include "sim/time.h"
#include "sim/wire.h"

namespace services::kv_internal {

// The RPC codec is sim/wire.h.
using sim::WireReader;
using sim::WireWriter;

// The reply envelope of every KV RPC: [u8 kReplyOk][body] or [u8 kReplyError][u8 ErrorKind][str
// message]. Handlers always return ok to sim::Rpc, whose remote errors carry a message only.
inline constexpr std::uint8_t kReplyOk = 0;
inline constexpr std::uint8_t kReplyError = 1;
std::string error_reply(const sim::Error& e);
// Reads the envelope; on ok leaves `r` at the body.
sim::Status read_envelope(WireReader& r, const char* op);
// An error with the platform's message, "KV <op> failed: <status> <text>".
sim::Error kv_error(sim::ErrorKind kind, const char* op, int status, const std::string& text);

// One accepted write of a key (a put, or a delete when `deleted`). Immutable once made by the
// primary; shared by the primary's store, its replication log and its pending trace events.
struct Version {
  std::uint64_t seq = 0;  // global write order at the primary, from 1
  std::string ns;
  std::string key;
  bool deleted = false;
  std::string value;
  std::optional<std::string> metadata;
  sim::Time expires_at = sim::kTimeMax;
  sim::Time written_at = 0;           // when the primary accepted it
  std::vector<sim::Time> visible_at;  // per PoP index: when this write reaches that PoP
  sim::Time visible_all_at = 0;       // max(visible_at, written_at)
  std::uint64_t op = 0;               // the History op id of the write (0: none)

  sim::Time visible_to(int pop) const {
    return pop >= 0 && static_cast<std::size_t>(pop) < visible_at.size()
               ? visible_at[static_cast<std::size_t>(pop)]
               : written_at;
  }
  bool present_at(sim::Time now) const { return !deleted && expires_at > now; }
};

void encode_version(WireWriter& w, const Version& v);
std::shared_ptr<const Version> decode_version(WireReader& r);

// The keys of one central store: per key, the versions not yet superseded everywhere, oldest
// first. Versions are applied in seq order (the primary's order, and the replication log's).
class Store {
 public:
  struct KeyState {
    std::vector<std::shared_ptr<const Version>> versions;
    sim::Time last_write_at = 0;
  };
  using Keys = std::map<std::string, KeyState, std::less<>>;

  // Appends `v` to its key and drops versions that a newer one has superseded at every PoP.
  // REQUIRES: v->seq == applied_seq() + 1.
  void apply(std::shared_ptr<const Version> v, sim::Time now);
  const KeyState* find(std::string_view ns, std::string_view key) const;
  const Keys* keys(std::string_view ns) const;
  // The newest version that has reached PoP `pop` by `now` (nullptr: none: the key was absent).
  static const Version* visible(const KeyState& ks, int pop, sim::Time now);
  std::uint64_t applied_seq() const { return applied_seq_; }

 private:
  std::map<std::string, Keys, std::less<>> namespaces_;
  std::uint64_t applied_seq_ = 0;
};

// Cache and dedupe key for (namespace, key): unambiguous for any bytes.
std::string cache_key(std::string_view ns, std::string_view key);

}  // namespace services::kv_internal
