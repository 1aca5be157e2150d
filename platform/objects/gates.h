// The two gates of a Durable Object instance, as the real runtime names them.
//
// InputGate: while it is closed, no new event (request, RPC call, alarm) is delivered to the
// object. blockConcurrencyWhile() closes it until its callback settles. Storage operations here
// answer within the JS run that issued them (the working copy is in memory), so no event can
// slip in while one is in flight and they need not close it; awaiting a plain fetch() does not
// close it either, so requests may interleave across subrequests, as in production.
//
// OutputGate: messages leaving the object (responses, RPC replies, subrequests) wait until the
// writes issued before them are durable. Writes are numbered by the batch (commit sequence
// number) that will carry them; a message sent while batch k is written or in flight is held
// until batch k is acknowledged, and dropped if a commit fails (the object is then reset).
// Disabled by the mutant do.output_gate=off: messages leave at once.
//
// Single-threaded; wake-ups go through the World (seeded order).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <vector>

#include "sim/sync.h"
#include "sim/task.h"
#include "sim/world.h"

namespace objects {

class InputGate {
 public:
  explicit InputGate(sim::World& world) : world_(world) {}
  bool open() const { return blockers_ == 0; }
  void close() { ++blockers_; }
  // REQUIRES: closed.
  void reopen();
  // Waits until the gate is open or the deadline passes (false). Throws TaskCancelled.
  bool wait_open(sim::Task& task, sim::Time deadline);
  // Opens it whatever holds it (the object was reset); waiters go on.
  void reset();

 private:
  sim::World& world_;
  int blockers_ = 0;
  sim::WaitQueue waiters_;
};

class OutputGate {
 public:
  explicit OutputGate(bool enabled) : enabled_(enabled) {}
  // A message: called with true to send it, with false when it is dropped.
  using Message = std::function<void(bool send)>;
  // Sends `message` when batch `seq` is durable (at once if it is already, or if seq is 0:
  // no writes before it).
  void send_after(std::uint64_t seq, Message message);
  // Batches up to `seq` are durable: sends what waited on them, in order. REQUIRES: seq is newer
  // than the last durable batch (acknowledgements come one commit at a time, in order).
  void durable(std::uint64_t seq);
  // A commit failed: every held message is dropped (called with false).
  void fail();
  std::uint64_t durable_seq() const { return durable_; }
  std::size_t held() const;

 private:
  bool enabled_;
  std::uint64_t durable_ = 0;
  std::uint64_t released_ = 0;  // the last batch whose held messages were sent
  std::map<std::uint64_t, std::vector<Message>> held_;  // by batch
};

}  // namespace objects
