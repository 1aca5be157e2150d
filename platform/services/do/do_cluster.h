// services::DoCluster: the distributed half of Durable Objects (no JS). It keeps two promises:
//   1. at most one live instance per object id (for an event start and for every storage write);
//   2. a crash never loses an acknowledged write.
// The JS half (an ObjectExecutor: objects::DoHost in platform/objects) runs the object's code on
// a host; this file decides where it runs, for how long, and makes its state durable.
//
// Nodes (all reached over sim::Rpc, so partitions, loss, duplication and crashes apply):
// - one directory: object key -> (host, epoch, lease expiry); placement; the alarm registry;
// - N storage nodes (default 3; quorum = majority): the replicated state of every object;
// - M hosts: run active objects through their ObjectExecutor;
// - callers (any node, usually PoPs): DoCluster::call() from a task on that node.
//
// Object keys are namespace + "/" + id hex (object_key()).
//
// Leases and epochs. A host that must run an object asks the directory to acquire it. The
// directory grants a lease (lease_duration, default 10 s) with a fresh epoch: one more than the
// last epoch it ever granted for that object, persisted (synced) on its disk before it replies,
// so epochs are unique per object and monotonic across directory crashes. Every activation gets
// its own epoch, even on the host that already holds the lease. The host renews every
// renew_every (3 s); its own view of the expiry is the time it SENT the acquire/renewal plus
// lease_duration, never later than the directory's (which counts from receipt). A lease that is
// not renewed lapses; the host deactivates the object when it sees that, and refuses storage
// access as soon as its view of the lease has expired. The directory grants a new lease only
// when no live lease exists (it may extend a lease past its expiry while no newer epoch was
// granted). After a restart it has lost the lease table, so for one lease_duration (grace) it
// grants new leases only for objects whose last grant went to the same host (or that were never
// granted): a lease from before the crash cannot overlap a new one. Renewals of the latest epoch
// by its holder are honoured across restarts, so live objects survive a short directory outage.
//
// Storage protocol (single-decree Paxos per activation, full images as values). Each object's
// durable state is an opaque image (the executor's serialized SQLite database) plus its alarm.
// Each replica keeps per object: promised epoch, and the latest (epoch, seq, image, alarm).
// - Activation with epoch e: promise(object, e) to every replica. A replica records
//   promised = max(promised, e) durably and replies with its latest (epoch, seq, image, alarm),
//   or rejects when it promised a higher epoch. With a quorum of promises the host takes the
//   image with the highest (epoch, seq): that is the recovered state.
// - Commit: write(object, e, seq, image, alarm), seq = 1, 2, ... within the activation. A
//   replica accepts iff e >= promised and (e, seq) > its stored (epoch, seq), stores it in SQLite
//   on its simulated disk and syncs before replying. Acknowledged when a quorum accepted, and the
//   host's lease was still valid when the quorum was reached. One commit in flight per object.
// Why no acknowledged image is lost. Let (e, s) be acknowledged: a quorum W stored it. Take any
// later activation with epoch e' > e that recovered from a promise quorum P. W and P intersect
// in some replica r; r accepted (e, s) before it saw promise e' (after it, e < promised and it
// would have refused), so r reported a version >= (e, s), and the recovered version v >= (e, s).
// Versions of epoch e form one chain (one instance, commits in order, each image holding all
// before it), so if v has epoch e it includes (e, s). If v has an epoch e'' in (e, e'), it was
// written by activation e'', which by the same argument (induction on the epoch) recovered a
// state including (e, s) and only added to it. So every later state includes (e, s).
// Single instance in time: an acknowledged commit of epoch e happens before the host's lease
// view expires <= the directory's expiry <= the grant of any later epoch < that activation.
//
// Caller routing. call() uses a per-caller-node cache of object -> host; on a cache miss it asks
// the directory (locate), which returns the live lease holder or places the object on the host
// nearest the caller (ties by a seeded draw; hosts the caller could not reach and hosts the
// directory recently failed to reach are skipped). The host checks its lease (acquiring one if
// needed, which may answer "held by X": not-here with a hint) and activates the object (promise,
// recover) before handing the request to the executor. Not-here, unreachable hosts and
// retryable errors are retried (call_attempts_max); a timeout is not (it may have executed).
// Requests carry an id; hosts drop duplicates (the network may duplicate datagrams).
//
// Alarms. The committed alarm fires on the active host (at least once; one alarm() at a time;
// failures retried with backoff alarm_backoff_base * 2^n plus jitter, up to alarm_retries_max
// retries, the retry count passed to the executor). So that an alarm fires even when its host
// crashed and no request comes, every replica reports changed alarms to the directory
// (retrying until acknowledged, from durable "dirty" marks, so crashes do not lose reports); the
// directory keeps a persisted registry (newest (epoch, seq) wins) and, when an alarm is due and
// the object has no live lease, wakes the object on a host (its last host if reachable). Alarms
// may fire late during failover (up to about a lease plus a scan period).
//
// Mutants (DoClusterConfig, knobs "do.fencing=off", "do.storage_sync=off"):
// - fencing off: replicas ignore epochs (accept every write: last writer wins; never reject a
//   promise) and hosts ignore lease expiry (they keep serving and committing). The directory
//   still moves objects whose lease lapsed, so a host cut off from the directory keeps serving
//   callers that still reach it: split brain, lost updates.
// - storage_sync off: replicas reply before syncing (SQLite synchronous=OFF, a flush every
//   unsynced_flush_every): acknowledged writes die with a storage crash.
//
// Fibers: everything runs on tasks of the nodes involved; functions taking a sim::Task& may
// suspend. Crashing a node drops its role's volatile state; what survives is on its disk.
// Determinism: ordered containers only; RNG streams forked by stable names; virtual time only.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "sim/knobs.h"
#include "sim/node.h"
#include "sim/result.h"
#include "sim/sync.h"
#include "sim/task.h"
#include "sim/time.h"
#include "sim/world.h"

