// QueueService (the deployment of queues, brokers and consumers), QueueProducer (sends) and the
// consumer side of a delivery (the queue.deliver service on a consumer node).
#include <algorithm>
#include <cstdio>
#include <utility>

#include "platform/services/queues/queue_internal.h"
#include "sim/assert.h"
#include "sim/events.h"
#include "sim/history.h"
#include "sim/rpc.h"

namespace services {

using queue_internal::Broker;

namespace {

std::string hex128(sim::Rng& rng) {
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(rng.next_u64()),
                static_cast<unsigned long long>(rng.next_u64()));
  return buf;
}

// A limit error as the service words it: the cause, then the platform's error code.
sim::Error limit(std::string cause, int code) {
  return sim::Error{sim::ErrorKind::kInvalid, std::move(cause) + " (" + std::to_string(code) + ")"};
}

std::string joined(const std::vector<std::string>& ids) {
  std::string out;
  for (const std::string& id : ids) out += (out.empty() ? "" : ",") + id;
  return out;
}

}  // namespace

// ---- QueueService ----

QueueService::QueueService(sim::World& world, QueueConfig config)
    : world_(world), config_(std::move(config)) {}

QueueService::~QueueService() = default;

void QueueService::add_queue(const std::string& name, sim::Duration delivery_delay) {
  SIM_REQUIRE(!assigned_);
  SIM_REQUIRE(!queues_.contains(name));
  auto q = std::make_unique<Queue>();
  q->name = name;
  q->delivery_delay = delivery_delay;
  queues_.emplace(name, std::move(q));
}

void QueueService::add_broker(sim::Node& node) {
  SIM_REQUIRE(!assigned_);
  broker_nodes_.push_back(&node);
  brokers_.push_back(std::make_unique<Broker>(*this, node));
}

void QueueService::assign_brokers() {
  if (assigned_) return;
  SIM_REQUIRE(!brokers_.empty());
  assigned_ = true;
  std::size_t i = 0;
  for (auto& [name, q] : queues_) {  // by name: the assignment does not depend on call order
    q->broker = i++ % brokers_.size();
    brokers_[q->broker]->own(*q);
  }
}

void QueueService::add_consumer(const QueueConsumerSettings& settings, sim::Node& node,
                                QueueConsumerExecutor& executor) {
  auto it = queues_.find(settings.queue);
  SIM_REQUIRE(it != queues_.end());
  SIM_REQUIRE(settings.dead_letter_queue.empty() || queues_.contains(settings.dead_letter_queue));
  SIM_REQUIRE(settings.dead_letter_queue != settings.queue);
  Queue& q = *it->second;
  if (!q.has_consumer) {
    q.has_consumer = true;
    q.max_batch_size = settings.max_batch_size.value_or(config_.max_batch_size);
    q.max_batch_timeout = settings.max_batch_timeout.value_or(config_.max_batch_timeout);
    q.max_retries = settings.max_retries.value_or(config_.max_retries);
    q.dead_letter_queue = settings.dead_letter_queue;
    q.retry_delay = settings.retry_delay.value_or(config_.retry_delay);
    q.max_concurrency = settings.max_concurrency.value_or(config_.max_concurrency);
  }
  SIM_REQUIRE(q.max_batch_size >= 1);
  SIM_REQUIRE(q.max_concurrency >= 1);
  const bool first_on_node = std::none_of(queues_.begin(), queues_.end(), [&](const auto& e) {
    const auto& cs = e.second->consumers;
    return std::any_of(cs.begin(), cs.end(), [&](const auto& c) { return c.first == &node; });
  });
  q.consumers.emplace_back(&node, &executor);
  if (!first_on_node) return;
  // One queue.deliver service per node, for every queue consumed there.
  node.add_boot_hook([this](sim::Node& n) {
    world_.rpc().serve(
        n, queue_internal::kDeliverService,
        [this, &n](sim::Task& task, sim::NodeId, std::string_view bytes) {
          sim::Result<queue_internal::DeliverRequest> d = queue_internal::decode_deliver(bytes);
          if (!d.ok()) return sim::Result<std::string>(d.error());
          const Queue* target = queue(d->queue);
          QueueConsumerExecutor* executor = nullptr;
          if (target != nullptr) {
            for (const auto& [cn, ex] : target->consumers) {
              if (cn == &n) executor = ex;
            }
          }
          if (executor == nullptr) {
            return sim::Result<std::string>(sim::Error{
                sim::ErrorKind::kInvalid, "no consumer of queue " + d->queue + " on " + n.name()});
          }
          world_.emit(n.id(), [&](sim::ev::Body& b) {
            auto& e = *b.mutable_queue_deliver();
            e.set_queue(d->queue);
            e.set_batch(d->batch);
            for (const QueueMessage& m : d->messages) {
              e.add_ids(m.id);
              e.add_attempts(m.attempts);
            }
          });
          sim::Result<QueueBatchResult> r =
              executor->deliver(task, d->queue, std::move(d.value().messages));
          if (!r.ok()) return sim::Result<std::string>(r.error());
          return sim::Result<std::string>(queue_internal::encode(r.value()));
        },
        sim::Rpc::Delivery::kAtMostOnce);
  });
}

QueueProducer& QueueService::attach(sim::Node& node) {
  auto it = producers_.find(node.id());
  if (it == producers_.end()) {
    it = producers_
             .emplace(node.id(), std::unique_ptr<QueueProducer>(new QueueProducer(*this, node)))
             .first;
  }
  return *it->second;
}

