#include "platform/js/sim_platform.h"

#include <gtest/gtest.h>

#include "platform/js/engine.h"
#include "sim/world.h"

namespace js {
namespace {

TEST(SimPlatform, ClockFollowsTheWorldInScope) {
  Engine::init();
  SimPlatform& p = Engine::get().platform();
  sim::World w(1);
  EXPECT_EQ(p.CurrentClockTimeMillis(), kEpochUnixMs);  // no scope: virtual time 0
  w.run_until(sim::seconds(2.5));
  {
    ClockScope scope(&w);
    EXPECT_EQ(p.CurrentClockTimeMillis(), kEpochUnixMs + 2500);
    EXPECT_DOUBLE_EQ(p.MonotonicallyIncreasingTime(), 2.5);
  }
  EXPECT_EQ(p.CurrentClockTimeMillis(), kEpochUnixMs);
}

TEST(SimPlatform, RunsNoBackgroundThreads) {
  Engine::init();
  EXPECT_EQ(Engine::get().platform().NumberOfWorkerThreads(), 0);
}

}  // namespace
}  // namespace js