namespace services {

namespace do_internal {
class DirectoryRole;
class HostRole;
class StorageRole;
}  // namespace do_internal

struct DoClusterConfig {
  // Storage. 0: a majority of the storage nodes.
  int storage_quorum = 0;
  // Leases.
  sim::Duration lease_duration = 10 * sim::kSecond;
  sim::Duration renew_every = 3 * sim::kSecond;
  // Placements handed out by locate but not acquired yet are kept this long.
  sim::Duration placement_ttl = 5 * sim::kSecond;
  // A host the directory could not reach is skipped this long.
  sim::Duration host_failed_ttl = 10 * sim::kSecond;
  // RPC timeouts: directory and storage calls; a caller's request (the whole run on the host).
  sim::Duration rpc_timeout = 2 * sim::kSecond;
  sim::Duration request_timeout = 30 * sim::kSecond;
  // Caller retries (not-here, unreachable, retryable), with backoff base * 2^(attempt - 1).
  int call_attempts_max = 3;
  sim::Duration call_backoff_base = 50 * sim::kMillisecond;
  // How long a request waits for an activation already in progress.
  sim::Duration activation_wait_max = 10 * sim::kSecond;
  // Per-object token bucket on virtual time. Burst 0: one second of requests.
  double requests_per_second_max = 1000;
  double requests_burst_max = 0;
  // An object with no event for this long is released (0: never).
  sim::Duration idle_timeout = 70 * sim::kSecond;
  // Code site "do.evict_object" (only when the fault plan turns sites on): at each lease renewal
  // (renew_every) a quiescent active object is evicted with this chance, as the platform may do
  // at any time (a deploy, memory pressure): its in-memory state is gone, its storage stays.
  double evict_fault_p = 0.05;
  // Alarms.
  sim::Duration alarm_backoff_base = 2 * sim::kSecond;
  int alarm_retries_max = 6;
  sim::Duration alarm_report_every = 500 * sim::kMillisecond;  // replicas -> directory
  sim::Duration alarm_scan_every = sim::kSecond;               // directory: due alarms
  sim::Duration alarm_wake_retry = 5 * sim::kSecond;           // between wakes of one object
  // Mutants.
  bool fencing = true;
  bool storage_sync = true;
  sim::Duration unsynced_flush_every = sim::kSecond;  // storage_sync=off only

