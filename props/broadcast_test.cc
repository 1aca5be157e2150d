#include "props/broadcast.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "props/test_util.h"

namespace props {
namespace {

using sim::millis;
using sim::Operation;
using sim::OpStatus;
using sim::seconds;

constexpr sim::Duration kGrace = seconds(10);      // the checker's default
constexpr sim::Time kHorizon = seconds(60);        // joins and posts start before this
constexpr sim::Time kEnd = kHorizon + seconds(5);  // the harness's last op: the history's end

// A room that keeps its promise, simulated: it serializes posts (each takes effect at an accept
// point inside the post) and sends each accepted post, in that order, to every connection the
// server holds at that point; a connection delivers in order with a random latency (< 0.3 s).
// Clients join (some joins fail), stay a while, and either see the close (a leave, around when
// the server dropped them) or, silently dropped, join again within a few seconds; some stay
// until the end. Recvs that the property does not require (the connection closed or the history
// ended within the grace period, or the post did not resolve ok) are sometimes lost.
struct Generated {
  std::vector<Operation> ops;
  // Per op (recvs only): the generator's connection, and whether the property requires it.
  std::vector<std::optional<std::size_t>> conn_of;
  std::vector<bool> required;
  std::vector<std::string> conn_room;  // per connection
  std::size_t posts = 0, posts_ok = 0, connections = 0, recvs = 0, required_count = 0;
};

struct GenConn {
  std::string client;
  sim::Time join_complete = 0;
  sim::Time server_start = 0;            // the room sends what it accepts in
  sim::Time server_end = sim::kTimeMax;  //   [server_start, server_end)
  sim::Time client_end = sim::kTimeMax;  // recvs from then on are not this connection's
  sim::Time checker_end = kEnd;          // leave, next join's completion, or the end
};

struct GenPost {
  std::string id;
  std::string sender;
  sim::Time invoke = 0, accept = 0, complete = 0;
  bool ok = true;
};

Generated generate(std::uint64_t seed, int rooms, int clients, int posts, bool lose_optional) {
  test::TestRng rng(seed);
  Generated g;
  auto add = [&](Operation op, std::optional<std::size_t> conn = std::nullopt,
                 bool required = false) {
    op.id = g.ops.size() + 1;
    g.ops.push_back(std::move(op));
    g.conn_of.push_back(conn);
    g.required.push_back(required);
  };
  auto make = [](std::string object, std::string client, std::string kind, std::string input,
                 sim::Time invoke, sim::Time complete, OpStatus status) {
    Operation op;
    op.object = std::move(object);
    op.client = std::move(client);
    op.kind = std::move(kind);
    op.input = std::move(input);
    op.invoke = invoke;
    op.complete = complete;
    op.status = status;
    return op;
  };
  for (int room = 0; room < rooms; ++room) {
    std::string object = "room" + std::to_string(room);
    std::vector<GenConn> conns;
    for (int c = 0; c < clients; ++c) {
      std::string name = "c" + std::to_string(c);
      sim::Time t = rng.range(0, seconds(5));
      std::optional<sim::Duration> forced;  // a rejoin after a silent drop: must succeed
      while (forced || t < kHorizon - seconds(2)) {
        sim::Duration lat = forced ? *forced : rng.range(millis(1), millis(300));
        if (!forced && rng.chance(0.1)) {
          add(make(object, name, "join", "", t, t + lat, OpStatus::kFail));
          t += lat + rng.range(0, seconds(2));
          continue;
        }
        forced.reset();
        add(make(object, name, "join", "", t, t + lat, OpStatus::kOk));
        ++g.connections;
        GenConn gc;
        gc.client = name;
        gc.join_complete = t + lat;
        gc.server_start = rng.range(t, t + lat);
        sim::Time e = t + lat + rng.range(millis(10), seconds(30));
        if (rng.chance(0.25) || e >= kHorizon - seconds(1)) {  // stays until the end
          conns.push_back(gc);
          break;
        }
        gc.server_end = e;
        if (rng.chance(0.2)) {  // dropped without a close; joins again well within grace
          t = e + rng.range(0, seconds(4));
          forced = rng.range(millis(1), millis(300));
          gc.client_end = gc.checker_end = t + *forced;
        } else {
          sim::Time l = std::max(t + lat, e + rng.range(-seconds(1), millis(100)));
          add(make(object, name, "leave", rng.chance(0.5) ? "1006 abnormal closure" : "", l, l,
                   OpStatus::kOk));
          gc.client_end = gc.checker_end = l;
          t = l + rng.range(0, seconds(3));
        }
        conns.push_back(gc);
      }
    }
    std::vector<GenPost> sent;  // what the room accepted and broadcasts
    for (int i = 0; i < posts; ++i) {
      GenPost p;
      p.id = "m" + std::to_string(i);
      p.sender = "c" + std::to_string(rng.next() % static_cast<std::uint64_t>(clients));
      p.invoke = rng.range(0, kHorizon);
      p.accept = p.invoke + rng.range(0, millis(100));
      p.complete = p.accept + rng.range(0, millis(100));
      std::uint64_t r = rng.next() % 100;
      OpStatus status = r < 85 ? OpStatus::kOk : r < 95 ? OpStatus::kFail : OpStatus::kUnknown;
      p.ok = status == OpStatus::kOk;
      bool broadcast = p.ok || rng.chance(status == OpStatus::kFail ? 0.3 : 0.5);
      add(make(object, p.sender, "post", p.id, p.invoke,
               status == OpStatus::kUnknown ? sim::kTimeMax : p.complete, status));
      ++g.posts;
      g.posts_ok += p.ok ? 1 : 0;
      if (broadcast) sent.push_back(p);
    }
    std::stable_sort(sent.begin(), sent.end(),
                     [](const GenPost& a, const GenPost& b) { return a.accept < b.accept; });
    for (const GenConn& c : conns) {
      std::size_t conn = g.conn_room.size();
      g.conn_room.push_back(object);
      sim::Time last = -1;
      for (const GenPost& p : sent) {
        if (p.accept < c.server_start || p.accept >= c.server_end) continue;
        sim::Time d =
            std::max({p.accept + rng.range(millis(1), millis(200)), c.join_complete, last + 1});
        last = d;
        if (d >= c.client_end) continue;
        bool required = p.ok && c.join_complete <= p.invoke && c.checker_end >= p.complete + kGrace;
        if (!required && lose_optional && rng.chance(0.3)) continue;
        add(make(object, c.client, "recv", p.id, d, d, OpStatus::kOk), conn, required);
        ++g.recvs;
        g.required_count += required ? 1 : 0;
      }
    }
  }
  add(make("harness", "harness", "end", "", kEnd, kEnd, OpStatus::kOk));
  return g;
}

std::vector<Operation> shuffled(std::vector<Operation> ops, std::uint64_t seed) {
  test::TestRng rng(seed);
  for (std::size_t i = ops.size(); i > 1; --i) std::swap(ops[i - 1], ops[rng.next() % i]);
  return ops;
}

struct Params {
  std::uint64_t seed;
  int rooms, clients, posts;
};

Params arbitrary_params() {
  return {*rc::gen::arbitrary<std::uint64_t>(), *rc::gen::inRange(1, 3), *rc::gen::inRange(1, 7),
          *rc::gen::inRange(0, 150)};
}

void assert_clean_except(const BroadcastResult& r, const std::string& kind) {
  RC_ASSERT(r.verdict == Verdict::kViolated);
  RC_ASSERT(r.missing == (kind == "missing" ? 1u : 0u));
  RC_ASSERT(r.phantoms == (kind == "phantom" ? 1u : 0u));
  RC_ASSERT(r.duplicates == (kind == "duplicate" ? 1u : 0u));
  RC_ASSERT(r.order_violations == (kind == "order" ? 1u : 0u));
}

RC_GTEST_PROP(Broadcast, AcceptsARoomThatKeepsItsPromise, ()) {
  Params p = arbitrary_params();
  bool lose = *rc::gen::arbitrary<bool>();
  Generated g = generate(p.seed, p.rooms, p.clients, p.posts, lose);
  BroadcastResult r = check_broadcast(shuffled(g.ops, p.seed ^ 1));
  RC_ASSERT(r.verdict == Verdict::kOk);
  RC_ASSERT(r.missing == 0u);
  RC_ASSERT(r.phantoms == 0u);
  RC_ASSERT(r.duplicates == 0u);
  RC_ASSERT(r.order_violations == 0u);
  RC_ASSERT(r.stray == 0u);
  RC_ASSERT(r.findings.empty());
  RC_ASSERT(r.rooms == static_cast<std::size_t>(p.rooms));
  RC_ASSERT(r.posts == g.posts);
  RC_ASSERT(r.posts_ok == g.posts_ok);
  RC_ASSERT(r.connections == g.connections);
  RC_ASSERT(r.deliveries == g.recvs);
  RC_ASSERT(r.required == g.required_count);
}

RC_GTEST_PROP(Broadcast, InputOrderDoesNotMatter, ()) {
  Params p = arbitrary_params();
  Generated g = generate(p.seed, p.rooms, p.clients, p.posts, true);
  // Plant a few violations of each kind so that the findings have something to say.
  for (std::size_t i = 1; i < g.ops.size(); i += 7) {
    if (g.ops[i].kind != "recv") continue;
    if (i % 2 == 0) {
      g.ops[i].input = "ghost";
    } else if (g.ops[i - 1].kind == "recv") {
      g.ops[i].input = g.ops[i - 1].input;
    }
  }
  std::erase_if(g.ops, [](const Operation& op) { return op.kind == "recv" && op.id % 5 == 0; });
  BroadcastOptions o;
  o.examples_max = 1000;
  std::string a = check_broadcast(shuffled(g.ops, p.seed), o).report();
  std::string b = check_broadcast(shuffled(g.ops, p.seed + 1), o).report();
  RC_ASSERT(a == b);
}

RC_GTEST_PROP(Broadcast, RejectsADroppedRequiredDelivery, ()) {
  Params p = arbitrary_params();
  Generated g = generate(p.seed, p.rooms, p.clients, p.posts, *rc::gen::arbitrary<bool>());
  std::vector<std::size_t> candidates;
  for (std::size_t i = 0; i < g.ops.size(); ++i) {
    if (g.required[i]) candidates.push_back(i);
  }
  RC_PRE(!candidates.empty());
  std::size_t victim = candidates[*rc::gen::inRange<std::size_t>(0, candidates.size())];
  std::string id = g.ops[victim].input;
  std::string client = g.ops[victim].client;
  g.ops.erase(g.ops.begin() + static_cast<std::ptrdiff_t>(victim));
  BroadcastResult r = check_broadcast(shuffled(g.ops, p.seed));
  assert_clean_except(r, "missing");
  RC_ASSERT(r.required == g.required_count);
  RC_ASSERT(r.findings.size() == 1u);
  const std::string& f = r.findings[0];
  RC_ASSERT(f.find("post " + id + " by ") != std::string::npos);
  RC_ASSERT(f.find("never reached " + client + "'s connection #") != std::string::npos);
}

RC_GTEST_PROP(Broadcast, RejectsAPhantom, ()) {
  Params p = arbitrary_params();
  Generated g = generate(p.seed, p.rooms, p.clients, p.posts, true);
  std::vector<std::size_t> recvs;
  for (std::size_t i = 0; i < g.ops.size(); ++i) {
    if (g.ops[i].kind == "recv") recvs.push_back(i);
  }
  RC_PRE(!recvs.empty());
  Operation ghost = g.ops[recvs[*rc::gen::inRange<std::size_t>(0, recvs.size())]];
  ghost.input = "ghost";
  ghost.id = g.ops.size() + 1;
  g.ops.push_back(ghost);
  BroadcastResult r = check_broadcast(shuffled(g.ops, p.seed));
  assert_clean_except(r, "phantom");
  RC_ASSERT(r.findings.size() == 1u);
  RC_ASSERT(r.findings[0].find("received ghost at " + sim::format_time(ghost.invoke) +
                               " but ghost was never posted") != std::string::npos);
}

RC_GTEST_PROP(Broadcast, RejectsADuplicate, ()) {
  Params p = arbitrary_params();
  Generated g = generate(p.seed, p.rooms, p.clients, p.posts, true);
  std::vector<std::size_t> recvs;
  for (std::size_t i = 0; i < g.ops.size(); ++i) {
    if (g.ops[i].kind == "recv") recvs.push_back(i);
  }
  RC_PRE(!recvs.empty());
  Operation again = g.ops[recvs[*rc::gen::inRange<std::size_t>(0, recvs.size())]];
  again.id = g.ops.size() + 1;
  g.ops.push_back(again);
  BroadcastResult r = check_broadcast(shuffled(g.ops, p.seed));
  assert_clean_except(r, "duplicate");
  RC_ASSERT(r.findings.size() == 1u);
  RC_ASSERT(r.findings[0].find(" received " + again.input + " again at ") != std::string::npos);
}

RC_GTEST_PROP(Broadcast, RejectsTwoSwappedDeliveries, ()) {
  Params p = arbitrary_params();
  Generated g = generate(p.seed, p.rooms, p.clients, p.posts, true);
  // Each connection's recvs, in order (the generator adds them in delivery order).
  std::map<std::size_t, std::vector<std::size_t>> by_conn;
  std::map<std::size_t, std::set<std::string>> got;
  for (std::size_t i = 0; i < g.ops.size(); ++i) {
    if (!g.conn_of[i]) continue;
    by_conn[*g.conn_of[i]].push_back(i);
    got[*g.conn_of[i]].insert(g.ops[i].input);
  }
  // Two consecutive recvs on one connection that another connection of the room also received.
  std::vector<std::pair<std::size_t, std::size_t>> candidates;
  for (const auto& [conn, list] : by_conn) {
    for (std::size_t k = 1; k < list.size(); ++k) {
      const std::string& a = g.ops[list[k - 1]].input;
      const std::string& b = g.ops[list[k]].input;
      for (const auto& [other, ids] : got) {
        if (other != conn && g.conn_room[other] == g.conn_room[conn] && ids.count(a) != 0 &&
            ids.count(b) != 0) {
          candidates.push_back({list[k - 1], list[k]});
          break;
        }
      }
    }
  }
  RC_PRE(!candidates.empty());
  auto [i, j] = candidates[*rc::gen::inRange<std::size_t>(0, candidates.size())];
  std::swap(g.ops[i].input, g.ops[j].input);
  BroadcastResult r = check_broadcast(shuffled(g.ops, p.seed));
  assert_clean_except(r, "order");
  RC_ASSERT(r.findings.size() == 1u);
  const std::string& f = r.findings[0];
  RC_ASSERT(f.find(g.ops[i].input) != std::string::npos);
  RC_ASSERT(f.find(g.ops[j].input) != std::string::npos);
  RC_ASSERT(f.find("no single order of the room explains") != std::string::npos);
}

// Hand-written histories. Times in seconds.
class Script {
 public:
  explicit Script(std::string object = "room") : object_(std::move(object)) {}
  Script& join(const std::string& client, double invoke, double complete,
               OpStatus status = OpStatus::kOk) {
    return add(client, "join", "", invoke, complete, status);
  }
  Script& post(const std::string& client, const std::string& id, double invoke, double complete,
               OpStatus status = OpStatus::kOk) {
    return add(client, "post", id, invoke, complete, status);
  }
  Script& recv(const std::string& client, const std::string& id, double at) {
    return add(client, "recv", id, at, at, OpStatus::kOk);
  }
  Script& leave(const std::string& client, double at, const std::string& reason = "") {
    return add(client, "leave", reason, at, at, OpStatus::kOk);
  }
  Script& room(std::string object) {
    object_ = std::move(object);
    return *this;
  }
  // An operation of another object: only moves the end of the history.
  Script& elsewhere(double at) {
    std::string keep = object_;
    object_ = "elsewhere";
    add("someone", "read", "", at, at, OpStatus::kOk);
    object_ = keep;
    return *this;
  }
  const std::vector<Operation>& ops() const { return ops_; }
  BroadcastResult check(const BroadcastOptions& o = {}) const { return check_broadcast(ops_, o); }

