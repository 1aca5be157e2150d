#include "sim/task.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <map>
#include <stdexcept>
#include <vector>

#include "sim/sync.h"
#include "sim/world.h"

namespace sim {
namespace {

TEST(Task, SleepAdvancesVirtualTimeOnly) {
  World w(1);
  Node& n = w.add_node("a", "lhr");
  w.start();
  std::vector<Time> woke;
  w.spawn(n, "sleeper", [&](Task& t) {
    t.sleep(seconds(3));
    woke.push_back(t.now());
    t.sleep(millis(250));
    woke.push_back(t.now());
  });
  EXPECT_TRUE(w.run_until(kTimeMax));
  EXPECT_EQ(woke, (std::vector<Time>{seconds(3), seconds(3) + millis(250)}));
  EXPECT_EQ(w.live_tasks(), 0u);
}

TEST(Task, WaitQueueNotifiesAndTimesOut) {
  World w(2);
  Node& n = w.add_node("a", "lhr");
  w.start();
  WaitQueue q;
  bool notified = false, timed_out = false;
  w.spawn(n, "waiter", [&](Task& t) { notified = q.wait_for(t, seconds(10)); });
  w.spawn(n, "notifier", [&](Task& t) {
    t.sleep(seconds(1));
    q.notify_one(w);
  });
  w.spawn(n, "lonely", [&](Task& t) {
    WaitQueue nobody;
    timed_out = !nobody.wait_for(t, seconds(2));
    EXPECT_EQ(t.now(), seconds(2));
  });
  w.run_until(kTimeMax);
  EXPECT_TRUE(notified);
  EXPECT_TRUE(timed_out);
}

TEST(Task, JoinWaitsForTheOtherTask) {
  World w(3);
  Node& n = w.add_node("a", "lhr");
  w.start();
  Time joined_at = -1;
  TaskRef worker = w.spawn(n, "worker", [](Task& t) { t.sleep(seconds(5)); });
  w.spawn(n, "joiner", [&](Task& t) {
    EXPECT_TRUE(w.join(t, worker));
    joined_at = t.now();
  });
  w.run_until(kTimeMax);
  EXPECT_EQ(joined_at, seconds(5));
}

TEST(Task, CancelThrowsAtTheSuspensionPointAndRunsDestructors) {
  World w(4);
  Node& n = w.add_node("a", "lhr");
  w.start();
  struct Guard {
    bool* flag;
    ~Guard() { *flag = true; }
  };
  bool destroyed = false, after_sleep = false;
  TaskRef r = w.spawn(n, "victim", [&](Task& t) {
    Guard g{&destroyed};
    t.sleep(seconds(100));
    after_sleep = true;
  });
  w.run_until(seconds(1));
  w.cancel(r);
  w.run_until(kTimeMax);
  EXPECT_TRUE(destroyed);
  EXPECT_FALSE(after_sleep);
  EXPECT_EQ(w.task(r), nullptr);
}

TEST(Task, CrashUnwindsTasksAndTheyNeverRunAgain) {
  World w(5);
  Node& n = w.add_node("a", "lhr");
  Node& other = w.add_node("b", "iad");
  int boots = 0;
  int ticks_after_crash = 0;
  int unwound = 0;
  bool crashed = false;
  n.on_boot([&](Node& node) {
    ++boots;
    for (int i = 0; i < 5; ++i) {
      w.spawn(node, "ticker", [&, inc = node.incarnation()](Task& t) {
        struct Count {
          int* c;
          ~Count() { ++*c; }
        } count{&unwound};
        for (;;) {
          t.sleep(millis(100));
          if (crashed && inc == 1) ++ticks_after_crash;
        }
      });
    }
  });
  w.start();
  w.spawn(other, "chaos", [&](Task& t) {
    t.sleep(seconds(1));
    crashed = true;
    w.crash(n);
    EXPECT_EQ(n.live_tasks(), 0u);
    t.sleep(seconds(1));
    w.restart(n);
  });
  w.run_until(seconds(5));
  EXPECT_EQ(ticks_after_crash, 0);
  EXPECT_EQ(unwound, 5);
  EXPECT_EQ(boots, 2);
  EXPECT_EQ(n.incarnation(), 2u);
  EXPECT_EQ(n.live_tasks(), 5u);
}

TEST(Task, ATaskThatCrashesItsOwnNodeStopsAtOnce) {
  World w(6);
  Node& n = w.add_node("a", "lhr");
  w.start();
  bool after = false;
  w.spawn(n, "suicidal", [&](Task& t) {
    t.sleep(seconds(1));
    w.crash(n);
    after = true;
  });
  EXPECT_TRUE(w.run_until(kTimeMax));
  EXPECT_FALSE(after);
  EXPECT_TRUE(n.down());
  EXPECT_EQ(w.live_tasks(), 0u);
}

TEST(Task, PausedNodeHoldsWakesUntilResumed) {
  World w(7);
  Node& n = w.add_node("a", "lhr");
  w.start();
  Time woke = -1;
  w.spawn(n, "sleeper", [&](Task& t) {
    t.sleep(seconds(1));
    woke = t.now();
  });
  w.run_until(millis(500));
  w.pause(n);
  w.run_until(seconds(3));
  EXPECT_EQ(woke, -1);
  w.resume(n);
  w.run_until(kTimeMax);
  EXPECT_EQ(woke, seconds(3));
}

TEST(Task, SpawnOnADownNodeDoesNothing) {
  World w(8);
  Node& n = w.add_node("a", "lhr");
  w.start();
  w.crash(n);
  EXPECT_FALSE(w.spawn(n, "x", [](Task&) { ADD_FAILURE(); }).valid());
  w.run_until(kTimeMax);
}

TEST(Task, AnExceptionEscapingATaskIsAnInternalError) {
  World w(9);
  Node& n = w.add_node("a", "lhr");
  w.start();
  w.spawn(n, "buggy", [](Task& t) {
    t.sleep(seconds(1));
    throw std::runtime_error("boom");
  });
  EXPECT_FALSE(w.run_until(kTimeMax));
  ASSERT_TRUE(w.error().has_value());
  EXPECT_NE(w.error()->find("boom"), std::string::npos);
  EXPECT_NE(w.error()->find("buggy"), std::string::npos);
}

TEST(Task, LivelockAtOneInstantIsAnError) {
  World w(WorldOptions{.seed = 10, .events_per_instant_max = 10000});
  Node& n = w.add_node("a", "lhr");
  w.start();
  w.spawn(n, "spinner", [](Task& t) {
    for (;;) t.yield();
  });
  EXPECT_FALSE(w.run_until(kTimeMax));
  ASSERT_TRUE(w.error().has_value());
  EXPECT_NE(w.error()->find("livelock"), std::string::npos);
}

TEST(Task, MailboxDeliversInOrder) {
  World w(11);
  Node& n = w.add_node("a", "lhr");
  w.start();
  Mailbox<int> box;
  std::vector<int> got;
  w.spawn(n, "consumer", [&](Task& t) {
    while (auto v = box.pop(t, t.now() + seconds(10))) got.push_back(*v);
  });
  w.spawn(n, "producer", [&](Task& t) {
    for (int i = 0; i < 5; ++i) {
      box.push(w, i);
      t.sleep(millis(10));
    }
  });
  w.run_until(kTimeMax);
  EXPECT_EQ(got, (std::vector<int>{0, 1, 2, 3, 4}));
}

// Recurses until `limit` (huge): the stack runs out long before.
int recurse_deep(int depth, int limit) {
  volatile char pad[1024];
  pad[0] = static_cast<char>(depth);
  if (depth >= limit) return pad[0];
  return recurse_deep(depth + 1, limit) + pad[0];
}

TEST(TaskDeathTest, StackOverflowHitsTheGuardPage) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        World w(12);
        Node& n = w.add_node("a", "lhr");
        w.start();
        w.spawn(
            n, "deep", [](Task&) { (void)recurse_deep(0, 1 << 30); }, 64 * 1024);
        (void)w.run_until(kTimeMax);
      },
      "");
}

