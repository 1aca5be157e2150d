// services::KvService and services::KvClient: Workers KV on simulated nodes (no JS, no V8).
//
// What it is for. A Worker's `env.NS.get/put/delete/list` ends up here: the binding
// (bindings::KvBinding) calls a KvClient that lives on the Worker's PoP node, and the client talks
// over sim::Rpc to central store nodes. Every timing and limit is a KvConfig knob whose default is
// the documented behaviour of Cloudflare's KV (docs/semantics.md, "KV"); README.md explains the
// consistency model in plain words.
//
// Nodes.
// - Central stores, created by KvService: "<name>-<location>" for each of
//   KvConfig::central_locations (default kv-iad, kv-fra, kv-sin). The first is the primary: it
//   takes every write, orders writes (a global sequence number), enforces the per-key write rate,
//   draws the propagation lags and ships its log to the others (replicas) in order, with retries
//   across partitions and crashes. Reads and lists go to the nearest central store that answers.
//   Central stores never lose data: their state is kept by the KvService, outside the node's
//   volatile state, which models a replicated durable backend (a crash only makes a central
//   store unreachable until it restarts). A write is acknowledged once the primary applied it.
// - PoPs (edge locations): any node the caller owns; KvService::attach(pop) gives its KvClient,
//   which holds the PoP's cache (volatile: a crash of the PoP empties it).
//
// Consistency model (per key; see README.md for why it is faithful):
//   1. Each write w accepted by the primary at time t gets, for every PoP p, a propagation lag
//      L(w,p) drawn from KvConfig::propagation_lag (default uniform in [0, 60 s]), multiplied by
//      the lag-spike factor when the code site "kv.lag_spike" fires. The writing PoP gets 0 (unless
//      the mutant local_read_your_writes=false). A central store answers p with the newest write
//      it holds whose t + L(w,p) has passed: the lag stands for the fan-out and tier caches between
//      the central stores and p.
//   2. Each PoP caches what it reads, values and absences alike, for the get's cacheTtl (default
//      and minimum 60 s) from the moment it fetched them; a cached entry is served without asking
//      anyone. So a PoP that read a key recently sees a change only when its entry expires:
//      staleness at p is at most L(w,p) + cacheTtl (120 s with the defaults), more with spikes or
//      partitions.
//   3. The writing PoP's cache takes the new value (or absence) when the primary acknowledges the
//      write, so it reads its own write at once (read-your-writes per PoP, not per client).
//   4. A write to a key less than write_interval_per_key_min (1 s) after the previous accepted
//      write to that key is rejected by the primary with 429 and has no effect.
//   5. Expired values (expiration, expirationTtl) read as absent everywhere, on the virtual clock.
//
// History (sim::History of the World). Every client call is recorded:
//   object "kv:" + namespace, key = the key ("" for list), client "<pop node>/t<task serial>",
//   kind "get" (get and get_with_metadata), "put", "delete", "list".
//   put: input = kv_history_value(value); output "". delete: input "", output "".
//   get: output = kv_history_value(value) or "null" when absent.
//   list: input "prefix=<p> limit=<n> cursor=<c>"; output "keys=<k1,k2,...> list_complete=<bool>"
//         with each name escaped by kv_history_escape().
//   Values: "v:" + the bytes when at most KvConfig::history_value_bytes_max (256) bytes, else
//   "h:<size>:<16 hex digits of sim::stable_hash>"; present values therefore never read "null".
//   Status: ok; fail when the call surely had no effect (invalid argument, limit, rate limit,
//   unreachable, a read that found no store); unknown when a write timed out (it may still apply)
//   or the PoP crashed during the call. A call whose task was cancelled otherwise stays pending.
//   The primary records the effect point (History::effect) of each accepted write, in the order it
//   applied them: the per-key write order every central store follows.
// Trace events (for `edgesim show`): kv.propagate (a write becomes visible to a PoP), kv.cache_hit,
// kv.cache_fill, kv.read_stale (a central store served an older write because the newest had not
// reached the PoP yet), kv.write, kv.rate_limited, kv.replicate, kv.lag_spike, kv.lag_multiplier.
//
// Fiber rules. KvClient calls suspend the calling task (they take it first) and must run on a task
// of the client's PoP node. Between suspensions nothing else runs; across one, anything may
// happen (the cache may have changed, the node may crash: then the call throws TaskCancelled).
// Single-threaded like the rest of the simulation.
//
// Determinism. Lags come from the World's RNG stream "<name>/lag" (drawn by the primary in write
// order); every container is ordered; no wall clock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "sim/knobs.h"
#include "sim/node.h"
#include "sim/result.h"
#include "sim/rng.h"
#include "sim/task.h"
#include "sim/time.h"
#include "sim/world.h"

