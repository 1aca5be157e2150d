// Trace events: what a run emits for traces, replay, the determinism check and the checkers.
// sim/ only emits; traces/ hashes and stores; props/ rebuilds histories from them. An event is
// (virtual time, node, body): the body is one typed message of the registry sim/events.proto
// (sim/events.h), whose oneof case is the event's kind ("net.send", "do.commit", "op.invoke").
#pragma once

#include <cstdint>
#include <string_view>

#include "sim/time.h"

namespace edgesim::ev {
class Body;
}

namespace sim {

namespace ev = ::edgesim::ev;

using NodeId = std::int32_t;
inline constexpr NodeId kNoNode = -1;

struct TraceEvent {
  Time time = 0;
  NodeId node = kNoNode;
  const ev::Body* body = nullptr;  // never null for an emitted event
};

class EventSink {
 public:
  virtual ~EventSink() = default;
  // Called in emission order, on the simulation thread. Must not re-enter the World. The body
  // lives only for the call: copy what you keep.
  virtual void on_event(const TraceEvent& event) = 0;
};

}  // namespace sim
