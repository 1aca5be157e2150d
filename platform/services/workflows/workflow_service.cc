// WorkflowService (workflows.h): the knobs, the messages on the wire, engines and runners.
#include <charconv>
#include <utility>

#include "platform/services/workflows/workflow_internal.h"
#include "sim/assert.h"
#include "sim/rpc.h"
#include "sim/wire.h"

namespace services {

const sim::Knobs<WorkflowConfig>& WorkflowConfig::knobs() {
  using C = WorkflowConfig;
  static const auto* table =
      &(*new sim::Knobs<C>())
           .integer("concurrent_instances_max", &C::concurrent_instances_max, 1, 1000000,
                    "instances of one engine running at once (4,500); waiting ones do not count")
           .integer("steps_max", &C::steps_max, 1, 1000000,
                    "steps per instance (10,000; 1,024 on the free plan)")
           .integer("result_bytes_max", &C::result_bytes_max, 1, std::int64_t{1} << 34,
                    "largest step result, structured-cloned (1 MiB)")
           .integer("payload_bytes_max", &C::payload_bytes_max, 1, std::int64_t{1} << 34,
                    "largest create() params or sendEvent() payload (1 MiB)")
           .duration("sleep_max", &C::sleep_max, "longest step.sleep (365 days)")
           .integer("retry_limit", &C::retry_limit, 0, 10000,
                    "retries of a step.do that sets none (5)")
           .duration(
               "retry_delay", &C::retry_delay,
               "delay of a step.do's first retry when it sets none (10s; exponential backoff)",
               sim::kMillisecond)
           .duration("step_timeout", &C::step_timeout,
                     "an attempt of a step.do that sets no timeout fails after this (10 min)",
                     sim::kMillisecond)
           .duration("event_timeout", &C::event_timeout,
                     "step.waitForEvent's timeout when it sets none (24 h)")
           .duration("call_timeout", &C::call_timeout,
                     "how long a step or instance call waits for the engine", sim::kMillisecond)
           .duration("idle_max", &C::idle_max,
                     "a run silent this long between steps is lost (the engine runs it again)",
                     sim::kMillisecond)
           .duration("lease_grace", &C::lease_grace,
                     "how long past a step's timeout the engine waits before the run is lost",
                     sim::kMillisecond)
           .duration("redispatch_delay", &C::redispatch_delay,
                     "pause before a lost run is dispatched again", sim::kMillisecond)
           .integer("runs_lost_max", &C::runs_lost_max, 1, 1000000,
                    "lost runs in a row before the instance errors")
           .decimal("lost_result_p", &C::lost_result_p, 0, 1,
                    "chance that the workflow.lost_result code site drops the answer to a durable "
                    "step result (sites on)")
           .decimal("step_timeout_spike_p", &C::step_timeout_spike_p, 0, 1,
                    "chance that the workflow.step_timeout_spike code site grants an attempt 1 ms "
                    "(sites on)")
           .flag("cache_steps", &C::cache_steps,
                 "a replay gets persisted step results back (off: a mutant: steps run again)")
           .flag("persist_after_ack", &C::persist_after_ack,
                 "a step's result is acknowledged before it is durable (on: a mutant: an engine "
                 "crash loses it)")
           .duration("unsynced_flush_every", &C::unsynced_flush_every,
                     "persist_after_ack only: how often the engine writes acknowledged results",
                     sim::kMillisecond)
           .flag("durable_sleep", &C::durable_sleep,
                 "a sleep's wake-up is on the disk (off: a mutant: an engine crash loses it)");
  return *table;
}

// ---- Messages ----

namespace {

constexpr std::uint32_t kFieldsMax = 64;

sim::Error malformed(const char* what) {
  return sim::Error{sim::ErrorKind::kInvalid, std::string("malformed workflow ") + what};
}

}  // namespace

const std::string& WorkflowMessage::get(const std::string& key) const {
  static const std::string kEmpty;
  auto it = fields.find(key);
  return it == fields.end() ? kEmpty : it->second;
}

std::int64_t WorkflowMessage::num(const std::string& key, std::int64_t otherwise) const {
  auto it = fields.find(key);
  std::int64_t v = 0;
  if (it == fields.end()) return otherwise;
  const char* end = it->second.data() + it->second.size();
  auto [p, ec] = std::from_chars(it->second.data(), end, v);
  return ec == std::errc() && p == end ? v : otherwise;
}

std::string WorkflowMessage::encode() const {
  sim::WireWriter w;
  w.str(op).u32(static_cast<std::uint32_t>(fields.size()));
  for (const auto& [k, v] : fields) w.str(k).str(v);
  w.str(bytes);
  return w.take();
}

sim::Result<WorkflowMessage> WorkflowMessage::decode(std::string_view bytes) {
  sim::WireReader r(bytes);
  WorkflowMessage m;
  m.op = r.str();
  const std::uint32_t n = r.u32();
  if (!r.ok() || n > kFieldsMax) return malformed("message");
  for (std::uint32_t i = 0; i < n && r.ok(); ++i) {
    std::string k = r.str();
    m.fields[std::move(k)] = r.str();
  }
  m.bytes = r.str();
  if (!r.done()) return malformed("message");
  return m;
}

WorkflowMessage WorkflowMessage::error(std::string name, std::string message) {
  WorkflowMessage m{"error", {}, {}};
  m.set("name", std::move(name)).set("message", std::move(message));
  return m;
}

namespace workflow_internal {

std::string encode_run(const WorkflowRun& run) {
  return sim::WireWriter()
      .str(run.workflow)
      .str(run.class_name)
      .str(run.instance_id)
      .u32(run.generation)
      .u32(run.run)
      .i64(run.created)
      .str(run.params)
      .take();
}

sim::Result<WorkflowRun> decode_run(std::string_view bytes) {
  sim::WireReader r(bytes);
  WorkflowRun run;
  run.workflow = r.str();
  run.class_name = r.str();
  run.instance_id = r.str();
  run.generation = r.u32();
  run.run = r.u32();
  run.created = r.i64();
  run.params = r.str();
  if (!r.done()) return malformed("run");
  return run;
}

}  // namespace workflow_internal

// ---- The service ----

WorkflowService::WorkflowService(sim::World& world, WorkflowConfig config)
    : world_(world), config_(std::move(config)) {}

WorkflowService::~WorkflowService() = default;

void WorkflowService::add_workflow(const std::string& name, const std::string& class_name,
                                   const std::string& worker) {
  SIM_REQUIRE(!assigned_);
  SIM_REQUIRE(workflows_.count(name) == 0);
  workflows_[name] = Workflow{name, class_name, worker, 0};
}

void WorkflowService::add_engine(sim::Node& node) {
  SIM_REQUIRE(!assigned_);
  engines_.push_back(std::make_unique<workflow_internal::Engine>(*this, node));
}

void WorkflowService::add_runner(const std::string& worker, sim::Node& node,
                                 WorkflowRunExecutor& executor) {
  SIM_REQUIRE(!assigned_);
  runners_[worker].push_back(Runner{&node, &executor});
  // Registered once per node and Worker; the handler finds the executor by Worker.
  node.add_boot_hook([this, &executor, worker](sim::Node& n) {
    world_.rpc().serve(
        n, std::string(workflow_internal::kRunService) + ":" + worker,
        [&executor](sim::Task& t, sim::NodeId, std::string_view bytes) -> sim::Result<std::string> {
          sim::Result<WorkflowRun> run = workflow_internal::decode_run(bytes);
          if (!run.ok()) return run.error();
          sim::Status s = executor.run(t, *run);
          if (!s.ok()) return s.error();
          return std::string();
        },
        sim::Rpc::Delivery::kAtMostOnce);
  });
}

void WorkflowService::assign_engines() {
  if (assigned_) return;
  SIM_REQUIRE(!engines_.empty());
  assigned_ = true;
  std::size_t next = 0;  // workflows in name order, dealt round-robin
  for (auto& [name, wf] : workflows_) wf.engine = next++ % engines_.size();
}

sim::Result<WorkflowMessage> WorkflowService::call(sim::Task& task, const std::string& workflow,
                                                   const WorkflowMessage& message) {
  auto it = workflows_.find(workflow);
  if (it == workflows_.end()) {
    return sim::Error{sim::ErrorKind::kInvalid, "no workflow \"" + workflow + "\""};
  }
  assign_engines();
  WorkflowMessage m = message;
  m.set("workflow", workflow);
  const sim::NodeId engine = engines_.at(it->second.engine)->node().id();
  sim::Result<std::string> reply = world_.rpc().call(
      task, engine, workflow_internal::kEngineService, m.encode(), config_.call_timeout);
  if (!reply.ok()) return reply.error();
  return WorkflowMessage::decode(*reply);
}

}  // namespace services
