#include "platform/services/kv/kv.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <deque>
#include <utility>

#include "platform/services/kv/kv_internal.h"
#include "sim/assert.h"
#include "sim/events.h"
#include "sim/faults.h"
#include "sim/history.h"
#include "sim/network.h"
#include "sim/rpc.h"
#include "sim/sync.h"

namespace services {

using kv_internal::Store;
using kv_internal::Version;
using kv_internal::WireReader;
using kv_internal::WireWriter;

namespace {

// Reply envelope of every KV RPC: [u8 0][body] or [u8 1][u8 ErrorKind][str message]. Handlers
// always return ok to sim::Rpc, whose remote errors carry a message only.
constexpr std::uint8_t kReplyOk = 0;
constexpr std::uint8_t kReplyError = 1;

std::string error_reply(const sim::Error& e) {
  WireWriter w;
  w.u8(kReplyError);
  w.u8(static_cast<std::uint8_t>(e.kind));
  w.str(e.message);
  return w.take();
}

// Reads the envelope; on ok leaves `r` at the body.
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

// Completes, as unknown, an operation whose task a crash of its node unwound: the request may
// have reached a store. (Other cancellations, including a World's teardown, leave it pending,
// which a checker reads the same way: never completed. Completing it then could emit to sinks
// already gone.)
class CrashGuard {
 public:
  CrashGuard(sim::History& history, sim::OpId op, const sim::Node& node)
      : history_(history), op_(op), node_(node) {}
  CrashGuard(const CrashGuard&) = delete;
  CrashGuard& operator=(const CrashGuard&) = delete;
  ~CrashGuard() {
    if (node_.down() && history_.op(op_).status == sim::OpStatus::kPending) {
      history_.complete(op_, sim::OpStatus::kUnknown, "");
    }
  }

 private:
  sim::History& history_;
  sim::OpId op_;
  const sim::Node& node_;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Public helpers.

sim::Duration KvLagDistribution::draw(sim::Rng& rng) const {
  SIM_REQUIRE(min >= 0);
  SIM_REQUIRE(min <= max);
  switch (kind) {
    case Kind::kFixed:
      return min;
    case Kind::kUniform:
      return static_cast<sim::Duration>(
          rng.uniform(static_cast<double>(min), static_cast<double>(max)));
    case Kind::kExponential: {
      const double d = static_cast<double>(min) + rng.exponential(static_cast<double>(mean));
      return std::min(max, static_cast<sim::Duration>(d));
    }
  }
  return min;
}

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
// Central stores.

namespace kv_internal {

// One central store node. The primary (index 0) also owns the write path and the replication
// log. State lives here, not in the node, so a crash loses nothing (see kv.h).
class Central {
 public:
  Central(KvService& service, std::size_t index, sim::Node& node)
      : service_(service), index_(index), node_(node) {
    acked_.assign(service.config().central_locations.size(), 0);
  }

  bool primary() const { return index_ == 0; }
  sim::Node& node() const { return node_; }
  const Store& store() const { return store_; }

  void boot() {
    sim::World& w = service_.world();
    const std::string& name = service_.config().name;
    w.rpc().serve(node_, name + ".read",
                  [this](sim::Task& t, sim::NodeId from, std::string_view req) {
                    return sim::Result<std::string>(handle_read(t, from, req));
                  });
    w.rpc().serve(node_, name + ".list",
                  [this](sim::Task& t, sim::NodeId from, std::string_view req) {
                    return sim::Result<std::string>(handle_list(t, from, req));
                  });
    if (primary()) {
      w.rpc().serve(node_, name + ".write",
                    [this](sim::Task& t, sim::NodeId from, std::string_view req) {
                      return sim::Result<std::string>(handle_write(t, from, req));
                    });
      for (std::size_t r = 1; r < acked_.size(); ++r) {
        sim::Node& replica = *service_.central_nodes()[r];
        w.spawn(node_, "kv-repl->" + replica.name(),
                [this, r](sim::Task& t) { replicate_loop(t, r); });
      }
    } else {
      w.rpc().serve(node_, name + ".replicate",
                    [this](sim::Task& t, sim::NodeId from, std::string_view req) {
                      return sim::Result<std::string>(handle_replicate(t, from, req));
                    });
    }
  }

