#include "sim/faults.h"

#include <gtest/gtest.h>

#include <set>

#include "sim/events.h"
#include "sim/network.h"
#include "sim/world.h"

namespace sim {
namespace {

struct RecordingSink : EventSink {
  std::vector<std::string> lines;
  void on_event(const TraceEvent& e) override {
    lines.push_back(format_time(e.time) + " " + std::string(event_kind(*e.body)) + " " +
                    event_details(*e.body));
  }
  bool has(std::string_view kind) const {
    for (const auto& l : lines) {
      if (l.find(kind) != std::string::npos) return true;
    }
    return false;
  }
};

TEST(FaultPlan, ParsesEveryAction) {
  auto plan = FaultPlan::parse(
      "at 12.5s partition {lhr} | {iad, fra}\n"
      "at 1s partition {a} -> {b}; at 2s heal  # comment\n"
      "at 3s crash x\nat 4s restart x\nat 5s pause x\nat 6s resume x\n"
      "at 2s clog x 200ms for 10s\nat 0s loss 0.05\nat 0s duplicate 0.1\n"
      "at 0s reorder 0.2\nat 0s torn-writes on\nat 0s sites off\nat 7s isolate y\n");
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  const auto& a = plan.value().actions();
  ASSERT_EQ(a.size(), 14u);
  EXPECT_EQ(a.front().at, 0);  // sorted by time
  EXPECT_EQ(a.back().op, FaultAction::Op::kPartition);
  EXPECT_EQ(a.back().at, seconds(12.5));
  EXPECT_EQ(a.back().b, (std::vector<std::string>{"iad", "fra"}));
  // The text form parses back to the same plan.
  auto again = FaultPlan::parse(plan.value().text());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.value().actions().size(), 14u);
}

TEST(FaultPlan, ErrorsNameTheSourceAndLine) {
  auto bad = FaultPlan::parse("at 1s heal\nat 2s crsh x\n", "plan.txt");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("plan.txt:2:"), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("crsh"), std::string::npos);
  for (const char* text : {"at xs heal", "at 1s partition {a | {b}", "at 1s loss 2",
                           "at 1s clog x 10ms", "heal", "at 1s partition {a} {b}"}) {
    EXPECT_FALSE(FaultPlan::parse(text).ok()) << text;
  }
  EXPECT_FALSE(FaultPlan::from_arg("nonsense").ok());
}

TEST(Faults, ScheduledFaultsFireAsTraceEvents) {
  World w(1);
  Node& a = w.add_node("a", "lhr");
  w.add_node("b", "iad");
  RecordingSink sink;
  w.add_sink(&sink);
  w.start();
  auto plan = FaultPlan::parse("at 1s crash a; at 2s restart a; at 3s partition {a} | {b}");
  ASSERT_TRUE(plan.ok());
  ASSERT_TRUE(w.faults().install(plan.value(), kTimeMax).ok());
  w.run_until(millis(1500));
  EXPECT_TRUE(a.down());
  w.run_until(seconds(4));
  EXPECT_TRUE(a.up());
  EXPECT_FALSE(w.net().reachable(a.id(), 1));
  EXPECT_TRUE(sink.has("fault.crash"));
  EXPECT_TRUE(sink.has("fault.restart"));
  EXPECT_TRUE(sink.has("fault.partition"));
  EXPECT_EQ(w.faults().fired(), 3u);
}

TEST(Faults, UnknownNodeInPlanIsRejected) {
  World w(1);
  w.add_node("a", "lhr");
  auto plan = FaultPlan::parse("at 1s crash nope");
  ASSERT_TRUE(plan.ok());
  Status s = w.faults().install(plan.value(), kTimeMax);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("nope"), std::string::npos);
}

TEST(Faults, SwarmProfileIsDrawnFromTheSeedAndQuietTimeHeals) {
  std::set<std::string> profiles;
  for (std::uint64_t seed = 1; seed <= 30; ++seed) {
    World w(seed);
    for (const char* loc : {"lhr", "iad", "fra"}) w.add_node(std::string("n-") + loc, loc);
    w.start();
    ASSERT_TRUE(w.faults().install(FaultPlan::swarm(), seconds(60)).ok());
    const std::string d = w.faults().describe();
    World w2(seed);
    for (const char* loc : {"lhr", "iad", "fra"}) w2.add_node(std::string("n-") + loc, loc);
    w2.start();
    ASSERT_TRUE(w2.faults().install(FaultPlan::swarm(), seconds(60)).ok());
    EXPECT_EQ(d, w2.faults().describe());
    profiles.insert(d);
    w.run_until(seconds(61));
    EXPECT_FALSE(w.net().partitioned());
    for (const auto& n : w.nodes()) EXPECT_TRUE(n->up()) << "seed " << seed;
    EXPECT_EQ(w.net().config().loss, 0);
  }
  EXPECT_GT(profiles.size(), 20u);
}

TEST(Faults, CodeSitesAreOnOrOffPerRunBySeed) {
  int enabled_runs = 0;
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    World w(seed);
    w.faults().set_sites_enabled(true);
    int fired = 0;
    for (int i = 0; i < 200; ++i) fired += w.faults().fire("kv.slow", 0.5) ? 1 : 0;
    if (fired > 0) {
      ++enabled_runs;
      EXPECT_GT(fired, 50);
    }
    World off(seed);
    EXPECT_FALSE(off.faults().fire("kv.slow", 1.0));  // sites are off unless a plan turns them on
  }
  EXPECT_GT(enabled_runs, 2);
  EXPECT_LT(enabled_runs, 30);
}

}  // namespace
}  // namespace sim
