#include "platform/objects/object_host.h"

#include <cmath>
#include <utility>

#include "sim/events.h"

namespace objects {

namespace {
// The alarm as the cluster keeps it (virtual time) from the one JS stored (Unix ms).
std::optional<sim::Time> alarm_time(std::optional<double> unix_ms) {
  if (!unix_ms.has_value()) return std::nullopt;
  const double ms = *unix_ms - js::kUnixMsAtTimeZero;
  if (ms <= 0) return sim::Time{0};
  return static_cast<sim::Time>(std::llround(ms * 1e6));
}
}  // namespace

const sim::Knobs<DoHostConfig>& DoHostConfig::knobs() {
  using C = DoHostConfig;
  static const auto* table =
      &(*new sim::Knobs<C>())
           .flag("output_gate", &C::output_gate,
                 "messages leave an object only once the writes before them are durable (off: a "
                 "mutant)")
           .duration(
               "hibernate_after", &C::hibernate_after,
               "an object with open WebSockets and no event for this long hibernates (0: never)")
           .include("websocket_", &C::sockets, SocketTiming::knobs());
  return *table;
}

DoHost::DoHost(sim::World& world, sim::Node& node, DoHostConfig config)
    : world_(world), node_(node), config_(std::move(config)) {
  sockets_ = std::make_unique<SocketHub>(
      world_, node_,
      [this](sim::Task& task, const SocketEvent& event) { return socket_event(task, event); },
      config_.sockets);
}

DoHost::~DoHost() = default;

sim::Result<std::shared_ptr<ObjectInstance>> DoHost::instance_for(services::ObjectHandle& object,
                                                                  const std::string& name) {
  auto it = instances_.find(object.instance());
  if (it != instances_.end()) return it->second;
  const std::string& key = object.object();
  const std::size_t slash = key.rfind('/');
  const std::string class_name = key.substr(0, slash);
  auto script = config_.classes.find(class_name);
  if (slash == std::string::npos || script == config_.classes.end()) {
    return sim::Error{sim::ErrorKind::kInvalid, "no Durable Object class " + class_name};
  }
  // After a hibernation, the state the instance had then (everything acknowledged since the
  // activation), not the image recovered at activation.
  auto saved = hibernated_.find(object.instance());
  sim::Result<std::unique_ptr<ObjectStorage>> storage = ObjectStorage::open(
      saved != hibernated_.end() ? std::string_view(saved->second) : object.recovered_image());
  if (saved != hibernated_.end()) hibernated_.erase(saved);
  if (!storage.ok()) return storage.error();
  ObjectInstanceConfig c;
  c.worker = script->second;
  c.class_name = class_name;
  c.id_hex = key.substr(slash + 1);
  c.name = name;
  c.output_gate = config_.output_gate;
  std::weak_ptr<services::ObjectHandle> handle = object.shared_from_this();
  auto inst = std::make_shared<ObjectInstance>(
      world_, node_, std::move(c), std::move(storage.value()),
      [handle](sim::Task& task, std::string image, std::optional<double> alarm) -> sim::Status {
        auto h = handle.lock();
        if (h == nullptr) return sim::Error{sim::ErrorKind::kUnreachable, "object deactivated"};
        return h->commit(task, std::move(image), alarm_time(alarm));
      },
      [handle] {
        auto h = handle.lock();
        return h != nullptr && h->lease_valid();
      });
  inst->set_sockets([this, key, activation = object.instance()](const js::CallRequest& r,
                                                                const SocketHub::Gate& gate) {
    return sockets_->call(key, activation, r, gate);
  });
  instances_.emplace(object.instance(), inst);
  return inst;
}

void DoHost::boot(sim::Node&) {
  // A restart: what the last incarnation's tasks were doing is gone.
  handles_.clear();
  busy_.clear();
  timer_.clear();
  last_event_.clear();
  hibernated_.clear();
  sockets_->boot();
}

bool DoHost::keeps_alive(const services::ObjectHandle& object) const {
  // Open sockets, or a WebSocket event still running (the cluster does not see those events).
  return sockets_->sockets_of(object.object()) > 0 || busy_.count(object.instance()) != 0;
}

void DoHost::event_started(services::ObjectHandle& object) {
  handles_[object.object()] = object.shared_from_this();
  ++busy_[object.instance()];
}

void DoHost::event_ended(const std::string& object, std::uint64_t activation) {
  if (--busy_[activation] <= 0) busy_.erase(activation);
  last_event_[object] = world_.now();
  hibernate_later(object);
}

// An object whose only business is open WebSockets hibernates: its instance (isolate memory)
// goes, its sockets and lease stay.
void DoHost::hibernate_later(const std::string& object) {
  if (config_.hibernate_after <= 0 || timer_.count(object) != 0 || !node_.up()) return;
  if (sockets_->sockets_of(object) == 0) return;
  timer_[object] = true;
  std::weak_ptr<int> alive = alive_;
  world_.spawn(node_, "do.hibernate", [this, alive, object](sim::Task& task) {
    std::shared_ptr<services::ObjectHandle> handle;
    std::map<std::uint64_t, std::shared_ptr<ObjectInstance>>::iterator it;
    for (;;) {
      task.sleep_until(last_event_[object] + config_.hibernate_after);
      if (alive.expired()) return;
      if (task.now() < last_event_[object] + config_.hibernate_after) continue;
      auto h = handles_.find(object);
      handle = h == handles_.end() ? nullptr : h->second.lock();
      if (handle == nullptr || !handle->active() || sockets_->sockets_of(object) == 0) {
        timer_.erase(object);
        return;
      }
      it = instances_.find(handle->instance());
      if (it == instances_.end()) {
        timer_.erase(object);
        return;  // already hibernated
      }
      // Busy (an event, a commit, timers or waitUntil work pending): look again later.
      if (busy_.count(handle->instance()) != 0 || !it->second->idle()) {
        last_event_[object] = task.now();
        continue;
      }
      break;
    }
    timer_.erase(object);
    std::shared_ptr<ObjectInstance> inst = std::move(it->second);
    instances_.erase(it);
    hibernated_[handle->instance()] = inst->hibernation_image();
    ++hibernations_;
    world_.emit(node_.id(), [&](sim::ev::Body& b) {
      b.mutable_do_hibernate()->set_object(object);
      b.mutable_do_hibernate()->set_sockets(sockets_->sockets_of(object));
    });
    // `inst` goes with this scope: nothing of it was in flight (idle()).
  });
}

sim::Status DoHost::socket_event(sim::Task& task, const SocketEvent& event) {
  auto h = handles_.find(event.object);
  std::shared_ptr<services::ObjectHandle> handle = h == handles_.end() ? nullptr : h->second.lock();
  if (handle == nullptr || !handle->active()) {
    return sim::Error{sim::ErrorKind::kUnreachable, "the Durable Object is no longer active here"};
  }
  sim::Result<std::shared_ptr<ObjectInstance>> inst = instance_for(*handle, names_[event.object]);
  if (!inst.ok()) return inst.error();
  std::shared_ptr<ObjectInstance> keep = inst.value();
  std::weak_ptr<int> alive = alive_;
  event_started(*handle);
  sim::Status status = keep->socket_event(task, event);
  if (alive.expired()) return status;
  event_ended(event.object, handle->instance());
  check_broken(*handle, keep);
  return status;
}

void DoHost::check_broken(services::ObjectHandle& object,
                          const std::shared_ptr<ObjectInstance>& inst) {
  if (!inst->broken()) return;
  auto it = instances_.find(object.instance());
  if (it != instances_.end() && it->second == inst) instances_.erase(it);
  if (object.active()) object.release();
}

sim::Result<std::string> DoHost::handle(sim::Task& task, services::ObjectHandle& object,
                                        std::string request) {
  std::string name;
  if (sim::Result<DoRequest> r = decode_do_request(request); r.ok()) name = r->name;
  if (!name.empty()) names_[object.object()] = name;
  sim::Result<std::shared_ptr<ObjectInstance>> inst = instance_for(object, name);
  if (!inst.ok()) return inst.error();
  std::shared_ptr<ObjectInstance> keep = inst.value();  // alive across a deactivation
  const std::string key = object.object();
  const std::uint64_t activation = object.instance();
  std::weak_ptr<int> alive = alive_;
  event_started(object);
  sim::Result<std::string> reply = keep->handle(task, request);
  if (alive.expired()) return reply;
  event_ended(key, activation);
  check_broken(object, keep);
  return reply;
}

sim::Status DoHost::alarm(sim::Task& task, services::ObjectHandle& object, int retry_count) {
  sim::Result<std::shared_ptr<ObjectInstance>> inst = instance_for(object, names_[object.object()]);
  if (!inst.ok()) return inst.error();
  std::shared_ptr<ObjectInstance> keep = inst.value();
  const std::string key = object.object();
  const std::uint64_t activation = object.instance();
  std::weak_ptr<int> alive = alive_;
  event_started(object);
  sim::Status status = keep->alarm(task, retry_count);
  if (alive.expired()) return status;
  event_ended(key, activation);
  check_broken(object, keep);
  return status;
}

void DoHost::deactivate(services::ObjectHandle& object) {
  const std::string& key = object.object();
  sockets_->close_object(key, 1001, "Durable Object reset");
  timer_.erase(key);  // busy_ (by activation) empties as the old activation's events end
  hibernated_.erase(object.instance());
  if (auto h = handles_.find(key); h != handles_.end()) {
    auto live = h->second.lock();
    if (live == nullptr || live.get() == &object) handles_.erase(h);
  }
  auto it = instances_.find(object.instance());
  if (it == instances_.end()) return;
  std::shared_ptr<ObjectInstance> inst = std::move(it->second);
  instances_.erase(it);
  inst->shutdown("deactivated: " + std::string(object.active() ? "released" : "lease gone"));
}

}  // namespace objects
