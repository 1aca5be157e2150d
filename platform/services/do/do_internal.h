// Internals of the DO cluster (do_cluster.h): the wire encoding, the
// quorum fan-out and the three roles. Not for use outside platform/services/do_*.
#pragma once

#include <compare>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "platform/services/do/do_cluster.h"
#include "sim/events.h"
#include "sim/rng.h"
#include "sim/sql_db.h"
#include "sim/wire.h"

namespace services::do_internal {

// The RPC codec is sim/wire.h.
using Writer = sim::WireWriter;
using Reader = sim::WireReader;

// Status bytes.
enum class AcquireStatus : std::uint8_t { kGranted = 0, kHeld = 1, kGrace = 2 };
enum class RequestStatus : std::uint8_t { kOk = 0, kNotHere = 1, kError = 2 };
enum class ReplicaStatus : std::uint8_t { kAccepted = 0, kRejected = 1 };

struct Version {
  std::uint64_t epoch = 0;
  std::uint64_t seq = 0;
  auto operator<=>(const Version&) const = default;
};

// SQLite on a node's simulated disk: sim/sql_db.h.
using sim::SqlDb;

// ---- Fan-out to every storage replica. ----

struct ReplicaReply {
  sim::NodeId replica = sim::kNoNode;
  sim::Result<std::string> reply;
};
// Sends `service(request)` from the task's node to every replica at once, and returns the
// replies gathered when `enough(replies)` holds, every replica answered, or `timeout` passed.
// The calls still out keep running on their own tasks; their replies are dropped. Throws
// TaskCancelled.
std::vector<ReplicaReply> ask_replicas(
    sim::Task& task, const std::vector<sim::NodeId>& replicas, std::string_view service,
    const std::string& request, sim::Duration timeout,
    const std::function<bool(const std::vector<ReplicaReply>&)>& enough);

// Replica replies to one round, counted: every reply is exactly one of accepted, rejected (with
// the promise that fenced it) or failed (no answer, or a malformed one).
struct Tally {
  int accepted = 0;
  int rejected = 0;
  int failed = 0;
  std::uint64_t promised_max = 0;
};

// ---- Roles. Each lives as long as the cluster; its volatile state is reset at boot/crash. ----

class DirectoryRole {
 public:
  DirectoryRole(DoCluster& cluster, sim::Node& node);
  void boot();
  void crash();
  sim::Node& node() const { return node_; }

  // For assertions that look at both ends of a lease at once (the simulation can).
  // The expiry of `host`'s lease of `key` at `epoch`, or nullopt when the table holds no such
  // lease (another holder or epoch, or it was lost in a crash).
  std::optional<sim::Time> lease_expiry(std::string_view key, sim::NodeId host,
                                        std::uint64_t epoch) const;
  // The last epoch granted for `key` (persisted), 0 if none; nullopt while the grant table is
  // not loaded.
  std::optional<std::uint64_t> granted_epoch(std::string_view key) const;

 private:
  struct Lease {
    sim::NodeId host = sim::kNoNode;
    std::uint64_t epoch = 0;
    sim::Time expiry = 0;
    std::uint64_t nonce = 0;  // of the acquire that made it, to answer duplicates alike
  };
  struct Record {  // persisted: the last grant
    std::uint64_t epoch = 0;
    sim::NodeId host = sim::kNoNode;
  };
  struct Placement {
    sim::NodeId host = sim::kNoNode;
    sim::Time until = 0;
  };
  struct AlarmEntry {  // persisted, except woken_at
    std::optional<sim::Time> alarm;
    Version version;
    sim::Time woken_at = -1;
  };

  sim::Result<std::string> on_locate(sim::Task& t, sim::NodeId from, std::string_view req);
  sim::Result<std::string> on_acquire(sim::Task& t, sim::NodeId from, std::string_view req);
  sim::Result<std::string> on_renew(sim::Task& t, sim::NodeId from, std::string_view req);
  sim::Result<std::string> on_release(sim::Task& t, sim::NodeId from, std::string_view req);
  sim::Result<std::string> on_alarms(sim::Task& t, sim::NodeId from, std::string_view req);
  // Opens the database and loads the grant and alarm tables.
  bool load_tables();
  void alarm_scan(sim::Task& t);
  void wake(sim::Task& t, std::string key, sim::NodeId host);
  bool lease_live(std::string_view key) const;
  bool in_grace() const;
  bool host_ok(sim::NodeId host) const;
  // The host nearest `near` among `candidates` (ties by a seeded draw).
  sim::NodeId nearest(const sim::Location& near, const std::vector<sim::NodeId>& candidates);
  // A trace event from this node (sim/events.h): `fill` sets the body's field.
  template <typename Fill>
  void emit(Fill&& fill) {
    c_.world_.emit(node_.id(), std::forward<Fill>(fill));
  }

