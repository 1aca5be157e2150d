#include "scenarios/spec/spec.h"

#include <algorithm>

namespace scenarios::spec {
namespace {

struct CheckerName {
  Checker checker;
  const char* name;
};
constexpr CheckerName kCheckers[] = {
    {Checker::kLinearizability, "linearizability"},
    {Checker::kQueueDelivery, "queue_delivery"},
    {Checker::kKvConvergence, "kv_convergence"},
    {Checker::kDoSingleInstance, "do_single_instance"},
    {Checker::kWorkflowReplay, "workflow_replay"},
    {Checker::kHttpStatus, "http_status"},
    {Checker::kBroadcast, "broadcast"},
    {Checker::kCronSchedule, "cron_schedule"},
    {Checker::kWorkflowLiveness, "workflow_liveness"},
};

}  // namespace

const char* checker_name(Checker c) {
  for (const auto& entry : kCheckers) {
    if (entry.checker == c) return entry.name;
  }
  return "?";
}

std::optional<Checker> checker_from_name(std::string_view name) {
  for (const auto& entry : kCheckers) {
    if (name == entry.name) return entry.checker;
  }
  return std::nullopt;
}

const std::vector<std::string>& checker_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& entry : kCheckers) v.emplace_back(entry.name);
    return v;
  }();
  return names;
}

std::vector<std::string> Topology::node_names() const {
  std::vector<std::string> out;
  for (const auto* list : {&pops, &do_hosts, &do_storage, &kv_stores, &queue_brokers, &cron,
                           &workflow_engines, &d1, &r2}) {
    for (const auto& n : *list) out.push_back(n.name);
  }
  for (const auto& o : origins) out.push_back(o.name);
  if (!do_storage.empty()) out.push_back(platform::do_directory(do_storage).name);
  std::sort(out.begin(), out.end());
  return out;
}

sim::FaultPlan FaultSpec::to_plan() const {
  switch (mode) {
    case sim::FaultPlan::Mode::kNone:
      return sim::FaultPlan::none();
    case sim::FaultPlan::Mode::kSwarm:
      return sim::FaultPlan::swarm();
    case sim::FaultPlan::Mode::kSchedule:
      break;
  }
  auto parsed = sim::FaultPlan::parse(plan, source);
  SIM_ASSERT(parsed.ok());  // the loader parsed it already
  return std::move(parsed).value();
}

std::string LoadedScenario::qualified_name() const {
  return variant.empty() ? name : name + "@" + variant;
}

const WorkerSpec* LoadedScenario::find_worker(std::string_view worker) const {
  for (const auto& w : workers) {
    if (w.name == worker) return &w;
  }
  return nullptr;
}

const PropertySpec* LoadedScenario::find_property(std::string_view property) const {
  for (const auto& p : properties) {
    if (p.name == property) return &p;
  }
  return nullptr;
}

}  // namespace scenarios::spec
