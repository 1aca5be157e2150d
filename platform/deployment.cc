#include "platform/deployment.h"

#include <algorithm>
#include <set>
#include <utility>

#include "platform/bindings/binding_table.h"
#include "platform/bindings/d1_binding.h"
#include "platform/bindings/do_binding.h"
#include "platform/bindings/kv_binding.h"
#include "platform/bindings/queue_binding.h"
#include "platform/bindings/workflow_binding.h"
#include "platform/consumers.h"
#include "platform/runtime/front_door.h"
#include "sim/assert.h"
#include "sim/location.h"
#include "sim/node.h"

namespace platform {

namespace {

constexpr char kDefaultHostname[] = "app.test";

bool binds_durable_objects(const DeploymentSpec& s) {
  return std::any_of(s.workers.begin(), s.workers.end(),
                     [](const WorkerSpec& w) { return !w.durable_objects.empty(); });
}

bool binds_kv(const DeploymentSpec& s) {
  return std::any_of(s.workers.begin(), s.workers.end(),
                     [](const WorkerSpec& w) { return !w.kv_namespaces.empty(); });
}

bool uses_queues(const DeploymentSpec& s) {
  return std::any_of(s.workers.begin(), s.workers.end(), [](const WorkerSpec& w) {
    return !w.queue_producers.empty() || !w.queue_consumers.empty();
  });
}

bool uses_workflows(const DeploymentSpec& s) {
  return std::any_of(s.workers.begin(), s.workers.end(),
                     [](const WorkerSpec& w) { return !w.workflows.empty(); });
}

// The Worker that runs the class of workflow binding `b` of Worker `w`.
const std::string& workflow_script(const WorkerSpec& w, const WorkflowBindingSpec& b) {
  return b.script.empty() ? w.name : b.script;
}

bool runs_workflows(const DeploymentSpec& s, const std::string& worker) {
  for (const WorkerSpec& w : s.workers) {
    for (const WorkflowBindingSpec& b : w.workflows) {
      if (workflow_script(w, b) == worker) return true;
    }
  }
  return false;
}

bool binds_d1(const DeploymentSpec& s) {
  return std::any_of(s.workers.begin(), s.workers.end(),
                     [](const WorkerSpec& w) { return !w.d1_databases.empty(); });
}

bool uses_cron(const DeploymentSpec& s) {
  return std::any_of(s.workers.begin(), s.workers.end(),
                     [](const WorkerSpec& w) { return !w.crons.empty(); });
}

}  // namespace

// ---- The knob table
// --------------------------------------------------------------------------------

const sim::Knobs<PlatformConfig>& knobs() {
  using C = PlatformConfig;
  static const auto* table =
      &(*new sim::Knobs<C>())
           .include("net.", &C::net, sim::NetConfig::knobs())
           .include("pop.", &C::pop, runtime::PopConfig::knobs())
           .include("worker.", &C::worker, runtime::WorkerConfig::knobs())
           .include("fetch.", &C::fetch, runtime::OriginsConfig::knobs())
           .include("do.", &C::durable_objects, services::DoClusterConfig::knobs())
           .include("do.", &C::object_hosts, objects::DoHostConfig::knobs())
           .include("kv.", &C::kv, services::KvConfig::knobs())
           .include("queue.", &C::queues, services::QueueConfig::knobs())
           .include("cron.", &C::cron, services::CronConfig::knobs())
           .include("workflow.", &C::workflows, services::WorkflowConfig::knobs())
           .include("d1.", &C::d1, services::D1Config::knobs());
  return *table;
}

// ---- Deployment
// ------------------------------------------------------------------------------------

struct Deployment::PopEntry {
  std::unique_ptr<runtime::Pop> pop;
  std::unique_ptr<runtime::FrontDoor> door;
};

Deployment::Deployment(sim::World& world, DeploymentSpec spec)
    : world_(world), spec_(std::move(spec)) {
  SIM_REQUIRE(!spec_.workers.empty());
  SIM_REQUIRE(js::Engine::initialized());
  // The nodes of the services in use that the spec leaves out (platform/defaults.h).
  (void)fill_default_nodes(spec_.pops,
                           {.durable_objects = binds_durable_objects(spec_),
                            .kv = binds_kv(spec_),
                            .queues = uses_queues(spec_),
                            .cron = uses_cron(spec_),
                            .workflows = uses_workflows(spec_),
                            .d1 = binds_d1(spec_)},
                           &spec_);
  world_.net().config() = spec_.config.net;
  // The order nodes are added in is their ids' order, which traces record: keep it stable.
  add_origins();
  for (const NodeSpec& p : spec_.pops) pop_nodes_.push_back(&world_.add_node(p.name, p.location));
  if (binds_durable_objects(spec_)) add_durable_objects();
  if (binds_kv(spec_) && kv_ == nullptr) add_kv();
  if (uses_queues(spec_) && queues_ == nullptr) add_queues();
  if (uses_workflows(spec_) && workflows_ == nullptr) add_workflows();
  if (binds_d1(spec_) && d1_ == nullptr) add_d1();
  if (uses_cron(spec_)) add_cron();
  add_pops();
}

Deployment::~Deployment() {
  // Workers and objects before the services they call.
  queue_consumers_.clear();
  workflow_runners_.clear();
  cron_targets_.clear();
  pop_entries_.clear();
  do_hosts_.clear();
  tables_.clear();
}

void Deployment::add_origins() {
  origins_ = std::make_unique<runtime::Origins>(world_, spec_.config.fetch);
  for (const OriginSpec& o : spec_.origins) {
    sim::Node& node = world_.add_node(o.name, o.location);
    origin_servers_.push_back(runtime::Origin::serve_static(world_, node, o.routes));
    origins_->add(o.hostname, *origin_servers_.back());
  }
}

void Deployment::add_durable_objects() {
  cluster_ = std::make_unique<services::DoCluster>(world_, spec_.config.durable_objects);
  const NodeSpec directory = do_directory(spec_.do_storage);
  cluster_->add_directory(world_.add_node(directory.name, directory.location));
  for (const NodeSpec& n : spec_.do_storage) {
    cluster_->add_storage(world_.add_node(n.name, n.location));
  }
  std::vector<sim::Node*> host_nodes;
  for (const NodeSpec& n : spec_.do_hosts) {
    host_nodes.push_back(&world_.add_node(n.name, n.location));
  }
  // KV and queues before the hosts' executors: a DO's own bindings are clients at its host.
  if (binds_kv(spec_)) add_kv();
  if (uses_queues(spec_)) add_queues();
  if (uses_workflows(spec_)) add_workflows();
  if (binds_d1(spec_)) add_d1();
  for (sim::Node* h : host_nodes) {
    if (kv_ != nullptr) kv_->attach(*h);
    objects::DoHostConfig hc = spec_.config.object_hosts;
    for (const WorkerSpec& w : spec_.workers) {
      for (const DurableObjectBinding& b : w.durable_objects) {
        const WorkerSpec* script = b.script.empty() ? &w : find_worker(b.script);
        SIM_REQUIRE(script != nullptr);
        if (hc.classes.count(b.class_name) == 0) {
          hc.classes[b.class_name] = worker_config(*script, *h);
        }
      }
    }
    do_hosts_.push_back(std::make_unique<objects::DoHost>(world_, *h, std::move(hc)));
    cluster_->add_host(*h, *do_hosts_.back());
  }
}

void Deployment::add_kv() {
  services::KvConfig c = spec_.config.kv;
  if (!spec_.kv_stores.empty()) {
    c.central_locations.clear();
    c.central_names.clear();
    for (const NodeSpec& n : spec_.kv_stores) {
      c.central_locations.push_back(n.location);
      c.central_names.push_back(n.name);
    }
  }
  kv_ = std::make_unique<services::KvService>(world_, c);
}

void Deployment::add_queues() {
  queues_ = std::make_unique<services::QueueService>(world_, spec_.config.queues);
  // Every queue produced to, consumed, or dead-lettered into; with the delivery delay its
  // producers give it (the scenario loader checked they agree).
  std::map<std::string, sim::Duration> queues;
  for (const WorkerSpec& w : spec_.workers) {
    for (const QueueProducerBinding& p : w.queue_producers) {
      sim::Duration& d = queues[p.queue];
      if (p.delivery_delay.has_value()) d = *p.delivery_delay;
    }
    for (const services::QueueConsumerSettings& c : w.queue_consumers) {
      queues.emplace(c.queue, 0);
      if (!c.dead_letter_queue.empty()) queues.emplace(c.dead_letter_queue, 0);
    }
  }
  for (const auto& [name, delay] : queues) queues_->add_queue(name, delay);
  for (const NodeSpec& n : spec_.queue_brokers) {
    queues_->add_broker(world_.add_node(n.name, n.location));
  }
}

void Deployment::add_workflows() {
  workflows_ = std::make_unique<services::WorkflowService>(world_, spec_.config.workflows);
  std::set<std::string> declared;
  for (const WorkerSpec& w : spec_.workers) {
    for (const WorkflowBindingSpec& b : w.workflows) {
      if (declared.insert(b.name).second) {
        workflows_->add_workflow(b.name, b.class_name, workflow_script(w, b));
      }
    }
  }
  for (const NodeSpec& n : spec_.workflow_engines) {
    workflows_->add_engine(world_.add_node(n.name, n.location));
  }
}

void Deployment::add_d1() {
  d1_ = std::make_unique<services::D1Service>(world_, spec_.config.d1);
  std::vector<sim::Node*> nodes;
  for (const NodeSpec& n : spec_.d1) nodes.push_back(&world_.add_node(n.name, n.location));
  // Every database on the same nodes (the first is each one's primary), in id order.
  std::map<std::string, const D1BindingSpec*> databases;
  for (const WorkerSpec& w : spec_.workers) {
    for (const D1BindingSpec& b : w.d1_databases) {
      auto [it, fresh] = databases.emplace(b.database_id, &b);
      if (!fresh && it->second->migrations.empty()) it->second = &b;
    }
  }
  for (const auto& [id, b] : databases) d1_->add_database(id, nodes, b->migrations);
}

void Deployment::add_cron() {
  cron_ = std::make_unique<services::CronService>(world_, spec_.config.cron);
  for (const WorkerSpec& w : spec_.workers) {
    for (const services::CronExpr& e : w.crons) cron_->add_schedule(w.name, e);
  }
  SIM_REQUIRE(spec_.cron.size() == 1);
  cron_->add_scheduler(world_.add_node(spec_.cron.front().name, spec_.cron.front().location));
}

void Deployment::add_pops() {
  std::map<std::string, std::string> routes;
  for (const WorkerSpec& w : spec_.workers) {
    for (const std::string& h : w.hostnames) routes.emplace(h, w.name);
  }
  for (sim::Node* node : pop_nodes_) {
    if (kv_ != nullptr) kv_->attach(*node);
    auto e = std::make_unique<PopEntry>();
    e->pop = std::make_unique<runtime::Pop>(world_, *node, spec_.config.pop);
    for (const WorkerSpec& w : spec_.workers) e->pop->deploy(worker_config(w, *node));
    // Each queue's consumer Worker can run its batches on every PoP.
    for (const WorkerSpec& w : spec_.workers) {
      for (const services::QueueConsumerSettings& c : w.queue_consumers) {
        queue_consumers_.push_back(std::make_unique<PopQueueConsumer>(*e->pop, w.name));
        queues_->add_consumer(c, *node, *queue_consumers_.back());
      }
    }
    // A workflow's runs can go to every PoP.
    for (const WorkerSpec& w : spec_.workers) {
      auto target = step_targets_.find({node->id(), w.name});
      if (target == step_targets_.end()) continue;
      workflow_runners_.push_back(
          std::make_unique<PopWorkflowRunner>(*e->pop, w.name, target->second));
      workflows_->add_runner(w.name, *node, *workflow_runners_.back());
    }
    // A Worker's Cron Triggers can fire on every PoP.
    for (const WorkerSpec& w : spec_.workers) {
      if (w.crons.empty()) continue;
      cron_targets_.push_back(std::make_unique<PopCronTarget>(*e->pop));
      cron_->add_target(*node, w.name, *cron_targets_.back());
    }
    e->door = std::make_unique<runtime::FrontDoor>(*e->pop, routes, spec_.workers.front().name);
    runtime::FrontDoor* door = e->door.get();
    node->on_boot([door](sim::Node&) { door->serve(); });
    pop_entries_.push_back(std::move(e));
  }
}

runtime::WorkerConfig Deployment::worker_config(const WorkerSpec& w, sim::Node& node) {
  runtime::WorkerConfig c = spec_.config.worker;
  c.name = w.name;
  c.modules = w.modules;
  c.main = w.main;
  c.env = w.vars;
  if (w.cpu_max.has_value()) c.isolate.cpu_max = *w.cpu_max;
  auto table = std::make_unique<bindings::BindingTable>();
  for (const DurableObjectBinding& b : w.durable_objects) {
    SIM_REQUIRE(cluster_ != nullptr);
    table->add(b.binding, std::make_unique<bindings::DoBinding>(b.class_name, *cluster_));
  }
  for (const KvBinding& k : w.kv_namespaces) {
    SIM_REQUIRE(kv_ != nullptr);
    table->add(k.binding, std::make_unique<bindings::KvBinding>(k.namespace_id, kv_->attach(node)));
  }
  for (const QueueProducerBinding& q : w.queue_producers) {
    SIM_REQUIRE(queues_ != nullptr);
    table->add(q.binding, std::make_unique<bindings::QueueBinding>(q.queue, w.compatibility_date,
                                                                   queues_->attach(node)));
  }
  for (const D1BindingSpec& b : w.d1_databases) {
    SIM_REQUIRE(d1_ != nullptr);
    table->add(b.binding, std::make_unique<bindings::D1Binding>(b.database_id, d1_->attach(node)));
  }
  for (const WorkflowBindingSpec& b : w.workflows) {
    SIM_REQUIRE(workflows_ != nullptr);
    table->add(b.binding, std::make_unique<bindings::WorkflowBinding>(b.name, *workflows_));
  }
  if (runs_workflows(spec_, w.name)) {
    step_targets_[{node.id(), w.name}] =
        table->add_hidden(std::make_unique<bindings::WorkflowStepBinding>(*workflows_));
  }
  for (auto& [name, value] : table->env()) c.env[name] = std::move(value);
  c.services = table.get();
  c.origins = origins_.get();
  tables_.push_back(std::move(table));
  return c;
}

const WorkerSpec* Deployment::find_worker(const std::string& name) const {
  for (const WorkerSpec& w : spec_.workers) {
    if (w.name == name) return &w;
  }
  return nullptr;
}

sim::NodeId Deployment::nearest_pop(const sim::Location& location) const {
  sim::NodeId pop = sim::kNoNode;
  double best = 0;
  for (const sim::Node* n : pop_nodes_) {
    const double d = sim::distance_km(location, n->location());
    if (pop == sim::kNoNode || d < best) {
      best = d;
      pop = n->id();
    }
  }
  return pop;
}

sim::NodeId Deployment::pop_named(const std::string& name) const {
  for (const sim::Node* n : pop_nodes_) {
    if (n->name() == name) return n->id();
  }
  return sim::kNoNode;
}

std::string Deployment::default_hostname() const {
  const std::vector<std::string>& h = spec_.workers.front().hostnames;
  return h.empty() ? kDefaultHostname : h.front();
}

std::vector<std::string> Deployment::hostnames(const std::string& worker) const {
  const WorkerSpec* w = worker.empty() ? &spec_.workers.front() : find_worker(worker);
  return w == nullptr ? std::vector<std::string>{} : w->hostnames;
}

std::map<std::string, std::uint64_t> Deployment::stats() const {
  std::map<std::string, std::uint64_t> s;
  if (queues_ != nullptr) {
    const services::QueueService::Stats& q = queues_->stats();
    s["queue_sent"] = q.sent;
    s["queue_batches"] = q.batches;
    s["queue_acked"] = q.acked;
    s["queue_retried"] = q.retried;
    s["queue_dead_lettered"] = q.dead_lettered;
    s["queue_dropped"] = q.dropped;
  }
  if (workflows_ != nullptr) {
    const services::WorkflowService::Stats& f = workflows_->stats();
    s["workflow_instances"] = f.instances;
    s["workflow_runs"] = f.runs;
    s["workflow_runs_lost"] = f.runs_lost;
    s["workflow_steps_run"] = f.steps_run;
    s["workflow_steps_cached"] = f.steps_cached;
    s["workflow_completed"] = f.completed;
    s["workflow_errored"] = f.errored;
  }
  if (d1_ != nullptr) {
    const services::D1Service::Stats& d = d1_->stats();
    s["d1_queries"] = d.queries;
    s["d1_replica_reads"] = d.replica_reads;
    s["d1_forwarded"] = d.forwarded;
    s["d1_writes"] = d.writes;
    s["d1_applied"] = d.applied;
  }
  if (cron_ != nullptr) {
    const services::CronService::Stats& c = cron_->stats();
    s["cron_fired"] = c.fired;
    s["cron_runs_ok"] = c.runs_ok;
    s["cron_retried"] = c.retried;
    s["cron_given_up"] = c.given_up;
    s["cron_caught_up"] = c.caught_up;
  }
  if (cluster_ == nullptr) return s;
  s["do_activations"] = cluster_->stats().activations;
  s["do_commits"] = cluster_->stats().commits;
  std::uint64_t hibernations = 0;
  for (const auto& h : do_hosts_) hibernations += h->hibernations();
  if (hibernations > 0) s["do_hibernations"] = hibernations;
  return s;
}

}  // namespace platform
