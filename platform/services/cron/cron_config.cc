// CronConfig's knobs (cron.h).
#include "platform/services/cron/cron.h"

namespace services {

const sim::Knobs<CronConfig>& CronConfig::knobs() {
  using C = CronConfig;
  static const auto* table =
      &(*new sim::Knobs<C>())
           .duration("delay_max", &C::delay_max,
                     "a firing leaves its minute after a seeded delay in [0, this]")
           .duration("run_timeout", &C::run_timeout,
                     "how long the scheduler waits for a run's answer (15 min): then it fires the "
                     "scheduled time again",
                     sim::kMillisecond)
           .integer("retries_max", &C::retries_max, 0, 100,
                    "times a failed or lost run is fired again")
           .duration("retry_delay", &C::retry_delay, "pause before a scheduled time is fired again")
           .integer("catch_up_max", &C::catch_up_max, 0, 100000,
                    "minutes missed while the scheduler was down that it fires late on restart, "
                    "per schedule")
           .decimal("lost_result_p", &C::lost_result_p, 0, 1,
                    "chance that the cron.lost_result code site drops a run's answer (sites on)")
           .flag("retry", &C::retry,
                 "a failed or lost run is fired again (off: a mutant: the scheduled time is "
                 "missed)");
  return *table;
}

}  // namespace services
