#include "sim/rng.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cmath>
#include <set>

#include "sim/world.h"

namespace sim {
namespace {

RC_GTEST_PROP(Rng, ForkDependsOnlyOnSeedAndName,
              (std::uint64_t seed, std::string name, int draws)) {
  Rng a(seed);
  Rng b(seed);
  for (int i = 0; i < std::abs(draws % 100); ++i) b.next_u64();
  Rng fa = a.fork(name);
  Rng fb = b.fork(name);
  for (int i = 0; i < 8; ++i) RC_ASSERT(fa.next_u64() == fb.next_u64());
}

RC_GTEST_PROP(Rng, BelowStaysInRange, (std::uint64_t seed, std::uint64_t n)) {
  RC_PRE(n > 0u);
  Rng r(seed);
  for (int i = 0; i < 64; ++i) RC_ASSERT(r.below(n) < n);
}

RC_GTEST_PROP(Rng, UniformIntInclusive, (std::uint64_t seed, std::int32_t lo, std::uint16_t span)) {
  Rng r(seed);
  const std::int64_t hi = static_cast<std::int64_t>(lo) + span;
  for (int i = 0; i < 64; ++i) {
    const auto v = r.uniform_int(lo, hi);
    RC_ASSERT(v >= lo);
    RC_ASSERT(v <= hi);
  }
}

TEST(Rng, DifferentNamesGiveDifferentStreams) {
  Rng root(42);
  EXPECT_NE(root.fork("net").next_u64(), root.fork("disk").next_u64());
  EXPECT_NE(Rng(1).next_u64(), Rng(2).next_u64());
}

// World::unique_rng: each call under one name is a new stream, and the sequence of streams is
// the same in every run of the seed.
TEST(Rng, UniqueStreamsNeverRepeatWithinARunAndRepeatAcrossRuns) {
  World a(7);
  World b(7);
  std::set<std::uint64_t> firsts;
  for (int i = 0; i < 50; ++i) {
    const std::uint64_t x = a.unique_rng("js/pop/app").next_u64();
    EXPECT_TRUE(firsts.insert(x).second) << "stream " << i << " repeated";
    EXPECT_EQ(b.unique_rng("js/pop/app").next_u64(), x);
  }
  EXPECT_NE(a.unique_rng("js/pop/other").next_u64(), a.rng("js/pop/other").next_u64());
}

TEST(Rng, SameSeedSameSequence) {
  Rng a(7), b(7);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(a.next_u64(), b.next_u64());
}

TEST(Rng, DistributionsHaveTheirMeans) {
  Rng r(123);
  const int n = 200000;
  double sum_u = 0, sum_e = 0, sum_n = 0, sum_n2 = 0;
  int heads = 0;
  for (int i = 0; i < n; ++i) {
    sum_u += r.uniform01();
    sum_e += r.exponential(5.0);
    const double x = r.normal(10, 2);
    sum_n += x;
    sum_n2 += x * x;
    heads += r.bernoulli(0.3) ? 1 : 0;
  }
  EXPECT_NEAR(sum_u / n, 0.5, 0.01);
  EXPECT_NEAR(sum_e / n, 5.0, 0.1);
  const double mean = sum_n / n;
  EXPECT_NEAR(mean, 10, 0.05);
  EXPECT_NEAR(std::sqrt(sum_n2 / n - mean * mean), 2, 0.05);
  EXPECT_NEAR(static_cast<double>(heads) / n, 0.3, 0.01);
  for (int i = 0; i < 1000; ++i) EXPECT_GE(r.pareto(2.0, 1.5), 2.0);
}

TEST(Rng, BelowIsUnbiasedOverSmallRange) {
  Rng r(9);
  int counts[3] = {0, 0, 0};
  for (int i = 0; i < 30000; ++i) ++counts[r.below(3)];
  for (int c : counts) EXPECT_NEAR(c, 10000, 400);
}

}  // namespace
}  // namespace sim
