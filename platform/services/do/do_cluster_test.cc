// Tests of the DO cluster with a C++ counter object (its image is the decimal value): routing and
// placement, durability across host and storage crashes, leases under partitions, alarms across
// crashes, overload, the storage protocol's fencing, and seed sweeps with swarm and scheduled
// faults checking that no acknowledged increment is lost and that no two instances commit at
// once. The mutants (fencing off, storage sync off) must be caught by the same checks.
#include "platform/services/do/do_cluster.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "platform/services/do/do_internal.h"
#include "sim/events.h"
#include "sim/faults.h"
#include "sim/history.h"
#include "sim/rpc.h"
#include "sim/sync.h"
#include "sim/world.h"

namespace services {
namespace {

using sim::kSecond;
using sim::millis;
using sim::seconds;

// ---- The counter object (test double of the JS executor) ----

struct AlarmFire {
  std::string object;
  std::uint64_t instance = 0;
  std::string host;
  sim::Time at = 0;
  int retry = 0;
};

struct Shared {
  std::vector<AlarmFire> fires;
  int alarm_failures_to_inject = 0;
};

class CounterExecutor final : public ObjectExecutor {
 public:
  explicit CounterExecutor(Shared& shared) : shared_(shared) {}

  sim::Result<std::string> handle(sim::Task& t, ObjectHandle& h, std::string req) override {
    auto inst = instance(h);
    Gate gate(t, inst);
    if (!h.lease_valid()) return sim::Error{sim::ErrorKind::kUnreachable, "lease not valid"};
    if (req == "get") return std::to_string(inst->value);
    if (req.rfind("slow_inc ", 0) == 0) {
      t.sleep(millis(std::stod(req.substr(9))));
      req = "inc";
    }
    if (req == "inc") {
      const std::int64_t next = inst->value + 1;
      sim::Status st = h.commit(t, std::to_string(next), h.committed_alarm());
      if (!st.ok()) return st.error();
      inst->value = next;
      return std::to_string(next);
    }
    if (req.rfind("alarm ", 0) == 0) {
      const sim::Time at = t.now() + millis(std::stod(req.substr(6)));
      sim::Status st = h.commit(t, std::to_string(inst->value), at);
      if (!st.ok()) return st.error();
      return std::string("set");
    }
    if (req == "release") {
      h.release();
      return std::string("released");
    }
    return sim::Error{sim::ErrorKind::kInvalid, "unknown request " + req};
  }

  sim::Status alarm(sim::Task& t, ObjectHandle& h, int retry_count) override {
    auto inst = instance(h);
    Gate gate(t, inst);
    shared_.fires.push_back(
        AlarmFire{h.object(), h.instance(), h.host().name(), t.now(), retry_count});
    if (shared_.alarm_failures_to_inject > 0) {
      --shared_.alarm_failures_to_inject;
      return sim::Error{sim::ErrorKind::kRemote, "injected alarm failure"};
    }
    return h.commit(t, std::to_string(inst->value), std::nullopt);
  }

  void deactivate(ObjectHandle& h) override { instances_.erase(h.instance()); }

  std::size_t live_instances() const { return instances_.size(); }

 private:
  struct Instance {
    std::int64_t value = 0;
    bool busy = false;
    sim::WaitQueue idle;
  };
  // The input gate: one event at a time per instance.
  struct Gate {
    std::shared_ptr<Instance> inst;
    sim::World& world;
    Gate(sim::Task& t, std::shared_ptr<Instance> i) : inst(std::move(i)), world(t.world()) {
      while (inst->busy) inst->idle.wait(t);
      inst->busy = true;
    }
    ~Gate() {
      inst->busy = false;
      inst->idle.notify_one(world);
    }
  };

  std::shared_ptr<Instance> instance(ObjectHandle& h) {
    auto it = instances_.find(h.instance());
    if (it != instances_.end()) return it->second;
    auto inst = std::make_shared<Instance>();
    inst->value = h.recovered_image().empty() ? 0 : std::stoll(h.recovered_image());
    instances_[h.instance()] = inst;
    return inst;
  }

  Shared& shared_;
  std::map<std::uint64_t, std::shared_ptr<Instance>> instances_;
};

// ---- The rig: directory, storage, hosts and PoPs ----

// Hashes every trace event: two runs with equal digests emitted the same events.
struct DigestSink : sim::EventSink {
  std::uint64_t digest = 0;
  std::uint64_t events = 0;
  std::map<std::string, int> kinds;
  void on_event(const sim::TraceEvent& e) override {
    const std::string line =
        std::to_string(e.time) + "|" + std::to_string(e.node) + "|" + e.body->SerializeAsString();
    digest = sim::mix64(digest ^ sim::stable_hash(line));
    ++events;
    ++kinds[std::string(sim::event_kind(*e.body))];
  }
};

class Rig {
 public:
  explicit Rig(std::uint64_t seed, DoClusterConfig config = {}) : world(seed) {
    world.add_sink(&sink);
    dir = &world.add_node("dir", "iad");
    for (const auto& [name, loc] : std::vector<std::pair<const char*, const char*>>{
             {"st-1", "fra"}, {"st-2", "ams"}, {"st-3", "iad"}}) {
      storage.push_back(&world.add_node(name, loc));
    }
    for (const char* loc : {"lhr", "iad", "sin"}) {
      hosts.push_back(&world.add_node(std::string("host-") + loc, loc));
    }
    for (const char* loc : {"lhr", "fra", "sin", "syd"}) {
      sim::Node& pop = world.add_node(std::string("pop-") + loc, loc);
      pop.set_faultable(false);  // clients live here
      pops.push_back(&pop);
    }
    cluster = std::make_unique<DoCluster>(world, config);
    cluster->add_directory(*dir);
    for (sim::Node* s : storage) cluster->add_storage(*s);
    for (sim::Node* h : hosts) {
      executors.push_back(std::make_unique<CounterExecutor>(shared));
      cluster->add_host(*h, *executors.back());
    }
  }
  ~Rig() { world.remove_sink(&sink); }

  void start() { world.start(); }

  sim::Node& node(const std::string& name) { return *world.find_node(name); }

  // Calls from `from` and runs the world until the call returns (or `limit` passes).
  DoResult call(sim::Node& from, const std::string& key, const std::string& req,
                sim::Duration limit = 120 * kSecond) {
    auto out = std::make_shared<std::optional<DoResult>>();
    DoCluster* c = cluster.get();
    world.spawn(from, "test.call",
                [out, c, key, req](sim::Task& t) { out->emplace(c->call(t, key, req)); });
    const sim::Time deadline = world.now() + limit;
    while (!out->has_value() && world.now() < deadline) world.run_for(millis(10));
    if (!out->has_value()) return DoError{DoErrorKind::kTimeout, "test: call did not return"};
    return **out;
  }