// Law: a crashed node's tasks never run again, whatever the crash times.
RC_GTEST_PROP(Task, CrashedIncarnationsNeverRunAgain,
              (std::uint64_t seed, std::vector<std::uint16_t> crash_ms)) {
  World w(seed);
  Node& n = w.add_node("a", "lhr");
  Node& chaos = w.add_node("chaos", "iad");
  std::map<std::uint64_t, Time> crashed_at;  // incarnation -> crash time
  bool violated = false;
  n.on_boot([&](Node& node) {
    for (int i = 0; i < 3; ++i) {
      w.spawn(node, "worker", [&, inc = node.incarnation()](Task& t) {
        for (;;) {
          t.sleep(millis(1 + static_cast<int>(w.rng("x").below(50))));
          if (crashed_at.count(inc)) violated = true;
        }
      });
    }
  });
  w.start();
  std::vector<std::uint16_t> times = crash_ms;
  std::sort(times.begin(), times.end());
  w.spawn(chaos, "chaos", [&](Task& t) {
    for (auto ms : times) {
      t.sleep_until(std::max(t.now(), millis(ms)));
      if (n.up()) {
        crashed_at[n.incarnation()] = t.now();
        w.crash(n);
      }
      t.sleep(millis(5));
      w.restart(n);
    }
  });
  RC_ASSERT(w.run_until(millis(70000)));
  RC_ASSERT(!violated);
}

}  // namespace
}  // namespace sim
