#include "props/do_single_instance.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "props/test_util.h"

namespace props {
namespace {

using sim::millis;

const std::vector<std::string> kHosts = {"lhr-1", "lhr-2", "iad-1", "fra-1"};

// Fenced failover: each object runs a chain of instances with rising epochs; an instance
// commits only until its successor starts.
DoSingleInstanceInput simulate(std::uint64_t seed, int objects, int failovers) {
  test::TestRng rng(seed);
  DoSingleInstanceInput in;
  for (int o = 0; o < objects; ++o) {
    std::string id = "obj" + std::to_string(o);
    sim::Time t = rng.range(0, millis(100));
    std::uint64_t epoch = rng.range(1, 5);
    int instances = 1 + static_cast<int>(rng.next() % (failovers + 1));
    for (int i = 0; i < instances; ++i) {
      std::string inst = id + "-i" + std::to_string(i);
      in.activations.push_back({id, inst, kHosts[rng.next() % kHosts.size()], epoch, t});
      sim::Time next = t + rng.range(millis(1), millis(500));
      int commits = static_cast<int>(rng.next() % 5);
      for (int c = 0; c < commits; ++c) {
        in.commits.push_back({id, inst, epoch, rng.range(t, next - 1)});
      }
      t = next;
      epoch += rng.range(1, 3);
    }
  }
  for (std::size_t i = in.commits.size(); i > 1; --i) {
    std::swap(in.commits[i - 1], in.commits[rng.next() % i]);
  }
  return in;
}

RC_GTEST_PROP(DoSingleInstance, AcceptsFencedFailover, ()) {
  auto in = simulate(*rc::gen::arbitrary<std::uint64_t>(), *rc::gen::inRange(0, 20),
                     *rc::gen::inRange(0, 5));
  DoSingleInstanceResult r = check_do_single_instance(in);
  RC_ASSERT(r.verdict == Verdict::kOk);
  RC_ASSERT(r.unknown_instance_commits == 0u);
  RC_ASSERT(r.commits == in.commits.size());
}

RC_GTEST_PROP(DoSingleInstance, RejectsAnOldInstanceWritingAfterItsSuccessor, ()) {
  auto in = simulate(*rc::gen::arbitrary<std::uint64_t>(), *rc::gen::inRange(1, 20), 3);
  // Find an object whose second instance committed; let the first commit after that.
  const DoCommit* newer = nullptr;
  for (const DoCommit& c : in.commits) {
    if (c.instance_id.ends_with("-i1") && (newer == nullptr || c.time > newer->time)) newer = &c;
  }
  bool found = newer != nullptr;
  RC_PRE(found);
  const DoActivation* old = nullptr;
  for (const DoActivation& a : in.activations) {
    if (a.object_id == newer->object_id && a.instance_id.ends_with("-i0")) old = &a;
  }
  bool has_old = old != nullptr;
  RC_ASSERT(has_old);
  in.commits.push_back({old->object_id, old->instance_id, old->epoch, newer->time + 1});
  DoSingleInstanceResult r = check_do_single_instance(in);
  RC_ASSERT(r.verdict == Verdict::kViolated);
  RC_ASSERT(r.stale_epoch_commits >= 1u);
  RC_ASSERT(r.split_brain_objects == std::vector<std::string>{old->object_id});
}

TEST(DoSingleInstance, ExplainsSplitBrain) {
  DoSingleInstanceInput in;
  in.activations = {{"counter-7", "i2", "lhr-2", 3, millis(10'000)},
                    {"counter-7", "i3", "iad-1", 4, millis(12'000)},
                    {"counter-7", "i4", "fra-1", 4, millis(13'000)}};
  in.commits = {{"counter-7", "i3", 4, millis(12'100)},
                {"counter-7", "i2", 3, millis(12'500)},
                {"counter-7", "i4", 4, millis(13'100)},
                {"counter-7", "ghost", 9, millis(14'000)}};
  DoSingleInstanceResult r = check_do_single_instance(in);
  EXPECT_EQ(r.verdict, Verdict::kViolated);
  EXPECT_EQ(r.stale_epoch_commits, 1u);  // i2 after epoch 4 committed
  EXPECT_EQ(r.shared_epoch_commits, 1u);
  EXPECT_EQ(r.unknown_instance_commits, 1u);
  ASSERT_GE(r.findings.size(), 3u);
  EXPECT_EQ(r.findings[0],
            "object counter-7: instance i2 (host lhr-2, epoch 3, activated at 10.000000s) "
            "committed storage at 12.500000s after instance i3 (host iad-1, epoch 4, activated "
            "at 12.000000s) had committed at 12.100000s: both were live and wrote (split brain); "
            "the older instance should have been fenced off");
  EXPECT_EQ(r.findings[1],
            "object counter-7: instance i4 (host fra-1, epoch 4, activated at 13.000000s) "
            "committed storage at 13.100000s, and instance i3 (host iad-1, epoch 4, activated at "
            "12.000000s) had committed in the same epoch at 12.100000s: two instances shared one "
            "epoch (split brain)");
  EXPECT_EQ(r.findings.back(),
            "object counter-7: instance ghost committed with epoch 9 but its activation was not "
            "recorded");
}

}  // namespace
}  // namespace props