 private:
  Script& add(const std::string& client, const std::string& kind, const std::string& input,
              double invoke, double complete, OpStatus status) {
    Operation op;
    op.id = ops_.size() + 1;
    op.client = client;
    op.object = object_;
    op.kind = kind;
    op.input = input;
    op.invoke = seconds(invoke);
    op.complete = complete < 0 ? sim::kTimeMax : seconds(complete);
    op.status = status;
    ops_.push_back(op);
    return *this;
  }
  std::string object_;
  std::vector<Operation> ops_;
};

TEST(Broadcast, MissingDeliveryIsToldInPlainWords) {
  Script s;
  s.join("alice", 0, 0.1)
      .join("bob", 3.0, 3.1)
      .leave("bob", 5.0)
      .join("bob", 6.0, 6.1)
      .post("alice", "m17", 12.2, 12.3)
      .recv("alice", "m17", 12.25)
      .elsewhere(40);
  BroadcastResult r = s.check();
  EXPECT_EQ(r.verdict, Verdict::kViolated);
  EXPECT_EQ(r.missing, 1u);
  EXPECT_EQ(r.required, 2u);
  EXPECT_EQ(r.connections, 3u);
  EXPECT_EQ(r.deliveries, 1u);
  EXPECT_EQ(r.posts, 1u);
  EXPECT_EQ(r.posts_ok, 1u);
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0],
            "post m17 by alice (ok at 12.300000s) never reached bob's connection #2 (joined "
            "6.100000s, open until the end at 40.000000s)");
  std::string report = r.report();
  EXPECT_NE(report.find("broadcast: violated"), std::string::npos);
  EXPECT_NE(report.find("missing 1, phantoms 0, duplicates 0, order violations 0"),
            std::string::npos);
}

