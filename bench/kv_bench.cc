// Workers KV (platform/services/kv.h) on one core: simulated KV operations per wall-clock second.
// A run is a World with the three central stores and N PoPs; each PoP runs 8 client tasks that
// loop with exponential think times (mean 20 ms) over 1000 keys: 80% get (default cacheTtl), 20%
// put (a put that hits the 1 write/s/key limit still counts: it went to the primary and back).
// Default lags (uniform up to 60 s); no trace sink, as in a sweep.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "platform/services/kv/kv.h"
#include "sim/world.h"

namespace {

constexpr const char* kPopLocations[] = {"lhr", "sjc", "syd", "nrt", "gru", "jnb", "ord", "bom"};

struct Counts {
  std::int64_t gets = 0;
  std::int64_t puts = 0;
  std::int64_t errors = 0;
};

// Runs one world for `length` of simulated time; returns the counts.
Counts run_mixed(std::uint64_t seed, int pops, int put_percent, bool propagation_events,
                 sim::Duration length) {
  sim::World w(seed);
  services::KvConfig config;
  config.propagation_events = propagation_events;
  services::KvService kv(w, config);
  std::vector<sim::Node*> nodes;
  for (int i = 0; i < pops; ++i) {
    const char* loc = kPopLocations[i % 8];
    nodes.push_back(&w.add_node(std::string("pop-") + loc + "-" + std::to_string(i), loc));
    kv.attach(*nodes.back());
  }
  w.start();
  Counts c;
  for (sim::Node* n : nodes) {
    services::KvClient* client = kv.client(n->id());
    for (int j = 0; j < 8; ++j) {
      const std::string name = n->name() + "/" + std::to_string(j);
      w.spawn(*n, "client", [&w, &c, client, name, put_percent, length](sim::Task& t) {
        sim::Rng rng = w.rng("bench/" + name);
        std::uint64_t i = 0;
        while (t.now() < length) {
          t.sleep(static_cast<sim::Duration>(rng.exponential(20.0 * sim::kMillisecond)));
          const std::string key = "key-" + std::to_string(rng.below(1000));
          if (rng.below(100) < static_cast<std::uint64_t>(put_percent)) {
            sim::Status s = client->put(t, "bench", key, name + "#" + std::to_string(i++));
            ++c.puts;
            c.errors += s.ok() ? 0 : 1;
          } else {
            auto r = client->get(t, "bench", key);
            ++c.gets;
            c.errors += r.ok() ? 0 : 1;
          }
        }
      });
    }
  }
  w.run_until(length + sim::seconds(70));
  return c;
}

void BM_KvMixed(benchmark::State& state) {
  const int pops = static_cast<int>(state.range(0));
  const int put_percent = static_cast<int>(state.range(1));
  const bool events = state.range(2) != 0;
  const sim::Duration length = sim::seconds(60);
  std::uint64_t seed = 1;
  Counts total;
  double sim_seconds = 0;
  for (auto _ : state) {
    Counts c = run_mixed(seed++, pops, put_percent, events, length);
    total.gets += c.gets;
    total.puts += c.puts;
    total.errors += c.errors;
    sim_seconds += 60;
  }
  state.SetItemsProcessed(total.gets + total.puts);
  state.counters["gets"] =
      static_cast<double>(total.gets) / static_cast<double>(state.iterations());
  state.counters["puts"] =
      static_cast<double>(total.puts) / static_cast<double>(state.iterations());
  state.counters["err%"] =
      100.0 * static_cast<double>(total.errors) / static_cast<double>(total.gets + total.puts);
  state.counters["sim_s_per_wall_s"] = benchmark::Counter(sim_seconds, benchmark::Counter::kIsRate);
  state.SetLabel("items = KV operations");
}
BENCHMARK(BM_KvMixed)
    ->ArgNames({"pops", "put%", "propagate_events"})
    ->Args({4, 20, 1})
    ->Args({4, 20, 0})
    ->Args({8, 20, 1})
    ->Args({4, 0, 1})
    ->Unit(benchmark::kMillisecond);

// Cache hits only: one PoP reads one key in a loop, 100,000 gets per World (a fresh World each
// iteration, so the history does not grow without bound). The floor cost of a KV call: the
// history records, the cache lookup and one task sleep; no network.
void BM_KvCachedGet(benchmark::State& state) {
  std::int64_t gets = 0;
  for (auto _ : state) {
    sim::World w(1);
    services::KvService kv(w, services::KvConfig{});
    sim::Node& pop = w.add_node("pop-lhr", "lhr");
    services::KvClient& client = kv.attach(pop);
    w.start();
    w.spawn(pop, "reader", [&](sim::Task& t) {
      (void)client.put(t, "bench", "k", "v");
      for (int i = 0; i < 100'000; ++i) {
        (void)client.get(t, "bench", "k");
        ++gets;
        t.sleep(sim::micros(1));
      }
    });
    w.run_until(sim::seconds(10));
  }
  state.SetItemsProcessed(gets);
  state.SetLabel("items = cached gets");
}
BENCHMARK(BM_KvCachedGet)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
