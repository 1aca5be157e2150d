#include "props/cron_schedule.h"

#include <gtest/gtest.h>

namespace props {
namespace {

constexpr sim::Time kHour = sim::kHour;

CronRun run(sim::Time scheduled, std::uint32_t attempt, sim::Time started, const char* outcome) {
  CronRun r;
  r.worker = "app";
  r.cron = "0 * * * *";
  r.scheduled = scheduled;
  r.attempt = attempt;
  r.pop = 1;
  r.started = started;
  if (outcome != nullptr) {
    r.ended = true;
    r.outcome = outcome;
  }
  return r;
}

CronExpectation hourly(int hours, std::int64_t retries_max = 2) {
  CronExpectation e{"app", "0 * * * *", {}, retries_max, hours * kHour};
  for (int h = 1; h <= hours; ++h) e.times.push_back(h * kHour);
  return e;
}

TEST(CronSchedule, EveryHourFiredOnTimeHolds) {
  CronHistory h;
  for (int i = 1; i <= 3; ++i) h.runs.push_back(run(i * kHour, 1, i * kHour + sim::kSecond, "ok"));
  const CronScheduleResult r = check_cron_schedule(h, {hourly(3)});
  EXPECT_EQ(r.verdict, Verdict::kOk) << r.report();
  EXPECT_EQ(r.expected, 3u);
  EXPECT_EQ(r.fired, 3u);
  EXPECT_EQ(r.delay.max, sim::kSecond);
}

TEST(CronSchedule, AnHourWithoutAFinishedRunIsMissed) {
  CronHistory h;
  h.runs.push_back(run(1 * kHour, 1, 1 * kHour, "ok"));
  h.runs.push_back(run(2 * kHour, 1, 2 * kHour, nullptr));  // the PoP crashed
  h.give_ups.push_back({"app", "0 * * * *", 2 * kHour, 2 * kHour + sim::kMinute, "retry_off"});
  const CronScheduleResult r = check_cron_schedule(h, {hourly(2)});
  EXPECT_EQ(r.verdict, Verdict::kViolated);
  EXPECT_EQ(r.missed, 1u);
  ASSERT_FALSE(r.findings.empty());
  EXPECT_NE(r.findings[0].find("7200.000000s: missed: run 1 started 7200.000000s never ended; "
                               "the scheduler gave up"),
            std::string::npos)
      << r.findings[0];
}

TEST(CronSchedule, FailedRunsCountAsFiredOnlyWhenEveryPromisedRunFailed) {
  CronHistory h;
  // Hour 1: three failed runs (retries_max 2): fired, failed. Hour 2: two failed runs: missed.
  for (std::uint32_t a = 1; a <= 3; ++a) h.runs.push_back(run(kHour, a, kHour + a, "failed"));
  for (std::uint32_t a = 1; a <= 2; ++a)
    h.runs.push_back(run(2 * kHour, a, 2 * kHour + a, "failed"));
  const CronScheduleResult r = check_cron_schedule(h, {hourly(2)});
  EXPECT_EQ(r.fired, 1u);
  EXPECT_EQ(r.failed, 1u);
  EXPECT_EQ(r.missed, 1u);
  EXPECT_EQ(r.duplicated, 0u);  // retries after failures are not duplicates
}

TEST(CronSchedule, LateFirstRunsAndPhantomMinutesAreViolations) {
  CronHistory h;
  h.runs.push_back(run(kHour, 1, kHour + 2 * sim::kMinute, "ok"));
  h.runs.push_back(run(kHour + 30 * sim::kMinute, 1, kHour + 30 * sim::kMinute, "ok"));
  CronScheduleOptions o;
  o.tolerance = sim::kMinute;
  CronExpectation e = hourly(1);
  e.window_end = 2 * kHour;  // the 1:30 run is inside the window, at a minute with no schedule
  const CronScheduleResult r = check_cron_schedule(h, {e}, o);
  EXPECT_EQ(r.verdict, Verdict::kViolated);
  EXPECT_EQ(r.late, 1u);
  EXPECT_EQ(r.phantom, 1u);
  o.tolerance = 3 * sim::kMinute;
  EXPECT_EQ(check_cron_schedule(h, {e}, o).late, 0u);
}

TEST(CronSchedule, DuplicatesAreCountedNotViolations) {
  CronHistory h;
  h.runs.push_back(run(kHour, 1, kHour, "ok"));
  h.runs.push_back(run(kHour, 2, kHour + 15 * sim::kMinute, "ok"));  // the answer was lost
  const CronScheduleResult r = check_cron_schedule(h, {hourly(1)});
  EXPECT_EQ(r.verdict, Verdict::kOk) << r.report();
  EXPECT_EQ(r.duplicated, 1u);
  EXPECT_NE(r.report().find("ran 2 times"), std::string::npos) << r.report();
}

TEST(CronSchedule, RunsAfterTheWindowAreNotJudged) {
  CronHistory h;
  h.runs.push_back(run(kHour, 1, kHour, "ok"));
  h.runs.push_back(run(5 * kHour, 1, 5 * kHour, nullptr));
  EXPECT_EQ(check_cron_schedule(h, {hourly(1)}).verdict, Verdict::kOk);
}

}  // namespace
}  // namespace props
