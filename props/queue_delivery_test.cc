#include "props/queue_delivery.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <map>

#include "props/test_util.h"

namespace props {
namespace {

using sim::millis;

// A broker that keeps its promise: every accepted message is delivered until acked, retried up
// to max_retries times, then dead-lettered. Some deliveries are duplicated on purpose.
struct Simulated {
  QueueHistory history;
  std::size_t redelivered = 0;
  std::size_t duplicated = 0;
  std::vector<std::pair<std::string, std::string>> accepted;  // (queue, id) of ok sends
};

Simulated simulate(std::uint64_t seed, int messages, int queues, int max_retries) {
  test::TestRng rng(seed);
  Simulated s;
  for (int i = 0; i < messages; ++i) {
    std::string q = "q" + std::to_string(i % queues);
    std::string id = "m" + std::to_string(i);
    sim::Time t = millis(i) + rng.range(0, millis(5));
    bool ok = rng.chance(0.9);
    s.history.sends.push_back({q, id, ok, t});
    if (!ok && !rng.chance(0.3)) continue;  // a failed send the broker never got
    if (ok) s.accepted.push_back({q, id});
    sim::Time at = t + rng.range(millis(1), millis(50));
    for (int attempt = 1;; ++attempt) {
      s.history.deliveries.push_back({q, id, static_cast<std::uint32_t>(attempt), at, "consumer"});
      if (attempt > 1) ++s.redelivered;
      if (rng.chance(0.05)) {  // the same attempt delivered twice
        s.history.deliveries.push_back(
            {q, id, static_cast<std::uint32_t>(attempt), at + 1, "consumer"});
        ++s.duplicated;
        if (attempt > 1) ++s.redelivered;
      }
      if (rng.chance(0.7)) {
        s.history.acks.push_back({q, id, at + 2});
        if (rng.chance(0.05)) {  // delivered again after the ack
          s.history.deliveries.push_back(
              {q, id, static_cast<std::uint32_t>(attempt + 1), at + millis(30), "consumer"});
          ++s.duplicated;
          ++s.redelivered;
        }
        break;
      }
      if (attempt == max_retries + 1) {
        s.history.dead_letters.push_back({q, id, at + 3});
        break;
      }
      at += rng.range(millis(1), millis(100));
    }
  }
  // Input order must not matter.
  auto shuffle = [&](auto& v) {
    for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.next() % i]);
  };
  shuffle(s.history.sends);
  shuffle(s.history.deliveries);
  shuffle(s.history.acks);
  return s;
}

RC_GTEST_PROP(QueueDelivery, AcceptsABrokerThatKeepsItsPromise, ()) {
  auto seed = *rc::gen::arbitrary<std::uint64_t>();
  int messages = *rc::gen::inRange(0, 300);
  int queues = *rc::gen::inRange(1, 4);
  int retries = *rc::gen::inRange(0, 4);
  Simulated s = simulate(seed, messages, queues, retries);
  QueueDeliveryResult r = check_queue_delivery(s.history);
  RC_ASSERT(r.verdict == Verdict::kOk);
  RC_ASSERT(r.lost == 0u);
  RC_ASSERT(r.phantom == 0u);
  RC_ASSERT(r.redelivered == s.redelivered);
  RC_ASSERT(r.duplicated == s.duplicated);
  RC_ASSERT(r.sends == static_cast<std::size_t>(messages));
  RC_ASSERT(r.latency.count == s.accepted.size());
}

RC_GTEST_PROP(QueueDelivery, RejectsALostMessage, ()) {
  auto seed = *rc::gen::arbitrary<std::uint64_t>();
  Simulated s = simulate(seed, *rc::gen::inRange(1, 300), *rc::gen::inRange(1, 4), 2);
  RC_PRE(!s.accepted.empty());
  auto victim = s.accepted[*rc::gen::inRange<std::size_t>(0, s.accepted.size())];
  auto is_victim = [&](const auto& e) {
    return e.queue == victim.first && e.message_id == victim.second;
  };
  std::erase_if(s.history.deliveries, is_victim);
  std::erase_if(s.history.dead_letters, is_victim);
  QueueDeliveryResult r = check_queue_delivery(s.history);
  RC_ASSERT(r.verdict == Verdict::kViolated);
  RC_ASSERT(r.lost == 1u);
  RC_ASSERT(r.lost_examples == std::vector<std::string>{victim.first + "/" + victim.second});
  RC_ASSERT(r.findings.front().find("never delivered nor dead-lettered") != std::string::npos);
}

RC_GTEST_PROP(QueueDelivery, OutOfOrderMatchesItsDefinition, ()) {
  auto seed = *rc::gen::arbitrary<std::uint64_t>();
  Simulated s = simulate(seed, *rc::gen::inRange(0, 80), *rc::gen::inRange(1, 3), 1);
  QueueDeliveryResult r = check_queue_delivery(s.history);
  // Brute force: messages first delivered before some message sent strictly earlier.
  std::map<std::pair<std::string, std::string>, std::pair<sim::Time, sim::Time>> m;
  for (const auto& send : s.history.sends) {
    auto& e = m[{send.queue, send.message_id}];
    e.first = send.time;
    e.second = sim::kTimeMax;
  }
  for (const auto& d : s.history.deliveries) {
    auto& e = m[{d.queue, d.message_id}];
    e.second = std::min(e.second, d.time);
  }
  std::size_t expected = 0;
  for (const auto& [k, a] : m) {
    if (a.second == sim::kTimeMax) continue;
    bool overtook = false;
    for (const auto& [k2, b] : m) {
      if (k2.first == k.first && b.second != sim::kTimeMax && b.first < a.first &&
          b.second > a.second) {
        overtook = true;
      }
    }
    expected += overtook ? 1 : 0;
  }
  RC_ASSERT(r.out_of_order == expected);
}

