// objects::DoHost: the JS side of Durable Objects on one host node: the services::ObjectExecutor
// that the DO cluster (services/do_cluster.h) hands requests, alarms and deactivations to. Each
// active object gets an objects::ObjectInstance (its own isolate running the namespace's script,
// its storage working copy recovered from the cluster's image, its gates), whose commits go to
// the object's handle (quorum replication, fenced by the lease epoch) and whose events check the
// handle's lease.
//
// Deactivation (lease lost, commit failed, host crash) drops the instance: its in-memory state
// goes, and the next activation, here or elsewhere, runs the constructor again on the last
// acknowledged image. An instance that broke on its own (its lease lapsed at a storage access,
// a commit failed) is released back to the directory.
//
// WebSockets (websockets.h): the host's SocketHub keeps the sockets objects accepted. An object
// with open sockets stays active (keeps_alive) and hibernates: after `hibernate_after` without
// events its instance is dropped (memory gone, sockets kept); the next message or request runs the
// constructor again. Deactivation closes its sockets.
//
// Single-threaded; lives as long as the cluster that calls it.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "platform/js/engine.h"
#include "platform/objects/object_instance.h"
#include "platform/objects/websockets.h"
#include "platform/services/do/do_cluster.h"

namespace objects {

// The objects' JS halves (websockets.js, object_storage.js, object_state.js), embedded at build
// time: extensions for js::Engine (platform/engine_setup.h).
std::vector<js::Extension> js_extensions();

struct DoHostConfig {
  // Class name -> the script that defines it (its env and bindings included).
  std::map<std::string, runtime::WorkerConfig> classes;
  // Mutant do.output_gate=off: false.
  bool output_gate = true;
  // An object with open WebSockets and no event for this long hibernates (0: never).
  sim::Duration hibernate_after = 10 * sim::kSecond;
  SocketTiming sockets;

  // The fields above but `classes` as knobs (sim/knobs.h): "output_gate", "hibernate_after",
  // "websocket_<timing>". The platform lists them with the cluster's as "do.<name>".
  static const sim::Knobs<DoHostConfig>& knobs();
};

class DoHost final : public services::ObjectExecutor {
 public:
  DoHost(sim::World& world, sim::Node& node, DoHostConfig config);
  ~DoHost() override;
  DoHost(const DoHost&) = delete;
  DoHost& operator=(const DoHost&) = delete;

  sim::Result<std::string> handle(sim::Task& task, services::ObjectHandle& object,
                                  std::string request) override;
  sim::Status alarm(sim::Task& task, services::ObjectHandle& object, int retry_count) override;
  void deactivate(services::ObjectHandle& object) override;
  void boot(sim::Node& host) override;
  bool keeps_alive(const services::ObjectHandle& object) const override;

  SocketHub& sockets() { return *sockets_; }
  // Instances dropped by hibernation so far.
  std::uint64_t hibernations() const { return hibernations_; }

  std::size_t active() const { return instances_.size(); }
  sim::Node& node() const { return node_; }

 private:
  // The instance of `object`, made on first use. Errors: an unknown class or a corrupt image.
  sim::Result<std::shared_ptr<ObjectInstance>> instance_for(services::ObjectHandle& object,
                                                            const std::string& name);
  // After an event: an instance that broke gives its object up.
  void check_broken(services::ObjectHandle& object, const std::shared_ptr<ObjectInstance>& inst);
  // A WebSocket frame or close for an object active here.
  sim::Status socket_event(sim::Task& task, const SocketEvent& event);
  // Event bookkeeping for hibernation.
  void event_started(services::ObjectHandle& object);
  void event_ended(const std::string& object, std::uint64_t activation);
  void hibernate_later(const std::string& object);

  sim::World& world_;
  sim::Node& node_;
  DoHostConfig config_;
  std::map<std::uint64_t, std::shared_ptr<ObjectInstance>> instances_;  // by activation
  std::unique_ptr<SocketHub> sockets_;
  // By object key: the active handle, idFromName's name, the last event's end, a hibernation
  // timer pending. Events running are counted by activation (busy_).
  std::map<std::string, std::weak_ptr<services::ObjectHandle>> handles_;
  std::map<std::string, std::string> names_;
  std::map<std::uint64_t, int> busy_;  // events running, by activation
  std::map<std::string, sim::Time> last_event_;
  std::map<std::string, bool> timer_;
  // By activation: the storage image of a hibernated instance (its next instance starts there).
  std::map<std::uint64_t, std::string> hibernated_;
  std::uint64_t hibernations_ = 0;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace objects
