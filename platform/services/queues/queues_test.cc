// Tests of the queue service without JS: producers on PoPs, one or two brokers, and consumers
// played by C++ executors that ack, retry, throw or hang. Times in comments are virtual.
#include "platform/services/queues/queues.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "platform/services/queues/queue_internal.h"
#include "sim/event_log.h"
#include "sim/faults.h"
#include "sim/history.h"
#include "sim/world.h"

namespace services {
namespace {

using sim::kSecond;
using sim::millis;
using sim::seconds;

QueueBatchResult ack_all(const std::vector<QueueMessage>& messages) {
  QueueBatchResult r;
  for (const QueueMessage& m : messages) r.outcomes.push_back({m.id, true, std::nullopt});
  return r;
}

// A consumer that takes 3 s per batch: a crash of its PoP in between loses the answer.
QueueBatchResult ack_after_3s(sim::Task& t, const std::vector<QueueMessage>& messages) {
  t.sleep(3 * kSecond);
  return ack_all(messages);
}

// A consumer played by C++: `decide` says what to do with each batch; every delivery is logged.
class FakeConsumer final : public QueueConsumerExecutor {
 public:
  struct Delivery {
    sim::Time time;
    std::string node;
    std::string queue;
    std::vector<QueueMessage> messages;
  };
  using Decide = std::function<QueueBatchResult(sim::Task&, const std::vector<QueueMessage>&)>;

  explicit FakeConsumer(std::vector<Delivery>* log, Decide decide = nullptr)
      : log_(log), decide_(std::move(decide)) {}

  sim::Result<QueueBatchResult> deliver(sim::Task& task, const std::string& queue,
                                        std::vector<QueueMessage> messages) override {
    log_->push_back({task.now(), task.node().name(), queue, messages});
    if (decide_) return decide_(task, messages);
    return ack_all(messages);
  }

 private:
  std::vector<Delivery>* log_;
  Decide decide_;
};

QueueBatchResult throw_all(sim::Task&, const std::vector<QueueMessage>& messages) {
  QueueBatchResult r;
  r.ok = false;
  r.error = "Error: boom";
  for (const QueueMessage& m : messages) r.outcomes.push_back({m.id, false, std::nullopt});
  return r;
}

// Two PoPs (producers and consumers), one broker, queues "jobs" (dead letter queue "dead") and
// "dead" (consumed too).
class QueueWorld {
 public:
  explicit QueueWorld(std::uint64_t seed = 1, QueueConfig config = {},
                      FakeConsumer::Decide jobs = nullptr, QueueConsumerSettings settings = {})
      : w(seed),
        queues(w, config),
        jobs_consumer(&deliveries, std::move(jobs)),
        dead_consumer(&dead_deliveries) {
    w.add_sink(&log);
    queues.add_queue("jobs");
    queues.add_queue("dead");
    sim::Node& broker = w.add_node("queue-1", "fra");
    queues.add_broker(broker);
    settings.queue = "jobs";
    if (settings.dead_letter_queue.empty()) settings.dead_letter_queue = "dead";
    for (const char* loc : {"lhr", "ams"}) {
      sim::Node& n = w.add_node(std::string("pop-") + loc, loc);
      pops.push_back(&n);
      queues.add_consumer(settings, n, jobs_consumer);
      queues.add_consumer({.queue = "dead"}, n, dead_consumer);
    }
    w.start();
  }
  ~QueueWorld() { w.remove_sink(&log); }

