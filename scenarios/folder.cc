#include "scenarios/folder.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "platform/bindings/binding_table.h"
#include "platform/bindings/kv_binding.h"
#include "platform/js/engine.h"
#include "platform/js/isolate.h"
#include "platform/objects/object_host.h"
#include "platform/objects/object_messages.h"
#include "platform/runtime/origin.h"
#include "platform/runtime/pop.h"
#include "platform/services/do/do_cluster.h"
#include "platform/services/kv/kv.h"
#include "scenarios/check.h"
#include "scenarios/js_model.h"
#include "sim/events.h"
#include "sim/history.h"
#include "sim/location.h"
#include "sim/node.h"
#include "sim/rpc.h"
#include "sim/task.h"

namespace scenarios {

namespace {

struct Knobs {
  services::DoClusterConfig cluster;
  bool output_gate = true;
  services::KvConfig kv;
};

sim::Status parse_knobs(const std::map<std::string, std::string>& knobs, Knobs* out) {
  for (const auto& [name, value] : knobs) {
    auto bad = [&](const std::string& why) {
      return sim::Error{sim::ErrorKind::kInvalid, "knob " + name + "=" + value + ": " + why};
    };
    if (name == "do.output_gate") {
      if (value != "on" && value != "off") return bad("expected on or off");
      out->output_gate = value == "on";
    } else if (name.starts_with("do.")) {
      sim::Status s = out->cluster.set_knob(name, value);
      if (!s.ok()) return s;
    } else if (name == "kv.local_read_your_writes") {
      if (value != "on" && value != "off") return bad("expected on or off");
      out->kv.local_read_your_writes = value == "on";
    } else if (name == "kv.propagation_max" || name == "kv.cache_ttl_min") {
      sim::Duration d = 0;
      if (!sim::parse_duration(value, &d)) return bad("expected a duration like 30s");
      if (name == "kv.propagation_max") {
        out->kv.propagation_lag = services::KvLagDistribution::uniform(0, d);
      } else {
        out->kv.cache_ttl_min = d;
        out->kv.cache_ttl_default = std::max(out->kv.cache_ttl_default, d);
      }
    } else {
      return bad(
          "unknown knob (known: do.*, kv.local_read_your_writes, kv.propagation_max, "
          "kv.cache_ttl_min)");
    }
  }
  return sim::Status::Ok();
}

// The JSON pointer's value in `body` as text ("" when absent).
std::string json_pointer(const std::string& body, const std::string& pointer);

// The module that runs a client script: its default export gets the `ctx` of scenario.proto
// (ClientScript) and runs as a scheduled() event of a Worker on the client node.
std::string client_wrapper(const std::string& script) {
  return R"js(import run from "./)js" + script + R"js(";
const FAIL = Symbol("fail");
export default {
  async scheduled(controller, env) {
    const rec = env.CLIENT;
    const ctx = {
      client: env.CLIENT_INDEX,
      params: env.PARAMS,
      get stopped() { return Date.now() >= env.STOP_AT_MS; },
      random: () => Math.random(),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      fetch: (url, init) => fetch(new URL(String(url), env.BASE_URL).href, init),
      fail(value) { throw {[FAIL]: true, value}; },
      // An instant operation (something observed, e.g. a message received).
      event(kind, input, options = {}) {
        const id = rec.invoke(String(kind), String(options.object ?? env.SCRIPT),
            String(options.key ?? ""), String(input ?? ""));
        rec.complete(id, "ok", String(options.output ?? ""));
      },
      // A WebSocket to the Worker at `path` (through its PoP; see runtime/websockets.h).
      async websocket(path, init = {}) {
        const headers = new Headers(init.headers);
        headers.set("upgrade", "websocket");
        const r = await fetch(new URL(String(path), env.BASE_URL).href, {headers});
        const sid = r.headers.get("sec-edgesim-websocket");
        if (r.status !== 101 || sid === null) {
          throw new Error(`WebSocket upgrade refused: ${r.status} ${await r.text()}`);
        }
        const [opened] = await rec.ws("wsOpen", {socket: sid});
        const id = opened.id;
        return {
          id,
          async send(data) {
            const text = typeof data === "string";
            await rec.ws("wsSend", {id, text}, text ? new TextEncoder().encode(data) : data);
          },
          async receive(timeoutMs = 0) {
            const [m, bytes] = await rec.ws("wsReceive", {id, timeoutMs});
            if (m.type !== "message") return m;
            return {type: "message", data: m.text ? new TextDecoder().decode(bytes) : bytes};
          },
          close(code = 1000, reason = "") { return rec.ws("wsClose", {id, code, reason}); },
        };
      },
      async op(kind, input, fn, options = {}) {
        const id = rec.invoke(String(kind), String(options.object ?? env.SCRIPT),
            String(options.key ?? ""), String(input ?? ""));
        try {
          const out = await fn();
          // Objects (a WebSocket, say) record no output.
          const opaque = out === undefined || typeof out === "function" ||
              (typeof out === "object" && out !== null);
          rec.complete(id, "ok", opaque ? "" : String(out));
          return out;
        } catch (e) {
          if (e !== null && typeof e === "object" && e[FAIL]) {
            rec.complete(id, "fail", String(e.value ?? ""));
          } else {
            rec.complete(id, "unknown", "");
          }
          return undefined;
        }
      },
    };
    await run(ctx);
  },
};
)js";
}
constexpr char kClientWrapperPath[] = "__edgesim_client__.js";

// What a client script's `ctx.op` records into the World's history.
class ClientRecorder final : public runtime::Services {
 public:
  ClientRecorder(sim::World& world, sim::Node& node)
      : world_(world), node_(node), sockets_(world, node) {}
  runtime::ClientSockets& sockets() { return sockets_; }
  // WebSockets (ctx.websocket).
  js::CallReply call(sim::Task& task, const js::CallRequest& r) override {
    const nlohmann::json a = nlohmann::json::parse(r.json, nullptr, false);
    if (a.is_discarded() || !a.is_object()) return js::CallReply::failure("TypeError", "bad call");
    js::CallReply reply;
    if (r.method == "wsOpen") {
      sim::Result<std::string> id = sockets_.open(task, a.value("socket", ""));
      if (!id.ok()) return js::CallReply::failure("Error", "WebSocket: " + id.error().message);
      reply.json = nlohmann::json{{"id", id.value()}}.dump();
      return reply;
    }
    const std::string id = a.value("id", "");
    if (r.method == "wsSend") {
      sim::Status s = sockets_.send(task, id, a.value("text", true), r.bytes);
      if (!s.ok()) return js::CallReply::failure("Error", s.error().message);
      return reply;
    }
    if (r.method == "wsReceive") {
      const double ms = a.value("timeoutMs", 0.0);
      runtime::ClientSockets::Received m =
          sockets_.receive(task, id, static_cast<sim::Duration>(ms * sim::kMillisecond));
      using K = runtime::ClientSockets::Received::Kind;
      nlohmann::json j;
      if (m.kind == K::kMessage) {
        j = {{"type", "message"}, {"text", m.text}};
        reply.bytes = std::move(m.data);
        reply.has_bytes = true;
      } else if (m.kind == K::kClose) {
        j = {{"type", "close"}, {"code", m.code}, {"reason", m.reason}, {"wasClean", m.clean}};
      } else {
        j = {{"type", "timeout"}};
      }
      reply.json = j.dump();
      return reply;
    }
    if (r.method == "wsClose") {
      sockets_.close(task, id, a.value("code", 1000), a.value("reason", ""));
      return reply;
    }
    return js::CallReply::failure("Error", "no such binding method: " + r.method);
  }
  js::CallReply call_sync(const js::CallRequest& r) override {
    const nlohmann::json a = nlohmann::json::parse(r.json, nullptr, false);
    if (a.is_discarded() || !a.is_object()) return js::CallReply::failure("TypeError", "bad op");
    js::CallReply reply;
    if (r.method == "invoke") {
      const sim::OpId id =
          world_.history().invoke(node_.id(), node_.name(), a.value("object", ""),
                                  a.value("key", ""), a.value("kind", ""), a.value("input", ""));
      reply.json = nlohmann::json{{"id", id}}.dump();
      return reply;
    }
    if (r.method == "complete") {
      const sim::OpId id = a.value("id", sim::OpId{0});
      if (id == 0 || id > world_.history().ops().size() ||
          world_.history().op(id).status != sim::OpStatus::kPending) {
        return js::CallReply::failure("Error",
                                      "ctx.op: no pending operation " + std::to_string(id));
      }
      const std::string status = a.value("status", "unknown");
      world_.history().complete(id,
                                status == "ok"     ? sim::OpStatus::kOk
                                : status == "fail" ? sim::OpStatus::kFail
                                                   : sim::OpStatus::kUnknown,
                                a.value("output", ""));
      return reply;
    }
    return js::CallReply::failure("Error", "no such method " + r.method);
  }