const QueueService::Queue* QueueService::queue(std::string_view name) const {
  auto it = queues_.find(name);
  return it == queues_.end() ? nullptr : it->second.get();
}

sim::NodeId QueueService::broker_of(std::string_view name) const {
  const Queue* q = queue(name);
  if (q == nullptr || brokers_.empty()) return sim::kNoNode;
  const_cast<QueueService*>(this)->assign_brokers();
  return broker_nodes_[q->broker]->id();
}

std::uint64_t QueueService::TEST_stored(std::string_view name) const {
  const Queue* q = queue(name);
  if (q == nullptr || brokers_.empty()) return 0;
  const std::int64_t n = brokers_[q->broker]->stored(q->name);
  return n < 0 ? 0 : static_cast<std::uint64_t>(n);
}

// ---- QueueProducer ----

QueueProducer::QueueProducer(QueueService& service, sim::Node& node)
    : service_(service), node_(node), ids_(service.world().rng("queue/producer/" + node.name())) {}

sim::Status QueueProducer::check_limits(const std::vector<QueueSendMessage>& messages) const {
  const QueueConfig& c = service_.config();
  if (std::cmp_greater(messages.size(), c.batch_messages_max)) {
    return limit("batch message count of " + std::to_string(messages.size()) +
                     " exceeds limit of " + std::to_string(c.batch_messages_max),
                 10206);
  }
  std::int64_t total = 0;
  for (const QueueSendMessage& m : messages) {
    const auto size = static_cast<std::int64_t>(m.body.size());
    if (size > c.message_bytes_max) {
      return limit(
          std::string(messages.size() > 1 ? "message in batch has length " : "message length of ") +
              std::to_string(size) + " bytes exceeds limit of " +
              std::to_string(c.message_bytes_max),
          10204);
    }
    if (m.delay.has_value() && (*m.delay < 0 || *m.delay > c.delay_max)) {
      return limit("message delay " + std::to_string(*m.delay / sim::kSecond) +
                       " is invalid: it must be between 0 and " +
                       std::to_string(c.delay_max / sim::kSecond) + " seconds",
                   10203);
    }
    total += size;
  }
  if (messages.size() > 1 && total > c.batch_bytes_max) {
    return limit("batch size of " + std::to_string(total) + " bytes exceeds limit of " +
                     std::to_string(c.batch_bytes_max) + " bytes",
                 10205);
  }
  return sim::Status::Ok();
}

sim::Result<QueueMetrics> QueueProducer::send(sim::Task& task, std::string_view queue,
                                              std::vector<QueueSendMessage> messages) {
  SIM_REQUIRE(&task.node() == &node_);
  SIM_REQUIRE(!messages.empty());
  sim::World& w = service_.world();
  const QueueConfig& c = service_.config();
  queue_internal::SendRequest request;
  request.queue = std::string(queue);
  std::vector<std::string> ids;
  for (QueueSendMessage& m : messages) {
    ids.push_back(hex128(ids_));
    request.items.push_back({ids.back(), task.now(), m.content_type, std::move(m.body), m.delay});
  }
  sim::History& h = w.history();
  const sim::OpId op = h.invoke(node_.id(), node_.name() + "/t" + std::to_string(task.serial()),
                                "queue:" + request.queue, "", "send", joined(ids));
  const sim::UnknownOnCrash guard(h, op, node_);
  auto fail = [&](sim::Error e) -> sim::Result<QueueMetrics> {
    h.complete(op, sim::OpStatus::kFail, e.message);
    return e;
  };
  {
    std::vector<QueueSendMessage> sizes;
    for (const queue_internal::SendItem& i : request.items) {
      sizes.push_back({std::string(i.body.size(), '\0'), i.type, i.delay});
    }
    if (sim::Status s = check_limits(sizes); !s.ok()) return fail(s.error());
  }
  const sim::NodeId broker = service_.broker_of(queue);
  if (broker == sim::kNoNode) {
    return fail({sim::ErrorKind::kInvalid, "Queue \"" + request.queue + "\" does not exist"});
  }
  sim::Result<std::string> reply = w.rpc().call(task, broker, queue_internal::kSendService,
                                                queue_internal::encode(request), c.send_timeout);
  if (!reply.ok()) {
    if (reply.error().kind == sim::ErrorKind::kTimeout) {
      h.complete(op, sim::OpStatus::kUnknown, "");
      return sim::Error{sim::ErrorKind::kTimeout,
                        "the queue's broker did not answer in time; the messages may still be "
                        "delivered"};
    }
    if (reply.error().kind == sim::ErrorKind::kRemote) {
      // The broker refused them (overloaded, or its disk failed): nothing was stored.
      const bool overloaded = reply.error().message.starts_with("Queue is overloaded");
      return fail(
          {overloaded ? sim::ErrorKind::kOverloaded : sim::ErrorKind::kIo, reply.error().message});
    }
    return fail({sim::ErrorKind::kUnreachable,
                 "the queue's broker is unreachable: " + reply.error().message});
  }
  sim::Result<QueueMetrics> metrics = queue_internal::decode_metrics(reply.value());
  if (!metrics.ok()) {
    h.complete(op, sim::OpStatus::kUnknown, "");
    return metrics.error();
  }
  h.complete(op, sim::OpStatus::kOk, "");
  return metrics;
}

}  // namespace services
