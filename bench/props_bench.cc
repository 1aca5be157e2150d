// Linearizability checker throughput and memory (props/linearizability.h). See README.md.
//
// Histories come from props/test_util.h: clients that each run one operation at a time with
// random latencies (1-10 ms, 1% of ops 10x longer, think time 0-2 ms), against a reference
// register; 50% reads; every written value unique. "witness" histories record effect_seq for
// every op; "search" histories record none, so the Wing-Gong search decides. "violation"
// histories have one read changed to return a value overwritten before the read began (planted
// in the last quarter of the history, so the search must cover most of it to prove it).
//
// Counters: ops/s; memo_entries (peak, largest partition); rss_MB: the process's peak resident
// set during the benchmark (VmHWM, reset before each benchmark through /proc/self/clear_refs).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <string>

#include "props/linearizability.h"
#include "props/models.h"
#include "props/test_util.h"

namespace {

using props::test::GenOptions;

void reset_peak_rss() {
  std::ofstream f("/proc/self/clear_refs");
  f << "5";
}

double peak_rss_mb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}

// Histories are built once per shape and kept (building is not what is measured).
const std::vector<sim::Operation>& history(int ops, int keys, bool witness, bool violation) {
  static std::map<std::tuple<int, int, bool, bool>, std::vector<sim::Operation>> cache;
  auto key = std::make_tuple(ops, keys, witness, violation);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  GenOptions o;
  o.model = "register";
  o.seed = 42;
  o.clients = 10;
  o.ops = ops;
  o.keys = keys;
  o.witness = witness;
  auto h = props::test::make_history(o);
  if (violation) {
    props::test::TestRng rng(7);
    sim::OpId id = props::test::plant_violation(h, "register", rng, h.size() * 3 / 4);
    std::fprintf(stderr, "planted violation at op %llu of %d\n",
                 static_cast<unsigned long long>(id), ops);
  }
  return cache.emplace(key, std::move(h)).first->second;
}

void run(benchmark::State& state, int ops, int keys, bool witness, bool violation) {
  const auto& h = history(ops, keys, witness, violation);
  props::RegisterModel model;
  reset_peak_rss();
  std::size_t memo = 0;
  std::uint64_t steps = 0;
  for (auto _ : state) {
    auto r = props::check_linearizability(h, model);
    if (!r.ok()) {
      state.SkipWithError(r.error().to_string().c_str());
      return;
    }
    props::Verdict want = violation ? props::Verdict::kViolated : props::Verdict::kOk;
    if (r->verdict != want) {
      state.SkipWithError(("unexpected verdict " + std::string(props::verdict_name(r->verdict)) +
                           "\n" + r->report())
                              .c_str());
      return;
    }
    memo = 0;
    for (const auto& p : r->partitions) memo = std::max(memo, p.memo_entries_peak);
    steps = r->steps;
    benchmark::DoNotOptimize(r);
  }
  state.counters["ops/s"] = benchmark::Counter(static_cast<double>(ops) * state.iterations(),
                                               benchmark::Counter::kIsRate);
  state.counters["memo_entries"] = static_cast<double>(memo);
  state.counters["steps"] = static_cast<double>(steps);
  state.counters["rss_MB"] = peak_rss_mb();
}

// 100,000 ops over 100 keys (goal: < 0.1 s).
void BM_ManyKeys(benchmark::State& state) { run(state, 100'000, 100, state.range(0) != 0, false); }
BENCHMARK(BM_ManyKeys)->ArgName("witness")->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond);

// One hot register (goals: 10,000 ops < 1 s and < 500 MB; 100,000 ops < 10 s).
void BM_HotRegister(benchmark::State& state) {
  run(state, static_cast<int>(state.range(0)), 1, state.range(1) != 0, false);
}
BENCHMARK(BM_HotRegister)
    ->ArgNames({"ops", "witness"})
    ->Args({10'000, 1})
    ->Args({10'000, 0})
    ->Args({100'000, 1})
    ->Args({100'000, 0})
    ->Unit(benchmark::kMillisecond);

// The same with a planted stale read: proving it bad must be as fast as proving it good.
void BM_HotRegisterViolation(benchmark::State& state) {
  run(state, static_cast<int>(state.range(0)), 1, state.range(1) != 0, true);
}
BENCHMARK(BM_HotRegisterViolation)
    ->ArgNames({"ops", "witness"})
    ->Args({10'000, 1})
    ->Args({10'000, 0})
    ->Args({100'000, 1})
    ->Args({100'000, 0})
    ->Unit(benchmark::kMillisecond);

// A grow-only set of distinct elements, as a sessions or inventory app records it: clients add
// `adds` elements (some of unknown outcome: a timeout) while a reader lists the set; one late
// read misses an acknowledged add (a lost write). The search must explore the orders of the
// unknown adds; the element refutation (step 3) names the missing element without searching.
// Arg 1: refutation on; 0: search only, bounded at 20 M steps (it answers unknown).
std::vector<sim::Operation> lost_add_history(int adds) {
  props::test::TestRng rng(3);
  std::vector<sim::Operation> ops;
  std::vector<std::pair<sim::Time, std::string>> effects;  // when each add took effect
  sim::Time t = 0;
  for (int i = 0; i < adds; ++i) {
    sim::Operation op;
    op.id = ops.size() + 1;
    op.client = "c" + std::to_string(i % 10);
    op.object = "sessions";
    op.kind = "add";
    op.input = "s" + std::to_string(i);
    op.invoke = t;
    const sim::Time effect = t + sim::millis(rng.range(1, 5));
    op.complete = effect + sim::millis(rng.range(1, 5));
    op.status = sim::OpStatus::kOk;
    if (rng.chance(0.05)) {  // a timeout: it took effect, but the client never heard
      op.status = sim::OpStatus::kUnknown;
      op.complete = sim::kTimeMax;
    }
    effects.emplace_back(effect, op.input);
    ops.push_back(op);
    t += sim::millis(1);
    if (i % 20 == 19 || i == adds - 1) {
      sim::Operation r;
      r.id = ops.size() + 1;
      r.client = "reader";
      r.object = "sessions";
      r.kind = "read";
      r.invoke = t + sim::millis(20);
      r.complete = r.invoke + sim::millis(1);
      r.status = sim::OpStatus::kOk;
      std::string out;
      for (const auto& [when, x] : effects) {
        // The last read loses the first add: acknowledged long before it began.
        if (when < r.invoke && !(i == adds - 1 && x == "s0")) out += (out.empty() ? "" : ",") + x;
      }
      r.output = out;
      ops.push_back(r);
    }
  }
  return ops;
}

void BM_SetLostAdd(benchmark::State& state) {
  static const std::vector<sim::Operation> h = lost_add_history(700);
  props::SetModel model;
  props::LinearizabilityOptions options;
  options.use_refutation = state.range(0) != 0;
  options.steps_max = 20'000'000;
  std::uint64_t steps = 0;
  for (auto _ : state) {
    auto r = props::check_linearizability(h, model, options);
    if (!r.ok() || r->verdict == props::Verdict::kOk) {
      state.SkipWithError("the lost add was not found");
      return;
    }
    steps = r->steps;
    state.SetLabel(props::verdict_name(r->verdict));
  }
  state.counters["steps"] = static_cast<double>(steps);
}
BENCHMARK(BM_SetLostAdd)->ArgName("refutation")->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
