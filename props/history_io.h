// Rebuilds the operation history (sim::Operation) from trace events, so that the checkers run on
// trace files exactly as on live runs.
//
// sim::History writes three event kinds (sim/history.cc); their details are parsed here:
//   op.invoke    "op=<id> client=<c> object=<o> key=<k> kind=<kind> input=<input>"
//   op.complete  "op=<id> status=<ok|fail|unknown> output=<output>"
//   op.effect    "op=<id> seq=<n>"
// The event's time is the invoke or completion time and its node the op's node. An unknown
// completion leaves complete = kTimeMax, as History does. Other event kinds are ignored.
//
// Parsing: fields come in this fixed order; each value runs up to the next field's " name="
// marker, and the last field (input, output) takes the rest of the details, so inputs and
// outputs may hold anything (spaces, '=', newlines, empty). The format is ambiguous only if a
// client, object, key or kind contains the next field's marker (e.g. a key containing
// " kind="); such values are misread, not rejected.
//
// Errors are values (kInvalid) naming the event index: malformed details, an unknown status, a
// completion or effect for an op never invoked, an op invoked, completed or given an effect twice.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/history.h"
#include "sim/result.h"
#include "traces/recorded_event.h"

namespace props {

// Incremental: feed events in stream order, then take the history.
class HistoryBuilder {
 public:
  // Ignores events that are not op.*. On error the builder is unchanged.
  sim::Status add(const traces::RecordedEvent& event);
  // The operations ordered by id. Operations never completed stay kPending.
  std::vector<sim::Operation> take();

 private:
  std::map<sim::OpId, sim::Operation> ops_;
};

sim::Result<std::vector<sim::Operation>> history_from_events(
    const std::vector<traces::RecordedEvent>& events);

// Streams a trace file (plain or zstd) through traces::TraceReader; reader errors pass through.
sim::Result<std::vector<sim::Operation>> history_from_trace_file(const std::string& path);

}  // namespace props
