// Queues end to end with real JS producers and consumers (needs the platform): Workers send
// through env.<BINDING>, the brokers deliver to the consumer Worker's queue() on the PoPs, and
// the histories the trace records are checked by props' queue_delivery. The suite scenario
// queue-orders adds crashes and partitions over many seeds.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "platform/deployment.h"
#include "platform/engine_setup.h"
#include "platform/runtime/origin.h"
#include "props/history.h"
#include "scenarios/runner.h"
#include "sim/world.h"

namespace scenarios {
namespace {

// POST /send?queue=<jobs|plain>&n=<count> sends n messages; GET /limit/<which> tries a send the
// platform refuses and answers the error's message. The consumer throws on "jobs" and "plain"
// and acknowledges the dead letter queue's messages.
const char kApp[] = R"js(
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const q = url.searchParams.get('queue') === 'plain' ? env.PLAIN : env.JOBS;
    try {
      switch (url.pathname) {
        case '/send': {
          const n = Number(url.searchParams.get('n'));
          for (let i = 0; i < n; i++) await q.send({n: i});
          return new Response('sent');
        }
        case '/limit/size':
          await q.send('x'.repeat(128 * 1024 + 1), {contentType: 'text'});
          break;
        case '/limit/count':
          await q.sendBatch(Array.from({length: 101}, (_, i) => ({body: i})));
          break;
        case '/limit/delay':
          await q.send(1, {delaySeconds: 24 * 3600 + 1});
          break;
        case '/limit/batch-bytes':
          await q.sendBatch(Array.from({length: 3}, () => ({body: 'y'.repeat(100 * 1024),
                                                            contentType: 'text'})));
          break;
      }
      return new Response('accepted');
    } catch (e) {
      return new Response(`${e.constructor.name}: ${e.message}`, {status: 500});
    }
  },
  async queue(batch, env) {
    if (batch.queue === 'dead') {
      for (const m of batch.messages) {
        if (m.attempts !== 1) throw new Error(`attempts ${m.attempts} in the dead letter queue`);
      }
      batch.ackAll();
      return;
    }
    throw new Error(`consumer of ${batch.queue} fails`);
  },
};
)js";

struct QueueApp {
  sim::World world{7};
  props::HistoryRecorder recorder;
  std::unique_ptr<platform::Deployment> deployment;
  sim::Node* client = nullptr;

  QueueApp() {
    platform::init_engine();
    platform::DeploymentSpec spec;
    spec.pops = {{"pop-lhr", "lhr"}, {"pop-iad", "iad"}};
    platform::WorkerSpec w;
    w.name = "app";
    w.modules = {{"index.js", kApp}};
    w.main = "index.js";
    w.compatibility_date = "2025-01-01";
    w.queue_producers = {{"JOBS", "jobs", std::nullopt}, {"PLAIN", "plain", std::nullopt}};
    services::QueueConsumerSettings jobs;
    jobs.queue = "jobs";
    jobs.max_retries = 2;
    jobs.dead_letter_queue = "dead";
    jobs.max_batch_timeout = sim::kSecond;
    services::QueueConsumerSettings plain;
    plain.queue = "plain";
    plain.max_retries = 1;
    plain.max_batch_timeout = sim::kSecond;
    services::QueueConsumerSettings dead;
    dead.queue = "dead";
    dead.max_batch_timeout = sim::kSecond;
    w.queue_consumers = {jobs, plain, dead};
    spec.workers = {w};
    deployment = std::make_unique<platform::Deployment>(world, spec);
    client = &world.add_node("client", "lhr");
    world.add_sink(&recorder);
    world.start();
  }
  ~QueueApp() { world.remove_sink(&recorder); }

  // Sends `path` to the London PoP; "status body".
  std::string request(const std::string& method, const std::string& path) {
    std::string out;
    world.spawn(*client, "client", [&](sim::Task& task) {
      runtime::HttpRequest r;
      r.method = method;
      r.url = "https://app.test" + path;
      auto reply = runtime::http_call(task, deployment->pop_named("pop-lhr"), r, 30 * sim::kSecond);
      out = reply.ok() ? std::to_string(reply->status) + " " + reply->body
                       : "error " + reply.error().message;
    });
    world.run_for(40 * sim::kSecond);
    return out;
  }
};

