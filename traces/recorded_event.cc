#include "traces/recorded_event.h"

#include <cinttypes>
#include <cstdio>

namespace traces {

namespace {
bool same_body(const sim::ev::Body& a, const sim::ev::Body& b) {
  return a.kind_case() == b.kind_case() && a.SerializeAsString() == b.SerializeAsString();
}
}  // namespace

RecordedEvent RecordedEvent::from(const sim::TraceEvent& event, std::uint64_t index,
                                  std::uint64_t hash) {
  RecordedEvent r;
  r.index = index;
  r.time = event.time;
  r.node = event.node;
  r.body = *event.body;
  r.hash = hash;
  return r;
}

std::string_view RecordedEvent::kind() const { return sim::event_kind(body); }

std::string RecordedEvent::details(const NodeNames& names) const {
  return sim::event_details(body, [&names](sim::NodeId id) {
    auto it = names.find(id);
    return it == names.end() ? std::string() : it->second;
  });
}

bool RecordedEvent::same_content(const sim::TraceEvent& event) const {
  return time == event.time && node == event.node && same_body(body, *event.body);
}

bool RecordedEvent::operator==(const RecordedEvent& other) const {
  return index == other.index && time == other.time && node == other.node && hash == other.hash &&
         same_body(body, other.body);
}

std::string format_seconds(sim::Time time) {
  // Integer arithmetic: a double would round large times.
  std::uint64_t magnitude =
      time < 0 ? 0 - static_cast<std::uint64_t>(time) : static_cast<std::uint64_t>(time);
  std::uint64_t whole = magnitude / 1'000'000'000u;
  std::uint64_t micros = magnitude % 1'000'000'000u / 1'000u;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%s%" PRIu64 ".%06" PRIu64 "s", time < 0 ? "-" : "", whole,
                micros);
  return buf;
}

std::string format_hash(std::uint64_t hash) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%016" PRIx64, hash);
  return buf;
}

std::string format_node(sim::NodeId node, const NodeNames& names) {
  if (node == sim::kNoNode) return "-";
  auto it = names.find(node);
  if (it != names.end() && !it->second.empty()) return it->second;
  return "node " + std::to_string(node);
}

std::string escape_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (u < 0x20 || u == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", u);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string describe_event(const RecordedEvent& event, const NodeNames& names) {
  std::string out = "#" + std::to_string(event.index) + " " + format_seconds(event.time) + " " +
                    format_node(event.node, names) + " " + std::string(event.kind());
  const std::string details = event.details(names);
  if (!details.empty()) out += " " + details;
  return out;
}

}  // namespace traces