  // Sends `n` messages from PoP `pop` (one send per message, or one batch); returns the result.
  sim::Result<QueueMetrics> send(std::size_t pop, std::vector<QueueSendMessage> messages) {
    std::optional<sim::Result<QueueMetrics>> out;
    w.spawn(*pops[pop], "producer", [&](sim::Task& t) {
      out = queues.attach(*pops[pop]).send(t, "jobs", std::move(messages));
    });
    for (int i = 0; i < 100'000 && !out; ++i) EXPECT_TRUE(w.run_for(millis(1)));
    EXPECT_TRUE(out.has_value());
    return out.value_or(sim::Error{sim::ErrorKind::kCancelled, "never ran"});
  }
  static std::vector<QueueSendMessage> bodies(std::size_t n, const std::string& prefix = "m") {
    std::vector<QueueSendMessage> out;
    for (std::size_t i = 0; i < n; ++i) out.push_back({prefix + std::to_string(i)});
    return out;
  }
  void run_until(sim::Time t) { ASSERT_TRUE(w.run_until(t)); }
  std::size_t count(std::string_view kind) const { return log.details_of(kind).size(); }

  sim::World w;
  QueueService queues;
  std::vector<FakeConsumer::Delivery> deliveries;
  std::vector<FakeConsumer::Delivery> dead_deliveries;
  FakeConsumer jobs_consumer;
  FakeConsumer dead_consumer;
  std::vector<sim::Node*> pops;
  sim::EventLog log{&w};
};

std::multiset<std::string> bodies_of(const std::vector<FakeConsumer::Delivery>& ds) {
  std::multiset<std::string> out;
  for (const auto& d : ds) {
    for (const QueueMessage& m : d.messages) out.insert(m.body);
  }
  return out;
}

TEST(Queues, SentMessagesAreDeliveredInBatchesAndAckedAway) {
  QueueWorld q;
  ASSERT_TRUE(q.send(0, QueueWorld::bodies(25)).ok());
  q.run_until(seconds(30));
  // 25 sent at once: two full batches of 10 at once, the last 5 after max_batch_timeout (5 s).
  ASSERT_EQ(q.deliveries.size(), 3u);
  EXPECT_EQ(q.deliveries[0].messages.size(), 10u);
  EXPECT_EQ(q.deliveries[1].messages.size(), 10u);
  EXPECT_EQ(q.deliveries[2].messages.size(), 5u);
  EXPECT_GE(q.deliveries[2].time - q.deliveries[0].time, 5 * kSecond - millis(100));
  EXPECT_EQ(bodies_of(q.deliveries).size(), 25u);
  for (const auto& d : q.deliveries) {
    for (const QueueMessage& m : d.messages) {
      EXPECT_EQ(m.attempts, 1u);
      EXPECT_EQ(m.id.size(), 32u);
    }
  }
  EXPECT_EQ(q.queues.TEST_stored("jobs"), 0u);
  EXPECT_EQ(q.count("queue.ack"), 3u);
  EXPECT_EQ(q.queues.stats().acked, 25u);
}

TEST(Queues, ASendReturnsTheBacklogAndIsAnOperationOfTheHistory) {
  QueueWorld q;
  sim::Result<QueueMetrics> m = q.send(0, QueueWorld::bodies(3));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->backlog_count, 3u);
  EXPECT_EQ(m->backlog_bytes, 6u);
  ASSERT_TRUE(m->oldest_message_timestamp.has_value());
  const sim::Operation& op = q.w.history().ops().back();
  EXPECT_EQ(op.object, "queue:jobs");
  EXPECT_EQ(op.kind, "send");
  EXPECT_EQ(op.status, sim::OpStatus::kOk);
  EXPECT_EQ(std::count(op.input.begin(), op.input.end(), ','), 2);
}

TEST(Queues, LimitsAreRefusedWithThePlatformsWordsAndNothingIsSent) {
  QueueWorld q;
  auto big = QueueWorld::bodies(1);
  big[0].body = std::string(128001, 'x');
  sim::Result<QueueMetrics> r = q.send(0, big);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "message length of 128001 bytes exceeds limit of 128000 (10204)");
  r = q.send(0, QueueWorld::bodies(101));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "batch message count of 101 exceeds limit of 100 (10206)");
  std::vector<QueueSendMessage> heavy(3, QueueSendMessage{std::string(100000, 'y')});
  r = q.send(0, heavy);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "batch size of 300000 bytes exceeds limit of 256000 bytes (10205)");
  auto late = QueueWorld::bodies(1);
  late[0].delay = 25 * sim::kHour;
  EXPECT_FALSE(q.send(0, late).ok());
  q.run_until(seconds(30));
  EXPECT_TRUE(q.deliveries.empty());
  EXPECT_EQ(q.count("queue.store"), 0u);
  for (const sim::Operation& op : q.w.history().ops()) EXPECT_EQ(op.status, sim::OpStatus::kFail);
}

TEST(Queues, DelayedMessagesWaitTheirDelay) {
  QueueWorld q;
  auto later = QueueWorld::bodies(1);
  later[0].delay = 20 * kSecond;
  ASSERT_TRUE(q.send(0, later).ok());
  q.run_until(seconds(20));
  EXPECT_TRUE(q.deliveries.empty());
  q.run_until(seconds(40));
  ASSERT_EQ(q.deliveries.size(), 1u);
  EXPECT_GE(q.deliveries[0].time, seconds(20));
}