  // Retries until ok (sleeping 1 s between tries), up to `tries`.
  DoResult call_until_ok(sim::Node& from, const std::string& key, const std::string& req,
                         int tries = 60) {
    DoResult r = DoError{DoErrorKind::kRetryable, "no try"};
    for (int i = 0; i < tries; ++i) {
      r = call(from, key, req);
      if (r.ok()) return r;
      world.run_for(kSecond);
    }
    return r;
  }

  std::vector<DoActivation> activations_of(const std::string& key) const {
    std::vector<DoActivation> out;
    for (const auto& a : cluster->activations()) {
      if (a.object == key) out.push_back(a);
    }
    return out;
  }

  sim::World world;
  DigestSink sink;
  Shared shared;
  std::vector<std::unique_ptr<CounterExecutor>> executors;
  std::unique_ptr<DoCluster> cluster;
  sim::Node* dir = nullptr;
  std::vector<sim::Node*> storage, hosts, pops;
};

std::string why(const DoResult& r) { return r.ok() ? "ok: " + r.value() : r.error().to_string(); }

// ---- Basic behaviour ----

TEST(DoCluster, PlacesNearTheFirstCallerAndCounts) {
  Rig rig(1);
  rig.start();
  const std::string key = object_key("COUNTER", "aa01");
  for (int i = 1; i <= 5; ++i) {
    DoResult r = rig.call(rig.node("pop-sin"), key, "inc");
    ASSERT_TRUE(r.ok()) << why(r);
    EXPECT_EQ(r.value(), std::to_string(i));
  }
  const auto acts = rig.activations_of(key);
  ASSERT_EQ(acts.size(), 1u);
  EXPECT_EQ(acts[0].host, "host-sin");
  EXPECT_EQ(acts[0].epoch, 1u);
  EXPECT_EQ(rig.cluster->TEST_cached_host(rig.node("pop-sin"), key), rig.node("host-sin").id());
  // A caller elsewhere reaches the same instance.
  DoResult r = rig.call(rig.node("pop-lhr"), key, "get");
  ASSERT_TRUE(r.ok()) << why(r);
  EXPECT_EQ(r.value(), "5");
  EXPECT_EQ(rig.activations_of(key).size(), 1u);
  EXPECT_EQ(rig.cluster->commits().size(), 5u);
  EXPECT_GT(rig.sink.kinds["do.activate"], 0);
  EXPECT_GT(rig.sink.kinds["do.commit"], 0);
}

TEST(DoCluster, KnobsSetMutantsAndLimits) {
  DoClusterConfig c;
  EXPECT_TRUE(c.set_knob("do.fencing=off").ok());
  EXPECT_FALSE(c.fencing);
  EXPECT_TRUE(c.set_knob("do.storage_sync", "off").ok());
  EXPECT_FALSE(c.storage_sync);
  EXPECT_TRUE(c.set_knob("do.lease_duration=5s").ok());
  EXPECT_EQ(c.lease_duration, 5 * kSecond);
  EXPECT_TRUE(c.set_knob("do.requests_per_second_max=20").ok());
  EXPECT_EQ(c.requests_per_second_max, 20);
  EXPECT_FALSE(c.set_knob("do.fencing=maybe").ok());
  EXPECT_FALSE(c.set_knob("do.nonsense=1").ok());
  EXPECT_FALSE(c.set_knob("do.lease_duration").ok());
}

TEST(DoCluster, AcknowledgedWriteSurvivesHostCrashOnAnotherHost) {
  Rig rig(2);
  rig.start();
  const std::string key = object_key("COUNTER", "b0");
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(rig.call(rig.node("pop-lhr"), key, "inc").ok());
  ASSERT_EQ(rig.activations_of(key).back().host, "host-lhr");
  rig.world.crash(rig.node("host-lhr"));
  // The lease must lapse before the object can move; the caller retries meanwhile.
  DoResult r = rig.call_until_ok(rig.node("pop-lhr"), key, "inc");
  ASSERT_TRUE(r.ok()) << why(r);
  EXPECT_EQ(r.value(), "4");
  const auto acts = rig.activations_of(key);
  ASSERT_EQ(acts.size(), 2u);
  EXPECT_NE(acts[1].host, "host-lhr");
  EXPECT_GT(acts[1].epoch, acts[0].epoch);
  EXPECT_EQ(acts[0].end_reason, "host crashed");
}

TEST(DoCluster, AcknowledgedWriteSurvivesHostRestart) {
  Rig rig(3);
  rig.start();
  const std::string key = object_key("COUNTER", "b1");
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(rig.call(rig.node("pop-lhr"), key, "inc").ok());
  rig.world.crash(rig.node("host-lhr"));
  rig.world.run_for(seconds(1));
  rig.world.restart(rig.node("host-lhr"));
  // The restarted host still holds the lease at the directory: it takes a new epoch at once.
  DoResult r = rig.call(rig.node("pop-lhr"), key, "inc");
  ASSERT_TRUE(r.ok()) << why(r);
  EXPECT_EQ(r.value(), "4");
  const auto acts = rig.activations_of(key);
  ASSERT_EQ(acts.size(), 2u);
  EXPECT_EQ(acts[1].host, "host-lhr");
  EXPECT_EQ(acts[1].epoch, 2u);
}

TEST(DoCluster, PartitionedHostLosesItsLeaseAndItsNextCommitFails) {
  DoClusterConfig cfg;
  cfg.idle_timeout = 0;
  Rig rig(4, cfg);
  rig.start();
  const std::string key = object_key("COUNTER", "c0");
  ASSERT_TRUE(rig.call(rig.node("pop-lhr"), key, "inc").ok());
  ASSERT_NE(rig.cluster->TEST_active(rig.node("host-lhr"), key), nullptr);
  // A long request starts; then the host is cut off from the directory (not from the caller
  // nor the storage nodes).
  auto slow = std::make_shared<std::optional<DoResult>>();
  DoCluster* c = rig.cluster.get();
  rig.world.spawn(rig.node("pop-lhr"), "slow", [slow, c, key](sim::Task& t) {
    slow->emplace(c->call(t, key, "slow_inc 15000"));
  });
  rig.world.run_for(seconds(1));
  auto handle = rig.cluster->TEST_active(rig.node("host-lhr"), key);
  ASSERT_NE(handle, nullptr);
  rig.world.net().partition({rig.node("host-lhr").id()}, {rig.dir->id()});
  rig.world.run_for(seconds(12));
  // Renewals failed: the lease lapsed and the object was deactivated.
  EXPECT_FALSE(handle->lease_valid());
  EXPECT_EQ(rig.cluster->TEST_active(rig.node("host-lhr"), key), nullptr);
  EXPECT_GE(rig.cluster->stats().leases_lost, 1u);
  EXPECT_GE(rig.sink.kinds["do.lease_lost"], 1);
  // Meanwhile another PoP gets the object elsewhere and sees the acknowledged value.
  DoResult other = rig.call_until_ok(rig.node("pop-sin"), key, "get");
  ASSERT_TRUE(other.ok()) << why(other);
  EXPECT_EQ(other.value(), "1");
  // The slow request's commit came after the lease: refused before touching storage, so it
  // surely had no effect and the caller retried it where the object lives now.
  while (!slow->has_value()) rig.world.run_for(millis(100));
  EXPECT_GE(rig.cluster->stats().commits_refused, 1u);
  for (const DoCommit& cm : rig.cluster->commits()) {
    EXPECT_FALSE(cm.host == "host-lhr" && cm.sent > seconds(2)) << "commit at " << cm.sent;
  }
  ASSERT_TRUE((*slow)->ok()) << why(**slow);
  EXPECT_EQ((*slow)->value(), "2");
  const auto acts = rig.activations_of(key);
  ASSERT_GE(acts.size(), 2u);
  EXPECT_EQ(acts[0].host, "host-lhr");
  EXPECT_EQ(acts[0].end_reason, "lease expired");
  EXPECT_NE(acts[1].host, "host-lhr");
  rig.world.net().heal();
  DoResult r = rig.call_until_ok(rig.node("pop-lhr"), key, "inc");
  ASSERT_TRUE(r.ok()) << why(r);
  EXPECT_EQ(r.value(), "3");
}

TEST(DoCluster, CommitAcknowledgedAfterTheLeaseDoesNotCount) {
  // Whether the stalled commit or the lease check runs first after the stall is the seed's
  // choice: try several.
  for (std::uint64_t seed = 16; seed < 26; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    DoClusterConfig cfg;
    cfg.idle_timeout = 0;
    Rig rig(seed, cfg);
    rig.start();
    const std::string key = object_key("COUNTER", "c1");
    ASSERT_TRUE(rig.call(rig.node("pop-lhr"), key, "inc").ok());
    auto h = rig.cluster->TEST_active(rig.node("host-lhr"), key);
    ASSERT_NE(h, nullptr);
    // The host stalls (a long GC pause) with a commit in flight: the replicas store it, but the
    // host hears the acknowledgements only after its lease lapsed and the object moved.
    auto slow = std::make_shared<std::optional<DoResult>>();
    DoCluster* c = rig.cluster.get();
    rig.world.spawn(rig.node("pop-lhr"), "inc",
                    [slow, c, key](sim::Task& t) { slow->emplace(c->call(t, key, "inc")); });
    while (!h->committing()) rig.world.run_for(sim::micros(50));
    rig.world.pause(rig.node("host-lhr"));
    rig.world.run_for(seconds(12));
    DoResult moved = rig.call_until_ok(rig.node("pop-sin"), key, "get");
    ASSERT_TRUE(moved.ok()) << why(moved);
    EXPECT_EQ(moved.value(), "2");  // the stalled write reached a quorum before the promise
    const auto acts = rig.activations_of(key);
    ASSERT_EQ(acts.size(), 2u);
    rig.world.resume(rig.node("host-lhr"));
    while (!slow->has_value()) rig.world.run_for(millis(100));
    // Its outcome is unknown to the caller, and the late acknowledgement is not a commit of the
    // old instance after the new one started.
    ASSERT_FALSE((*slow)->ok());
    EXPECT_EQ((*slow)->error().kind, DoErrorKind::kTimeout) << (*slow)->error().to_string();
    for (const DoCommit& cm : rig.cluster->commits()) {
      EXPECT_FALSE(cm.instance == acts[0].instance && cm.acked >= acts[1].start);
    }
    EXPECT_GE(rig.sink.kinds["do.commit_failed"], 1);
  }
}

TEST(DoCluster, AcknowledgementAfterTheLeaseExpiredIsNotACommit) {
  // The host is cut off from the directory, so its lease runs out; a commit leaves just before
  // and the host stalls briefly across the expiry while the object moves elsewhere. The quorum
  // stored the write, but the host must not count it as acknowledged by its (old) instance.
  int late_acks = 0;
  for (std::uint64_t seed = 30; seed < 60; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    DoClusterConfig cfg;
    cfg.idle_timeout = 0;
    Rig rig(seed, cfg);
    rig.start();
    const std::string key = object_key("COUNTER", "c2");
    ASSERT_TRUE(rig.call(rig.node("pop-lhr"), key, "inc").ok());
    auto h = rig.cluster->TEST_active(rig.node("host-lhr"), key);
    ASSERT_NE(h, nullptr);
    rig.world.net().partition({rig.node("host-lhr").id()}, {rig.dir->id()});
    rig.world.run_for(seconds(4));  // the last renewal got through before this
    const sim::Time expiry = h->lease_expiry();
    rig.world.run_until(expiry - millis(200));
    auto slow = std::make_shared<std::optional<DoResult>>();
    DoCluster* c = rig.cluster.get();
    rig.world.spawn(rig.node("pop-lhr"), "inc",
                    [slow, c, key](sim::Task& t) { slow->emplace(c->call(t, key, "inc")); });
    while (!h->committing() && rig.world.now() < expiry) rig.world.run_for(sim::micros(50));
    if (!h->committing()) continue;
    rig.world.pause(rig.node("host-lhr"));
    rig.world.run_until(expiry + millis(150));
    auto moved = std::make_shared<std::optional<DoResult>>();
    rig.world.spawn(rig.node("pop-sin"), "get",
                    [moved, c, key](sim::Task& t) { moved->emplace(c->call(t, key, "get")); });
    rig.world.run_until(expiry + millis(1500));
    rig.world.resume(rig.node("host-lhr"));
    rig.world.run_for(seconds(40));
    ASSERT_TRUE(slow->has_value());
    const auto acts = rig.activations_of(key);
    if (acts.size() < 2) continue;
    for (const DoCommit& cm : rig.cluster->commits()) {
      const bool late = cm.instance == acts[0].instance && cm.acked >= acts[1].start;
      EXPECT_FALSE(late) << "instance " << cm.instance << " acknowledged at "
                         << sim::format_time(cm.acked) << " after instance " << acts[1].instance
                         << " started at " << sim::format_time(acts[1].start);
    }
    // The caller cannot know whether its increment happened (it did: the quorum stored it).
    ASSERT_FALSE((*slow)->ok());
    EXPECT_EQ((*slow)->error().kind, DoErrorKind::kTimeout) << (*slow)->error().to_string();
    if (acts[0].end_reason == "lease expired during commit") ++late_acks;
  }
  // In some seeds the acknowledgements arrive before the host notices its lapsed lease.
  EXPECT_GE(late_acks, 1) << "no seed had a quorum acknowledge after the lease expired";
}

TEST(DoCluster, DirectoryRestartKeepsLiveObjectsAndNeverReusesEpochs) {
  Rig rig(5);
  rig.start();
  const std::string key = object_key("COUNTER", "d0");
  ASSERT_TRUE(rig.call(rig.node("pop-fra"), key, "inc").ok());
  ASSERT_TRUE(rig.call(rig.node("pop-fra"), key, "release").ok());  // next activation: new epoch
  ASSERT_TRUE(rig.call(rig.node("pop-fra"), key, "inc").ok());
  rig.world.crash(*rig.dir);
  rig.world.run_for(seconds(1));
  rig.world.restart(*rig.dir);
  // Renewals re-establish the lease; the cached route still works during the grace period.
  for (int i = 3; i <= 5; ++i) {
    DoResult r = rig.call(rig.node("pop-fra"), key, "inc");
    ASSERT_TRUE(r.ok()) << why(r);
    EXPECT_EQ(r.value(), std::to_string(i));
    rig.world.run_for(seconds(4));
  }
  // A brand-new object can be placed during grace (nothing could hold it).
  rig.world.crash(*rig.dir);
  rig.world.restart(*rig.dir);
  DoResult fresh = rig.call(rig.node("pop-syd"), object_key("COUNTER", "d1"), "inc");
  ASSERT_TRUE(fresh.ok()) << why(fresh);
  ASSERT_TRUE(rig.call(rig.node("pop-fra"), key, "release").ok());
  rig.world.run_for(seconds(1));
  DoResult again = rig.call_until_ok(rig.node("pop-fra"), key, "inc");
  ASSERT_TRUE(again.ok()) << why(again);
  EXPECT_EQ(again.value(), "6");
  std::uint64_t last = 0;
  for (const auto& a : rig.activations_of(key)) {
    EXPECT_GT(a.epoch, last);
    last = a.epoch;
  }
  EXPECT_GE(rig.activations_of(key).size(), 3u);
}

TEST(DoCluster, ToleratesAStorageMinorityAndRecoversFromAMajorityOutage) {
  Rig rig(6);
  rig.start();
  const std::string key = object_key("COUNTER", "e0");
  ASSERT_TRUE(rig.call(rig.node("pop-lhr"), key, "inc").ok());
  rig.world.crash(rig.node("st-1"));
  DoResult r = rig.call(rig.node("pop-lhr"), key, "inc");
  ASSERT_TRUE(r.ok()) << why(r);
  EXPECT_EQ(r.value(), "2");
  rig.world.crash(rig.node("st-2"));
  r = rig.call(rig.node("pop-lhr"), key, "inc");
  ASSERT_FALSE(r.ok());
  // The commit reached one replica: its outcome is unknown.
  EXPECT_EQ(r.error().kind, DoErrorKind::kTimeout) << r.error().to_string();
  rig.world.restart(rig.node("st-1"));
  rig.world.restart(rig.node("st-2"));
  r = rig.call_until_ok(rig.node("pop-lhr"), key, "inc");
  ASSERT_TRUE(r.ok()) << why(r);
  // 2 acknowledged, 1 unknown: 3 or 4.
  EXPECT_TRUE(r.value() == "3" || r.value() == "4") << r.value();
}

TEST(DoCluster, OverloadPastTheRate) {
  DoClusterConfig cfg;
  cfg.requests_per_second_max = 10;
  Rig rig(7, cfg);
  rig.start();
  const std::string key = object_key("COUNTER", "f0");
  ASSERT_TRUE(rig.call(rig.node("pop-lhr"), key, "get").ok());
  rig.world.run_for(seconds(2));  // refill the bucket
  auto ok = std::make_shared<int>(0);
  auto overloaded = std::make_shared<int>(0);
  DoCluster* c = rig.cluster.get();
  for (int i = 0; i < 40; ++i) {
    rig.world.spawn(rig.node("pop-lhr"), "burst", [c, key, ok, overloaded](sim::Task& t) {
      DoResult r = c->call(t, key, "get");
      if (r.ok()) ++*ok;
      if (!r.ok() && r.error().kind == DoErrorKind::kOverloaded) ++*overloaded;
    });
  }
  rig.world.run_for(seconds(5));
  EXPECT_EQ(*ok + *overloaded, 40);
  EXPECT_LE(*ok, 11);
  EXPECT_GE(*overloaded, 29);
  EXPECT_GE(rig.cluster->stats().overloaded, 29u);
  // Later, within the rate, fine again.
  rig.world.run_for(seconds(2));
  EXPECT_TRUE(rig.call(rig.node("pop-lhr"), key, "get").ok());
}

TEST(DoCluster, IdleObjectsAreReleasedAndComeBack) {
  DoClusterConfig cfg;
  cfg.idle_timeout = 20 * kSecond;
  Rig rig(8, cfg);
  rig.start();
  const std::string key = object_key("COUNTER", "g0");
  ASSERT_TRUE(rig.call(rig.node("pop-lhr"), key, "inc").ok());
  rig.world.run_for(seconds(30));
  EXPECT_EQ(rig.cluster->TEST_active(rig.node("host-lhr"), key), nullptr);
  EXPECT_EQ(rig.activations_of(key).back().end_reason, "released");
  for (auto& e : rig.executors) EXPECT_EQ(e->live_instances(), 0u);
  DoResult r = rig.call(rig.node("pop-lhr"), key, "inc");
  ASSERT_TRUE(r.ok()) << why(r);
  EXPECT_EQ(r.value(), "2");
  EXPECT_EQ(rig.activations_of(key).size(), 2u);
}

// The do.evict_object code site evicts a quiescent object long before its idle timeout (when the
// plan turns sites on and the seed switched the site on); its storage survives.
TEST(DoCluster, TheEvictionSiteDropsQuiescentObjectsAndTheyComeBack) {
  bool evicted = false;
  for (std::uint64_t seed = 1; seed <= 40 && !evicted; ++seed) {
    DoClusterConfig cfg;
    cfg.evict_fault_p = 1;
    Rig rig(seed, cfg);
    rig.start();
    rig.world.faults().set_sites_enabled(true);
    const std::string key = object_key("COUNTER", "g0");
    ASSERT_TRUE(rig.call_until_ok(rig.node("pop-lhr"), key, "inc").ok());
    rig.world.run_for(seconds(10));  // three lease renewals, far short of idle_timeout (70 s)
    if (rig.activations_of(key).back().end_reason.empty()) continue;  // the site is off
    evicted = true;
    EXPECT_EQ(rig.activations_of(key).back().end_reason, "released");
    DoResult r = rig.call_until_ok(rig.node("pop-lhr"), key, "inc");
    ASSERT_TRUE(r.ok()) << why(r);
    EXPECT_EQ(r.value(), "2");
    EXPECT_GE(rig.activations_of(key).size(), 2u);
  }
  EXPECT_TRUE(evicted) << "no seed in 1..40 switched do.evict_object on";
}

// ---- Alarms ----

TEST(DoCluster, AlarmFiresOnTheActiveHost) {
  Rig rig(9);
  rig.start();
  const std::string key = object_key("COUNTER", "h0");
  const sim::Time set_at = rig.world.now();
  ASSERT_TRUE(rig.call(rig.node("pop-lhr"), key, "alarm 3000").ok());
  rig.world.run_for(seconds(10));
  ASSERT_EQ(rig.shared.fires.size(), 1u);
  EXPECT_GE(rig.shared.fires[0].at, set_at + seconds(3));
  EXPECT_LT(rig.shared.fires[0].at, set_at + seconds(4));
  EXPECT_EQ(rig.shared.fires[0].host, "host-lhr");
  auto h = rig.cluster->TEST_active(rig.node("host-lhr"), key);
  ASSERT_NE(h, nullptr);
  EXPECT_FALSE(h->committed_alarm().has_value());
}

TEST(DoCluster, AlarmFiresAtLeastOnceAcrossAHostCrash) {
  Rig rig(10);
  rig.start();
  const std::string key = object_key("COUNTER", "h1");
  ASSERT_TRUE(rig.call(rig.node("pop-lhr"), key, "inc").ok());
  const sim::Time set_at = rig.world.now();
  ASSERT_TRUE(rig.call(rig.node("pop-lhr"), key, "alarm 5000").ok());
  rig.world.run_for(seconds(1));
  rig.world.crash(rig.node("host-lhr"));  // and it stays down; no request comes
  rig.world.run_for(seconds(60));
  ASSERT_GE(rig.shared.fires.size(), 1u);
  EXPECT_GE(rig.shared.fires[0].at, set_at + seconds(5));
  EXPECT_NE(rig.shared.fires[0].host, "host-lhr");
  EXPECT_GE(rig.cluster->stats().wakes, 1u);
  // It ran once successfully and the deletion is durable: it does not fire again.
  const std::size_t fired = rig.shared.fires.size();
  rig.world.run_for(seconds(60));
  EXPECT_EQ(rig.shared.fires.size(), fired);
  DoResult r = rig.call(rig.node("pop-sin"), key, "get");
  ASSERT_TRUE(r.ok()) << why(r);
  EXPECT_EQ(r.value(), "1");
}

TEST(DoCluster, AlarmFiresAfterIdleEvictionAndAllStorageRestarts) {
  DoClusterConfig cfg;
  cfg.idle_timeout = 5 * kSecond;
  Rig rig(11, cfg);
  rig.start();
  const std::string key = object_key("COUNTER", "h2");
  const sim::Time set_at = rig.world.now();
  ASSERT_TRUE(rig.call(rig.node("pop-syd"), key, "alarm 40000").ok());
  rig.world.run_for(seconds(15));  // evicted by now
  EXPECT_EQ(rig.cluster->TEST_active(rig.node("host-sin"), key), nullptr);
  for (sim::Node* s : rig.storage) rig.world.crash(*s);
  rig.world.crash(*rig.dir);
  rig.world.run_for(seconds(2));
  for (sim::Node* s : rig.storage) rig.world.restart(*s);
  rig.world.restart(*rig.dir);
  rig.world.run_for(seconds(60));
  ASSERT_GE(rig.shared.fires.size(), 1u);
  EXPECT_GE(rig.shared.fires[0].at, set_at + seconds(40));
}

TEST(DoCluster, FailedAlarmsAreRetriedWithBackoff) {
  Rig rig(12);
  rig.start();
  rig.shared.alarm_failures_to_inject = 2;
  const std::string key = object_key("COUNTER", "h3");
  ASSERT_TRUE(rig.call(rig.node("pop-lhr"), key, "alarm 1000").ok());
  rig.world.run_for(seconds(20));
  ASSERT_EQ(rig.shared.fires.size(), 3u);
  EXPECT_EQ(rig.shared.fires[0].retry, 0);
  EXPECT_EQ(rig.shared.fires[1].retry, 1);
  EXPECT_EQ(rig.shared.fires[2].retry, 2);
  EXPECT_GE(rig.shared.fires[1].at - rig.shared.fires[0].at, seconds(2));
  EXPECT_GE(rig.shared.fires[2].at - rig.shared.fires[1].at, seconds(4));
  EXPECT_EQ(rig.cluster->stats().alarm_failures, 2u);
}

TEST(DoCluster, AlarmRetriesStopAfterTheLimit) {
  DoClusterConfig cfg;
  cfg.alarm_retries_max = 2;
  Rig rig(13, cfg);
  rig.start();
  rig.shared.alarm_failures_to_inject = 100;
  ASSERT_TRUE(rig.call(rig.node("pop-lhr"), object_key("COUNTER", "h4"), "alarm 100").ok());
  rig.world.run_for(seconds(30));
  EXPECT_EQ(rig.shared.fires.size(), 3u);  // the first try and 2 retries
  EXPECT_EQ(rig.sink.kinds["do.alarm_gave_up"], 1);
}

// ---- The storage protocol on the wire ----

struct StorageProbe {
  Rig& rig;
  sim::NodeId replica;
  // Sends one request to the replica from pop-lhr; returns (status, promised) of the reply.
  std::pair<int, std::uint64_t> send(const std::string& service, const std::string& payload) {
    auto out = std::make_shared<std::optional<sim::Result<std::string>>>();
    const sim::NodeId dst = replica;
    rig.world.spawn(rig.node("pop-lhr"), "probe", [out, dst, service, payload](sim::Task& t) {
      out->emplace(t.world().rpc().call(t, dst, service, payload, seconds(2)));
    });
    while (!out->has_value()) rig.world.run_for(millis(10));
    if (!(*out)->ok()) return {-1, 0};
    do_internal::Reader rd((*out)->value());
    const int status = rd.u8();
    return {status, rd.u64()};
  }
  std::pair<int, std::uint64_t> promise(std::uint64_t epoch) {
    return send("do.promise", do_internal::Writer().str("K/1").u64(epoch).take());
  }
  std::pair<int, std::uint64_t> write(std::uint64_t epoch, std::uint64_t seq) {
    return send("do.write", do_internal::Writer()
                                .str("K/1")
                                .u64(epoch)
                                .u64(seq)
                                .str(std::to_string(epoch * 100 + seq))
                                .opt_time(std::nullopt)
                                .take());
  }
};

TEST(DoStorage, ReplicasFenceOlderEpochsAndSurviveCrashes) {
  Rig rig(14);
  rig.start();
  StorageProbe p{rig, rig.node("st-1").id()};
  constexpr int kAccepted = 0, kRejected = 1;
  EXPECT_EQ(p.promise(5), std::make_pair(kAccepted, std::uint64_t{5}));
  EXPECT_EQ(p.write(4, 1).first, kRejected);  // older epoch
  EXPECT_EQ(p.write(5, 1).first, kAccepted);
  EXPECT_EQ(p.write(5, 1).first, kAccepted);  // duplicate: idempotent
  EXPECT_EQ(p.write(5, 2).first, kAccepted);
  // The promise and the image are durable.
  rig.world.crash(rig.node("st-1"));
  rig.world.restart(rig.node("st-1"));
  EXPECT_EQ(p.promise(3), std::make_pair(kRejected, std::uint64_t{5}));
  EXPECT_EQ(p.write(5, 1).first, kRejected);  // stale version
  EXPECT_EQ(p.promise(6).first, kAccepted);
  EXPECT_EQ(p.write(5, 3).first, kRejected);  // fenced by the new promise
  EXPECT_EQ(p.write(6, 1).first, kAccepted);
}

TEST(DoStorage, WithoutFencingReplicasAcceptAnything) {
  DoClusterConfig cfg;
  cfg.fencing = false;
  Rig rig(15, cfg);
  rig.start();
  StorageProbe p{rig, rig.node("st-2").id()};
  EXPECT_EQ(p.promise(5).first, 0);
  EXPECT_EQ(p.write(4, 1).first, 0);
  EXPECT_EQ(p.promise(3).first, 0);
}

// ---- Seed sweeps: the workload and its checks ----

struct RunSpec {
  std::uint64_t seed = 1;
  DoClusterConfig config;
  std::string plan = "none";  // "none", "swarm", or a schedule
  sim::Time faults_until = 40 * kSecond;
  sim::Time clients_until = 45 * kSecond;
  sim::Time end = 150 * kSecond;
  int objects = 3;
};

struct RunOutcome {
  std::vector<std::string> violations;
  std::uint64_t acked = 0;
  std::uint64_t unknown = 0;
  std::uint64_t failed = 0;
  std::uint64_t digest = 0;
  std::uint64_t events = 0;
  std::string faults;
  DoStats stats;

