// The defaults policy of a deployment, in one place: which nodes run a service that some Worker
// uses when the spec names none. V8-free (sim only), so that the scenario loader applies the same
// policy when it reads a folder (a fault plan may then name the default nodes) as
// platform::Deployment does when it builds one.
#pragma once

#include <string>
#include <vector>

namespace platform {

struct NodeSpec {
  std::string name;
  std::string location;  // an IATA code (sim::known_locations())
  bool operator==(const NodeSpec&) const = default;
};

// Which services the Workers of a deployment bind.
struct ServicesUsed {
  bool durable_objects = false;
  bool kv = false;
  bool queues = false;
  bool cron = false;
  bool workflows = false;
  bool d1 = false;
  bool r2 = false;
};

// The nodes of the services, as a spec declares them.
struct ServiceNodes {
  std::vector<NodeSpec> do_hosts;
  std::vector<NodeSpec> do_storage;
  std::vector<NodeSpec> kv_stores;
  std::vector<NodeSpec> queue_brokers;
  std::vector<NodeSpec> cron;  // the scheduler (one)
  std::vector<NodeSpec> workflow_engines;
  std::vector<NodeSpec> d1;  // the first is the primary
  std::vector<NodeSpec> r2;
  bool operator==(const ServiceNodes&) const = default;
};

// Fills the empty node lists of the services in use:
//   Durable Objects: a host per distinct PoP location, "do-1", "do-2", ... (objects are placed near
//     their first caller); three storage replicas, "do-store-fra", "do-store-ams",
//     "do-store-ord" (a quorum of two survives the loss of one);
//   KV, Queues, Cron Triggers, Workflows, D1, R2: one node at the first PoP's location, "kv-1",
//     "queue-1", "cron-1", "workflow-1", "d1-1", "r2-1".
// Returns the names it gave, in order (the caller checks that none clashes with a declared node).
// REQUIRES: `pops` non-empty when a service is used.
std::vector<std::string> fill_default_nodes(const std::vector<NodeSpec>& pops,
                                            const ServicesUsed& used, ServiceNodes* nodes);

// The Durable Object directory: "do-dir", at the first storage node's location.
NodeSpec do_directory(const std::vector<NodeSpec>& do_storage);

}  // namespace platform
