// Internals of the queue service (queues.h): the wire messages between producers, brokers and
// consumers, the service's per-queue record, and the broker role. Not for use outside
// platform/services/queues/.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "platform/services/queues/queues.h"
#include "sim/rng.h"
#include "sim/sql_db.h"
#include "sim/sync.h"
#include "sim/wire.h"

namespace services {

// A declared queue, as the service knows it.
struct QueueService::Queue {
  std::string name;
  sim::Duration delivery_delay = 0;
  std::size_t broker = 0;  // index into brokers_, set by assign_brokers()
  // The consumer: its settings (config defaults filled in) and the nodes that can run it.
  bool has_consumer = false;
  std::int64_t max_batch_size = 0;
  sim::Duration max_batch_timeout = 0;
  std::int64_t max_retries = 0;
  std::string dead_letter_queue;
  sim::Duration retry_delay = 0;
  std::int64_t max_concurrency = 0;
  std::vector<std::pair<sim::Node*, QueueConsumerExecutor*>> consumers;
};

namespace queue_internal {

inline constexpr char kSendService[] = "queue.send";
inline constexpr char kDeliverService[] = "queue.deliver";

// ---- Wire messages (sim/wire.h) ----

// A message on its way to a broker: a send, or a dead-lettering from another queue.
struct SendItem {
  std::string id;
  sim::Time timestamp = 0;
  QueueContentType type = QueueContentType::kJson;
  std::string body;
  std::optional<sim::Duration> delay;  // absent: the queue's delivery delay
};
struct SendRequest {
  std::string queue;
  std::string dead_lettered_from;  // "" for a producer's send
  std::vector<SendItem> items;
};
std::string encode(const SendRequest& r);
sim::Result<SendRequest> decode_send(std::string_view bytes);
std::string encode(const QueueMetrics& m);
sim::Result<QueueMetrics> decode_metrics(std::string_view bytes);

struct DeliverRequest {
  std::string queue;
  std::uint64_t batch = 0;
  std::vector<QueueMessage> messages;
};
std::string encode(const DeliverRequest& r);
sim::Result<DeliverRequest> decode_deliver(std::string_view bytes);
std::string encode(const QueueBatchResult& r);
sim::Result<QueueBatchResult> decode_result(std::string_view bytes);

// ---- The broker ----

// One broker node: the queues dealt to it, durable in SQLite (table `messages`), with volatile
// delivery state rebuilt from the database at every boot.
class Broker {
 public:
  Broker(QueueService& service, sim::Node& node);
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  // The queues this broker owns. REQUIRES: before the node boots.
  void own(const QueueService::Queue& queue) { owned_.push_back(&queue); }
  sim::Node& node() const { return node_; }
  // Messages in its database for `queue` (any state); -1 when the database is not open.
  std::int64_t stored(const std::string& queue) const;

 private:
  struct Stored {
    std::uint64_t seq = 0;
    sim::Time timestamp = 0;
    QueueContentType type = QueueContentType::kJson;
    std::string body;
    std::uint32_t attempts = 0;  // deliveries dispatched so far
    sim::Time visible_at = 0;
    bool in_flight = false;
    bool dead = false;    // exhausted: waiting to be forwarded to the dead letter queue
    bool written = true;  // on the disk (ack_before_commit: not until the flusher ran)
  };
  // The volatile state of one owned queue.
  struct State {
    const QueueService::Queue* queue = nullptr;
    std::map<std::string, Stored> messages;                            // by id
    std::map<std::pair<sim::Time, std::uint64_t>, std::string> ready;  // (visible_at, seq) -> id
    std::int64_t in_flight_batches = 0;
    std::uint64_t backlog_bytes = 0;
    sim::WaitQueue changed;  // a message became ready, or a batch ended
    double tokens = 0;       // the send rate's token bucket
    sim::Time refilled = 0;
  };
  void boot(sim::Node& node);
  bool load();
  State* state(const std::string& queue);
  sim::Result<std::string> on_send(sim::Task& task, sim::NodeId from, std::string_view bytes);
  sim::Status admit(State& s, std::size_t count, sim::Time now);
  void add_ready(State& s, const std::string& id, Stored& m);
  QueueMetrics metrics(const State& s) const;
  void dispatch_loop(sim::Task& task, State& s);
  std::vector<std::string> take_batch(State& s, sim::Time now);
  void deliver(sim::Task& task, State& s, std::uint64_t batch, std::vector<std::string> ids);
  sim::Result<QueueBatchResult> push(sim::Task& task, State& s, const DeliverRequest& request,
                                     std::string* reason);
  void settle(State& s, std::uint64_t batch, const std::vector<std::string>& ids,
              const QueueBatchResult* result, const std::string& failure);
  void forward_loop(sim::Task& task);
  void flush_loop(sim::Task& task);
  void emit_settle(const State& s, std::uint64_t batch, const std::vector<std::string>& ids,
                   const char* kind, const std::string& reason, sim::Duration delay = 0);

  QueueService& service_;
  sim::Node& node_;
  std::vector<const QueueService::Queue*> owned_;
  std::map<std::string, State, std::less<>> states_;
  sim::SqlDb db_;
  sim::Rng rng_{0};
  std::uint64_t next_seq_ = 1;
  sim::WaitQueue dead_waiters_;  // a message became dead: the forwarder has work
};

}  // namespace queue_internal
}  // namespace services
