// The broker (queue_internal.h): durable messages, batching, delivery, settling outcomes,
// dead-lettering. The promises it keeps, asserted where they are made:
// - a send is answered only after its messages are on the disk (unless ack_before_commit);
// - a message leaves (acked, dropped, dead-lettered) only by a committed transaction;
// - a message is in at most one batch at a time, and its attempts count every batch it was in.
#include <algorithm>
#include <utility>

#include "platform/services/queues/queue_internal.h"
#include "sim/assert.h"
#include "sim/events.h"
#include "sim/faults.h"
#include "sim/rpc.h"

namespace services::queue_internal {

namespace {

constexpr char kSchema[] =
    "CREATE TABLE IF NOT EXISTS messages ("
    " queue TEXT NOT NULL, id TEXT NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL,"
    " type INTEGER NOT NULL, body BLOB NOT NULL, attempts INTEGER NOT NULL,"
    " visible_at INTEGER NOT NULL, dead INTEGER NOT NULL, PRIMARY KEY (queue, id));";

constexpr std::size_t kForwardBatchMax = 100;

sim::Error storage_failed(const sim::SqlDb& db) {
  return sim::Error{sim::ErrorKind::kIo, "the queue's storage failed: " + db.error()};
}

}  // namespace

Broker::Broker(QueueService& service, sim::Node& node) : service_(service), node_(node) {
  node.on_boot([this](sim::Node& n) { boot(n); });
}

void Broker::boot(sim::Node& node) {
  service_.assign_brokers();
  sim::World& w = service_.world();
  states_.clear();  // the previous incarnation's volatile state (its tasks are gone)
  rng_ = w.rng("queue/broker/" + node.name()).fork(std::to_string(node.incarnation()));
  db_.close();
  if (!db_.open(node.disk(), "/queues.db", true, kSchema) || !load()) {
    w.emit(node.id(), [&](sim::ev::Body& b) {
      b.mutable_sim_note()->set_text("queue broker " + node.name() + ": cannot open its storage");
    });
    return;
  }
  w.rpc().serve(
      node, kSendService,
      [this](sim::Task& t, sim::NodeId from, std::string_view bytes) {
        return on_send(t, from, bytes);
      },
      sim::Rpc::Delivery::kAtMostOnce);
  for (auto& [name, s] : states_) {
    State* state = &s;
    w.spawn(node, "queue-dispatch:" + name,
            [this, state](sim::Task& t) { dispatch_loop(t, *state); });
  }
  w.spawn(node, "queue-forward", [this](sim::Task& t) { forward_loop(t); });
  if (service_.config().ack_before_commit) {
    w.spawn(node, "queue-flush", [this](sim::Task& t) { flush_loop(t); });
  }
}

bool Broker::load() {
  next_seq_ = 1;
  const sim::Time now = service_.world().now();
  for (const QueueService::Queue* q : owned_) {
    State& s = states_[q->name];
    s.queue = q;
    s.tokens = service_.config().messages_per_second_max;
    s.refilled = now;
    const bool ok = db_.run(
        "SELECT id, seq, ts, type, body, attempts, visible_at, dead FROM messages WHERE queue = ? "
        "ORDER BY seq",
        {std::string_view(q->name)}, [&](sqlite3_stmt* st) {
          Stored m;
          m.seq = static_cast<std::uint64_t>(sim::SqlDb::column_int(st, 1));
          m.timestamp = sim::SqlDb::column_int(st, 2);
          m.type = static_cast<QueueContentType>(sim::SqlDb::column_int(st, 3));
          m.body = sim::SqlDb::column_blob(st, 4);
          m.attempts = static_cast<std::uint32_t>(sim::SqlDb::column_int(st, 5));
          m.visible_at = sim::SqlDb::column_int(st, 6);
          m.dead = sim::SqlDb::column_int(st, 7) != 0;
          next_seq_ = std::max(next_seq_, m.seq + 1);
          const std::string id = sim::SqlDb::column_text(st, 0);
          s.backlog_bytes += m.body.size();
          Stored& stored = s.messages.emplace(id, std::move(m)).first->second;
          if (!stored.dead) add_ready(s, id, stored);
        });
    if (!ok) return false;
  }
  return true;
}

Broker::State* Broker::state(const std::string& queue) {
  auto it = states_.find(queue);
  return it == states_.end() ? nullptr : &it->second;
}

std::int64_t Broker::stored(const std::string& queue) const {
  std::int64_t n = -1;
  auto& db = const_cast<sim::SqlDb&>(db_);
  if (!db.is_open()) return n;
  if (!db.run("SELECT COUNT(*) FROM messages WHERE queue = ?", {std::string_view(queue)},
              [&](sqlite3_stmt* st) { n = sim::SqlDb::column_int(st, 0); })) {
    return -1;
  }
  return n;
}

void Broker::add_ready(State& s, const std::string& id, Stored& m) {
  SIM_ASSERT(!m.dead);
  m.in_flight = false;
  s.ready.emplace(std::make_pair(m.visible_at, m.seq), id);
}

// ---- Sends ----

sim::Status Broker::admit(State& s, std::size_t count, sim::Time now) {
  const double rate = service_.config().messages_per_second_max;
  if (rate <= 0) return sim::Status::Ok();
  s.tokens = std::min(rate, s.tokens + rate * static_cast<double>(now - s.refilled) /
                                           static_cast<double>(sim::kSecond));
  s.refilled = now;
  if (s.tokens < static_cast<double>(count)) {
    return sim::Error{sim::ErrorKind::kOverloaded, "Queue is overloaded. Please back off. (10250)"};
  }
  s.tokens -= static_cast<double>(count);
  return sim::Status::Ok();
}

QueueMetrics Broker::metrics(const State& s) const {
  QueueMetrics m;
  m.backlog_count = s.messages.size();
  m.backlog_bytes = s.backlog_bytes;
  for (const auto& [id, stored] : s.messages) {
    if (!m.oldest_message_timestamp || stored.timestamp < *m.oldest_message_timestamp) {
      m.oldest_message_timestamp = stored.timestamp;
    }
  }
  return m;
}

sim::Result<std::string> Broker::on_send(sim::Task& task, sim::NodeId from,
                                         std::string_view bytes) {
  sim::Result<SendRequest> req = decode_send(bytes);
  if (!req.ok()) return req.error();
  State* s = state(req->queue);
  if (s == nullptr) {
    return sim::Error{sim::ErrorKind::kInvalid, "Queue \"" + req->queue + "\" does not exist"};
  }
  const sim::Time now = task.now();
  if (req->dead_lettered_from.empty()) {
    if (sim::Status a = admit(*s, req->items.size(), now); !a.ok()) return a.error();
  }
  const bool durable_first = !service_.config().ack_before_commit;
  std::vector<std::pair<std::string, Stored>> fresh;
  for (SendItem& i : req.value().items) {
    // A dead letter forwarded twice (its broker crashed before it forgot it) is stored once.
    if (s->messages.contains(i.id)) continue;
    Stored m;
    m.seq = next_seq_++;
    m.timestamp = i.timestamp;
    m.type = i.type;
    m.body = std::move(i.body);
    m.visible_at = now + i.delay.value_or(s->queue->delivery_delay);
    m.written = durable_first;
    fresh.emplace_back(i.id, std::move(m));
  }
  if (durable_first && !fresh.empty()) {
    bool ok = db_.exec("BEGIN");
    for (const auto& [id, m] : fresh) {
      ok = ok &&
           db_.run("INSERT OR IGNORE INTO messages VALUES (?, ?, ?, ?, ?, ?, 0, ?, 0)",
                   {std::string_view(req->queue), std::string_view(id),
                    static_cast<std::int64_t>(m.seq), m.timestamp,
                    static_cast<std::int64_t>(m.type), sim::SqlDb::Blob{m.body}, m.visible_at});
    }
    if (!ok || !db_.exec("COMMIT")) {
      (void)db_.exec("ROLLBACK");
      return storage_failed(db_);
    }
  }
  sim::World& w = service_.world();
  w.emit(node_.id(), [&](sim::ev::Body& b) {
    auto& e = *b.mutable_queue_store();
    e.set_queue(req->queue);
    for (const auto& [id, m] : fresh) e.add_ids(id);
    e.set_from(from);
    e.set_dead_lettered_from(req->dead_lettered_from);
  });
  for (auto& [id, m] : fresh) {
    s->backlog_bytes += m.body.size();
    Stored& stored = s->messages.emplace(id, std::move(m)).first->second;
    add_ready(*s, id, stored);
  }
  service_.stats_.sent += fresh.size();
  s->changed.notify_all(w);
  return encode(metrics(*s));
}

// ---- Batches ----

void Broker::dispatch_loop(sim::Task& task, State& s) {
  const QueueService::Queue& q = *s.queue;
  if (!q.has_consumer) return;  // messages wait for a consumer that never comes
  const auto visible = [&s](sim::Time now, std::int64_t cap) {
    std::int64_t n = 0;
    for (auto it = s.ready.begin(); it != s.ready.end() && it->first.first <= now && n < cap; ++it)
      ++n;
    return n;
  };
  // When the next message becomes visible (kTimeMax: none waits).
  const auto next_visible = [&s]() {
    return s.ready.empty() ? sim::kTimeMax : s.ready.begin()->first.first;
  };
  for (;;) {
    while (s.in_flight_batches >= q.max_concurrency || visible(task.now(), 1) == 0) {
      s.changed.wait(task,
                     s.in_flight_batches >= q.max_concurrency ? sim::kTimeMax : next_visible());
    }
    // The batch window: it closes full, or max_batch_timeout after it opened.
    const sim::Time deadline = task.now() + q.max_batch_timeout;
    while (visible(task.now(), q.max_batch_size) < q.max_batch_size && task.now() < deadline) {
      const sim::Time later = next_visible();
      s.changed.wait(task, later > task.now() ? std::min(deadline, later) : deadline);
    }
    std::vector<std::string> ids = take_batch(s, task.now());
    if (ids.empty()) continue;
    ++s.in_flight_batches;
    const std::uint64_t batch = service_.next_batch_++;
    service_.world().spawn(node_, "queue-batch",
                           [this, &s, batch, ids = std::move(ids)](sim::Task& t) mutable {
                             deliver(t, s, batch, std::move(ids));
                           });
  }
}

std::vector<std::string> Broker::take_batch(State& s, sim::Time now) {
  std::vector<std::string> ids;
  const auto cap = static_cast<std::size_t>(s.queue->max_batch_size);
  while (!s.ready.empty() && ids.size() < cap && s.ready.begin()->first.first <= now) {
    ids.push_back(s.ready.begin()->second);
    s.ready.erase(s.ready.begin());
    Stored& m = s.messages.at(ids.back());
    SIM_ASSERT(!m.in_flight);
    SIM_ASSERT(!m.dead);
    m.in_flight = true;
  }
  return ids;
}

void Broker::deliver(sim::Task& task, State& s, std::uint64_t batch, std::vector<std::string> ids) {
  // The attempt is counted on the disk before the batch leaves: a redelivery after any crash
  // shows a higher count.
  bool ok = db_.exec("BEGIN");
  DeliverRequest request{s.queue->name, batch, {}};
  for (const std::string& id : ids) {
    Stored& m = s.messages.at(id);
    SIM_ASSERT(m.in_flight);
    ++m.attempts;
    if (m.written) {
      ok = ok && db_.run("UPDATE messages SET attempts = ? WHERE queue = ? AND id = ?",
                         {static_cast<std::int64_t>(m.attempts), std::string_view(s.queue->name),
                          std::string_view(id)});
    }
    request.messages.push_back({id, m.timestamp, m.type, m.body, m.attempts});
  }
  if (!ok || !db_.exec("COMMIT")) {
    (void)db_.exec("ROLLBACK");
    return;  // the disk is gone: the node is crashing, and the next incarnation starts over
  }
  service_.stats_.batches += 1;
  service_.stats_.delivered += ids.size();
  const QueueConfig& c = service_.config();
  if (c.delay_spike_p > 0 && c.delay_spike_max > 0 && service_.world().faults().sites_enabled() &&
      service_.world().faults().fire("queue.delay_spike", c.delay_spike_p)) {
    // The batch is held on its way out (a slow broker, a congested queue): it arrives late, and
    // messages sent after it may overtake it.
    const sim::Duration spike = rng_.uniform_int(1, c.delay_spike_max);
    service_.world().emit(node_.id(), [&](sim::ev::Body& b) {
      auto& e = *b.mutable_queue_delay_spike();
      e.set_queue(s.queue->name);
      e.set_batch(batch);
      e.set_delay(spike);
    });
    task.sleep(spike);
  }
  std::string reason;
  sim::Result<QueueBatchResult> result = push(task, s, request, &reason);
  settle(s, batch, ids, result.ok() ? &result.value() : nullptr, reason);
  --s.in_flight_batches;
  SIM_ASSERT(s.in_flight_batches >= 0);
  s.changed.notify_all(service_.world());
}

sim::Result<QueueBatchResult> Broker::push(sim::Task& task, State& s, const DeliverRequest& request,
                                           std::string* reason) {
  sim::World& w = service_.world();
  const QueueConfig& c = service_.config();
  std::vector<sim::Node*> order;
  for (const auto& [node, executor] : s.queue->consumers) order.push_back(node);
  // A seeded order: which PoP runs a batch is the seed's choice, as placement is in production.
  for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng_.below(i)]);
  const std::string bytes = encode(request);
  for (sim::Node* consumer : order) {
    w.emit(node_.id(), [&](sim::ev::Body& b) {
      auto& e = *b.mutable_queue_dispatch();
      e.set_queue(request.queue);
      e.set_batch(request.batch);
      for (const QueueMessage& m : request.messages) {
        e.add_ids(m.id);
        e.add_attempts(m.attempts);
      }
      e.set_consumer(consumer->id());
    });
    const sim::NodeId dst = consumer->id();
    if (c.duplicate_delivery_p > 0 && w.faults().sites_enabled() &&
        w.faults().fire("queue.duplicate_delivery", c.duplicate_delivery_p)) {
      // The batch goes out twice; the copy's answer is ignored.
      w.spawn(node_, "queue-duplicate",
              [&w, dst, bytes, timeout = c.consumer_timeout](sim::Task& t) {
                (void)w.rpc().call(t, dst, kDeliverService, bytes, timeout);
              });
    }
    const sim::Time sent = task.now();
    sim::Result<std::string> reply =
        w.rpc().call(task, dst, kDeliverService, bytes, c.consumer_timeout);
    if (!reply.ok() && reply.error().kind == sim::ErrorKind::kUnreachable) continue;
    if (!reply.ok()) {
      *reason = reply.error().kind == sim::ErrorKind::kTimeout ? "timeout" : "failed";
      return reply.error();
    }
    if (c.lost_ack_p > 0 && w.faults().sites_enabled() &&
        w.faults().fire("queue.lost_ack", c.lost_ack_p)) {
      // The answer is lost on its way back: the broker learns nothing until its deadline.
      task.sleep_until(sent + c.consumer_timeout);
      *reason = "lost_answer";
      return sim::Error{sim::ErrorKind::kTimeout, "the consumer's answer was lost"};
    }
    sim::Result<QueueBatchResult> result = decode_result(reply.value());
    if (!result.ok()) *reason = "failed";
    return result;
  }
  *reason = "unreachable";
  return sim::Error{sim::ErrorKind::kUnreachable, "no consumer of the queue is reachable"};
}

