// Cloudflare D1 (platform/services/d1) on one core: queries per wall-clock second. A World with a
// primary in Washington, a read replica in London and a PoP beside each; C++ clients (no JS) run
// `queries` statements back to back: writes (an INSERT, answered after its synced commit with
// the replication log entry, then replicated) at the primary, or reads in a session at the
// London replica (a SELECT of one row by key). No trace sink.
#include <benchmark/benchmark.h>

#include <string>

#include "platform/services/d1/d1.h"
#include "sim/world.h"

namespace {

// Returns the queries that succeeded.
std::uint64_t run(std::uint64_t seed, int queries, bool writes) {
  sim::World w(seed);
  services::D1Service d1(w, {});
  std::vector<sim::Node*> nodes = {&w.add_node("d1-iad", "iad"), &w.add_node("d1-lhr", "lhr")};
  d1.add_database("db", nodes,
                  {{"0001.sql",
                    "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); "
                    "INSERT INTO t (v) VALUES ('seed')"}});
  sim::Node& pop = w.add_node(writes ? "pop-iad" : "pop-lhr", writes ? "iad" : "lhr");
  w.start();
  w.run_for(sim::kMinute);  // the migration reaches the replica
  std::uint64_t ok = 0;
  w.spawn(pop, "client", [&](sim::Task& t) {
    services::D1Client& c = d1.attach(pop);
    for (int i = 0; i < queries; ++i) {
      services::D1Request q;
      q.database = "db";
      if (writes) {
        q.statements = {
            {"INSERT INTO t (v) VALUES (?)", {std::string("value ") + std::to_string(i)}}};
      } else {
        q.session = "first-unconstrained";
        q.statements = {{"SELECT v FROM t WHERE id = ?", {std::int64_t{1}}}};
      }
      auto r = c.query(t, q);
      if (r.ok() && !r->results.empty() && r->results.back().ok) ++ok;
    }
  });
  w.run_until_idle(24 * 3600 * sim::kSecond);
  return ok;
}

void BM_D1Queries(benchmark::State& state) {
  const bool writes = state.range(0) != 0;
  const int queries = 5000;
  std::uint64_t seed = 1;
  double total = 0;
  for (auto _ : state) {
    const std::uint64_t n = run(seed++, queries, writes);
    if (n != static_cast<std::uint64_t>(queries)) {
      state.SkipWithError("a query failed");
      return;
    }
    total += static_cast<double>(n);
  }
  state.counters["queries_per_s"] = benchmark::Counter(total, benchmark::Counter::kIsRate);
  state.SetLabel(writes ? "writes at the primary" : "reads at a replica");
}
BENCHMARK(BM_D1Queries)
    ->ArgName("writes")
    ->Arg(1)
    ->Arg(0)
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime();

}  // namespace

BENCHMARK_MAIN();
