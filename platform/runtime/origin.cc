#include "platform/runtime/origin.h"

#include <cstring>
#include <utility>

#include "sim/events.h"
#include "sim/network.h"
#include "sim/node.h"
#include "sim/rpc.h"
#include "sim/task.h"
#include "sim/wire.h"

namespace runtime {

namespace {

sim::Error malformed(const char* what) {
  return sim::Error{sim::ErrorKind::kInvalid, std::string("malformed HTTP ") + what};
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// The path and query of an absolute URL: "https://a.test/x?y#z" -> "/x?y".
std::string url_path(std::string_view url) {
  const std::size_t scheme = url.find("://");
  std::size_t start = scheme == std::string_view::npos ? 0 : scheme + 3;
  const std::size_t slash = url.find_first_of("/?#", start);
  if (slash == std::string_view::npos) return "/";
  std::string_view rest = url.substr(slash);
  rest = rest.substr(0, rest.find('#'));
  if (rest.empty() || rest[0] != '/') return "/" + std::string(rest);
  return std::string(rest);
}

HttpResponse not_found() {
  HttpResponse r;
  r.status = 404;
  r.headers.emplace_back("content-type", "text/plain;charset=UTF-8");
  r.body = "Not Found";
  return r;
}

}  // namespace

sim::Result<HttpResponse> http_call(sim::Task& task, sim::NodeId server, const HttpRequest& request,
                                    sim::Duration timeout) {
  sim::Result<std::string> reply =
      task.world().rpc().call(task, server, kOriginService, encode_request(request), timeout);
  if (!reply.ok()) return reply.error();
  return decode_response(reply.value());
}

std::string encode_request(const HttpRequest& request) {
  return sim::WireWriter()
      .str(request.method)
      .str(request.url)
      .pairs(request.headers)
      .str(request.body)
      .take();
}

sim::Result<HttpRequest> decode_request(std::string_view bytes) {
  sim::WireReader in(bytes);
  HttpRequest r;
  r.method = in.str();
  r.url = in.str();
  r.headers = in.pairs();
  r.body = in.str();
  if (!in.done()) return malformed("request");
  return r;
}

std::string encode_response(const HttpResponse& response) {
  return sim::WireWriter()
      .u32(static_cast<std::uint32_t>(response.status))
      .pairs(response.headers)
      .str(response.body)
      .str(response.error)
      .take();
}

sim::Result<HttpResponse> decode_response(std::string_view bytes) {
  sim::WireReader in(bytes);
  HttpResponse r;
  r.status = static_cast<int>(in.u32());
  r.headers = in.pairs();
  r.body = in.str();
  r.error = in.str();
  if (!in.done()) return malformed("response");
  return r;
}

std::string url_host(std::string_view url) {
  const std::size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return "";
  std::string_view authority = url.substr(scheme + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  const std::size_t at = authority.rfind('@');
  if (at != std::string_view::npos) authority.remove_prefix(at + 1);
  const std::size_t bracket = authority.rfind(']');
  const std::size_t colon = authority.rfind(':');
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    authority = authority.substr(0, colon);
  }
  return lower(authority);
}

// ---- Origin
// --------------------------------------------------------------------------------------

struct Origin::State {
  sim::World& world;
  sim::Node& node;
  std::vector<StaticRoute> routes;
  std::unique_ptr<Worker> worker;  // serve_worker()
  std::uint64_t served = 0;

  State(sim::World& w, sim::Node& n) : world(w), node(n) {}

