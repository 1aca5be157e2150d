// Exporters: a trace as a human timeline, or as Chrome/Perfetto trace JSON
// (open it at https://ui.perfetto.dev or chrome://tracing).
//
// Each comes in two forms: over events in memory, and streaming from a TraceReader (constant
// memory; writes the events the reader has not returned yet, then the footer). Output depends
// only on the trace, so it is deterministic.
#pragma once

#include <ostream>
#include <span>

#include "sim/result.h"
#include "traces/reader.h"
#include "traces/recorded_event.h"
#include "traces/trace_file.h"

namespace traces {

// The Chrome trace thread that shows events of no node (sim::kNoNode).
inline constexpr int kChromeWorldTid = 1'000'000;

// One line: "   12.500000s  lhr-1       net.send     to=iad msg=17 bytes=40" (no newline).
// Control characters in kind and details are escaped, so an event is always one line.
std::string timeline_line(const RecordedEvent& event, const NodeNames& names);

// One line per event.
void write_timeline(std::span<const RecordedEvent> events, const NodeNames& names,
                    std::ostream& out);
// "# " lines describing the header, one line per event, then "# " lines for the footer.
sim::Status write_timeline(TraceReader& reader, std::ostream& out);

// A JSON object {"traceEvents": [...], "displayTimeUnit": "ns", "otherData": {...}}: one instant
// event ("ph": "i") per trace event, pid 0, tid = node id (kChromeWorldTid for no node), ts in
// microseconds, details in args; thread names from the header's node table.
void write_chrome_trace(const Header& header, std::span<const RecordedEvent> events,
                        std::ostream& out);
sim::Status write_chrome_trace(TraceReader& reader, std::ostream& out);

}  // namespace traces
