#include "platform/runtime/do_host.h"

#include <cmath>
#include <utility>

namespace runtime {

namespace {
// The alarm as the cluster keeps it (virtual time) from the one JS stored (Unix ms).
std::optional<sim::Time> alarm_time(std::optional<double> unix_ms) {
  if (!unix_ms.has_value()) return std::nullopt;
  const double ms = *unix_ms - js::kUnixMsAtTimeZero;
  if (ms <= 0) return sim::Time{0};
  return static_cast<sim::Time>(std::llround(ms * 1e6));
}
}  // namespace

DoHost::DoHost(sim::World& world, sim::Node& node, DoHostConfig config)
    : world_(world), node_(node), config_(std::move(config)) {}

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
  sim::Result<std::unique_ptr<ObjectStorage>> storage =
      ObjectStorage::open(object.recovered_image());
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
  instances_.emplace(object.instance(), inst);
  return inst;
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
  sim::Result<std::shared_ptr<ObjectInstance>> inst = instance_for(object, name);
  if (!inst.ok()) return inst.error();
  std::shared_ptr<ObjectInstance> keep = inst.value();  // alive across a deactivation
  sim::Result<std::string> reply = keep->handle(task, request);
  check_broken(object, keep);
  return reply;
}

sim::Status DoHost::alarm(sim::Task& task, services::ObjectHandle& object, int retry_count) {
  sim::Result<std::shared_ptr<ObjectInstance>> inst = instance_for(object, "");
  if (!inst.ok()) return inst.error();
  std::shared_ptr<ObjectInstance> keep = inst.value();
  sim::Status status = keep->alarm(task, retry_count);
  check_broken(object, keep);
  return status;
}

void DoHost::deactivate(services::ObjectHandle& object) {
  auto it = instances_.find(object.instance());
  if (it == instances_.end()) return;
  std::shared_ptr<ObjectInstance> inst = std::move(it->second);
  instances_.erase(it);
  inst->shutdown("deactivated: " + std::string(object.active() ? "released" : "lease gone"));
}

std::function<sim::Result<std::string>(sim::Task&, const std::string&, std::string)> do_route(
    services::DoCluster& cluster) {
  return [&cluster](sim::Task& task, const std::string& key,
                    std::string request) -> sim::Result<std::string> {
    services::DoResult r = cluster.call(task, key, std::move(request));
    if (r.ok()) return r.value();
    const services::DoError& e = r.error();
    sim::ErrorKind kind = sim::ErrorKind::kUnreachable;
    switch (e.kind) {
      case services::DoErrorKind::kRetryable:
      case services::DoErrorKind::kUnreachable:
        kind = sim::ErrorKind::kUnreachable;
        break;
      case services::DoErrorKind::kOverloaded:
        kind = sim::ErrorKind::kOverloaded;
        break;
      case services::DoErrorKind::kTimeout:
        kind = sim::ErrorKind::kTimeout;
        break;
      case services::DoErrorKind::kRemote:
        kind = sim::ErrorKind::kRemote;
        break;
    }
    return sim::Error{kind, "Durable Object: " + e.message};
  };
}

}  // namespace runtime