namespace services {

// Virtual time 0 is 2026-01-01T00:00:00Z, as in platform/js (kEpochUnixMs); `expiration` values
// are seconds since the Unix epoch like the real API.
inline constexpr std::int64_t kKvEpochUnixSeconds = sim::kUnixSecondsAtTimeZero;

// How long a write takes to reach a PoP other than the writer's.
struct KvLagDistribution {
  enum class Kind { kFixed, kUniform, kExponential };
  Kind kind = Kind::kUniform;
  // kFixed: the lag is `min`. kUniform: uniform in [min, max]. kExponential: min + an
  // exponential draw of mean `mean`, capped at `max`.
  sim::Duration min = 0;
  sim::Duration max = 60 * sim::kSecond;
  sim::Duration mean = 20 * sim::kSecond;

  static KvLagDistribution fixed(sim::Duration lag) { return {Kind::kFixed, lag, lag, lag}; }
  static KvLagDistribution uniform(sim::Duration lo, sim::Duration hi) {
    return {Kind::kUniform, lo, hi, (lo + hi) / 2};
  }
  // REQUIRES: min <= max, min >= 0.
  sim::Duration draw(sim::Rng& rng) const;
};

struct KvConfig {
  // Prefix of the central nodes' names, the RPC services and the RNG stream: two KvServices in one
  // World need different names.
  std::string name = "kv";
  // Where the central stores run; the first is the primary. REQUIRES: non-empty, known codes.
  std::vector<std::string> central_locations = {"iad", "fra", "sin"};
  // Node names of the central stores, in the same order (fault plans name them); empty:
  // "<name>-<location>". REQUIRES: empty or as long as central_locations; names unique in the
  // World.
  std::vector<std::string> central_names;

  KvLagDistribution propagation_lag;
  // Lag spikes: when faults.fire(lag_spike_site, lag_spike_probability) fires for a (write, PoP),
  // that lag is multiplied by lag_spike_multiplier. Sites fire only when the fault plan enables
  // them (swarm, or "sites on").
  std::string lag_spike_site = "kv.lag_spike";
  double lag_spike_probability = 0.05;
  double lag_spike_multiplier = 10;

  // cacheTtl: default and minimum (Miniflare uses 30 s as minimum).
  sim::Duration cache_ttl_default = 60 * sim::kSecond;
  sim::Duration cache_ttl_min = 60 * sim::kSecond;
  // At most one accepted write per key per this interval (429 otherwise).
  sim::Duration write_interval_per_key_min = sim::kSecond;

  std::size_t key_bytes_max = 512;
  std::size_t value_bytes_max = 25 * 1024 * 1024;
  std::size_t metadata_bytes_max = 1024;
  sim::Duration expiration_ttl_min = 60 * sim::kSecond;
  std::size_t list_limit_max = 1000;

  // Per attempt: a get or list tries each central store, nearest first, with this timeout.
  sim::Duration read_timeout = sim::kSecond;
  // A put or delete asks the primary once; on timeout the outcome is unknown.
  sim::Duration write_timeout = 5 * sim::kSecond;
  // Cache entries per PoP; beyond it the entries closest to expiry are dropped first.
  std::size_t cache_entries_max = 100'000;

  // Log shipping from the primary to each replica.
  std::size_t replication_batch_ops_max = 256;
  std::size_t replication_batch_bytes_max = 8 * 1024 * 1024;
  sim::Duration replication_timeout = 2 * sim::kSecond;
  sim::Duration replication_retry = 500 * sim::kMillisecond;

  // Emit kv.propagate at the instant each write becomes visible to each PoP (one scheduler event
  // per write per PoP, whether or not a trace is recorded, so that both runs stay identical).
  bool propagation_events = true;
  // Values longer than this are recorded in the history as a size and hash.
  std::size_t history_value_bytes_max = 256;

  // Mutant kv.local_read_your_writes=off (false): the writing PoP's cache is not updated on a
  // write and the write reaches that PoP with a drawn lag like anywhere else.
  bool local_read_your_writes = true;