TEST(Broadcast, GraceExcusesAConnectionThatClosesSoonAfter) {
  auto history = [](double leave_at) {
    Script s;
    s.join("alice", 0, 0.1).join("bob", 0, 0.1).post("alice", "m1", 1.0, 2.0);
    s.recv("alice", "m1", 1.5).leave("bob", leave_at, "1001 going away").elsewhere(100);
    return s;
  };
  EXPECT_EQ(history(11.999).check().verdict, Verdict::kOk);  // closed within 10 s of 2.0 s
  BroadcastResult r = history(12.0).check();                 // exactly the grace: required
  EXPECT_EQ(r.missing, 1u);
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0],
            "post m1 by alice (ok at 2.000000s) never reached bob's connection #1 (joined "
            "0.100000s, closed at 12.000000s: 1001 going away)");
  BroadcastOptions shorter;
  shorter.grace = seconds(1);
  EXPECT_EQ(history(3.5).check(shorter).missing, 1u);
  EXPECT_EQ(history(2.5).check(shorter).missing, 0u);
}

TEST(Broadcast, TheEndOfTheHistoryExcusesLikeAClose) {
  Script s;
  s.join("alice", 0, 0.1)
      .join("bob", 0, 0.1)
      .post("alice", "m1", 1.0, 2.0)
      .recv("alice", "m1", 1.5);
  EXPECT_EQ(s.check().verdict, Verdict::kOk);  // the history ends at 2.0 s
  s.elsewhere(11.9);                           // another object's op moves the end
  EXPECT_EQ(s.check().verdict, Verdict::kOk);
  s.elsewhere(12.0);
  BroadcastResult r = s.check();
  EXPECT_EQ(r.missing, 1u);
  EXPECT_EQ(r.rooms, 1u);  // the other object is not a room
}

