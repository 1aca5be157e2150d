#include "props/queue_delivery.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "sim/assert.h"

namespace props {
namespace {

struct Message {
  bool sent = false;
  bool sent_ok = false;
  sim::Time send_time = sim::kTimeMax;  // earliest ok send, else earliest send
  std::size_t deliveries = 0;
  sim::Time first_delivery = sim::kTimeMax;
  std::set<std::uint32_t> attempts;
  sim::Time first_ack = sim::kTimeMax;
  bool dead_lettered = false;
  sim::Time dead_letter_time = sim::kTimeMax;
  std::uint32_t dispatched = 0;  // the highest attempt a broker dispatched
};

using MessageKey = std::pair<std::string, std::string>;  // (queue, message id)

std::string name(const MessageKey& k) { return k.first + "/" + k.second; }

template <typename T>
std::vector<const T*> by_time(const std::vector<T>& events) {
  std::vector<const T*> out;
  out.reserve(events.size());
  for (const T& e : events) out.push_back(&e);
  std::stable_sort(out.begin(), out.end(),
                   [](const T* a, const T* b) { return a->time < b->time; });
  return out;
}

class DeliveryCheck {
 public:
  DeliveryCheck(const QueueHistory& history, const QueueDeliveryOptions& options)
      : history_(history), options_(options) {}

  QueueDeliveryResult run();

 private:
  void index_sends_acks_and_dead_letters();
  void count_deliveries();
  void judge(const MessageKey& key, const Message& m);
  void judge_processing(const MessageKey& key, const Message& m);
  void lost(const MessageKey& key, const std::string& why);
  void count_out_of_order();

