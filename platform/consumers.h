// The platform's event sources reaching Workers on PoPs: the services (V8-free) define what they
// need from a consumer (services::QueueConsumerExecutor), and these adapters give it to them with
// a Worker on a runtime::Pop. Part of the deployment layer (platform/README.md, "Layers").
#pragma once

#include <string>
#include <vector>

#include "platform/runtime/pop.h"
#include "platform/services/cron/cron.h"
#include "platform/services/queues/queues.h"
#include "platform/services/workflows/workflows.h"

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

// The Worker that runs a workflow's class on one PoP: a run becomes a workflow invocation there
// (Pop::workflow) whose step calls go to the hidden step binding at `step_target`.
class PopWorkflowRunner final : public services::WorkflowRunExecutor {
 public:
  // REQUIRES: `pop` outlives this and has `worker` deployed.
  PopWorkflowRunner(runtime::Pop& pop, std::string worker, std::uint32_t step_target)
      : pop_(pop), worker_(std::move(worker)), step_target_(step_target) {}
  sim::Status run(sim::Task& task, const services::WorkflowRun& run) override;

 private:
  runtime::Pop& pop_;
  std::string worker_;
  std::uint32_t step_target_;
};

}  // namespace platform
