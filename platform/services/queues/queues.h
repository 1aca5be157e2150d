// services::QueueService: Cloudflare Queues on simulated nodes (no JS, no V8).
//
// What it is for. A Worker's `env.MY_QUEUE.send(...)` ends up here: the binding
// (bindings::QueueBinding) calls the QueueProducer of its node, which sends the messages over
// sim::Rpc to the broker that owns the queue. The broker keeps them durable in SQLite on its
// simulated disk, forms batches and pushes each batch over the network to the consumer Worker on
// a PoP (a QueueConsumerExecutor the deployment registers per PoP), then commits what the
// consumer decided (acks, retries) before a message leaves. Every timing and limit is a
// QueueConfig knob ("queue.*") whose default is the documented behaviour (docs/semantics.md,
// "Queues"); README.md explains the model.
//
// Nodes.
// - Brokers ("queue-1", ...): each queue belongs to one broker (queues sorted by name, dealt
//   round-robin). A broker's state is its SQLite database (messages with their attempts, delays
//   and visibility) plus volatile delivery state rebuilt from it at boot.
// - Producers and consumers live on PoPs (or any node the caller owns): attach(node) gives a
//   node's QueueProducer; add_consumer(settings, node, executor) makes `node` able to run the
//   queue's consumer.
//
// Delivery (per queue, at its broker):
//   1. send: the broker writes the messages (one transaction, synced) and only then answers: a
//      resolved send() survives any broker crash. Each message is visible once its delay passed.
//   2. batching: a batch closes when max_batch_size messages are visible, or max_batch_timeout
//      after the first visible message found none forming; at most max_concurrency batches are
//      in flight. Messages go in visibility order (ties: send order), so retries and delays
//      reorder them.
//   3. before a batch leaves, its messages' attempt counts are incremented durably, so a
//      redelivery after any crash shows attempts + 1. The batch goes to a consumer node drawn
//      from the seed among those registered (one that refuses the connection is skipped).
//   4. the consumer answers each message's fate (ack, or retry with a delay). The broker commits
//      it (acks deleted, retries made visible again after their delay; a message that has been
//      delivered max_retries + 1 times and is retried again is dead-lettered: moved to the dead
//      letter queue with the same id and timestamp and attempts back to 1, or dropped when the
//      queue has none) and only then forgets the batch.
//   5. no answer within consumer_timeout (a crashed or cut-off consumer), or a refused
//      connection everywhere: every message of the batch is retried.
//   Consequences, as in production: at-least-once delivery, duplicates (a consumer that acked
//   but whose answer was lost gets the batch again), no ordering guarantee.
//
// Faults. Broker crash/restart (in-flight batches are forgotten and redelivered: their attempts
// were already counted), consumer crash mid-batch, partitions anywhere, and code sites
// "queue.duplicate_delivery" (a batch is pushed twice), "queue.lost_ack" (the consumer's
// answer is dropped on the way back) and "queue.delay_spike" (a batch is held up to
// delay_spike_max before it leaves). Mutants (off by default): ack_before_commit (send is
// answered before the messages are durable; they are written by a flusher every
// unsynced_flush_every, so a broker crash loses acknowledged sends), redeliver = false (a batch
// whose consumer crashed or timed out is dropped), dlq = false (exhausted messages vanish even
// when a dead letter queue is configured).
//
// History and trace. A send is an operation of the World's sim::History: object "queue:<name>",
// kind "send", input = the message ids joined by ',', client "<node>/t<task serial>"; ok when
// the broker acknowledged, fail when it surely did not store them, unknown on a timeout. Trace
// events (sim/events.proto): queue.store (a broker stored messages: sent, or dead-lettered from
// another queue), queue.dispatch (a broker hands a batch to a consumer node), queue.deliver (a
// consumer node starts a batch: ids and attempts), queue.ack, queue.retry, queue.dead_letter
// (exhausted messages on their way to the dead letter queue), queue.drop (exhausted without a
// dead letter queue, or a mutant's drop).
//
// Fiber rules. QueueProducer::send suspends the calling task (which must run on the producer's
// node). Between suspensions nothing else runs.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/knobs.h"
#include "sim/node.h"
#include "sim/result.h"
#include "sim/rng.h"
#include "sim/task.h"
#include "sim/time.h"
#include "sim/world.h"