  std::string describe(const RunSpec& spec) const {
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string s = "seed " + std::to_string(spec.seed) + ", faults: " + faults + "\n";
    for (const auto& v : violations) s += "  " + v + "\n";
    s += "  (acked " + std::to_string(acked) + ", unknown " + std::to_string(unknown) +
         ", failed " + std::to_string(failed) + ")\n  rerun: DO_SEED=" + std::to_string(spec.seed) +
         " services_tests --gtest_filter=" +
         (test != nullptr ? std::string(test->test_suite_name()) + "." + test->name()
                          : std::string("'DoCluster*'"));
    return s;
  }
};

// Each PoP runs a client that increments a random counter every 50..400 ms until
// `clients_until`, recording every call in the history; *clients_live counts those still running.
void spawn_clients(Rig& rig, const RunSpec& spec, const std::vector<std::string>& keys,
                   const std::shared_ptr<int>& clients_live) {
  DoCluster* c = rig.cluster.get();
  for (sim::Node* pop : rig.pops) {
    ++*clients_live;
    rig.world.spawn(
        *pop, "client", [c, pop, keys, clients_live, until = spec.clients_until](sim::Task& t) {
          sim::Rng rng = t.world().rng("client/" + pop->name());
          sim::History& history = t.world().history();
          while (t.now() < until) {
            t.sleep(millis(rng.uniform(50, 400)));
            const std::string& key = keys[rng.below(keys.size())];
            const sim::OpId op = history.invoke(pop->id(), pop->name(), key, "", "increment", "");
            DoResult r = c->call(t, key, "inc");
            if (r.ok()) {
              history.complete(op, sim::OpStatus::kOk, r.value());
            } else {
              history.complete(
                  op, r.error().maybe_executed() ? sim::OpStatus::kUnknown : sim::OpStatus::kFail,
                  r.error().to_string());
            }
          }
          --*clients_live;
        });
  }
}

// The final read of every counter, once every client stopped and the faults are over.
std::shared_ptr<std::map<std::string, std::int64_t>> spawn_final_read(
    Rig& rig, const RunSpec& spec, const std::vector<std::string>& keys,
    const std::shared_ptr<int>& clients_live) {
  DoCluster* c = rig.cluster.get();
  auto finals = std::make_shared<std::map<std::string, std::int64_t>>();
  rig.world.spawn(rig.node("pop-fra"), "final-read",
                  [c, keys, finals, clients_live, after = spec.faults_until](sim::Task& t) {
                    while (*clients_live > 0 || t.now() < after) t.sleep(millis(100));
                    for (const std::string& key : keys) {
                      for (int attempt = 0; attempt < 60; ++attempt) {
                        DoResult r = c->call(t, key, "get");
                        if (r.ok()) {
                          (*finals)[key] = std::stoll(r.value());
                          break;
                        }
                        t.sleep(kSecond);
                      }
                    }
                  });
  return finals;
}

// Counter checks, per object: acknowledged values are unique, none is lost, and the final value
// is at most acked + unknown.
void check_counters(const sim::History& history, const std::vector<std::string>& keys,
                    const std::map<std::string, std::int64_t>& finals, RunOutcome* out) {
  for (const std::string& key : keys) {
    std::vector<std::int64_t> acked;
    std::uint64_t unknown = 0;
    for (const sim::Operation& op : history.ops()) {
      if (op.object != key) continue;
      if (op.status == sim::OpStatus::kOk) {
        acked.push_back(std::stoll(op.output));
      } else if (op.status == sim::OpStatus::kUnknown || op.status == sim::OpStatus::kPending) {
        ++unknown;
      } else {
        ++out->failed;
      }
    }
    out->acked += acked.size();
    out->unknown += unknown;
    auto f = finals.find(key);
    if (f == finals.end()) {
      out->violations.push_back(key + ": no final read succeeded after the faults stopped");
      continue;
    }
    const std::int64_t final_value = f->second;
    std::sort(acked.begin(), acked.end());
    for (std::size_t i = 1; i < acked.size(); ++i) {
      if (acked[i] == acked[i - 1]) {
        out->violations.push_back(key + ": value " + std::to_string(acked[i]) +
                                  " was acknowledged to two increments");
        break;
      }
    }
    if (!acked.empty() && acked.back() > final_value) {
      out->violations.push_back(key + ": acknowledged increment to " +
                                std::to_string(acked.back()) + " lost (final value " +
                                std::to_string(final_value) + ")");
    }
    if (final_value > static_cast<std::int64_t>(acked.size() + unknown)) {
      out->violations.push_back(key + ": final value " + std::to_string(final_value) + " > " +
                                std::to_string(acked.size()) + " acked + " +
                                std::to_string(unknown) + " unknown");
    }
  }
}

// Single instance: one instance per epoch, and no commit acknowledged once a newer epoch of
// the object was active.
void check_single_instance(const DoCluster& cluster, RunOutcome* out) {
  std::map<std::pair<std::string, std::uint64_t>, std::set<std::uint64_t>> per_epoch;
  for (const DoCommit& cm : cluster.commits()) per_epoch[{cm.object, cm.epoch}].insert(cm.instance);
  for (const auto& [oe, instances] : per_epoch) {
    if (instances.size() > 1) {
      out->violations.push_back(oe.first + ": " + std::to_string(instances.size()) +
                                " instances committed in epoch " + std::to_string(oe.second));
    }
  }
  // (old instance, newer instance) -> the first such commit and how many.
  std::map<std::pair<std::uint64_t, std::uint64_t>, std::pair<std::string, int>> overlaps;
  for (const DoCommit& cm : cluster.commits()) {
    for (const DoActivation& a : cluster.activations()) {
      if (a.object != cm.object || a.epoch <= cm.epoch || a.start > cm.acked) continue;
      auto& o = overlaps[{cm.instance, a.instance}];
      if (o.second++ == 0) {
        o.first = cm.object + ": instance " + std::to_string(cm.instance) + " on " + cm.host +
                  " (epoch " + std::to_string(cm.epoch) + ") committed at " +
                  sim::format_time(cm.acked) + " while instance " + std::to_string(a.instance) +
                  " on " + a.host + " (epoch " + std::to_string(a.epoch) + ") was active since " +
                  sim::format_time(a.start);
      }
    }
  }
  for (const auto& [pair, o] : overlaps) {
    out->violations.push_back(
        o.first + (o.second > 1 ? " (and " + std::to_string(o.second - 1) + " more commits)"
                                : std::string()));
  }
}

RunOutcome run_workload(const RunSpec& spec) {
  RunOutcome out;
  Rig rig(spec.seed, spec.config);
  rig.start();
  auto plan = sim::FaultPlan::from_arg(spec.plan);
  if (!plan.ok()) {
    out.violations.push_back("bad plan: " + plan.error().message);
    return out;
  }
  const sim::Status installed = rig.world.faults().install(plan.value(), spec.faults_until);
  if (!installed.ok()) {
    out.violations.push_back("plan: " + installed.error().message);
    return out;
  }
  out.faults = rig.world.faults().describe();
  std::vector<std::string> keys;
  for (int i = 0; i < spec.objects; ++i)
    keys.push_back(object_key("COUNTER", "c" + std::to_string(i)));
  auto clients_live = std::make_shared<int>(0);
  spawn_clients(rig, spec, keys, clients_live);
  const auto finals = spawn_final_read(rig, spec, keys, clients_live);
  rig.world.run_until(spec.end);
  if (rig.world.error()) out.violations.push_back("internal error: " + *rig.world.error());
  check_counters(rig.world.history(), keys, *finals, &out);
  check_single_instance(*rig.cluster, &out);
  out.digest = rig.sink.digest;
  out.events = rig.sink.events;
  for (const sim::Operation& op : rig.world.history().ops()) {
    out.digest = sim::mix64(
        out.digest ^ sim::stable_hash(op.object + op.output + sim::op_status_name(op.status)));
  }
  out.stats = rig.cluster->stats();
  return out;
}

// A schedule of host, storage and directory faults drawn from the seed.
std::string random_plan(std::uint64_t seed) {
  sim::Rng rng = sim::Rng(seed).fork("test.plan");
  const std::vector<std::string> hosts = {"host-lhr", "host-iad", "host-sin"};
  const std::vector<std::string> storage = {"st-1", "st-2", "st-3"};
  const auto pick = [&rng](const std::vector<std::string>& v) { return v[rng.below(v.size())]; };
  const auto at = [](std::int64_t ms) { return "at " + std::to_string(ms) + "ms "; };
  std::string plan;
  const int n = 3 + static_cast<int>(rng.below(5));
  for (int i = 0; i < n; ++i) {
    const std::int64_t t = rng.uniform_int(1000, 36000);
    const std::int64_t d = rng.uniform_int(500, 15000);
    switch (rng.below(8)) {
      case 0: {
        const std::string h = pick(hosts);
        plan += at(t) + "crash " + h + "\n" + at(t + d) + "restart " + h + "\n";
        break;
      }
      case 1: {
        const std::string s = pick(storage);
        plan += at(t) + "crash " + s + "\n" + at(t + d) + "restart " + s + "\n";
        break;
      }
      case 2:
        plan += at(t) + "crash dir\n" + at(t + d) + "restart dir\n";
        break;
      case 3:
        plan += at(t) + "partition {" + pick(hosts) + "} | {dir}\n" + at(t + d) + "heal\n";
        break;
      case 4:
        plan += at(t) + "isolate " + pick(hosts) + "\n" + at(t + d) + "heal\n";
        break;
      case 5: {
        const std::string h = pick(hosts);
        plan += at(t) + "pause " + h + "\n" + at(t + d) + "resume " + h + "\n";
        break;
      }
      case 6:
        plan += at(t) + "isolate " + pick(storage) + "\n" + at(t + d) + "heal\n";
        break;
      default:
        plan += at(t) + "partition {pop-lhr,pop-fra," + pick(hosts) +
                "} | {pop-sin,pop-syd,dir}\n" + at(t + d) + "heal\n";
        break;
    }
  }
  return plan;
}

// The seeds of a sweep: 1..count, or just $DO_SEED (to rerun a failure); $DO_SWEEP_SEEDS
// widens the sweep.
std::vector<std::uint64_t> sweep_seeds(std::uint64_t count) {
  if (const char* one = std::getenv("DO_SEED")) return {std::stoull(one)};
  if (const char* n = std::getenv("DO_SWEEP_SEEDS")) count = std::stoull(n);
  std::vector<std::uint64_t> seeds;
  for (std::uint64_t s = 1; s <= count; ++s) seeds.push_back(s);
  return seeds;
}

TEST(DoClusterSweep, NoAcknowledgedIncrementLostUnderSwarmFaults) {
  std::uint64_t acked = 0, unknown = 0, fenced = 0, lost_leases = 0;
  for (const std::uint64_t seed : sweep_seeds(100)) {
    RunSpec spec;
    spec.seed = seed;
    spec.plan = "swarm";
    const RunOutcome out = run_workload(spec);
    EXPECT_TRUE(out.violations.empty()) << out.describe(spec);
    acked += out.acked;
    unknown += out.unknown;
    fenced += out.stats.fenced;
    lost_leases += out.stats.leases_lost;
  }
  if (std::getenv("DO_SEED") == nullptr) {
    EXPECT_GT(acked, 1000u);
  }
  RecordProperty("acked", std::to_string(acked));
  std::printf("swarm sweep: %llu acked, %llu unknown, %llu fenced, %llu leases lost\n",
              static_cast<unsigned long long>(acked), static_cast<unsigned long long>(unknown),
              static_cast<unsigned long long>(fenced),
              static_cast<unsigned long long>(lost_leases));
}

TEST(DoClusterSweep, NoAcknowledgedIncrementLostUnderScheduledFaults) {
  std::uint64_t acked = 0, unknown = 0, lost_leases = 0, activations = 0;
  for (const std::uint64_t seed : sweep_seeds(100)) {
    RunSpec spec;
    spec.seed = seed;
    spec.plan = random_plan(seed);
    const RunOutcome out = run_workload(spec);
    EXPECT_TRUE(out.violations.empty()) << out.describe(spec) << "\nplan:\n" << spec.plan;
    acked += out.acked;
    unknown += out.unknown;
    lost_leases += out.stats.leases_lost;
    activations += out.stats.activations;
  }
  if (std::getenv("DO_SEED") == nullptr) {
    EXPECT_GT(acked, 1000u);
  }
  std::printf("scheduled sweep: %llu acked, %llu unknown, %llu activations, %llu leases lost\n",
              static_cast<unsigned long long>(acked), static_cast<unsigned long long>(unknown),
              static_cast<unsigned long long>(activations),
              static_cast<unsigned long long>(lost_leases));
}

// Cuts one host (and the PoPs near it) from the directory and the other PoPs: with fencing the
// old host stops; without it both sides serve.
std::string split_brain_plan(std::uint64_t seed) {
  sim::Rng rng = sim::Rng(seed).fork("test.split");
  const std::int64_t t = rng.uniform_int(3000, 10000);
  const std::int64_t d = rng.uniform_int(20000, 28000);
  const bool west = rng.bernoulli(0.5);
  const std::string side = west ? "pop-lhr,pop-fra,host-lhr" : "pop-sin,pop-syd,host-sin";
  const std::string other = west ? "pop-sin,pop-syd,dir" : "pop-lhr,pop-fra,dir";
  return "at " + std::to_string(t) + "ms partition {" + side + "} | {" + other + "}\nat " +
         std::to_string(t + d) + "ms heal\n";
}

TEST(DoClusterMutants, FencingOffShowsSplitBrain) {
  int caught = 0;
  std::string example;
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    RunSpec spec;
    spec.seed = seed;
    spec.plan = split_brain_plan(seed);
    spec.config.request_timeout = 5 * kSecond;
    // The reference implementation survives this very plan.
    const RunOutcome good = run_workload(spec);
    EXPECT_TRUE(good.violations.empty()) << good.describe(spec);
    spec.config.fencing = false;
    const RunOutcome bad = run_workload(spec);
    if (!bad.violations.empty()) {
      ++caught;
      if (example.empty()) example = bad.describe(spec);
    }
  }
  EXPECT_GE(caught, 1) << "do.fencing=off was never caught";
  std::printf("fencing=off caught in %d of 10 seeds; e.g.\n%s\n", caught, example.c_str());
}

TEST(DoClusterMutants, StorageSyncOffLosesAcknowledgedWrites) {
  int caught = 0;
  std::string example;
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    sim::Rng rng = sim::Rng(seed).fork("test.storage");
    const std::string t = std::to_string(rng.uniform_int(5000, 30000)) + "ms";
    RunSpec spec;
    spec.seed = seed;
    spec.plan = "at " + t + " crash st-1; at " + t + " crash st-2; at " + t +
                " crash st-3\nat 38s restart st-1; at 38s restart st-2; at 38s restart st-3";
    const RunOutcome good = run_workload(spec);
    EXPECT_TRUE(good.violations.empty()) << good.describe(spec);
    spec.config.storage_sync = false;
    const RunOutcome bad = run_workload(spec);
    if (!bad.violations.empty()) {
      ++caught;
      if (example.empty()) example = bad.describe(spec);
    }
  }
  EXPECT_GE(caught, 1) << "do.storage_sync=off was never caught";
  std::printf("storage_sync=off caught in %d of 10 seeds; e.g.\n%s\n", caught, example.c_str());
}

RC_GTEST_PROP(DoClusterDeterminism, SameSeedSameHistory, ()) {
  RunSpec spec;
  spec.seed = *rc::gen::inRange<std::uint64_t>(1, 1'000'000);
  spec.plan = *rc::gen::element<std::string>("swarm", "none", random_plan(spec.seed));
  spec.faults_until = 15 * kSecond;
  spec.clients_until = 18 * kSecond;
  spec.end = 40 * kSecond;
  const RunOutcome a = run_workload(spec);
  const RunOutcome b = run_workload(spec);
  RC_ASSERT(a.events == b.events);
  RC_ASSERT(a.digest == b.digest);
  RC_ASSERT(a.acked == b.acked);
  RC_ASSERT(a.violations == b.violations);
}

}  // namespace
}  // namespace services
