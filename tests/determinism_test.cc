// Determinism is the product: these tests run whole scenarios and compare event streams.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cstdio>
#include <fstream>
#include <set>

#include "scenarios/runner.h"
#include "traces/hash_sink.h"
#include "traces/reader.h"
#include "traces/replay.h"

namespace {

using scenarios::RunConfig;
using scenarios::RunOutcome;

// A random explicit fault plan over the pingpong nodes.
rc::Gen<std::string> fault_plans() {
  static const std::vector<std::string> nodes = {"pop-lhr", "pop-iad", "pop-fra", "pop-sin",
                                                 "pop-syd"};
  auto action = rc::gen::apply(
      [](int kind, int at_ms, int a, int b, int p) {
        const std::string at = "at " + std::to_string(at_ms) + "ms ";
        const std::string& x = nodes[static_cast<std::size_t>(a)];
        const std::string& y = nodes[static_cast<std::size_t>(b)];
        switch (kind) {
          case 0:
            return at + "partition {" + x + "} | {" + y + "}";
          case 1:
            return at + "partition {" + x + "} -> {" + y + "}";
          case 2:
            return at + "heal";
          case 3:
            return at + "crash " + x;
          case 4:
            return at + "restart " + x;
          case 5:
            return at + "pause " + x;
          case 6:
            return at + "resume " + x;
          case 7:
            return at + "clog " + x + " 300ms for 2s";
          case 8:
            return at + "loss 0." + std::to_string(p);
          default:
            return at + "duplicate 0." + std::to_string(p);
        }
      },
      rc::gen::inRange(0, 10), rc::gen::inRange(0, 45000), rc::gen::inRange(0, 5),
      rc::gen::inRange(0, 5), rc::gen::inRange(0, 3));
  return rc::gen::map(rc::gen::container<std::vector<std::string>>(action),
                      [](const std::vector<std::string>& actions) {
                        std::string plan;
                        for (const auto& a : actions) plan += a + "\n";
                        return plan.empty() ? std::string("swarm") : plan;
                      });
}

RC_GTEST_PROP(Determinism, SameSeedSameTrace, ()) {
  const auto seed = *rc::gen::inRange<std::uint64_t>(1, 1u << 30);
  const auto plan = *rc::gen::oneOf(rc::gen::just(std::string("swarm")), fault_plans());
  RunConfig c{"pingpong", seed, plan, ""};
  RunOutcome a = scenarios::run_scenario(c);
  RunOutcome b = scenarios::run_scenario(c);
  // The correct scenario holds under any plan: the quiet phase undoes every fault.
  RC_ASSERT(a.exit_code == scenarios::kExitOk);
  RC_ASSERT(a.events > 100u);
  RC_ASSERT(b.exit_code == a.exit_code);
  RC_ASSERT(a.final_hash == b.final_hash);
  RC_ASSERT(a.events == b.events);
  RC_ASSERT(a.stats == b.stats);
}

TEST(Determinism, DifferentSeedsGiveDifferentTraces) {
  std::set<std::uint64_t> hashes;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    hashes.insert(scenarios::run_scenario({"pingpong", seed, "none", ""}).final_hash);
  }
  EXPECT_EQ(hashes.size(), 20u);
}

TEST(Determinism, CheckDeterminismPassesOnEveryBuiltinScenario) {
  for (const auto& s : scenarios::builtin_scenarios()) {
    auto r = scenarios::check_determinism({s.name, 7, "swarm", ""});
    EXPECT_EQ(r.exit_code, 0) << s.name << ": " << r.report;
    EXPECT_GT(r.events, 100u);
  }
}

std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "edgesim-" + name + "-" + std::to_string(::getpid());
}

TEST(Replay, AWrittenTraceReplaysIdentically) {
  const std::string path = temp_path("replay.trace");
  RunOutcome o = scenarios::run_scenario({"pingpong-unsynced", 4, "swarm", path});
  ASSERT_EQ(o.trace_path, path);
  auto r = scenarios::replay_trace(path);
  EXPECT_EQ(r.exit_code, o.exit_code) << r.report;
  EXPECT_NE(r.report.find("identical"), std::string::npos) << r.report;
  EXPECT_EQ(r.run.final_hash, o.final_hash);
  std::remove(path.c_str());
}

TEST(Replay, TheComparerNamesTheFirstDivergence) {
  // Record seed 1, then hold seed 2 against it: they share the boot events, then differ.
  const std::string path = temp_path("diverge.trace");
  ASSERT_EQ(scenarios::run_scenario({"pingpong", 1, "none", path}).exit_code, 0);
  auto trace = traces::read_trace(path);
  ASSERT_TRUE(trace.ok());
  traces::ReplayComparer comparer(trace.value().events);
  (void)scenarios::run_scenario({"pingpong", 2, "none", ""}, {&comparer});
  const auto& d = comparer.finish();
  ASSERT_TRUE(d.has_value());
  EXPECT_GT(d->index, 0u);  // node.start events match
  EXPECT_FALSE(d->describe().empty());
  std::remove(path.c_str());
}

TEST(BadInput, CorruptedTraceIsExitCode2WithTheByte) {
  const std::string path = temp_path("corrupt.trace");
  ASSERT_EQ(scenarios::run_scenario({"pingpong", 3, "none", path}).exit_code, 0);
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  bytes[bytes.size() / 2] ^= 0x55;
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
  }
  auto r = scenarios::replay_trace(path);
  EXPECT_EQ(r.exit_code, scenarios::kExitBadInput);
  EXPECT_NE(r.report.find("byte"), std::string::npos) << r.report;
  std::remove(path.c_str());
  auto missing = scenarios::replay_trace(path);
  EXPECT_EQ(missing.exit_code, scenarios::kExitBadInput);
}

TEST(BadInput, MalformedFaultPlanAndUnknownScenario) {
  auto bad_plan = scenarios::run_scenario({"pingpong", 1, "at 1s explode pop-lhr", ""});
  EXPECT_EQ(bad_plan.exit_code, scenarios::kExitBadInput);
  EXPECT_NE(bad_plan.error.find("explode"), std::string::npos);
  auto bad_node = scenarios::run_scenario({"pingpong", 1, "at 1s crash pop-xyz", ""});
  EXPECT_EQ(bad_node.exit_code, scenarios::kExitBadInput);
  EXPECT_NE(bad_node.error.find("pop-xyz"), std::string::npos);
  auto unknown = scenarios::run_scenario({"no-such-scenario", 1, "none", ""});
  EXPECT_EQ(unknown.exit_code, scenarios::kExitBadInput);
}

TEST(Scenarios, CorrectVersionPassesAndBuggyVariantIsCaught) {
  int caught = 0;
  for (std::uint64_t seed = 1; seed <= 15; ++seed) {
    auto good = scenarios::run_scenario({"pingpong", seed, "swarm", ""});
    EXPECT_EQ(good.exit_code, 0) << "seed " << seed << ": "
                                 << (good.properties.empty() ? good.error
                                                             : good.properties[0].explanation);
    auto bad = scenarios::run_scenario({"pingpong-unsynced", seed, "swarm", ""});
    EXPECT_NE(bad.exit_code, scenarios::kExitInternal) << bad.error;
    caught += bad.exit_code == scenarios::kExitViolated ? 1 : 0;
  }
  EXPECT_GT(caught, 0);
  // An explicit crash always catches it.
  auto bad = scenarios::run_scenario(
      {"pingpong-unsynced", 1, "at 10s crash pop-lhr; at 12s restart pop-lhr", ""});
  EXPECT_EQ(bad.exit_code, scenarios::kExitViolated);
}

}  // namespace
