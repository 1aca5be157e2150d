// CronService with C++ targets: fires on the expression's minutes over long spans, retries failed
// and lost runs, fires again what a crashed scheduler had in progress, catches up what it missed,
// and the retry=off mutant gives up.
#include "platform/services/cron/cron.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "sim/faults.h"
#include "sim/world.h"

namespace services {
namespace {

struct CronRunRecord {
  sim::Time scheduled;
  sim::Time started;
  std::string node;
};

// Records each run; `decide` (call number from 1) says how it ends; each run takes `run_time`.
class FakeTarget final : public CronExecutor {
 public:
  FakeTarget(std::vector<CronRunRecord>* runs, std::string node)
      : runs_(runs), node_(std::move(node)) {}
  std::function<CronRunResult(int)> decide;
  sim::Duration run_time = 0;
  sim::Result<CronRunResult> run(sim::Task& task, const std::string&, const std::string&,
                                 sim::Time scheduled) override {
    runs_->push_back({scheduled, task.now(), node_});
    if (run_time > 0) task.sleep(run_time);
    ++*calls_;
    return decide ? decide(*calls_) : CronRunResult{};
  }
  int* calls_ = &own_calls_;

 private:
  std::vector<CronRunRecord>* runs_;
  std::string node_;
  int own_calls_ = 0;
};

class CronWorld {
 public:
  CronWorld(const std::string& cron, CronConfig config = {}, std::uint64_t seed = 1)
      : w(seed), service(w, config), lhr(&runs, "pop-lhr"), ams(&runs, "pop-ams") {
    ams.calls_ = lhr.calls_;  // one count over both targets
    auto expr = CronExpr::parse(cron);
    EXPECT_TRUE(expr.ok()) << expr.error().message;
    service.add_schedule("app", *expr);
    scheduler = &w.add_node("cron-1", "fra");
    service.add_scheduler(*scheduler);
    pops = {&w.add_node("pop-lhr", "lhr"), &w.add_node("pop-ams", "ams")};
    service.add_target(*pops[0], "app", lhr);
    service.add_target(*pops[1], "app", ams);
    w.start();
  }
  std::set<sim::Time> scheduled_times() const {
    std::set<sim::Time> out;
    for (const CronRunRecord& r : runs) out.insert(r.scheduled);
    return out;
  }
  std::size_t runs_of(sim::Time t) const {
    std::size_t n = 0;
    for (const CronRunRecord& r : runs) n += r.scheduled == t;
    return n;
  }

