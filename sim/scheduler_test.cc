#include "sim/scheduler.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <set>
#include <vector>

namespace sim {
namespace {

TEST(Scheduler, RunsEventsInTimeOrderAndMovesTheClock) {
  Scheduler s(Rng(1));
  std::vector<int> order;
  s.at(30, [&] { order.push_back(3); });
  s.at(10, [&] { order.push_back(1); });
  s.at(20, [&] { order.push_back(2); });
  EXPECT_TRUE(s.run_until(25));
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  EXPECT_EQ(s.now(), 25);
  EXPECT_TRUE(s.run_until(kTimeMax));
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(s.now(), 30);
}

TEST(Scheduler, CancelledEventsDoNotRun) {
  Scheduler s(Rng(1));
  int ran = 0;
  EventId a = s.at(5, [&] { ran += 1; });
  s.at(6, [&] { ran += 10; });
  EXPECT_TRUE(s.cancel(a));
  EXPECT_FALSE(s.cancel(a));
  EXPECT_EQ(s.pending(), 1u);
  s.run_until(kTimeMax);
  EXPECT_EQ(ran, 10);
}

TEST(Scheduler, EventsScheduledFromCallbacksRun) {
  Scheduler s(Rng(1));
  int depth = 0;
  std::function<void()> again = [&] {
    if (++depth < 100) s.after(1, again);
  };
  s.after(0, again);
  s.run_until(kTimeMax);
  EXPECT_EQ(depth, 100);
  EXPECT_EQ(s.now(), 99);
}

std::vector<int> tie_order(std::uint64_t seed) {
  Scheduler s((Rng(seed)));
  std::vector<int> order;
  for (int i = 0; i < 8; ++i) s.at(100, [&order, i] { order.push_back(i); });
  s.run_until(kTimeMax);
  return order;
}

TEST(Scheduler, TiesAtOneInstantAreOrderedBySeed) {
  // Same seed: same order. Across seeds: more than one order appears.
  std::set<std::vector<int>> seen;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    EXPECT_EQ(tie_order(seed), tie_order(seed));
    seen.insert(tie_order(seed));
  }
  EXPECT_GT(seen.size(), 10u);
}

RC_GTEST_PROP(Scheduler, NeverRunsAnEventBeforeItsTime, (std::vector<std::uint16_t> times)) {
  Scheduler s(Rng(5));
  std::vector<Time> seen;
  for (auto t : times)
    s.at(t, [&s, &seen, t] {
      RC_ASSERT(s.now() == static_cast<Time>(t));
      seen.push_back(s.now());
    });
  s.run_until(kTimeMax);
  RC_ASSERT(seen.size() == times.size());
  RC_ASSERT(std::is_sorted(seen.begin(), seen.end()));
}

}  // namespace
}  // namespace sim