TEST(Broadcast, OnlyMembersConnectedThroughThePostMustReceiveIt) {
  Script s;
  s.join("alice", 0, 0.1)
      .join("bob", 0.5, 1.5)  // joined while the post was in flight
      .join("carol", 0, 1.0, OpStatus::kFail)
      .post("alice", "m1", 1.0, 2.0)
      .recv("alice", "m1", 1.5)
      .elsewhere(100);
  BroadcastResult r = s.check();
  EXPECT_EQ(r.verdict, Verdict::kOk);
  EXPECT_EQ(r.required, 1u);
  EXPECT_EQ(r.connections, 2u);
  // Joined exactly at the post's invoke: required.
  Script t;
  t.join("alice", 0, 1.0).post("bob", "m1", 1.0, 2.0).elsewhere(100);
  EXPECT_EQ(t.check().missing, 1u);
}

TEST(Broadcast, PostsThatDidNotResolveOkAreOptional) {
  Script s;
  s.join("alice", 0, 0.1)
      .join("bob", 0, 0.1)
      .post("alice", "failed", 1, 2, OpStatus::kFail)
      .post("alice", "unknown", 3, -1, OpStatus::kUnknown)
      .post("alice", "pending", 4, -1, OpStatus::kPending)
      .recv("bob", "failed", 2.5)  // delivered anyway: not a phantom
      .recv("alice", "unknown", 3.5)
      .elsewhere(100);
  BroadcastResult r = s.check();
  EXPECT_EQ(r.verdict, Verdict::kOk);
  EXPECT_EQ(r.posts, 3u);
  EXPECT_EQ(r.posts_ok, 0u);
  EXPECT_EQ(r.required, 0u);
  EXPECT_EQ(r.phantoms, 0u);
}

