// Trace events: what a run emits for traces, replay and the determinism check. sim/ only emits;
// traces/ hashes and stores. An event is (virtual time, node, kind, details); kinds are short
// dotted names ("net.send", "node.crash", "fault.partition", "op.invoke").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "sim/time.h"

namespace sim {

using NodeId = std::int32_t;
inline constexpr NodeId kNoNode = -1;

struct TraceEvent {
  Time time = 0;
  NodeId node = kNoNode;
  std::string_view kind;
  std::string_view details;
};

class EventSink {
 public:
  virtual ~EventSink() = default;
  // Called in emission order, on the simulation thread. Must not re-enter the World.
  virtual void on_event(const TraceEvent& event) = 0;
};

}  // namespace sim
