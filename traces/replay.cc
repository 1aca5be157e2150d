#include "traces/replay.h"

#include <algorithm>
#include <utility>

namespace traces {
namespace {

std::string event_line(const RecordedEvent& e, const NodeNames& names) {
  std::string out =
      format_seconds(e.time) + "  " + format_node(e.node, names) + "  " + std::string(e.kind());
  const std::string details = e.details(names);
  if (!details.empty()) out += "  " + details;
  return out;
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out;
}

}  // namespace

std::vector<std::string> Divergence::differing_fields() const {
  std::vector<std::string> out;
  if (!expected || !actual) return out;
  if (expected->time != actual->time) out.push_back("time");
  if (expected->node != actual->node) out.push_back("node");
  if (expected->kind() != actual->kind()) {
    out.push_back("kind");
  } else if (expected->details() != actual->details()) {
    out.push_back("details");
  }
  if (expected->hash != actual->hash) out.push_back("hash");
  return out;
}

std::string Divergence::describe(const NodeNames& names) const {
  std::string out;
  std::string at = "#" + std::to_string(index);
  switch (kind) {
    case Kind::kChanged:
      out += "first divergence at event " + at + " (" + join(differing_fields()) + " differ):\n";
      break;
    case Kind::kMissing:
      out += "the new run ended early: it produced " + std::to_string(actual_count) +
             " events, the trace has " + std::to_string(expected_count) +
             "; the first missing event is " + at + ":\n";
      break;
    case Kind::kExtra:
      out += "the new run went past the end of the trace (" + std::to_string(expected_count) +
             " events); its first extra event is " + at + ":\n";
      break;
  }
  if (expected) out += "  expected: " + event_line(*expected, names) + "\n";
  if (actual) out += "  actual:   " + event_line(*actual, names) + "\n";
  if (!before.empty()) {
    out += "  the " + std::to_string(before.size()) + " events before it matched:\n";
    for (const RecordedEvent& e : before) {
      out += "    #" + std::to_string(e.index) + "  " + event_line(e, names) + "\n";
    }
  } else if (index == 0) {
    out += "  (it is the first event)\n";
  }
  return out;
}

ReplayComparer::ReplayComparer(std::vector<RecordedEvent> expected, std::size_t context_events)
    : expected_(std::move(expected)), context_events_(context_events) {}

void ReplayComparer::on_event(const sim::TraceEvent& event) {
  std::uint64_t index = hash_.count();
  std::uint64_t h = hash_.update(event);
  if (divergence_ || finished_) return;
  if (index >= expected_.size()) {
    diverge(Divergence::Kind::kExtra, index, RecordedEvent::from(event, index, h));
    return;
  }
  const RecordedEvent& want = expected_[index];
  if (!want.same_content(event) || want.hash != h) {
    diverge(Divergence::Kind::kChanged, index, RecordedEvent::from(event, index, h));
  }
}

const std::optional<Divergence>& ReplayComparer::finish() {
  if (finished_) return divergence_;
  finished_ = true;
  if (!divergence_ && hash_.count() < expected_.size()) {
    diverge(Divergence::Kind::kMissing, hash_.count(), std::nullopt);
  }
  if (divergence_) divergence_->actual_count = hash_.count();
  return divergence_;
}

void ReplayComparer::diverge(Divergence::Kind kind, std::uint64_t index,
                             std::optional<RecordedEvent> actual) {
  Divergence d;
  d.kind = kind;
  d.index = index;
  d.expected_count = expected_.size();
  d.actual_count = hash_.count();
  if (index < expected_.size()) d.expected = expected_[index];
  d.actual = std::move(actual);
  std::uint64_t first = index - std::min<std::uint64_t>(index, context_events_);
  for (std::uint64_t i = first; i < index && i < expected_.size(); ++i) {
    d.before.push_back(expected_[i]);
    // The stored index is authoritative for printing; fix it if the caller left it unset.
    d.before.back().index = i;
  }
  if (d.expected) d.expected->index = index;
  divergence_ = std::move(d);
}

}  // namespace traces