TEST(Broadcast, PhantomAndDuplicate) {
  Script s;
  s.join("alice", 0, 0.1)
      .post("alice", "m1", 1, 1.1)
      .recv("alice", "m1", 1.05)
      .recv("alice", "m1", 1.2)
      .recv("alice", "m9", 1.3)
      .recv("alice", "m1", 1.4);
  BroadcastResult r = s.check();
  EXPECT_EQ(r.verdict, Verdict::kViolated);
  EXPECT_EQ(r.duplicates, 2u);
  EXPECT_EQ(r.phantoms, 1u);
  EXPECT_EQ(r.order_violations, 0u);
  std::vector<std::string> expected = {
      "alice's connection #1 received m9 at 1.300000s but m9 was never posted",
      "alice's connection #1 received m1 again at 1.200000s (first at 1.050000s)",
      "alice's connection #1 received m1 again at 1.400000s (first at 1.050000s)"};
  EXPECT_EQ(r.findings, expected);
}

TEST(Broadcast, TheSameMessageOnTwoConnectionsIsNotADuplicate) {
  Script s;
  s.join("alice", 0, 0.1).post("bob", "m1", 1, 1.1).recv("alice", "m1", 1.05);
  s.leave("alice", 2).join("alice", 3, 3.1).recv("alice", "m1", 3.2);  // replayed on reconnect
  EXPECT_EQ(s.check().verdict, Verdict::kOk);
}

