// The KV central stores: the primary (orders writes, enforces the per-key write rate, draws the
// propagation lags, ships its log) and its replicas, and KvService, which owns them.
#include <algorithm>
#include <deque>
#include <map>
#include <utility>

#include "platform/services/kv/kv.h"
#include "platform/services/kv/kv_internal.h"
#include "sim/assert.h"
#include "sim/events.h"
#include "sim/faults.h"
#include "sim/history.h"
#include "sim/rpc.h"
#include "sim/sync.h"

namespace services {

using kv_internal::error_reply;
using kv_internal::kReplyOk;
using kv_internal::kv_error;
using kv_internal::read_envelope;
using kv_internal::Store;
using kv_internal::Version;
using kv_internal::WireReader;
using kv_internal::WireWriter;

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
      // A store serves a PoP only a write that has reached it, and nothing newer than it holds.
      SIM_ASSERT(v == nullptr || v->visible_to(pop) <= now);
      SIM_ASSERT(v == nullptr || v->seq <= newest->seq);
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
    sim::World& w = s.world();
    // Only the primary orders writes, and the key's previous accepted write is far enough back.
    SIM_ASSERT(primary());
    const Store::KeyState* previous = store_.find(ns, key);
    SIM_ASSERT(previous == nullptr ||
               now - previous->last_write_at >= s.config().write_interval_per_key_min);
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
    draw_lags(*v, writer, now);
    std::shared_ptr<const Version> shared = v;
    store_.apply(shared, now);
    SIM_ASSERT(store_.applied_seq() == shared->seq);
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
    if (s.config().propagation_events) schedule_propagation(shared, writer);
    // The log holds consecutive writes, so each replica is shipped every one, in order.
    SIM_ASSERT(log_.empty() || log_.back()->seq + 1 == shared->seq);
    log_.push_back(shared);
    log_waiters_.notify_all(w);
    WireWriter out;
    out.u8(kReplyOk);
    out.u64(shared->seq);
    return out.take();
  }

  // When `v` reaches each PoP: a drawn lag (times the multiplier, and a spike when the site
  // fires) after `now`; at once for the writer unless the mutant.
  void draw_lags(Version& v, int writer, sim::Time now) {
    KvService& s = service_;
    const KvConfig& c = s.config();
    sim::World& w = s.world();
    v.visible_at.resize(s.pops_.size(), now);
    v.visible_all_at = now;
    for (std::size_t p = 0; p < s.pops_.size(); ++p) {
      if (static_cast<int>(p) == writer && c.local_read_your_writes) continue;
      double lag = static_cast<double>(c.propagation_lag.draw(s.lag_rng_)) * s.lag_multiplier_;
      if (w.faults().fire(c.lag_spike_site, c.lag_spike_probability)) {
        lag *= c.lag_spike_multiplier;
        ++s.stats_.lag_spikes;
        emit(s.pops_[p], [&](sim::ev::Body& b) {
          b.mutable_kv_lag_spike()->set_seq(v.seq);
          b.mutable_kv_lag_spike()->set_lag(static_cast<sim::Duration>(std::min(lag, 1e18)));
        });
      }
      const auto d = static_cast<sim::Duration>(std::min(lag, 1e18));
      v.visible_at[p] = now + d;
      v.visible_all_at = std::max(v.visible_all_at, v.visible_at[p]);
    }
    // No PoP sees a write before the primary accepted it; read-your-writes gives the writer none.
    for (const sim::Time at : v.visible_at) SIM_ASSERT(at >= now);
    SIM_ASSERT(v.visible_all_at >= now);
    if (c.local_read_your_writes) SIM_ASSERT(v.visible_to(writer) == now);
  }

  // A kv.propagate event at the instant `v` reaches each PoP (the writer's is its write).
  void schedule_propagation(const std::shared_ptr<const Version>& v, int writer) {
    KvService& s = service_;
    sim::World& w = s.world();
    for (std::size_t p = 0; p < s.pops_.size(); ++p) {
      if (static_cast<int>(p) == writer && s.config().local_read_your_writes) continue;
      const sim::NodeId pop_node = s.pops_[p];
      w.scheduler().at(v->visible_at[p], [&w, shared = v, pop_node]() {
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
      // The log still holds everything replica r has not acknowledged.
      SIM_ASSERT(acked_[r] <= store_.applied_seq());
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
      // A replica applies only what the primary shipped it.
      SIM_ASSERT(applied <= store_.applied_seq());
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
  SIM_REQUIRE(config_.lag_spike_multiplier >= 0);
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

}  // namespace services