  // The fields above as knobs (sim/knobs.h), listed by the platform as "kv.<name>". Besides the
  // fields: "propagation_lag" ("fixed 5s", "uniform 0s 60s", "exponential MIN MEAN MAX") and
  // "propagation_max" (uniform from 0); "cache_ttl_min" also raises the default to it.
  static const sim::Knobs<KvConfig>& knobs();
};

struct KvGetOptions {
  // How long this PoP may serve the fetched value (or absence) from its cache.
  // nullopt: KvConfig::cache_ttl_default. REQUIRES (else 400): >= KvConfig::cache_ttl_min.
  std::optional<sim::Duration> cache_ttl;
};

struct KvPutOptions {
  // Absolute expiry, seconds since the Unix epoch. REQUIRES (else 400): at least
  // expiration_ttl_min in the future.
  std::optional<std::int64_t> expiration;
  // Relative expiry in seconds, counted from the current whole second; wins over `expiration`.
  // REQUIRES (else 400): >= expiration_ttl_min.
  std::optional<std::int64_t> expiration_ttl;
  // Serialized metadata (JSON, the binding's business). REQUIRES (else 413): <= 1024 bytes.
  std::optional<std::string> metadata;
};

struct KvListOptions {
  std::string prefix;
  // REQUIRES (else 400): 1 <= limit <= KvConfig::list_limit_max (1000).
  std::size_t limit = 1000;
  // From a previous KvListResult::cursor; "" starts from the beginning.
  std::string cursor;
};

struct KvValueWithMetadata {
  std::optional<std::string> value;  // nullopt: absent (or expired)
  std::optional<std::string> metadata;
};

struct KvListKey {
  std::string name;
  std::optional<std::int64_t> expiration;  // seconds since the Unix epoch
  std::optional<std::string> metadata;
};

struct KvListResult {
  std::vector<KvListKey> keys;  // sorted by name, bytewise
  bool list_complete = true;
  std::string cursor;  // non-empty iff !list_complete
};

// Errors. Every KvClient error message has the real platform's shape,
// "KV <GET|PUT|DELETE|LIST> failed: <status> <text>", and a kind:
//   400 invalid argument (empty or "."/".." key, cacheTtl, expiration, limit, cursor)  kInvalid
//   414 key longer than key_bytes_max                                                   kInvalid
//   413 value or metadata too large                                                     kOverloaded
//   429 more than one write per second to a key                                         kOverloaded
//   503 no central store answered (partition, crash): reads and failed writes          kUnreachable
//   503 a write timed out: it may still take effect                                     kTimeout
// A JS binding throws `new Error(message)` (TypeError for an empty key is the binding's choice).
// Returns the status, or 0 for an error that did not come from KV.
int kv_error_status(const sim::Error& error);

// History encodings (see the header comment).
inline constexpr std::string_view kKvHistoryAbsent = "null";
std::string kv_history_value(std::string_view value, std::size_t verbatim_bytes_max = 256);
// Percent-escapes '%', ',', ' ', '=' and bytes outside 0x21..0x7e.
std::string kv_history_escape(std::string_view text);

class KvClient;
namespace kv_internal {
class Central;
}

class KvService {
 public:
  struct Stats {
    std::uint64_t writes_accepted = 0;
    std::uint64_t writes_rate_limited = 0;
    std::uint64_t central_reads = 0;  // gets that missed a PoP cache and reached a central store
    std::uint64_t central_lists = 0;
    std::uint64_t stale_serves = 0;  // central reads that returned an older write (lag)
    std::uint64_t lag_spikes = 0;
    std::uint64_t replication_batches = 0;
  };

  // Adds the central store nodes to `world` and sets their boot functions.
  // REQUIRES: called before world.start() (or call world.start() again afterwards); the World
  // outlives this service and is not run after it is destroyed.
  KvService(sim::World& world, KvConfig config);
  KvService(const KvService&) = delete;
  KvService& operator=(const KvService&) = delete;
  ~KvService();

  // The KV client of a PoP node; created on first call. REQUIRES: `pop` is not a central store.
  // PoPs attached after a write see that write without lag.
  KvClient& attach(sim::Node& pop);
  // nullptr when `pop` was never attached.
  KvClient* client(sim::NodeId pop);

  const KvConfig& config() const { return config_; }
  sim::World& world() const { return world_; }
  sim::Node& primary() const { return *central_nodes_.front(); }
  const std::vector<sim::Node*>& central_nodes() const { return central_nodes_; }
  const Stats& stats() const { return stats_; }