 private:
  template <typename Fill>
  void emit(sim::NodeId node, Fill&& fill) {
    service_.world().emit(node, std::forward<Fill>(fill));
  }

  // Request: ns, key. Reply body: seq, present, value, metadata, expires_at.
  std::string handle_read(sim::Task& t, sim::NodeId from, std::string_view req) {
    WireReader r(req);
    const std::string ns = r.str(), key = r.str();
    const int pop = service_.pop_index(from);
    if (!r.done() || pop < 0) {
      return error_reply(kv_error(sim::ErrorKind::kInvalid, "GET", 400, "malformed request"));
    }
    ++service_.stats_.central_reads;
    const sim::Time now = t.now();
    const Version* v = nullptr;
    if (const Store::KeyState* ks = store_.find(ns, key)) {
      v = Store::visible(*ks, pop, now);
      const Version* newest = ks->versions.back().get();
      if (newest != v) {
        ++service_.stats_.stale_serves;
        emit(node_.id(), [&](sim::ev::Body& b) {
          auto& e = *b.mutable_kv_read_stale();
          e.set_ns(ns);
          e.set_key(key);
          e.set_pop(from);
          e.set_served_seq(v ? v->seq : 0);
          e.set_newest_seq(newest->seq);
          e.set_visible_at(newest->visible_to(pop));
        });
      }
    }
    WireWriter w;
    w.u8(kReplyOk);
    w.u64(v ? v->seq : 0);
    const bool present = v != nullptr && v->present_at(now);
    w.u8(present ? 1 : 0);
    w.str(present ? std::string_view(v->value) : std::string_view());
    w.opt_str(present ? v->metadata : std::nullopt);
    w.i64(present ? v->expires_at : sim::kTimeMax);
    return w.take();
  }

  // Request: ns, prefix, limit, start_after (optional). Reply body: n, n x (name, metadata,
  // expires_at), list_complete.
  std::string handle_list(sim::Task& t, sim::NodeId from, std::string_view req) {
    WireReader r(req);
    const std::string ns = r.str(), prefix = r.str();
    const std::uint64_t limit = r.u64();
    const std::optional<std::string> after = r.opt_str();
    const int pop = service_.pop_index(from);
    if (!r.done() || pop < 0 || limit == 0) {
      return error_reply(kv_error(sim::ErrorKind::kInvalid, "LIST", 400, "malformed request"));
    }
    ++service_.stats_.central_lists;
    const sim::Time now = t.now();
    std::vector<std::pair<const std::string*, const Version*>> found;
    bool complete = true;
    if (const Store::Keys* keys = store_.keys(ns)) {
      auto it = after && *after >= prefix ? keys->upper_bound(*after) : keys->lower_bound(prefix);
      for (; it != keys->end(); ++it) {
        if (it->first.compare(0, prefix.size(), prefix) != 0) break;
        const Version* v = Store::visible(it->second, pop, now);
        if (v == nullptr || !v->present_at(now)) continue;
        if (found.size() == limit) {
          complete = false;
          break;
        }
        found.emplace_back(&it->first, v);
      }
    }
    WireWriter w;
    w.u8(kReplyOk);
    w.u64(found.size());
    for (const auto& [name, v] : found) {
      w.str(*name);
      w.opt_str(v->metadata);
      w.i64(v->expires_at);
    }
    w.u8(complete ? 1 : 0);
    return w.take();
  }

