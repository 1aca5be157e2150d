// Test helper (needs the platform): one HTTP request from a client node to a node that serves
// HTTP (a PoP), with the World run until the answer comes.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "platform/runtime/origin.h"
#include "sim/world.h"

namespace scenarios::test {

// Sends `request` from `client` to `server` and runs `world` in 100 ms steps until the answer,
// at most `wait_max`: "status body", "error <message>", or "no answer".
inline std::string request_until_answered(sim::World& world, sim::Node& client, sim::NodeId server,
                                          runtime::HttpRequest request, sim::Duration wait_max) {
  auto out = std::make_shared<std::string>();
  world.spawn(client, "client",
              [server, request = std::move(request), wait_max, out](sim::Task& task) mutable {
                auto reply = runtime::http_call(task, server, std::move(request), wait_max);
                *out = reply.ok() ? std::to_string(reply->status) + " " + reply->body
                                  : "error " + reply.error().message;
              });
  constexpr sim::Duration kStep = 100 * sim::kMillisecond;
  for (sim::Duration waited = 0; out->empty() && waited <= wait_max; waited += kStep) {
    world.run_for(kStep);
  }
  return out->empty() ? "no answer" : *out;
}

}  // namespace scenarios::test
