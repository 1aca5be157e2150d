// Kernel throughput on one core. Goals (issue 2): >= 5M scheduler events/s, >= 2M simulated
// messages/s; a bare Boost.Context switch costs about 6 ns on this machine.
#include <benchmark/benchmark.h>

#include <boost/context/fiber.hpp>

#include "scenarios/runner.h"
#include "sim/network.h"
#include "sim/rpc.h"
#include "sim/sync.h"
#include "sim/world.h"

namespace {

// A bare Boost.Context round trip (two switches), for reference.
void BM_BareFiberSwitch(benchmark::State& state) {
  namespace ctx = boost::context;
  bool stop = false;
  ctx::fiber f{[&stop](ctx::fiber&& main) {
    while (!stop) main = std::move(main).resume();
    return std::move(main);
  }};
  for (auto _ : state) f = std::move(f).resume();
  stop = true;
  f = std::move(f).resume();
  state.SetItemsProcessed(state.iterations() * 2);
  state.SetLabel("items = context switches");
}
BENCHMARK(BM_BareFiberSwitch);

// Scheduler events: each callback schedules the next one at a later time; 64 chains interleave so
// the heap holds 64 entries.
void BM_SchedulerEvents(benchmark::State& state) {
  const int chains = static_cast<int>(state.range(0));
  sim::Scheduler s(sim::Rng(1));
  std::uint64_t budget = 0;
  sim::Rng r(2);
  for (auto _ : state) {
    state.PauseTiming();
    budget = 1'000'000;
    for (int i = 0; i < chains; ++i) {
      s.after(static_cast<sim::Duration>(r.below(1000)), [&s, &budget, &r]() {
        // A chain re-arms itself until the budget is spent.
        struct Chain {
          sim::Scheduler* s;
          std::uint64_t* budget;
          sim::Rng* r;
          void operator()() const {
            if (*budget == 0) return;
            --*budget;
            s->after(1 + static_cast<sim::Duration>(r->below(1000)), *this);
          }
        };
        Chain{&s, &budget, &r}();
      });
    }
    state.ResumeTiming();
    s.run_until(sim::kTimeMax);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(s.events_run()));
}
BENCHMARK(BM_SchedulerEvents)->Arg(64)->Unit(benchmark::kMillisecond);

// A task sleeping in a loop: one scheduler event and two fiber switches per iteration.
void BM_TaskSleepWake(benchmark::State& state) {
  sim::World w(1);
  sim::Node& n = w.add_node("a", "lhr");
  w.start();
  std::int64_t wakes = 0;
  for (int i = 0; i < 16; ++i) {
    w.spawn(n, "sleeper", [&wakes](sim::Task& t) {
      for (;;) {
        t.sleep(1000);
        ++wakes;
      }
    });
  }
  for (auto _ : state) w.run_for(1000 * 1000);  // 1000 wakes per sleeper
  state.SetItemsProcessed(wakes);
  state.SetLabel("items = task wake-ups");
}
BENCHMARK(BM_TaskSleepWake);

// Datagrams: send and deliver to a handler, no tracing. 5 nodes around the world.
void BM_NetworkMessages(benchmark::State& state) {
  sim::World w(1);
  std::vector<sim::NodeId> ids;
  for (const char* loc : {"lhr", "iad", "fra", "sin", "syd"}) {
    ids.push_back(w.add_node(std::string("n-") + loc, loc).id());
  }
  sim::Network& net = w.net();
  const sim::Port port = net.port("p");
  std::int64_t delivered = 0;
  for (sim::NodeId id : ids) {
    net.listen(id, port, [&](sim::Message& m) {
      ++delivered;
      // Keep 1 message per delivery in flight: reply to a different node.
      net.send(m.dst, ids[(static_cast<std::size_t>(m.dst) + 1) % ids.size()], port,
               std::move(m.payload));
    });
  }
  w.start();
  for (int i = 0; i < 256; ++i)
    net.send(ids[i % 5], ids[(i + 2) % 5], port, "payload-32-bytes-long-xxxxxxxxxx");
  for (auto _ : state) w.run_for(sim::seconds(1));
  state.SetItemsProcessed(delivered);
  state.SetLabel("items = messages sent and delivered");
}
BENCHMARK(BM_NetworkMessages)->Unit(benchmark::kMillisecond);

// RPC round trips between tasks (a task spawned per request on the server).
void BM_RpcCalls(benchmark::State& state) {
  sim::World w(1);
  sim::Node& server = w.add_node("server", "iad");
  sim::Node& client = w.add_node("client", "iad");
  server.on_boot([&](sim::Node& n) {
    w.rpc().serve(n, "echo",
                  [](sim::Task&, sim::NodeId, std::string_view req) -> sim::Result<std::string> {
                    return std::string(req);
                  });
  });
  w.start();
  std::int64_t calls = 0;
  for (int i = 0; i < 32; ++i) {
    w.spawn(client, "caller", [&](sim::Task& t) {
      for (;;) {
        (void)w.rpc().call(t, server.id(), "echo", "hello", sim::seconds(1));
        ++calls;
      }
    });
  }
  for (auto _ : state) w.run_for(sim::seconds(1));
  state.SetItemsProcessed(calls);
  state.SetLabel("items = RPC round trips");
}
BENCHMARK(BM_RpcCalls)->Unit(benchmark::kMillisecond);

// Whole scenario runs (60 s simulated, swarm faults): seeds per second on one core.
void BM_ScenarioSeed(benchmark::State& state) {
  std::uint64_t seed = 1;
  double sim_seconds = 0;
  for (auto _ : state) {
    auto o = scenarios::run_scenario({"pingpong", seed++, "swarm", ""});
    benchmark::DoNotOptimize(o.final_hash);
    sim_seconds += static_cast<double>(o.sim_time) / sim::kSecond;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["sim_s_per_wall_s"] = benchmark::Counter(sim_seconds, benchmark::Counter::kIsRate);
  state.SetLabel("items = seeds of pingpong");
}
BENCHMARK(BM_ScenarioSeed)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
