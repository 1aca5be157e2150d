// Test helper: a sink that keeps every trace event as one line "<time> <kind> <details>" (nodes by
// name when it knows the World).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sim/event.h"
#include "sim/events.h"
#include "sim/time.h"
#include "sim/world.h"

namespace runtime::testing {

struct Trace : sim::EventSink {
  enum class TimeUnit { kNanoseconds, kMilliseconds };  // "1500000 ..." or "1ms ..."
  explicit Trace(TimeUnit unit = TimeUnit::kNanoseconds, const sim::World* world = nullptr)
      : unit(unit), world(world) {}
  explicit Trace(const sim::World* world) : world(world) {}

  void on_event(const sim::TraceEvent& e) override {
    const std::string time = unit == TimeUnit::kNanoseconds
                                 ? std::to_string(e.time)
                                 : std::to_string(e.time / sim::kMillisecond) + "ms";
    const sim::World* w = world;
    events.push_back(time + " " + std::string(sim::event_kind(*e.body)) + " " +
                     sim::event_details(*e.body, [w](sim::NodeId id) {
                       return w != nullptr && id >= 0 &&
                                      static_cast<std::size_t>(id) < w->node_count()
                                  ? w->nodes()[static_cast<std::size_t>(id)]->name()
                                  : std::string();
                     }));
  }
  // The events of one kind, whole lines.
  std::vector<std::string> of_kind(std::string_view kind) const {
    std::vector<std::string> out;
    for (const auto& e : events) {
      if (e.find(" " + std::string(kind) + " ") != std::string::npos) out.push_back(e);
    }
    return out;
  }
  std::size_t count(std::string_view kind) const { return of_kind(kind).size(); }

  TimeUnit unit = TimeUnit::kNanoseconds;
  const sim::World* world = nullptr;
  std::vector<std::string> events;
};

}  // namespace runtime::testing