  // Request: op, ns, key, deleted, value, metadata, expires_at. Reply body: seq.
  std::string handle_write(sim::Task& t, sim::NodeId from, std::string_view req) {
    WireReader r(req);
    const std::uint64_t op = r.u64();
    std::string ns = r.str(), key = r.str();
    const bool deleted = r.u8() != 0;
    std::string value = r.str();
    std::optional<std::string> metadata = r.opt_str();
    const sim::Time expires_at = r.i64();
    const int pop = service_.pop_index(from);
    const char* op_name = deleted ? "DELETE" : "PUT";
    if (!r.done() || pop < 0) {
      return error_reply(kv_error(sim::ErrorKind::kInvalid, op_name, 400, "malformed request"));
    }
    const sim::Time now = t.now();
    // The network may duplicate a request: answer a copy as the original was answered.
    prune_replies(now);
    if (op != 0) {
      auto seen = replies_.find(op);
      if (seen != replies_.end()) return seen->second;
    }
    std::string reply;
    const Store::KeyState* ks = store_.find(ns, key);
    const KvConfig& c = service_.config();
    if (ks != nullptr && now - ks->last_write_at < c.write_interval_per_key_min) {
      ++service_.stats_.writes_rate_limited;
      emit(node_.id(), [&](sim::ev::Body& b) {
        auto& e = *b.mutable_kv_rate_limited();
        e.set_ns(ns);
        e.set_key(key);
        e.set_pop(from);
        e.set_last_write(ks->last_write_at);
      });
      reply = error_reply(kv_error(sim::ErrorKind::kOverloaded, op_name, 429, "Too Many Requests"));
    } else {
      reply = accept_write(op, pop, std::move(ns), std::move(key), deleted, std::move(value),
                           std::move(metadata), expires_at, now);
    }
    if (op != 0) {
      replies_.emplace(op, reply);
      reply_order_.emplace_back(now, op);
    }
    return reply;
  }

  std::string accept_write(std::uint64_t op, int writer, std::string ns, std::string key,
                           bool deleted, std::string value, std::optional<std::string> metadata,
                           sim::Time expires_at, sim::Time now) {
    KvService& s = service_;
    const KvConfig& c = s.config();
    sim::World& w = s.world();
    auto v = std::make_shared<Version>();
    v->seq = store_.applied_seq() + 1;
    v->ns = std::move(ns);
    v->key = std::move(key);
    v->deleted = deleted;
    v->value = std::move(value);
    v->metadata = std::move(metadata);
    v->expires_at = expires_at;
    v->written_at = now;
    v->op = op;
    v->visible_at.resize(s.pops_.size(), now);
    v->visible_all_at = now;
    for (std::size_t p = 0; p < s.pops_.size(); ++p) {
      if (static_cast<int>(p) == writer && c.local_read_your_writes) continue;
      double lag = static_cast<double>(c.propagation_lag.draw(s.lag_rng_)) * s.lag_multiplier_;
      if (w.faults().fire(c.lag_spike_site, c.lag_spike_probability)) {
        lag *= c.lag_spike_multiplier;
        ++s.stats_.lag_spikes;
        emit(s.pops_[p], [&](sim::ev::Body& b) {
          b.mutable_kv_lag_spike()->set_seq(v->seq);
          b.mutable_kv_lag_spike()->set_lag(static_cast<sim::Duration>(std::min(lag, 1e18)));
        });
      }
      const auto d = static_cast<sim::Duration>(std::min(lag, 1e18));
      v->visible_at[p] = now + d;
      v->visible_all_at = std::max(v->visible_all_at, v->visible_at[p]);
    }
    std::shared_ptr<const Version> shared = v;
    store_.apply(shared, now);
    ++s.stats_.writes_accepted;
    if (op != 0 && op <= w.history().ops().size() && w.history().op(op).effect_seq == 0) {
      w.history().effect(op);
    }
    emit(node_.id(), [&](sim::ev::Body& b) {
      auto& e = *b.mutable_kv_write();
      e.set_ns(shared->ns);
      e.set_key(shared->key);
      e.set_seq(shared->seq);
      e.set_deleted(deleted);
      e.set_from(s.pops_[static_cast<std::size_t>(writer)]);
      e.set_visible_everywhere_at(shared->visible_all_at);
    });
    if (c.propagation_events) {
      for (std::size_t p = 0; p < s.pops_.size(); ++p) {
        if (static_cast<int>(p) == writer && c.local_read_your_writes) continue;
        const sim::NodeId pop_node = s.pops_[p];
        w.scheduler().at(shared->visible_at[p], [&w, shared, pop_node]() {
          w.emit(pop_node, [&](sim::ev::Body& b) {
            auto& e = *b.mutable_kv_propagate();
            e.set_ns(shared->ns);
            e.set_key(shared->key);
            e.set_seq(shared->seq);
            e.set_lag(w.now() - shared->written_at);
          });
        });
      }
    }
    log_.push_back(shared);
    log_waiters_.notify_all(w);
    WireWriter out;
    out.u8(kReplyOk);
    out.u64(shared->seq);
    return out.take();
  }

