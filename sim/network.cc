#include "sim/network.h"

#include <algorithm>

#include "sim/assert.h"
#include "sim/events.h"
#include "sim/node.h"
#include "sim/world.h"

namespace sim {

const Knobs<NetConfig>& NetConfig::knobs() {
  using C = NetConfig;
  static const auto* table =
      &(*new Knobs<C>())
           .duration("same_location_latency", &C::same_location_latency,
                     "one-way latency between nodes of one location")
           .duration("latency_floor", &C::latency_floor,
                     "the least one-way latency between locations")
           .decimal("km_per_ms", &C::km_per_ms, 1, 300,
                    "distance a message covers per ms (great-circle km; routes are not straight)")
           .decimal("jitter_fraction", &C::jitter_fraction, 0, 10,
                    "mean of the exponential jitter, as a fraction of the base latency")
           .duration("jitter_floor", &C::jitter_floor, "the least mean jitter")
           .decimal("loss", &C::loss, 0, 1, "chance a message is lost")
           .decimal("duplicate", &C::duplicate, 0, 1, "chance a message is delivered twice")
           .decimal("reorder", &C::reorder, 0, 1, "chance a message is delayed past later ones")
           .duration("reorder_delay_max", &C::reorder_delay_max, "the longest such delay")
           .integer("payload_bytes_max", &C::payload_bytes_max, 1, std::int64_t{1} << 34,
                    "largest message");
  return *table;
}

Network::Network(World& world) : world_(world), rng_(world.rng("net")) {}

Port Network::port(std::string_view name) {
  auto it = port_ids_.find(name);
  if (it != port_ids_.end()) return it->second;
  const auto p = static_cast<Port>(port_names_.size());
  port_names_.emplace_back(name);
  port_ids_.emplace(std::string(name), p);
  return p;
}

void Network::on_node_added(Node& node) {
  SIM_ASSERT(static_cast<std::size_t>(node.id()) == n_);
  ++n_;
  clogs_.emplace_back();
  handlers_.emplace_back();
  // Its location's index: a new location grows the location table (there are few of them).
  const Location& loc = node.location();
  std::size_t index = 0;
  while (index < locations_.size() &&
         !(locations_[index].code == loc.code && locations_[index].lat == loc.lat &&
           locations_[index].lon == loc.lon)) {
    ++index;
  }
  if (index == locations_.size()) {
    const std::size_t old_l = locations_.size();
    const std::size_t l = old_l + 1;
    std::vector<Duration> base(l * l, -1);
    for (std::size_t a = 0; a < old_l; ++a) {
      for (std::size_t b = 0; b < old_l; ++b) base[a * l + b] = location_base_[a * old_l + b];
    }
    location_base_ = std::move(base);
    locations_.push_back(loc);
  }
  location_of_.push_back(static_cast<std::uint32_t>(index));
}

void Network::listen(NodeId node, Port port, Handler handler) {
  auto& hs = handlers_.at(static_cast<std::size_t>(node));
  if (hs.size() <= port) hs.resize(port + 1);
  hs[port] = std::move(handler);
}

void Network::unlisten(NodeId node, Port port) {
  auto& hs = handlers_.at(static_cast<std::size_t>(node));
  if (port < hs.size()) hs[port] = nullptr;
}

bool Network::listening(NodeId node, Port port) const {
  const auto& hs = handlers_.at(static_cast<std::size_t>(node));
  return port < hs.size() && hs[port] != nullptr;
}

void Network::on_crash(Node& node) { handlers_.at(static_cast<std::size_t>(node.id())).clear(); }

Duration Network::base_latency(NodeId a, NodeId b) {
  if (!link_override_.empty()) {
    auto it = link_override_.find({std::min(a, b), std::max(a, b)});
    if (it != link_override_.end()) return it->second;
  }
  const std::size_t la = location_of_[static_cast<std::size_t>(a)];
  const std::size_t lb = location_of_[static_cast<std::size_t>(b)];
  const std::size_t l = locations_.size();
  Duration& cached = location_base_[la * l + lb];
  if (cached < 0) {
    if (la == lb) {
      cached = config_.same_location_latency;
    } else {
      const double ms = distance_km(locations_[la], locations_[lb]) / config_.km_per_ms;
      cached = std::max<Duration>(config_.latency_floor, millis(ms));
    }
    location_base_[lb * l + la] = cached;
  }
  return cached;
}

void Network::set_link_latency(NodeId a, NodeId b, Duration base) {
  SIM_REQUIRE(base >= 0);
  link_override_[{std::min(a, b), std::max(a, b)}] = base;
}

Duration Network::draw_latency(NodeId src, NodeId dst) {
  const Duration base = base_latency(src, dst);
  const double jitter_mean = config_.jitter_fraction * static_cast<double>(base) +
                             static_cast<double>(config_.jitter_floor);
  Duration d = base + static_cast<Duration>(rng_.exponential(jitter_mean));
  const Time now = world_.now();
  for (NodeId n : {src, dst}) {
    const Clog& c = clogs_[static_cast<std::size_t>(n)];
    if (c.until > now) d += c.extra;
  }
  if (config_.reorder > 0 && rng_.bernoulli(config_.reorder)) {
    d += rng_.uniform_int(0, config_.reorder_delay_max);
  }
  return d;
}

std::uint64_t Network::send(NodeId src, NodeId dst, Port port, std::string payload,
                            Port bounce_port) {
  SIM_REQUIRE(src >= 0 && static_cast<std::size_t>(src) < n_);
  SIM_REQUIRE(dst >= 0 && static_cast<std::size_t>(dst) < n_);
  SIM_REQUIRE(payload.size() <= config_.payload_bytes_max);
  Message m;
  m.id = next_id_++;
  m.src = src;
  m.dst = dst;
  m.port = port;
  m.bounce_port = bounce_port;
  m.sent_at = world_.now();
  m.payload = std::move(payload);
  ++stats_.sent;
  world_.emit(src, [&](ev::Body& b) {
    auto& e = *b.mutable_net_send();
    e.set_to(dst);
    e.set_port(port_names_[port]);
    e.set_msg(m.id);
    e.set_bytes(m.payload.size());
  });
  if (!reachable(src, dst)) {
    drop(m, "partition");
    ++stats_.dropped_partition;
    return 0;
  }
  if (config_.loss > 0 && rng_.bernoulli(config_.loss)) {
    drop(m, "loss");
    ++stats_.dropped_loss;
    return 0;
  }
  const std::uint64_t id = m.id;
  if (config_.duplicate > 0 && rng_.bernoulli(config_.duplicate)) {
    ++stats_.duplicated;
    world_.emit(src, [&](ev::Body& b) { b.mutable_net_duplicate()->set_msg(id); });
    schedule_delivery(m, draw_latency(src, dst));
  }
  const Duration latency = draw_latency(src, dst);
  schedule_delivery(std::move(m), latency);
  return id;
}

void Network::schedule_delivery(Message msg, Duration latency) {
  std::uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
    in_flight_[slot] = std::move(msg);
  } else {
    slot = static_cast<std::uint32_t>(in_flight_.size());
    in_flight_.push_back(std::move(msg));
  }
  ++in_flight_count_;
  world_.scheduler().after(latency, [this, slot] { deliver(slot); });
}