 private:
  sim::World& world_;
  sim::Node& node_;
  runtime::ClientSockets sockets_;
};

class FolderRun final : public ScenarioRun {
 public:
  FolderRun(std::shared_ptr<const spec::LoadedScenario> s, Knobs knobs)
      : s_(std::move(s)), knobs_(std::move(knobs)) {}
  ~FolderRun() override {
    // Workers and instances before the services they call.
    script_clients_.clear();
    pops_.clear();
    do_hosts_.clear();
  }

  void build(sim::World& world) override;
  std::vector<PropertyResult> check(sim::World& world, const props::History& history) override;
  std::map<std::string, std::uint64_t> stats(sim::World& world) override;

 private:
  struct PopEntry {
    sim::Node* node = nullptr;
    std::unique_ptr<runtime::Pop> pop;
  };
  runtime::WorkerConfig worker_config(const spec::WorkerSpec& w, runtime::Services* services) const;
  runtime::Services* services_for(sim::World& world, sim::Node& node);
  void serve_pop(sim::World& world, PopEntry& entry);
  void start_load(sim::World& world, const spec::LoadSpec& load);
  void start_client_script(sim::World& world, const spec::ClientScriptSpec& script);
  sim::NodeId pop_for(const spec::ClientPlacement& p, int index, const sim::Node& client) const;
  void run_client(sim::Task& task, sim::World& world, const spec::LoadSpec& load, int index,
                  sim::NodeId pop);