void Broker::emit_settle(const State& s, std::uint64_t batch, const std::vector<std::string>& ids,
                         const char* kind, const std::string& reason, sim::Duration delay) {
  if (ids.empty()) return;
  service_.world().emit(node_.id(), [&](sim::ev::Body& b) {
    const sim::ev::Body::KindCase which =
        std::string_view(kind) == "ack"           ? sim::ev::Body::kQueueAck
        : std::string_view(kind) == "retry"       ? sim::ev::Body::kQueueRetry
        : std::string_view(kind) == "dead_letter" ? sim::ev::Body::kQueueDeadLetter
                                                  : sim::ev::Body::kQueueDrop;
    sim::ev::QueueSettle* e = which == sim::ev::Body::kQueueAck     ? b.mutable_queue_ack()
                              : which == sim::ev::Body::kQueueRetry ? b.mutable_queue_retry()
                              : which == sim::ev::Body::kQueueDeadLetter
                                  ? b.mutable_queue_dead_letter()
                                  : b.mutable_queue_drop();
    e->set_queue(s.queue->name);
    e->set_batch(batch);
    for (const std::string& id : ids) e->add_ids(id);
    e->set_reason(reason);
    e->set_delay(delay);
    if (which == sim::ev::Body::kQueueDeadLetter)
      e->set_dead_letter_queue(s.queue->dead_letter_queue);
  });
}

