// The shipped suite end to end (scenarios/suite): whole seeds of each scenario on one core, with
// client requests through PoPs, Workers, Durable Objects and KV. Reports simulated HTTP requests
// per wall second (each request is a Worker invocation; for do-counter and do-quota, a Durable
// Object call with a replicated commit), and simulated seconds per wall second.
#include <benchmark/benchmark.h>

#include <string>

#include "scenarios/runner.h"

namespace {

void run_suite_seed(benchmark::State& state, const std::string& scenario, const char* faults) {
  std::uint64_t seed = 1;
  double requests = 0;
  double sim_seconds = 0;
  double do_commits = 0;
  double ops = 0;
  double queue_acked = 0;
  for (auto _ : state) {
    scenarios::RunOutcome o = scenarios::run_scenario({scenario, seed++, faults});
    if (o.exit_code != scenarios::kExitOk) {
      state.SkipWithError(("run failed: " + o.error + " " + o.verdict).c_str());
      return;
    }
    requests += static_cast<double>(o.stats["requests"]);
    do_commits += static_cast<double>(o.stats["do_commits"]);
    ops += static_cast<double>(o.stats["ops"]);
    queue_acked += static_cast<double>(o.stats["queue_acked"]);
    sim_seconds += static_cast<double>(o.sim_time) / sim::kSecond;
  }
  state.counters["requests_per_s"] = benchmark::Counter(requests, benchmark::Counter::kIsRate);
  state.counters["do_commits_per_s"] = benchmark::Counter(do_commits, benchmark::Counter::kIsRate);
  state.counters["ops_per_s"] = benchmark::Counter(ops, benchmark::Counter::kIsRate);
  if (queue_acked > 0) {
    state.counters["queue_acked_per_s"] =
        benchmark::Counter(queue_acked, benchmark::Counter::kIsRate);
  }
  state.counters["sim_s_per_wall_s"] = benchmark::Counter(sim_seconds, benchmark::Counter::kIsRate);
  state.SetItemsProcessed(state.iterations());
  state.SetLabel("items = seeds");
}

void BM_DoCounter(benchmark::State& state) {
  run_suite_seed(state, EDGESIM_SUITE_DIR "/do-counter", "none");
}
BENCHMARK(BM_DoCounter)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();

void BM_DoQuota(benchmark::State& state) {
  run_suite_seed(state, EDGESIM_SUITE_DIR "/do-quota", "none");
}
BENCHMARK(BM_DoQuota)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();

void BM_KvFlags(benchmark::State& state) {
  run_suite_seed(state, EDGESIM_SUITE_DIR "/kv-flags", "none");
}
BENCHMARK(BM_KvFlags)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();

// WebSocket chat: client scripts joining, posting and receiving (ops are the recorded joins,
// posts, receptions and leaves), hibernation in the silences.
void BM_DoChat(benchmark::State& state) {
  run_suite_seed(state, EDGESIM_SUITE_DIR "/do-chat", "none");
}
BENCHMARK(BM_DoChat)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();

// Orders through a queue into Durable Object ledgers, with the scenario's own faults (broker and
// consumer crashes, a partition): queue messages acked per wall second, end to end.
void BM_QueueOrders(benchmark::State& state) {
  run_suite_seed(state, EDGESIM_SUITE_DIR "/queue-orders", "");
}
BENCHMARK(BM_QueueOrders)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();

// Three simulated days of an hourly cron and page views, with the scenario's faults: the time
// compression (sim_s_per_wall_s; the goal is >= 10,000).
void BM_CronRollup(benchmark::State& state) {
  run_suite_seed(state, EDGESIM_SUITE_DIR "/cron-rollup", "");
}
BENCHMARK(BM_CronRollup)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();

}  // namespace

BENCHMARK_MAIN();
