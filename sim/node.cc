#include "sim/node.h"

#include "sim/disk.h"
#include "sim/world.h"

namespace sim {

Node::Node(World* world, NodeId id, std::string name, Location location)
    : world_(world), id_(id), name_(std::move(name)), location_(std::move(location)) {}

Node::~Node() = default;

int Node::add_crash_hook(CrashHook hook) {
  const int handle = next_hook_++;
  crash_hooks_.emplace(handle, std::move(hook));
  return handle;
}

void Node::remove_crash_hook(int handle) { crash_hooks_.erase(handle); }

Disk& Node::disk() {
  if (!disk_) disk_ = std::make_unique<Disk>(*this, world_->rng("disk/" + name_));
  return *disk_;
}

}  // namespace sim