void Broker::settle(State& s, std::uint64_t batch, const std::vector<std::string>& ids,
                    const QueueBatchResult* result, const std::string& failure) {
  const QueueService::Queue& q = *s.queue;
  const QueueConfig& c = service_.config();
  const sim::Time now = service_.world().now();
  std::map<std::string, const QueueMessageOutcome*> outcome;
  if (result != nullptr) {
    for (const QueueMessageOutcome& o : result->outcomes) outcome.emplace(o.id, &o);
  }
  std::vector<std::string> acked, dead, dropped;
  std::string drop_reason;
  // Retries grouped by (reason, delay), in batch order of their first message.
  std::vector<std::pair<std::pair<std::string, sim::Duration>, std::vector<std::string>>> retried;
  for (const std::string& id : ids) {
    const Stored& m = s.messages.at(id);
    auto it = outcome.find(id);
    if (it != outcome.end() && it->second->ack) {
      acked.push_back(id);
      continue;
    }
    if (result == nullptr && !c.redeliver) {
      dropped.push_back(id);
      drop_reason = "redeliver_off";
      continue;
    }
    if (std::cmp_greater_equal(m.attempts, q.max_retries + 1)) {
      if (q.dead_letter_queue.empty() || !c.dlq) {
        dropped.push_back(id);
        drop_reason = q.dead_letter_queue.empty() ? "exhausted" : "dlq_off";
      } else {
        dead.push_back(id);
      }
      continue;
    }
    const std::string why = result == nullptr ? failure : result->ok ? "consumer" : "failed";
    const sim::Duration delay =
        it != outcome.end() && it->second->retry_delay.has_value()
            ? std::clamp<sim::Duration>(*it->second->retry_delay, 0, c.delay_max)
            : q.retry_delay;
    auto group = std::find_if(retried.begin(), retried.end(), [&](const auto& g) {
      return g.first.first == why && g.first.second == delay;
    });
    if (group == retried.end()) {
      retried.push_back({{why, delay}, {}});
      group = retried.end() - 1;
    }
    group->second.push_back(id);
  }
  // One transaction: a message leaves, or comes back, only if it commits.
  const std::string_view qn = q.name;
  bool ok = db_.exec("BEGIN");
  for (const auto* list : {&acked, &dropped}) {
    for (const std::string& id : *list) {
      if (!s.messages.at(id).written) continue;
      ok = ok &&
           db_.run("DELETE FROM messages WHERE queue = ? AND id = ?", {qn, std::string_view(id)});
    }
  }
  for (const auto& [key, list] : retried) {
    for (const std::string& id : list) {
      if (!s.messages.at(id).written) continue;
      ok = ok && db_.run("UPDATE messages SET visible_at = ? WHERE queue = ? AND id = ?",
                         {now + key.second, qn, std::string_view(id)});
    }
  }
  for (const std::string& id : dead) {
    if (!s.messages.at(id).written) continue;
    ok = ok && db_.run("UPDATE messages SET dead = 1 WHERE queue = ? AND id = ?",
                       {qn, std::string_view(id)});
  }
  if (!ok || !db_.exec("COMMIT")) {
    (void)db_.exec("ROLLBACK");
    return;  // the disk is gone with the node: the next incarnation delivers them again
  }
  for (const auto* list : {&acked, &dropped}) {
    for (const std::string& id : *list) {
      s.backlog_bytes -= s.messages.at(id).body.size();
      s.messages.erase(id);
    }
  }
  for (const auto& [key, list] : retried) {
    for (const std::string& id : list) {
      Stored& m = s.messages.at(id);
      m.visible_at = now + key.second;
      add_ready(s, id, m);
    }
  }
  for (const std::string& id : dead) {
    Stored& m = s.messages.at(id);
    m.in_flight = false;
    m.dead = true;
  }
  if (!dead.empty()) dead_waiters_.notify_all(service_.world());
  QueueService::Stats& st = service_.stats_;
  st.acked += acked.size();
  st.dropped += dropped.size();
  st.dead_lettered += dead.size();
  emit_settle(s, batch, acked, "ack", "");
  for (const auto& [key, list] : retried) {
    st.retried += list.size();
    emit_settle(s, batch, list, "retry", key.first, key.second);
  }
  emit_settle(s, batch, dead, "dead_letter", "exhausted");
  emit_settle(s, batch, dropped, "drop", drop_reason);
}

