// platform::Deployment: a whole edge platform built into a World from a plain spec: PoPs running
// the Workers behind their front doors, origins, and every service some Worker binds (the
// Durable Object cluster with its hosts, storage and directory; KV's central stores; the queue
// brokers and each queue's consumer on every PoP), with the
// defaults policy in one place (platform/defaults.h). Scenario folders are translated into a
// DeploymentSpec (scenarios/folder.cc); tests and benchmarks may write one by hand.
//
// Knobs: every number of every service is a knob of PlatformConfig, in one table (knobs()):
// "net.*", "pop.*", "worker.*", "fetch.*", "do.*", "kv.*", "queue.*". `edgesim knobs` prints it.
//
// A request's path through the platform (platform/README.md has it with every function):
// client -> PoP front door (runtime::FrontDoor) -> runtime::Pop -> runtime::Worker -> JS ->
// binding (bindings/) -> service (services/) -> object (objects/) -> storage, and back.
//
// Single-threaded. Build it before World::start(); the World outlives it, and it outlives every
// task that uses it (declare the World first, the Deployment after it).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "platform/defaults.h"
#include "platform/js/values.h"
#include "platform/objects/object_host.h"
#include "platform/runtime/origin.h"
#include "platform/runtime/pop.h"
#include "platform/runtime/worker.h"
#include "platform/services/cron/cron.h"
#include "platform/services/d1/d1.h"
#include "platform/services/do/do_cluster.h"
#include "platform/services/kv/kv.h"
#include "platform/services/queues/queues.h"
#include "platform/services/workflows/workflows.h"
#include "sim/knobs.h"
#include "sim/network.h"
#include "sim/world.h"

namespace platform {

struct OriginSpec {
  std::string name;      // its node
  std::string location;  // IATA code
  std::string hostname;  // fetch("https://<hostname>/...") reaches it
  std::vector<runtime::StaticRoute> routes;
};

struct DurableObjectBinding {
  std::string binding;     // env.<binding>
  std::string class_name;  // the exported class
  std::string script;      // the Worker that exports it; empty: this one
};

struct KvBinding {
  std::string binding;
  std::string namespace_id;
};

struct QueueProducerBinding {
  std::string binding;
  std::string queue;
  std::optional<sim::Duration> delivery_delay;  // the queue's, for messages sent without one
};

struct WorkflowBindingSpec {
  std::string binding;     // env.<binding>
  std::string name;        // the workflow
  std::string class_name;  // the exported class (WorkflowEntrypoint) that runs it
  std::string script;      // the Worker that exports it; empty: this one
};

struct D1BindingSpec {
  std::string binding;
  std::string database_id;
  // The migrations (name, SQL) in order, applied by the primary at its first boot.
  std::vector<std::pair<std::string, std::string>> migrations;
};

struct WorkerSpec {
  std::string name;
  js::ModuleMap modules;
  std::string main;
  std::map<std::string, js::BindingValue> vars;
  std::vector<std::string> hostnames;  // the routes it serves
  std::vector<DurableObjectBinding> durable_objects;
  std::vector<KvBinding> kv_namespaces;
  std::vector<QueueProducerBinding> queue_producers;
  // The queues this Worker consumes (a queue has one consumer Worker; it runs on every PoP).
  std::vector<services::QueueConsumerSettings> queue_consumers;
  std::vector<WorkflowBindingSpec> workflows;
  std::vector<D1BindingSpec> d1_databases;
  // triggers.crons: scheduled() runs at each minute one of these matches (UTC).
  std::vector<services::CronExpr> crons;
  std::optional<sim::Duration> cpu_max;  // limits.cpu_ms
  std::string compatibility_date;        // "YYYY-MM-DD" or ""
};

// Every knob of the platform (knobs()).
struct PlatformConfig {
  sim::NetConfig net;
  runtime::PopConfig pop;
  runtime::WorkerConfig worker;  // limits and timeouts every Worker gets
  runtime::OriginsConfig fetch;
  services::DoClusterConfig durable_objects;
  objects::DoHostConfig object_hosts;
  services::KvConfig kv;
  services::QueueConfig queues;
  services::CronConfig cron;
  services::WorkflowConfig workflows;
  services::D1Config d1;
};

// The service nodes (do_hosts, do_storage, kv_stores, ...; ServiceNodes) left empty get the
// defaults for the services some Worker binds (platform/defaults.h).
struct DeploymentSpec : ServiceNodes {
  std::vector<NodeSpec> pops;
  std::vector<OriginSpec> origins;
  // The first is the entry Worker: it serves requests whose host no Worker claims.
  std::vector<WorkerSpec> workers;
  PlatformConfig config;
};

// Every knob: name ("do.lease_duration"), type, default and what it does.
const sim::Knobs<PlatformConfig>& knobs();

class Deployment {
 public:
  // Adds every node and service of `spec` to `world`. REQUIRES: World::start() not called yet;
  // platform::init_engine() called; spec.workers non-empty; every class a Durable Object binding
  // names is exported by the Worker it names.
  Deployment(sim::World& world, DeploymentSpec spec);
  ~Deployment();
  Deployment(const Deployment&) = delete;
  Deployment& operator=(const Deployment&) = delete;

