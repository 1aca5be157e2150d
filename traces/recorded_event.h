// An owned trace event with its place in the stream, and how to print one.
//
// sim::TraceEvent borrows its body for the duration of on_event(); RecordedEvent keeps a copy,
// so rings, readers and the replay comparer can hold events after the call returns.
// Event indices are 0-based positions in a run's event stream, everywhere in traces/.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "sim/event.h"
#include "sim/events.h"
#include "sim/time.h"

namespace traces {

struct RecordedEvent;
// Node id -> name, for printing. traces::node_names(header) builds one from a trace header.
using NodeNames = std::map<sim::NodeId, std::string>;

struct RecordedEvent {
  std::uint64_t index = 0;
  sim::Time time = 0;
  sim::NodeId node = sim::kNoNode;
  sim::ev::Body body;
  std::uint64_t hash = 0;  // the running hash after this event

  static RecordedEvent from(const sim::TraceEvent& event, std::uint64_t index, std::uint64_t hash);
  // Borrows this event's body: valid while this RecordedEvent lives and is not modified.
  sim::TraceEvent view() const { return {time, node, &body}; }
  // "net.send", from the body.
  std::string_view kind() const;
  // The body's fields on one line (sim::event_details), nodes named from `names`.
  std::string details(const NodeNames& names = {}) const;
  // Same time, node and body; index and hash are not compared.
  bool same_content(const sim::TraceEvent& event) const;

  bool operator==(const RecordedEvent& other) const;
};

// "12.500000s": seconds with microsecond precision, no padding; negative times keep their sign.
std::string format_seconds(sim::Time time);
// "0x0123456789abcdef": always 16 hex digits.
std::string format_hash(std::uint64_t hash);
// The node's name if known, "-" for sim::kNoNode, else "node 7".
std::string format_node(sim::NodeId node, const NodeNames& names);
// Makes text printable on one line: \n, \t, \\ and other control bytes become escapes.
std::string escape_text(std::string_view text);
// "#12 12.500000s lhr-1 net.send to=iad port=rpc msg=17 bytes=40"
std::string describe_event(const RecordedEvent& event, const NodeNames& names = {});

}  // namespace traces
