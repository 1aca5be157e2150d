// Internals of the workflow service (workflows.h): the engine role. Not for use outside
// platform/services/workflows/.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "platform/services/workflows/workflows.h"
#include "sim/rng.h"
#include "sim/sql_db.h"
#include "sim/sync.h"

namespace services::workflow_internal {

inline constexpr char kEngineService[] = "workflow.call";
inline constexpr char kRunService[] = "workflow.run";

std::string encode_run(const WorkflowRun& run);
sim::Result<WorkflowRun> decode_run(std::string_view bytes);

// One engine node: the instances of the workflows dealt to it, durable in SQLite (tables
// `instances`, `steps`, `inbox`; one record per row, written with sim/wire.h), with volatile
// run state (which run is active, its lease) rebuilt at every boot.
class Engine {
 public:
  Engine(WorkflowService& service, sim::Node& node);
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  sim::Node& node() const { return node_; }

 private:
  enum class StepState : std::uint8_t { kDone, kFailed, kRetrying, kSleeping, kWaiting };
  struct Step {
    StepState state = StepState::kDone;
    std::string bytes;                      // kDone: the result (a structured clone)
    std::string display;                    // kDone: the result as the history shows it
    std::string error_name, error_message;  // kFailed
    std::uint32_t attempts = 0;             // failed attempts so far
    sim::Time at = 0;  // kRetrying/kSleeping: wake-up; kWaiting: timeout; event result: when sent
    std::string event_type;  // waitForEvent: the type waited for, and delivered
    bool written = true;     // on the disk (persist_after_ack: not until the flusher ran)
  };
  struct Event {
    std::uint64_t seq = 0;
    std::string type;
    std::string bytes;
    sim::Time time = 0;
  };
  struct Instance {
    std::string id, workflow;
    std::string status = "queued";
    std::string params;
    sim::Time created = 0;
    std::uint32_t generation = 0;  // restarts so far
    std::uint32_t runs = 0;        // runs dispatched in this generation
    std::string output, output_display, error_name, error_message;
    sim::Time wake_at = 0;       // queued/waiting: runnable from then on
    bool volatile_wake = false;  // durable_sleep = off: wake_at is not written
    std::map<std::string, Step> steps;
    std::vector<Event> inbox;
    // Volatile.
    std::uint32_t active = 0;  // the active run + 1; 0: none
    sim::Time deadline = 0;    // the active run is lost if silent until then
    std::int64_t lost_in_row = 0;
    sim::WaitQueue changed;
    std::string label() const {
      return generation == 0 ? id : id + "~" + std::to_string(generation);
    }
  };
  using Reply = WorkflowMessage;

  void boot(sim::Node& node);
  bool load();
  // Writes the instance's record and the named steps (a step it no longer has is deleted), and
  // its inbox when `inbox` (only the calls that change the inbox rewrite it), in one synced
  // transaction.
  bool save(const Instance& inst, const std::vector<std::string>& steps = {}, bool inbox = false);
  Instance* find(const std::string& id);
  sim::Result<std::string> on_call(sim::Task& task, std::string_view bytes);
  Reply handle(sim::Task& task, const WorkflowMessage& m);
  // The instance API (env.WF.create(), instance.status(), ...).
  Reply create(const WorkflowMessage& m);
  Reply status(Instance& inst);
  Reply pause(Instance& inst);
  Reply resume(Instance& inst);
  Reply terminate(Instance& inst);
  Reply restart(Instance& inst);
  Reply send_event(Instance& inst, const WorkflowMessage& m);
  // The step protocol of a run.
  Reply begin(Instance& inst, std::uint32_t run, const WorkflowMessage& m);
  Reply begin_do(Instance& inst, std::uint32_t run, const std::string& key,
                 const WorkflowMessage& m);
  Reply begin_sleep(Instance& inst, std::uint32_t run, const std::string& key,
                    const WorkflowMessage& m);
  Reply begin_wait(Instance& inst, std::uint32_t run, const std::string& key,
                   const WorkflowMessage& m);
  Reply commit(Instance& inst, std::uint32_t run, const WorkflowMessage& m);
  Reply finish(Instance& inst, std::uint32_t run, const WorkflowMessage& m);
  Reply cached(Instance& inst, std::uint32_t run, const std::string& key, const Step& s);
  // The run ends waiting: the instance sleeps until `wake` (kTimeMax: an event).
  Reply suspend(Instance& inst, sim::Time wake);
  Reply storage_failed();

  void set_status(Instance& inst, const std::string& status);
  void scheduler_loop(sim::Task& task);
  void dispatch(Instance& inst);
  void run_task(sim::Task& task, Instance& inst, std::uint32_t run);
  void lease_task(sim::Task& task, Instance& inst, std::uint32_t run);
  void lost(Instance& inst, std::uint32_t run, const std::string& reason);
  void flush_loop(sim::Task& task);
  std::int64_t active_count() const;
  void emit_step(const Instance& inst, std::uint32_t run, const std::string& key, const char* kind,
                 std::uint32_t attempt = 0, const std::string& result = "", sim::Duration delay = 0,
                 const std::string& error = "", sim::Time until = 0);

  WorkflowService& service_;
  sim::Node& node_;
  sim::SqlDb db_;
  sim::Rng rng_{0};
  std::map<std::string, std::unique_ptr<Instance>> instances_;
  std::uint64_t next_seq_ = 1;                  // insertion order of instances and events
  std::map<std::string, std::uint64_t> order_;  // instance id -> creation order
  sim::WaitQueue wakeup_;                       // an instance became runnable, or a run ended
};

}  // namespace services::workflow_internal