  // Replies are kept long enough to answer any duplicate (the network's reorder delay is far
  // shorter than a write timeout).
  void prune_replies(sim::Time now) {
    const sim::Duration keep = 2 * service_.config().write_timeout;
    while (!reply_order_.empty() && now - reply_order_.front().first > keep) {
      replies_.erase(reply_order_.front().second);
      reply_order_.pop_front();
    }
  }

  // Ships the log to replica `r`, in order, forever; retries across partitions and crashes.
  void replicate_loop(sim::Task& t, std::size_t r) {
    sim::World& w = service_.world();
    const KvConfig& c = service_.config();
    const sim::NodeId dst = service_.central_nodes()[r]->id();
    const std::string rpc_name = c.name + ".replicate";
    for (;;) {
      while (acked_[r] >= store_.applied_seq()) log_waiters_.wait(t);
      SIM_ASSERT(!log_.empty());
      SIM_ASSERT(log_.front()->seq <= acked_[r] + 1);
      const std::size_t first = static_cast<std::size_t>(acked_[r] + 1 - log_.front()->seq);
      // A batch stays under the byte cap unless it is a single version (at most a value plus a
      // key and metadata: within the network's datagram limit).
      std::size_t end = first, bytes = 0;
      while (end < log_.size() && end - first < c.replication_batch_ops_max) {
        const Version& v = *log_[end];
        const std::size_t size = v.value.size() + v.key.size() + v.ns.size() +
                                 (v.metadata ? v.metadata->size() : 0) + 8 * v.visible_at.size() +
                                 128;
        if (end > first && bytes + size > c.replication_batch_bytes_max) break;
        bytes += size;
        ++end;
      }
      WireWriter batch;
      batch.u64(end - first);
      for (std::size_t i = first; i < end; ++i) encode_version(batch, *log_[i]);
      std::string request = batch.take();
      auto reply = w.rpc().call(t, dst, rpc_name, std::move(request), c.replication_timeout);
      if (!reply.ok()) {
        t.sleep(c.replication_retry);
        continue;
      }
      WireReader rr(reply.value());
      if (!read_envelope(rr, "REPLICATE").ok()) {
        t.sleep(c.replication_retry);
        continue;
      }
      const std::uint64_t applied = rr.u64();
      if (!rr.ok()) continue;
      ++service_.stats_.replication_batches;
      acked_[r] = std::max(acked_[r], std::min(applied, store_.applied_seq()));
      trim_log();
    }
  }

  void trim_log() {
    std::uint64_t low = store_.applied_seq();
    for (std::size_t r = 1; r < acked_.size(); ++r) low = std::min(low, acked_[r]);
    while (!log_.empty() && log_.front()->seq <= low) log_.pop_front();
  }