  std::shared_ptr<const spec::LoadedScenario> s_;
  Knobs knobs_;
  std::unique_ptr<services::DoCluster> cluster_;
  std::unique_ptr<services::KvService> kv_;
  std::unique_ptr<runtime::Origins> origins_;
  std::vector<std::unique_ptr<runtime::Origin>> origin_servers_;
  std::map<std::string, std::string> do_classes_;   // binding -> class (all Workers' bindings)
  std::map<std::string, std::string> kv_bindings_;  // binding -> namespace id
  std::map<sim::NodeId, std::unique_ptr<runtime::BindingServices>> services_;
  std::vector<std::unique_ptr<runtime::DoHost>> do_hosts_;
  std::vector<PopEntry> pops_;
  struct ScriptClient {
    std::unique_ptr<ClientRecorder> recorder;
    std::unique_ptr<runtime::Origins> origins;
    std::unique_ptr<runtime::Worker> worker;
  };
  std::vector<ScriptClient> script_clients_;
  std::map<int, std::uint64_t> statuses_;  // HTTP status (0: no response) -> count
  std::uint64_t requests_ = 0;
};

runtime::WorkerConfig FolderRun::worker_config(const spec::WorkerSpec& w,
                                               runtime::Services* services) const {
  runtime::WorkerConfig c;
  c.name = w.name;
  c.modules = s_->files;
  c.main = w.main;
  for (const auto& [name, var] : w.config.vars) {
    c.env[name] = var.json ? js::BindingValue::json(var.value) : js::BindingValue::text(var.value);
  }
  if (services != nullptr) {
    // This Worker's own bindings only.
    std::map<std::string, std::string> dos;
    std::map<std::string, std::string> kvs;
    for (const auto& b : w.config.durable_objects) dos[b.name] = b.class_name;
    for (const auto& k : w.config.kv_namespaces) kvs[k.binding] = k.id;
    runtime::BindingServices view(dos, kvs, {});
    for (auto& [name, value] : view.env()) c.env[name] = value;
    c.services = services;
  }
  c.origins = origins_.get();
  if (w.config.cpu_ms.has_value()) c.isolate.cpu_max = *w.config.cpu_ms * sim::kMillisecond;
  return c;
}

runtime::Services* FolderRun::services_for(sim::World& world, sim::Node& node) {
  auto it = services_.find(node.id());
  if (it != services_.end()) return it->second.get();
  runtime::BindingRoutes routes;
  if (cluster_ != nullptr) routes.objects = runtime::do_route(*cluster_);
  if (kv_ != nullptr) {
    services::KvClient* client = &kv_->attach(node);
    routes.kv = [client](sim::Task& task, const std::string& ns, const js::CallRequest& call) {
      return runtime::kv_call(task, *client, ns, call);
    };
  }
  auto services = std::make_unique<runtime::BindingServices>(do_classes_, kv_bindings_, routes);
  runtime::Services* raw = services.get();
  services_.emplace(node.id(), std::move(services));
  return raw;
}

void FolderRun::build(sim::World& world) {
  js::Engine::init();
  const spec::Topology& t = s_->topology;
  for (const spec::WorkerSpec& w : s_->workers) {
    for (const auto& b : w.config.durable_objects) do_classes_[b.name] = b.class_name;
    for (const auto& k : w.config.kv_namespaces) kv_bindings_[k.binding] = k.id;
  }
  origins_ = std::make_unique<runtime::Origins>(world);
  for (const spec::OriginSpec& o : t.origins) {
    sim::Node& node = world.add_node(o.name, o.location);
    std::vector<runtime::StaticRoute> routes;
    for (const spec::StaticResponse& r : o.responses) {
      runtime::StaticRoute route;
      route.path_prefix = r.path.ends_with("*") ? r.path.substr(0, r.path.size() - 1) : r.path;
      route.method = r.method;
      route.response.status = r.status;
      route.response.body = r.body;
      route.response.headers = r.headers;
      route.delay = r.delay;
      routes.push_back(std::move(route));
    }
    origin_servers_.push_back(runtime::Origin::serve_static(world, node, std::move(routes)));
    origins_->add(o.hostname, *origin_servers_.back());
  }
  for (const spec::NodeSpec& p : t.pops) {
    PopEntry e;
    e.node = &world.add_node(p.name, p.location);
    pops_.push_back(std::move(e));
  }
  if (!do_classes_.empty()) {
    cluster_ = std::make_unique<services::DoCluster>(world, knobs_.cluster);
    std::vector<spec::NodeSpec> storage = t.do_storage;
    std::vector<spec::NodeSpec> hosts = t.do_hosts;
    if (storage.empty()) {
      for (const char* loc : {"fra", "ams", "ord"})
        storage.push_back({std::string("do-store-") + loc, loc});
    }
    if (hosts.empty()) {
      for (const spec::NodeSpec& p : t.pops) hosts.push_back({"do-host-" + p.location, p.location});
    }
    cluster_->add_directory(world.add_node("do-dir", storage.front().location));
    for (const spec::NodeSpec& n : storage)
      cluster_->add_storage(world.add_node(n.name, n.location));
    std::vector<sim::Node*> host_nodes;
    for (const spec::NodeSpec& n : hosts) host_nodes.push_back(&world.add_node(n.name, n.location));
    if (!t.kv_stores.empty()) {
      knobs_.kv.central_locations.clear();
      for (const spec::NodeSpec& n : t.kv_stores) knobs_.kv.central_locations.push_back(n.location);
    }
    if (!kv_bindings_.empty()) kv_ = std::make_unique<services::KvService>(world, knobs_.kv);
    for (sim::Node* h : host_nodes) {
      runtime::DoHostConfig hc;
      hc.output_gate = knobs_.output_gate;
      runtime::Services* services = services_for(world, *h);
      for (const spec::WorkerSpec& w : s_->workers) {
        for (const auto& b : w.config.durable_objects) {
          const spec::WorkerSpec* script =
              b.script_name.empty() ? &w : s_->find_worker(b.script_name);
          if (script == nullptr) script = &w;
          hc.classes[b.class_name] = worker_config(*script, services);
        }
      }
      do_hosts_.push_back(std::make_unique<runtime::DoHost>(world, *h, std::move(hc)));
      cluster_->add_host(*h, *do_hosts_.back());
    }
  } else if (!kv_bindings_.empty()) {
    if (!t.kv_stores.empty()) {
      knobs_.kv.central_locations.clear();
      for (const spec::NodeSpec& n : t.kv_stores) knobs_.kv.central_locations.push_back(n.location);
    }
    kv_ = std::make_unique<services::KvService>(world, knobs_.kv);
  }
  for (PopEntry& e : pops_) {
    e.pop = std::make_unique<runtime::Pop>(world, *e.node);
    runtime::Services* services = services_for(world, *e.node);
    for (const spec::WorkerSpec& w : s_->workers) e.pop->deploy(worker_config(w, services));
    serve_pop(world, e);
  }
  for (const spec::LoadSpec& load : s_->loads) start_load(world, load);
  for (const spec::ClientScriptSpec& c : s_->client_scripts) start_client_script(world, c);
}

sim::NodeId FolderRun::pop_for(const spec::ClientPlacement& p, int index,
                               const sim::Node& client) const {
  sim::NodeId pop = sim::kNoNode;
  if (!p.pops.empty()) {
    const std::string& name = p.pops[static_cast<std::size_t>(index) % p.pops.size()];
    for (const PopEntry& e : pops_) {
      if (e.node->name() == name) pop = e.node->id();
    }
    return pop;
  }
  double best = 0;
  for (const PopEntry& e : pops_) {
    const double d = sim::distance_km(client.location(), e.node->location());
    if (pop == sim::kNoNode || d < best) {
      best = d;
      pop = e.node->id();
    }
  }
  return pop;
}

void FolderRun::start_client_script(sim::World& world, const spec::ClientScriptSpec& c) {
  const spec::ClientPlacement& p = c.placement;
  const spec::WorkerSpec* target = s_->find_worker(p.worker);
  if (target == nullptr) target = &s_->workers.front();
  const std::string hostname = target->hostnames.empty() ? "app.test" : target->hostnames.front();
  nlohmann::json params = nlohmann::json::object();
  for (const auto& [k, v] : c.params) params[k] = v;
  const sim::Time stop = p.stop > 0 ? p.stop : s_->duration;
  for (int i = 0; i < p.clients; ++i) {
    const std::string& location = p.locations[static_cast<std::size_t>(i) % p.locations.size()];
    sim::Node& node = world.add_node(c.name + "-" + std::to_string(i + 1), location);
    node.set_faultable(false);
    ScriptClient sc;
    sc.recorder = std::make_unique<ClientRecorder>(world, node);
    sc.origins = std::make_unique<runtime::Origins>(world);
    const sim::NodeId pop = pop_for(p, i, node);
    for (const spec::WorkerSpec& w : s_->workers) {
      for (const std::string& h : w.hostnames) sc.origins->add(h, pop);
    }
    sc.origins->add(hostname, pop);
    runtime::WorkerConfig wc;
    wc.name = node.name();
    wc.modules = s_->files;
    wc.modules[kClientWrapperPath] = client_wrapper(c.script);
    wc.main = kClientWrapperPath;
    wc.env["CLIENT"] = js::BindingValue::service(R"({"type":"client"})");
    wc.env["CLIENT_INDEX"] = js::BindingValue::json(std::to_string(i));
    wc.env["PARAMS"] = js::BindingValue::json(params.dump());
    wc.env["SCRIPT"] = js::BindingValue::text(c.name);
    wc.env["BASE_URL"] = js::BindingValue::text("https://" + hostname + "/");
    wc.env["STOP_AT_MS"] = js::BindingValue::json(std::to_string(
        static_cast<std::int64_t>(js::kUnixMsAtTimeZero) + stop / sim::kMillisecond));
    wc.services = sc.recorder.get();
    wc.origins = sc.origins.get();
    wc.response_timeout = s_->duration;
    wc.wait_until_max = 0;
    wc.isolate.cpu_max = sim::kSecond;
    sc.worker = std::make_unique<runtime::Worker>(world, node, std::move(wc));
    runtime::Worker* worker = sc.worker.get();
    runtime::ClientSockets* sockets = &sc.recorder->sockets();
    const sim::Time start = p.start;
    node.on_boot([&world, worker, sockets, start](sim::Node& n) {
      if (n.incarnation() > 1) return;
      sockets->boot();
      world.spawn(n, n.name(), [worker, start](sim::Task& task) {
        if (start > task.now()) task.sleep_until(start);
        (void)worker->scheduled(task, "client", task.now());
      });
    });
    script_clients_.push_back(std::move(sc));
  }
}

// A PoP serves HTTP like an origin does (runtime::kOriginService), so load clients and client
// scripts (through fetch() and an Origins registry) reach it alike. The Worker is the one whose
// hostname the request names (else the entry Worker).
void FolderRun::serve_pop(sim::World& world, PopEntry& entry) {
  runtime::Pop* pop = entry.pop.get();
  std::map<std::string, std::string> by_host;
  for (const spec::WorkerSpec& w : s_->workers) {
    for (const std::string& h : w.hostnames) by_host.emplace(h, w.name);
  }
  const std::string entry_worker = s_->workers.front().name;
  entry.node->on_boot([&world, pop, by_host, entry_worker](sim::Node& node) {
    world.rpc().serve(
        node, runtime::kOriginService,
        [pop, by_host, entry_worker](sim::Task& task, sim::NodeId,
                                     std::string_view bytes) -> sim::Result<std::string> {
          sim::Result<runtime::HttpRequest> r = runtime::decode_request(bytes);
          if (!r.ok()) return r.error();
          std::string worker = entry_worker;
          const std::string& url = r->url;
          const std::size_t host_at = url.find("://");
          if (host_at != std::string::npos) {
            const std::size_t end = url.find_first_of(":/?#", host_at + 3);
            auto it = by_host.find(url.substr(
                host_at + 3, end == std::string::npos ? std::string::npos : end - host_at - 3));
            if (it != by_host.end()) worker = it->second;
          }
          sim::Result<runtime::HttpResponse> response = pop->fetch(task, worker, std::move(*r));
          if (!response.ok()) return response.error();
          return runtime::encode_response(response.value());
        },
        // HTTP runs over a connection: a duplicated datagram is not a second request.
        sim::Rpc::Delivery::kAtMostOnce);
  });
}

void FolderRun::start_load(sim::World& world, const spec::LoadSpec& load) {
  const spec::ClientPlacement& p = load.placement;
  for (int i = 0; i < p.clients; ++i) {
    const std::string& location = p.locations[static_cast<std::size_t>(i) % p.locations.size()];
    sim::Node& node = world.add_node(load.name + "-" + std::to_string(i + 1), location);
    node.set_faultable(false);  // clients observe; the platform fails
    const sim::NodeId pop = pop_for(p, i, node);
    const spec::LoadSpec* l = &load;
    node.on_boot([this, &world, l, i, pop](sim::Node& n) {
      if (n.incarnation() > 1) return;  // a client does not come back after a crash
      world.spawn(n, n.name(), [this, &world, l, i, pop](sim::Task& task) {
        run_client(task, world, *l, i, pop);
      });
    });
  }
}

void FolderRun::run_client(sim::Task& task, sim::World& world, const spec::LoadSpec& load,
                           int index, sim::NodeId pop) {
  const spec::ClientPlacement& p = load.placement;
  const sim::Time stop = p.stop > 0 ? p.stop : s_->duration;
  sim::Rng rng = world.rng("client/" + task.node().name());
  std::uint32_t total_weight = 0;
  for (const auto& r : load.requests) total_weight += r.weight;
  if (p.start > task.now()) task.sleep_until(p.start);
  const std::string hostname =
      s_->workers.front().hostnames.empty() ? "app.test" : s_->workers.front().hostnames.front();
  for (std::uint64_t seq = 0; task.now() < stop; ++seq) {
    if (load.requests_max > 0 && seq >= load.requests_max) break;
    if (total_weight == 0) break;
    std::uint32_t pick = static_cast<std::uint32_t>(rng.uniform_int(0, total_weight - 1));
    const spec::RequestSpec* chosen = &load.requests.front();
    for (const auto& r : load.requests) {
      if (pick < r.weight) {
        chosen = &r;
        break;
      }
      pick -= r.weight;
    }
    spec::TemplateContext ctx;
    ctx.client = index;
    ctx.seq = seq;
    ctx.rng = &rng;
    struct {
      runtime::HttpRequest request;
    } request;
    request.request.method = chosen->method;
    std::string url = chosen->url.expand(ctx);
    if (!url.starts_with("http://") && !url.starts_with("https://")) {
      url = "https://" + hostname + url;
    }
    request.request.url = url;
    request.request.body = chosen->body.expand(ctx);
    for (const auto& [name, value] : chosen->headers) {
      request.request.headers.emplace_back(name, value.expand(ctx));
    }
    sim::OpId op = 0;
    if (chosen->record.has_value()) {
      spec::TemplateContext rc = ctx;
      rc.method = request.request.method;
      rc.url = url;
      rc.headers = request.request.headers;
      rc.body = request.request.body;
      const spec::RecordSpec& rec = *chosen->record;
      op = world.history().invoke(task.node().id(), task.node().name(), rec.object.expand(rc),
                                  rec.key.expand(rc), rec.kind, rec.input.expand(rc));
    }
    ++requests_;
    sim::Result<std::string> reply = world.rpc().call(
        task, pop, runtime::kOriginService, runtime::encode_request(request.request), load.timeout);
    int status = 0;
    runtime::HttpResponse response;
    if (reply.ok()) {
      sim::Result<runtime::HttpResponse> decoded = runtime::decode_response(reply.value());
      if (decoded.ok()) {
        response = std::move(decoded.value());
        status = response.status;
      }
    }
    ++statuses_[status];
    world.emit(task.node().id(), [&](sim::ev::Body& b) {
      b.mutable_load_response()->set_load(load.name);
      b.mutable_load_response()->set_status(status);
    });
    if (op != 0) {
      const spec::RecordSpec& rec = *chosen->record;
      const bool refused = !reply.ok() && reply.error().kind == sim::ErrorKind::kUnreachable;
      if (refused || (status != 0 && std::find(rec.fail_status.begin(), rec.fail_status.end(),
                                               status) != rec.fail_status.end())) {
        world.history().complete(op, sim::OpStatus::kFail, std::to_string(status));
      } else if (status >= 200 && status < 300) {
        std::string output;
        switch (rec.output) {
          case spec::RecordSpec::Output::kBody:
            output = response.body;
            break;
          case spec::RecordSpec::Output::kStatus:
            output = std::to_string(status);
            break;
          case spec::RecordSpec::Output::kNone:
            break;
          case spec::RecordSpec::Output::kJsonPointer:
            output = json_pointer(response.body, rec.output_arg);
            break;
          case spec::RecordSpec::Output::kHeader:
            output = response.header(rec.output_arg);
            break;
        }
        world.history().complete(op, sim::OpStatus::kOk, std::move(output));
      } else {
        world.history().complete(op, sim::OpStatus::kUnknown, std::to_string(status));
      }
    }
    if (load.rate > 0) {
      // Poisson arrivals at `rate` per client.
      const double gap_s = -std::log(1.0 - rng.uniform01() * 0.999999) / load.rate;
      task.sleep(static_cast<sim::Duration>(gap_s * static_cast<double>(sim::kSecond)));
    } else if (load.think_time > 0) {
      task.sleep(load.think_time);
    }
  }
}

std::vector<PropertyResult> FolderRun::check(sim::World&, const props::History& history) {
  return check_properties(*s_, history);
}

std::map<std::string, std::uint64_t> FolderRun::stats(sim::World& world) {
  std::map<std::string, std::uint64_t> s;
  s["requests"] = requests_;
  for (const auto& [status, n] : statuses_) {
    s[status == 0 ? "responses_none" : "responses_" + std::to_string(status / 100) + "xx"] += n;
  }
  s["ops"] = world.history().ops().size();
  if (cluster_ != nullptr) {
    s["do_activations"] = cluster_->stats().activations;
    s["do_commits"] = cluster_->stats().commits;
    std::uint64_t hibernations = 0;
    for (const auto& h : do_hosts_) hibernations += h->hibernations();
    if (hibernations > 0) s["do_hibernations"] = hibernations;
  }
  return s;
}

std::string json_pointer(const std::string& body, const std::string& pointer) {
  const nlohmann::json doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return "";
  try {
    const nlohmann::json& v = doc.at(nlohmann::json::json_pointer(pointer));
    return v.is_string() ? v.get<std::string>() : v.dump();
  } catch (const nlohmann::json::exception&) {
    return "";
  }
}

}  // namespace

