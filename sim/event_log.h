// sim::EventLog: an EventSink that keeps every event as text, "<kind> <details>" with node names
// (tests, debugging). Header-only; not for hot paths.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sim/events.h"
#include "sim/world.h"

namespace sim {

class EventLog final : public EventSink {
 public:
  struct Line {
    Time time = 0;
    NodeId node = kNoNode;
    std::string kind;
    std::string details;
    // "<kind> <details>"
    std::string text() const { return details.empty() ? kind : kind + " " + details; }
  };
  // Node ids print as names when a World is given.
  explicit EventLog(const World* world = nullptr) : world_(world) {}

  void on_event(const TraceEvent& e) override {
    const World* w = world_;
    lines_.push_back(Line{
        e.time, e.node, std::string(event_kind(*e.body)), event_details(*e.body, [w](NodeId id) {
          return w != nullptr && id >= 0 && static_cast<std::size_t>(id) < w->node_count()
                     ? w->nodes()[static_cast<std::size_t>(id)]->name()
                     : std::string();
        })});
  }

  const std::vector<Line>& lines() const { return lines_; }
  // Every event as "<kind> <details>".
  std::vector<std::string> texts() const {
    std::vector<std::string> out;
    for (const Line& l : lines_) out.push_back(l.text());
    return out;
  }
  // The details of the events of one kind.
  std::vector<std::string> details_of(std::string_view kind) const {
    std::vector<std::string> out;
    for (const Line& l : lines_) {
      if (l.kind == kind) out.push_back(l.details);
    }
    return out;
  }
  std::size_t count(std::string_view kind) const { return details_of(kind).size(); }
  bool has(std::string_view kind) const { return count(kind) > 0; }

 private:
  const World* world_;
  std::vector<Line> lines_;
};

}  // namespace sim
