#include "props/workflow_replay.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <map>
#include <optional>
#include <string>

#include "props/test_util.h"

namespace props {
namespace {

using sim::millis;

// An engine that keeps its promises: run() restarts from the top after a crash, persisted steps
// return their cached result, failed steps are retried, and results depend only on the input.
WorkflowInstance simulate(std::uint64_t seed, const std::string& id, int steps, double crash) {
  test::TestRng rng(seed);
  const char* bases[] = {"fetch", "charge", "email", "wait"};
  std::vector<std::string> names;
  std::map<std::string, int> seen;
  for (int j = 0; j < steps; ++j) {
    std::string base = bases[rng.next() % 4];
    int n = ++seen[base];
    names.push_back(n == 1 ? base : base + "#" + std::to_string(n));
  }
  WorkflowInstance w;
  w.instance_id = id;
  std::map<std::string, std::string> persisted;
  sim::Time t = 0;
  const int kRunsMax = 12;
  for (std::uint32_t run = 0; run < kRunsMax; ++run) {
    bool last_chance = run + 1 == kRunsMax;
    auto crashes = [&]() { return !last_chance && rng.chance(crash); };
    w.runs.emplace_back();
    bool crashed = false;
    for (int j = 0; j < steps && !crashed; ++j) {
      const std::string& name = names[j];
      w.runs.back().push_back(name);
      t += rng.range(1, millis(10));
      auto p = persisted.find(name);
      if (p != persisted.end()) {
        w.events.push_back({name, StepEventKind::kCachedReturn, run, t, p->second});
        crashed = crashes();
        continue;
      }
      while (true) {
        w.events.push_back({name, StepEventKind::kStart, run, t, ""});
        t += rng.range(1, millis(10));
        if (crashes()) {
          crashed = true;  // died while the step ran: it will run again
          break;
        }
        if (!last_chance && rng.chance(0.2)) {
          w.events.push_back({name, StepEventKind::kFailure, run, t, ""});
          continue;  // retried in the same run
        }
        std::string result = "r" + std::to_string(j);
        w.events.push_back({name, StepEventKind::kSuccess, run, t, result});
        persisted[name] = result;
        crashed = crashes();  // after persisting: the next run gets it from the cache
        break;
      }
    }
    if (!crashed) break;
  }
  std::string out;
  for (int j = 0; j < steps; ++j) out += "r" + std::to_string(j) + ";";
  w.final_output = out;
  w.reference_output = out;
  return w;
}

RC_GTEST_PROP(WorkflowReplay, AcceptsAnEngineThatKeepsItsPromises, ()) {
  WorkflowReplayInput in;
  int n = *rc::gen::inRange(0, 8);
  for (int i = 0; i < n; ++i) {
    in.instances.push_back(simulate(*rc::gen::arbitrary<std::uint64_t>(), "wf" + std::to_string(i),
                                    *rc::gen::inRange(0, 12), *rc::gen::element(0.0, 0.1, 0.3)));
  }
  WorkflowReplayResult r = check_workflow_replay(in);
  RC_ASSERT(r.verdict == Verdict::kOk);
  RC_ASSERT(r.instances == static_cast<std::size_t>(n));
}

RC_GTEST_PROP(WorkflowReplay, RejectsEachKindOfBrokenReplay, ()) {
  WorkflowInstance w =
      simulate(*rc::gen::arbitrary<std::uint64_t>(), "wf", *rc::gen::inRange(2, 12), 0.3);
  int bug = *rc::gen::inRange(0, 3);
  WorkflowReplayInput in;
  if (bug == 0) {
    // workflow.cache_steps=off: a persisted step runs again in a later run.
    const WorkflowStepEvent* done = nullptr;
    for (const auto& e : w.events) {
      if (e.kind == StepEventKind::kSuccess) done = &e;
    }
    bool persisted = done != nullptr;
    RC_ASSERT(persisted);
    WorkflowStepEvent again = *done;
    again.kind = StepEventKind::kStart;
    again.run = done->run + 1;
    again.time = done->time + millis(1);
    w.events.push_back(again);
    in.instances.push_back(w);
    WorkflowReplayResult r = check_workflow_replay(in);
    RC_ASSERT(r.steps_reexecuted == 1u);
    RC_ASSERT(r.findings.front().find("ran again in run") != std::string::npos);
  } else if (bug == 1) {
    // Nondeterministic code: one run took another branch.
    // Every run starts with the first step; one run now starts elsewhere.
    RC_PRE(w.runs.size() >= 2u);
    std::size_t k = *rc::gen::inRange<std::size_t>(0, w.runs.size());
    w.runs[k].front() += "-other";
    in.instances.push_back(w);
    WorkflowReplayResult r = check_workflow_replay(in);
    RC_ASSERT(r.divergent_runs >= 1u);
    RC_ASSERT(r.findings.front().find("diverged at step") != std::string::npos);
  } else {
    *w.final_output += "x";
    in.instances.push_back(w);
    WorkflowReplayResult r = check_workflow_replay(in);
    RC_ASSERT(r.output_mismatches == 1u);
  }
  RC_ASSERT(check_workflow_replay(in).verdict == Verdict::kViolated);
}

TEST(WorkflowReplay, ExplainsEachFinding) {
  WorkflowInstance w;
  w.instance_id = "order-1";
  w.events = {{"charge", StepEventKind::kStart, 0, millis(1), ""},
              {"charge", StepEventKind::kSuccess, 0, millis(2), "paid"},
              {"charge", StepEventKind::kStart, 1, millis(5), ""},
              {"email", StepEventKind::kCachedReturn, 1, millis(6), "sent"}};
  w.runs = {{"charge", "email"}, {"charge", "ship"}};
  w.final_output = "done";
  w.reference_output = "shipped";
  WorkflowInstance unfinished;
  unfinished.instance_id = "order-2";
  WorkflowReplayResult r = check_workflow_replay({{w, unfinished}});
  EXPECT_EQ(r.verdict, Verdict::kViolated);
  ASSERT_EQ(r.findings.size(), 5u);
  EXPECT_EQ(r.findings[0],
            "workflow order-1: step charge ran again in run 1 at 0.005000s, after its result "
            "\"paid\" was persisted in run 0 at 0.002000s");
  EXPECT_EQ(r.findings[1],
            "workflow order-1: run 1 got a cached result \"sent\" for step email at 0.006000s, "
            "but no result had been persisted");
  EXPECT_EQ(r.findings[2],
            "workflow order-1: run 1 diverged at step 1: it ran ship where run 0 ran email (run "
            "1: [charge, ship], run 0: [charge, email]); replays must be deterministic");
  EXPECT_EQ(r.findings[3],
            "workflow order-1 finished with \"done\", but the fault-free run gave \"shipped\"");
  EXPECT_EQ(r.findings[4], "workflow order-2 did not finish");
  EXPECT_EQ(r.unfinished, 1u);
}

// Liveness: each instance's deadline is max(creation, quiet) + within.
TEST(WorkflowLiveness, LateUndecidedPausedAndFinishedInstances) {
  const sim::Duration within = sim::kHour;
  const sim::Time quiet = 10 * sim::kMinute;
  auto record = [](sim::Time created, std::string status, std::optional<sim::Time> finished) {
    WorkflowRecord r;
    r.created = created;
    r.status = std::move(status);
    r.finished = finished;
    return r;
  };
  WorkflowHistory h;
  // Created before the faults stopped: its deadline is quiet + within = 70 min.
  h.instances["early"] = record(0, "complete", 69 * sim::kMinute);
  EXPECT_EQ(check_workflow_liveness(h, quiet, within, 3 * sim::kHour).verdict, Verdict::kOk);
  h.instances["early"].finished = 71 * sim::kMinute;
  WorkflowLivenessResult late = check_workflow_liveness(h, quiet, within, 3 * sim::kHour);
  EXPECT_EQ(late.verdict, Verdict::kViolated);
  EXPECT_EQ(late.late, 1u);
  ASSERT_EQ(late.findings.size(), 1u);
  EXPECT_NE(late.findings[0].find("it finished at"), std::string::npos) << late.findings[0];

  WorkflowHistory w;
  // Still waiting; its deadline (2 h 30 min) is after the end of the run (2 h): undecided.
  w.instances["waiting"] = record(90 * sim::kMinute, "waiting", std::nullopt);
  EXPECT_EQ(check_workflow_liveness(w, quiet, within, 2 * sim::kHour).verdict, Verdict::kUnknown);
  // The run lasted past it: violated.
  EXPECT_EQ(check_workflow_liveness(w, quiet, within, 3 * sim::kHour).verdict, Verdict::kViolated);
  // Paused by its user: not judged.
  w.instances["waiting"].status = "paused";
  WorkflowLivenessResult paused = check_workflow_liveness(w, quiet, within, 3 * sim::kHour);
  EXPECT_EQ(paused.verdict, Verdict::kOk);
  EXPECT_EQ(paused.paused, 1u);
}

}  // namespace
}  // namespace props