  // Request: n, n x version. Reply body: the replica's applied seq (the primary resends from
  // there; versions beyond a gap are ignored).
  std::string handle_replicate(sim::Task& t, sim::NodeId from, std::string_view req) {
    WireReader r(req);
    const std::uint64_t n = r.u64();
    std::uint64_t first = 0, applied = 0;
    for (std::uint64_t i = 0; i < n && r.ok(); ++i) {
      std::shared_ptr<const Version> v = kv_internal::decode_version(r);
      if (v == nullptr) break;
      if (first == 0) first = v->seq;
      if (v->seq != store_.applied_seq() + 1) continue;
      store_.apply(std::move(v), t.now());
      ++applied;
    }
    if (n > 0) {
      emit(node_.id(), [&](sim::ev::Body& b) {
        auto& e = *b.mutable_kv_replicate();
        e.set_from(from);
        e.set_first_seq(first);
        e.set_ops(n);
        e.set_applied(applied);
        e.set_applied_seq(store_.applied_seq());
      });
    }
    WireWriter w;
    w.u8(kReplyOk);
    w.u64(store_.applied_seq());
    return w.take();
  }

  KvService& service_;
  std::size_t index_;
  sim::Node& node_;
  Store store_;
  // Primary only.
  std::deque<std::shared_ptr<const Version>> log_;  // seqs not yet acknowledged by every replica
  std::vector<std::uint64_t> acked_;                // per central index: applied there
  sim::WaitQueue log_waiters_;
  std::map<std::uint64_t, std::string> replies_;  // by History op id
  std::deque<std::pair<sim::Time, std::uint64_t>> reply_order_;
};

}  // namespace kv_internal

// ---------------------------------------------------------------------------------------------
// KvService.

KvService::KvService(sim::World& world, KvConfig config)
    : world_(world), config_(std::move(config)), lag_rng_(world.rng(config_.name + "/lag")) {
  SIM_REQUIRE(!config_.central_locations.empty());
  SIM_REQUIRE(config_.central_names.empty() ||
              config_.central_names.size() == config_.central_locations.size());
  SIM_REQUIRE(config_.cache_ttl_default >= config_.cache_ttl_min);
  SIM_REQUIRE(config_.list_limit_max > 0);
  for (std::size_t i = 0; i < config_.central_locations.size(); ++i) {
    std::string node_name = i < config_.central_names.size()
                                ? config_.central_names[i]
                                : config_.name + "-" + config_.central_locations[i];
    sim::Node& node =
        world.add_node(std::move(node_name), std::string_view(config_.central_locations[i]));
    central_nodes_.push_back(&node);
    centrals_.push_back(std::make_unique<kv_internal::Central>(*this, i, node));
    node.on_boot([this, i](sim::Node& n) { boot_central(i, n); });
  }
}

KvService::~KvService() = default;

void KvService::boot_central(std::size_t index, sim::Node& node) { centrals_[index]->boot(); }

KvClient& KvService::attach(sim::Node& pop) {
  auto it = clients_.find(pop.id());
  if (it != clients_.end()) return *it->second;
  for (const sim::Node* c : central_nodes_) SIM_REQUIRE(c != &pop);
  const int index = static_cast<int>(pops_.size());
  pops_.push_back(pop.id());
  auto client = std::unique_ptr<KvClient>(new KvClient(*this, pop, index));
  return *clients_.emplace(pop.id(), std::move(client)).first->second;
}

KvClient* KvService::client(sim::NodeId pop) {
  auto it = clients_.find(pop);
  return it == clients_.end() ? nullptr : it->second.get();
}

int KvService::pop_index(sim::NodeId node) const {
  auto it = clients_.find(node);
  return it == clients_.end() ? -1 : it->second->index_;
}

void KvService::set_lag_multiplier(double factor) {
  SIM_REQUIRE(factor >= 0);
  lag_multiplier_ = factor;
  world_.emit(primary().id(),
              [&](sim::ev::Body& b) { b.mutable_kv_lag_multiplier()->set_factor(factor); });
}

std::optional<std::string> KvService::TEST_central_value(std::size_t index, std::string_view ns,
                                                         std::string_view key) const {
  const Store::KeyState* ks = centrals_.at(index)->store().find(ns, key);
  if (ks == nullptr || !ks->versions.back()->present_at(world_.now())) return std::nullopt;
  return ks->versions.back()->value;
}

std::uint64_t KvService::TEST_applied_seq(std::size_t index) const {
  return centrals_.at(index)->store().applied_seq();
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
  const CrashGuard guard(h, op, node_);
  auto fail = [&](sim::Error e) -> sim::Result<KvValueWithMetadata> {
    h.complete(op, sim::OpStatus::kFail, e.message);
    return e;
  };
  if (auto e = check_key(key, op_name, c)) return fail(*e);
  const sim::Duration ttl = options.cache_ttl.value_or(c.cache_ttl_default);
  if (ttl < c.cache_ttl_min) {
    return fail(kv_error(sim::ErrorKind::kInvalid, op_name, 400,
                         "Invalid cache_ttl of " + std::to_string(whole_seconds(ttl)) +
                             ". Cache TTL must be at least " +
                             std::to_string(whole_seconds(c.cache_ttl_min)) + "."));
  }
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
  const CrashGuard guard(h, op, node_);
  auto fail = [&](sim::Error e) -> sim::Status {
    h.complete(op, sim::OpStatus::kFail, e.message);
    return e;
  };
  if (auto e = check_key(key, op_name, c)) return fail(*e);
  if (value.size() > c.value_bytes_max) {
    return fail(kv_error(sim::ErrorKind::kOverloaded, op_name, 413,
                         "Value length of " + std::to_string(value.size()) + " exceeds limit of " +
                             std::to_string(c.value_bytes_max) + "."));
  }
  if (options.metadata && options.metadata->size() > c.metadata_bytes_max) {
    return fail(kv_error(sim::ErrorKind::kOverloaded, op_name, 413,
                         "Metadata length of " + std::to_string(options.metadata->size()) +
                             " exceeds limit of " + std::to_string(c.metadata_bytes_max) + "."));
  }
  // Expiration in whole seconds since the Unix epoch, as the platform stores it.
  sim::Time expires_at = sim::kTimeMax;
  const std::int64_t now_unix = kKvEpochUnixSeconds + whole_seconds(task.now());
  const std::int64_t min_s = whole_seconds(c.expiration_ttl_min);
  // Beyond this an expiry does not fit the virtual clock (about 292 years).
  const std::int64_t horizon_s = sim::kTimeMax / sim::kSecond - 1;
  std::optional<std::int64_t> expiration;
  if (options.expiration_ttl) {
    const std::int64_t ttl = *options.expiration_ttl;
    if (ttl < min_s || ttl > horizon_s) {
      return fail(kv_error(sim::ErrorKind::kInvalid, op_name, 400,
                           "Invalid expiration_ttl of " + std::to_string(ttl) +
                               ". Expiration TTL must be at least " + std::to_string(min_s) + "."));
    }
    expiration = now_unix + ttl;
  } else if (options.expiration) {
    const std::int64_t e = *options.expiration;
    if (e < now_unix + min_s || e - kKvEpochUnixSeconds > horizon_s) {
      return fail(kv_error(sim::ErrorKind::kInvalid, op_name, 400,
                           "Invalid expiration of " + std::to_string(e) +
                               ". Expiration times must be at least " + std::to_string(min_s) +
                               " seconds in the future."));
    }
    expiration = e;
  }
  if (expiration && *expiration - kKvEpochUnixSeconds <= horizon_s) {
    expires_at = (*expiration - kKvEpochUnixSeconds) * sim::kSecond;
  }

  WireWriter req;
  req.u64(op);
  req.str(ns);
  req.str(key);
  req.u8(deleted ? 1 : 0);
  req.str(value);
  req.opt_str(options.metadata);
  req.i64(expires_at);
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

  if (c.local_read_your_writes) {
    const std::string ck = kv_internal::cache_key(ns, key);
    auto it = cache_.find(ck);
    if (it == cache_.end() || it->second.seq < seq) {
      CacheEntry e;
      e.present = !deleted;
      e.value = std::move(value);
      e.metadata = options.metadata;
      e.expires_at = expires_at;
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
  const CrashGuard guard(h, op, node_);
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
