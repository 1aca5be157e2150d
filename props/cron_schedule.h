// Cron Triggers fired as scheduled, checked over the recorded runs of scheduled().
//
// The law: every scheduled time (a minute the expression matches, in the window the caller
// gives) is fired at least once, on time. A scheduled time counts as fired when a run of the
// handler for it ended ok or with noRetry(), or when as many runs as the platform promises
// (retries_max + 1) all ended failed: the platform did its part, the handler did not. It is
// missed otherwise (no run ran to its end, or fewer than promised failed and the platform gave
// up): a violation. It is late when its first run started more than `tolerance` after the
// minute: a violation. A run for a minute the expression does not match is a phantom: a
// violation.
//
// Counted too (informational; the platform promises at least once): duplicated scheduled times,
// those whose handler ran more often than its failed runs explain (a run whose answer was lost,
// a run on a PoP that crashed after its work, a firing the restarted scheduler sent again), and
// the delay of first runs (p50, p99, max).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "props/verdict.h"
#include "sim/event.h"
#include "sim/time.h"

namespace props {

// One run of scheduled() on a PoP (cron.run, and its cron.done when it ended).
struct CronRun {
  std::string worker;
  std::string cron;
  sim::Time scheduled = 0;  // the minute it ran for
  std::uint32_t attempt = 1;
  sim::NodeId pop = sim::kNoNode;
  sim::Time started = 0;
  bool ended = false;   // false: the PoP crashed or the run never finished
  std::string outcome;  // ended: ok, failed, no_retry
  std::string error;
};

// The scheduler stopped firing a scheduled time (cron.give_up).
struct CronGiveUp {
  std::string worker;
  std::string cron;
  sim::Time scheduled = 0;
  sim::Time time = 0;
  std::string reason;
};

struct CronHistory {
  std::vector<CronRun> runs;  // in start order
  std::vector<CronGiveUp> give_ups;
};

// What one schedule should have done: its scheduled times in the checked window, in order.
struct CronExpectation {
  std::string worker;
  std::string cron;
  std::vector<sim::Time> times;
  std::int64_t retries_max = 3;
  sim::Time window_end = sim::kTimeMax;  // runs for later minutes are not judged
};

struct CronScheduleOptions {
  sim::Duration tolerance = sim::kMinute;
  std::size_t examples_max = 10;
};

struct CronScheduleResult {
  Verdict verdict = Verdict::kOk;
  std::size_t expected = 0;    // scheduled times in the window
  std::size_t fired = 0;       // fired at least once (ok, noRetry, or every promised run failed)
  std::size_t failed = 0;      // of those: every run failed
  std::size_t missed = 0;      // never fired (a violation)
  std::size_t late = 0;        // first run later than the tolerance (a violation)
  std::size_t phantom = 0;     // runs for minutes the expression does not match (a violation)
  std::size_t duplicated = 0;  // scheduled times run more often than failures explain
  std::size_t runs = 0;
  DurationStats delay;  // scheduled minute -> first run
  // Plain language, one line per finding (violations first), each with the scheduled time's
  // history, e.g. "0 * * * * (rollup) at 3600.000000s: missed: run 1 on pop-lhr never ended".
  std::vector<std::string> findings;

  std::string report() const;
};

CronScheduleResult check_cron_schedule(const CronHistory& history,
                                       const std::vector<CronExpectation>& expected,
                                       const CronScheduleOptions& options = {});

}  // namespace props