TEST(Broadcast, OppositeOrdersOnTwoConnections) {
  Script s;
  s.join("alice", 0, 0.1).join("bob", 0, 0.1);
  s.post("alice", "m1", 1, 1.1).post("bob", "m2", 1, 1.1).post("alice", "m3", 2, 2.1);
  s.recv("alice", "m1", 1.05).recv("alice", "m2", 1.06).recv("alice", "m3", 2.05);
  s.recv("bob", "m2", 1.04).recv("bob", "m1", 1.07).recv("bob", "m3", 2.06);
  BroadcastResult r = s.check();
  EXPECT_EQ(r.verdict, Verdict::kViolated);
  EXPECT_EQ(r.order_violations, 1u);
  EXPECT_EQ(r.missing, 0u);
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0],
            "alice's connection #1 received m1 before m2 (at 1.050000s and 1.060000s), but bob's "
            "connection #1 received m2 before m1 (at 1.040000s and 1.070000s): no single order "
            "of the room explains both");
}

TEST(Broadcast, ACycleWithoutAnOppositePair) {
  // Each pair is seen by one connection only, yet no order fits all three.
  Script s;
  s.join("a", 0, 0.1).join("b", 0, 0.1).join("c", 0, 0.1);
  s.post("a", "x", 1, 1.1, OpStatus::kFail).post("a", "y", 1, 1.1, OpStatus::kFail);
  s.post("a", "z", 1, 1.1, OpStatus::kFail);
  s.recv("a", "x", 1.2).recv("a", "y", 1.3);
  s.recv("b", "y", 1.2).recv("b", "z", 1.3);
  s.recv("c", "z", 1.2).recv("c", "x", 1.3);
  BroadcastResult r = s.check();
  EXPECT_EQ(r.order_violations, 1u);
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0],
            "no single order of the room explains messages x, y, z: a's connection #1 received x "
            "before y, b's connection #1 received y before z, c's connection #1 received z before "
            "x");
  // Two separate disagreements are two violations.
  s.post("a", "u", 5, 5.1, OpStatus::kFail).post("a", "v", 5, 5.1, OpStatus::kFail);
  s.recv("a", "u", 5.2).recv("a", "v", 5.3).recv("b", "v", 5.2).recv("b", "u", 5.3);
  EXPECT_EQ(s.check().order_violations, 2u);
}

TEST(Broadcast, AJoinWithoutALeaveReplacesTheConnection) {
  Script s;
  s.join("alice", 0, 0.1).join("bob", 0, 0.1);
  s.post("alice", "m1", 1, 1.1).recv("alice", "m1", 1.05);
  s.join("bob", 20, 20.5);  // bob's first connection died unseen; it ends at 20.5 s
  s.elsewhere(100);
  BroadcastResult r = s.check();
  EXPECT_EQ(r.missing, 1u);
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0],
            "post m1 by alice (ok at 1.100000s) never reached bob's connection #1 (joined "
            "0.100000s, until the client joined again at 20.500000s)");
}

