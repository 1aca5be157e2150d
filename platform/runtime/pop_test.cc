#include "platform/runtime/pop.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "platform/engine_setup.h"
#include "platform/js/engine.h"
#include "platform/runtime/test_trace.h"
#include "sim/faults.h"
#include "sim/world.h"

namespace runtime {
namespace {

using Trace = runtime::testing::Trace;

// A global counter: which isolate served tells itself apart by it.
const char kCounter[] = R"js(
let count = 0;
export default {
  fetch(request) {
    count++;
    const big = new URL(request.url).searchParams.get('big');
    if (big) globalThis.keep = new Array(Number(big)).fill(1.5);
    return new Response(String(count));
  },
};
)js";

WorkerConfig counter(std::string name) {
  WorkerConfig c;
  c.name = std::move(name);
  c.modules = {{"index.js", kCounter}};
  c.main = "index.js";
  // Filling a few MB (?big=) takes ~10 ms of host CPU; on a loaded machine (page faults, a busy
  // GC) it can pass the default 50 ms, and these tests are not about the CPU limit.
  c.isolate.cpu_max = 2 * sim::kSecond;
  return c;
}

// No CPU model and no eviction unless a test asks.
PopConfig quiet() {
  PopConfig c;
  c.idle_timeout = 0;
  c.evict_fault_p = 0;
  c.cpu_per_request = 0;
  c.cold_start_cpu = 0;
  return c;
}

class PopTest : public ::testing::Test {
 protected:
  void SetUp() override { platform::init_engine(); }

