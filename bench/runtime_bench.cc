// The JS runtime on one core: cold starts, simulated requests per second through a hello-world
// fetch handler, memory per idle isolate. Goals (issue 3): >= 100,000 simulated requests/s, cold
// start < 2 ms with the snapshot. See bench/README.md for the figures and how to run.
//
// Extra flag (before Google Benchmark's own): --v8_flags="..." appends V8 flags (experiments).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "platform/engine_setup.h"
#include "platform/js/engine.h"
#include "platform/js/isolate.h"
#include "platform/runtime/pop.h"
#include "platform/runtime/worker.h"
#include "sim/world.h"

namespace {

// The script workerd serves in bench/workerd_compare.sh, too.
const char kHelloWorld[] = R"js(
export default {
  fetch(request, env, ctx) {
    return new Response('Hello World!');
  },
};
)js";

using NullHost = js::NullIsolateHost;

// Arguments: snapshot, keep the shared read-only heap, page cache (each 0 or 1).
void configure_engine(benchmark::State& state) {
  js::Engine& engine = js::Engine::get();
  engine.keep_read_only_heap(state.range(1) != 0);
  engine.set_page_cache(state.range(2) != 0);
}

void restore_engine() {
  js::Engine::get().keep_read_only_heap(true);
  js::Engine::get().set_page_cache(true);
}

// Cold start of a bare isolate: create (from the snapshot or by running the prelude), a context,
// the natives, and a first run. Disposal is not timed (see BM_IsolateDispose).
void BM_IsolateColdStart(benchmark::State& state) {
  configure_engine(state);
  const js::PageCacheStats before = js::Engine::get().page_cache_stats();
  sim::World w(1);
  NullHost host;
  js::IsolateConfig config;
  config.use_snapshot = state.range(0) != 0;
  for (auto _ : state) {
    auto iso = js::Isolate::create(w, config, w.rng("bench"), &host);
    auto r = iso->eval("1");
    benchmark::DoNotOptimize(r);
    state.PauseTiming();
    iso.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations());
  const js::PageCacheStats pages = js::Engine::get().page_cache_stats();
  const auto allocations = static_cast<double>(pages.allocations - before.allocations);
  const auto reused = static_cast<double>(pages.reused - before.reused);
  state.counters["page_reuse_%"] = allocations > 0 ? 100.0 * reused / allocations : 0;
  state.SetLabel(std::string(state.range(0) ? "snapshot" : "no snapshot") +
                 (state.range(1) ? ", shared RO heap kept" : ", RO heap rebuilt") +
                 (state.range(2) ? ", page cache" : ", no page cache"));
  restore_engine();
}
BENCHMARK(BM_IsolateColdStart)
    ->ArgNames({"snapshot", "ro_heap", "page_cache"})
    ->Args({1, 1, 1})
    ->Args({1, 1, 0})
    ->Args({1, 0, 1})
    ->Args({1, 0, 0})
    ->Args({0, 1, 1})
    ->Args({0, 0, 0})
    ->Unit(benchmark::kMicrosecond);

// Disposal of an isolate (made and run once, untimed).
void BM_IsolateDispose(benchmark::State& state) {
  configure_engine(state);
  sim::World w(1);
  NullHost host;
  js::IsolateConfig config;
  for (auto _ : state) {
    state.PauseTiming();
    auto iso = js::Isolate::create(w, config, w.rng("bench"), &host);
    auto r = iso->eval("1");
    benchmark::DoNotOptimize(r);
    state.ResumeTiming();
    iso.reset();
  }
  state.SetItemsProcessed(state.iterations());
  restore_engine();
}
BENCHMARK(BM_IsolateDispose)
    ->ArgNames({"snapshot", "ro_heap", "page_cache"})
    ->Args({1, 1, 1})
    ->Args({1, 0, 0})
    ->Unit(benchmark::kMicrosecond);

runtime::WorkerConfig hello_config() {
  runtime::WorkerConfig c;
  c.name = "hello";
  c.modules = {{"index.js", kHelloWorld}};
  c.main = "index.js";
  return c;
}

// A Worker's cold start as a request sees it, in the simulation: a PoP whose isolate was evicted
// serves one request (isolate + module load + the fetch run + the simulated request path).
void BM_WorkerColdStartRequest(benchmark::State& state) {
  sim::World w(1);
  sim::Node& node = w.add_node("lhr", "lhr");
  sim::Node& client = w.add_node("client", "lhr");
  w.start();
  runtime::PopConfig pc;
  pc.cpu_per_request = 0;
  runtime::Pop pop(w, node, pc);
  pop.deploy(hello_config());
  std::int64_t ok = 0;
  for (auto _ : state) {
    state.PauseTiming();
    pop.evict("hello");
    w.run_until_idle();  // the evicted isolate is disposed at an idle point, untimed
    state.ResumeTiming();
    w.spawn(client, "client", [&](sim::Task& task) {
      runtime::HttpRequest req;
      req.url = "https://hello.test/";
      auto r = pop.fetch(task, "hello", std::move(req));
      if (r.ok() && r->status == 200) ++ok;
    });
    w.run_until_idle();
  }
  if (ok != state.iterations()) state.SkipWithError("a request failed");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_WorkerColdStartRequest)->Unit(benchmark::kMicrosecond);

