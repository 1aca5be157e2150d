#include "scenarios/clients.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <utility>

#include "platform/bindings/binding_table.h"
#include "platform/objects/websockets.h"
#include "platform/runtime/origin.h"
#include "sim/events.h"
#include "sim/history.h"
#include "sim/location.h"
#include "sim/node.h"
#include "sim/task.h"

namespace scenarios {

namespace {

// The JSON pointer's value in `body` as text ("" when absent).
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

// The module that runs a client script: its default export gets the `ctx` of scenario.proto
// (ClientScript) and runs as a scheduled() event of a Worker on the client node.
std::string client_wrapper(const std::string& script) {
  return R"js(import run from "./)js" + script + R"js(";
const FAIL = Symbol("fail");
export default {
  async scheduled(controller, env) {
    const client = env.CLIENT;  // a service binding (bindings/service_binding.js)
    const rec = {
      invoke: (kind, object, key, input) =>
          client.callSync("invoke", {kind, object, key, input})[0].id,
      complete: (id, status, output) => { client.callSync("complete", {id, status, output}); },
      ws: (method, args, bytes) => client.call(method, args, bytes),
    };
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

// The service behind a client script's env.CLIENT (a "service" binding): ctx.op and ctx.event
// record into the World's history (callSync: invoke, complete), ctx.websocket drives the client
// node's WebSockets (call: wsOpen, wsSend, wsReceive, wsClose).
class ClientBinding final : public bindings::Binding {
 public:
  ClientBinding(sim::World& world, sim::Node& node)
      : world_(world), node_(node), sockets_(world, node) {}
  objects::ClientSockets& sockets() { return sockets_; }
  std::string type() const override { return "service"; }
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
      objects::ClientSockets::Received m =
          sockets_.receive(task, id, static_cast<sim::Duration>(ms * sim::kMillisecond));
      using K = objects::ClientSockets::Received::Kind;
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
  objects::ClientSockets sockets_;
};

}  // namespace

sim::NodeId pop_for(const spec::ClientPlacement& p, int index, const sim::Node& client,
                    const platform::Deployment& deployment) {
  if (!p.pops.empty()) {
    return deployment.pop_named(p.pops[static_cast<std::size_t>(index) % p.pops.size()]);
  }
  return deployment.nearest_pop(client.location());
}

// ---- LoadClients -----------------------------------------------------------------------------

LoadClients::LoadClients(sim::World& world, const spec::LoadedScenario& s,
                         const spec::LoadSpec& load, const platform::Deployment& deployment)
    : world_(world), s_(s), load_(load), hostname_(deployment.default_hostname()) {
  const spec::ClientPlacement& p = load.placement;
  for (int i = 0; i < p.clients; ++i) {
    const std::string& location = p.locations[static_cast<std::size_t>(i) % p.locations.size()];
    sim::Node& node = world.add_node(load.name + "-" + std::to_string(i + 1), location);
    node.set_faultable(false);  // clients observe; the platform fails
    const sim::NodeId pop = pop_for(p, i, node, deployment);
    node.on_boot([this, i, pop](sim::Node& n) {
      if (n.incarnation() > 1) return;  // a client does not come back after a crash
      world_.spawn(n, n.name(), [this, i, pop](sim::Task& task) { run(task, i, pop); });
    });
  }
}

void LoadClients::run(sim::Task& task, int index, sim::NodeId pop) {
  const spec::ClientPlacement& p = load_.placement;
  const sim::Time stop = p.stop > 0 ? p.stop : s_.duration;
  sim::Rng rng = world_.rng("client/" + task.node().name());
  std::uint32_t total_weight = 0;
  for (const auto& r : load_.requests) total_weight += r.weight;
  if (p.start > task.now()) task.sleep_until(p.start);
  for (std::uint64_t seq = 0; task.now() < stop; ++seq) {
    if (load_.requests_max > 0 && seq >= load_.requests_max) break;
    if (total_weight == 0) break;
    std::uint32_t pick = static_cast<std::uint32_t>(rng.uniform_int(0, total_weight - 1));
    const spec::RequestSpec* chosen = &load_.requests.front();
    for (const auto& r : load_.requests) {
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
    request(task, *chosen, ctx, pop);
    if (load_.rate > 0) {
      // Poisson arrivals at `rate` per client.
      const double gap_s = -std::log(1.0 - rng.uniform01() * 0.999999) / load_.rate;
      task.sleep(static_cast<sim::Duration>(gap_s * static_cast<double>(sim::kSecond)));
    } else if (load_.think_time > 0) {
      task.sleep(load_.think_time);
    }
  }
}

void LoadClients::request(sim::Task& task, const spec::RequestSpec& r, spec::TemplateContext& ctx,
                          sim::NodeId pop) {
  runtime::HttpRequest request;
  request.method = r.method;
  std::string url = r.url.expand(ctx);
  if (!url.starts_with("http://") && !url.starts_with("https://")) {
    url = "https://" + hostname_ + url;
  }
  request.url = url;
  request.body = r.body.expand(ctx);
  for (const auto& [name, value] : r.headers) {
    request.headers.emplace_back(name, value.expand(ctx));
  }
  sim::OpId op = 0;
  if (r.record.has_value()) {
    spec::TemplateContext rc = ctx;
    rc.method = request.method;
    rc.url = url;
    rc.headers = request.headers;
    rc.body = request.body;
    const spec::RecordSpec& rec = *r.record;
    op = world_.history().invoke(task.node().id(), task.node().name(), rec.object.expand(rc),
                                 rec.key.expand(rc), rec.kind, rec.input.expand(rc));
  }
  ++requests_;
  sim::Result<runtime::HttpResponse> reply = runtime::http_call(task, pop, request, load_.timeout);
  int status = 0;
  runtime::HttpResponse response;
  if (reply.ok()) {
    response = std::move(reply.value());
    status = response.status;
  }
  ++statuses_[status];
  world_.emit(task.node().id(), [&](sim::ev::Body& b) {
    b.mutable_load_response()->set_load(load_.name);
    b.mutable_load_response()->set_status(status);
  });
  if (op != 0) {
    const spec::RecordSpec& rec = *r.record;
    const bool refused = !reply.ok() && reply.error().kind == sim::ErrorKind::kUnreachable;
    if (refused || (status != 0 && std::find(rec.fail_status.begin(), rec.fail_status.end(),
                                             status) != rec.fail_status.end())) {
      world_.history().complete(op, sim::OpStatus::kFail, std::to_string(status));
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
      world_.history().complete(op, sim::OpStatus::kOk, std::move(output));
    } else {
      world_.history().complete(op, sim::OpStatus::kUnknown, std::to_string(status));
    }
  }
}

// ---- ScriptClients ---------------------------------------------------------------------------

struct ScriptClients::Client {
  std::unique_ptr<bindings::BindingTable> bindings;
  ClientBinding* recorder = nullptr;
  std::unique_ptr<runtime::Origins> origins;
  std::unique_ptr<runtime::Worker> worker;
};

ScriptClients::ScriptClients(sim::World& world, const spec::LoadedScenario& s,
                             const spec::ClientScriptSpec& c,
                             const platform::Deployment& deployment) {
  const spec::ClientPlacement& p = c.placement;
  const spec::WorkerSpec* target = s.find_worker(p.worker);
  if (target == nullptr) target = &s.workers.front();
  const std::string hostname =
      target->hostnames.empty() ? deployment.default_hostname() : target->hostnames.front();
  nlohmann::json params = nlohmann::json::object();
  for (const auto& [k, v] : c.params) params[k] = v;
  const sim::Time stop = p.stop > 0 ? p.stop : s.duration;
  for (int i = 0; i < p.clients; ++i) {
    const std::string& location = p.locations[static_cast<std::size_t>(i) % p.locations.size()];
    sim::Node& node = world.add_node(c.name + "-" + std::to_string(i + 1), location);
    node.set_faultable(false);
    auto client = std::make_unique<Client>();
    client->bindings = std::make_unique<bindings::BindingTable>();
    auto recorder = std::make_unique<ClientBinding>(world, node);
    client->recorder = recorder.get();
    client->bindings->add("CLIENT", std::move(recorder));
    // The client's fetch() reaches the Workers' hosts through its PoP.
    client->origins = std::make_unique<runtime::Origins>(world);
    const sim::NodeId pop = pop_for(p, i, node, deployment);
    for (const spec::WorkerSpec& w : s.workers) {
      for (const std::string& h : w.hostnames) client->origins->add(h, pop);
    }
    client->origins->add(hostname, pop);
    runtime::WorkerConfig wc;
    wc.name = node.name();
    wc.modules = s.files;
    wc.modules[kClientWrapperPath] = client_wrapper(c.script);
    wc.main = kClientWrapperPath;
    wc.env = client->bindings->env();
    wc.env["CLIENT_INDEX"] = js::BindingValue::json(std::to_string(i));
    wc.env["PARAMS"] = js::BindingValue::json(params.dump());
    wc.env["SCRIPT"] = js::BindingValue::text(c.name);
    wc.env["BASE_URL"] = js::BindingValue::text("https://" + hostname + "/");
    wc.env["STOP_AT_MS"] = js::BindingValue::json(std::to_string(
        static_cast<std::int64_t>(js::kUnixMsAtTimeZero) + stop / sim::kMillisecond));
    wc.services = client->bindings.get();
    wc.origins = client->origins.get();
    wc.response_timeout = s.duration;
    wc.wait_until_max = 0;
    wc.isolate.cpu_max = sim::kSecond;
    client->worker = std::make_unique<runtime::Worker>(world, node, std::move(wc));
    runtime::Worker* worker = client->worker.get();
    objects::ClientSockets* sockets = &client->recorder->sockets();
    const sim::Time start = p.start;
    node.on_boot([&world, worker, sockets, start](sim::Node& n) {
      if (n.incarnation() > 1) return;
      sockets->boot();
      world.spawn(n, n.name(), [worker, start](sim::Task& task) {
        if (start > task.now()) task.sleep_until(start);
        (void)worker->scheduled(task, "client", task.now());
      });
    });
    clients_.push_back(std::move(client));
  }
}

// Workers before the bindings they call.
ScriptClients::~ScriptClients() {
  for (auto& c : clients_) c->worker.reset();
}

}  // namespace scenarios
