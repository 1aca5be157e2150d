#include "props/queue_delivery.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

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

}  // namespace

QueueDeliveryResult check_queue_delivery(const QueueHistory& history,
                                         const QueueDeliveryOptions& options) {
  QueueDeliveryResult r;
  std::map<MessageKey, Message> messages;

  for (const QueueSend* s : by_time(history.sends)) {
    ++r.sends;
    Message& m = messages[{s->queue, s->message_id}];
    if (s->resolved_ok) {
      ++r.sends_ok;
      if (!m.sent_ok) m.send_time = s->time;  // the earliest ok send wins
      m.sent_ok = true;
    } else if (!m.sent) {
      m.send_time = s->time;
    }
    m.sent = true;
  }
  for (const QueueAck* a : by_time(history.acks)) {
    Message& m = messages[{a->queue, a->message_id}];
    m.first_ack = std::min(m.first_ack, a->time);
  }
  for (const QueueDeadLetter* d : by_time(history.dead_letters)) {
    Message& m = messages[{d->queue, d->message_id}];
    if (!m.dead_lettered) m.dead_letter_time = d->time;
    m.dead_lettered = true;
  }
  std::vector<std::string> violations;
  std::vector<std::string> notes;
  for (const QueueDelivery* d : by_time(history.deliveries)) {
    ++r.deliveries;
    MessageKey key{d->queue, d->message_id};
    Message& m = messages[key];
    if (d->attempt > 1) ++r.redelivered;
    bool after_ack = d->time > m.first_ack;
    bool repeated = !m.attempts.insert(d->attempt).second;
    if (after_ack || repeated) {
      ++r.duplicated;
      if (notes.size() < options.examples_max) {
        notes.push_back("message " + name(key) + " was delivered again at " +
                        sim::format_time(d->time) + " (attempt " + std::to_string(d->attempt) +
                        (after_ack ? ") after it was acked at " + sim::format_time(m.first_ack)
                                   : ") although that attempt was already delivered"));
      }
    }
    ++m.deliveries;
    m.first_delivery = std::min(m.first_delivery, d->time);
  }

  std::vector<sim::Duration> latencies;
  std::map<std::string, std::vector<std::pair<sim::Time, sim::Time>>> per_queue;  // (send, first)
  for (const auto& [key, m] : messages) {
    if (m.deliveries > 0) ++r.delivered;
    if (m.dead_lettered) ++r.dead_lettered;
    if (m.first_ack != sim::kTimeMax) ++r.acked;
    if (!m.sent && m.deliveries > 0) {
      ++r.phantom;
      if (r.phantom_examples.size() < options.examples_max) {
        r.phantom_examples.push_back(name(key));
        violations.push_back("message " + name(key) + " was delivered at " +
                             sim::format_time(m.first_delivery) + " but never sent");
      }
    }
    if (m.sent_ok && m.deliveries == 0 && !m.dead_lettered) {
      ++r.lost;
      if (r.lost_examples.size() < options.examples_max) {
        r.lost_examples.push_back(name(key));
        violations.push_back("message " + name(key) + " was sent ok at " +
                             sim::format_time(m.send_time) +
                             " but never delivered nor dead-lettered" +
                             (m.first_ack != sim::kTimeMax ? " (yet an ack was recorded)" : ""));
      }
    }
    if (m.sent && m.deliveries > 0) {
      per_queue[key.first].push_back({m.send_time, m.first_delivery});
      if (m.sent_ok)
        latencies.push_back(std::max<sim::Duration>(0, m.first_delivery - m.send_time));
    }
  }
  for (auto& [queue, list] : per_queue) {
    std::sort(list.begin(), list.end());
    sim::Time latest_first = INT64_MIN;  // over messages sent strictly earlier
    std::size_t i = 0;
    while (i < list.size()) {
      std::size_t j = i;
      sim::Time group_latest = INT64_MIN;
      while (j < list.size() && list[j].first == list[i].first) {
        if (list[j].second < latest_first) ++r.out_of_order;
        group_latest = std::max(group_latest, list[j].second);
        ++j;
      }
      latest_first = std::max(latest_first, group_latest);
      i = j;
    }
  }
  r.latency = duration_stats(latencies);
  r.verdict = r.lost > 0 || r.phantom > 0 ? Verdict::kViolated : Verdict::kOk;
  r.findings = std::move(violations);
  r.findings.insert(r.findings.end(), notes.begin(), notes.end());
  return r;
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
  for (const std::string& f : findings) out += "  " + f + "\n";
  return out;
}

}  // namespace props
