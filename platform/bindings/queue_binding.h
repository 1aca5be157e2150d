// The Queues producer binding, C++ half (queue_binding.js is the JS half: env.MY_QUEUE with
// send() and sendBatch()): the JS half serializes each body as its content type says and hands
// the bytes here; the node's services::QueueProducer sends them to the queue's broker. Errors
// become JS Errors worded as the runtime words them for the Worker's compatibility date: from
// 2026-03-12 (queue_expose_error_codes) "<cause> (<code>)", before it "Queue send failed:
// <cause>" (or "Queue sendBatch failed: ..."). The history records are the producer's (object
// "queue:<name>").
#pragma once

#include <string>

#include "platform/bindings/binding_table.h"
#include "platform/services/queues/queues.h"

namespace bindings {

class QueueBinding final : public Binding {
 public:
  // REQUIRES: `producer` outlives the binding. `compatibility_date` is "YYYY-MM-DD" (or "").
  QueueBinding(std::string queue, std::string compatibility_date, services::QueueProducer& producer)
      : queue_(std::move(queue)),
        compatibility_date_(std::move(compatibility_date)),
        producer_(producer) {}
  std::string type() const override { return "queue"; }
  // The default content type: "json" from 2024-03-18 (queues_json_messages), else "v8".
  std::string descriptor_fields() const override;
  js::CallReply call(sim::Task& task, const js::CallRequest& request) override;

 private:
  std::string queue_;
  std::string compatibility_date_;
  services::QueueProducer& producer_;
};

}  // namespace bindings
