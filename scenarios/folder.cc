#include "scenarios/folder.h"

#include <algorithm>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "platform/deployment.h"
#include "platform/engine_setup.h"
#include "platform/js/isolate.h"
#include "scenarios/check.h"
#include "scenarios/clients.h"

namespace scenarios {

namespace {

// ---- The folder as a platform: translating a LoadedScenario into a DeploymentSpec -------------

std::vector<platform::NodeSpec> nodes(const std::vector<spec::NodeSpec>& list) {
  std::vector<platform::NodeSpec> out;
  for (const spec::NodeSpec& n : list) out.push_back({n.name, n.location});
  return out;
}

platform::OriginSpec origin(const spec::OriginSpec& o) {
  platform::OriginSpec out{o.name, o.location, o.hostname, {}};
  for (const spec::StaticResponse& r : o.responses) {
    runtime::StaticRoute route;
    route.path_prefix = r.path.ends_with("*") ? r.path.substr(0, r.path.size() - 1) : r.path;
    route.method = r.method;
    route.response.status = r.status;
    route.response.body = r.body;
    route.response.headers = r.headers;
    route.delay = r.delay;
    out.routes.push_back(std::move(route));
  }
  return out;
}

platform::WorkerSpec worker(const spec::LoadedScenario& s, const spec::WorkerSpec& w) {
  platform::WorkerSpec out;
  out.name = w.name;
  out.modules = s.files;
  out.main = w.main;
  for (const auto& [name, var] : w.config.vars) {
    out.vars[name] =
        var.json ? js::BindingValue::json(var.value) : js::BindingValue::text(var.value);
  }
  out.hostnames = w.hostnames;
  for (const spec::DurableObjectBinding& b : w.config.durable_objects) {
    out.durable_objects.push_back({b.name, b.class_name, b.script_name});
  }
  for (const spec::KvNamespace& k : w.config.kv_namespaces) {
    out.kv_namespaces.push_back({k.binding, k.id});
  }
  for (const spec::QueueProducer& q : w.config.queue_producers) {
    out.queue_producers.push_back({q.binding, q.queue, q.delivery_delay});
  }
  for (const spec::QueueConsumer& q : w.config.queue_consumers) {
    services::QueueConsumerSettings c;
    c.queue = q.queue;
    c.max_batch_size = q.max_batch_size;
    c.max_batch_timeout = q.max_batch_timeout;
    c.max_retries = q.max_retries;
    c.dead_letter_queue = q.dead_letter_queue;
    c.retry_delay = q.retry_delay;
    c.max_concurrency = q.max_concurrency;
    out.queue_consumers.push_back(std::move(c));
  }
  for (const spec::D1Database& d : w.config.d1_databases) {
    platform::D1BindingSpec b{
        d.binding, d.database_id.empty() ? d.database_name : d.database_id, {}};
    // The migrations: the folder's .sql files in the migrations directory (beside the
    // configuration; "migrations" by default), in name order.
    const std::string base = w.config_path.find('/') == std::string::npos
                                 ? std::string()
                                 : w.config_path.substr(0, w.config_path.rfind('/') + 1);
    const std::string dir =
        base + (d.migrations_dir.empty() ? "migrations" : d.migrations_dir) + "/";
    for (const auto& [path, text] : s.files) {
      if (path.starts_with(dir) && path.ends_with(".sql") &&
          path.find('/', dir.size()) == std::string::npos) {
        b.migrations.emplace_back(path.substr(dir.size()), text);
      }
    }
    out.d1_databases.push_back(std::move(b));
  }
  for (const spec::WorkflowBinding& b : w.config.workflows) {
    out.workflows.push_back({b.binding, b.name, b.class_name, b.script_name});
  }
  for (const std::string& c : w.config.crons) {
    auto parsed = services::CronExpr::parse(c);
    SIM_ASSERT(parsed.ok());  // the loader checked it
    out.crons.push_back(std::move(*parsed));
  }
  if (w.config.cpu_ms.has_value()) out.cpu_max = *w.config.cpu_ms * sim::kMillisecond;
  out.compatibility_date = w.config.compatibility_date;
  return out;
}

// The platform a scenario folder describes. Errors (kInvalid): a knob this build cannot apply.
sim::Result<platform::DeploymentSpec> deployment_spec(const spec::LoadedScenario& s) {
  platform::DeploymentSpec d;
  const spec::Topology& t = s.topology;
  d.pops = nodes(t.pops);
  d.do_hosts = nodes(t.do_hosts);
  d.do_storage = nodes(t.do_storage);
  d.kv_stores = nodes(t.kv_stores);
  d.queue_brokers = nodes(t.queue_brokers);
  d.cron = nodes(t.cron);
  d.workflow_engines = nodes(t.workflow_engines);
  d.d1 = nodes(t.d1);
  for (const spec::OriginSpec& o : t.origins) d.origins.push_back(origin(o));
  for (const spec::WorkerSpec& w : s.workers) d.workers.push_back(worker(s, w));
  std::string errors;
  for (const auto& [name, value] : s.knobs) {
    sim::Status st = platform::knobs().set(d.config, name, value);
    if (st.ok()) continue;
    auto where = s.knob_where.find(name);
    errors += (errors.empty() ? "" : "\n") +
              (where == s.knob_where.end() ? s.source : where->second) + ": " + st.error().message;
  }
  if (!errors.empty()) return sim::Error{sim::ErrorKind::kInvalid, errors};
  return d;
}

// ---- One run of a folder ------------------------------------------------------------------------

class FolderRun final : public ScenarioRun {
 public:
  FolderRun(std::shared_ptr<const spec::LoadedScenario> s, platform::DeploymentSpec spec)
      : s_(std::move(s)), spec_(std::move(spec)) {}
  ~FolderRun() override {
    // Client Workers before the platform they call.
    scripts_.clear();
    loads_.clear();
    deployment_.reset();
  }