  // A scenario-driven lag fault: every lag drawn from now on is multiplied by `factor` (1 is
  // normal). REQUIRES: factor >= 0.
  void set_lag_multiplier(double factor);

  // Test hooks: what the central store at `index` (0 = primary) holds right now, ignoring
  // propagation lag (nullopt: absent or expired); and how far a replica's log has been applied.
  std::optional<std::string> TEST_central_value(std::size_t index, std::string_view ns,
                                                std::string_view key) const;
  std::uint64_t TEST_applied_seq(std::size_t index) const;

 private:
  friend class KvClient;
  friend class kv_internal::Central;

  void boot_central(std::size_t index, sim::Node& node);
  // The PoP index of a node, or -1.
  int pop_index(sim::NodeId node) const;

  sim::World& world_;
  KvConfig config_;
  double lag_multiplier_ = 1;
  sim::Rng lag_rng_;
  std::vector<sim::Node*> central_nodes_;
  std::vector<std::unique_ptr<kv_internal::Central>> centrals_;
  std::map<sim::NodeId, std::unique_ptr<KvClient>> clients_;
  std::vector<sim::NodeId> pops_;  // by PoP index
  Stats stats_;
};

// The KV API of one PoP. Obtained from KvService::attach; lives as long as the service.
// Every call REQUIRES: `task` runs on this client's PoP node. Namespaces are any string.
class KvClient {
 public:
  KvClient(const KvClient&) = delete;
  KvClient& operator=(const KvClient&) = delete;
  ~KvClient();

  // The value, or nullopt when the key is absent or expired. Served from the PoP cache while the
  // cached entry is fresh; otherwise fetched from the nearest central store that answers and
  // cached for options.cache_ttl. Fails (503) when it must fetch and no central store answers.
  sim::Result<std::optional<std::string>> get(sim::Task& task, std::string_view ns,
                                              std::string_view key,
                                              const KvGetOptions& options = {});
  sim::Result<KvValueWithMetadata> get_with_metadata(sim::Task& task, std::string_view ns,
                                                     std::string_view key,
                                                     const KvGetOptions& options = {});
  // Writes through the primary. On success the PoP's cache holds the new value.
  sim::Status put(sim::Task& task, std::string_view ns, std::string_view key, std::string value,
                  const KvPutOptions& options = {});
  // `delete` in the JS API. Deleting an absent key succeeds (and still counts as a write).
  sim::Status remove(sim::Task& task, std::string_view ns, std::string_view key);
  // Keys with their metadata and expiration, from the nearest central store that answers, as
  // visible to this PoP (lists are not cached).
  sim::Result<KvListResult> list(sim::Task& task, std::string_view ns,
                                 const KvListOptions& options = {});

  sim::Node& node() const { return node_; }
  std::size_t cache_entries() const { return cache_.size(); }
  void TEST_clear_cache();

 private:
  friend class KvService;
  struct CacheEntry {
    bool present = false;
    std::string value;
    std::optional<std::string> metadata;
    sim::Time expires_at = sim::kTimeMax;  // of the value (KV expiration)
    std::uint64_t seq = 0;                 // the write it reflects; 0: never written
    sim::Time fresh_until = 0;             // of the cache entry (cacheTtl)
  };
  struct Fetched;

  KvClient(KvService& service, sim::Node& node, int index);
  sim::Result<KvValueWithMetadata> read(sim::Task& task, std::string_view ns, std::string_view key,
                                        const KvGetOptions& options, const char* op_name);
  sim::Status write(sim::Task& task, std::string_view ns, std::string_view key, bool deleted,
                    std::string value, const KvPutOptions& options);
  sim::Result<Fetched> fetch(sim::Task& task, std::string_view ns, std::string_view key);
  // Sends `request` to each central store in order of distance until one answers.
  sim::Result<std::string> call_central(sim::Task& task, std::string_view service,
                                        const std::string& request, const char* op_name);
  void cache_store(const std::string& cache_key, CacheEntry entry);
  void cache_clear();
  const std::vector<std::size_t>& central_order();
  std::string client_name(const sim::Task& task) const;

  KvService& service_;
  sim::Node& node_;
  int index_;
  int crash_hook_ = 0;
  std::vector<std::size_t> central_order_;                // central indices, nearest first
  std::map<std::string, CacheEntry> cache_;               // by kv_internal::cache_key
  std::set<std::pair<sim::Time, std::string>> by_fresh_;  // (fresh_until, cache key): eviction
};

}  // namespace services
