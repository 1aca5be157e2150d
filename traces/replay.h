// ReplayComparer: checks a new run's event stream against a recorded one, event by event, and
// names the first divergence (the heart of `edgesim replay`).
//
// Register it as the new run's sink, run, then call finish(). The comparison stops at the first
// divergence (later events are only counted); finish() also reports a run that produced fewer
// events than the trace. A run that produces more is reported at its first extra event.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/event.h"
#include "traces/hash.h"
#include "traces/recorded_event.h"

namespace traces {

struct Divergence {
  enum class Kind {
    kChanged,  // event #index differs
    kMissing,  // the new run ended before event #index of the trace
    kExtra,    // the new run produced event #index, past the trace's end
  };
  Kind kind = Kind::kChanged;
  std::uint64_t index = 0;
  std::optional<RecordedEvent> expected;  // absent for kExtra
  std::optional<RecordedEvent> actual;    // absent for kMissing; its hash is the new run's
  // The matching events just before `index`, oldest first (at most the comparer's context).
  std::vector<RecordedEvent> before;
  std::uint64_t expected_count = 0;  // events in the trace
  std::uint64_t actual_count = 0;    // events the new run produced (complete after finish())

  // For kChanged: the fields that differ, among "time", "node", "kind", "details", "hash".
  std::vector<std::string> differing_fields() const;
  // Several lines, ending with a newline; times print as seconds ("12.500000s").
  std::string describe(const NodeNames& names = {}) const;
};

class ReplayComparer : public sim::EventSink {
 public:
  static constexpr std::size_t kContextEventsDefault = 5;

  explicit ReplayComparer(std::vector<RecordedEvent> expected,
                          std::size_t context_events = kContextEventsDefault);

  void on_event(const sim::TraceEvent& event) override;

  // Ends the comparison and returns the first divergence, if any. Idempotent.
  const std::optional<Divergence>& finish();

  const std::optional<Divergence>& divergence() const { return divergence_; }
  bool diverged() const { return divergence_.has_value(); }
  std::uint64_t events_seen() const { return hash_.count(); }
  // The new run's running hash.
  std::uint64_t hash() const { return hash_.value(); }

 private:
  void diverge(Divergence::Kind kind, std::uint64_t index, std::optional<RecordedEvent> actual);

  std::vector<RecordedEvent> expected_;
  std::size_t context_events_;
  RunningHash hash_;
  std::optional<Divergence> divergence_;
  bool finished_ = false;
};

}  // namespace traces
