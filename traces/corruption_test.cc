// The reader against damaged files: every damage is an error value, never a crash or a hang.
#include <google/protobuf/stubs/logging.h>
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <set>

#include "traces/reader.h"
#include "traces/test_util.h"

namespace traces {
namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Offsets where records start (after the magic), found by walking the length prefixes.
std::vector<std::size_t> record_starts(const std::string& bytes) {
  std::vector<std::size_t> starts;
  std::size_t pos = kMagicBytes;
  while (pos < bytes.size()) {
    starts.push_back(pos);
    std::uint64_t size = 0;
    int shift = 0;
    while (true) {
      auto b = static_cast<unsigned char>(bytes[pos++]);
      size |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      shift += 7;
      if ((b & 0x80) == 0) break;
    }
    pos += size;
  }
  EXPECT_EQ(pos, bytes.size());
  return starts;
}

class Corruption : public ::testing::Test {
 protected:
  // Corrupt header strings make protobuf log about invalid UTF-8; the error value is what counts.
  google::protobuf::LogSilencer silence_;
};

TEST_F(Corruption, EveryTruncationIsAnError) {
  auto events = test::make_events(12);
  std::string bytes = test::trace_bytes(events);
  std::vector<std::size_t> starts = record_starts(bytes);
  ASSERT_EQ(starts.size(), events.size() + 2);  // header, events, footer
  // Cutting exactly where event #i starts (or the footer, i = 12) leaves i whole events.
  std::set<std::size_t> boundaries(starts.begin() + 1, starts.end());
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    auto t = read_trace_bytes(bytes.substr(0, cut), "cut.trace");
    ASSERT_FALSE(t.ok()) << "cut at " << cut;
    const std::string& m = t.error().message;
    EXPECT_EQ(m.rfind("cut.trace: ", 0), 0u) << m;
    EXPECT_EQ(t.error().kind, sim::ErrorKind::kInvalid) << m;
    if (boundaries.contains(cut)) {
      std::size_t whole = std::find(starts.begin(), starts.end(), cut) - starts.begin() - 1;
      EXPECT_EQ(m, "cut.trace: missing footer (the run did not finish): the file ends at byte " +
                       std::to_string(cut) + " after " + std::to_string(whole) + " events");
    } else if (cut == 0) {
      EXPECT_TRUE(contains(m, "empty file")) << m;
    } else if (cut < kMagicBytes) {
      EXPECT_TRUE(contains(m, "inside the magic")) << m;
    } else if (cut == kMagicBytes) {
      EXPECT_TRUE(contains(m, "missing header")) << m;
    } else {
      EXPECT_TRUE(contains(m, "truncated at byte " + std::to_string(cut) + " inside")) << m;
    }
  }
}

TEST_F(Corruption, TruncationMessageNamesTheEventAndTheSizes) {
  auto events = test::make_events(12);
  std::string bytes = test::trace_bytes(events);
  std::vector<std::size_t> starts = record_starts(bytes);
  // Cut 3 bytes into event #5's payload (its length prefix is 1 byte: events are small).
  std::size_t cut = starts[6] + 1 + 3;
  std::size_t claimed = static_cast<unsigned char>(bytes[starts[6]]);
  auto t = read_trace_bytes(bytes.substr(0, cut), "cut.trace");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().message, "cut.trace: truncated at byte " + std::to_string(cut) +
                                   " inside event #5 or the footer (record claims " +
                                   std::to_string(claimed) + " bytes, 3 left)");
}

TEST_F(Corruption, EveryZstdTruncationIsAnError) {
  auto events = test::make_events(40);
  std::string bytes = test::trace_bytes(events, {.compression = Compression::kZstd});
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    auto t = read_trace_bytes(bytes.substr(0, cut), "cut.trace");
    ASSERT_FALSE(t.ok()) << "cut at " << cut;
    EXPECT_EQ(t.error().message.rfind("cut.trace: ", 0), 0u) << t.error().message;
  }
}

TEST_F(Corruption, AFlippedByteInDetailsIsAHashMismatchNamingTheEvent) {
  auto events = test::make_events(30);
  events[17].body = test::note("a very recognizable payload");
  RunningHash h;
  for (RecordedEvent& e : events) e.hash = h.update(e.view());
  std::string bytes = test::trace_bytes(events);
  std::size_t at = bytes.find("recognizable");
  ASSERT_NE(at, std::string::npos);
  bytes[at] ^= 0x01;
  auto t = read_trace_bytes(bytes, "flip.trace");
  ASSERT_FALSE(t.ok());
  const std::string& m = t.error().message;
  EXPECT_EQ(m.rfind("flip.trace: event #17 at byte ", 0), 0u) << m;
  EXPECT_TRUE(
      contains(m, "hash mismatch (file says " + format_hash(events[17].hash) + ", recomputed 0x"))
      << m;
  EXPECT_TRUE(contains(m, "the file is corrupted")) << m;
}