  // The PoP nodes, in spec order.
  const std::vector<sim::Node*>& pops() const { return pop_nodes_; }
  // The PoP nearest `location` (ties: the first in spec order).
  sim::NodeId nearest_pop(const sim::Location& location) const;
  // The PoP named `name`, or sim::kNoNode.
  sim::NodeId pop_named(const std::string& name) const;
  // The host name requests go to when none is given: the entry Worker's first route, else
  // "app.test".
  std::string default_hostname() const;
  // The hostnames of `worker` (empty: the entry Worker's).
  std::vector<std::string> hostnames(const std::string& worker) const;

  // Host-independent counters: do_activations, do_commits, do_hibernations (when > 0), and the
  // queues' (queue_sent, queue_batches, queue_acked, queue_retried, queue_dead_lettered,
  // queue_dropped) when some Worker uses a queue.
  std::map<std::string, std::uint64_t> stats() const;

 private:
  struct PopEntry;
  void add_origins();
  void add_durable_objects();
  void add_kv();
  void add_queues();
  void add_cron();
  void add_workflows();
  void add_d1();
  void add_pops();
  // The config of Worker `w` on `node`, its bindings served by a table made for that node.
  runtime::WorkerConfig worker_config(const WorkerSpec& w, sim::Node& node);
  const WorkerSpec* find_worker(const std::string& name) const;

  sim::World& world_;
  DeploymentSpec spec_;
  std::unique_ptr<runtime::Origins> origins_;
  std::vector<std::unique_ptr<runtime::Origin>> origin_servers_;
  std::unique_ptr<services::DoCluster> cluster_;
  std::vector<std::unique_ptr<objects::DoHost>> do_hosts_;
  std::unique_ptr<services::KvService> kv_;
  std::unique_ptr<services::QueueService> queues_;
  std::vector<std::unique_ptr<services::QueueConsumerExecutor>> queue_consumers_;
  std::unique_ptr<services::WorkflowService> workflows_;
  std::unique_ptr<services::D1Service> d1_;
  std::vector<std::unique_ptr<services::WorkflowRunExecutor>> workflow_runners_;
  // (node, Worker) -> the target of its hidden step binding, for the Workers that run workflows.
  std::map<std::pair<sim::NodeId, std::string>, std::uint32_t> step_targets_;
  std::unique_ptr<services::CronService> cron_;
  std::vector<std::unique_ptr<services::CronExecutor>> cron_targets_;
  // One binding table per (node, Worker): a binding's calls run on the node its Worker runs on.
  std::vector<std::unique_ptr<runtime::Services>> tables_;
  std::vector<std::unique_ptr<PopEntry>> pop_entries_;
  std::vector<sim::Node*> pop_nodes_;
};

}  // namespace platform