  const QueueHistory& history_;
  const QueueDeliveryOptions& options_;
  QueueDeliveryResult r_;
  std::map<MessageKey, Message> messages_;
  std::vector<std::string> violations_;
  std::vector<std::string> notes_;
  std::vector<sim::Duration> latencies_;
  // queue -> (send time, first delivery) of its messages sent and delivered.
  std::map<std::string, std::vector<std::pair<sim::Time, sim::Time>>> per_queue_;
};

QueueDeliveryResult DeliveryCheck::run() {
  index_sends_acks_and_dead_letters();
  count_deliveries();
  for (const auto& [key, m] : messages_) judge(key, m);
  count_out_of_order();
  // Distinct messages delivered are a subset of the delivered messages sent, and of the events.
  SIM_ASSERT(r_.delivered <= r_.deliveries);
  SIM_ASSERT(r_.out_of_order <= r_.delivered);
  r_.latency = duration_stats(latencies_);
  r_.verdict = r_.lost > 0 || r_.phantom > 0 ? Verdict::kViolated : Verdict::kOk;
  r_.findings = std::move(violations_);
  r_.findings.insert(r_.findings.end(), notes_.begin(), notes_.end());
  return std::move(r_);
}

void DeliveryCheck::index_sends_acks_and_dead_letters() {
  for (const QueueSend* s : by_time(history_.sends)) {
    ++r_.sends;
    Message& m = messages_[{s->queue, s->message_id}];
    if (s->resolved_ok) {
      ++r_.sends_ok;
      if (!m.sent_ok) m.send_time = s->time;  // the earliest ok send wins
      m.sent_ok = true;
    } else if (!m.sent) {
      m.send_time = s->time;
    }
    m.sent = true;
  }
  for (const QueueAck* a : by_time(history_.acks)) {
    Message& m = messages_[{a->queue, a->message_id}];
    m.first_ack = std::min(m.first_ack, a->time);
  }
  for (const QueueDeadLetter* d : by_time(history_.dead_letters)) {
    Message& m = messages_[{d->queue, d->message_id}];
    if (!m.dead_lettered) m.dead_letter_time = d->time;
    m.dead_lettered = true;
  }
  for (const QueueDispatch& d : history_.dispatches) {
    Message& m = messages_[{d.queue, d.message_id}];
    m.dispatched = std::max(m.dispatched, d.attempt);
  }
}

void DeliveryCheck::count_deliveries() {
  for (const QueueDelivery* d : by_time(history_.deliveries)) {
    ++r_.deliveries;
    MessageKey key{d->queue, d->message_id};
    Message& m = messages_[key];
    if (d->attempt > 1) ++r_.redelivered;
    bool after_ack = d->time > m.first_ack;
    bool repeated = !m.attempts.insert(d->attempt).second;
    if (after_ack || repeated) {
      ++r_.duplicated;
      if (notes_.size() < options_.examples_max) {
        notes_.push_back("message " + name(key) + " was delivered again at " +
                         sim::format_time(d->time) + " (attempt " + std::to_string(d->attempt) +
                         (after_ack ? ") after it was acked at " + sim::format_time(m.first_ack)
                                    : ") although that attempt was already delivered"));
      }
    }
    ++m.deliveries;
    m.first_delivery = std::min(m.first_delivery, d->time);
  }
}

// Counts one message, and says why it is lost or a phantom.
void DeliveryCheck::judge(const MessageKey& key, const Message& m) {
  SIM_ASSERT(m.sent || !m.sent_ok);
  SIM_ASSERT(m.attempts.size() <= m.deliveries);  // each attempt delivered at least once
  if (m.deliveries > 0) ++r_.delivered;
  if (m.dead_lettered) ++r_.dead_lettered;
  if (m.first_ack != sim::kTimeMax) ++r_.acked;
  if (!m.sent && m.deliveries > 0) {
    ++r_.phantom;
    if (r_.phantom_examples.size() < options_.examples_max) {
      r_.phantom_examples.push_back(name(key));
      violations_.push_back("message " + name(key) + " was delivered at " +
                            sim::format_time(m.first_delivery) + " but never sent");
    }
  }
  if (options_.require_processing) {
    judge_processing(key, m);
  } else if (m.sent_ok && m.deliveries == 0 && !m.dead_lettered) {
    lost(key, " was sent ok at " + sim::format_time(m.send_time) +
                  " but never delivered nor dead-lettered" +
                  (m.first_ack != sim::kTimeMax ? " (yet an ack was recorded)" : ""));
  }
  if (m.sent && m.deliveries > 0) {
    per_queue_[key.first].push_back({m.send_time, m.first_delivery});
    if (m.sent_ok) {
      latencies_.push_back(std::max<sim::Duration>(0, m.first_delivery - m.send_time));
    }
  }
}

void DeliveryCheck::lost(const MessageKey& key, const std::string& why) {
  ++r_.lost;
  if (r_.lost_examples.size() < options_.examples_max) {
    r_.lost_examples.push_back(name(key));
    violations_.push_back("message " + name(key) + why);
  }
}

// require_processing: an ok send must end acked, dead-lettered, or exhausted on a queue without
// a dead letter queue.
void DeliveryCheck::judge_processing(const MessageKey& key, const Message& m) {
  if (!m.sent_ok || m.first_ack != sim::kTimeMax || m.dead_lettered) return;
  auto it = options_.rules.find(key.first);
  const QueueRules rules = it == options_.rules.end() ? QueueRules{} : it->second;
  if (!rules.dead_letter_queue && std::cmp_greater_equal(m.dispatched, rules.max_retries + 1)) {
    ++r_.exhausted;
    return;
  }
  if (m.send_time > options_.deadline) {
    ++r_.in_flight;
    return;
  }
  std::string why =
      " was sent ok at " + sim::format_time(m.send_time) + " but never acked nor dead-lettered: ";
  if (m.deliveries == 0) {
    why += m.dispatched == 0
               ? "never dispatched to a consumer"
               : "dispatched " + std::to_string(m.dispatched) + " time(s) but never delivered";
  } else {
    why += "delivered " + std::to_string(m.deliveries) + " time(s), last dispatched as attempt " +
           std::to_string(m.dispatched) + " of " + std::to_string(rules.max_retries + 1) +
           (rules.dead_letter_queue ? ", and never dead-lettered" : "");
  }
  lost(key, why);
}

// Per queue, by send time: a message first delivered before some message sent strictly earlier
// was first delivered overtook it.
void DeliveryCheck::count_out_of_order() {
  for (auto& [queue, list] : per_queue_) {
    std::sort(list.begin(), list.end());
    sim::Time latest_first = INT64_MIN;  // over messages sent strictly earlier
    std::size_t i = 0;
    while (i < list.size()) {
      std::size_t j = i;
      sim::Time group_latest = INT64_MIN;
      while (j < list.size() && list[j].first == list[i].first) {
        if (list[j].second < latest_first) ++r_.out_of_order;
        group_latest = std::max(group_latest, list[j].second);
        ++j;
      }
      latest_first = std::max(latest_first, group_latest);
      i = j;
    }
  }
}

}  // namespace

QueueDeliveryResult check_queue_delivery(const QueueHistory& history,
                                         const QueueDeliveryOptions& options) {
  return DeliveryCheck(history, options).run();
}

std::string QueueDeliveryResult::report() const {
  std::string out = std::string("queue delivery: ") + verdict_name(verdict) + "\n";
  out += "  sends " + std::to_string(sends) + " (" + std::to_string(sends_ok) + " ok), delivered " +
         std::to_string(delivered) + " messages in " + std::to_string(deliveries) +
         " deliveries, lost " + std::to_string(lost) + ", phantom " + std::to_string(phantom) +
         ", dead-lettered " + std::to_string(dead_lettered) + ", acked " + std::to_string(acked) +
         "\n";
  out += "  redelivered " + std::to_string(redelivered) + ", duplicated " +
         std::to_string(duplicated) + ", out of order " + std::to_string(out_of_order) +
         ", latency " + latency.to_string() + "\n";
  if (exhausted > 0 || in_flight > 0) {
    out += "  dropped after their last retry " + std::to_string(exhausted) +
           ", still in flight at the deadline " + std::to_string(in_flight) + "\n";
  }
  for (const std::string& f : findings) out += "  " + f + "\n";
  return out;
}

}  // namespace props
