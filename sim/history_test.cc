#include "sim/history.h"

#include <gtest/gtest.h>

#include "sim/events.h"
#include "sim/world.h"

namespace sim {
namespace {

struct Kinds : EventSink {
  std::vector<std::string> events;
  void on_event(const TraceEvent& e) override {
    events.push_back(std::string(event_kind(*e.body)) + " " + event_details(*e.body));
  }
};

TEST(History, RecordsInvokeCompleteAndEffectWithVirtualTimes) {
  World w(1);
  Node& n = w.add_node("client", "lhr");
  Kinds sink;
  w.add_sink(&sink);
  w.start();
  History& h = w.history();
  OpId a = 0, b = 0;
  w.spawn(n, "client", [&](Task& t) {
    a = h.invoke(n.id(), "c1", "counter", "k", "increment", "1");
    t.sleep(millis(5));
    h.effect(a);
    t.sleep(millis(5));
    h.complete(a, OpStatus::kOk, "1");
    b = h.invoke(n.id(), "c1", "counter", "k", "read", "");
    t.sleep(seconds(1));
    h.complete(b, OpStatus::kUnknown, "");
  });
  ASSERT_TRUE(w.run_until(kTimeMax));
  ASSERT_EQ(h.ops().size(), 2u);
  const Operation& oa = h.op(a);
  EXPECT_EQ(oa.invoke, 0);
  EXPECT_EQ(oa.complete, millis(10));
  EXPECT_EQ(oa.status, OpStatus::kOk);
  EXPECT_EQ(oa.output, "1");
  EXPECT_EQ(oa.effect_seq, 1u);
  const Operation& ob = h.op(b);
  EXPECT_EQ(ob.invoke, millis(10));
  // An unknown outcome may take effect at any later time: it never completes.
  EXPECT_EQ(ob.complete, kTimeMax);
  EXPECT_EQ(ob.effect_seq, 0u);
  EXPECT_EQ(h.pending(), 0u);
  // The whole history is in the trace, so checkers can work from trace files.
  std::vector<std::string> kinds;
  for (const auto& e : sink.events) {
    if (e.rfind("op.", 0) == 0) kinds.push_back(e.substr(0, e.find(' ')));
  }
  EXPECT_EQ(kinds, (std::vector<std::string>{"op.invoke", "op.effect", "op.complete", "op.invoke",
                                             "op.complete"}));
  EXPECT_NE(sink.events.back().find("status=unknown"), std::string::npos);
}

TEST(HistoryDeathTest, CompletingTwiceIsACallerBug) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        World w(1);
        OpId id = w.history().invoke(kNoNode, "c", "o", "", "read", "");
        w.history().complete(id, OpStatus::kOk, "");
        w.history().complete(id, OpStatus::kOk, "");
      },
      "requirement failed");
}

}  // namespace
}  // namespace sim
