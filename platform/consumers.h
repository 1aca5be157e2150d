// The platform's event sources reaching Workers on PoPs: the services (V8-free) define what they
// need from a consumer (services::QueueConsumerExecutor), and these adapters give it to them with
// a Worker on a runtime::Pop. Part of the deployment layer (platform/README.md, "Layers").
#pragma once

#include <string>
#include <vector>

#include "platform/runtime/pop.h"
#include "platform/services/cron/cron.h"
#include "platform/services/queues/queues.h"

namespace platform {

// A queue's consumer Worker on one PoP: a batch becomes a queue() invocation there (Pop::queue),
// and its outcome the broker's per-message decisions.
class PopQueueConsumer final : public services::QueueConsumerExecutor {
 public:
  // REQUIRES: `pop` outlives this and has `worker` deployed.
  PopQueueConsumer(runtime::Pop& pop, std::string worker) : pop_(pop), worker_(std::move(worker)) {}
  sim::Result<services::QueueBatchResult> deliver(
      sim::Task& task, const std::string& queue,
      std::vector<services::QueueMessage> messages) override;

 private:
  runtime::Pop& pop_;
  std::string worker_;
};

// A Worker with Cron Triggers on one PoP: a firing becomes a scheduled() invocation there
// (Pop::scheduled).
class PopCronTarget final : public services::CronExecutor {
 public:
  // REQUIRES: `pop` outlives this.
  explicit PopCronTarget(runtime::Pop& pop) : pop_(pop) {}
  sim::Result<services::CronRunResult> run(sim::Task& task, const std::string& worker,
                                           const std::string& cron, sim::Time scheduled) override;

 private:
  runtime::Pop& pop_;
};

}  // namespace platform