namespace services {

namespace queue_internal {
class Broker;
}

struct QueueConfig {
  // Producer limits (1 KB = 1000 B, as the platform counts).
  std::int64_t message_bytes_max = 128000;
  std::int64_t batch_messages_max = 100;
  std::int64_t batch_bytes_max = 256000;
  sim::Duration delay_max = 24 * sim::kHour;
  // Messages per second a queue accepts (a token bucket at the broker); beyond: overloaded.
  double messages_per_second_max = 5000;
  // How long send() waits for the broker.
  sim::Duration send_timeout = 10 * sim::kSecond;

  // Consumer settings a consumer does not set (Miniflare's defaults: 5, 1 s, 2).
  std::int64_t max_batch_size = 10;
  sim::Duration max_batch_timeout = 5 * sim::kSecond;
  std::int64_t max_retries = 3;
  sim::Duration retry_delay = 0;
  std::int64_t max_concurrency = 250;
  // A consumer invocation's wall-time limit: a batch not answered by then is retried.
  sim::Duration consumer_timeout = 15 * sim::kMinute;

  // Broker to broker (dead-lettering): the call's timeout and the pause before a retry.
  sim::Duration forward_timeout = 2 * sim::kSecond;
  sim::Duration forward_retry = sim::kSecond;

  // Code sites (fire only when the fault plan turns sites on).
  double duplicate_delivery_p = 0.02;
  double lost_ack_p = 0.02;
  double delay_spike_p = 0.02;
  sim::Duration delay_spike_max = 30 * sim::kSecond;  // a spike holds a batch up to this long

  // Mutants.
  bool ack_before_commit = false;
  sim::Duration unsynced_flush_every = sim::kSecond;
  bool redeliver = true;
  bool dlq = true;

  // The fields above as knobs (sim/knobs.h), listed by the platform as "queue.<name>".
  static const sim::Knobs<QueueConfig>& knobs();
};

// A consumer's settings, as wrangler's queues.consumers[] gives them (absent: the config's).
struct QueueConsumerSettings {
  std::string queue = "";
  std::optional<std::int64_t> max_batch_size = std::nullopt;
  std::optional<sim::Duration> max_batch_timeout = std::nullopt;
  std::optional<std::int64_t> max_retries = std::nullopt;
  std::string dead_letter_queue = "";  // none
  std::optional<sim::Duration> retry_delay = std::nullopt;
  std::optional<std::int64_t> max_concurrency = std::nullopt;
};

enum class QueueContentType : std::uint8_t { kJson = 0, kText = 1, kBytes = 2, kV8 = 3 };
const char* queue_content_type_name(QueueContentType t);

// A message as the producer gives it. The body is already serialized as its content type says.
struct QueueSendMessage {
  std::string body;
  QueueContentType content_type = QueueContentType::kJson;
  std::optional<sim::Duration> delay = std::nullopt;  // absent: the queue's delivery delay
};

// A message as a consumer receives it.
struct QueueMessage {
  std::string id;         // 32 lowercase hex digits
  sim::Time timestamp{};  // when it was sent (kept through dead-lettering)
  QueueContentType content_type = QueueContentType::kJson;
  std::string body;
  std::uint32_t attempts = 1;  // deliveries so far, this one included
};

// What a consumer decided for one message.
struct QueueMessageOutcome {
  std::string id;
  bool ack = true;
  std::optional<sim::Duration> retry_delay;  // retry only; absent: the consumer's retry_delay
};

// The answer of a consumer to a batch. `outcomes` may name fewer messages than the batch had
// (those are retried): a consumer that never ran its handler answers none.
struct QueueBatchResult {
  std::vector<QueueMessageOutcome> outcomes;
  bool ok = true;     // the handler succeeded
  std::string error;  // why not
};

// Runs the queue's consumer on a node (the deployment implements it with the consumer Worker).
class QueueConsumerExecutor {
 public:
  virtual ~QueueConsumerExecutor() = default;
  // Runs the consumer on `messages` of `queue`, on a task of the node it was registered for.
  // Suspends. Throws TaskCancelled.
  virtual sim::Result<QueueBatchResult> deliver(sim::Task& task, const std::string& queue,
                                                std::vector<QueueMessage> messages) = 0;
};

// The queue's state as the broker sees it after a send (send() resolves to these metrics).
struct QueueMetrics {
  std::uint64_t backlog_count = 0;
  std::uint64_t backlog_bytes = 0;
  std::optional<sim::Time> oldest_message_timestamp;
};

class QueueProducer {
 public:
  // Sends `messages` to `queue` as one batch (send() is a batch of one). Checks the limits
  // first (kInvalid with the platform's message, nothing sent); then asks the queue's broker.
  // Errors: kInvalid (a limit; an unknown queue), kOverloaded (the queue's rate), kUnreachable
  // (the broker is down or unknown: surely not stored), kTimeout (no answer: maybe stored).
  // Suspends; REQUIRES: `task` runs on this producer's node. Throws TaskCancelled.
  sim::Result<QueueMetrics> send(sim::Task& task, std::string_view queue,
                                 std::vector<QueueSendMessage> messages);

