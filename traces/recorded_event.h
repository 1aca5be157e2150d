// An owned trace event with its place in the stream, and how to print one.
//
// sim::TraceEvent borrows its strings for the duration of on_event(); RecordedEvent keeps them,
// so rings, readers and the replay comparer can hold events after the call returns.
// Event indices are 0-based positions in a run's event stream, everywhere in traces/.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "sim/event.h"
#include "sim/time.h"

namespace traces {

struct RecordedEvent {
  std::uint64_t index = 0;
  sim::Time time = 0;
  sim::NodeId node = sim::kNoNode;
  std::string kind;
  std::string details;
  std::uint64_t hash = 0;  // the running hash after this event

  static RecordedEvent from(const sim::TraceEvent& event, std::uint64_t index, std::uint64_t hash);
  // Borrows this event's strings: valid while this RecordedEvent lives and is not modified.
  sim::TraceEvent view() const { return {time, node, kind, details}; }
  // Same time, node, kind and details; index and hash are not compared.
  bool same_content(const sim::TraceEvent& event) const;

  bool operator==(const RecordedEvent&) const = default;
};

// Node id -> name, for printing. traces::node_names(header) builds one from a trace header.
using NodeNames = std::map<sim::NodeId, std::string>;

// "12.500000s": seconds with microsecond precision, no padding; negative times keep their sign.
std::string format_seconds(sim::Time time);
// "0x0123456789abcdef": always 16 hex digits.
std::string format_hash(std::uint64_t hash);
// The node's name if known, "-" for sim::kNoNode, else "node 7".
std::string format_node(sim::NodeId node, const NodeNames& names);
// Makes text printable on one line: \n, \t, \\ and other control bytes become escapes.
std::string escape_text(std::string_view text);
// "#12 12.500000s lhr-1 net.send to=iad msg=17"
std::string describe_event(const RecordedEvent& event, const NodeNames& names = {});

}  // namespace traces
