// Cloudflare Workflows (platform/services/workflows) on one core: steps per wall-clock second
// through an engine. A run is a World with one engine and two PoPs whose C++ runs execute
// `steps` step.do calls (each a begin and a synced commit over the network, as a JS run makes
// them) and finish; `instances` instances are created at once. There are no sleeps, so each
// instance is one run, and the figure is the engine's cost per step: two RPCs over the simulated
// network and one synced SQLite transaction on the simulated disk. No trace sink.
#include <benchmark/benchmark.h>

#include <optional>
#include <string>
#include <vector>

#include "platform/services/workflows/workflows.h"
#include "sim/world.h"

namespace {

class Steps final : public services::WorkflowRunExecutor {
 public:
  Steps(services::WorkflowService& service, int steps) : service_(service), steps_(steps) {}
  sim::Status run(sim::Task& task, const services::WorkflowRun& r) override {
    auto call = [&](services::WorkflowMessage m) -> std::optional<services::WorkflowMessage> {
      m.set("id", r.instance_id).set("generation", r.generation).set("run", r.run);
      sim::Result<services::WorkflowMessage> reply = service_.call(task, r.workflow, m);
      if (!reply.ok() || reply->op != "ok") return std::nullopt;
      return *reply;
    };
    for (int i = 0; i < steps_; ++i) {
      const std::string key = "step " + std::to_string(i);
      auto b = call(services::WorkflowMessage{"begin", {}, {}}.set("key", key).set("kind", "do"));
      if (!b) return sim::Status::Ok();
      if (b->get("a") == "cached") continue;
      services::WorkflowMessage c{"commit", {}, R"({"charged":25})"};
      c.set("key", key).set("attempt", b->num("attempt")).set("ok", 1).set("display", "25");
      if (!call(c)) return sim::Status::Ok();
    }
    (void)call(services::WorkflowMessage{"finish", {}, "done"}.set("ok", 1).set("display", "d"));
    return sim::Status::Ok();
  }

 private:
  services::WorkflowService& service_;
  int steps_;
};

// Returns the steps run.
std::uint64_t run(std::uint64_t seed, int instances, int steps) {
  sim::World w(seed);
  services::WorkflowService service(w, {});
  service.add_workflow("flow", "Flow", "app");
  sim::Node& engine = w.add_node("workflow-1", "fra");
  service.add_engine(engine);
  Steps runner(service, steps);
  std::vector<sim::Node*> pops = {&w.add_node("pop-lhr", "lhr"), &w.add_node("pop-ams", "ams")};
  for (sim::Node* p : pops) service.add_runner("app", *p, runner);
  w.start();
  w.spawn(*pops[0], "create", [&service, instances](sim::Task& t) {
    for (int i = 0; i < instances; ++i) {
      (void)service.call(
          t, "flow",
          services::WorkflowMessage{"create", {}, {}}.set("id", "i" + std::to_string(i)));
    }
  });
  w.run_until_idle(24 * 3600 * sim::kSecond);
  return service.stats().steps_run;
}

void BM_WorkflowSteps(benchmark::State& state) {
  const int instances = static_cast<int>(state.range(0));
  const int steps = static_cast<int>(state.range(1));
  std::uint64_t seed = 1;
  double total = 0;
  for (auto _ : state) {
    const std::uint64_t n = run(seed++, instances, steps);
    if (n != static_cast<std::uint64_t>(instances) * static_cast<std::uint64_t>(steps)) {
      state.SkipWithError("not every step ran");
      return;
    }
    total += static_cast<double>(n);
  }
  state.counters["steps_per_s"] = benchmark::Counter(total, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_WorkflowSteps)
    ->Args({100, 10})
    ->Args({1000, 10})
    ->Args({10, 1000})
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime();

}  // namespace

BENCHMARK_MAIN();
