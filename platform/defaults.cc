#include "platform/defaults.h"

#include <set>

#include "sim/assert.h"

namespace platform {

std::vector<std::string> fill_default_nodes(const std::vector<NodeSpec>& pops,
                                            const ServicesUsed& used, ServiceNodes* nodes) {
  std::vector<std::string> added;
  const auto add = [&](std::vector<NodeSpec>* list, std::string name, std::string location) {
    added.push_back(name);
    list->push_back({std::move(name), std::move(location)});
  };
  const auto one = [&](bool use, std::vector<NodeSpec>* list, const char* name) {
    if (!use || !list->empty()) return;
    SIM_REQUIRE(!pops.empty());
    add(list, name, pops.front().location);
  };
  if (used.durable_objects && nodes->do_hosts.empty()) {
    std::set<std::string> seen;
    for (const NodeSpec& pop : pops) {
      if (!seen.insert(pop.location).second) continue;
      add(&nodes->do_hosts, "do-" + std::to_string(nodes->do_hosts.size() + 1), pop.location);
    }
  }
  if (used.durable_objects && nodes->do_storage.empty()) {
    for (const char* loc : {"fra", "ams", "ord"}) {
      add(&nodes->do_storage, std::string("do-store-") + loc, loc);
    }
  }
  one(used.kv, &nodes->kv_stores, "kv-1");
  one(used.queues, &nodes->queue_brokers, "queue-1");
  one(used.cron, &nodes->cron, "cron-1");
  one(used.workflows, &nodes->workflow_engines, "workflow-1");
  one(used.d1, &nodes->d1, "d1-1");
  one(used.r2, &nodes->r2, "r2-1");
  return added;
}

NodeSpec do_directory(const std::vector<NodeSpec>& do_storage) {
  SIM_REQUIRE(!do_storage.empty());
  return {"do-dir", do_storage.front().location};
}

}  // namespace platform