  void build(sim::World& world) override {
    platform::init_engine();
    deployment_ = std::make_unique<platform::Deployment>(world, spec_);
    for (const spec::LoadSpec& l : s_->loads) {
      loads_.push_back(std::make_unique<LoadClients>(world, *s_, l, *deployment_));
    }
    for (const spec::ClientScriptSpec& c : s_->client_scripts) {
      scripts_.push_back(std::make_unique<ScriptClients>(world, *s_, c, *deployment_));
    }
  }

  std::vector<PropertyResult> check(sim::World&, const props::History& history) override {
    return check_properties(*s_, history);
  }

  std::map<std::string, std::uint64_t> stats(sim::World& world) override {
    std::map<std::string, std::uint64_t> out = deployment_->stats();
    out["requests"] = 0;
    for (const auto& l : loads_) {
      out["requests"] += l->requests();
      for (const auto& [status, n] : l->statuses()) {
        out[status == 0 ? "responses_none" : "responses_" + std::to_string(status / 100) + "xx"] +=
            n;
      }
    }
    out["ops"] = world.history().ops().size();
    return out;
  }

 private:
  std::shared_ptr<const spec::LoadedScenario> s_;
  platform::DeploymentSpec spec_;
  std::unique_ptr<platform::Deployment> deployment_;
  std::vector<std::unique_ptr<LoadClients>> loads_;
  std::vector<std::unique_ptr<ScriptClients>> scripts_;
};

}  // namespace

// Loads every Worker's modules once in a scratch isolate, so that a syntax error or a missing
// import is bad input (exit 2, naming the file and line) rather than 503s in the middle of a run.
sim::Status check_workers_load(const spec::LoadedScenario& s) {
  platform::init_engine();
  js::NullIsolateHost host;
  sim::World scratch(0);
  for (const spec::WorkerSpec& w : s.workers) {
    auto isolate = js::Isolate::create(scratch, {}, scratch.rng("load-check"), &host);
    js::RunOutcome outcome = js::RunOutcome::kOk;
    sim::Status st = isolate->load(s.files, w.main, &outcome);
    if (outcome != js::RunOutcome::kOk) {
      return sim::Error{
          sim::ErrorKind::kInvalid,
          s.source + "/" + w.main + ": loading the Worker " + js::run_outcome_name(outcome)};
    }
    if (!st.ok()) {
      return sim::Error{sim::ErrorKind::kInvalid,
                        s.source + "/" + st.error().message + " (Worker " + w.name + ")"};
    }
  }
  return sim::Status::Ok();
}

// What the scenario asks for that this build does not simulate, refused at load (exit 2) with the
// file, line and key rather than accepted and ignored.
sim::Status check_supported(const spec::LoadedScenario& s) {
  std::string errors;
  auto refuse = [&](const std::string& where, const std::string& key, const std::string& why) {
    errors += (errors.empty() ? "" : "\n") + where + ": " + key + ": " + why;
  };
  const std::map<std::string, std::string> unsimulated = {
      {"r2_buckets", "R2 is not simulated by this build of edgesim"},
  };
  for (const spec::WorkerSpec& w : s.workers) {
    for (const auto& [key, where] : w.config.where) {
      auto it = unsimulated.find(key);
      if (it != unsimulated.end()) refuse(where, key, it->second);
      if (key.starts_with("compatibility_flags[")) {
        const std::size_t i = std::stoul(key.substr(20));
        refuse(where, key,
               "compatibility flag \"" + w.config.compatibility_flags.at(i) +
                   "\" is not supported by this build of edgesim (it supports no flags yet)");
      }
    }
  }
  if (errors.empty()) return sim::Status::Ok();
  return sim::Error{sim::ErrorKind::kInvalid, errors};
}

sim::Result<ScenarioInfo> folder_scenario(std::shared_ptr<const spec::LoadedScenario> loaded) {
  if (sim::Status s = check_supported(*loaded); !s.ok()) return s.error();
  sim::Result<platform::DeploymentSpec> spec = deployment_spec(*loaded);
  if (!spec.ok()) return spec.error();
  if (sim::Status s = check_workers_load(*loaded); !s.ok()) return s.error();
  ScenarioInfo info;
  info.name = loaded->qualified_name();
  info.summary = loaded->summary;
  info.expected = loaded->expected;
  info.duration = loaded->duration;
  info.quiet_after = loaded->quiet_after;
  info.workflow_reference = std::any_of(
      loaded->properties.begin(), loaded->properties.end(),
      [](const spec::PropertySpec& p) { return p.checker == spec::Checker::kWorkflowReplay; });
  info.make = [loaded, spec = std::move(spec.value())]() -> std::unique_ptr<ScenarioRun> {
    return std::make_unique<FolderRun>(loaded, spec);
  };
  return info;
}

}  // namespace scenarios
