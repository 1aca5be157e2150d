// At-least-once delivery of a queue, checked over its recorded events.
//
// The property: every send that resolved ok (the producer was told the message was accepted)
// is delivered to a consumer at least once, or dead-lettered. A resolved send with neither is
// "lost" and makes the verdict kViolated. With `require_processing` (what a platform promises,
// and what scenarios check) delivery is not enough: every send that resolved ok by the deadline
// must be processed: acked, or dead-lettered, or, on a queue without a dead letter queue,
// dispatched max_retries + 1 times (then the platform may drop it). A message a broker
// dispatched to a consumer that crashed before acking, and then forgot, is lost. A delivery of a
// message id that was never sent is a "phantom" and is a violation too (it means the history or the
// broker invented a message).
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
#include <map>
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
  std::string queue;  // the queue it was dead-lettered from
  std::string message_id;
  sim::Time time = 0;
};

// A broker handed a message to a consumer (the delivery may never have arrived).
struct QueueDispatch {
  std::string queue;
  std::string message_id;
  std::uint32_t attempt = 1;
  sim::Time time = 0;
};

struct QueueHistory {
  std::vector<QueueSend> sends;
  std::vector<QueueDelivery> deliveries;
  std::vector<QueueAck> acks;
  std::vector<QueueDeadLetter> dead_letters;
  std::vector<QueueDispatch> dispatches;
};

// How a queue's consumer is configured (what the platform may do with an exhausted message).
struct QueueRules {
  std::int64_t max_retries = 3;
  bool dead_letter_queue = false;
};

struct QueueDeliveryOptions {
  // Lost and phantom messages listed in the result (the counts are always complete).
  std::size_t examples_max = 10;
  // Require processing (see the top), with each queue's rules (absent: the defaults), of the
  // sends resolved at or before `deadline`; later ones are counted as in flight, not required.
  bool require_processing = false;
  std::map<std::string, QueueRules> rules;
  sim::Time deadline = sim::kTimeMax;
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
  std::size_t exhausted = 0;      // require_processing: dropped after max_retries + 1 dispatches
  std::size_t in_flight = 0;      // require_processing: resolved after the deadline, unprocessed
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