TEST(QueueDelivery, CountsAndLatency) {
  QueueHistory h;
  h.sends = {{"q", "a", true, millis(0)},
             {"q", "b", true, millis(1)},
             {"q", "c", false, millis(2)},
             {"q", "d", true, millis(3)}};
  h.deliveries = {{"q", "b", 1, millis(11), "w"},  // overtakes a
                  {"q", "a", 1, millis(20), "w"},
                  {"q", "a", 2, millis(40), "w"},
                  {"q", "c", 1, millis(5), "w"},   // a failed send may still arrive
                  {"q", "x", 1, millis(6), "w"}};  // never sent
  h.acks = {{"q", "a", millis(41)}, {"q", "b", millis(12)}};
  h.dead_letters = {{"q", "d", millis(100)}};
  QueueDeliveryResult r = check_queue_delivery(h);
  EXPECT_EQ(r.verdict, Verdict::kViolated);
  EXPECT_EQ(r.phantom, 1u);
  EXPECT_EQ(r.lost, 0u);
  EXPECT_EQ(r.delivered, 4u);
  EXPECT_EQ(r.dead_lettered, 1u);
  EXPECT_EQ(r.redelivered, 1u);
  EXPECT_EQ(r.duplicated, 0u);
  EXPECT_EQ(r.out_of_order, 2u);   // b overtook a; c (sent at 2ms) arrived before a and b
  EXPECT_EQ(r.latency.count, 2u);  // a: 20ms, b: 10ms
  EXPECT_EQ(r.latency.p50, millis(10));
  EXPECT_EQ(r.latency.max, millis(20));
  ASSERT_FALSE(r.findings.empty());
  EXPECT_EQ(r.findings[0], "message q/x was delivered at 0.006000s but never sent");
  EXPECT_NE(r.report().find("queue delivery: violated"), std::string::npos);
}

// require_processing: a delivery is not enough; acked, dead-lettered, or exhausted on a queue
// without a dead letter queue.
TEST(QueueDelivery, ProcessingRequiresAnAckADeadLetterOrExhaustion) {
  QueueHistory h;
  h.sends = {{"q", "acked", true, millis(0)},   {"q", "crashed", true, millis(1)},
             {"q", "dropped", true, millis(2)}, {"q", "early", true, millis(3)},
             {"q", "late", true, millis(500)},  {"q", "lost", true, millis(4)}};
  h.dispatches = {{"q", "acked", 1, millis(10)},   {"q", "crashed", 1, millis(10)},
                  {"q", "dropped", 1, millis(10)}, {"q", "dropped", 2, millis(20)},
                  {"q", "early", 1, millis(10)},   {"q", "early", 2, millis(20)}};
  h.deliveries = {{"q", "acked", 1, millis(11), "w"},
                  {"q", "crashed", 1, millis(11), "w"},
                  {"q", "dropped", 1, millis(11), "w"},
                  {"q", "dropped", 2, millis(21), "w"},
                  {"q", "early", 1, millis(11), "w"}};
  h.acks = {{"q", "acked", millis(12)}};
  QueueDeliveryOptions o;
  // Delivery alone satisfies the plain property: only "lost" and "late" were never delivered.
  QueueDeliveryResult plain = check_queue_delivery(h, o);
  EXPECT_EQ(plain.lost, 2u);
  o.require_processing = true;
  o.rules["q"] = {.max_retries = 1, .dead_letter_queue = false};
  o.deadline = millis(100);
  QueueDeliveryResult r = check_queue_delivery(h, o);
  EXPECT_EQ(r.verdict, Verdict::kViolated);
  EXPECT_EQ(r.exhausted, 2u);  // dropped and early: dispatched twice = max_retries + 1
  EXPECT_EQ(r.in_flight, 1u);  // late: sent after the deadline
  EXPECT_EQ(r.lost, 2u);       // crashed (delivered once, never acked) and lost
  EXPECT_EQ(r.lost_examples, (std::vector<std::string>{"q/crashed", "q/lost"}));
  EXPECT_EQ(r.findings[0],
            "message q/crashed was sent ok at 0.001000s but never acked nor dead-lettered: "
            "delivered 1 time(s), last dispatched as attempt 1 of 2");
  // With a dead letter queue, exhausted messages must have been dead-lettered.
  o.rules["q"].dead_letter_queue = true;
  r = check_queue_delivery(h, o);
  EXPECT_EQ(r.exhausted, 0u);
  EXPECT_EQ(r.lost, 4u);
  h.dead_letters = {{"q", "dropped", millis(30)}, {"q", "early", millis(30)}};
  EXPECT_EQ(check_queue_delivery(h, o).lost, 2u);
}

}  // namespace
}  // namespace props