// A body whose kind this build does not know (a newer edgesim, or damage that kept the hashes
// consistent) is refused with the event's index, not read as an empty event.
TEST_F(Corruption, AnEventOfNoKnownKindIsRefused) {
  auto events = test::make_events(5);
  events[3].body.Clear();
  RunningHash h;
  for (RecordedEvent& e : events) e.hash = h.update(e.view());
  auto t = read_trace_bytes(test::trace_bytes(events), "future.trace");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().message.find("event #3"), std::string::npos) << t.error().message;
  EXPECT_NE(t.error().message.find("no event kind this build knows"), std::string::npos)
      << t.error().message;
}

TEST_F(Corruption, AChangedHeaderIsCaughtByTheFooter) {
  std::string bytes = test::trace_bytes(test::make_events(3));
  std::size_t at = bytes.find("export default");
  ASSERT_NE(at, std::string::npos);
  bytes[at] = 'E';
  auto t = read_trace_bytes(bytes, "h.trace");
  ASSERT_FALSE(t.ok());
  EXPECT_TRUE(contains(t.error().message, "the header was changed")) << t.error().message;
}

TEST_F(Corruption, BadMagic) {
  std::string bytes = test::trace_bytes(test::make_events(3));
  bytes[0] = 'X';
  auto t = read_trace_bytes(bytes, "m.trace");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().message, "m.trace: bad magic (not an edgesim trace)");
  EXPECT_FALSE(read_trace_bytes("short", "s").ok());
}

TEST_F(Corruption, AHugeLengthDoesNotAllocate) {
  std::string bytes(kMagicPlain);
  bytes += "\xff\xff\xff\xff\x0f";  // 2^32 - 1
  auto t = read_trace_bytes(bytes, "big.trace");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().message,
            "big.trace: record at byte 8 claims 4294967295 bytes, more than the 64 MiB a record "
            "may hold: the file is corrupted");
  std::string endless(kMagicPlain);
  endless += std::string(20, '\xff');
  auto e = read_trace_bytes(endless, "len.trace");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().message,
            "len.trace: record at byte 8: bad record length: the file is corrupted");
  // A length within the limit but past the end of the data: read what is there, then report.
  std::string claims(kMagicPlain);
  claims += "\x80\x80\x80\x10";  // 32 MiB
  claims += "abc";
  auto c = read_trace_bytes(claims, "c.trace");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message,
            "c.trace: truncated at byte 15 inside the header (record claims 33554432 bytes, 3 "
            "left)");
}

TEST_F(Corruption, TrailingDataAndMisplacedRecords) {
  std::string bytes = test::trace_bytes(test::make_events(3));
  auto t = read_trace_bytes(bytes + "x", "tail.trace");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().message, "tail.trace: trailing data at byte " + std::to_string(bytes.size()) +
                                   " after the footer: the file is corrupted");
  // A header record in the middle.
  std::vector<std::size_t> starts = record_starts(bytes);
  std::string header_record = bytes.substr(starts[0], starts[1] - starts[0]);
  std::string doubled = bytes.substr(0, starts[2]) + header_record + bytes.substr(starts[2]);
  auto d = read_trace_bytes(doubled, "d.trace");
  ASSERT_FALSE(d.ok());
  EXPECT_TRUE(contains(d.error().message, "a second header")) << d.error().message;
  // An event first.
  std::string event_first = bytes.substr(0, kMagicBytes) + bytes.substr(starts[1]);
  auto f = read_trace_bytes(event_first, "f.trace");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().message,
            "f.trace: record at byte 8: expected the header first: the file is corrupted");
  // Garbage that is not protobuf.
  std::string garbage(kMagicPlain);
  garbage += "\x03\xff\xff\xff";
  auto g = read_trace_bytes(garbage, "g.trace");
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().message,
            "g.trace: record at byte 8 (the header): not a valid protobuf record: the file is "
            "corrupted");
}