TEST(Queues, AThrowingConsumerGetsMaxRetriesPlusOneDeliveriesThenTheDeadLetterQueue) {
  QueueWorld q(3, {}, throw_all);
  ASSERT_TRUE(q.send(0, QueueWorld::bodies(1)).ok());
  q.run_until(seconds(120));
  ASSERT_EQ(q.deliveries.size(), 4u);  // max_retries (3) + 1
  for (std::size_t i = 0; i < q.deliveries.size(); ++i) {
    EXPECT_EQ(q.deliveries[i].messages[0].attempts, i + 1);
  }
  ASSERT_EQ(q.dead_deliveries.size(), 1u);
  const QueueMessage& dead = q.dead_deliveries[0].messages[0];
  EXPECT_EQ(dead.id, q.deliveries[0].messages[0].id);  // same id and timestamp
  EXPECT_EQ(dead.timestamp, q.deliveries[0].messages[0].timestamp);
  EXPECT_EQ(dead.attempts, 1u);  // attempts start over
  EXPECT_EQ(q.count("queue.dead_letter"), 1u);
  EXPECT_EQ(q.queues.TEST_stored("jobs"), 0u);
  EXPECT_EQ(q.queues.TEST_stored("dead"), 0u);
}

TEST(Queues, PerMessageOutcomesAreHonouredAndRetryDelaysKept) {
  // The first delivery acks m0 and retries m1 after 30 s; later ones ack everything.
  int calls = 0;
  QueueWorld q(5, {}, [&](sim::Task&, const std::vector<QueueMessage>& ms) {
    QueueBatchResult r;
    for (const QueueMessage& m : ms) {
      const bool retry = calls == 0 && m.body == "m1";
      r.outcomes.push_back({m.id, !retry, retry ? std::optional(30 * kSecond) : std::nullopt});
    }
    ++calls;
    return r;
  });
  ASSERT_TRUE(q.send(0, QueueWorld::bodies(2)).ok());
  q.run_until(seconds(10));
  ASSERT_EQ(q.deliveries.size(), 1u);
  q.run_until(seconds(60));
  ASSERT_EQ(q.deliveries.size(), 2u);
  ASSERT_EQ(q.deliveries[1].messages.size(), 1u);
  EXPECT_EQ(q.deliveries[1].messages[0].body, "m1");
  EXPECT_EQ(q.deliveries[1].messages[0].attempts, 2u);
  EXPECT_GE(q.deliveries[1].time - q.deliveries[0].time, 30 * kSecond);
}

TEST(Queues, ABrokerCrashNeverLosesAnAcknowledgedSend) {
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    QueueWorld q(seed);
    ASSERT_TRUE(q.send(0, QueueWorld::bodies(7)).ok());
    q.w.crash(*q.w.find_node("queue-1"));  // before the batch timeout ran out
    q.run_until(seconds(10));
    EXPECT_TRUE(q.deliveries.empty());
    q.w.restart(*q.w.find_node("queue-1"));
    q.run_until(seconds(30));
    EXPECT_EQ(bodies_of(q.deliveries).size(), 7u) << "seed " << seed;
    EXPECT_EQ(q.queues.TEST_stored("jobs"), 0u) << "seed " << seed;
  }
}

TEST(Queues, TheAckBeforeCommitMutantLosesAcknowledgedSendsInACrash) {
  QueueConfig c;
  c.ack_before_commit = true;
  QueueWorld q(1, c);
  ASSERT_TRUE(q.send(0, QueueWorld::bodies(7)).ok());
  q.w.crash(*q.w.find_node("queue-1"));  // before the flusher wrote them
  q.w.restart(*q.w.find_node("queue-1"));
  q.run_until(seconds(60));
  EXPECT_TRUE(q.deliveries.empty());
}

TEST(Queues, AConsumerThatCrashesMidBatchGetsItAgainWithMoreAttempts) {
  QueueConfig c;
  c.consumer_timeout = 10 * kSecond;
  QueueWorld q(7, c, ack_after_3s);
  ASSERT_TRUE(q.send(0, QueueWorld::bodies(3)).ok());
  q.run_until(seconds(6));  // the batch left at 5 s and is being consumed
  ASSERT_EQ(q.deliveries.size(), 1u);
  q.w.crash(*q.w.find_node(q.deliveries[0].node));
  q.run_until(seconds(60));
  ASSERT_GE(q.deliveries.size(), 2u);
  EXPECT_EQ(q.deliveries[1].messages[0].attempts, 2u);
  EXPECT_EQ(q.queues.TEST_stored("jobs"), 0u);
  EXPECT_EQ(q.log.details_of("queue.retry").size(), 1u);
  EXPECT_NE(q.log.details_of("queue.retry")[0].find("timeout"), std::string::npos);
}

