// The replica fan-out of the DO cluster.
#include <sqlite3.h>

#include <cstring>

#include "platform/services/do/do_internal.h"
#include "sim/assert.h"
#include "sim/disk.h"
#include "sim/rpc.h"

namespace services::do_internal {

// ---- Fan-out ----

namespace {
struct FanOut {
  std::vector<ReplicaReply> replies;
  sim::WaitQueue waiters;
};
}  // namespace

std::vector<ReplicaReply> ask_replicas(
    sim::Task& task, const std::vector<sim::NodeId>& replicas, std::string_view service,
    const std::string& request, sim::Duration timeout,
    const std::function<bool(const std::vector<ReplicaReply>&)>& enough) {
  SIM_REQUIRE(std::set<sim::NodeId>(replicas.begin(), replicas.end()).size() == replicas.size());
  sim::World& world = task.world();
  auto state = std::make_shared<FanOut>();
  const std::string svc(service);
  for (const sim::NodeId replica : replicas) {
    world.spawn(task.node(), svc, [state, replica, svc, request, timeout](sim::Task& t) {
      auto r = t.world().rpc().call(t, replica, svc, request, timeout);
      state->replies.push_back(ReplicaReply{replica, std::move(r)});
      state->waiters.notify_all(t.world());
    });
  }
  const sim::Time deadline = task.now() + timeout;
  while (!enough(state->replies) && state->replies.size() < replicas.size()) {
    if (!state->waiters.wait(task, deadline)) break;
  }
  // At most one reply per replica asked: a tally counts each replica once.
  SIM_ASSERT(state->replies.size() <= replicas.size());
  std::set<sim::NodeId> answered;
  for (const ReplicaReply& r : state->replies) SIM_ASSERT(answered.insert(r.replica).second);
  return state->replies;
}

}  // namespace services::do_internal