  DoCluster& c_;
  sim::Node& node_;
  SqlDb db_;
  bool db_ok_ = false;
  sim::Rng rng_{0};
  sim::Time grace_until_ = 0;
  std::map<std::string, Lease, std::less<>> leases_;
  std::map<std::string, Record, std::less<>> records_;
  std::map<std::string, Placement, std::less<>> placements_;
  std::map<std::string, AlarmEntry, std::less<>> alarms_;
  std::map<sim::NodeId, sim::Time> host_failed_until_;
  // The newest epoch ever granted per object. The simulation's memory, not the node's: it
  // survives crashes, so that a grant table that lost a grant is caught.
  std::map<std::string, std::uint64_t, std::less<>> ever_granted_;
};

class StorageRole {
 public:
  StorageRole(DoCluster& cluster, sim::Node& node);
  void boot();
  void crash();
  sim::Node& node() const { return node_; }

 private:
  struct Row {
    bool exists = false;
    std::uint64_t promised = 0;
    Version version;
    bool has_image = false;
    std::string image;
    std::optional<sim::Time> alarm;
    bool alarm_dirty = false;
  };
  // What this replica told a host about an object: the promise and the stored version.
  struct Acknowledged {
    std::uint64_t promised = 0;
    Version version;
  };
  sim::Result<std::string> on_promise(sim::Task& t, sim::NodeId from, std::string_view req);
  sim::Result<std::string> on_write(sim::Task& t, sim::NodeId from, std::string_view req);
  std::optional<Row> load(const std::string& key);
  // Checks a loaded row against what this replica acknowledged before (durability), and
  // records what it is about to acknowledge.
  void check_durable(const std::string& key, const Row& row) const;
  void acknowledge(const std::string& key, std::uint64_t promised, const Version& version);
  void report_loop(sim::Task& t);
  void flush_loop(sim::Task& t);
  // A trace event from this node (sim/events.h): `fill` sets the body's field.
  template <typename Fill>
  void emit(Fill&& fill) {
    c_.world_.emit(node_.id(), std::forward<Fill>(fill));
  }

  DoCluster& c_;
  sim::Node& node_;
  SqlDb db_;
  bool db_ok_ = false;
  // Some row may have alarm_dirty = 1: set at boot and by every dirty write, so the report loop
  // queries only then (a scan every alarm_report_every of a quiet replica was most of the time
  // of long scenarios).
  bool maybe_dirty_ = true;
  // Outside the node's volatile state on purpose: it survives crashes, so that what a restarted
  // replica loads can be checked against what it acknowledged (the durability promise).
  std::map<std::string, Acknowledged, std::less<>> acknowledged_;
};

class HostRole {
 public:
  HostRole(DoCluster& cluster, sim::Node& node, ObjectExecutor& executor);
  void boot();
  void crash();
  sim::Node& node() const { return node_; }
  std::shared_ptr<ObjectHandle> find(std::string_view key) const;

  // For ObjectHandle.
  bool fencing() const;
  sim::Status commit(sim::Task& task, ObjectHandle& h, std::string image,
                     std::optional<sim::Time> alarm);
  void release(ObjectHandle& h);

 private:
  // What ensure_active() found: the active handle, or the reply to send back.
  struct Activation {
    static Activation ok(std::shared_ptr<ObjectHandle> h) {
      Activation a;
      a.handle = std::move(h);
      a.status = RequestStatus::kOk;
      return a;
    }
    static Activation error(DoErrorKind kind, std::string message) {
      return Activation{nullptr, RequestStatus::kError, sim::kNoNode, kind, std::move(message)};
    }
    static Activation retry(std::string message) {
      return error(DoErrorKind::kRetryable, std::move(message));
    }
    std::shared_ptr<ObjectHandle> handle;
    RequestStatus status = RequestStatus::kError;
    sim::NodeId hint = sim::kNoNode;
    DoErrorKind kind = DoErrorKind::kRetryable;
    std::string message;
  };
  // One commit attempt: its version and when it was sent.
  struct CommitAttempt {
    std::uint64_t epoch = 0;
    std::uint64_t seq = 0;
    sim::Time sent = 0;
  };
  // The retry state of the alarm loop: the alarm being retried, due again at `at`.
  struct AlarmRetry {
    int count = 0;
    bool active = false;
    sim::Time alarm = 0;
    sim::Time at = 0;
  };
  using Handle = std::shared_ptr<ObjectHandle>;

