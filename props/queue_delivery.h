// At-least-once delivery of a queue, checked over its recorded events.
//
// The property: every send that resolved ok (the producer was told the message was accepted)
// is delivered to a consumer at least once, or dead-lettered. A resolved send with neither is
// "lost" and makes the verdict kViolated. A delivery of a message id that was never sent is a
// "phantom" and is a violation too (it means the history or the broker invented a message).
//
// Also counted (informational; queues promise neither order nor exactly-once):
//   redelivered     deliveries with attempt > 1 (after a retry or a lost ack);
//   duplicated      deliveries that should not have happened: of a message already acked, or a
//                   second delivery with an (id, attempt) pair already delivered;
//   out_of_order    messages first delivered before some message sent strictly earlier to the
//                   same queue was first delivered (each overtaking message counts once);
//   latency         from the send to the first delivery, over delivered resolved sends.
// Sends that did not resolve ok (failed or unknown) may or may not be delivered; they are not
// required, and their deliveries are not phantoms.
//
// Times are virtual (sim::Time). Message ids are unique per queue; a queue is identified by name
// and messages of different queues never mix. Input order does not matter: events are ordered
// by time (ties keep input order). The result is a pure function of the input.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "props/verdict.h"
#include "sim/time.h"

namespace props {

struct QueueSend {
  std::string queue;
  std::string message_id;
  bool resolved_ok = true;  // the send() promise resolved: the broker accepted it
  sim::Time time = 0;       // when the send resolved (or failed)
};

struct QueueDelivery {
  std::string queue;
  std::string message_id;
  std::uint32_t attempt = 1;  // 1 on the first delivery
  sim::Time time = 0;
  std::string consumer;  // who received it (for reports; may be empty)
};

struct QueueAck {
  std::string queue;
  std::string message_id;
  sim::Time time = 0;
};

struct QueueDeadLetter {
  std::string queue;
  std::string message_id;
  sim::Time time = 0;
};

struct QueueHistory {
  std::vector<QueueSend> sends;
  std::vector<QueueDelivery> deliveries;
  std::vector<QueueAck> acks;
  std::vector<QueueDeadLetter> dead_letters;
};

struct QueueDeliveryOptions {
  // Lost and phantom messages listed in the result (the counts are always complete).
  std::size_t examples_max = 10;
};

struct QueueDeliveryResult {
  Verdict verdict = Verdict::kOk;
  std::size_t sends = 0;
  std::size_t sends_ok = 0;
  std::size_t delivered = 0;      // distinct messages delivered at least once
  std::size_t deliveries = 0;     // delivery events
  std::size_t lost = 0;           // resolved sends neither delivered nor dead-lettered
  std::size_t phantom = 0;        // deliveries of ids never sent
  std::size_t dead_lettered = 0;  // distinct messages dead-lettered
  std::size_t acked = 0;          // distinct messages acked
  std::size_t redelivered = 0;    // deliveries with attempt > 1
  std::size_t duplicated = 0;     // deliveries after an ack, or of an (id, attempt) seen before
  std::size_t out_of_order = 0;   // messages that overtook an earlier-sent message
  DurationStats latency;          // send -> first delivery

  std::vector<std::string> lost_examples;     // "queue/id"
  std::vector<std::string> phantom_examples;  // "queue/id"
  // Plain language, one line per finding (violations first), e.g.
  // "message jobs/m-17 was sent ok at 1.200000s but never delivered nor dead-lettered".
  std::vector<std::string> findings;

  // Several lines: verdict, counts, latency, findings.
  std::string report() const;
};

QueueDeliveryResult check_queue_delivery(const QueueHistory& history,
                                         const QueueDeliveryOptions& options = {});

}  // namespace props
