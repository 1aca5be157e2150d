#include "sim/rpc.h"

#include <deque>
#include <memory>
#include <set>

#include "sim/assert.h"
#include "sim/node.h"
#include "sim/sync.h"
#include "sim/wire.h"
#include "sim/world.h"

namespace sim {

namespace {
// Wire format. Request: [u64 call id][body]. Reply: [u64 call id][u8 status][body].
constexpr std::size_t kIdBytes = 8;
enum : std::uint8_t { kReplyOk = 0, kReplyError = 1 };

std::string encode_id(std::uint64_t id) { return WireWriter().u64(id).take(); }
// REQUIRES: s.size() >= kIdBytes (callers check).
std::uint64_t decode_id(std::string_view s) { return WireReader(s.substr(0, kIdBytes)).u64(); }
}  // namespace

struct Rpc::Pending {
  Slot<Result<std::string>> reply;
};

Rpc::Rpc(World& world) : world_(world), reply_port_(world.net().port("rpc.reply")) {}

void Rpc::serve(Node& node, std::string_view service, Handler handler, Delivery delivery) {
  Network& net = world_.net();
  const Port port = net.port("rpc:" + std::string(service));
  const NodeId self = node.id();
  auto shared = std::make_shared<Handler>(std::move(handler));
  std::string task_name = "rpc:" + std::string(service);
  // kAtMostOnce: the call ids seen (ids are unique per World), the oldest forgotten first.
  struct Seen {
    std::set<std::uint64_t> ids;
    std::deque<std::uint64_t> order;
  };
  auto seen = delivery == Delivery::kAtMostOnce ? std::make_shared<Seen>() : nullptr;
  net.listen(self, port, [this, self, shared, task_name, seen](Message& m) {
    const NodeId from = m.src;
    if (seen != nullptr && m.payload.size() >= kIdBytes) {
      const std::uint64_t id = decode_id(m.payload);
      if (!seen->ids.insert(id).second) return;  // a duplicate of a call already served
      seen->order.push_back(id);
      constexpr std::size_t kSeenMax = 1 << 16;
      if (seen->order.size() > kSeenMax) {
        seen->ids.erase(seen->order.front());
        seen->order.pop_front();
      }
    }
    world_.spawn(world_.node(self), task_name,
                 [this, self, from, shared, payload = std::move(m.payload)](Task& t) {
                   if (payload.size() < kIdBytes) return;
                   const std::uint64_t id = decode_id(payload);
                   Result<std::string> r =
                       (*shared)(t, from, std::string_view(payload).substr(kIdBytes));
                   std::string out = encode_id(id);
                   if (r.ok()) {
                     out.push_back(static_cast<char>(kReplyOk));
                     out += r.value();
                   } else {
                     out.push_back(static_cast<char>(kReplyError));
                     out += r.error().message;
                   }
                   world_.net().send(self, from, reply_port_, std::move(out));
                 });
  });
}

void Rpc::on_reply(Message& m) {
  const std::uint64_t id = decode_id(m.payload);
  auto it = pending_.find(id);
  if (it == pending_.end()) return;  // late reply: the caller timed out or was unwound
  Pending* p = it->second;
  if (m.bounced) {
    p->reply.set(world_, Error{ErrorKind::kUnreachable,
                               "connection refused by " + world_.node(m.dst).name()});
    return;
  }
  if (m.payload.size() < kIdBytes + 1) return;
  const auto status = static_cast<std::uint8_t>(m.payload[kIdBytes]);
  std::string body = m.payload.substr(kIdBytes + 1);
  if (status == kReplyOk) {
    p->reply.set(world_, std::move(body));
  } else {
    p->reply.set(world_, Error{ErrorKind::kRemote, std::move(body)});
  }
}

Result<std::string> Rpc::call(Task& task, NodeId dst, std::string_view service, std::string request,
                              Duration timeout) {
  Network& net = world_.net();
  const NodeId self = task.node().id();
  SIM_REQUIRE(task.node().up());
  if (!net.listening(self, reply_port_)) {
    net.listen(self, reply_port_, [this](Message& m) { on_reply(m); });
  }
  ++stats_.calls;
  const std::uint64_t id = next_call_++;
  Pending pending;
  pending_.emplace(id, &pending);
  // Unregisters even when the task is unwound by a crash.
  struct Guard {
    std::map<std::uint64_t, Pending*>& map;
    std::uint64_t id;
    ~Guard() { map.erase(id); }
  } guard{pending_, id};

  const Port port = net.port("rpc:" + std::string(service));
  net.send(self, dst, port, encode_id(id) + request, reply_port_);
  Result<std::string>* r = pending.reply.wait(task, task.now() + timeout);
  if (r == nullptr) {
    ++stats_.timeouts;
    return Error{ErrorKind::kTimeout, std::string(service) + " on " + world_.node(dst).name() +
                                          ": no reply within " + format_duration(timeout)};
  }
  if (r->ok()) {
    ++stats_.ok;
  } else if (r->error().kind == ErrorKind::kUnreachable) {
    ++stats_.unreachable;
  } else {
    ++stats_.remote_errors;
  }
  return std::move(*r);
}

}  // namespace sim
