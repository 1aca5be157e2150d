// services::CronService: Cron Triggers on a simulated node (no JS, no V8).
//
// What it is for. A Worker's `triggers.crons` become schedules of the scheduler node ("cron-1"
// by default). At each minute an expression matches (UTC; cron_expr.h), the scheduler fires the
// Worker's scheduled() handler on one PoP, over the network, a little late (a seeded delay), and
// keeps firing that scheduled time until a run answers: delivery is at least once, as on the
// platform. Every timing is a CronConfig knob ("cron.*"); README.md explains the model.
//
// Nodes.
// - The scheduler: its state is a SQLite database on its simulated disk: per schedule the next
//   minute due, and the firings in progress (scheduled time, attempts so far). A firing enters
//   the table in the same transaction that advances the schedule, and leaves it when a run
//   answered; a scheduler that crashes fires the firings in progress again when it restarts
//   (the PoP may have run them already: a duplicate), and catches up the minutes it missed while
//   down (late), at most catch_up_max per schedule.
// - Targets: PoPs where a Worker with schedules runs (add_target). Each serves "cron.run": it runs
//   the handler through its CronExecutor and answers how the run ended.
//
// A firing, for one scheduled time:
//   1. it waits a seeded delay in [0, delay_max] after its minute, then picks a target of the
//      Worker (seeded; one that refuses the connection is skipped for another);
//   2. the target runs scheduled() and answers ok, failed (the handler threw), or no_retry (the
//      handler called controller.noRetry(); a Worker without scheduled() counts as that);
//   3. ok and no_retry end the firing. A failed run, a timeout (run_timeout: a crashed or cut-off
//      PoP) or no reachable target: fired again after retry_delay, until retries_max retries;
//      then the firing gives up.
//
// Faults. Scheduler crash/restart (firings in progress fire again), PoP crash mid-run (fired
// again after the timeout), partitions; code site "cron.lost_result" (a run's answer is dropped on
// its way back: the scheduler times out and fires again). Mutant (off by default): retry = false
// (a failed or lost run is not fired again: the scheduled time is missed).
//
// Trace events (sim/events.proto): cron.fire (scheduler: a firing sent to a PoP), cron.run (PoP:
// the handler starts), cron.done (PoP: how it ended), cron.retry (scheduler: firing again, and
// why), cron.give_up (scheduler: no more attempts). props::History rebuilds the runs from them;
// the cron_schedule checker judges them against the expressions.
//
// Fiber rules. Everything runs on tasks of the scheduler and target nodes; add_* are called
// before World::start().
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "platform/services/cron/cron_expr.h"
#include "sim/knobs.h"
#include "sim/node.h"
#include "sim/result.h"
#include "sim/task.h"
#include "sim/time.h"
#include "sim/world.h"

namespace services {

struct CronConfig {
  // A firing leaves its minute after a delay drawn in [0, delay_max].
  sim::Duration delay_max = 5 * sim::kSecond;
  // How long the scheduler waits for a run's answer (the platform's wall-time limit of a cron
  // run, 15 min; a live PoP ends a handler at worker.event_wall_max, also 15 min, and answers
  // failed).
  sim::Duration run_timeout = 15 * sim::kMinute;
  // A failed or lost run is fired again after retry_delay, at most retries_max times.
  std::int64_t retries_max = 3;
  sim::Duration retry_delay = 30 * sim::kSecond;
  // Minutes missed while the scheduler was down, fired late on restart, oldest first, at most
  // this many per schedule; beyond, the rest are skipped and the schedule goes on from now.
  std::int64_t catch_up_max = 60;
  // Code site: a run's answer is dropped (only when the fault plan turns sites on).
  double lost_result_p = 0.05;
  // Mutant: off, a failed or lost run is not fired again.
  bool retry = true;

  // The fields above as knobs, listed by the platform as "cron.<name>".
  static const sim::Knobs<CronConfig>& knobs();
};

// How a run of scheduled() ended on a target.
struct CronRunResult {
  bool ok = true;         // the handler and its waitUntil work settled without an exception
  bool no_retry = false;  // controller.noRetry() was called (or there is no scheduled handler)
  std::string error;      // why not ok
};

// Runs a Worker's scheduled() handler on a node (the deployment implements it with a PoP).
class CronExecutor {
 public:
  virtual ~CronExecutor() = default;
  // Runs `worker`'s handler for `cron` at `scheduled` (virtual time of the minute), on a task of
  // the node it was registered for. Suspends. Throws TaskCancelled.
  virtual sim::Result<CronRunResult> run(sim::Task& task, const std::string& worker,
                                         const std::string& cron, sim::Time scheduled) = 0;
};

// The virtual time of a Unix minute and back (virtual time 0 is 2026-01-01T00:00:00Z).
sim::Time cron_minute_time(std::int64_t unix_minute);
std::int64_t cron_unix_minute(sim::Time t);  // the minute `t` falls in

// The scheduled times of `expr` in (after, until], in order (at most `max`).
std::vector<sim::Time> cron_times(const CronExpr& expr, sim::Time after, sim::Time until,
                                  std::size_t max = SIZE_MAX);

class CronService {
 public:
  struct Stats {
    std::uint64_t fired = 0;      // firings sent to a target (retries included)
    std::uint64_t runs_ok = 0;    // answered ok or no_retry
    std::uint64_t retried = 0;    // fired again
    std::uint64_t given_up = 0;   // firings that ran out of attempts
    std::uint64_t caught_up = 0;  // minutes fired late after a scheduler restart
  };

  CronService(sim::World& world, CronConfig config);
  ~CronService();
  CronService(const CronService&) = delete;
  CronService& operator=(const CronService&) = delete;

  // `worker` runs scheduled() at each minute `expr` matches. REQUIRES: before start; the pair is
  // new.
  void add_schedule(const std::string& worker, const CronExpr& expr);
  // The scheduler. REQUIRES: before start; called once.
  void add_scheduler(sim::Node& node);
  // `node` runs `worker`'s handler with `executor` (which outlives the service).
  void add_target(sim::Node& node, const std::string& worker, CronExecutor& executor);

  const CronConfig& config() const { return config_; }
  sim::World& world() const { return world_; }
  const Stats& stats() const { return stats_; }

 private:
  class Scheduler;
  struct Schedule {
    std::string worker;
    CronExpr expr;
    std::string key;  // "<worker> <cron>": its rows in the database
  };
  struct Target {
    sim::Node* node;
    CronExecutor* executor;
  };

  sim::World& world_;
  CronConfig config_;
  std::vector<Schedule> schedules_;
  std::map<std::string, std::vector<Target>> targets_;  // by Worker
  std::unique_ptr<Scheduler> scheduler_;
  Stats stats_;
};

}  // namespace services