TEST_F(Corruption, ErrorsAreSticky) {
  std::string bytes = test::trace_bytes(test::make_events(5));
  std::vector<std::size_t> starts = record_starts(bytes);
  auto r = TraceReader::from_bytes(bytes.substr(0, starts[3] + 2), "s.trace");
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE((*r)->next().ok());
  ASSERT_TRUE((*r)->next().ok());
  auto e1 = (*r)->next();
  ASSERT_FALSE(e1.ok());
  auto e2 = (*r)->next();
  ASSERT_FALSE(e2.ok());
  EXPECT_EQ(e1.error().message, e2.error().message);
}

// Damage of every kind to a valid trace: an error, or (when the damage changed no field, e.g.
// the zstd frame's padding) the same header, events and footer. Never anything else.
RC_GTEST_PROP(CorruptionFuzz, RandomDamageIsAnErrorOrHarmless, ()) {
  google::protobuf::LogSilencer silence;
  static const auto kEvents = test::make_events(25);
  static const std::string kPlain = test::trace_bytes(kEvents);
  static const std::string kZstd = test::trace_bytes(kEvents, {.compression = Compression::kZstd});
  std::string bytes = *rc::gen::arbitrary<bool>() ? kPlain : kZstd;
  int damages = *rc::gen::inRange(1, 4);
  for (int i = 0; i < damages && !bytes.empty(); ++i) {
    std::size_t at = *rc::gen::inRange<std::size_t>(0, bytes.size());
    switch (*rc::gen::inRange(0, 5)) {
      case 0:
        bytes[at] ^= static_cast<char>(*rc::gen::inRange(1, 256));
        break;
      case 1:
        bytes[at] = *rc::gen::arbitrary<char>();
        break;
      case 2:
        bytes.insert(at, *rc::gen::arbitrary<std::string>());
        break;
      case 3:
        bytes.erase(at, *rc::gen::inRange<std::size_t>(1, 16));
        break;
      case 4:
        bytes.resize(at);
        break;
    }
  }
  auto t = read_trace_bytes(bytes, "fuzz.trace");
  RC_TAG(t.ok() ? "read back intact" : "error");
  if (!t.ok()) {
    RC_ASSERT(t.error().message.rfind("fuzz.trace: ", 0) == 0);
    return;
  }
  RC_ASSERT(t->events == kEvents);
  RC_ASSERT(t->header.scenario_name() == "counter");
  RC_ASSERT(t->header.scenario_files().at("worker.js") == "export default { fetch() {} }");
  // The footer's verdict and explanations are covered by its hash (they were not before).
  static const Footer kFooter = test::sample_footer();
  RC_ASSERT(t->footer.verdict() == kFooter.verdict());
  RC_ASSERT(t->footer.properties_size() == kFooter.properties_size());
  for (int i = 0; i < kFooter.properties_size(); ++i) {
    RC_ASSERT(t->footer.properties(i).explanation() == kFooter.properties(i).explanation());
  }
}

// A flipped byte in the verdict or an explanation is caught (the footer hash).
TEST_F(Corruption, AChangedVerdictIsCaught) {
  std::string bytes = test::trace_bytes(test::make_events(3));
  const Footer f = test::sample_footer();
  const std::size_t at = bytes.rfind(f.verdict());
  ASSERT_NE(at, std::string::npos);
  bytes[at] ^= 0x20;
  auto t = read_trace_bytes(bytes, "v.trace");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().message.find("the verdict, properties or stats were changed"),
            std::string::npos)
      << t.error().message;
}

RC_GTEST_PROP(CorruptionFuzz, RandomBytesAfterTheMagicAreAnError, ()) {
  google::protobuf::LogSilencer silence;
  std::string bytes(*rc::gen::element(kMagicPlain, kMagicZstd));
  bytes += *rc::gen::arbitrary<std::string>();
  auto t = read_trace_bytes(bytes, "random.trace");
  RC_ASSERT(!t.ok());
}

// Random bytes shaped like records: plausible lengths, payloads that often parse.
RC_GTEST_PROP(CorruptionFuzz, RandomRecordsAreAnError, ()) {
  google::protobuf::LogSilencer silence;
  std::string bytes(kMagicPlain);
  auto payloads = *rc::gen::container<std::vector<std::string>>(rc::gen::arbitrary<std::string>());
  for (const std::string& p : payloads) {
    bytes.push_back(static_cast<char>(std::min<std::size_t>(p.size(), 127)));
    bytes += p.substr(0, 127);
  }
  auto t = read_trace_bytes(bytes, "records.trace");
  RC_ASSERT(!t.ok());
}

}  // namespace
}  // namespace traces
