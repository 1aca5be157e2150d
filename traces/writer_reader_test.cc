#include <fcntl.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <filesystem>

#include "traces/reader.h"
#include "traces/test_util.h"
#include "traces/writer.h"

namespace traces {
namespace {

using google::protobuf::util::MessageDifferencer;
using test::TempDir;

void expect_round_trip(const std::vector<RecordedEvent>& events, WriterOptions options) {
  TempDir dir;
  std::string path = dir.file("run.trace");
  test::write_trace(path, events, options);
  auto trace = read_trace(path);
  ASSERT_TRUE(trace.ok()) << trace.error().to_string();
  Header want_header = test::sample_header();
  want_header.set_format_version(kFormatVersion);
  EXPECT_TRUE(MessageDifferencer::Equals(trace->header, want_header));
  EXPECT_EQ(trace->events, events);
  EXPECT_EQ(trace->footer.verdict(), "ok");
  EXPECT_EQ(trace->footer.event_count(), events.size());
  EXPECT_EQ(trace->footer.final_hash(), events.empty() ? kHashInitial : events.back().hash);
  EXPECT_EQ(trace->footer.stats().at("net.messages"), 17u);
  EXPECT_EQ(trace->footer.properties(0).name(), "do.linearizable");
}

TEST(TraceFile, RoundTrip) { expect_round_trip(test::make_events(1000), {}); }
TEST(TraceFile, RoundTripEmpty) { expect_round_trip({}, {}); }
TEST(TraceFile, RoundTripZstd) {
  expect_round_trip(test::make_events(1000), {.compression = Compression::kZstd});
}
TEST(TraceFile, RoundTripWithSmallBuffers) {
  expect_round_trip(test::make_events(300), {.buffer_bytes = 1});
  expect_round_trip(test::make_events(300), {.compression = Compression::kZstd, .buffer_bytes = 1});
}

TEST(TraceFile, ZstdIsSmallerAndMarkedInTheMagic) {
  auto events = test::make_events(2000);
  std::string plain = test::trace_bytes(events);
  std::string packed = test::trace_bytes(events, {.compression = Compression::kZstd});
  EXPECT_EQ(plain.substr(0, 8), "EDGESIMT");
  EXPECT_EQ(packed.substr(0, 8), "EDGESIMZ");
  EXPECT_LT(packed.size(), plain.size() * 3 / 4);
  auto reader = TraceReader::from_bytes(packed);
  ASSERT_TRUE(reader.ok()) << reader.error().to_string();
  EXPECT_EQ((*reader)->compression(), Compression::kZstd);
}

RC_GTEST_PROP(TraceFile, RandomEventsRoundTrip, ()) {
  auto raw = *rc::gen::container<
      std::vector<std::tuple<sim::Time, sim::NodeId, std::string, std::string>>>(
      rc::gen::tuple(rc::gen::arbitrary<sim::Time>(), rc::gen::arbitrary<sim::NodeId>(),
                     rc::gen::arbitrary<std::string>(), rc::gen::arbitrary<std::string>()));
  std::vector<RecordedEvent> events;
  RunningHash hash;
  for (auto& [time, node, kind, details] : raw) {
    const sim::ev::Body body = kind.size() % 2 == 0 ? test::note(kind + details)
                                                    : test::net_send(node, time, details.size());
    sim::TraceEvent e{time, node, &body};
    events.push_back(RecordedEvent::from(e, events.size(), hash.update(e)));
  }
  bool zstd = *rc::gen::arbitrary<bool>();
  std::string bytes =
      test::trace_bytes(events, {.compression = zstd ? Compression::kZstd : Compression::kNone});
  auto trace = read_trace_bytes(bytes);
  RC_ASSERT(trace.ok());
  RC_ASSERT(trace->events == events);
  RC_ASSERT(trace->footer.final_hash() == hash.value());
}

TEST(TraceFile, WritingIsDeterministic) {
  auto events = test::make_events(200);
  // Map fields (options, scenario files, stats) are written in key order.
  EXPECT_EQ(test::trace_bytes(events), test::trace_bytes(events));
}

TEST(TraceFile, StreamingReaderReportsProgress) {
  auto events = test::make_events(10);
  auto reader = TraceReader::from_bytes(test::trace_bytes(events), "x.trace");
  ASSERT_TRUE(reader.ok());
  TraceReader& r = **reader;
  EXPECT_EQ(r.name(), "x.trace");
  EXPECT_EQ(r.header().scenario_name(), "counter");
  EXPECT_EQ(node_names(r.header()).at(1), "iad-1");
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_FALSE(r.at_end());
    auto e = r.next();
    ASSERT_TRUE(e.ok()) << e.error().to_string();
    ASSERT_NE(*e, nullptr);
    EXPECT_EQ(**e, events[i]);
    EXPECT_EQ(r.events_read(), i + 1);
  }
  auto end = r.next();
  ASSERT_TRUE(end.ok()) << end.error().to_string();
  EXPECT_EQ(*end, nullptr);
  EXPECT_TRUE(r.at_end());
  EXPECT_EQ(r.footer().event_count(), 10u);
  // Past the end, next() keeps answering "no more events".
  auto again = r.next();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, nullptr);
}