  // Every field above as a knob (sim/knobs.h), by its name: "fencing" on|off, "lease_duration"
  // 5s, ... The platform lists them as "do.<name>".
  static const sim::Knobs<DoClusterConfig>& knobs();
  // Sets one knob, by its name with or without the "do." prefix ("do.lease_duration", "5s").
  // Errors (kInvalid) name the knob.
  sim::Status set_knob(std::string_view name, std::string_view value);
  // "name=value", as in a scenario's knob list.
  sim::Status set_knob(std::string_view assignment);
};

// What a caller sees when a call fails. JS maps these onto the error's properties.
enum class DoErrorKind {
  kRetryable,    // surely not executed (not-here after retries, activation failed, lease lost
                 // before the event started): try again. JS: .retryable
  kOverloaded,   // surely not executed: the object is over requests_per_second_max. JS: .overloaded
  kUnreachable,  // surely not executed: no host (or no directory) could be reached
  kTimeout,      // outcome unknown: the request may have executed (timeout, commit outcome unknown)
  kRemote,       // the object ran the request and failed (the executor's own error). JS: .remote
};
const char* do_error_kind_name(DoErrorKind kind);

struct DoError {
  DoErrorKind kind = DoErrorKind::kRetryable;
  std::string message;

  // Whether the request may have had effects: a timeout (unknown) or a remote error (it ran).
  bool maybe_executed() const {
    return kind == DoErrorKind::kTimeout || kind == DoErrorKind::kRemote;
  }
  std::string to_string() const { return std::string(do_error_kind_name(kind)) + ": " + message; }
};

// The reply bytes, or a DoError.
class [[nodiscard]] DoResult {
 public:
  DoResult(std::string reply) : v_(std::move(reply)) {}  // NOLINT: implicit by design
  DoResult(DoError error) : v_(std::move(error)) {}      // NOLINT
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  const std::string& value() const {
    SIM_REQUIRE(ok());
    return std::get<0>(v_);
  }
  const DoError& error() const {
    SIM_REQUIRE(!ok());
    return std::get<1>(v_);
  }

 private:
  std::variant<std::string, DoError> v_;
};

// One active object on its host, as the executor sees it. Owned by the cluster and shared: an
// executor may keep it (shared_from_this()) past deactivation; it is then dead (lease_valid()
// false, commit() fails).
class ObjectHandle : public std::enable_shared_from_this<ObjectHandle> {
 public:
  ObjectHandle(const ObjectHandle&) = delete;
  ObjectHandle& operator=(const ObjectHandle&) = delete;
  ~ObjectHandle();

  const std::string& object() const { return object_; }
  sim::Node& host() const { return *node_; }
  std::uint64_t epoch() const { return epoch_; }
  // Unique per activation across the run (the DO single-instance checker's instance id).
  std::uint64_t instance() const { return instance_; }
  // The state recovered at activation: the highest (epoch, seq) of a promise quorum. "" and
  // no alarm for an object that never committed.
  const std::string& recovered_image() const { return recovered_image_; }
  std::optional<sim::Time> recovered_alarm() const { return recovered_alarm_; }
  // The alarm of the last acknowledged commit (or the recovered one).
  std::optional<sim::Time> committed_alarm() const { return committed_alarm_; }
  std::uint64_t committed_seq() const { return committed_seq_; }

  // Still active here and the lease (as this host sees it) has not expired. Check it at every
  // event start and before storage access. With fencing off, expiry is ignored.
  bool lease_valid() const;
  bool active() const;
  // A commit is in flight.
  bool committing() const { return committing_; }
  // This host's view of the lease expiry (the send time of the last granted acquire/renewal
  // plus lease_duration).
  sim::Time lease_expiry() const { return lease_expiry_; }

  // Makes `image` (the full state) and `alarm` durable on a quorum of replicas; suspends until
  // then. Commits of one object run one at a time (a second caller waits). Errors, after which
  // the object is deactivated (the executor gets deactivate()):
  //   kUnreachable: not attempted (not active, or the lease expired): surely not durable;
  //   kIo: attempted, outcome unknown (no quorum, fenced by a newer epoch, the lease expired
  //        before the quorum was reached, deactivated meanwhile).
  // Throws TaskCancelled. REQUIRES: task runs on host().
  sim::Status commit(sim::Task& task, std::string image, std::optional<sim::Time> alarm);

