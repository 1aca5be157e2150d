#include "platform/objects/gates.h"

#include <utility>

#include "sim/assert.h"

namespace objects {

void InputGate::reopen() {
  SIM_REQUIRE(blockers_ > 0);
  if (--blockers_ == 0) waiters_.notify_all(world_);
}

bool InputGate::wait_open(sim::Task& task, sim::Time deadline) {
  while (blockers_ > 0) {
    if (!waiters_.wait(task, deadline)) return false;
  }
  return true;
}

void InputGate::reset() {
  blockers_ = 0;
  waiters_.notify_all(world_);
}

void OutputGate::send_after(std::uint64_t seq, Message message) {
  if (!enabled_ || seq <= durable_) {
    message(true);
    return;
  }
  held_[seq].push_back(std::move(message));
}

void OutputGate::durable(std::uint64_t seq) {
  SIM_REQUIRE(seq > durable_);
  durable_ = seq;
  while (!held_.empty() && held_.begin()->first <= durable_) {
    const std::uint64_t batch = held_.begin()->first;
    // Messages are held only behind batches not yet durable, so each batch's messages leave once,
    // after those of every batch before it.
    SIM_ASSERT(batch > released_);
    released_ = batch;
    std::vector<Message> messages = std::move(held_.begin()->second);
    held_.erase(held_.begin());
    for (auto& m : messages) m(true);
  }
}

void OutputGate::fail() {
  auto held = std::move(held_);
  held_.clear();
  for (auto& [seq, messages] : held) {
    for (auto& m : messages) m(false);
  }
}

std::size_t OutputGate::held() const {
  std::size_t n = 0;
  for (const auto& [seq, messages] : held_) n += messages.size();
  return n;
}

}  // namespace objects