void Network::drop(const Message& m, const char* reason) {
  world_.emit(m.bounced ? m.src : m.dst, [&](ev::Body& b) {
    auto& e = *b.mutable_net_drop();
    e.set_msg(m.id);
    e.set_reason(reason);
  });
}

void Network::deliver(std::uint32_t slot) {
  Message m = std::move(in_flight_[slot]);
  free_slots_.push_back(slot);
  --in_flight_count_;
  arrive(std::move(m));
}

void Network::arrive(Message m) {
  // For a bounce the receiver is the original sender.
  const NodeId to = m.bounced ? m.src : m.dst;
  const NodeId from = m.bounced ? m.dst : m.src;
  if (!reachable(from, to)) {
    drop(m, "partition");
    ++stats_.dropped_partition;
    return;
  }
  Node& node = world_.node(to);
  if (node.state() == Node::State::kPaused) {
    // Held at the node until it resumes; the checks above apply again then.
    node.deferred_.push_back([this, held = std::move(m)]() mutable { arrive(std::move(held)); });
    return;
  }
  if (node.state() == Node::State::kDown) {
    ++stats_.dropped_down;
    drop(m, "down");
    if (!m.bounced && m.bounce_port != kNoPort && world_.node(m.src).up()) {
      ++stats_.bounced;
      m.bounced = true;
      m.port = m.bounce_port;
      const Duration back = draw_latency(m.dst, m.src);
      schedule_delivery(std::move(m), back);
    }
    return;
  }
  const Port port = m.port;
  const auto& hs = handlers_[static_cast<std::size_t>(to)];
  if (port >= hs.size() || hs[port] == nullptr) {
    ++stats_.dropped_no_listener;
    drop(m, "no-listener");
    return;
  }
  ++stats_.delivered;
  world_.emit(to, [&](ev::Body& b) {
    auto& e = *b.mutable_net_deliver();
    e.set_from(from);
    e.set_port(port_names_[port]);
    e.set_msg(m.id);
    e.set_bounce(m.bounced);
  });
  // Copy the handler: it may replace itself (or the node may crash) while it runs.
  Handler h = hs[port];
  h(m);
}