  // Gives the object up (idle eviction): it is deactivated now (deactivate() follows on a task
  // of its own) and the lease goes back to the directory. The next request activates it again.
  void release();

 private:
  friend class do_internal::HostRole;
  enum class State { kActivating, kActive, kDead };
  ObjectHandle(do_internal::HostRole* role, sim::Node* node, std::string object,
               std::uint64_t instance);

  do_internal::HostRole* role_;
  sim::Node* node_;
  std::uint64_t incarnation_;
  std::string object_;
  std::uint64_t instance_;
  State state_ = State::kActivating;
  std::uint64_t epoch_ = 0;
  sim::Time lease_expiry_ = 0;  // this host's view
  std::string recovered_image_;
  std::optional<sim::Time> recovered_alarm_;
  std::optional<sim::Time> committed_alarm_;
  std::uint64_t committed_seq_ = 0;
  std::uint64_t next_seq_ = 0;
  bool committing_ = false;
  sim::WaitQueue commit_waiters_;
  sim::WaitQueue state_waiters_;  // activation done, alarm changed, deactivation
  // Overload: token bucket.
  double tokens_ = 0;
  sim::Time tokens_at_ = 0;
  // Idle eviction and alarms.
  sim::Time last_event_ = 0;
  int inflight_ = 0;
  bool alarm_running_ = false;
  std::optional<sim::Time> alarm_settled_;  // fired (or given up) alarm time: not fired again
  std::size_t activation_index_ = 0;
};

// The object side, implemented by objects::DoHost (platform/objects) and by test doubles. One
// per host node. All calls on the host's tasks.
class ObjectExecutor {
 public:
  virtual ~ObjectExecutor() = default;
  // A request for `object`, active on this host (its handle holds the recovered image). Runs on
  // a fresh task of the host and may suspend; commits go through object.commit(). The returned
  // bytes go to the caller. The error kind tells the caller what happened:
  //   kUnreachable, kCancelled: surely had no effect (e.g. lease invalid at event start): the
  //     caller retries it elsewhere automatically;
  //   kOverloaded: surely had no effect, reported as overloaded;
  //   kTimeout, kIo: may have had an effect (a commit failed with an unknown outcome);
  //   kRemote, kInvalid: reported as a remote error.
  virtual sim::Result<std::string> handle(sim::Task& task, ObjectHandle& object,
                                          std::string request) = 0;
  // The committed alarm of `object` is due. At least once; never two at a time per object. The
  // executor runs alarm() and commits the new alarm state (cleared, or a new time). On error the
  // cluster calls again after alarm_backoff_base * 2^retry_count (plus jitter) while
  // retry_count < alarm_retries_max; the last call has retry_count == alarm_retries_max (the
  // executor may clear the alarm then). An ok return that leaves the same alarm committed is
  // not fired again by this activation.
  virtual sim::Status alarm(sim::Task& task, ObjectHandle& object, int retry_count) = 0;
  // The object is no longer active here (lease lost or released, commit failed): drop the
  // instance. Called on a task of its own, never from inside handle()/alarm()/commit(), though
  // those may still be running (their commits fail from now on). When the host crashes it is
  // called from the crash hook (no task; tasks already unwound) for every active object; an
  // executor with a crash hook of its own may have dropped the instance already.
  virtual void deactivate(ObjectHandle& object) = 0;
  // The host node booted (after its roles): serve what the executor serves of its own.
  virtual void boot(sim::Node& host) {}
  // Whether an idle `object` must stay active (e.g. it holds open WebSockets): idle_timeout does
  // not release it then.
  virtual bool keeps_alive(const ObjectHandle& object) const { return false; }
};

// Ground truth for checkers.
struct DoActivation {
  std::string object;
  std::uint64_t instance = 0;
  std::string host;
  sim::NodeId host_id = sim::kNoNode;
  std::uint64_t epoch = 0;
  sim::Time start = 0;            // the promise quorum was reached
  sim::Time end = sim::kTimeMax;  // deactivated (kTimeMax while live)
  std::string end_reason;
};

// An acknowledged commit.
struct DoCommit {
  std::string object;
  std::uint64_t instance = 0;
  std::string host;
  std::uint64_t epoch = 0;
  std::uint64_t seq = 0;
  sim::Time sent = 0;
  sim::Time acked = 0;
  std::optional<sim::Time> alarm;
};

struct DoStats {
  std::uint64_t calls = 0;
  std::uint64_t requests = 0;  // handed to executors
  std::uint64_t overloaded = 0;
  std::uint64_t activations = 0;
  std::uint64_t activation_failures = 0;
  std::uint64_t commits = 0;
  std::uint64_t commit_failures = 0;  // attempted, outcome unknown
  std::uint64_t commits_refused = 0;  // not attempted: not active, or the lease expired
  std::uint64_t fenced = 0;
  std::uint64_t leases_lost = 0;
  std::uint64_t alarms_fired = 0;
  std::uint64_t alarm_failures = 0;
  std::uint64_t wakes = 0;
  std::uint64_t duplicates_dropped = 0;
};

std::string object_key(std::string_view ns, std::string_view id_hex);

class DoCluster {
 public:
  // REQUIRES: the World outlives the cluster (declare the World first). Tasks the cluster left
  // on nodes are unwound by the World later and then touch only shared handles.
  DoCluster(sim::World& world, DoClusterConfig config = {});
  ~DoCluster();
  DoCluster(const DoCluster&) = delete;
  DoCluster& operator=(const DoCluster&) = delete;

