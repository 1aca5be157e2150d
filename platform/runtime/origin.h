// Origins: the HTTP servers outside the platform that Workers reach with fetch(). An origin is a
// node of the simulated world that serves HTTP over sim::Rpc (service kOriginService), either as
// a static responder (a table of path prefixes) or by running a Worker script of its own. The
// scenario names each origin's host in an Origins registry; a Worker's outbound fetch() looks the
// URL's host up there and calls the node over the simulated network, so latency, partitions,
// crashes and loss apply to it like to any message.
//
//   runtime::Origins origins(world);
//   runtime::StaticRoute users;
//   users.path_prefix = "/users";
//   users.response.body = "[]";
//   auto api = runtime::Origin::serve_static(world, world.add_node("api", "iad"), {users});
//   origins.add("api.example.com", *api);
//   worker_config.origins = &origins;
//
// Single-threaded. An Origin takes over its node's boot function (to serve again after a
// restart). A request to a down origin fails at once ("connection refused"); one that the origin
// was serving when it crashed, or that a partition lost, fails after OriginsConfig::timeout. JS
// sees both as TypeError "Network connection lost. (...)". Origins must outlive the Workers that
// use it.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "platform/runtime/http.h"
#include "platform/runtime/worker.h"
#include "sim/result.h"
#include "sim/world.h"

namespace runtime {

// The RPC service name an origin serves.
inline constexpr std::string_view kOriginService = "http";

// Wire format of the HTTP values between nodes: fields in order, each string as a u32
// little-endian length and its bytes. decode_* fail with kInvalid on a truncated or malformed
// message.
std::string encode_request(const HttpRequest& request);
sim::Result<HttpRequest> decode_request(std::string_view bytes);
std::string encode_response(const HttpResponse& response);
sim::Result<HttpResponse> decode_response(std::string_view bytes);
// One HTTP exchange with a node serving kOriginService (a PoP's front door, an origin): the
// request encoded, the call, the response decoded. Errors: the call's (kUnreachable, kTimeout,
// kRemote) or a malformed response. Suspends. Throws TaskCancelled.
sim::Result<HttpResponse> http_call(sim::Task& task, sim::NodeId server, const HttpRequest& request,
                                    sim::Duration timeout);

// The host of an absolute URL, lower-case, without user info and port: "https://u@A.test:8443/x"
// -> "a.test". "" when there is none.
std::string url_host(std::string_view url);

// One entry of a static origin's table.
struct StaticRoute {
  // Matches URLs whose path (with the query) starts with this.
  std::string path_prefix = "/";
  // Matches this method only; empty matches any.
  std::string method;
  HttpResponse response;
  // Virtual time the origin takes to answer.
  sim::Duration delay = 0;
};

class Origin {
 public:
  // A static responder: the matching route with the longest prefix answers (the first of equal
  // ones); no match is a 404. REQUIRES: the World and node outlive the Origin.
  static std::unique_ptr<Origin> serve_static(sim::World& world, sim::Node& node,
                                              std::vector<StaticRoute> routes);
  // A Worker script on the node answers, as it would a client. REQUIRES: js::Engine::init().
  static std::unique_ptr<Origin> serve_worker(sim::World& world, sim::Node& node,
                                              WorkerConfig config);
  ~Origin();
  Origin(const Origin&) = delete;
  Origin& operator=(const Origin&) = delete;

  sim::Node& node() const;
  // Requests answered so far (across restarts).
  std::uint64_t requests_served() const;
  // The Worker of serve_worker(), or nullptr.
  Worker* worker() const;

  struct State;

 private:
  explicit Origin(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

struct OriginsConfig {
  // How long an outbound fetch waits for the origin's reply before it fails (Cloudflare gives
  // origins 100 s, then answers 524 itself; here the fetch rejects).
  sim::Duration timeout = 100 * sim::kSecond;

  // The fields above as knobs (sim/knobs.h), listed by the platform as "fetch.<name>".
  static const sim::Knobs<OriginsConfig>& knobs();
};

class Origins {
 public:
  explicit Origins(sim::World& world, OriginsConfig config = {});

  // Routes a host name (case-insensitive, without a port) to a node. A later add() of the same
  // host replaces the earlier one.
  void add(std::string_view host, sim::NodeId node);
  void add(std::string_view host, const Origin& origin) { add(host, origin.node().id()); }
  std::optional<sim::NodeId> find(std::string_view host) const;

  // Sends `request` from the task's node to the origin of its URL's host and waits for the
  // response. `who` names the caller in the trace events fetch.start and fetch.done. Errors carry
  // the message JS sees in its TypeError: kInvalid for an unknown host, kUnreachable when the
  // origin is down or dropped the request, kTimeout after config.timeout. Throws TaskCancelled.
  sim::Result<HttpResponse> fetch(sim::Task& task, HttpRequest request, std::string_view who);

  const OriginsConfig& config() const { return config_; }

 private:
  sim::World& world_;
  OriginsConfig config_;
  std::map<std::string, sim::NodeId, std::less<>> hosts_;
};

}  // namespace runtime
