#include "sim/network.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <map>
#include <set>

#include "sim/rpc.h"
#include "sim/sync.h"
#include "sim/world.h"

namespace sim {
namespace {

struct Delivery {
  NodeId src, dst;
  std::uint64_t id;
  Time sent, arrived;
};

// Four nodes that record every message they get on port "p".
struct Fixture {
  explicit Fixture(std::uint64_t seed) : w(seed) {
    for (const char* loc : {"lhr", "iad", "fra", "sin"}) {
      Node& n = w.add_node(std::string("n-") + loc, loc);
      ids.push_back(n.id());
    }
    port = w.net().port("p");
    for (NodeId id : ids) {
      w.node(id).on_boot([this, id](Node&) {
        w.net().listen(id, port, [this, id](Message& m) {
          deliveries.push_back({m.src, id, m.id, m.sent_at, w.now()});
        });
      });
    }
    w.start();
  }
  World w;
  std::vector<NodeId> ids;
  Port port;
  std::vector<Delivery> deliveries;
};

TEST(Network, EveryMessageArrivesOnceOnAHealthyNetwork) {
  Fixture f(1);
  std::set<std::uint64_t> sent;
  Rng r(99);
  for (int i = 0; i < 2000; ++i) {
    const NodeId a = f.ids[r.below(4)], b = f.ids[r.below(4)];
    sent.insert(f.w.net().send(a, b, f.port, "x"));
  }
  f.w.run_until(kTimeMax);
  std::multiset<std::uint64_t> got;
  for (const auto& d : f.deliveries) got.insert(d.id);
  EXPECT_EQ(got.size(), sent.size());
  EXPECT_EQ(std::set<std::uint64_t>(got.begin(), got.end()), sent);
}

TEST(Network, LatencyGrowsWithDistance) {
  Fixture f(2);
  Network& net = f.w.net();
  const Duration near = net.base_latency(f.ids[0], f.ids[2]);  // lhr-fra
  const Duration far = net.base_latency(f.ids[0], f.ids[3]);   // lhr-sin
  EXPECT_LT(near, far);
  EXPECT_GT(far, millis(50));
  EXPECT_EQ(net.base_latency(f.ids[3], f.ids[0]), far);
}

TEST(Network, ClogDelaysMessages) {
  Fixture f(3);
  f.w.net().clog(f.ids[1], seconds(2), seconds(10));
  f.w.net().send(f.ids[0], f.ids[1], f.port, "slow");
  f.w.run_until(kTimeMax);
  ASSERT_EQ(f.deliveries.size(), 1u);
  EXPECT_GE(f.deliveries[0].arrived, seconds(2));
}

TEST(Network, DuplicationDeliversTwice) {
  Fixture f(4);
  f.w.net().config().duplicate = 1.0;
  f.w.net().send(f.ids[0], f.ids[1], f.port, "twice");
  f.w.run_until(kTimeMax);
  EXPECT_EQ(f.deliveries.size(), 2u);
}

TEST(Network, LossDropsSomeButNotAll) {
  Fixture f(5);
  f.w.net().config().loss = 0.5;
  for (int i = 0; i < 1000; ++i) f.w.net().send(f.ids[0], f.ids[1], f.port, "?");
  f.w.run_until(kTimeMax);
  EXPECT_GT(f.deliveries.size(), 400u);
  EXPECT_LT(f.deliveries.size(), 600u);
  EXPECT_EQ(f.w.net().stats().dropped_loss + f.deliveries.size(), 1000u);
}

TEST(Network, MessagesToACrashedNodeAreDropped) {
  Fixture f(6);
  f.w.net().send(f.ids[0], f.ids[1], f.port, "lost");
  f.w.crash(f.w.node(f.ids[1]));
  f.w.run_until(kTimeMax);
  EXPECT_TRUE(f.deliveries.empty());
  EXPECT_EQ(f.w.net().stats().dropped_down, 1u);
}

// Law: no message is delivered across an active partition. The test keeps its own model of which
// directed links are cut and checks every send and delivery against it.
RC_GTEST_PROP(Network, NeverDeliversAcrossAPartition, (std::uint64_t seed)) {
  Fixture f(seed);
  Rng r(seed ^ 0xabc);
  std::set<std::pair<NodeId, NodeId>> cut;  // the test's model
  std::map<std::uint64_t, Time> sent_while_cut;
  const auto& ids = f.ids;
  bool violated = false;
  f.deliveries.reserve(10000);
  for (NodeId id : ids) {
    f.w.net().listen(id, f.port, [&, id](Message& m) {
      if (cut.count({m.src, id})) violated = true;
      if (sent_while_cut.count(m.id)) violated = true;
    });
  }
  for (int step = 0; step < 300; ++step) {
    const int action = static_cast<int>(r.below(10));
    if (action == 0) {
      f.w.net().heal();
      cut.clear();
    } else if (action == 1) {
      std::vector<NodeId> a, b;
      for (NodeId id : ids) (r.bernoulli(0.5) ? a : b).push_back(id);
      const bool one_way = r.bernoulli(0.3);
      if (one_way) {
        f.w.net().partition_one_way(a, b);
      } else {
        f.w.net().partition(a, b);
      }
      for (NodeId x : a) {
        for (NodeId y : b) {
          cut.insert({x, y});
          if (!one_way) cut.insert({y, x});
        }
      }
    } else {
      const NodeId a = ids[r.below(ids.size())], b = ids[r.below(ids.size())];
      const bool blocked = a != b && cut.count({a, b});
      const std::uint64_t id = f.w.net().send(a, b, f.port, "m");
      if (blocked) {
        RC_ASSERT(id == 0u);
      }
    }
    f.w.run_for(millis(static_cast<double>(r.below(40))));
  }
  f.w.run_until(kTimeMax);
  RC_ASSERT(!violated);
}

// Law: reachable(a, b) is exactly "no partition since the last heal cut a -> b", for groups that
// may overlap, and a node added after a partition is cut from nothing. (Partitions are stored per
// cut and node, not as an n x n matrix, which made adding n nodes O(n^3).)
RC_GTEST_PROP(Network, ReachabilityIsExactlyTheCutsSinceTheLastHeal, (std::uint64_t seed)) {
  World w(seed);
  Rng r(seed ^ 0x5eed);
  std::vector<NodeId> ids;
  std::set<std::pair<NodeId, NodeId>> cut;
  auto add_node = [&] {
    ids.push_back(
        w.add_node("n" + std::to_string(ids.size()), r.bernoulli(0.5) ? "lhr" : "iad").id());
  };
  for (int i = 0; i < 6; ++i) add_node();
  w.start();
  for (int step = 0; step < 60; ++step) {
    const int action = static_cast<int>(r.below(6));
    if (action == 0) {
      w.net().heal();
      cut.clear();
    } else if (action == 1) {
      add_node();
    } else {
      std::vector<NodeId> a, b;  // overlapping groups, possibly empty
      for (NodeId id : ids) {
        if (r.bernoulli(0.4)) a.push_back(id);
        if (r.bernoulli(0.4)) b.push_back(id);
      }
      const bool one_way = r.bernoulli(0.3);
      if (one_way) {
        w.net().partition_one_way(a, b);
      } else {
        w.net().partition(a, b);
      }
      for (NodeId x : a) {
        for (NodeId y : b) {
          if (x == y) continue;
          cut.insert({x, y});
          if (!one_way) cut.insert({y, x});
        }
      }
    }
    for (NodeId x : ids) {
      for (NodeId y : ids) RC_ASSERT(w.net().reachable(x, y) == (cut.count({x, y}) == 0));
    }
    RC_ASSERT(w.net().partitioned() == !cut.empty());
  }
}

TEST(Rpc, CallsSucceedTimeOutAndFailFast) {
  World w(7);
  Node& server = w.add_node("server", "iad");
  Node& client = w.add_node("client", "lhr");
  server.on_boot([&](Node& n) {
    w.rpc().serve(n, "echo", [](Task& t, NodeId, std::string_view req) -> Result<std::string> {
      t.sleep(millis(5));
      if (req == "bad") return Error{ErrorKind::kInvalid, "no bad requests"};
      return std::string(req);
    });
  });
  w.start();
  std::vector<std::string> outcomes;
  w.spawn(client, "caller", [&](Task& t) {
    auto ok = w.rpc().call(t, server.id(), "echo", "hi", seconds(1));
    outcomes.push_back(ok.ok() ? "ok:" + ok.value() : ok.error().to_string());
    auto bad = w.rpc().call(t, server.id(), "echo", "bad", seconds(1));
    outcomes.push_back(bad.ok() ? "ok" : error_kind_name(bad.error().kind));
    w.net().partition({client.id()}, {server.id()});
    auto cut = w.rpc().call(t, server.id(), "echo", "hi", seconds(1));
    outcomes.push_back(cut.ok() ? "ok" : error_kind_name(cut.error().kind));
    EXPECT_GE(t.now(), seconds(1));
    w.net().heal();
    w.crash(server);
    auto down = w.rpc().call(t, server.id(), "echo", "hi", seconds(5));
    outcomes.push_back(down.ok() ? "ok" : error_kind_name(down.error().kind));
  });
  EXPECT_TRUE(w.run_until(kTimeMax));
  EXPECT_EQ(outcomes, (std::vector<std::string>{"ok:hi", "remote", "timeout", "unreachable"}));
  EXPECT_LT(w.now(), seconds(2));  // unreachable came back at once, not after 5 s
}

// Every request datagram duplicated: a UDP-like service runs each call twice, an at-most-once
// one (HTTP over a connection) once.
TEST(Rpc, AtMostOnceServicesIgnoreDuplicatedRequests) {
  for (auto delivery : {Rpc::Delivery::kEveryDatagram, Rpc::Delivery::kAtMostOnce}) {
    World w(3);
    Node& server = w.add_node("server", "iad");
    Node& client = w.add_node("client", "iad");
    int runs = 0;
    server.on_boot([&](Node& n) {
      w.rpc().serve(
          n, "count",
          [&](Task&, NodeId, std::string_view) -> Result<std::string> {
            ++runs;
            return std::string("ok");
          },
          delivery);
    });
    w.net().config().duplicate = 1.0;
    w.start();
    int replies = 0;
    w.spawn(client, "caller", [&](Task& t) {
      for (int i = 0; i < 10; ++i)
        replies += w.rpc().call(t, server.id(), "count", "", seconds(1)).ok();
    });
    EXPECT_TRUE(w.run_until(kTimeMax));
    EXPECT_EQ(replies, 10);
    EXPECT_EQ(runs, delivery == Rpc::Delivery::kAtMostOnce ? 10 : 20);
  }
}

}  // namespace
}  // namespace sim