// The queue.delay_spike code site holds a batch before it leaves: the delivery comes later than
// the same seed without it, the spike is in the trace, and nothing is lost.
TEST(Queues, ADelaySpikeHoldsABatchAndLosesNothing) {
  bool spiked = false;
  for (std::uint64_t seed = 1; seed <= 40 && !spiked; ++seed) {
    auto first_delivery = [seed](double p, std::size_t* spikes) {
      QueueConfig c;
      c.duplicate_delivery_p = 0;
      c.lost_ack_p = 0;
      c.delay_spike_p = p;
      c.delay_spike_max = 20 * kSecond;
      QueueWorld q(seed, c);
      q.w.faults().set_sites_enabled(true);
      EXPECT_TRUE(q.send(0, QueueWorld::bodies(3)).ok());
      q.run_until(seconds(90));
      EXPECT_EQ(q.count("queue.ack"), 1u);
      EXPECT_EQ(q.queues.TEST_stored("jobs"), 0u);
      *spikes = q.count("queue.delay_spike");
      return q.deliveries.empty() ? sim::kTimeMax : q.deliveries[0].time;
    };
    std::size_t spikes = 0;
    std::size_t none = 0;
    const sim::Time held = first_delivery(1, &spikes);
    const sim::Time plain = first_delivery(0, &none);
    EXPECT_EQ(none, 0u);
    if (spikes == 0) continue;  // the seed switched the site off
    spiked = true;
    EXPECT_GT(held, plain) << "seed " << seed;
    EXPECT_LE(held, plain + 20 * kSecond) << "seed " << seed;
  }
  EXPECT_TRUE(spiked) << "no seed in 1..40 switched queue.delay_spike on";
}

TEST(Queues, TheNoRedeliveryMutantDropsACrashedBatch) {
  QueueConfig c;
  c.consumer_timeout = 10 * kSecond;
  c.redeliver = false;
  QueueWorld q(7, c, ack_after_3s);
  ASSERT_TRUE(q.send(0, QueueWorld::bodies(3)).ok());
  q.run_until(seconds(6));
  ASSERT_EQ(q.deliveries.size(), 1u);
  q.w.crash(*q.w.find_node(q.deliveries[0].node));
  q.run_until(seconds(60));
  EXPECT_EQ(q.deliveries.size(), 1u);
  EXPECT_EQ(q.queues.TEST_stored("jobs"), 0u);
  EXPECT_EQ(q.log.details_of("queue.drop").size(), 1u);
}

TEST(Queues, TheNoDeadLetterMutantMakesExhaustedMessagesVanish) {
  QueueConfig c;
  c.dlq = false;
  QueueWorld q(3, c, throw_all);
  ASSERT_TRUE(q.send(0, QueueWorld::bodies(1)).ok());
  q.run_until(seconds(120));
  EXPECT_EQ(q.deliveries.size(), 4u);
  EXPECT_TRUE(q.dead_deliveries.empty());
  EXPECT_EQ(q.log.details_of("queue.drop").size(), 1u);
}

TEST(Queues, BatchesRespectMaxConcurrency) {
  QueueConsumerSettings s;
  s.max_batch_size = 1;
  s.max_concurrency = 2;
  int running = 0, most = 0;
  QueueWorld q(
      9, {},
      [&](sim::Task& t, const std::vector<QueueMessage>& ms) {
        most = std::max(most, ++running);
        t.sleep(2 * kSecond);
        --running;
        return ack_all(ms);
      },
      s);
  ASSERT_TRUE(q.send(0, QueueWorld::bodies(10)).ok());
  q.run_until(seconds(60));
  EXPECT_EQ(q.deliveries.size(), 10u);
  EXPECT_EQ(most, 2);
}

// A run under swarm faults (partitions, crashes of brokers and PoPs, loss, duplication, code
// sites) with 30 sends from three PoPs and a consumer that sometimes throws and sometimes retries:
// how many sends resolved ok, and how many of those were never acked (in jobs or in its dead
// letter queue) after the faults stopped.
struct SwarmOutcome {
  std::size_t ok_sends = 0;
  std::size_t lost = 0;
};

