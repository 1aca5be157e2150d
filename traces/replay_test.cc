#include "traces/replay.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "traces/test_util.h"

namespace traces {
namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(ReplayComparer, IdenticalStreamHasNoDivergence) {
  auto events = test::make_events(100);
  ReplayComparer c(events);
  test::feed(c, events);
  EXPECT_FALSE(c.finish().has_value());
  EXPECT_FALSE(c.diverged());
  EXPECT_EQ(c.events_seen(), 100u);
  EXPECT_EQ(c.hash(), events.back().hash);
}

TEST(ReplayComparer, EmptyStreams) {
  ReplayComparer c({});
  EXPECT_FALSE(c.finish().has_value());
}

TEST(ReplayComparer, ChangedEventIsNamedWithContext) {
  auto events = test::make_events(40);
  events[12].time = 12'500'000'000;
  events[12].node = 0;
  events[12].body = test::net_send(1, 17, 40);
  RunningHash h;
  for (RecordedEvent& e : events) e.hash = h.update(e.view());

  auto actual = events;
  actual[12].body = test::net_send(2, 17, 40);
  ReplayComparer c(events);
  test::feed(c, actual);
  const auto& d = c.finish();
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->kind, Divergence::Kind::kChanged);
  EXPECT_EQ(d->index, 12u);
  ASSERT_TRUE(d->expected.has_value());
  ASSERT_TRUE(d->actual.has_value());
  EXPECT_EQ(d->expected->details(), "to=node 1 port=rpc msg=17 bytes=40");
  EXPECT_EQ(d->actual->details(), "to=node 2 port=rpc msg=17 bytes=40");
  EXPECT_EQ(d->differing_fields(), (std::vector<std::string>{"details", "hash"}));
  ASSERT_EQ(d->before.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(d->before[i], events[7 + i]);
  EXPECT_EQ(d->expected_count, 40u);
  EXPECT_EQ(d->actual_count, 40u);  // events after the divergence are still counted

  NodeNames names = {{0, "lhr-1"}, {1, "iad-1"}, {2, "fra-1"}};
  std::string text = d->describe(names);
  EXPECT_TRUE(contains(text, "first divergence at event #12 (details, hash differ)")) << text;
  EXPECT_TRUE(
      contains(text, "expected: 12.500000s  lhr-1  net.send  to=iad-1 port=rpc msg=17 bytes=40"))
      << text;
  EXPECT_TRUE(
      contains(text, "actual:   12.500000s  lhr-1  net.send  to=fra-1 port=rpc msg=17 bytes=40"))
      << text;
  EXPECT_TRUE(contains(text, "the 5 events before it matched")) << text;
  EXPECT_TRUE(contains(text, "#11  ")) << text;
}

TEST(ReplayComparer, DivergenceAtTheFirstEventHasNoContext) {
  auto events = test::make_events(3);
  auto actual = events;
  actual[0].time += 1;
  ReplayComparer c(events);
  test::feed(c, actual);
  const auto& d = c.finish();
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->index, 0u);
  EXPECT_TRUE(d->before.empty());
  EXPECT_EQ(d->differing_fields(), (std::vector<std::string>{"time", "hash"}));
  EXPECT_TRUE(contains(d->describe(), "it is the first event")) << d->describe();
}

RC_GTEST_PROP(ReplayComparer, ChangeAtKIsFoundAtK, ()) {
  static const auto kEvents = test::make_events(60);
  std::size_t k = *rc::gen::inRange<std::size_t>(0, kEvents.size());
  auto actual = kEvents;
  int field = *rc::gen::inRange(0, 4);
  switch (field) {
    case 0:
      actual[k].time += *rc::gen::inRange<sim::Time>(1, 1'000'000);
      break;
    case 1:
      actual[k].node += 100;
      break;
    case 2:
      if (actual[k].body.has_net_heal()) {
        actual[k].body = test::note("");
      } else {
        actual[k].body.mutable_net_heal();
      }
      break;
    case 3: {
      // Same kind, other details.
      sim::ev::Body& b = actual[k].body;
      if (b.has_net_send()) {
        b.mutable_net_send()->set_msg(b.net_send().msg() + 1);
      } else if (b.has_node_crash()) {
        b.mutable_node_crash()->set_incarnation(b.node_crash().incarnation() + 1);
      } else if (b.has_op_invoke()) {
        b.mutable_op_invoke()->mutable_input()->append("x");
      } else {
        b.mutable_sim_note()->mutable_text()->append("x");
      }
      break;
    }
  }
  ReplayComparer c(kEvents);
  test::feed(c, actual);
  const auto& d = c.finish();
  RC_ASSERT(d.has_value());
  RC_ASSERT(d->kind == Divergence::Kind::kChanged);
  RC_ASSERT(d->index == k);
  RC_ASSERT(d->expected->index == k);
  RC_ASSERT(d->actual->index == k);
  RC_ASSERT(d->before.size() == std::min<std::size_t>(k, 5));
  static const char* kFields[] = {"time", "node", "kind", "details"};
  RC_ASSERT(d->differing_fields().front() == kFields[field]);
}

TEST(ReplayComparer, ShorterRunIsReported) {
  auto events = test::make_events(20);
  std::vector<RecordedEvent> shorter(events.begin(), events.begin() + 15);
  ReplayComparer c(events);
  test::feed(c, shorter);
  EXPECT_FALSE(c.diverged());  // not known until the run ends
  const auto& d = c.finish();
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->kind, Divergence::Kind::kMissing);
  EXPECT_EQ(d->index, 15u);
  EXPECT_EQ(d->expected, events[15]);
  EXPECT_FALSE(d->actual.has_value());
  EXPECT_EQ(d->actual_count, 15u);
  EXPECT_TRUE(contains(d->describe(), "ended early: it produced 15 events, the trace has 20"))
      << d->describe();
}

TEST(ReplayComparer, LongerRunIsReported) {
  auto events = test::make_events(20);
  std::vector<RecordedEvent> expected(events.begin(), events.begin() + 15);
  ReplayComparer c(expected);
  test::feed(c, events);
  EXPECT_TRUE(c.diverged());
  const auto& d = c.finish();
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->kind, Divergence::Kind::kExtra);
  EXPECT_EQ(d->index, 15u);
  EXPECT_FALSE(d->expected.has_value());
  ASSERT_TRUE(d->actual.has_value());
  EXPECT_EQ(*d->actual, events[15]);
  EXPECT_EQ(d->actual_count, 20u);
  EXPECT_TRUE(contains(d->describe(), "past the end of the trace (15 events)")) << d->describe();
}

TEST(ReplayComparer, FinishIsIdempotent) {
  auto events = test::make_events(5);
  ReplayComparer c(events);
  test::feed(c, std::vector<RecordedEvent>(events.begin(), events.begin() + 2));
  ASSERT_TRUE(c.finish().has_value());
  ASSERT_TRUE(c.finish().has_value());
  EXPECT_EQ(c.divergence()->index, 2u);
}

}  // namespace
}  // namespace traces
