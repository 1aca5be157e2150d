// Cloudflare Queues (platform/services/queues) on one core: messages per wall-clock second through
// a broker. A run is a World with one broker and two consumer PoPs whose C++ consumers ack every
// message; producers on both PoPs send `batch` messages per send (sendBatch) back to back until
// `messages` were sent, and the run ends when the broker has acknowledged them all. Every message
// is written to SQLite on the simulated disk at the send, its attempt counted before its batch
// leaves, and its ack committed: three synced transactions per batch, as in a scenario. No trace
// sink, as in a sweep.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "platform/services/queues/queues.h"
#include "sim/world.h"

namespace {

class AckAll final : public services::QueueConsumerExecutor {
 public:
  sim::Result<services::QueueBatchResult> deliver(
      sim::Task&, const std::string&, std::vector<services::QueueMessage> messages) override {
    services::QueueBatchResult r;
    for (const services::QueueMessage& m : messages) r.outcomes.push_back({m.id, true, {}});
    return r;
  }
};

// Returns the messages acked.
std::uint64_t run(std::uint64_t seed, int messages, int batch, int max_batch_size) {
  sim::World w(seed);
  services::QueueConfig config;
  config.max_batch_size = max_batch_size;
  config.max_batch_timeout = 100 * sim::kMillisecond;
  // The broker's capacity, not the platform's per-queue rate limit (5000 messages/s), is measured.
  config.messages_per_second_max = 1e9;
  services::QueueService queues(w, config);
  queues.add_queue("jobs");
  queues.add_broker(w.add_node("queue-1", "fra"));
  AckAll consumer;
  std::vector<sim::Node*> pops = {&w.add_node("pop-lhr", "lhr"), &w.add_node("pop-ams", "ams")};
  for (sim::Node* p : pops) queues.add_consumer({.queue = "jobs"}, *p, consumer);
  w.start();
  for (sim::Node* p : pops) {
    w.spawn(*p, "producer", [&queues, p, messages, batch](sim::Task& t) {
      services::QueueProducer& producer = queues.attach(*p);
      for (int sent = 0; sent < messages / 2; sent += batch) {
        std::vector<services::QueueSendMessage> ms(static_cast<std::size_t>(batch));
        for (auto& m : ms) m.body = R"({"order":12345,"amount":1})";
        (void)producer.send(t, "jobs", std::move(ms));
      }
    });
  }
  w.run_until_idle(3600 * sim::kSecond);
  return queues.stats().acked;
}

void BM_QueueThroughput(benchmark::State& state) {
  const int messages = 20000;
  const int batch = static_cast<int>(state.range(0));
  const int max_batch_size = static_cast<int>(state.range(1));
  std::uint64_t seed = 1;
  double acked = 0;
  for (auto _ : state) {
    const std::uint64_t n = run(seed++, messages, batch, max_batch_size);
    if (n != static_cast<std::uint64_t>(messages)) {
      state.SkipWithError(
          ("acked " + std::to_string(n) + " of " + std::to_string(messages)).c_str());
      return;
    }
    acked += static_cast<double>(n);
  }
  state.counters["messages_per_s"] = benchmark::Counter(acked, benchmark::Counter::kIsRate);
}
// (messages per send, max_batch_size): single sends into batches of 10; sendBatch(100) into
// batches of 100.
BENCHMARK(BM_QueueThroughput)
    ->Args({1, 10})
    ->Args({10, 10})
    ->Args({100, 100})
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime();

}  // namespace

BENCHMARK_MAIN();