// Warm requests through the hello-world fetch handler: `clients` client tasks on one node, each
// sending requests one after another to the PoP, for as many as Google Benchmark asks.
// Arguments: clients, through Pop (1) or a bare runtime::Worker (0).
void BM_HelloWorldRequests(benchmark::State& state) {
  const int clients = static_cast<int>(state.range(0));
  const bool via_pop = state.range(1) != 0;
  sim::World w(1);
  sim::Node& node = w.add_node("lhr", "lhr");
  sim::Node& client = w.add_node("client", "lhr");
  w.start();
  runtime::PopConfig pc;
  pc.cores = 1'000'000;  // no queueing: this measures the host, not the model
  pc.cpu_per_request = 0;
  pc.cold_start_cpu = 0;
  pc.idle_timeout = 0;
  pc.evict_fault_p = 0;
  std::unique_ptr<runtime::Pop> pop;
  std::unique_ptr<runtime::Worker> worker;
  if (via_pop) {
    pop = std::make_unique<runtime::Pop>(w, node, pc);
    pop->deploy(hello_config());
  } else {
    worker = std::make_unique<runtime::Worker>(w, node, hello_config());
  }
  std::int64_t ok = 0;
  std::int64_t budget = 0;
  auto serve = [&](sim::Task& task) {
    runtime::HttpRequest req;
    req.url = "https://hello.test/";
    while (budget > 0) {
      --budget;
      auto r = via_pop ? pop->fetch(task, "hello", req) : worker->fetch(task, req);
      if (r.ok() && r->status == 200 && r->body == "Hello World!") ++ok;
    }
  };
  // Warm up: the cold start and V8's tier-up (TurboFan compiles synchronously here, tens of ms
  // per function) are not part of this benchmark.
  budget = 5000;
  w.spawn(client, "client", serve);
  w.run_until_idle();
  ok = 0;
  const std::int64_t batch = 1000;
  for (auto _ : state) {
    budget = batch;
    for (int i = 0; i < clients; ++i) w.spawn(client, "client", serve);
    w.run_until_idle();
  }
  if (ok != batch * state.iterations()) state.SkipWithError("a request failed");
  state.SetItemsProcessed(ok);
  state.SetLabel("items = simulated requests");
}
BENCHMARK(BM_HelloWorldRequests)
    ->ArgNames({"clients", "pop"})
    ->Args({1, 1})
    ->Args({16, 1})
    ->Args({1, 0})
    ->Unit(benchmark::kMillisecond);

std::size_t rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

// Memory per idle isolate: N Workers (one PoP each... one node, N worker names) each served one
// request and left idle. Reports V8's used heap per isolate and the process RSS delta per isolate.
void BM_IdleIsolateMemory(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  double heap_per = 0, rss_per = 0;
  for (auto _ : state) {
    sim::World w(1);
    sim::Node& node = w.add_node("lhr", "lhr");
    sim::Node& client = w.add_node("client", "lhr");
    w.start();
    runtime::PopConfig pc;
    pc.idle_timeout = 0;
    pc.isolate_memory_bytes_max = std::size_t{1} << 40;
    runtime::Pop pop(w, node, pc);
    js::Engine::get().set_page_cache(false);  // RSS must not count pages cached earlier
    js::Engine::get().set_page_cache(true);
    for (int i = 0; i < n; ++i) {
      auto c = hello_config();
      c.name = "hello" + std::to_string(i);
      pop.deploy(std::move(c));
    }
    const std::size_t rss0 = rss_bytes();
    w.spawn(client, "client", [&](sim::Task& task) {
      for (int i = 0; i < n; ++i) {
        runtime::HttpRequest req;
        req.url = "https://hello.test/";
        auto r = pop.fetch(task, "hello" + std::to_string(i), std::move(req));
        if (!r.ok() || r->status != 200) state.SkipWithError("a request failed");
      }
    });
    w.run_until_idle();
    const std::size_t rss1 = rss_bytes();
    heap_per = static_cast<double>(pop.isolate_memory_bytes()) / n;
    rss_per = (static_cast<double>(rss1) - static_cast<double>(rss0)) / n;
    if (pop.warm_isolates() != static_cast<std::size_t>(n)) state.SkipWithError("evicted");
  }
  state.counters["heap_used_per_isolate_KiB"] = heap_per / 1024;
  state.counters["rss_per_isolate_KiB"] = rss_per / 1024;
}
BENCHMARK(BM_IdleIsolateMemory)->Arg(100)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  js::EngineOptions options;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--v8_flags=", 11) == 0) {
      options.extra_flags = argv[i] + 11;
    } else {
      args.push_back(argv[i]);
    }
  }
  int n = static_cast<int>(args.size());
  platform::init_engine(options);
  benchmark::Initialize(&n, args.data());
  if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
