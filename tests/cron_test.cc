// Cron Triggers end to end with a JS Worker (needs the platform): the scheduler fires
// scheduled() on the PoPs with the controller the runtime gives (cron, scheduledTime, noRetry),
// retries a run that threw unless noRetry() was called, and the cron_schedule checker judges the
// recorded runs. The suite scenario cron-rollup adds crashes and partitions over three days.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "platform/deployment.h"
#include "platform/engine_setup.h"
#include "props/history.h"
#include "sim/world.h"

namespace platform {
namespace {

// On the hour: noRetry() and throw. At half past: throw, saying what the controller holds.
const char kApp[] = R"js(
export default {
  async fetch() { return new Response('ok'); },
  async scheduled(controller, env, ctx) {
    if (controller.scheduledTime % 3600000 === 0) {
      controller.noRetry();
      throw new Error('not again');
    }
    throw new Error(`${controller.cron}|${controller.scheduledTime}|${typeof controller.type}`);
  },
};
)js";

TEST(CronWithJs, ThrowsAreRetriedUnlessNoRetryAndTheControllerSaysWhen) {
  init_engine();
  sim::World world(5);
  props::HistoryRecorder recorder;
  DeploymentSpec spec;
  spec.pops = {{"pop-lhr", "lhr"}, {"pop-iad", "iad"}};
  WorkerSpec w;
  w.name = "app";
  w.modules = {{"index.js", kApp}};
  w.main = "index.js";
  auto expr = services::CronExpr::parse("*/30 * * * *");
  ASSERT_TRUE(expr.ok());
  w.crons = {*expr};
  spec.workers = {w};
  spec.config.cron.retry_delay = sim::kSecond;
  Deployment d(world, spec);
  world.add_sink(&recorder);
  world.start();
  world.run_for(sim::kHour + 5 * sim::kMinute);
  world.remove_sink(&recorder);
  ASSERT_TRUE(recorder.status().ok());
  const props::History h = recorder.take();

  std::map<sim::Time, std::vector<const props::CronRun*>> runs;
  for (const props::CronRun& r : h.cron.runs) runs[r.scheduled].push_back(&r);
  ASSERT_EQ(runs.size(), 2u);
  // 00:30: every run threw; retries_max (3) retries, then the scheduler gave up.
  const auto& half = runs[30 * sim::kMinute];
  ASSERT_EQ(half.size(), 4u);
  for (const props::CronRun* r : half) {
    EXPECT_TRUE(r->ended);
    EXPECT_EQ(r->outcome, "failed");
    // Unix ms of 2026-01-01T00:30Z; the controller has no `type` (as in workerd).
    EXPECT_NE(r->error.find("*/30 * * * *|1767227400000|undefined"), std::string::npos) << r->error;
  }
  ASSERT_EQ(h.cron.give_ups.size(), 1u);
  EXPECT_EQ(h.cron.give_ups[0].reason, "exhausted");
  // 01:00: noRetry() then a throw: one run.
  const auto& hour = runs[sim::kHour];
  ASSERT_EQ(hour.size(), 1u);
  EXPECT_EQ(hour[0]->outcome, "no_retry");

  props::CronExpectation e{"app", "*/30 * * * *", {30 * sim::kMinute, sim::kHour}, 3, sim::kHour};
  const props::CronScheduleResult r = props::check_cron_schedule(h.cron, {e});
  EXPECT_EQ(r.verdict, props::Verdict::kOk) << r.report();
  EXPECT_EQ(r.failed, 1u);
  EXPECT_EQ(d.stats().at("cron_given_up"), 1u);
}

}  // namespace
}  // namespace platform