  sim::Result<std::string> on_request(sim::Task& t, sim::NodeId from, std::string_view req);
  sim::Result<std::string> on_wake(sim::Task& t, sim::NodeId from, std::string_view req);
  sim::Result<std::string> run_request(sim::Task& t, const Handle& h, std::string body);
  Activation ensure_active(sim::Task& t, const std::string& key);
  Activation activate(sim::Task& t, const std::string& key);
  // The steps of activate(). Each returns the failure to report, or nullopt to go on.
  std::optional<Activation> acquire_lease(sim::Task& t, const Handle& h);
  std::optional<Activation> recover(sim::Task& t, const Handle& h,
                                    std::optional<Version>* recovered);
  Activation start_active(sim::Task& t, const Handle& h, const std::optional<Version>& recovered);
  void fail_activation(const Handle& h, const std::string& why);
  void deactivate(const Handle& h, const std::string& reason, bool lease_lost);
  void give_back(const std::string& key, std::uint64_t epoch);
  // The steps of commit().
  std::optional<sim::Error> wait_to_commit(sim::Task& task, const Handle& h);
  std::vector<ReplicaReply> write_replicas(sim::Task& task, const ObjectHandle& h,
                                           const CommitAttempt& a, const std::string& image,
                                           std::optional<sim::Time> alarm);
  sim::Status acknowledge(sim::Task& task, const Handle& h, const CommitAttempt& a, const Tally& tl,
                          std::size_t bytes, std::optional<sim::Time> alarm);
  sim::Status fail_commit(const Handle& h, const CommitAttempt& a, const Tally& tl);
  void emit_commit_failed(const ObjectHandle& h, const CommitAttempt& a, const char* why,
                          const Tally& tl);
  std::vector<sim::NodeId> replicas() const;
  void renew_loop(sim::Task& t);
  void expire_and_evict(sim::Time now);
  void renew_leases(sim::Task& t);
  void alarm_loop(sim::Task& t, Handle h);
  // Runs the executor's alarm() once and accounts for it.
  sim::Status fire_alarm(sim::Task& t, const Handle& h, sim::Time alarm, int retry);
  // Settles the outcome of one firing: done, given up, or a retry scheduled in `retry`.
  void after_alarm(sim::Task& t, const Handle& h, std::optional<sim::Time> alarm,
                   const sim::Status& s, AlarmRetry* retry);
  // Handles move forward only: activating -> active -> dead, or activating -> dead.
  static void set_state(ObjectHandle& h, ObjectHandle::State to);
  // The host's view of a lease never outlasts the directory's.
  void check_lease_view(const ObjectHandle& h) const;
  bool take_token(ObjectHandle& h);
  bool seen_request(std::uint64_t id);
  std::string encode_activation(const Activation& a) const;
  // A trace event from this node (sim/events.h): `fill` sets the body's field.
  template <typename Fill>
  void emit(Fill&& fill) {
    c_.world_.emit(node_.id(), std::forward<Fill>(fill));
  }

  DoCluster& c_;
  sim::Node& node_;
  ObjectExecutor& executor_;
  sim::Rng rng_{0};
  std::uint64_t acquire_nonce_ = 0;
  std::map<std::string, std::shared_ptr<ObjectHandle>, std::less<>> objects_;
  // The newest epoch granted to this host per object, over all incarnations (the simulation's
  // memory, not the node's): activations on one host see their epochs grow.
  std::map<std::string, std::uint64_t, std::less<>> last_epoch_;
  // Deactivated handles whose executor.deactivate() has not run yet (a crash runs it).
  std::map<std::uint64_t, std::shared_ptr<ObjectHandle>> deactivating_;
  // Request ids seen lately, for dropping duplicated datagrams.
  std::set<std::uint64_t> seen_;
  std::deque<std::pair<sim::Time, std::uint64_t>> seen_order_;
};

}  // namespace services::do_internal
