#include "traces/hash_sink.h"

#include <algorithm>

#include "sim/assert.h"

namespace traces {

HashSink::HashSink(HashSinkOptions options) : options_(options) {
  ring_.reserve(std::min<std::size_t>(options_.ring_size, 4096));
}

void HashSink::on_event(const sim::TraceEvent& event) {
  std::uint64_t index = hash_.count();
  std::uint64_t h = hash_.update(event);
  if (options_.keep_hashes) hashes_.push_back(h);
  if (options_.ring_size == 0 || index > options_.ring_stop_after) return;
  if (ring_.size() < options_.ring_size) {
    ring_.push_back(RecordedEvent::from(event, index, h));
  } else {
    // Reuse the slot's message.
    RecordedEvent& slot = ring_[ring_taken_ % options_.ring_size];
    slot.index = index;
    slot.time = event.time;
    slot.node = event.node;
    slot.body.CopyFrom(*event.body);
    slot.hash = h;
  }
  ++ring_taken_;
}

std::vector<RecordedEvent> HashSink::recent() const {
  std::vector<RecordedEvent> out;
  out.reserve(ring_.size());
  if (ring_.size() < options_.ring_size || ring_.empty()) {
    out = ring_;
    return out;
  }
  std::size_t start = ring_taken_ % options_.ring_size;
  for (std::size_t i = 0; i < ring_.size(); ++i) out.push_back(ring_[(start + i) % ring_.size()]);
  return out;
}

std::optional<RecordedEvent> HashSink::find(std::uint64_t index) const {
  for (const RecordedEvent& e : ring_) {
    if (e.index == index) return e;
  }
  return std::nullopt;
}

std::optional<std::uint64_t> first_difference(std::span<const std::uint64_t> a,
                                              std::span<const std::uint64_t> b) {
  std::size_t n = std::min(a.size(), b.size());
  auto [ia, ib] = std::mismatch(a.begin(), a.begin() + n, b.begin());
  if (ia != a.begin() + n) return static_cast<std::uint64_t>(ia - a.begin());
  if (a.size() != b.size()) return n;
  return std::nullopt;
}

std::optional<HashDifference> compare_hash_streams(const HashSink& a, const HashSink& b) {
  SIM_REQUIRE(a.keeps_hashes());
  SIM_REQUIRE(b.keeps_hashes());
  std::optional<std::uint64_t> index = first_difference(a.hashes(), b.hashes());
  if (!index) return std::nullopt;
  HashDifference d;
  d.index = *index;
  d.a_count = a.count();
  d.b_count = b.count();
  d.a_event = a.find(*index);
  d.b_event = b.find(*index);
  for (RecordedEvent& e : a.recent()) {
    if (e.index < *index) d.a_before.push_back(std::move(e));
  }
  return d;
}

std::string HashDifference::describe(const NodeNames& names) const {
  std::string out = "the two runs differ first at event #" + std::to_string(index) +
                    " (run 1 had " + std::to_string(a_count) + " events, run 2 had " +
                    std::to_string(b_count) + ")\n";
  if (!a_before.empty()) {
    out += "  both runs agree on the events before it:\n";
    for (const RecordedEvent& e : a_before) out += "    " + describe_event(e, names) + "\n";
  }
  auto side = [&](const char* label, const std::optional<RecordedEvent>& e, std::uint64_t count) {
    out += label;
    if (e) {
      out += describe_event(*e, names);
    } else if (index >= count) {
      out += "(the run ended after " + std::to_string(count) + " events)";
    } else {
      out += "(not kept: rerun with a ring that stops after event #" + std::to_string(index) + ")";
    }
    out += "\n";
  };
  side("  run 1: ", a_event, a_count);
  side("  run 2: ", b_event, b_count);
  return out;
}

}  // namespace traces