  // On a task of the origin node (an RPC handler): may suspend.
  HttpResponse serve(sim::Task& task, const HttpRequest& request) {
    if (worker != nullptr) {
      sim::Result<HttpResponse> r = worker->fetch(task, request);
      if (r.ok()) return std::move(r.value());
      HttpResponse failed;
      failed.status = 502;
      failed.body = r.error().message;
      failed.error = r.error().message;
      return failed;
    }
    const std::string path = url_path(request.url);
    const StaticRoute* best = nullptr;
    for (const StaticRoute& route : routes) {
      if (!route.method.empty() && route.method != request.method) continue;
      if (!path.starts_with(route.path_prefix)) continue;
      if (best == nullptr || route.path_prefix.size() > best->path_prefix.size()) best = &route;
    }
    if (best == nullptr) return not_found();
    if (best->delay > 0) task.sleep(best->delay);
    return best->response;
  }
};

namespace {

// Serves kOriginService on the state's node, now and after every restart.
void start_serving(const std::shared_ptr<Origin::State>& state) {
  std::weak_ptr<Origin::State> weak = state;
  auto listen = [weak](sim::Node& node) {
    node.world().rpc().serve(
        node, kOriginService,
        [weak](sim::Task& task, sim::NodeId, std::string_view payload) -> sim::Result<std::string> {
          std::shared_ptr<Origin::State> s = weak.lock();
          if (s == nullptr) return sim::Error{sim::ErrorKind::kUnreachable, "origin is gone"};
          sim::Result<HttpRequest> request = decode_request(payload);
          if (!request.ok()) return request.error();
          HttpResponse response = s->serve(task, request.value());
          ++s->served;
          return encode_response(response);
        });
  };
  state->node.on_boot(listen);
  if (state->node.up()) listen(state->node);
}

}  // namespace

Origin::Origin(std::shared_ptr<State> state) : state_(std::move(state)) {}

Origin::~Origin() {
  state_->node.on_boot({});
  sim::Network& net = state_->world.net();
  net.unlisten(state_->node.id(), net.port("rpc:" + std::string(kOriginService)));
}

std::unique_ptr<Origin> Origin::serve_static(sim::World& world, sim::Node& node,
                                             std::vector<StaticRoute> routes) {
  auto state = std::make_shared<State>(world, node);
  state->routes = std::move(routes);
  start_serving(state);
  return std::unique_ptr<Origin>(new Origin(std::move(state)));
}

std::unique_ptr<Origin> Origin::serve_worker(sim::World& world, sim::Node& node,
                                             WorkerConfig config) {
  auto state = std::make_shared<State>(world, node);
  state->worker = std::make_unique<Worker>(world, node, std::move(config));
  start_serving(state);
  return std::unique_ptr<Origin>(new Origin(std::move(state)));
}

sim::Node& Origin::node() const { return state_->node; }
std::uint64_t Origin::requests_served() const { return state_->served; }
Worker* Origin::worker() const { return state_->worker.get(); }

// ---- Origins
// -------------------------------------------------------------------------------------

const sim::Knobs<OriginsConfig>& OriginsConfig::knobs() {
  static const auto* table =
      &(*new sim::Knobs<OriginsConfig>())
           .duration(
               "timeout", &OriginsConfig::timeout,
               "how long an outbound fetch() waits for an origin (Cloudflare: 100s, then 524)",
               sim::kMillisecond);
  return *table;
}

Origins::Origins(sim::World& world, OriginsConfig config) : world_(world), config_(config) {}

void Origins::add(std::string_view host, sim::NodeId node) { hosts_[lower(host)] = node; }

std::optional<sim::NodeId> Origins::find(std::string_view host) const {
  auto it = hosts_.find(lower(host));
  if (it == hosts_.end()) return std::nullopt;
  return it->second;
}

sim::Result<HttpResponse> Origins::fetch(sim::Task& task, HttpRequest request,
                                         std::string_view who) {
  const sim::NodeId from = task.node().id();
  const std::string what = request.method + " " + request.url;
  auto done = [&](int status, const std::string& error) {
    world_.emit(from, [&](sim::ev::Body& b) {
      auto& e = *b.mutable_fetch_done();
      e.set_worker(std::string(who));
      e.set_request(what);
      e.set_status(status);
      e.set_error(error);
    });
  };
  const std::string host = url_host(request.url);
  const std::optional<sim::NodeId> dst = find(host);
  world_.emit(from, [&](sim::ev::Body& b) {
    auto& e = *b.mutable_fetch_start();
    e.set_worker(std::string(who));
    e.set_request(what);
    e.set_origin(dst ? *dst : sim::kNoNode);
  });
  if (!dst) {
    sim::Error e{
        sim::ErrorKind::kInvalid,
        "Network connection lost. (DNS lookup failed: no origin for host \"" + host + "\")"};
    done(0, e.message);
    return e;
  }
  sim::Result<std::string> reply =
      world_.rpc().call(task, *dst, kOriginService, encode_request(request), config_.timeout);
  if (!reply.ok()) {
    const sim::Error& err = reply.error();
    sim::Error e{err.kind == sim::ErrorKind::kTimeout ? sim::ErrorKind::kTimeout
                                                      : sim::ErrorKind::kUnreachable,
                 "Network connection lost."};
    if (err.kind == sim::ErrorKind::kTimeout) {
      e.message +=
          " (no response from " + host + " within " + sim::format_duration(config_.timeout) + ")";
    } else if (err.kind == sim::ErrorKind::kUnreachable) {
      e.message += " (" + host + " refused the connection: its node is down)";
    } else {
      e.message += " (" + err.message + ")";
    }
    done(0, e.message);
    return e;
  }
  sim::Result<HttpResponse> response = decode_response(reply.value());
  if (!response.ok()) {
    done(0, response.error().message);
    return sim::Error{sim::ErrorKind::kRemote,
                      "Network connection lost. (" + response.error().message + ")"};
  }
  done(response->status, "");
  return response;
}

}  // namespace runtime
