// HashSink: the sink for the determinism check. It hashes every event and can keep, on request,
// the per-event hash stream (to find the first event where two runs differ) and a ring of the
// most recent events (to show what they were).
//
// The check runs a seed twice with {keep_hashes}, then compare_hash_streams() names the first
// differing index k. If the rings no longer hold event k, rerun both with
// {ring_size = K, ring_stop_after = k + 2}: each ring then ends just past the divergence.
//
// Memory: 8 bytes per event with keep_hashes; ring_size events otherwise. Single-threaded, like
// every sink.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "sim/event.h"
#include "traces/hash.h"
#include "traces/recorded_event.h"

namespace traces {

struct HashSinkOptions {
  // Keep the last ring_size events (0: none).
  std::size_t ring_size = 0;
  // The ring stops taking events after this index, so it keeps the ring_size events up to it.
  std::uint64_t ring_stop_after = std::numeric_limits<std::uint64_t>::max();
  // Keep the hash after every event.
  bool keep_hashes = false;
};

class HashSink : public sim::EventSink {
 public:
  explicit HashSink(HashSinkOptions options = {});

  void on_event(const sim::TraceEvent& event) override;

  std::uint64_t value() const { return hash_.value(); }
  std::uint64_t count() const { return hash_.count(); }
  // hashes()[i] is the running hash after event i. Empty unless options.keep_hashes.
  const std::vector<std::uint64_t>& hashes() const { return hashes_; }
  bool keeps_hashes() const { return options_.keep_hashes; }
  // The ring's events, oldest first.
  std::vector<RecordedEvent> recent() const;
  // Event `index` if the ring still holds it.
  std::optional<RecordedEvent> find(std::uint64_t index) const;

 private:
  HashSinkOptions options_;
  RunningHash hash_;
  std::vector<std::uint64_t> hashes_;
  std::vector<RecordedEvent> ring_;  // ring_[i % ring_size]
  std::uint64_t ring_taken_ = 0;     // events ever put in the ring
};

// The first index at which two per-event hash streams differ; when one is a prefix of the other,
// the length of the shorter. nullopt when they are equal.
std::optional<std::uint64_t> first_difference(std::span<const std::uint64_t> a,
                                              std::span<const std::uint64_t> b);

struct HashDifference {
  std::uint64_t index = 0;
  std::uint64_t a_count = 0;  // events in each run
  std::uint64_t b_count = 0;
  // The two events at `index`, when the rings still hold them (absent also when a run ended).
  std::optional<RecordedEvent> a_event;
  std::optional<RecordedEvent> b_event;
  // The events of run a just before `index` that the ring still holds (they match run b's).
  std::vector<RecordedEvent> a_before;

  std::string describe(const NodeNames& names = {}) const;
};

// The first event where two runs differ, or nullopt when their streams are identical.
// REQUIRES: both sinks were made with keep_hashes.
std::optional<HashDifference> compare_hash_streams(const HashSink& a, const HashSink& b);

}  // namespace traces