TEST(TraceWriter, TargetAppearsOnlyAtFinish) {
  TempDir dir;
  std::string path = dir.file("run.trace");
  auto writer = TraceWriter::open(path, test::sample_header());
  ASSERT_TRUE(writer.ok()) << writer.error().to_string();
  TraceWriter& w = **writer;
  test::feed(w, test::make_events(5000));
  EXPECT_FALSE(test::file_exists(path));
  EXPECT_TRUE(test::file_exists(w.temp_path()));
  EXPECT_EQ(w.temp_path().rfind(path + ".tmp-", 0), 0u) << w.temp_path();
  ASSERT_TRUE(w.finish(test::sample_footer()).ok());
  EXPECT_TRUE(w.finished());
  EXPECT_TRUE(test::file_exists(path));
  EXPECT_FALSE(test::file_exists(w.temp_path()));
  EXPECT_EQ(dir.list(), std::vector<std::string>{"run.trace"});
  auto trace = read_trace(path);
  ASSERT_TRUE(trace.ok()) << trace.error().to_string();
  EXPECT_EQ(trace->events.size(), 5000u);
}

TEST(TraceWriter, AnOldFileKeepsItsContentUntilFinish) {
  TempDir dir;
  std::string path = dir.file("run.trace");
  test::write_file(path, "old content");
  auto writer = TraceWriter::open(path, test::sample_header());
  ASSERT_TRUE(writer.ok());
  test::feed(**writer, test::make_events(3000));
  EXPECT_EQ(test::read_file(path), "old content");
  ASSERT_TRUE((*writer)->finish(test::sample_footer()).ok());
  EXPECT_TRUE(read_trace(path).ok());
}

TEST(TraceWriter, DestroyedWithoutFinishLeavesNothing) {
  TempDir dir;
  std::string path = dir.file("run.trace");
  test::write_file(path, "old content");
  std::string temp;
  {
    auto writer = TraceWriter::open(path, test::sample_header());
    ASSERT_TRUE(writer.ok());
    test::feed(**writer, test::make_events(3000));
    temp = (*writer)->temp_path();
    EXPECT_TRUE(test::file_exists(temp));
  }
  EXPECT_FALSE(test::file_exists(temp));
  EXPECT_EQ(test::read_file(path), "old content");
  EXPECT_EQ(dir.list(), std::vector<std::string>{"run.trace"});
}

TEST(TraceWriter, AbortThenFinishIsAnError) {
  TempDir dir;
  auto writer = TraceWriter::open(dir.file("run.trace"), test::sample_header());
  ASSERT_TRUE(writer.ok());
  (*writer)->abort();
  (*writer)->abort();  // idempotent
  sim::Status s = (*writer)->finish(test::sample_footer());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("aborted"), std::string::npos);
  EXPECT_TRUE(dir.list().empty());
}

TEST(TraceWriter, FinishTwiceIsAnErrorAndChangesNothing) {
  TempDir dir;
  std::string path = dir.file("run.trace");
  auto writer = TraceWriter::open(path, test::sample_header(), {.sync = false});
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->finish(test::sample_footer()).ok());
  std::string bytes = test::read_file(path);
  sim::Status again = (*writer)->finish(test::sample_footer());
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find("already finished"), std::string::npos);
  EXPECT_EQ(test::read_file(path), bytes);
}

TEST(TraceWriter, CannotCreateIsAnErrorValue) {
  auto writer = TraceWriter::open("/nonexistent-dir/x/run.trace", test::sample_header());
  ASSERT_FALSE(writer.ok());
  EXPECT_EQ(writer.error().message,
            "/nonexistent-dir/x/run.trace: the directory /nonexistent-dir/x does not exist");
}