// ---- Dead letters ----

void Broker::forward_loop(sim::Task& task) {
  sim::World& w = service_.world();
  const QueueConfig& c = service_.config();
  for (;;) {
    // The oldest dead messages of the first queue that has any, up to a batch.
    State* from = nullptr;
    SendRequest request;
    for (auto& [name, s] : states_) {
      for (const auto& [id, m] : s.messages) {
        if (!m.dead || !m.written) continue;
        if (from == nullptr) {
          from = &s;
          request.queue = s.queue->dead_letter_queue;
          request.dead_lettered_from = name;
        }
        if (request.items.size() < kForwardBatchMax) {
          request.items.push_back({id, m.timestamp, m.type, m.body, sim::Duration{0}});
        }
      }
      if (from != nullptr) break;
    }
    if (from == nullptr) {
      dead_waiters_.wait(task);
      continue;
    }
    const sim::NodeId dst = service_.broker_of(request.queue);
    sim::Result<std::string> reply =
        w.rpc().call(task, dst, kSendService, encode(request), c.forward_timeout);
    if (!reply.ok()) {
      task.sleep(c.forward_retry);
      continue;
    }
    // The dead letter queue holds them now: forget them here.
    bool ok = db_.exec("BEGIN");
    for (const SendItem& i : request.items) {
      ok = ok && db_.run("DELETE FROM messages WHERE queue = ? AND id = ?",
                         {std::string_view(request.dead_lettered_from), std::string_view(i.id)});
    }
    if (!ok || !db_.exec("COMMIT")) {
      (void)db_.exec("ROLLBACK");
      return;
    }
    for (const SendItem& i : request.items) {
      auto it = from->messages.find(i.id);
      SIM_ASSERT(it != from->messages.end());
      SIM_ASSERT(it->second.dead);
      from->backlog_bytes -= it->second.body.size();
      from->messages.erase(it);
    }
  }
}

// ---- The ack_before_commit mutant's writer ----

void Broker::flush_loop(sim::Task& task) {
  const QueueConfig& c = service_.config();
  for (;;) {
    task.sleep(c.unsynced_flush_every);
    bool ok = db_.exec("BEGIN");
    std::vector<Stored*> flushed;
    for (auto& [name, s] : states_) {
      for (auto& [id, m] : s.messages) {
        if (m.written) continue;
        ok = ok && db_.run("INSERT OR REPLACE INTO messages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           {std::string_view(name), std::string_view(id),
                            static_cast<std::int64_t>(m.seq), m.timestamp,
                            static_cast<std::int64_t>(m.type), sim::SqlDb::Blob{m.body},
                            static_cast<std::int64_t>(m.attempts), m.visible_at,
                            std::int64_t{m.dead ? 1 : 0}});
        flushed.push_back(&m);
      }
    }
    if (!ok || !db_.exec("COMMIT")) {
      (void)db_.exec("ROLLBACK");
      return;
    }
    for (Stored* m : flushed) m->written = true;
    if (!flushed.empty()) dead_waiters_.notify_all(service_.world());
  }
}

}  // namespace services::queue_internal