TEST(Broadcast, TiesAndStrayReceipts) {
  // A recv at a join's completion belongs to the new connection; one at a leave, to the
  // closing one; whatever the input order.
  Script s;
  s.post("bob", "m1", 0, 0.01).post("bob", "m2", 0, 0.01);
  s.leave("alice", 2).recv("alice", "m2", 2).recv("alice", "m1", 1).join("alice", 0, 1);
  s.recv("carol", "m1", 3);  // carol never joined: stray, not a violation
  BroadcastResult r = s.check();
  EXPECT_EQ(r.verdict, Verdict::kOk);
  EXPECT_EQ(r.stray, 1u);
  EXPECT_EQ(r.deliveries, 3u);
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0],
            "carol received m1 at 3.000000s while it had no open connection (stray)");
  // A stray receipt of an unposted id is still a phantom.
  s.recv("carol", "m7", 4);
  EXPECT_EQ(s.check().phantoms, 1u);
}

TEST(Broadcast, RoomsAreCheckedApart) {
  Script s("r1");
  s.join("alice", 0, 0.1).post("alice", "m1", 1, 1.1).recv("alice", "m1", 1.05);
  s.room("r2").join("alice", 0, 0.1).post("alice", "m1", 1, 1.1);  // r2 never delivers m1
  s.recv("alice", "m2", 2);                                        // m2 exists nowhere
  s.elsewhere(100);
  BroadcastResult r = s.check();
  EXPECT_EQ(r.rooms, 2u);
  EXPECT_EQ(r.missing, 1u);
  EXPECT_EQ(r.phantoms, 1u);
  ASSERT_EQ(r.findings.size(), 2u);
  EXPECT_EQ(r.findings[0].rfind("room r2: post m1 by alice", 0), 0u);
  EXPECT_EQ(r.findings[1].rfind("room r2: alice's connection #1 received m2", 0), 0u);
  BroadcastOptions only_r1;
  only_r1.object = "r1";
  BroadcastResult r1 = s.check(only_r1);
  EXPECT_EQ(r1.verdict, Verdict::kOk);
  EXPECT_EQ(r1.rooms, 1u);
  EXPECT_EQ(r1.posts, 1u);
  BroadcastOptions only_r2;
  only_r2.object = "r2";
  EXPECT_EQ(s.check(only_r2).findings[0].rfind("post m1 by alice", 0), 0u);  // no prefix
}

TEST(Broadcast, AReusedIdIsAWarningAndItsEarliestOkPostIsChecked) {
  Script s;
  s.join("alice", 0, 0.1).join("bob", 3, 3.1);
  s.post("alice", "m1", 1, 1.1, OpStatus::kFail).post("alice", "m1", 2, 2.1);
  s.post("alice", "m1", 5, 5.1);  // bob was connected through this one, not the earliest
  s.recv("alice", "m1", 2.05).elsewhere(100);
  BroadcastResult r = s.check();
  EXPECT_EQ(r.verdict, Verdict::kOk);
  EXPECT_EQ(r.posts, 3u);
  EXPECT_EQ(r.posts_ok, 2u);
  EXPECT_EQ(r.required, 1u);
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0],
            "message m1 was posted 3 times (ids should be unique); the earliest ok post is the "
            "one checked");
}

TEST(Broadcast, FindingsAreCappedButCountsAreNot) {
  Script s;
  for (int c = 0; c < 10; ++c) s.join("c" + std::to_string(c), 0, 0.1);
  for (int m = 0; m < 10; ++m) s.post("c0", "m" + std::to_string(m), 1 + m, 1.5 + m);
  s.elsewhere(100);
  BroadcastOptions o;
  o.examples_max = 3;
  BroadcastResult r = s.check(o);
  EXPECT_EQ(r.missing, 100u);
  EXPECT_EQ(r.required, 100u);
  EXPECT_EQ(r.findings.size(), 3u);
  EXPECT_EQ(r.findings[0].rfind("post m0 by c0 (ok at 1.500000s) never reached c0's connection", 0),
            0u);
}

TEST(Broadcast, LargeHistoryIsFast) {
  // About 150k operations: 40 clients churning, 6000 posts.
  Generated g = generate(7, 1, 40, 6000, true);
  ASSERT_GT(g.ops.size(), 100000u);
  BroadcastResult r = check_broadcast(shuffled(g.ops, 7));
  EXPECT_EQ(r.verdict, Verdict::kOk) << r.report();
  EXPECT_EQ(r.deliveries, g.recvs);
  EXPECT_EQ(r.required, g.required_count);
}

}  // namespace
}  // namespace props
