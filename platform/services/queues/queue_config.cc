// QueueConfig's knobs (queues.h).
#include "platform/services/queues/queues.h"

namespace services {

const sim::Knobs<QueueConfig>& QueueConfig::knobs() {
  using C = QueueConfig;
  static const auto* table =
      &(*new sim::Knobs<C>())
           .integer("message_bytes_max", &C::message_bytes_max, 1, std::int64_t{1} << 30,
                    "largest message a producer may send (128 KB = 128000 B)")
           .integer("batch_messages_max", &C::batch_messages_max, 1, 100000,
                    "most messages in one sendBatch()")
           .integer("batch_bytes_max", &C::batch_bytes_max, 1, std::int64_t{1} << 34,
                    "largest sendBatch() in bytes (256 KB = 256000 B)")
           .duration("delay_max", &C::delay_max, "longest delaySeconds of a send or a retry (24 h)")
           .decimal("messages_per_second_max", &C::messages_per_second_max, 0, 1e9,
                    "messages per second a queue accepts; beyond: 'Queue is overloaded'")
           .duration("send_timeout", &C::send_timeout,
                     "how long send() waits for the broker (then: outcome unknown)")
           .integer("max_batch_size", &C::max_batch_size, 1, 100,
                    "messages per batch when the consumer sets none (10; Miniflare: 5)")
           .duration("max_batch_timeout", &C::max_batch_timeout,
                     "how long a batch waits to fill when the consumer sets none (5s; Miniflare: "
                     "1s)")
           .integer("max_retries", &C::max_retries, 0, 100,
                    "retries of a message when the consumer sets none (3; Miniflare: 2): it is "
                    "delivered at most this + 1 times")
           .duration("retry_delay", &C::retry_delay,
                     "delay of a retried message when the consumer sets none")
           .integer("max_concurrency", &C::max_concurrency, 1, 250,
                    "batches of one queue in flight at once when the consumer sets none")
           .duration("consumer_timeout", &C::consumer_timeout,
                     "a consumer invocation's wall-time limit (15 min): a batch not answered by "
                     "then is retried",
                     sim::kMillisecond)
           .duration("forward_timeout", &C::forward_timeout,
                     "timeout of moving a message to its dead letter queue's broker",
                     sim::kMillisecond)
           .duration("forward_retry", &C::forward_retry,
                     "pause before moving a dead-lettered message is tried again",
                     sim::kMillisecond)
           .decimal("duplicate_delivery_p", &C::duplicate_delivery_p, 0, 1,
                    "chance that the queue.duplicate_delivery code site pushes a batch twice "
                    "(sites on)")
           .decimal("lost_ack_p", &C::lost_ack_p, 0, 1,
                    "chance that the queue.lost_ack code site drops a consumer's answer (sites on)")
           .decimal("delay_spike_p", &C::delay_spike_p, 0, 1,
                    "chance that the queue.delay_spike code site holds a batch before it leaves "
                    "(sites on)")
           .duration("delay_spike_max", &C::delay_spike_max,
                     "longest a delivery-delay spike holds a batch")
           .flag("ack_before_commit", &C::ack_before_commit,
                 "send() resolves before the messages are durable (on: a mutant: a broker crash "
                 "loses them)")
           .duration("unsynced_flush_every", &C::unsynced_flush_every,
                     "ack_before_commit only: how often the broker writes what it acknowledged",
                     sim::kMillisecond)
           .flag("redeliver", &C::redeliver,
                 "a batch whose consumer crashed or timed out is delivered again (off: a mutant: "
                 "it is dropped)")
           .flag("dlq", &C::dlq,
                 "exhausted messages move to the dead letter queue (off: a mutant: they vanish)");
  return *table;
}

const char* queue_content_type_name(QueueContentType t) {
  switch (t) {
    case QueueContentType::kJson:
      return "json";
    case QueueContentType::kText:
      return "text";
    case QueueContentType::kBytes:
      return "bytes";
    case QueueContentType::kV8:
      return "v8";
  }
  return "";
}

}  // namespace services