std::set<std::string> acked_ids(const sim::EventLog& events) {
  std::set<std::string> out;
  for (const auto& line : events.lines()) {
    if (line.kind != "queue.ack") continue;
    const std::size_t at = line.details.find("ids={");
    if (at == std::string::npos) continue;
    const std::string list = line.details.substr(at + 5, line.details.find('}', at) - at - 5);
    std::size_t from = 0;
    while (from < list.size()) {
      std::size_t comma = list.find(',', from);
      if (comma == std::string::npos) comma = list.size();
      std::string id = list.substr(from, comma - from);
      if (id.size() >= 2 && id.front() == '"') id = id.substr(1, id.size() - 2);
      out.insert(id);
      from = comma + 1;
    }
  }
  return out;
}

SwarmOutcome run_swarm(std::uint64_t seed, QueueConfig c) {
  c.consumer_timeout = 20 * kSecond;
  sim::World w(seed);
  QueueService queues(w, c);
  queues.add_queue("jobs");
  queues.add_queue("dead");
  std::vector<FakeConsumer::Delivery> log;
  FakeConsumer consumer(&log, [&](sim::Task& t, const std::vector<QueueMessage>& ms) {
    t.sleep(millis(200));
    QueueBatchResult r;
    r.ok = t.serial() % 5 != 0;
    for (const QueueMessage& m : ms) {
      r.outcomes.push_back({m.id, r.ok && (m.attempts > 1 || m.body.size() % 3 != 0), {}});
    }
    return r;
  });
  FakeConsumer dead_consumer(&log);
  queues.add_broker(w.add_node("queue-1", "fra"));
  std::vector<sim::Node*> pops;
  for (const char* loc : {"lhr", "ams", "iad"}) {
    sim::Node& n = w.add_node(std::string("pop-") + loc, loc);
    pops.push_back(&n);
    queues.add_consumer({.queue = "jobs", .dead_letter_queue = "dead"}, n, consumer);
    queues.add_consumer({.queue = "dead"}, n, dead_consumer);
  }
  sim::EventLog events(&w);
  w.add_sink(&events);
  w.start();
  EXPECT_TRUE(w.faults().install(sim::FaultPlan::swarm(), seconds(60)).ok());
  for (int k = 0; k < 30; ++k) {
    sim::Node* pop = pops[static_cast<std::size_t>(k) % pops.size()];
    w.scheduler().at(millis(1500) * k, [&, k, pop] {
      w.spawn(*pop, "producer", [&, k, pop](sim::Task& t) {
        (void)queues.attach(*pop).send(t, "jobs", {{"body-" + std::to_string(k)}});
      });
    });
  }
  EXPECT_TRUE(w.run_until(seconds(400)));
  const std::set<std::string> acked = acked_ids(events);
  SwarmOutcome out;
  for (const sim::Operation& op : w.history().ops()) {
    if (op.status != sim::OpStatus::kOk) continue;
    ++out.ok_sends;
    if (!acked.contains(op.input)) ++out.lost;
  }
  w.remove_sink(&events);
  return out;
}

RC_GTEST_PROP(QueueProperty, NoAcknowledgedSendIsLostUnderSwarmFaults, ()) {
  const SwarmOutcome o = run_swarm(*rc::gen::inRange<std::uint64_t>(1, 1'000'000), {});
  RC_TAG(o.ok_sends >= 20 ? "20+ sends ok" : "fewer sends ok");
  RC_ASSERT(o.ok_sends > 0u);
  RC_ASSERT(o.lost == 0u);
}

// The same runs catch each mutant that can lose messages on some seed.
TEST(QueueMutants, EachIsCaughtLosingAnAcknowledgedSend) {
  const std::vector<std::pair<const char*, QueueConfig>> mutants = {
      {"ack_before_commit",
       [] {
         QueueConfig c;
         c.ack_before_commit = true;
         return c;
       }()},
      {"redeliver=off",
       [] {
         QueueConfig c;
         c.redeliver = false;
         return c;
       }()},
  };
  for (const auto& [name, config] : mutants) {
    int caught = 0;
    for (std::uint64_t seed = 1; seed <= 40 && caught == 0; ++seed) {
      caught += run_swarm(seed, config).lost > 0 ? 1 : 0;
    }
    EXPECT_GT(caught, 0) << name << " was never caught in 40 seeds";
  }
}

}  // namespace
}  // namespace services