// Only a regular file is ever replaced: a device, a directory or a link at the path is refused
// when the writer opens (before a run), and nothing is written.
TEST(TraceWriter, RefusesTargetsThatAreNotRegularFiles) {
  TempDir dir;
  auto dev = TraceWriter::open("/dev/null", test::sample_header());
  ASSERT_FALSE(dev.ok());
  EXPECT_EQ(dev.error().message,
            "/dev/null: exists and is not a regular file (a trace replaces only a regular file)");
  auto d = TraceWriter::open(dir.path(), test::sample_header());
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().message, dir.path() + ": is a directory, not a trace file");
  const std::string victim = dir.file("victim");
  test::write_file(victim, "keep");
  const std::string link = dir.file("link.trace");
  ASSERT_EQ(::symlink(victim.c_str(), link.c_str()), 0);
  auto l = TraceWriter::open(link, test::sample_header());
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(test::read_file(victim), "keep");
  ::unlink(link.c_str());
}

// A run ended by SIGTERM or SIGINT leaves no temp file behind.
TEST(TraceWriter, ASignalRemovesTheTempFile) {
  for (int sig : {SIGTERM, SIGINT}) {
    TempDir dir;
    const std::string path = dir.file("run.trace");
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      auto writer = TraceWriter::open(path, test::sample_header(), {.sync = false});
      if (!writer.ok()) ::_exit(10);
      ::raise(sig);
      ::_exit(11);  // not reached
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status)) << "exit " << WEXITSTATUS(status);
    EXPECT_EQ(WTERMSIG(status), sig);
    std::vector<std::string> left;
    for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
      left.push_back(e.path().filename().string());
    }
    EXPECT_TRUE(left.empty()) << left.front();
  }
}

TEST(TraceWriter, WriteErrorsAreLatchedAndReturnedByFinish) {
  if (!test::file_exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  // Swap the writer's descriptor for /dev/full, which fails every write with ENOSPC.
  TempDir dir;
  std::string path = dir.file("run.trace");
  auto writer = TraceWriter::open(path, test::sample_header(), {.buffer_bytes = 64});
  ASSERT_TRUE(writer.ok());
  int full = ::open("/dev/full", O_WRONLY);
  ASSERT_GE(full, 0);
  int fd = -1;
  for (int candidate = 3; candidate < 1024; ++candidate) {
    // The writer's fd is the one open on its temp file.
    char link[64];
    std::snprintf(link, sizeof link, "/proc/self/fd/%d", candidate);
    char target[4096];
    ssize_t n = ::readlink(link, target, sizeof target - 1);
    if (n > 0 && std::string(target, n) == (*writer)->temp_path()) {
      fd = candidate;
      break;
    }
  }
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::dup2(full, fd), fd);
  ::close(full);
  test::feed(**writer, test::make_events(100));
  EXPECT_FALSE((*writer)->status().ok());
  sim::Status s = (*writer)->finish(test::sample_footer());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, sim::ErrorKind::kIo);
  EXPECT_NE(s.error().message.find("No space left"), std::string::npos) << s.error().message;
  EXPECT_TRUE(dir.list().empty());
  EXPECT_FALSE(test::file_exists(path));
}

TEST(TraceWriter, OversizedEventIsAnErrorNotACrash) {
  TempDir dir;
  std::string path = dir.file("run.trace");
  auto writer = TraceWriter::open(path, test::sample_header(), {.sync = false});
  ASSERT_TRUE(writer.ok());
  std::string huge(kRecordBytesMax + 1, 'x');
  const sim::ev::Body big = test::note(huge);
  const sim::ev::Body after = test::note("after");
  (*writer)->on_event({1, 0, &big});
  (*writer)->on_event({2, 0, &after});
  sim::Status s = (*writer)->finish(test::sample_footer());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("event #0"), std::string::npos) << s.error().message;
  EXPECT_FALSE(test::file_exists(path));
}

TEST(TraceReader, MissingFileIsAnErrorValue) {
  auto r = TraceReader::open("/nonexistent/run.trace");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, sim::ErrorKind::kIo);
  EXPECT_NE(r.error().message.find("/nonexistent/run.trace"), std::string::npos);
}

TEST(TraceReader, ADirectoryIsAnErrorValue) {
  TempDir dir;
  auto t = read_trace(dir.path());
  ASSERT_FALSE(t.ok());
}

TEST(TraceReader, UnsupportedVersion) {
  // Version 1 (string events, before typed events) by hand.
  std::string bytes(kMagicPlain);
  edgesim::trace::Record record;
  record.mutable_header()->set_format_version(1);
  std::string payload = record.SerializeAsString();
  bytes.push_back(static_cast<char>(payload.size()));
  bytes += payload;
  auto r = TraceReader::from_bytes(bytes, "v1.trace");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "v1.trace: unsupported trace format version 1 (this build reads 3)");
}

}  // namespace
}  // namespace traces
