#include "traces/export.h"

#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

namespace traces {
namespace {

using nlohmann::json;

std::string dump(const json& j) {
  // Details may hold any bytes; invalid UTF-8 becomes U+FFFD instead of an exception.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string pad_right(std::string s, std::size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

std::string pad_left(std::string s, std::size_t width) {
  if (s.size() < width) s.insert(0, width - s.size(), ' ');
  return s;
}

void write_header_lines(const Header& h, std::ostream& out) {
  out << "# edgesim trace: scenario " << h.scenario_name() << ", seed " << h.seed() << ", edgesim "
      << h.edgesim_version() << " (" << h.build_id() << ")\n";
  for (const auto& [key, value] :
       std::map<std::string, std::string>(h.options().begin(), h.options().end())) {
    out << "# option " << key << "=" << escape_text(value) << "\n";
  }
  for (const TraceNode& n : h.nodes()) {
    out << "# node " << n.id() << " " << n.name() << " (" << n.location() << ")\n";
  }
}

void write_footer_lines(const Footer& f, std::ostream& out) {
  out << "# verdict " << f.verdict() << " (exit code " << f.exit_code() << "), " << f.event_count()
      << " events, final hash " << format_hash(f.final_hash()) << "\n";
  for (const PropertyResult& p : f.properties()) {
    out << "# property " << p.name() << ": " << p.verdict();
    // A multi-line explanation (evidence, a timeline) keeps its lines, each marked as a comment.
    std::string_view rest = p.explanation();
    bool first = true;
    while (!rest.empty()) {
      const std::size_t nl = rest.find('\n');
      const std::string_view line = rest.substr(0, nl);
      out << (first ? ": " : "#   ") << escape_text(std::string(line)) << "\n";
      first = false;
      rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    }
    if (first) out << "\n";
  }
}

int chrome_tid(sim::NodeId node) { return node == sim::kNoNode ? kChromeWorldTid : node; }

std::string category(std::string_view kind) {
  std::size_t dot = kind.find('.');
  return std::string(dot == std::string_view::npos ? kind : kind.substr(0, dot));
}

// Writes the JSON object piece by piece, so a long trace needs no memory beyond one event.
class ChromeTraceStream {
 public:
  ChromeTraceStream(const Header& header, std::ostream& out)
      : header_(header), out_(out), names_(node_names(header)) {
    out_ << "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n";
    std::string process =
        "edgesim " + header.scenario_name() + " seed " + std::to_string(header.seed());
    emit(json{{"name", "process_name"}, {"ph", "M"}, {"pid", 0}, {"args", {{"name", process}}}});
    thread(kChromeWorldTid, "world");
    for (const TraceNode& n : header.nodes()) {
      std::string name = n.name().empty() ? "node " + std::to_string(n.id()) : n.name();
      if (!n.location().empty()) name += " (" + n.location() + ")";
      thread(n.id(), name);
    }
  }

  void event(const RecordedEvent& e) {
    int tid = chrome_tid(e.node);
    if (!named_.contains(tid)) thread(tid, "node " + std::to_string(e.node));
    json args = {{"index", e.index}};
    const std::string details = e.details(names_);
    if (!details.empty()) args["details"] = details;
    emit(json{{"name", e.kind()},
              {"cat", category(e.kind())},
              {"ph", "i"},
              {"s", "t"},
              {"ts", static_cast<double>(e.time) / 1000.0},
              {"pid", 0},
              {"tid", tid},
              {"args", std::move(args)}});
  }

  void end(const Footer* footer) {
    out_ << "\n],\"otherData\":";
    json other = {{"scenario", header_.scenario_name()},
                  {"seed", std::to_string(header_.seed())},
                  {"edgesim_version", header_.edgesim_version()},
                  {"build_id", header_.build_id()}};
    if (footer != nullptr) {
      other["verdict"] = footer->verdict();
      other["event_count"] = footer->event_count();
      other["final_hash"] = format_hash(footer->final_hash());
    }
    out_ << dump(other) << "}\n";
  }

 private:
  void emit(const json& j) {
    if (!first_) out_ << ",\n";
    first_ = false;
    out_ << dump(j);
  }

  void thread(int tid, const std::string& name) {
    named_.insert(tid);
    emit(json{{"name", "thread_name"},
              {"ph", "M"},
              {"pid", 0},
              {"tid", tid},
              {"args", {{"name", name}}}});
    // Keeps the threads in node order, the world first.
    int sort_index = tid == kChromeWorldTid ? -1 : tid;
    emit(json{{"name", "thread_sort_index"},
              {"ph", "M"},
              {"pid", 0},
              {"tid", tid},
              {"args", {{"sort_index", sort_index}}}});
  }

  const Header& header_;
  std::ostream& out_;
  NodeNames names_;
  bool first_ = true;
  std::set<int> named_;
};

}  // namespace

std::string timeline_line(const RecordedEvent& event, const NodeNames& names) {
  std::string line = pad_left(format_seconds(event.time), 13) + "  " +
                     pad_right(format_node(event.node, names), 10) + "  " +
                     pad_right(std::string(event.kind()), 12);
  const std::string details = event.details(names);
  if (!details.empty()) line += " " + details;
  return line;
}

void write_timeline(std::span<const RecordedEvent> events, const NodeNames& names,
                    std::ostream& out) {
  for (const RecordedEvent& e : events) out << timeline_line(e, names) << "\n";
}

sim::Status write_timeline(TraceReader& reader, std::ostream& out) {
  write_header_lines(reader.header(), out);
  NodeNames names = node_names(reader.header());
  while (true) {
    auto e = reader.next();
    if (!e.ok()) return e.error();
    if (*e == nullptr) break;
    out << timeline_line(**e, names) << "\n";
  }
  write_footer_lines(reader.footer(), out);
  return sim::Status::Ok();
}

void write_chrome_trace(const Header& header, std::span<const RecordedEvent> events,
                        std::ostream& out) {
  ChromeTraceStream stream(header, out);
  for (const RecordedEvent& e : events) stream.event(e);
  stream.end(nullptr);
}

sim::Status write_chrome_trace(TraceReader& reader, std::ostream& out) {
  ChromeTraceStream stream(reader.header(), out);
  while (true) {
    auto e = reader.next();
    if (!e.ok()) {
      // Close the JSON so what was read stays loadable; the caller still gets the error.
      stream.end(nullptr);
      return e.error();
    }
    if (*e == nullptr) break;
    stream.event(**e);
  }
  stream.end(&reader.footer());
  return sim::Status::Ok();
}

}  // namespace traces
