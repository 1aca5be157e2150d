// The shipped suite end to end (scenarios/suite): whole seeds of each scenario on one core, with
// client requests through PoPs, Workers, Durable Objects and KV. Reports simulated HTTP requests
// per wall second (each request is a Worker invocation; for do-counter and do-quota, a Durable
// Object call with a replicated commit), and simulated seconds per wall second.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
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
  double workflow_steps = 0;
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
    workflow_steps += static_cast<double>(o.stats["workflow_steps_run"]);
    sim_seconds += static_cast<double>(o.sim_time) / sim::kSecond;
  }
  state.counters["requests_per_s"] = benchmark::Counter(requests, benchmark::Counter::kIsRate);
  state.counters["do_commits_per_s"] = benchmark::Counter(do_commits, benchmark::Counter::kIsRate);
  state.counters["ops_per_s"] = benchmark::Counter(ops, benchmark::Counter::kIsRate);
  if (queue_acked > 0) {
    state.counters["queue_acked_per_s"] =
        benchmark::Counter(queue_acked, benchmark::Counter::kIsRate);
  }
  if (workflow_steps > 0) {
    state.counters["workflow_steps_per_s"] =
        benchmark::Counter(workflow_steps, benchmark::Counter::kIsRate);
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

// Orders as workflows over two simulated hours, with the scenario's faults (engine and PoP
// crashes, a partition). A seed includes its fault-free twin (the replay checker's reference
// outputs), so it simulates the scenario twice.
void BM_WorkflowCheckout(benchmark::State& state) {
  run_suite_seed(state, EDGESIM_SUITE_DIR "/workflow-checkout", "");
}
BENCHMARK(BM_WorkflowCheckout)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();

// Comments on D1 with two read replicas, with the scenario's faults (primary and replica
// crashes, a partition).
void BM_D1Comments(benchmark::State& state) {
  run_suite_seed(state, EDGESIM_SUITE_DIR "/d1-comments", "");
}
BENCHMARK(BM_D1Comments)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();

}  // namespace

// Scale in the number of clients: one load of N clients on one PoP, a hello-world Worker, a
// request per client per simulated second for 10 s. The cost per client must stay flat (adding
// nodes was O(n^2) each: 2,000 clients took 15 s, 5,000 took 252 s).
void BM_ManyClients(benchmark::State& state) {
  const auto clients = state.range(0);
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("edgesim-bench-clients-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "src");
  std::ofstream(dir / "wrangler.jsonc") << R"({ "name": "s", "main": "src/index.js" })";
  std::ofstream(dir / "src/index.js")
      << "export default { fetch() { return new Response('ok'); } };\n";
  std::ofstream(dir / "scenario.textproto")
      << "name: \"clients\"\nduration: \"10s\"\n"
         "topology { pop { name: \"pop-lhr\" location: \"lhr\" } }\n"
         "worker { config: \"wrangler.jsonc\" }\n"
         "load { name: \"l\" clients: "
      << clients
      << " location: \"lhr\" think_time: \"1s\" request { path: \"/\" } }\n"
         "property { name: \"ok\" checker: \"http_status\" }\n";
  double requests = 0;
  std::uint64_t seed = 1;
  for (auto _ : state) {
    scenarios::RunOutcome o = scenarios::run_scenario({dir.string(), seed++, "none"});
    if (o.exit_code != scenarios::kExitOk) {
      state.SkipWithError(("run failed: " + o.error).c_str());
      break;
    }
    requests += static_cast<double>(o.stats["requests"]);
  }
  std::filesystem::remove_all(dir);
  state.counters["requests_per_s"] = benchmark::Counter(requests, benchmark::Counter::kIsRate);
  state.counters["us_per_client"] =
      benchmark::Counter(static_cast<double>(clients) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_ManyClients)
    ->Arg(1000)
    ->Arg(2000)
    ->Arg(5000)
    ->Arg(10000)
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime();

BENCHMARK_MAIN();
