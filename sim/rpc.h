// Request/response on top of the network. A service is a name served by a node; each request runs
// in a fresh task on the serving node. A call suspends the calling task until the reply, a bounce
// (the destination is down: kUnreachable, the request surely did not run), or the timeout
// (kTimeout: it may or may not have run). A handler's error comes back as kRemote.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "sim/event.h"
#include "sim/network.h"
#include "sim/result.h"
#include "sim/time.h"

namespace sim {

class Node;
class Task;
class World;

class Rpc {
 public:
  using Handler = std::function<Result<std::string>(Task&, NodeId from, std::string_view request)>;

  struct Stats {
    std::uint64_t calls = 0;
    std::uint64_t ok = 0;
    std::uint64_t timeouts = 0;
    std::uint64_t unreachable = 0;
    std::uint64_t remote_errors = 0;
  };

  explicit Rpc(World& world);

  // How a server treats a request datagram the network duplicated: run it again (every datagram,
  // as a UDP-like service would), or at most once per call (as over a connection: HTTP).
  enum class Delivery { kEveryDatagram, kAtMostOnce };

  // Serves `service` on `node` until the node crashes (call it from the node's boot function).
  void serve(Node& node, std::string_view service, Handler handler,
             Delivery delivery = Delivery::kEveryDatagram);
  // REQUIRES: task runs on an up node. Throws TaskCancelled.
  Result<std::string> call(Task& task, NodeId dst, std::string_view service, std::string request,
                           Duration timeout);

  const Stats& stats() const { return stats_; }

 private:
  struct Pending;
  void on_reply(Message& m);

  World& world_;
  Port reply_port_;
  std::map<std::uint64_t, Pending*> pending_;
  std::uint64_t next_call_ = 1;
  Stats stats_;
};

}  // namespace sim