  // Roles, before World::start(). Each sets the node's boot function to boot(node); a node with
  // services of its own sets its boot function afterwards and calls boot(node) from it. A node
  // may hold several roles. REQUIRES: one directory; the executor outlives the cluster.
  void add_directory(sim::Node& node);
  void add_storage(sim::Node& node);
  void add_host(sim::Node& node, ObjectExecutor& executor);
  void boot(sim::Node& node);

  // Sends `request` to `object` from the task's node (the caller). Throws TaskCancelled.
  DoResult call(sim::Task& task, std::string_view object, std::string request);

  const std::vector<DoActivation>& activations() const { return activations_; }
  const std::vector<DoCommit>& commits() const { return commits_; }
  const DoStats& stats() const { return stats_; }
  const DoClusterConfig& config() const { return config_; }
  sim::World& world() const { return world_; }
  int quorum() const;

  // Test hooks.
  std::shared_ptr<ObjectHandle> TEST_active(const sim::Node& host, std::string_view object) const;
  std::optional<sim::NodeId> TEST_cached_host(const sim::Node& caller,
                                              std::string_view object) const;

 private:
  friend class do_internal::DirectoryRole;
  friend class do_internal::HostRole;
  friend class do_internal::StorageRole;
  struct CallerCache {
    std::uint64_t incarnation = 0;
    std::map<std::string, sim::NodeId, std::less<>> hosts;
  };
  void add_role(sim::Node& node);
  CallerCache& cache_of(const sim::Node& caller);
  // The host the directory names for `key` (the live lease holder or a new placement), or
  // nullopt with *error set.
  std::optional<sim::NodeId> locate(sim::Task& task, const std::string& key,
                                    const std::vector<sim::NodeId>& avoid, DoError* error);
  // One attempt at `host`: the call's final result, or nullopt when it may be retried (*error
  // says why; a host that refused the connection joins *avoid).
  std::optional<DoResult> send_request(sim::Task& task, const std::string& key, sim::NodeId host,
                                       const std::string& request, std::vector<sim::NodeId>* avoid,
                                       DoError* error);

  sim::World& world_;
  DoClusterConfig config_;
  std::unique_ptr<do_internal::DirectoryRole> directory_;
  std::map<sim::NodeId, std::unique_ptr<do_internal::StorageRole>> storage_;
  std::map<sim::NodeId, std::unique_ptr<do_internal::HostRole>> hosts_;
  std::map<sim::NodeId, int> crash_hooks_;  // node -> hook handle
  std::map<sim::NodeId, CallerCache> caches_;
  std::vector<DoActivation> activations_;
  std::vector<DoCommit> commits_;
  DoStats stats_;
  std::uint64_t next_instance_ = 1;
  std::uint64_t next_request_ = 1;
};

}  // namespace services