  sim::World w;
  CronService service;
  std::vector<CronRunRecord> runs;
  FakeTarget lhr, ams;
  sim::Node* scheduler = nullptr;
  std::vector<sim::Node*> pops;
};

TEST(Cron, HourlyOverAYearFiresEveryHourOnceAndALittleLate) {
  CronWorld c("0 * * * *");
  c.w.run_for(365 * 24 * sim::kHour);
  // 2026 is not a leap year; the run starts at 2026-01-01T00:00Z, which is not "after" itself.
  ASSERT_EQ(c.runs.size(), 8760u - 1);
  std::set<std::string> nodes;
  for (std::size_t i = 0; i < c.runs.size(); ++i) {
    const CronRunRecord& r = c.runs[i];
    EXPECT_EQ(r.scheduled, static_cast<sim::Time>(i + 1) * sim::kHour);
    EXPECT_GE(r.started, r.scheduled);
    EXPECT_LE(r.started, r.scheduled + c.service.config().delay_max + sim::kSecond);
    nodes.insert(r.node);
  }
  EXPECT_EQ(nodes.size(), 2u);  // the seed spreads the runs over both PoPs
  EXPECT_EQ(c.service.stats().runs_ok, 8759u);
  EXPECT_EQ(c.service.stats().retried, 0u);
}

// The service fires exactly the minutes CronExpr::matches says, over a span (cron_expr_test.cc
// checks matches against a naive reading of each field).
RC_GTEST_PROP(Cron, FiresExactlyTheMatchingMinutes, ()) {
  static const std::vector<std::string> kMinutes = {"0", "*/20", "5,35", "59", "10-12"};
  static const std::vector<std::string> kHours = {"*", "0", "*/6", "9-17", "23"};
  static const std::vector<std::string> kDays = {"*", "1", "L", "15W", "LW", "*/10"};
  static const std::vector<std::string> kMonths = {"*", "JAN-MAR", "*/2", "12"};
  static const std::vector<std::string> kWeekdays = {"*", "MON-FRI", "SUN", "6L", "2#1", "SAT,SUN"};
  const std::string text = *rc::gen::elementOf(kMinutes) + " " + *rc::gen::elementOf(kHours) + " " +
                           *rc::gen::elementOf(kDays) + " " + *rc::gen::elementOf(kMonths) + " " +
                           *rc::gen::elementOf(kWeekdays);
  auto expr = CronExpr::parse(text);
  RC_ASSERT(expr.ok());
  const sim::Duration span = *rc::gen::inRange(1, 120) * 24 * sim::kHour;
  std::vector<sim::Time> expected;
  for (sim::Time t = sim::kMinute; t <= span; t += sim::kMinute) {
    if (expr->matches(cron_unix_minute(t))) expected.push_back(t);
  }
  RC_PRE(expected.size() <= 2000u);
  RC_ASSERT(cron_times(*expr, 0, span) == expected);
  CronWorld c(text, {}, *rc::gen::inRange<std::uint64_t>(1, 1000));
  c.w.run_for(span + sim::kMinute);
  std::vector<sim::Time> fired;
  for (const CronRunRecord& r : c.runs) {
    if (r.scheduled <= span) fired.push_back(r.scheduled);
  }
  RC_ASSERT(fired == expected);
}

TEST(Cron, AFailedRunIsRetriedUntilOkOrRetriesRunOut) {
  CronConfig config;
  config.retries_max = 3;
  CronWorld ok_third("*/30 * * * *", config);
  ok_third.lhr.decide = ok_third.ams.decide = [](int call) {
    return call <= 2 ? CronRunResult{false, false, "Error: boom"} : CronRunResult{};
  };
  ok_third.w.run_for(33 * sim::kMinute);
  EXPECT_EQ(ok_third.runs_of(30 * sim::kMinute), 3u);
  EXPECT_EQ(ok_third.service.stats().retried, 2u);
  // Retries wait retry_delay.
  ASSERT_EQ(ok_third.runs.size(), 3u);
  EXPECT_GE(ok_third.runs[1].started - ok_third.runs[0].started, config.retry_delay);

  CronWorld always("*/30 * * * *", config);
  always.lhr.decide = always.ams.decide = [](int) { return CronRunResult{false, false, "x"}; };
  always.w.run_for(40 * sim::kMinute);
  EXPECT_EQ(always.runs_of(30 * sim::kMinute), 4u);  // retries_max + 1
  EXPECT_EQ(always.service.stats().given_up, 1u);

  CronWorld no_retry("*/30 * * * *", config);
  no_retry.lhr.decide = no_retry.ams.decide = [](int) {
    return CronRunResult{false, true, "Error: no"};
  };
  no_retry.w.run_for(40 * sim::kMinute);
  EXPECT_EQ(no_retry.runs_of(30 * sim::kMinute), 1u);
  EXPECT_EQ(no_retry.service.stats().retried, 0u);
}

TEST(Cron, APopCrashMidRunFiresTheTimeAgainAndTheMutantMissesIt) {
  for (bool retry : {true, false}) {
    CronConfig config;
    config.run_timeout = 30 * sim::kSecond;
    config.delay_max = 0;
    config.retry = retry;
    CronWorld c("0 * * * *", config);
    c.lhr.run_time = c.ams.run_time = 10 * sim::kSecond;
    c.w.run_for(sim::kHour + sim::kSecond);
    ASSERT_EQ(c.runs.size(), 1u);
    sim::Node* running = c.runs[0].node == "pop-lhr" ? c.pops[0] : c.pops[1];
    c.w.crash(*running);
    c.w.run_for(5 * sim::kSecond);
    c.w.restart(*running);
    c.w.run_for(2 * sim::kMinute);
    if (retry) {
      EXPECT_EQ(c.runs_of(sim::kHour), 2u);
      EXPECT_EQ(c.service.stats().runs_ok, 1u);
    } else {
      EXPECT_EQ(c.runs_of(sim::kHour), 1u);
      EXPECT_EQ(c.service.stats().given_up, 1u);
      EXPECT_EQ(c.service.stats().runs_ok, 0u);
    }
  }
}

TEST(Cron, ARestartedSchedulerFiresItsFiringsInProgressAgainAndCatchesUp) {
  CronConfig config;
  config.delay_max = 0;
  CronWorld c("* * * * *", config);
  c.lhr.run_time = c.ams.run_time = 20 * sim::kSecond;
  c.w.run_for(sim::kMinute + 5 * sim::kSecond);  // minute 1 is running
  ASSERT_EQ(c.runs.size(), 1u);
  c.w.crash(*c.scheduler);
  c.w.run_for(3 * sim::kMinute);  // down across minutes 2, 3 and 4
  c.w.restart(*c.scheduler);
  c.w.run_for(30 * sim::kSecond);
  // Minute 1 again (the crashed scheduler never heard its answer), then 2, 3, 4 late.
  EXPECT_EQ(c.runs_of(sim::kMinute), 2u);
  for (int m = 2; m <= 4; ++m) {
    EXPECT_EQ(c.runs_of(m * sim::kMinute), 1u) << m;
  }
  EXPECT_EQ(c.service.stats().caught_up, 3u);
  c.w.run_for(10 * sim::kMinute);
  EXPECT_EQ(c.scheduled_times().size(), 14u);
}

// The first minute due is on the disk from the first boot: a scheduler down across it fires it
// late on restart instead of skipping it.
TEST(Cron, ASchedulerDownBeforeItsFirstFiringStillFiresIt) {
  CronConfig config;
  config.delay_max = 0;
  CronWorld c("0 * * * *", config);
  c.w.run_for(50 * sim::kMinute);
  c.w.crash(*c.scheduler);
  c.w.run_for(20 * sim::kMinute);
  c.w.restart(*c.scheduler);
  c.w.run_for(sim::kMinute);
  ASSERT_EQ(c.runs_of(sim::kHour), 1u);
  EXPECT_GE(c.runs[0].started, 70 * sim::kMinute);  // on restart, 10 minutes late
  EXPECT_LT(c.runs[0].started, 71 * sim::kMinute);
  EXPECT_EQ(c.service.stats().caught_up, 1u);
}

TEST(Cron, ALostAnswerFiresTheTimeAgain) {
  CronConfig config;
  config.lost_result_p = 1;
  config.retries_max = 1;
  config.run_timeout = sim::kMinute;
  CronWorld c("0 * * * *", config, 3);
  c.w.faults().set_sites_enabled(true);
  c.w.run_for(sim::kHour + 5 * sim::kMinute);
  // Whether the site is on is the seed's choice; when on, every answer is lost.
  if (c.w.faults().fire("cron.lost_result", 1)) {
    EXPECT_EQ(c.runs_of(sim::kHour), 2u);
    EXPECT_EQ(c.service.stats().given_up, 1u);
  } else {
    EXPECT_EQ(c.runs_of(sim::kHour), 1u);
  }
}

TEST(Cron, MinutesAndUnixTime) {
  EXPECT_EQ(cron_unix_minute(0), sim::kUnixSecondsAtTimeZero / 60);
  EXPECT_EQ(cron_minute_time(cron_unix_minute(90 * sim::kSecond)), sim::kMinute);
  EXPECT_EQ(cron_unix_minute(-1), sim::kUnixSecondsAtTimeZero / 60 - 1);
  auto daily = CronExpr::parse("30 6 * * *");
  ASSERT_TRUE(daily.ok());
  const std::vector<sim::Time> t = cron_times(*daily, 0, 3 * 24 * sim::kHour);
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0], 6 * sim::kHour + 30 * sim::kMinute);
}

}  // namespace
}  // namespace services
