#include "platform/consumers.h"

#include <cmath>
#include <utility>

namespace platform {

sim::Result<services::QueueBatchResult> PopQueueConsumer::deliver(
    sim::Task& task, const std::string& queue, std::vector<services::QueueMessage> messages) {
  runtime::QueueBatch batch;
  batch.queue = queue;
  for (services::QueueMessage& m : messages) {
    runtime::QueueMessage out;
    out.id = std::move(m.id);
    out.timestamp = m.timestamp;
    out.content_type = services::queue_content_type_name(m.content_type);
    out.body = std::move(m.body);
    out.attempts = static_cast<int>(m.attempts);
    batch.messages.push_back(std::move(out));
  }
  sim::Result<runtime::ScheduledResult> r = pop_.queue(task, worker_, std::move(batch));
  if (!r.ok()) return r.error();
  services::QueueBatchResult out;
  out.ok = r->ok;
  out.error = r->error;
  for (const runtime::QueueOutcome& o : r->outcomes) {
    services::QueueMessageOutcome mo{o.id, o.ack, std::nullopt};
    if (!o.ack && o.delay_seconds >= 0) {
      mo.retry_delay = static_cast<sim::Duration>(std::llround(o.delay_seconds)) * sim::kSecond;
    }
    out.outcomes.push_back(std::move(mo));
  }
  return out;
}

sim::Result<services::CronRunResult> PopCronTarget::run(sim::Task& task, const std::string& worker,
                                                        const std::string& cron,
                                                        sim::Time scheduled) {
  sim::Result<runtime::ScheduledResult> r = pop_.scheduled(task, worker, cron, scheduled);
  if (!r.ok()) return r.error();
  return services::CronRunResult{r->ok, r->no_retry, r->error};
}

sim::Status PopWorkflowRunner::run(sim::Task& task, const services::WorkflowRun& run) {
  runtime::WorkflowRunEvent e{run.workflow, run.class_name, run.instance_id, run.generation,
                              run.run,      run.created,    run.params,      step_target_};
  sim::Result<runtime::ScheduledResult> r = pop_.workflow(task, worker_, std::move(e));
  if (!r.ok()) return r.error();
  if (!r->ok) return sim::Error{sim::ErrorKind::kRemote, r->error};
  return sim::Status::Ok();
}

}  // namespace platform
