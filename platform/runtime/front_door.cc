#include "platform/runtime/front_door.h"

#include <utility>

#include "platform/runtime/origin.h"
#include "sim/rpc.h"

namespace runtime {

FrontDoor::FrontDoor(Pop& pop, std::map<std::string, std::string> routes,
                     std::string default_worker)
    : pop_(pop), default_worker_(std::move(default_worker)) {
  for (auto& [host, worker] : routes) {
    SIM_REQUIRE(pop_.has(worker));
    routes_.emplace(url_host("https://" + host + "/"), std::move(worker));
  }
  SIM_REQUIRE(pop_.has(default_worker_));
}

const std::string& FrontDoor::worker_for(std::string_view url) const {
  auto it = routes_.find(url_host(url));
  return it == routes_.end() ? default_worker_ : it->second;
}

void FrontDoor::serve() {
  sim::Node& node = pop_.node();
  node.world().rpc().serve(
      node, kOriginService,
      [this](sim::Task& task, sim::NodeId, std::string_view bytes) -> sim::Result<std::string> {
        sim::Result<HttpRequest> r = decode_request(bytes);
        if (!r.ok()) return r.error();
        const std::string& worker = worker_for(r->url);
        sim::Result<HttpResponse> response = pop_.fetch(task, worker, std::move(*r));
        if (!response.ok()) return response.error();
        return encode_response(response.value());
      },
      sim::Rpc::Delivery::kAtMostOnce);
}

}  // namespace runtime