  sim::Node& node() const { return node_; }

 private:
  friend class QueueService;
  QueueProducer(class QueueService& service, sim::Node& node);
  sim::Status check_limits(const std::vector<QueueSendMessage>& messages) const;

  QueueService& service_;
  sim::Node& node_;
  sim::Rng ids_;
};

class QueueService {
 public:
  struct Stats {
    std::uint64_t sent = 0;       // messages stored by a send
    std::uint64_t batches = 0;    // batches pushed to consumers
    std::uint64_t delivered = 0;  // messages in those batches
    std::uint64_t acked = 0;
    std::uint64_t retried = 0;
    std::uint64_t dead_lettered = 0;
    std::uint64_t dropped = 0;
  };

  // REQUIRES: the World outlives the service and is not run after it is destroyed.
  QueueService(sim::World& world, QueueConfig config);
  QueueService(const QueueService&) = delete;
  QueueService& operator=(const QueueService&) = delete;
  ~QueueService();

  // Declares a queue (produced to, consumed, or a dead letter queue). `delivery_delay`: the
  // delay of messages sent without one. REQUIRES: before World::start(); not declared yet.
  void add_queue(const std::string& name, sim::Duration delivery_delay = 0);
  // Makes `node` a broker. REQUIRES: before World::start(); at least one before it.
  void add_broker(sim::Node& node);
  // `node` runs the consumer of settings.queue through `executor` (which outlives the service).
  // A queue has one consumer (one settings), run on any number of nodes. REQUIRES: the queue and
  // its dead letter queue are declared; before World::start().
  void add_consumer(const QueueConsumerSettings& settings, sim::Node& node,
                    QueueConsumerExecutor& executor);
  // The producer of `node`; created on first call.
  QueueProducer& attach(sim::Node& node);

  const QueueConfig& config() const { return config_; }
  sim::World& world() const { return world_; }
  const Stats& stats() const { return stats_; }
  // The broker node of `queue`, or kNoNode for an unknown queue.
  sim::NodeId broker_of(std::string_view queue) const;
  // Test hook: the messages a queue's broker holds on its disk right now (any state).
  std::uint64_t TEST_stored(std::string_view queue) const;

 private:
  friend class QueueProducer;
  friend class queue_internal::Broker;
  struct Queue;
  struct Consumer;

  void assign_brokers();
  const Queue* queue(std::string_view name) const;

  sim::World& world_;
  QueueConfig config_;
  std::map<std::string, std::unique_ptr<Queue>, std::less<>> queues_;
  std::vector<sim::Node*> broker_nodes_;
  std::vector<std::unique_ptr<queue_internal::Broker>> brokers_;
  std::map<sim::NodeId, std::unique_ptr<QueueProducer>> producers_;
  bool assigned_ = false;
  std::uint64_t next_batch_ = 1;  // batch numbers, unique across brokers and crashes
  Stats stats_;
};

}  // namespace services