  // One request from the client node; returns the body (or "status: error").
  static std::string get(sim::World& w, Pop& pop, std::string worker, std::string path = "/") {
    std::string out;
    w.spawn(*w.find_node("client"), "client", [&](sim::Task& task) {
      HttpRequest req;
      req.url = "https://app.test" + path;
      auto r = pop.fetch(task, worker, std::move(req));
      out = !r.ok() ? r.error().to_string()
                    : (r->status == 200 ? r->body : std::to_string(r->status) + ": " + r->error);
    });
    // Run the request, not the idle timers that would follow it.
    const sim::Time until = w.now() + sim::kSecond;
    w.run_until(until);
    return out;
  }
};

TEST_F(PopTest, ColdStartOnFirstRequestThenWarm) {
  sim::World w(1);
  Trace trace;
  w.add_sink(&trace);
  sim::Node& lhr = w.add_node("lhr", "lhr");
  w.add_node("client", "lhr");
  w.start();
  Pop pop(w, lhr, quiet());
  pop.deploy(counter("app"));
  EXPECT_FALSE(pop.warm("app"));
  EXPECT_EQ(get(w, pop, "app"), "1");
  EXPECT_TRUE(pop.warm("app"));
  EXPECT_EQ(get(w, pop, "app"), "2");
  EXPECT_EQ(pop.worker("app").isolates_created(), 1u);
  EXPECT_EQ(trace.count("js.cold_start"), 1u);
  EXPECT_GT(pop.isolate_memory_bytes(), 0u);
  EXPECT_EQ(get(w, pop, "nope"), "invalid: no worker \"nope\" on lhr");
}

TEST_F(PopTest, GlobalsArePerIsolateAndEvictionLosesThem) {
  sim::World w(1);
  sim::Node& lhr = w.add_node("lhr", "lhr");
  sim::Node& iad = w.add_node("iad", "iad");
  w.add_node("client", "lhr");
  w.start();
  Pop a(w, lhr, quiet());
  Pop b(w, iad, quiet());
  a.deploy(counter("app"));
  b.deploy(counter("app"));
  EXPECT_EQ(get(w, a, "app"), "1");
  EXPECT_EQ(get(w, a, "app"), "2");
  EXPECT_EQ(get(w, b, "app"), "1");  // two PoPs never share globals
  EXPECT_EQ(get(w, a, "app"), "3");
  EXPECT_TRUE(a.evict("app"));
  EXPECT_FALSE(a.evict("app"));      // already cold
  EXPECT_EQ(get(w, a, "app"), "1");  // a new isolate: the globals are gone
  EXPECT_EQ(get(w, b, "app"), "2");
  EXPECT_EQ(a.evictions("explicit"), 1u);
  EXPECT_EQ(a.worker("app").isolates_created(), 2u);
}

TEST_F(PopTest, IdleIsolateIsEvictedAfterTheTimeout) {
  sim::World w(1);
  Trace trace;
  w.add_sink(&trace);
  sim::Node& lhr = w.add_node("lhr", "lhr");
  w.add_node("client", "lhr");
  w.start();
  PopConfig c = quiet();
  c.idle_timeout = 30 * sim::kSecond;
  Pop pop(w, lhr, c);
  pop.deploy(counter("app"));
  EXPECT_EQ(get(w, pop, "app"), "1");  // t = 0
  w.run_until(20 * sim::kSecond);
  EXPECT_EQ(get(w, pop, "app"), "2");  // t = 20 s: the idle clock restarts
  w.run_until(45 * sim::kSecond);
  EXPECT_TRUE(pop.warm("app"));  // idle for 25 s only
  w.run_until(51 * sim::kSecond);
  EXPECT_FALSE(pop.warm("app"));
  EXPECT_EQ(pop.evictions("idle"), 1u);
  EXPECT_EQ(pop.isolate_memory_bytes(), 0u);
  EXPECT_EQ(trace.count("pop.evict"), 1u);
  EXPECT_EQ(get(w, pop, "app"), "1");
  // Nothing is left to do once the isolate is gone: the world goes idle.
  w.run_until_idle();
  EXPECT_FALSE(pop.warm("app"));
  EXPECT_EQ(pop.evictions("idle"), 2u);
}

TEST_F(PopTest, MemoryPressureEvictsTheLeastRecentlyUsedIdleIsolate) {
  sim::World w(1);
  sim::Node& lhr = w.add_node("lhr", "lhr");
  w.add_node("client", "lhr");
  w.start();
  // Measure one warm isolate first, then allow a bit more than two.
  std::size_t one = 0;
  {
    Pop probe(w, lhr, quiet());
    probe.deploy(counter("probe"));
    EXPECT_EQ(get(w, probe, "probe"), "1");
    one = probe.isolate_memory_bytes();
  }
  ASSERT_GT(one, 0u);
  std::printf("one warm hello-world isolate: %zu bytes of V8 heap in use\n", one);
  PopConfig c = quiet();
  c.isolate_memory_bytes_max = one * 5 / 2;
  Pop pop(w, lhr, c);
  for (const char* n : {"a", "b", "c", "d"}) pop.deploy(counter(n));

  // a and b at the same instant: equal last use, so the tie-break (deployment order) decides.
  std::vector<std::string> out;
  for (const char* n : {"b", "a"}) {
    w.spawn(*w.find_node("client"), "client", [&, n](sim::Task& task) {
      HttpRequest req;
      req.url = "https://app.test/";
      auto r = pop.fetch(task, n, std::move(req));
      out.push_back(r.ok() ? r->body : "error");
    });
  }
  w.run_until(w.now() + sim::kSecond);
  EXPECT_EQ(out, (std::vector<std::string>{"1", "1"}));
  EXPECT_EQ(pop.warm_isolates(), 2u);
  EXPECT_EQ(get(w, pop, "c"), "1");  // three isolates do not fit: a goes (deployed before b)
  EXPECT_FALSE(pop.warm("a"));
  EXPECT_TRUE(pop.warm("b"));
  EXPECT_TRUE(pop.warm("c"));
  EXPECT_EQ(get(w, pop, "b"), "2");  // b is now the most recently used
  EXPECT_EQ(get(w, pop, "d"), "1");  // c is the least recently used now
  EXPECT_FALSE(pop.warm("c"));
  EXPECT_TRUE(pop.warm("b"));
  EXPECT_TRUE(pop.warm("d"));
  EXPECT_EQ(pop.evictions("memory"), 2u);
  EXPECT_LE(pop.isolate_memory_bytes(), c.isolate_memory_bytes_max);
  // An isolate that grows past the budget by itself pushes the others out, not itself.
  EXPECT_EQ(get(w, pop, "b", "/?big=" + std::to_string(one / 2)), "3");
  EXPECT_TRUE(pop.warm("b"));
  EXPECT_FALSE(pop.warm("d"));
  EXPECT_EQ(pop.warm_isolates(), 1u);
}

TEST_F(PopTest, FaultSiteEvictsWhenTheSeedSwitchesItOn) {
  int seeds_on = 0;
  for (std::uint64_t seed = 1; seed <= 24; ++seed) {
    sim::World w(seed);
    w.faults().set_sites_enabled(true);
    sim::Node& lhr = w.add_node("lhr", "lhr");
    w.add_node("client", "lhr");
    w.start();
    PopConfig c = quiet();
    c.evict_fault_p = 1.0;
    Pop pop(w, lhr, c);
    pop.deploy(counter("app"));
    std::vector<std::string> out;
    for (int i = 0; i < 3; ++i) out.push_back(get(w, pop, "app"));
    if (pop.evictions("fault") > 0) {
      ++seeds_on;
      // Evicted before every warm request: each one starts a fresh isolate.
      EXPECT_EQ(out, (std::vector<std::string>{"1", "1", "1"}));
      EXPECT_EQ(pop.evictions("fault"), 2u);
    } else {
      EXPECT_EQ(out, (std::vector<std::string>{"1", "2", "3"}));
    }
  }
  EXPECT_GT(seeds_on, 0);
  EXPECT_LT(seeds_on, 24);
}

// Open-loop load: one request every `interval`, `n` of them; returns each one's latency.
std::vector<sim::Duration> load(sim::World& w, Pop& pop, sim::Duration interval, int n) {
  std::vector<sim::Duration> latency(static_cast<std::size_t>(n), -1);
  sim::Node& client = *w.find_node("client");
  w.spawn(client, "generator", [&, interval, n](sim::Task& gen) {
    for (int i = 0; i < n; ++i) {
      w.spawn(client, "request", [&, i](sim::Task& task) {
        const sim::Time t0 = task.now();
        HttpRequest req;
        req.url = "https://app.test/";
        auto r = pop.fetch(task, "app", std::move(req));
        if (r.ok() && r->status == 200) latency[static_cast<std::size_t>(i)] = task.now() - t0;
      });
      gen.sleep(interval);
    }
  });
  w.run_until_idle();
  return latency;
}

PopConfig cpu(int cores, sim::Duration per_request) {
  PopConfig c = quiet();
  c.cores = cores;
  c.cpu_per_request = per_request;
  return c;
}

TEST_F(PopTest, BelowCapacityLatencyIsTheCost) {
  sim::World w(1);
  sim::Node& lhr = w.add_node("lhr", "lhr");
  w.add_node("client", "lhr");
  w.start();
  Pop pop(w, lhr, cpu(1, sim::kMillisecond));
  pop.deploy(counter("app"));
  const auto latency = load(w, pop, 2 * sim::kMillisecond, 50);  // 500/s on a 1000/s core
  for (sim::Duration l : latency) EXPECT_EQ(l, sim::kMillisecond);
  EXPECT_EQ(pop.queued_requests(), 0u);
}

TEST_F(PopTest, AboveCapacityLatencyGrows) {
  sim::World w(1);
  sim::Node& lhr = w.add_node("lhr", "lhr");
  w.add_node("client", "lhr");
  w.start();
  Pop pop(w, lhr, cpu(1, sim::kMillisecond));
  pop.deploy(counter("app"));
  const auto latency = load(w, pop, sim::kMillisecond / 2, 50);  // 2000/s on a 1000/s core
  // Request i waits for the i before it: 1 ms + i * 0.5 ms.
  for (std::size_t i = 0; i < latency.size(); ++i) {
    EXPECT_EQ(latency[i], sim::kMillisecond + static_cast<sim::Duration>(i) * sim::kMillisecond / 2)
        << i;
  }
  EXPECT_EQ(pop.queued_requests(), 49u);
}

TEST_F(PopTest, CoresServeInParallelAndColdStartCostsOnce) {
  sim::World w(1);
  sim::Node& lhr = w.add_node("lhr", "lhr");
  w.add_node("client", "lhr");
  w.start();
  PopConfig c = cpu(2, sim::kMillisecond);
  c.cold_start_cpu = 5 * sim::kMillisecond;
  Pop pop(w, lhr, c);
  pop.deploy(counter("app"));
  // Four at once on two cores: the first pays the cold start (6 ms), the second runs beside it
  // (1 ms), the others queue behind the second core.
  auto latency = load(w, pop, 0, 4);
  std::sort(latency.begin(), latency.end());
  EXPECT_EQ(latency, (std::vector<sim::Duration>{sim::kMillisecond, 2 * sim::kMillisecond,
                                                 3 * sim::kMillisecond, 6 * sim::kMillisecond}));
  EXPECT_EQ(pop.worker("app").isolates_created(), 1u);
}

TEST_F(PopTest, CrashDropsIsolatesAndFreesTheCores) {
  sim::World w(1);
  sim::Node& lhr = w.add_node("lhr", "lhr");
  w.add_node("client", "lhr");
  w.start();
  Pop pop(w, lhr, quiet());
  pop.deploy(counter("app"));
  EXPECT_EQ(get(w, pop, "app"), "1");
  w.crash(lhr);
  EXPECT_EQ(pop.warm_isolates(), 0u);
  EXPECT_EQ(pop.isolate_memory_bytes(), 0u);
  EXPECT_EQ(get(w, pop, "app"), "unreachable: node lhr is down");
  w.restart(lhr);
  EXPECT_EQ(get(w, pop, "app"), "1");
}

// Memory pressure, faults, idle eviction and queueing together, twice with one seed.
std::vector<std::string> busy_run(std::uint64_t seed) {
  sim::World w(seed);
  w.faults().set_sites_enabled(true);
  Trace trace;
  w.add_sink(&trace);
  sim::Node& lhr = w.add_node("lhr", "lhr");
  sim::Node& client = w.add_node("client", "lhr");
  w.start();
  PopConfig c;
  c.cores = 2;
  c.cpu_per_request = 3 * sim::kMillisecond;
  c.idle_timeout = 2 * sim::kSecond;
  c.evict_fault_p = 0.05;
  c.isolate_memory_bytes_max = 3u << 20;
  Pop pop(w, lhr, c);
  for (int i = 0; i < 4; ++i) pop.deploy(counter("w" + std::to_string(i)));
  std::vector<std::string> out;
  sim::Rng rng = w.rng("load");
  w.spawn(client, "generator", [&](sim::Task& gen) {
    for (int i = 0; i < 100; ++i) {
      const std::string name = "w" + std::to_string(rng.below(4));
      w.spawn(client, "request", [&, name](sim::Task& task) {
        const sim::Time t0 = task.now();
        HttpRequest req;
        req.url = "https://app.test/";
        auto r = pop.fetch(task, name, std::move(req));
        out.push_back(name + " " + (r.ok() ? r->body : r.error().to_string()) + " " +
                      std::to_string(task.now() - t0));
      });
      gen.sleep(static_cast<sim::Duration>(rng.below(50)) * sim::kMillisecond);
    }
  });
  w.run_until_idle();
  for (auto& e : trace.events) out.push_back(std::move(e));
  out.push_back("evictions " + std::to_string(pop.evictions("memory")) + " " +
                std::to_string(pop.evictions("idle")) + " " +
                std::to_string(pop.evictions("fault")));
  return out;
}

TEST_F(PopTest, SameSeedSameRun) {
  const auto a = busy_run(7);
  const auto b = busy_run(7);
  EXPECT_EQ(a, b);
  EXPECT_NE(a.back(), "evictions 0 0 0");
}

}  // namespace
}  // namespace runtime
