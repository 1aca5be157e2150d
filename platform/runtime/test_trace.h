// Test helper: a sink that keeps every trace event as one line "<time> <kind> <details>".
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sim/event.h"
#include "sim/time.h"

namespace runtime::testing {

struct Trace : sim::EventSink {
  enum class TimeUnit { kNanoseconds, kMilliseconds };  // "1500000 ..." or "1ms ..."
  explicit Trace(TimeUnit unit = TimeUnit::kNanoseconds) : unit(unit) {}

  void on_event(const sim::TraceEvent& e) override {
    const std::string time = unit == TimeUnit::kNanoseconds
                                 ? std::to_string(e.time)
                                 : std::to_string(e.time / sim::kMillisecond) + "ms";
    events.push_back(time + " " + std::string(e.kind) + " " + std::string(e.details));
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

  TimeUnit unit;
  std::vector<std::string> events;
};

}  // namespace runtime::testing
