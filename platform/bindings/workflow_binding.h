// The Workflows bindings, C++ half (workflow_binding.js is the JS half): env.MY_WORKFLOW (create,
// createBatch, get, and an instance's status, pause, resume, terminate, restart, sendEvent) and
// the step object a run receives (step.do, step.sleep, step.sleepUntil, step.waitForEvent; its
// calls carry the run they belong to). Both turn a call into a services::WorkflowMessage for the
// workflow's engine (services::WorkflowService::call); the engine's errors become JS Errors with
// its message, and a call that never reached the engine an Error marked retryable.
#pragma once

#include <string>

#include "platform/bindings/binding_table.h"
#include "platform/services/workflows/workflows.h"

namespace bindings {

class WorkflowBinding final : public Binding {
 public:
  // REQUIRES: `service` outlives the binding.
  WorkflowBinding(std::string workflow, services::WorkflowService& service)
      : workflow_(std::move(workflow)), service_(service) {}
  std::string type() const override { return "workflow"; }
  js::CallReply call(sim::Task& task, const js::CallRequest& request) override;

 private:
  std::string workflow_;
  services::WorkflowService& service_;
};

// Not in env: the dispatcher hands its target to each run (runtime::WorkflowRunEvent).
class WorkflowStepBinding final : public Binding {
 public:
  explicit WorkflowStepBinding(services::WorkflowService& service) : service_(service) {}
  std::string type() const override { return "workflow-step"; }
  js::CallReply call(sim::Task& task, const js::CallRequest& request) override;

 private:
  services::WorkflowService& service_;
};

}  // namespace bindings
