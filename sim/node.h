// A simulated machine: a name, a location, a lifecycle, its tasks, and its disk.
//
// Lifecycle: kUp -> crash() -> kDown -> restart() -> kUp (incarnation + 1); kUp <-> kPaused.
// A crash unwinds every task of the node, clears its network listeners, runs its crash hooks
// (services drop volatile state there) and drops the disk's unsynced writes. What survives is
// what the disk made durable. On start and every restart the boot function runs again.
// A paused node keeps its state, but none of its tasks run and no message is handed to it until
// resume(); messages that arrive meanwhile wait.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/event.h"
#include "sim/location.h"

namespace sim {

class Disk;
class Task;
class World;

class Node {
 public:
  enum class State { kUp, kDown, kPaused };
  using BootFn = std::function<void(Node&)>;
  using CrashHook = std::function<void(Node&)>;

  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  ~Node();

  NodeId id() const { return id_; }
  const std::string& name() const { return name_; }
  const Location& location() const { return location_; }
  World& world() const { return *world_; }
  State state() const { return state_; }
  bool up() const { return state_ == State::kUp; }
  bool down() const { return state_ == State::kDown; }
  // Starts at 1; +1 on every restart. Lets a service tell a stale incarnation's work apart.
  std::uint64_t incarnation() const { return incarnation_; }

  // Whether swarm faults may crash, pause or clog this node (clients usually are not).
  bool faultable() const { return faultable_; }
  void set_faultable(bool f) { faultable_ = f; }

  // Runs at World::start() and at each restart, on the main context: register listeners and spawn
  // tasks here. The node's own role; replaces an earlier one.
  void on_boot(BootFn fn) { boot_ = std::move(fn); }
  // More boot work from another service on the same node (a PoP is also a queue consumer): runs
  // after the role's boot function, in the order added.
  void add_boot_hook(BootFn fn) { boot_hooks_.push_back(std::move(fn)); }
  // Runs at every crash, after the tasks were unwound. Returns a handle for remove_crash_hook.
  int add_crash_hook(CrashHook hook);
  void remove_crash_hook(int handle);

  // The node's simulated disk, created on first use. Survives crashes (minus unsynced writes).
  Disk& disk();
  bool has_disk() const { return disk_ != nullptr; }

  std::size_t live_tasks() const { return tasks_.size(); }

 private:
  friend class World;
  friend class Network;
  Node(World* world, NodeId id, std::string name, Location location);

  World* world_;
  NodeId id_;
  std::string name_;
  Location location_;
  State state_ = State::kDown;
  std::uint64_t incarnation_ = 0;
  bool faultable_ = true;
  bool started_ = false;
  BootFn boot_;
  std::vector<BootFn> boot_hooks_;
  std::map<int, CrashHook> crash_hooks_;
  int next_hook_ = 1;
  std::map<std::uint64_t, Task*> tasks_;  // by spawn serial: unwinding order is deterministic
  std::vector<std::function<void()>> deferred_;  // wakes and deliveries held while paused
  std::unique_ptr<Disk> disk_;
};

}  // namespace sim
