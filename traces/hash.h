// The running hash of an event stream: one 64-bit value that two runs share if and only if (with
// overwhelming probability) they emitted the same events in the same order.
//
//   h_0 = kHashInitial
//   h_n = XXH3_64bits_withSeed(encode(event_n), h_{n-1})
//   encode(e) = le64(time) le32(node) body
//
// where body is the event's ev::Body serialized (sim/events.proto). Integers are little-endian by
// construction; the body's wire format is protobuf's, which is fixed by the schema (field numbers
// and types) and deterministic for messages without maps (the registry has none), so the value is
// the same on every platform and protobuf version.
// Changing any of this changes every trace hash: bump the trace format version if you do.
#pragma once

#include <cstdint>
#include <string>

#include "sim/event.h"

namespace traces {

inline constexpr std::uint64_t kHashInitial = 0x45444745'53494d31;  // "EDGESIM1"

// One step of the chain: the hash after `event`, given the hash before it.
std::uint64_t chain_hash(std::uint64_t previous, const sim::TraceEvent& event);

class RunningHash {
 public:
  // Folds in one event; returns the new value.
  std::uint64_t update(const sim::TraceEvent& event);
  std::uint64_t value() const { return value_; }
  // Events folded in so far.
  std::uint64_t count() const { return count_; }

 private:
  std::uint64_t value_ = kHashInitial;
  std::uint64_t count_ = 0;
  std::string scratch_;  // reused encoding buffer: no allocation per event once warm
};

}  // namespace traces