void Network::cut(const std::vector<NodeId>& from, const std::vector<NodeId>& to, bool one_way) {
  Cut c;
  c.one_way = one_way;
  c.from.assign(n_, false);
  c.to.assign(n_, false);
  for (NodeId x : from) {
    SIM_REQUIRE(x >= 0 && static_cast<std::size_t>(x) < n_);
    c.from[static_cast<std::size_t>(x)] = true;
  }
  for (NodeId y : to) {
    SIM_REQUIRE(y >= 0 && static_cast<std::size_t>(y) < n_);
    c.to[static_cast<std::size_t>(y)] = true;
  }
  // A cut that separates no two distinct nodes changes nothing (partitioned() stays false).
  bool any = false;
  for (NodeId x : from) {
    for (NodeId y : to) {
      if (x != y) {
        any = true;
        break;
      }
    }
    if (any) break;
  }
  if (any) cuts_.push_back(std::move(c));
}

void Network::partition(const std::vector<NodeId>& a, const std::vector<NodeId>& b) {
  cut(a, b, /*one_way=*/false);
  world_.emit(kNoNode, [&](ev::Body& body) {
    auto& e = *body.mutable_net_partition();
    for (NodeId x : a) e.add_a(x);
    for (NodeId y : b) e.add_b(y);
  });
}

void Network::partition_one_way(const std::vector<NodeId>& from, const std::vector<NodeId>& to) {
  cut(from, to, /*one_way=*/true);
  world_.emit(kNoNode, [&](ev::Body& body) {
    auto& e = *body.mutable_net_partition();
    for (NodeId x : from) e.add_a(x);
    for (NodeId y : to) e.add_b(y);
    e.set_one_way(true);
  });
}

void Network::isolate(NodeId n) {
  std::vector<NodeId> others;
  for (std::size_t i = 0; i < n_; ++i) {
    if (static_cast<NodeId>(i) != n) others.push_back(static_cast<NodeId>(i));
  }
  partition({n}, others);
}

void Network::heal() {
  cuts_.clear();
  world_.emit(kNoNode, [](ev::Body& b) { b.mutable_net_heal(); });
}

void Network::clog(NodeId n, Duration extra, Duration length) {
  Clog& c = clogs_.at(static_cast<std::size_t>(n));
  c.extra = extra;
  c.until = world_.now() + length;
  world_.emit(n, [&](ev::Body& b) {
    auto& e = *b.mutable_net_clog();
    e.set_extra(extra);
    e.set_length(length);
  });
}

}  // namespace sim
