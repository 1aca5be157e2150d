#include "traces/export.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "traces/test_util.h"

namespace traces {
namespace {

using nlohmann::json;

TEST(Timeline, LineFormat) {
  RecordedEvent e;
  e.time = 12'500'000'000;
  e.node = 0;
  e.body = test::net_send(1, 17, 40);
  EXPECT_EQ(timeline_line(e, {{0, "lhr-1"}, {1, "iad-1"}}),
            "   12.500000s  lhr-1       net.send     to=iad-1 port=rpc msg=17 bytes=40");
  e.node = sim::kNoNode;
  e.body = test::note("a\nb");
  EXPECT_EQ(timeline_line(e, {}), "   12.500000s  -           sim.note     text=a\\nb");
}

TEST(Timeline, HasEveryEventOnItsOwnLine) {
  auto events = test::make_events(50);
  std::ostringstream out;
  write_timeline(events, node_names(test::sample_header()), out);
  std::string text = out.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 50);
  std::istringstream lines(text);
  std::string line;
  for (const RecordedEvent& e : events) {
    ASSERT_TRUE(std::getline(lines, line));
    EXPECT_NE(line.find(e.kind()), std::string::npos) << line;
    EXPECT_NE(line.find(format_seconds(e.time)), std::string::npos) << line;
  }
}

TEST(Timeline, FromAReader) {
  auto events = test::make_events(20);
  auto reader = TraceReader::from_bytes(test::trace_bytes(events));
  ASSERT_TRUE(reader.ok());
  std::ostringstream out;
  ASSERT_TRUE(write_timeline(**reader, out).ok());
  std::string text = out.str();
  EXPECT_NE(text.find("# edgesim trace: scenario counter, seed 42"), std::string::npos) << text;
  EXPECT_NE(text.find("# node 1 iad-1 (iad)"), std::string::npos) << text;
  EXPECT_NE(text.find("# verdict ok (exit code 0), 20 events"), std::string::npos) << text;
  for (const RecordedEvent& e : events) EXPECT_NE(text.find(e.kind()), std::string::npos);
}

TEST(Timeline, FromADamagedReaderReturnsTheError) {
  std::string bytes = test::trace_bytes(test::make_events(20));
  auto reader = TraceReader::from_bytes(bytes.substr(0, bytes.size() - 3));
  ASSERT_TRUE(reader.ok());
  std::ostringstream out;
  EXPECT_FALSE(write_timeline(**reader, out).ok());
}

void check_chrome_json(const json& j, const std::vector<RecordedEvent>& events) {
  ASSERT_TRUE(j.contains("traceEvents"));
  std::vector<json> instants;
  std::map<int, std::string> threads;
  for (const json& e : j["traceEvents"]) {
    if (e["ph"] == "i") instants.push_back(e);
    if (e["ph"] == "M" && e["name"] == "thread_name") threads[e["tid"]] = e["args"]["name"];
  }
  ASSERT_EQ(instants.size(), events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(instants[i]["name"], events[i].kind());
    EXPECT_EQ(instants[i]["pid"], 0);
    int tid = events[i].node == sim::kNoNode ? kChromeWorldTid : events[i].node;
    EXPECT_EQ(instants[i]["tid"], tid);
    EXPECT_TRUE(threads.contains(tid)) << tid;
    EXPECT_DOUBLE_EQ(instants[i]["ts"].get<double>(), static_cast<double>(events[i].time) / 1000);
  }
  EXPECT_EQ(threads.at(0), "lhr-1 (lhr)");
  EXPECT_EQ(threads.at(kChromeWorldTid), "world");
}

TEST(ChromeTrace, IsValidJsonWithOneInstantPerEvent) {
  auto events = test::make_events(60);
  events[3].node = 9;  // not in the header's node table
  events[4].body = test::note("\xff\xfe not utf-8");
  std::ostringstream out;
  write_chrome_trace(test::sample_header(), events, out);
  json j = json::parse(out.str());
  check_chrome_json(j, events);
  EXPECT_EQ(j["otherData"]["scenario"], "counter");
  EXPECT_EQ(j["otherData"]["seed"], "42");
}

TEST(ChromeTrace, TimesAreMicroseconds) {
  RecordedEvent e;
  e.time = 12'500'000'000;
  e.node = 0;
  e.body = test::net_send(1, 1, 1);
  std::ostringstream out;
  write_chrome_trace(test::sample_header(), std::vector<RecordedEvent>{e}, out);
  json j = json::parse(out.str());
  for (const json& ev : j["traceEvents"]) {
    if (ev["ph"] == "i") {
      EXPECT_EQ(ev["ts"].get<double>(), 12'500'000.0);
      EXPECT_EQ(ev["cat"], "net");
      EXPECT_EQ(ev["s"], "t");
    }
  }
}

TEST(ChromeTrace, FromAReader) {
  auto events = test::make_events(60);
  auto reader = TraceReader::from_bytes(test::trace_bytes(events));
  ASSERT_TRUE(reader.ok());
  std::ostringstream out;
  ASSERT_TRUE(write_chrome_trace(**reader, out).ok());
  json j = json::parse(out.str());
  check_chrome_json(j, events);
  EXPECT_EQ(j["otherData"]["verdict"], "ok");
  EXPECT_EQ(j["otherData"]["event_count"], 60);
}

TEST(ChromeTrace, FromADamagedReaderStillWritesValidJson) {
  std::string bytes = test::trace_bytes(test::make_events(20));
  auto reader = TraceReader::from_bytes(bytes.substr(0, bytes.size() - 3));
  ASSERT_TRUE(reader.ok());
  std::ostringstream out;
  EXPECT_FALSE(write_chrome_trace(**reader, out).ok());
  EXPECT_TRUE(json::accept(out.str()));
}

}  // namespace
}  // namespace traces