// Loads every Worker's modules once in a scratch isolate, so that a syntax error or a missing
// import is bad input (exit 2, naming the file and line) rather than 503s in the middle of a run.
sim::Status check_workers_load(const spec::LoadedScenario& s) {
  js::Engine::init();
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
      {"queues", "Queues are not simulated by this build of edgesim"},
      {"d1_databases", "D1 is not simulated by this build of edgesim"},
      {"r2_buckets", "R2 is not simulated by this build of edgesim"},
      {"workflows", "Workflows are not simulated by this build of edgesim"},
      {"triggers.crons", "Cron Triggers are not simulated by this build of edgesim"},
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
  for (const spec::PropertySpec& p : s.properties) {
    if (p.checker == spec::Checker::kQueueDelivery || p.checker == spec::Checker::kWorkflowReplay) {
      refuse(p.where, "property \"" + p.name + "\" checker",
             std::string(spec::checker_name(p.checker)) +
                 " has nothing to check: this build of edgesim simulates no " +
                 (p.checker == spec::Checker::kQueueDelivery ? "queues" : "workflows"));
    }
  }
  if (errors.empty()) return sim::Status::Ok();
  return sim::Error{sim::ErrorKind::kInvalid, errors};
}

sim::Result<ScenarioInfo> folder_scenario(std::shared_ptr<const spec::LoadedScenario> loaded) {
  if (sim::Status s = check_supported(*loaded); !s.ok()) return s.error();
  Knobs knobs;
  sim::Status s = parse_knobs(loaded->knobs, &knobs);
  if (!s.ok()) {
    return sim::Error{sim::ErrorKind::kInvalid, loaded->source + ": " + s.error().message};
  }
  s = check_workers_load(*loaded);
  if (!s.ok()) return s.error();
  ScenarioInfo info;
  info.name = loaded->qualified_name();
  info.summary = loaded->summary;
  info.expected = loaded->expected;
  info.duration = loaded->duration;
  info.quiet_after = loaded->quiet_after;
  info.checks_from_history = true;
  info.make = [loaded, knobs]() -> std::unique_ptr<ScenarioRun> {
    return std::make_unique<FolderRun>(loaded, knobs);
  };
  return info;
}

}  // namespace scenarios