TEST(QueuesWithJs, AThrowingConsumerDeadLettersAfterExactlyMaxRetries) {
  QueueApp app;
  ASSERT_EQ(app.request("POST", "/send?queue=jobs&n=5"), "200 sent");
  ASSERT_EQ(app.request("POST", "/send?queue=plain&n=3"), "200 sent");
  app.world.run_for(10 * sim::kMinute);
  ASSERT_TRUE(app.recorder.status().ok()) << app.recorder.status().error().message;
  const props::History h = app.recorder.take();

  // Each message of "jobs" (max_retries 2) is delivered 3 times, attempts 1, 2, 3, then moved to
  // "dead", where it arrives with attempts 1 and is acknowledged. "plain" (max_retries 1, no dead
  // letter queue): 2 deliveries, then dropped.
  std::map<std::string, std::vector<std::uint32_t>> attempts;  // "queue/id" -> attempts
  for (const props::QueueDelivery& d : h.queues.deliveries) {
    attempts[d.queue + "/" + d.message_id].push_back(d.attempt);
  }
  std::set<std::string> sent;
  for (const props::QueueSend& s : h.queues.sends) {
    EXPECT_TRUE(s.resolved_ok) << s.message_id;
    sent.insert(s.queue + "/" + s.message_id);
  }
  std::size_t jobs = 0;
  std::size_t plain = 0;
  for (const std::string& key : sent) {
    const std::string id = key.substr(key.find('/') + 1);
    if (key.starts_with("jobs/")) {
      ++jobs;
      EXPECT_EQ(attempts[key], (std::vector<std::uint32_t>{1, 2, 3})) << key;
      EXPECT_EQ(attempts["dead/" + id], (std::vector<std::uint32_t>{1})) << key;
    } else if (key.starts_with("plain/")) {
      ++plain;
      EXPECT_EQ(attempts[key], (std::vector<std::uint32_t>{1, 2})) << key;
    }
  }
  EXPECT_EQ(jobs, 5u);
  EXPECT_EQ(plain, 3u);
  std::size_t dead_lettered = 0;
  for (const props::QueueDeadLetter& d : h.queues.dead_letters) dead_lettered += d.queue == "jobs";
  EXPECT_EQ(dead_lettered, 5u);
  const auto stats = app.deployment->stats();
  EXPECT_EQ(stats.at("queue_dead_lettered"), 5u);
  EXPECT_EQ(stats.at("queue_dropped"), 3u);

  // The checker agrees: every send was processed (dead-lettered, acked in "dead", or exhausted
  // on a queue without a dead letter queue).
  props::QueueDeliveryOptions options;
  options.require_processing = true;
  options.rules["jobs"] = {2, true};
  options.rules["plain"] = {1, false};
  const props::QueueDeliveryResult r = props::check_queue_delivery(h.queues, options);
  EXPECT_EQ(r.verdict, props::Verdict::kOk) << r.report();
}

TEST(QueuesWithJs, ProducerLimitsRaiseThePlatformsErrors) {
  QueueApp app;
  const std::string size = app.request("GET", "/limit/size");
  EXPECT_TRUE(size.starts_with("500 Error: ")) << size;
  EXPECT_NE(size.find("exceeds limit of 128000"), std::string::npos) << size;
  const std::string count = app.request("GET", "/limit/count");
  EXPECT_NE(count.find("batch message count of 101 exceeds limit of 100"), std::string::npos)
      << count;
  const std::string delay = app.request("GET", "/limit/delay");
  EXPECT_TRUE(delay.starts_with("500 ")) << delay;
  EXPECT_NE(delay.find("86401"), std::string::npos) << delay;
  const std::string bytes = app.request("GET", "/limit/batch-bytes");
  EXPECT_NE(bytes.find("exceeds limit of 256000"), std::string::npos) << bytes;
  // Nothing was stored.
  EXPECT_EQ(app.deployment->stats().at("queue_sent"), 0u);
}

// queue-orders: JS producers and a JS consumer writing to Durable Object ledgers, under broker
// crashes, consumer PoP crashes and a partition between a PoP and the broker.
TEST(QueuesWithJs, NoAcknowledgedOrderIsLostOnAnySeed) {
  std::uint64_t redelivered = 0;
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    RunOutcome o = run_scenario({EDGESIM_SUITE_DIR "/queue-orders", seed});
    ASSERT_EQ(o.exit_code, kExitOk) << o.error << " seed " << seed;
    for (const char* name : {"orders-processed", "ledger-linearizable"}) {
      const PropertyResult* p = find_property(o, name);
      ASSERT_NE(p, nullptr) << name;
      EXPECT_EQ(p->verdict, PropertyResult::Verdict::kOk) << name << " seed " << seed << "\n"
                                                          << p->explanation;
    }
    EXPECT_GT(o.stats["queue_acked"], 0u) << "seed " << seed;
    redelivered += o.stats["queue_retried"];
  }
  // The faults bit: some batches were delivered again.
  EXPECT_GT(redelivered, 0u);
}

TEST(QueuesWithJs, EachMutantAndTheNonIdempotentConsumerAreCaught) {
  for (const char* variant : {"ack-before-commit", "no-redeliver", "non-idempotent"}) {
    const std::string name = std::string(EDGESIM_SUITE_DIR "/queue-orders@") + variant;
    const ScenarioInfo info = *describe_scenario(name);
    bool caught = false;
    for (std::uint64_t seed = 1; seed <= 4 && !caught; ++seed) {
      RunOutcome o = run_scenario({name, seed});
      ASSERT_LT(o.exit_code, kExitBadInput) << o.error;
      const PropertyResult* p = find_property(o, info.expected);
      ASSERT_NE(p, nullptr) << variant;
      caught = p->verdict == PropertyResult::Verdict::kViolated;
    }
    EXPECT_TRUE(caught) << variant << " held on seeds 1-4";
  }
}

}  // namespace
}  // namespace scenarios
