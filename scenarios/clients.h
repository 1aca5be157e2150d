// The clients of a scenario folder: the nodes outside the platform that drive it and record what
// they see as history operations (sim::History).
//  - LoadClients (scenario.proto, Load): a table of requests sent over the simulated network to
//    a PoP's front door, paced by a rate or a think time; a request with a `record` becomes an
//    operation: ok with the recorded output for a 2xx, fail for a status in fail_status (or a
//    refused connection), unknown otherwise (a timeout, a 5xx: it may have taken effect). Every
//    response is a load.response event (the http_status checker reads those).
//  - ScriptClients (scenario.proto, ClientScript): JS run as a Worker on the client node, with a
//    `ctx` that fetches through the client's PoP, records operations (ctx.op, ctx.event) and opens
//    WebSockets (ctx.websocket).
// Client nodes are not faultable: clients observe, the platform fails.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "platform/deployment.h"
#include "scenarios/spec/spec.h"
#include "sim/world.h"

namespace scenarios {

class LoadClients {
 public:
  // Adds the load's client nodes and their tasks. REQUIRES: before World::start(); `s` and
  // `deployment` outlive this.
  LoadClients(sim::World& world, const spec::LoadedScenario& s, const spec::LoadSpec& load,
              const platform::Deployment& deployment);

  std::uint64_t requests() const { return requests_; }
  // HTTP status (0: no response) -> responses.
  const std::map<int, std::uint64_t>& statuses() const { return statuses_; }

 private:
  void run(sim::Task& task, int index, sim::NodeId pop);
  // One request of the table: sends it, records it, waits for the answer.
  void request(sim::Task& task, const spec::RequestSpec& r, spec::TemplateContext& ctx,
               sim::NodeId pop);

  sim::World& world_;
  const spec::LoadedScenario& s_;
  const spec::LoadSpec& load_;
  std::string hostname_;
  std::uint64_t requests_ = 0;
  std::map<int, std::uint64_t> statuses_;
};

class ScriptClients {
 public:
  // Adds the script's client nodes, each with its Worker. REQUIRES: as for LoadClients.
  ScriptClients(sim::World& world, const spec::LoadedScenario& s,
                const spec::ClientScriptSpec& script, const platform::Deployment& deployment);
  ~ScriptClients();

 private:
  struct Client;
  std::vector<std::unique_ptr<Client>> clients_;
};

// The PoP client `index` of `p` sends to: the one it names (round-robin), else the nearest.
sim::NodeId pop_for(const spec::ClientPlacement& p, int index, const sim::Node& client,
                    const platform::Deployment& deployment);

}  // namespace scenarios
