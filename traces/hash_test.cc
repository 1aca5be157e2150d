#include "traces/hash.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <utility>
#include <vector>

#include "traces/hash_sink.h"
#include "traces/test_util.h"

namespace traces {
namespace {

// An event as a generator makes it: kind 0 is a sim.note with `text`, 1 a sim.error with it.
struct Ev {
  sim::Time time;
  sim::NodeId node;
  int kind;
  std::string text;
  sim::ev::Body body() const {
    sim::ev::Body b;
    if (kind == 0) {
      b.mutable_sim_note()->set_text(text);
    } else {
      b.mutable_sim_error()->set_message(text);
    }
    return b;
  }
  bool operator==(const Ev&) const = default;
};

std::uint64_t update(RunningHash& h, const Ev& e) {
  const sim::ev::Body b = e.body();
  return h.update({e.time, e.node, &b});
}

std::uint64_t hash_of(const std::vector<Ev>& events) {
  RunningHash h;
  for (const Ev& e : events) update(h, e);
  return h.value();
}

rc::Gen<Ev> gen_event() {
  return rc::gen::build<Ev>(rc::gen::set(&Ev::time, rc::gen::arbitrary<sim::Time>()),
                            rc::gen::set(&Ev::node, rc::gen::arbitrary<sim::NodeId>()),
                            rc::gen::set(&Ev::kind, rc::gen::inRange(0, 2)),
                            rc::gen::set(&Ev::text, rc::gen::arbitrary<std::string>()));
}

TEST(RunningHash, StartsAtTheInitialValueAndCounts) {
  RunningHash h;
  EXPECT_EQ(h.value(), kHashInitial);
  EXPECT_EQ(h.count(), 0u);
  const sim::ev::Body b = test::note("x");
  std::uint64_t v = h.update({5, 1, &b});
  EXPECT_EQ(h.value(), v);
  EXPECT_EQ(h.count(), 1u);
  EXPECT_EQ(v, chain_hash(kHashInitial, {5, 1, &b}));
}

// The hash is part of the file format: it must not change across builds or platforms. If this
// fails, the encoding changed; that needs a new trace format version.
TEST(RunningHash, GoldenValue) {
  RunningHash h;
  sim::ev::Body heal;
  heal.mutable_net_heal();
  const sim::ev::Body send = test::net_send(1, 17, 40);
  const sim::ev::Body odd = test::note(std::string("\0\xff", 2));
  h.update({0, sim::kNoNode, &heal});
  h.update({12'500'000'000, 0, &send});
  h.update({-3, 2147483647, &odd});
  EXPECT_EQ(format_hash(h.value()), "0x9e697191120054ac");
}

TEST(RunningHash, TheKindIsPartOfTheHash) {
  EXPECT_NE(hash_of({{1, 1, 0, "abc"}}), hash_of({{1, 1, 1, "abc"}}));
  EXPECT_NE(hash_of({{1, 1, 0, ""}}), hash_of({{1, 1, 1, ""}}));
}

RC_GTEST_PROP(RunningHash, SameEventsSameHash, ()) {
  auto events = *rc::gen::container<std::vector<Ev>>(gen_event());
  RC_ASSERT(hash_of(events) == hash_of(events));
}

RC_GTEST_PROP(RunningHash, AnySingleChangeChangesTheFinalHash, ()) {
  auto events = *rc::gen::nonEmpty(rc::gen::container<std::vector<Ev>>(gen_event()));
  std::size_t i = *rc::gen::inRange<std::size_t>(0, events.size());
  std::vector<Ev> changed = events;
  int field = *rc::gen::inRange(0, 5);
  if (field == 4 && events.size() < 2) field = 0;
  Ev& e = changed[i];
  switch (field) {
    case 0:
      e.time ^= *rc::gen::nonZero<sim::Time>();
      break;
    case 1:
      e.node ^= *rc::gen::nonZero<sim::NodeId>();
      break;
    case 2:
      e.kind = 1 - e.kind;
      break;
    case 3:
      if (e.text.empty()) {
        e.text = "x";
      } else {
        e.text[*rc::gen::inRange<std::size_t>(0, e.text.size())] ^= 0x20;
      }
      break;
    case 4: {
      std::size_t j = *rc::gen::inRange<std::size_t>(0, events.size() - 1);
      if (j >= i) ++j;
      const Ev& x = events[i];
      const Ev& y = events[j];
      if (x == y) {
        RC_SUCCEED("swapped two identical events: nothing changed");
      }
      std::swap(changed[i], changed[j]);
      break;
    }
  }
  RC_ASSERT(hash_of(events) != hash_of(changed));
}

TEST(HashSink, KeepsHashesAndARing) {
  auto events = test::make_events(20);
  HashSink sink({.ring_size = 4, .keep_hashes = true});
  test::feed(sink, events);
  EXPECT_EQ(sink.count(), 20u);
  EXPECT_EQ(sink.value(), events.back().hash);
  ASSERT_EQ(sink.hashes().size(), 20u);
  for (std::size_t i = 0; i < events.size(); ++i) EXPECT_EQ(sink.hashes()[i], events[i].hash);
  std::vector<RecordedEvent> recent = sink.recent();
  ASSERT_EQ(recent.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(recent[i], events[16 + i]);
  EXPECT_TRUE(sink.find(19).has_value());
  EXPECT_FALSE(sink.find(15).has_value());
}

TEST(HashSink, RingCanStopAfterAnIndex) {
  auto events = test::make_events(20);
  HashSink sink({.ring_size = 3, .ring_stop_after = 7});
  test::feed(sink, events);
  std::vector<RecordedEvent> recent = sink.recent();
  ASSERT_EQ(recent.size(), 3u);
  EXPECT_EQ(recent[0].index, 5u);
  EXPECT_EQ(recent[2].index, 7u);
  EXPECT_TRUE(sink.hashes().empty());
  EXPECT_EQ(sink.value(), events.back().hash);
}

TEST(HashSink, RingNotYetFullIsInOrder) {
  auto events = test::make_events(2);
  HashSink sink({.ring_size = 5});
  test::feed(sink, events);
  EXPECT_EQ(sink.recent(), events);
}

TEST(CompareHashStreams, IdenticalRunsHaveNoDifference) {
  auto events = test::make_events(50);
  HashSink a({.ring_size = 8, .keep_hashes = true});
  HashSink b({.ring_size = 8, .keep_hashes = true});
  test::feed(a, events);
  test::feed(b, events);
  EXPECT_FALSE(compare_hash_streams(a, b).has_value());
}

TEST(CompareHashStreams, NamesTheFirstDifferingEvent) {
  auto events = test::make_events(50);
  auto changed = events;
  changed[30].body = test::note("something else");
  HashSink a({.ring_size = 32, .keep_hashes = true});
  HashSink b({.ring_size = 32, .keep_hashes = true});
  test::feed(a, events);
  test::feed(b, changed);
  auto d = compare_hash_streams(a, b);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->index, 30u);
  ASSERT_TRUE(d->a_event.has_value());
  ASSERT_TRUE(d->b_event.has_value());
  EXPECT_EQ(d->a_event->details(), events[30].details());
  EXPECT_EQ(d->b_event->details(), "text=something else");
  ASSERT_FALSE(d->a_before.empty());
  EXPECT_EQ(d->a_before.back().index, 29u);
  std::string text = d->describe();
  EXPECT_NE(text.find("#30"), std::string::npos) << text;
  EXPECT_NE(text.find("something else"), std::string::npos) << text;
}

TEST(CompareHashStreams, APrefixDiffersAtTheShorterLength) {
  auto events = test::make_events(10);
  auto shorter = events;
  shorter.resize(6);
  HashSink a({.keep_hashes = true});
  HashSink b({.keep_hashes = true});
  test::feed(a, events);
  test::feed(b, shorter);
  auto d = compare_hash_streams(a, b);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->index, 6u);
  EXPECT_FALSE(d->b_event.has_value());
  EXPECT_NE(d->describe().find("ended after 6 events"), std::string::npos) << d->describe();
}

TEST(FirstDifference, Spans) {
  std::vector<std::uint64_t> a = {1, 2, 3};
  std::vector<std::uint64_t> b = {1, 2, 4};
  EXPECT_EQ(first_difference(a, b), 2u);
  EXPECT_EQ(first_difference(a, a), std::nullopt);
  EXPECT_EQ(first_difference(a, {}), 0u);
}

}  // namespace
}  // namespace traces
