#include "props/kv_convergence.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <map>

#include "props/test_util.h"

namespace props {
namespace {

using sim::seconds;

const std::vector<std::string> kLocations = {"fra", "iad", "lhr", "sin"};

// A store within its bound: each write becomes visible at each location after a delay of at
// most `bound` (at once where it was written), or, for locations cut off by the outage, at most
// `bound` after the heal. A read returns the newest write (in write order) visible there.
struct World {
  KvConvergenceInput input;
  std::vector<std::map<std::string, sim::Time>> visible;  // per write: location -> time
};

World simulate(std::uint64_t seed, int writes, int keys, bool outage) {
  test::TestRng rng(seed);
  World w;
  w.input.bound = seconds(120);
  sim::Time heal = outage ? seconds(300) : 0;
  if (outage) w.input.healed = heal;
  std::string cut_off = kLocations[rng.next() % kLocations.size()];
  sim::Time t = 0;
  std::vector<std::string> key_of;
  for (int i = 0; i < writes; ++i) {
    t += rng.range(0, seconds(20));
    KvWrite wr;
    wr.ns = "ns";
    wr.key = "k" + std::to_string(rng.next() % keys);
    if (rng.chance(0.1)) {
      wr.value.reset();
    } else {
      wr.value = "v" + std::to_string(i);
    }
    wr.time = t;
    wr.location = kLocations[rng.next() % kLocations.size()];
    std::map<std::string, sim::Time> vis;
    for (const std::string& loc : kLocations) {
      sim::Time at = loc == wr.location ? t : t + rng.range(0, w.input.bound);
      if (outage && loc == cut_off && t < heal)
        at = std::max(at, heal + rng.range(0, seconds(100)));
      vis[loc] = at;
    }
    w.input.writes.push_back(wr);
    w.visible.push_back(vis);
  }
  // Reads all along, and some after the settle time.
  sim::Time end = std::max(t, heal) + w.input.bound + seconds(60);
  int reads = writes * 3 + 10;
  for (int i = 0; i < reads; ++i) {
    KvRead rd;
    rd.ns = "ns";
    rd.key = "k" + std::to_string(rng.next() % keys);
    rd.location = kLocations[rng.next() % kLocations.size()];
    rd.time = i < 8 ? end - rng.range(0, seconds(50)) : rng.range(0, end);
    long newest = -1;
    for (std::size_t j = 0; j < w.input.writes.size(); ++j) {
      if (w.input.writes[j].key == rd.key && w.visible[j][rd.location] <= rd.time) {
        newest = static_cast<long>(j);
      }
    }
    if (newest >= 0) rd.value = w.input.writes[newest].value;
    w.input.reads.push_back(rd);
  }
  return w;
}

RC_GTEST_PROP(KvConvergence, AcceptsAStoreWithinItsBound, ()) {
  World w = simulate(*rc::gen::arbitrary<std::uint64_t>(), *rc::gen::inRange(0, 60),
                     *rc::gen::inRange(1, 4), *rc::gen::arbitrary<bool>());
  w.input.check_monotonic_reads = true;
  KvConvergenceResult r = check_kv_convergence(w.input);
  RC_ASSERT(r.verdict == Verdict::kOk);
  RC_ASSERT(r.staleness.max <= w.input.bound + (w.input.healed > 0 ? seconds(300) : 0));
  RC_ASSERT(r.reads == w.input.reads.size());
}

RC_GTEST_PROP(KvConvergence, RejectsAReadThatNeverConverges, ()) {
  World w = simulate(*rc::gen::arbitrary<std::uint64_t>(), *rc::gen::inRange(2, 60), 1, false);
  // The last read (after the settle time) returns the first value ever written, if it is not
  // also the final one.
  std::optional<std::string> first = w.input.writes.front().value;
  std::optional<std::string> last = w.input.writes.back().value;
  RC_PRE(first != last);
  KvRead& rd = w.input.reads.front();  // one of the reads after settling
  rd.value = first;
  KvConvergenceResult r = check_kv_convergence(w.input);
  RC_ASSERT(r.verdict == Verdict::kViolated);
  RC_ASSERT(r.convergence_violations >= 1u);
  RC_ASSERT(r.staleness_violations >= 1u);
  RC_ASSERT(!r.findings.empty());
}

TEST(KvConvergence, StalenessIsMeasuredFromTheFirstNewerWrite) {
  KvConvergenceInput in;
  in.bound = seconds(60);
  in.writes = {{"ns", "k", "a", seconds(0), "lhr"},
               {"ns", "k", "b", seconds(10), "lhr"},
               {"ns", "k", "c", seconds(20), "lhr"}};
  in.reads = {{"ns", "k", "a", seconds(40), "sin"},   // stale 30 s (b exists since 10 s)
              {"ns", "k", "b", seconds(75), "sin"},   // stale 55 s (c since 20 s): within
              {"ns", "k", "a", seconds(71), "iad"},   // stale 61 s: over the bound
              {"ns", "k", "c", seconds(200), "iad"},  // converged
              {"ns", "k", "c", seconds(15), "fra"}};  // in flight: fresh
  in.check_monotonic_reads = true;
  KvConvergenceResult r = check_kv_convergence(in);
  EXPECT_EQ(r.verdict, Verdict::kViolated);
  EXPECT_EQ(r.settle_time, seconds(80));
  EXPECT_EQ(r.stale_reads, 3u);
  EXPECT_EQ(r.staleness_violations, 1u);
  EXPECT_EQ(r.convergence_violations, 0u);
  EXPECT_EQ(r.monotonic_violations, 0u);
  EXPECT_EQ(r.staleness.max, seconds(61));
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0],
            "at iad, a read of ns/k at 71.000000s returned \"a\", 61.000s after the newer value "
            "\"b\" was written at lhr (10.000000s); it had to be visible by 70.000000s (bound "
            "60.000s)");
}

TEST(KvConvergence, MonotonicReadsAndPhantoms) {
  KvConvergenceInput in;
  in.bound = seconds(60);
  in.writes = {{"ns", "k", "a", seconds(0), "lhr"}, {"ns", "k", "b", seconds(10), "lhr"}};
  in.reads = {{"ns", "k", "b", seconds(12), "sin"},
              {"ns", "k", "a", seconds(13), "sin"},          // went back in time at sin
              {"ns", "k", "zzz", seconds(14), "fra"},        // never written
              {"ns", "k", std::nullopt, seconds(1), "iad"},  // stale absence: fine (1 s)
              {"ns", "k", "b", seconds(100), "iad"}};
  in.check_monotonic_reads = true;
  KvConvergenceResult r = check_kv_convergence(in);
  EXPECT_EQ(r.verdict, Verdict::kViolated);
  EXPECT_EQ(r.monotonic_violations, 1u);
  EXPECT_EQ(r.phantom_reads, 1u);
  EXPECT_EQ(r.staleness_violations, 0u);
  std::string report = r.report();
  EXPECT_NE(report.find("returned \"a\", older than \"b\" read there at 12.000000s"),
            std::string::npos)
      << report;
  EXPECT_NE(report.find("location iad: converged"), std::string::npos) << report;
  EXPECT_NE(report.find("location sin: not observed after settling"), std::string::npos) << report;
}

TEST(KvConvergence, NoReadAfterSettlingIsUnknown) {
  KvConvergenceInput in;
  in.writes = {{"ns", "k", "a", seconds(0), "lhr"}};
  in.reads = {{"ns", "k", "a", seconds(1), "lhr"}};
  EXPECT_EQ(check_kv_convergence(in).verdict, Verdict::kUnknown);
}

}  // namespace
}  // namespace props
