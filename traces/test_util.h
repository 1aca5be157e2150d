// Helpers shared by the traces/ tests.
#pragma once

#include <dirent.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "sim/event.h"
#include "sim/events.h"
#include "traces/hash.h"
#include "traces/recorded_event.h"
#include "traces/trace_file.h"
#include "traces/writer.h"

namespace traces::test {

// A temporary directory, removed (with its files) at the end of the scope.
class TempDir {
 public:
  TempDir() {
    std::string pattern = ::testing::TempDir() + "edgesim-traces-XXXXXX";
    char* made = ::mkdtemp(pattern.data());
    EXPECT_NE(made, nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    if (DIR* dir = ::opendir(path_.c_str())) {
      while (dirent* entry = ::readdir(dir)) {
        std::string name = entry->d_name;
        if (name != "." && name != "..") ::unlink((path_ + "/" + name).c_str());
      }
      ::closedir(dir);
    }
    ::rmdir(path_.c_str());
  }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  std::vector<std::string> list() const {
    std::vector<std::string> names;
    if (DIR* dir = ::opendir(path_.c_str())) {
      while (dirent* entry = ::readdir(dir)) {
        std::string name = entry->d_name;
        if (name != "." && name != "..") names.push_back(name);
      }
      ::closedir(dir);
    }
    return names;
  }

 private:
  std::string path_;
};

inline bool file_exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

// A sim.note event's body.
inline sim::ev::Body note(std::string text) {
  sim::ev::Body b;
  b.mutable_sim_note()->set_text(std::move(text));
  return b;
}

// A net.send event's body.
inline sim::ev::Body net_send(sim::NodeId to, std::uint64_t msg, std::uint64_t bytes) {
  sim::ev::Body b;
  auto& e = *b.mutable_net_send();
  e.set_to(to);
  e.set_port("rpc");
  e.set_msg(msg);
  e.set_bytes(bytes);
  return b;
}

// Deterministic pseudo-random events (splitmix64), with their running hashes filled in.
inline std::vector<RecordedEvent> make_events(std::size_t n, std::uint64_t seed = 1) {
  auto next = [&seed]() {
    std::uint64_t z = (seed += 0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
    return z ^ (z >> 31);
  };
  std::vector<RecordedEvent> events;
  RunningHash hash;
  sim::Time t = 0;
  for (std::size_t i = 0; i < n; ++i) {
    RecordedEvent e;
    e.index = i;
    t += static_cast<sim::Time>(next() % 50'000'000);
    e.time = t;
    e.node = static_cast<sim::NodeId>(next() % 5) - 1;
    switch (next() % 4) {
      case 0: {
        auto& m = *e.body.mutable_net_send();
        m.set_msg(i);
        m.set_to(static_cast<sim::NodeId>(next() % 9));
        m.set_port("rpc");
        break;
      }
      case 1:
        e.body.mutable_node_crash()->set_incarnation(next() % 3);
        break;
      case 2: {
        auto& m = *e.body.mutable_op_invoke();
        m.set_op(i);
        m.set_client("c" + std::to_string(next() % 4));
        m.set_input("msg=" + std::to_string(i));
        if (i % 7 == 3) m.mutable_input()->append(std::string("\n\x01\xff", 3));  // any bytes
        break;
      }
      default:
        e.body.mutable_sim_note()->set_text("note " + std::to_string(i) +
                                            (i % 5 == 1 ? std::string("\0\xfe", 2) : ""));
    }
    e.hash = hash.update(e.view());
    events.push_back(std::move(e));
  }
  return events;
}

inline Header sample_header() {
  Header h;
  h.set_edgesim_version("0.1.0");
  h.set_build_id("0.1.0-test");
  h.set_seed(42);
  h.set_scenario_name("counter");
  (*h.mutable_options())["faults"] = "swarm";
  (*h.mutable_options())["net.loss"] = "0.01";
  (*h.mutable_scenario_files())["worker.js"] = "export default { fetch() {} }";
  (*h.mutable_scenario_files())["wrangler.jsonc"] = "{}";
  h.set_fault_plan("at 12.5s partition {lhr} | {iad,fra}");
  const char* names[] = {"lhr-1", "iad-1", "fra-1"};
  const char* locations[] = {"lhr", "iad", "fra"};
  for (int i = 0; i < 3; ++i) {
    TraceNode* n = h.add_nodes();
    n->set_id(i);
    n->set_name(names[i]);
    n->set_location(locations[i]);
  }
  return h;
}

inline Footer sample_footer() {
  Footer f;
  f.set_verdict("ok");
  f.set_exit_code(0);
  PropertyResult* p = f.add_properties();
  p->set_name("do.linearizable");
  p->set_verdict("ok");
  (*f.mutable_stats())["net.messages"] = 17;
  return f;
}

inline void feed(sim::EventSink& sink, const std::vector<RecordedEvent>& events) {
  for (const RecordedEvent& e : events) sink.on_event(e.view());
}

// Writes a whole trace to `path`; fails the test on error.
inline void write_trace(const std::string& path, const std::vector<RecordedEvent>& events,
                        WriterOptions options = {}, Header header = sample_header(),
                        Footer footer = sample_footer()) {
  options.sync = false;
  auto writer = TraceWriter::open(path, std::move(header), options);
  ASSERT_TRUE(writer.ok()) << writer.error().to_string();
  feed(**writer, events);
  sim::Status s = (*writer)->finish(std::move(footer));
  ASSERT_TRUE(s.ok()) << s.error().to_string();
}

// The bytes of a trace of `events`.
inline std::string trace_bytes(const std::vector<RecordedEvent>& events,
                               WriterOptions options = {}) {
  TempDir dir;
  std::string path = dir.file("t.trace");
  write_trace(path, events, options);
  return read_file(path);
}

}  // namespace traces::test
