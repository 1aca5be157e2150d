// The KV client of a PoP: its cache, gets, puts, deletes and lists against the central stores,
// and the history every call records.
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <utility>

#include "platform/services/kv/kv.h"
#include "platform/services/kv/kv_internal.h"
#include "sim/assert.h"
#include "sim/events.h"
#include "sim/history.h"
#include "sim/network.h"
#include "sim/rpc.h"

namespace services {

using kv_internal::kv_error;
using kv_internal::read_envelope;
using kv_internal::WireReader;
using kv_internal::WireWriter;

namespace {

std::int64_t whole_seconds(sim::Duration d) { return d / sim::kSecond; }

// Hex of arbitrary bytes, for list cursors.
std::string to_hex(std::string_view s) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() * 2);
  for (char c : s) {
    const auto b = static_cast<unsigned char>(c);
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

bool from_hex(std::string_view s, std::string* out) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  if (s.size() % 2 != 0) return false;
  out->clear();
  for (std::size_t i = 0; i < s.size(); i += 2) {
    const int hi = nibble(s[i]), lo = nibble(s[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

constexpr char kCursorTag = 'c';

// Checks every argument a key takes; the messages are the platform's.
std::optional<sim::Error> check_key(std::string_view key, const char* op, const KvConfig& c) {
  if (key.empty())
    return kv_error(sim::ErrorKind::kInvalid, op, 400, "Key names must not be empty");
  if (key == "." || key == "..") {
    return kv_error(sim::ErrorKind::kInvalid, op, 400,
                    "Illegal key name \"" + std::string(key) + "\". Please use a different name.");
  }
  if (key.size() > c.key_bytes_max) {
    return kv_error(sim::ErrorKind::kInvalid, op, 414,
                    "UTF-8 encoded length of " + std::to_string(key.size()) +
                        " exceeds key length limit of " + std::to_string(c.key_bytes_max) + ".");
  }
  return std::nullopt;
}

// Checks a read's key and cacheTtl; returns how long the PoP may cache what it fetches.
sim::Result<sim::Duration> check_read(std::string_view key, const KvGetOptions& options,
                                      const char* op_name, const KvConfig& c) {
  if (auto e = check_key(key, op_name, c)) return *e;
  const sim::Duration ttl = options.cache_ttl.value_or(c.cache_ttl_default);
  if (ttl < c.cache_ttl_min) {
    return kv_error(sim::ErrorKind::kInvalid, op_name, 400,
                    "Invalid cache_ttl of " + std::to_string(whole_seconds(ttl)) +
                        ". Cache TTL must be at least " +
                        std::to_string(whole_seconds(c.cache_ttl_min)) + ".");
  }
  return ttl;
}

// Checks a write's key, sizes and expiry (the messages are the platform's); returns the value's
// expiry on the virtual clock (kTimeMax: none).
sim::Result<sim::Time> check_write(std::string_view key, std::size_t value_bytes,
                                   const KvPutOptions& options, const char* op_name,
                                   const KvConfig& c, sim::Time now) {
  if (auto e = check_key(key, op_name, c)) return *e;
  if (value_bytes > c.value_bytes_max) {
    return kv_error(sim::ErrorKind::kOverloaded, op_name, 413,
                    "Value length of " + std::to_string(value_bytes) + " exceeds limit of " +
                        std::to_string(c.value_bytes_max) + ".");
  }
  if (options.metadata && options.metadata->size() > c.metadata_bytes_max) {
    return kv_error(sim::ErrorKind::kOverloaded, op_name, 413,
                    "Metadata length of " + std::to_string(options.metadata->size()) +
                        " exceeds limit of " + std::to_string(c.metadata_bytes_max) + ".");
  }
  // Expiration in whole seconds since the Unix epoch, as the platform stores it.
  sim::Time expires_at = sim::kTimeMax;
  const std::int64_t now_unix = kKvEpochUnixSeconds + whole_seconds(now);
  const std::int64_t min_s = whole_seconds(c.expiration_ttl_min);
  // Beyond this an expiry does not fit the virtual clock (about 292 years).
  const std::int64_t horizon_s = sim::kTimeMax / sim::kSecond - 1;
  std::optional<std::int64_t> expiration;
  if (options.expiration_ttl) {
    const std::int64_t ttl = *options.expiration_ttl;
    if (ttl < min_s || ttl > horizon_s) {
      return kv_error(sim::ErrorKind::kInvalid, op_name, 400,
                      "Invalid expiration_ttl of " + std::to_string(ttl) +
                          ". Expiration TTL must be at least " + std::to_string(min_s) + ".");
    }
    expiration = now_unix + ttl;
  } else if (options.expiration) {
    const std::int64_t e = *options.expiration;
    if (e < now_unix + min_s || e - kKvEpochUnixSeconds > horizon_s) {
      return kv_error(sim::ErrorKind::kInvalid, op_name, 400,
                      "Invalid expiration of " + std::to_string(e) +
                          ". Expiration times must be at least " + std::to_string(min_s) +
                          " seconds in the future.");
    }
    expiration = e;
  }
  if (expiration && *expiration - kKvEpochUnixSeconds <= horizon_s) {
    expires_at = (*expiration - kKvEpochUnixSeconds) * sim::kSecond;
  }
  return expires_at;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Public helpers.

int kv_error_status(const sim::Error& error) {
  const std::string& m = error.message;
  if (m.rfind("KV ", 0) != 0) return 0;
  const std::size_t at = m.find(" failed: ");
  if (at == std::string::npos || m.size() < at + 12) return 0;
  int status = 0;
  for (std::size_t i = at + 9; i < at + 12; ++i) {
    if (m[i] < '0' || m[i] > '9') return 0;
    status = status * 10 + (m[i] - '0');
  }
  return status;
}

std::string kv_history_value(std::string_view value, std::size_t verbatim_bytes_max) {
  if (value.size() <= verbatim_bytes_max) return "v:" + std::string(value);
  char hash[17];
  std::snprintf(hash, sizeof hash, "%016" PRIx64, sim::stable_hash(value));
  return "h:" + std::to_string(value.size()) + ":" + hash;
}

std::string kv_history_escape(std::string_view text) {
  static const char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x21 || b > 0x7e || c == '%' || c == ',' || c == '=') {
      out.push_back('%');
      out.push_back(kDigits[b >> 4]);
      out.push_back(kDigits[b & 15]);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// KvClient.

struct KvClient::Fetched {
  std::uint64_t seq = 0;
  bool present = false;
  std::string value;
  std::optional<std::string> metadata;
  sim::Time expires_at = sim::kTimeMax;
};

KvClient::KvClient(KvService& service, sim::Node& node, int index)
    : service_(service), node_(node), index_(index) {
  // The cache is volatile: a crashed PoP comes back cold.
  crash_hook_ = node.add_crash_hook([this](sim::Node&) { cache_clear(); });
}

KvClient::~KvClient() { node_.remove_crash_hook(crash_hook_); }

std::string KvClient::client_name(const sim::Task& task) const {
  return node_.name() + "/t" + std::to_string(task.serial());
}

const std::vector<std::size_t>& KvClient::central_order() {
  if (central_order_.empty()) {
    const auto& nodes = service_.central_nodes();
    std::vector<std::pair<sim::Duration, std::size_t>> by_latency;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      by_latency.emplace_back(service_.world().net().base_latency(node_.id(), nodes[i]->id()), i);
    }
    std::sort(by_latency.begin(), by_latency.end());
    for (const auto& [latency, i] : by_latency) central_order_.push_back(i);
  }
  return central_order_;
}

sim::Result<std::string> KvClient::call_central(sim::Task& task, std::string_view service,
                                                const std::string& request, const char* op_name) {
  sim::World& w = service_.world();
  const std::string rpc_name = service_.config().name + std::string(service);
  std::string last;
  for (std::size_t i : central_order()) {
    const sim::Node& dst = *service_.central_nodes()[i];
    auto r = w.rpc().call(task, dst.id(), rpc_name, request, service_.config().read_timeout);
    if (r.ok()) return r;
    last = r.error().to_string();
  }
  return kv_error(sim::ErrorKind::kUnreachable, op_name, 503,
                  "Service Unavailable: no central store answered (last: " + last + ")");
}

sim::Result<KvClient::Fetched> KvClient::fetch(sim::Task& task, std::string_view ns,
                                               std::string_view key) {
  WireWriter req;
  req.str(ns);
  req.str(key);
  auto reply = call_central(task, ".read", req.take(), "GET");
  if (!reply.ok()) return reply.error();
  WireReader r(reply.value());
  sim::Status s = read_envelope(r, "GET");
  if (!s.ok()) return s.error();
  Fetched f;
  f.seq = r.u64();
  f.present = r.u8() != 0;
  f.value = r.str();
  f.metadata = r.opt_str();
  f.expires_at = r.i64();
  if (!r.done()) {
    return kv_error(sim::ErrorKind::kIo, "GET", 500, "malformed reply from the store");
  }
  return f;
}

void KvClient::cache_store(const std::string& ck, CacheEntry entry) {
  auto it = cache_.find(ck);
  // An entry never goes back to an older write: reads that fetched something older than a write
  // of this PoP (or a newer fill) leave the entry alone.
  SIM_ASSERT(it == cache_.end() || it->second.seq <= entry.seq);
  if (it != cache_.end()) {
    by_fresh_.erase({it->second.fresh_until, ck});
    it->second = std::move(entry);
  } else {
    it = cache_.emplace(ck, std::move(entry)).first;
  }
  by_fresh_.emplace(it->second.fresh_until, ck);
  while (cache_.size() > service_.config().cache_entries_max) {
    auto victim = by_fresh_.begin();
    cache_.erase(victim->second);
    by_fresh_.erase(victim);
  }
}

void KvClient::cache_clear() {
  cache_.clear();
  by_fresh_.clear();
}

void KvClient::TEST_clear_cache() { cache_clear(); }

sim::Result<KvValueWithMetadata> KvClient::read(sim::Task& task, std::string_view ns,
                                                std::string_view key, const KvGetOptions& options,
                                                const char* op_name) {
  SIM_REQUIRE(&task.node() == &node_);
  sim::World& w = service_.world();
  const KvConfig& c = service_.config();
  sim::History& h = w.history();
  const sim::OpId op =
      h.invoke(node_.id(), client_name(task), "kv:" + std::string(ns), std::string(key), "get", "");
  const sim::UnknownOnCrash guard(h, op, node_);
  auto fail = [&](sim::Error e) -> sim::Result<KvValueWithMetadata> {
    h.complete(op, sim::OpStatus::kFail, e.message);
    return e;
  };
  const sim::Result<sim::Duration> checked = check_read(key, options, op_name, c);
  if (!checked.ok()) return fail(checked.error());
  const sim::Duration ttl = checked.value();
  const std::string ck = kv_internal::cache_key(ns, key);
  auto finish = [&](bool present, const std::string& value,
                    const std::optional<std::string>& metadata) {
    KvValueWithMetadata out;
    if (present) {
      out.value = value;
      out.metadata = metadata;
    }
    h.complete(op, sim::OpStatus::kOk,
               present ? kv_history_value(value, c.history_value_bytes_max)
                       : std::string(kKvHistoryAbsent));
    return out;
  };

  auto it = cache_.find(ck);
  if (it != cache_.end() && it->second.fresh_until > task.now()) {
    const CacheEntry& e = it->second;
    const bool present = e.present && e.expires_at > task.now();
    w.emit(node_.id(), [&](sim::ev::Body& b) {
      auto& ev = *b.mutable_kv_cache_hit();
      ev.set_ns(std::string(ns));
      ev.set_key(std::string(key));
      ev.set_seq(e.seq);
      ev.set_present(present);
      ev.set_ttl(e.fresh_until - task.now());
    });
    return finish(present, e.value, e.metadata);
  }

  auto fetched = fetch(task, ns, key);
  if (!fetched.ok()) return fail(fetched.error());
  Fetched& f = fetched.value();
  // Re-check after the suspension: a write from this PoP may have cached something newer.
  const sim::Time now = task.now();
  it = cache_.find(ck);
  const bool present = f.present && f.expires_at > now;
  if (it != cache_.end() && it->second.seq > f.seq) return finish(present, f.value, f.metadata);
  // The fill replaces no newer write of this PoP.
  SIM_ASSERT(it == cache_.end() || it->second.seq <= f.seq);
  w.emit(node_.id(), [&](sim::ev::Body& b) {
    auto& ev = *b.mutable_kv_cache_fill();
    ev.set_ns(std::string(ns));
    ev.set_key(std::string(key));
    ev.set_seq(f.seq);
    ev.set_present(f.present);
    ev.set_ttl(ttl);
  });
  KvValueWithMetadata out = finish(present, f.value, f.metadata);
  CacheEntry e;
  e.present = f.present;
  e.value = std::move(f.value);
  e.metadata = std::move(f.metadata);
  e.expires_at = f.expires_at;
  e.seq = f.seq;
  e.fresh_until = now + ttl;
  cache_store(ck, std::move(e));
  return out;
}

sim::Result<std::optional<std::string>> KvClient::get(sim::Task& task, std::string_view ns,
                                                      std::string_view key,
                                                      const KvGetOptions& options) {
  auto r = read(task, ns, key, options, "GET");
  if (!r.ok()) return r.error();
  return std::move(r.value().value);
}

sim::Result<KvValueWithMetadata> KvClient::get_with_metadata(sim::Task& task, std::string_view ns,
                                                             std::string_view key,
                                                             const KvGetOptions& options) {
  return read(task, ns, key, options, "GET");
}

sim::Status KvClient::put(sim::Task& task, std::string_view ns, std::string_view key,
                          std::string value, const KvPutOptions& options) {
  return write(task, ns, key, false, std::move(value), options);
}

sim::Status KvClient::remove(sim::Task& task, std::string_view ns, std::string_view key) {
  return write(task, ns, key, true, std::string(), KvPutOptions{});
}

sim::Status KvClient::write(sim::Task& task, std::string_view ns, std::string_view key,
                            bool deleted, std::string value, const KvPutOptions& options) {
  SIM_REQUIRE(&task.node() == &node_);
  sim::World& w = service_.world();
  const KvConfig& c = service_.config();
  sim::History& h = w.history();
  const char* op_name = deleted ? "DELETE" : "PUT";
  const sim::OpId op = h.invoke(node_.id(), client_name(task), "kv:" + std::string(ns),
                                std::string(key), deleted ? "delete" : "put",
                                deleted ? "" : kv_history_value(value, c.history_value_bytes_max));
  const sim::UnknownOnCrash guard(h, op, node_);
  auto fail = [&](sim::Error e) -> sim::Status {
    h.complete(op, sim::OpStatus::kFail, e.message);
    return e;
  };
  const sim::Result<sim::Time> expires_at =
      check_write(key, value.size(), options, op_name, c, task.now());
  if (!expires_at.ok()) return fail(expires_at.error());

  WireWriter req;
  req.u64(op);
  req.str(ns);
  req.str(key);
  req.u8(deleted ? 1 : 0);
  req.str(value);
  req.opt_str(options.metadata);
  req.i64(expires_at.value());
  auto reply =
      w.rpc().call(task, service_.primary().id(), c.name + ".write", req.take(), c.write_timeout);
  if (!reply.ok()) {
    if (reply.error().kind == sim::ErrorKind::kTimeout) {
      // The request may have reached the primary: the write may still take effect.
      h.complete(op, sim::OpStatus::kUnknown, "");
      return kv_error(sim::ErrorKind::kTimeout, op_name, 503,
                      "Service Unavailable: the central store did not answer in time (" +
                          reply.error().message + "); the write may still take effect");
    }
    return fail(kv_error(sim::ErrorKind::kUnreachable, op_name, 503,
                         "Service Unavailable: " + reply.error().to_string()));
  }
  WireReader r(reply.value());
  sim::Status s = read_envelope(r, op_name);
  if (!s.ok()) return fail(s.error());
  const std::uint64_t seq = r.u64();
  if (!r.done()) return fail(kv_error(sim::ErrorKind::kIo, op_name, 500, "malformed reply"));
  // Every accepted write has a place in the primary's order.
  SIM_ASSERT(seq > 0);

  if (c.local_read_your_writes) {
    const std::string ck = kv_internal::cache_key(ns, key);
    auto it = cache_.find(ck);
    if (it == cache_.end() || it->second.seq < seq) {
      CacheEntry e;
      e.present = !deleted;
      e.value = std::move(value);
      e.metadata = options.metadata;
      e.expires_at = expires_at.value();
      e.seq = seq;
      e.fresh_until = task.now() + c.cache_ttl_default;
      cache_store(ck, std::move(e));
    }
  }
  h.complete(op, sim::OpStatus::kOk, "");
  return sim::Status::Ok();
}

sim::Result<KvListResult> KvClient::list(sim::Task& task, std::string_view ns,
                                         const KvListOptions& options) {
  SIM_REQUIRE(&task.node() == &node_);
  sim::World& w = service_.world();
  const KvConfig& c = service_.config();
  sim::History& h = w.history();
  const sim::OpId op = h.invoke(node_.id(), client_name(task), "kv:" + std::string(ns), "", "list",
                                "prefix=" + kv_history_escape(options.prefix) +
                                    " limit=" + std::to_string(options.limit) +
                                    " cursor=" + kv_history_escape(options.cursor));
  const sim::UnknownOnCrash guard(h, op, node_);
  auto fail = [&](sim::Error e) -> sim::Result<KvListResult> {
    h.complete(op, sim::OpStatus::kFail, e.message);
    return e;
  };
  if (options.limit == 0 || options.limit > c.list_limit_max) {
    return fail(kv_error(sim::ErrorKind::kInvalid, "LIST", 400,
                         "Invalid key_count_limit of " + std::to_string(options.limit) +
                             ". Please specify an integer between 1 and " +
                             std::to_string(c.list_limit_max) + "."));
  }
  std::optional<std::string> after;
  if (!options.cursor.empty()) {
    std::string key;
    if (options.cursor[0] != kCursorTag ||
        !from_hex(std::string_view(options.cursor).substr(1), &key)) {
      return fail(kv_error(sim::ErrorKind::kInvalid, "LIST", 400,
                           "Invalid cursor \"" + options.cursor + "\"."));
    }
    after = std::move(key);
  }
  WireWriter req;
  req.str(ns);
  req.str(options.prefix);
  req.u64(options.limit);
  req.opt_str(after);
  auto reply = call_central(task, ".list", req.take(), "LIST");
  if (!reply.ok()) return fail(reply.error());
  WireReader r(reply.value());
  sim::Status s = read_envelope(r, "LIST");
  if (!s.ok()) return fail(s.error());
  KvListResult out;
  const std::uint64_t n = r.u64();
  for (std::uint64_t i = 0; i < n && r.ok(); ++i) {
    KvListKey k;
    k.name = r.str();
    k.metadata = r.opt_str();
    const sim::Time expires_at = r.i64();
    if (expires_at != sim::kTimeMax) {
      k.expiration = kKvEpochUnixSeconds + whole_seconds(expires_at);
    }
    out.keys.push_back(std::move(k));
  }
  out.list_complete = r.u8() != 0;
  if (!r.done()) return fail(kv_error(sim::ErrorKind::kIo, "LIST", 500, "malformed reply"));
  if (!out.list_complete && !out.keys.empty()) {
    out.cursor = std::string(1, kCursorTag) + to_hex(out.keys.back().name);
  } else {
    out.list_complete = true;
  }
  std::string names;
  for (const auto& k : out.keys) {
    if (!names.empty()) names.push_back(',');
    names += kv_history_escape(k.name);
  }
  h.complete(op, sim::OpStatus::kOk,
             "keys=" + names + " list_complete=" + (out.list_complete ? "true" : "false"));
  return out;
}

}  // namespace services
