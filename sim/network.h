// The simulated network: datagrams between nodes.
//
// Latency: a per-link base from the great-circle distance of the two locations (or an override),
// plus exponential jitter drawn from the seed, so messages on one link can overtake each other.
// Faults: loss, duplication, extra reordering delay, clogging (extra delay on all of a node's
// links for a while), symmetric and one-way partitions, healing.
//
// Guarantees the tests rely on:
// - A message is never delivered across a partition: reachability is checked when it is sent and
//   again when it arrives (a message in flight when a partition starts is lost).
// - With no loss and no partition, every message sent to an up node is delivered exactly once
//   (twice if duplicated).
// A message to a node that is down when it arrives is dropped; when the sender asked for it, a
// bounce goes back so that RPC can fail fast ("connection refused") instead of timing out.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/event.h"
#include "sim/knobs.h"
#include "sim/location.h"
#include "sim/rng.h"
#include "sim/time.h"

namespace sim {

class Node;
class World;

using Port = std::uint32_t;
inline constexpr Port kNoPort = UINT32_MAX;

struct Message {
  std::uint64_t id = 0;
  NodeId src = kNoNode;
  NodeId dst = kNoNode;
  Port port = kNoPort;
  Port bounce_port = kNoPort;  // where a bounce goes back, if the sender wants one
  bool bounced = false;        // this is a bounce: `dst` (the original dst) was down
  Time sent_at = 0;
  std::string payload;
};

struct NetConfig {
  Duration same_location_latency = micros(250);
  Duration latency_floor = micros(100);
  double km_per_ms = 100;         // light in fibre is ~200 km/ms; routes are not straight
  double jitter_fraction = 0.05;  // mean of the exponential jitter, as a fraction of the base
  Duration jitter_floor = micros(20);
  double loss = 0;
  double duplicate = 0;
  double reorder = 0;  // chance of an extra delay that reorders a message
  Duration reorder_delay_max = millis(50);
  std::size_t payload_bytes_max = 32 * 1024 * 1024;

  // The fields above as knobs (sim/knobs.h), listed by the platform as "net.<name>".
  static const Knobs<NetConfig>& knobs();
};

class Network {
 public:
  using Handler = std::function<void(Message&)>;

  struct Stats {
    std::uint64_t sent = 0;
    std::uint64_t delivered = 0;
    std::uint64_t duplicated = 0;
    std::uint64_t dropped_partition = 0;
    std::uint64_t dropped_loss = 0;
    std::uint64_t dropped_down = 0;
    std::uint64_t dropped_no_listener = 0;
    std::uint64_t bounced = 0;
  };

  explicit Network(World& world);
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  // Ports are names interned to small numbers.
  Port port(std::string_view name);
  const std::string& port_name(Port p) const { return port_names_.at(p); }

  // Listeners are volatile: a crash clears the node's listeners; its boot function sets them again.
  void listen(NodeId node, Port port, Handler handler);
  void unlisten(NodeId node, Port port);
  bool listening(NodeId node, Port port) const;

  // Sends a datagram. Returns its id (0 when dropped at once). REQUIRES: the payload is within
  // payload_bytes_max. The sender may be down only for bounces.
  std::uint64_t send(NodeId src, NodeId dst, Port port, std::string payload,
                     Port bounce_port = kNoPort);

  // Partitions. partition(a, b) cuts both directions between the groups; one-way cuts from->to.
  void partition(const std::vector<NodeId>& a, const std::vector<NodeId>& b);
  void partition_one_way(const std::vector<NodeId>& from, const std::vector<NodeId>& to);
  // Cuts `n` off from every other node.
  void isolate(NodeId n);
  void heal();
  bool reachable(NodeId from, NodeId to) const {
    if (cuts_.empty()) return true;
    for (const Cut& c : cuts_) {
      if (c.blocks(from, to)) return false;
    }
    return true;
  }
  bool partitioned() const { return !cuts_.empty(); }

  // Extra delay on every message to or from `n` until now + length.
  void clog(NodeId n, Duration extra, Duration length);
  void set_link_latency(NodeId a, NodeId b, Duration base);
  Duration base_latency(NodeId a, NodeId b);

  NetConfig& config() { return config_; }
  const Stats& stats() const { return stats_; }
  std::size_t in_flight() const { return in_flight_count_; }

  // Called by World.
  void on_node_added(Node& node);
  void on_crash(Node& node);

 private:
  struct Clog {
    Duration extra = 0;
    Time until = 0;
  };
  // One partition since the last heal: from a node of `from` to a node of `to` (and back unless
  // one-way) nothing passes. Membership by node id; nodes added later belong to neither side.
  // Per node, not per pair: a cut between two groups of thousands of clients costs two bit
  // vectors, and adding a node costs nothing (the n x n matrix this replaces made n nodes cost
  // O(n^3) to add).
  struct Cut {
    std::vector<bool> from, to;
    bool one_way = false;
    static bool in(const std::vector<bool>& side, NodeId n) {
      return static_cast<std::size_t>(n) < side.size() && side[static_cast<std::size_t>(n)];
    }
    bool blocks(NodeId a, NodeId b) const {
      if (a == b) return false;
      return (in(from, a) && in(to, b)) || (!one_way && in(from, b) && in(to, a));
    }
  };
  Duration draw_latency(NodeId src, NodeId dst);
  void schedule_delivery(Message msg, Duration latency);
  void deliver(std::uint32_t slot);
  void arrive(Message m);
  void cut(const std::vector<NodeId>& from, const std::vector<NodeId>& to, bool one_way);
  void drop(const Message& m, const char* reason);

  World& world_;
  Rng rng_;
  NetConfig config_;
  std::size_t n_ = 0;
  std::vector<Cut> cuts_;
  // Base latency: by pair of distinct locations (few), computed once; overrides by node pair.
  std::vector<std::uint32_t> location_of_;  // node -> index into locations_
  std::vector<Location> locations_;
  std::vector<Duration> location_base_;  // locations_.size() squared, -1 = not computed yet
  std::map<std::pair<NodeId, NodeId>, Duration> link_override_;  // (min id, max id)
  std::vector<Clog> clogs_;
  std::vector<std::vector<Handler>> handlers_;  // [node][port]
  std::map<std::string, Port, std::less<>> port_ids_;
  std::vector<std::string> port_names_;
  std::vector<Message> in_flight_;
  std::vector<std::uint32_t> free_slots_;
  std::size_t in_flight_count_ = 0;
  std::uint64_t next_id_ = 1;
  Stats stats_;
};

}  // namespace sim
