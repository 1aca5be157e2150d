// Workflows end to end with real JS (needs the platform): a Worker creates instances through
// env.FLOW, the engine dispatches runs of the Flow class to the PoPs, and the trace's workflow.*
// events are checked directly and by props' workflow_replay and workflow_liveness. The suite
// scenario workflow-checkout adds crashes and partitions over many seeds.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "platform/deployment.h"
#include "platform/engine_setup.h"
#include "platform/runtime/origin.h"
#include "props/history.h"
#include "scenarios/runner.h"
#include "sim/events.h"
#include "sim/world.h"
#include "tests/pop_client.h"

namespace scenarios {
namespace {

// POST /create/<id>?kind=K&...  creates instance <id> with the query as its params
// POST /<op>/<id>               pause, resume, terminate, restart, event (sendEvent type "go")
// GET  /status/<id>             the instance's status() as JSON
// The Flow class does what params.kind says.
const char kApp[] = R"js(
import { WorkflowEntrypoint } from 'cloudflare:workers';
import { NonRetryableError } from 'cloudflare:workflows';

export class Flow extends WorkflowEntrypoint {
  async run(event, step) {
    const p = event.payload;
    switch (p.kind) {
      case 'retry': {
        const config = {retries: {limit: Number(p.limit), delay: '1 second', backoff: p.backoff}};
        return step.do('flaky', config, async (ctx) => {
          if (ctx.attempt <= Number(p.failures)) throw new Error(`fail ${ctx.attempt}`);
          return `ok after ${ctx.attempt}`;
        });
      }
      case 'default-retry':
        return step.do('flaky', async (ctx) => {
          if (ctx.attempt === 1) throw new Error('first fails');
          return ctx.attempt;
        });
      case 'non-retryable':
        return step.do('refuse', async () => { throw new NonRetryableError('card declined'); });
      case 'caught':
        try {
          await step.do('refuse', async () => { throw new NonRetryableError('card declined'); });
        } catch (e) {
          return `caught ${e.name}: ${e.message}`;
        }
        return 'not thrown';
      case 'sleep':
        await step.sleep('nap', '1 hour');
        return 'woke';
      case 'event': {
        await step.do('prepare', async () => {
          await new Promise((r) => setTimeout(r, Number(p.prepareMs ?? 0)));
          return 1;
        });
        const e = await step.waitForEvent('go', {type: 'go', timeout: '1 hour'});
        return e.payload;
      }
      case 'long':
        await step.do('slow', async () => {
          await new Promise((r) => setTimeout(r, 60000));
          return 1;
        });
        return 'done';
      case 'unserializable':
        return step.do('fn', async () => () => 1);
      case 'throw':
        throw new Error('boom');
      case 'step-timeout':
        return step.do('slow', {retries: {limit: 0, delay: 1000}, timeout: '1 second'}, async () => {
          await new Promise((r) => setTimeout(r, 5000));
          return 1;
        });
      case 'event-timeout':
        return step.waitForEvent('never', {type: 'never', timeout: '2 seconds'});
      case 'past':
        return step.sleepUntil('yesterday', Date.now() - 86400000);
      case 'bad-name':
        return step.do('a\x01b', async () => 1);
      case 'parallel': {
        const [a, b] = await Promise.all([
          step.do('left', async () => { await new Promise((r) => setTimeout(r, 2000)); return 'L'; }),
          step.do('right', async () => 'R'),
        ]);
        await step.sleep('nap', '1 minute');
        return a + b;
      }
      case 'spin':
        for (;;) {}
      default:
        return p.kind;
    }
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const [, op, id] = url.pathname.split('/');
    try {
      if (op === 'create') {
        await env.FLOW.create({id, params: Object.fromEntries(url.searchParams)});
        return new Response('created');
      }
      const instance = await env.FLOW.get(id);
      switch (op) {
        case 'status': return Response.json(await instance.status());
        case 'event': await instance.sendEvent({type: 'go', payload: 'payload ' + id}); break;
        default: await instance[op]();
      }
      return new Response('ok');
    } catch (e) {
      return new Response(`${e.name}: ${e.message}`, {status: 500});
    }
  },
};
)js";

// The workflow.* events of a run, as "kind" plus the fields the tests read.
struct WfEvent {
  sim::Time time = 0;
  std::string kind;  // workflow.step kinds ("start", "retry", ...), or "run", "status"
  std::string instance;
  std::uint32_t run = 0;
  std::uint32_t attempt = 0;
  sim::Duration delay = 0;
  std::string text;  // status: the new status; step: the step; run_lost: the reason
};

class WfSink final : public sim::EventSink {
 public:
  void on_event(const sim::TraceEvent& e) override {
    const sim::ev::Body& b = *e.body;
    if (b.has_workflow_step()) {
      const auto& s = b.workflow_step();
      events.push_back({e.time, s.kind(), s.instance(), s.run(), s.attempt(), s.delay(), s.step()});
    } else if (b.has_workflow_run()) {
      events.push_back(
          {e.time, "run", b.workflow_run().instance(), b.workflow_run().run(), 0, 0, ""});
    } else if (b.has_workflow_run_lost()) {
      const auto& r = b.workflow_run_lost();
      events.push_back({e.time, "run_lost", r.instance(), r.run(), 0, 0, r.reason()});
    } else if (b.has_workflow_status()) {
      const auto& s = b.workflow_status();
      events.push_back({e.time, "status", s.instance(), 0, 0, 0, s.status()});
    }
  }
  std::vector<WfEvent> of(const std::string& instance, const std::string& kind) const {
    std::vector<WfEvent> out;
    for (const WfEvent& e : events) {
      if (e.instance == instance && e.kind == kind) out.push_back(e);
    }
    return out;
  }
  std::vector<WfEvent> events;
};

struct WorkflowApp {
  sim::World world{11};
  props::HistoryRecorder recorder;
  WfSink sink;
  std::unique_ptr<platform::Deployment> deployment;
  sim::Node* client = nullptr;

  explicit WorkflowApp(const std::function<void(platform::PlatformConfig&)>& tune = {}) {
    platform::init_engine();
    platform::DeploymentSpec spec;
    spec.pops = {{"pop-lhr", "lhr"}, {"pop-iad", "iad"}};
    platform::WorkerSpec w;
    w.name = "app";
    w.modules = {{"index.js", kApp}};
    w.main = "index.js";
    w.compatibility_date = "2025-01-01";
    w.workflows = {{"FLOW", "flow", "Flow", ""}};
    spec.workers = {w};
    spec.workflow_engines = {{"workflow-1", "fra"}};
    if (tune) tune(spec.config);
    deployment = std::make_unique<platform::Deployment>(world, spec);
    client = &world.add_node("client", "lhr");
    world.add_sink(&recorder);
    world.add_sink(&sink);
    world.start();
  }
  ~WorkflowApp() {
    world.remove_sink(&sink);
    world.remove_sink(&recorder);
  }

  // Sends `path` to the London PoP and runs the world until the answer: "status body".
  std::string request(const std::string& method, const std::string& path) {
    runtime::HttpRequest r;
    r.method = method;
    r.url = "https://app.test" + path;
    return test::request_until_answered(world, *client, deployment->pop_named("pop-lhr"),
                                        std::move(r), 30 * sim::kSecond);
  }
  std::string status(const std::string& id) {
    const std::string s = request("GET", "/status/" + id);
    const std::size_t at = s.find("\"status\":\"");
    if (at == std::string::npos) return s;
    return s.substr(at + 10, s.find('"', at + 10) - at - 10);
  }
  sim::Node& engine() { return *world.find_node("workflow-1"); }
};

// Retries follow the documented backoff to the nanosecond of simulated time: the run that makes
// attempt n+1 is dispatched exactly `delay` after attempt n's failure was recorded.
TEST(WorkflowsWithJs, RetriesFollowTheBackoffExactly) {
  struct Case {
    const char* backoff;
    std::vector<sim::Duration> delays;
  };
  const std::vector<Case> cases = {
      {"constant", {sim::kSecond, sim::kSecond, sim::kSecond}},
      {"linear", {sim::kSecond, 2 * sim::kSecond, 3 * sim::kSecond}},
      {"exponential", {sim::kSecond, 2 * sim::kSecond, 4 * sim::kSecond}},
  };
  for (const Case& c : cases) {
    WorkflowApp app;
    const std::string id = std::string("r-") + c.backoff;
    ASSERT_EQ(app.request("POST",
                          "/create/" + id + "?kind=retry&limit=5&failures=3&backoff=" + c.backoff),
              "200 created");
    app.world.run_for(sim::kMinute);
    const std::vector<WfEvent> retries = app.sink.of(id, "retry");
    const std::vector<WfEvent> runs = app.sink.of(id, "run");
    const std::vector<WfEvent> starts = app.sink.of(id, "start");
    ASSERT_EQ(retries.size(), 3u) << c.backoff;
    ASSERT_EQ(runs.size(), 4u) << c.backoff;
    ASSERT_EQ(starts.size(), 4u) << c.backoff;
    for (std::size_t i = 0; i < retries.size(); ++i) {
      EXPECT_EQ(retries[i].attempt, i + 1) << c.backoff;
      EXPECT_EQ(retries[i].delay, c.delays[i]) << c.backoff << " retry " << i;
      EXPECT_EQ(runs[i + 1].time, retries[i].time + c.delays[i]) << c.backoff << " retry " << i;
      EXPECT_EQ(starts[i + 1].attempt, i + 2) << c.backoff;
    }
    EXPECT_EQ(app.status(id), "complete") << c.backoff;
    EXPECT_NE(app.request("GET", "/status/" + id).find("ok after 4"), std::string::npos);
  }
}

TEST(WorkflowsWithJs, TheDefaultRetryWaitsTenSeconds) {
  WorkflowApp app;
  ASSERT_EQ(app.request("POST", "/create/d?kind=default-retry"), "200 created");
  app.world.run_for(sim::kMinute);
  const std::vector<WfEvent> retries = app.sink.of("d", "retry");
  ASSERT_EQ(retries.size(), 1u);
  EXPECT_EQ(retries[0].delay, 10 * sim::kSecond);
  EXPECT_EQ(app.status("d"), "complete");
}

TEST(WorkflowsWithJs, ExhaustedRetriesAndNonRetryableErrorsFailTheInstance) {
  WorkflowApp app;
  ASSERT_EQ(app.request("POST", "/create/x?kind=retry&limit=2&failures=99&backoff=constant"),
            "200 created");
  ASSERT_EQ(app.request("POST", "/create/n?kind=non-retryable"), "200 created");
  ASSERT_EQ(app.request("POST", "/create/c?kind=caught"), "200 created");
  app.world.run_for(sim::kMinute);
  EXPECT_EQ(app.sink.of("x", "start").size(), 3u);  // the first attempt and 2 retries
  EXPECT_EQ(app.status("x"), "errored");
  EXPECT_NE(app.request("GET", "/status/x").find("fail 3"), std::string::npos);
  EXPECT_EQ(app.sink.of("n", "start").size(), 1u);
  EXPECT_EQ(app.status("n"), "errored");
  EXPECT_NE(app.request("GET", "/status/n").find("card declined"), std::string::npos);
  // A step's final error is thrown by step.do, where run() may catch it.
  EXPECT_EQ(app.status("c"), "complete");
  EXPECT_NE(app.request("GET", "/status/c").find("caught NonRetryableError: card declined"),
            std::string::npos)
      << app.request("GET", "/status/c");
}

// As in the runtime: the instance is terminated at once (run() cannot catch it), with the step's
// name in the error.
TEST(WorkflowsWithJs, AResultThatCannotBeStoredTerminatesTheInstance) {
  WorkflowApp app;
  ASSERT_EQ(app.request("POST", "/create/u?kind=unserializable"), "200 created");
  app.world.run_for(sim::kMinute);
  EXPECT_EQ(app.status("u"), "errored");
  const std::string s = app.request("GET", "/status/u");
  EXPECT_NE(s.find("WorkflowFatalError"), std::string::npos) << s;
  EXPECT_NE(s.find("the step \\\"fn\\\" returned a value which is not serialisable"),
            std::string::npos)
      << s;
  EXPECT_EQ(app.sink.of("u", "start").size(), 1u);  // not retried: it would fail again
}

// A sleep survives an engine crash: the wake-up is on the disk. With the durable_sleep mutant it
// is a timer in memory, the crash loses it, and the liveness checker says so.
TEST(WorkflowsWithJs, ASleepSurvivesAnEngineCrashUnlessTheMutantKeepsItInMemory) {
  for (const bool durable : {true, false}) {
    WorkflowApp app(
        [durable](platform::PlatformConfig& c) { c.workflows.durable_sleep = durable; });
    ASSERT_EQ(app.request("POST", "/create/s?kind=sleep"), "200 created");
    app.world.run_for(10 * sim::kMinute);
    EXPECT_EQ(app.status("s"), "waiting");
    app.world.crash(app.engine());
    app.world.run_for(sim::kMinute);
    app.world.restart(app.engine());
    app.world.run_for(sim::kHour);
    ASSERT_TRUE(app.recorder.status().ok());
    const props::History h = app.recorder.take();
    const props::WorkflowLivenessResult live =
        props::check_workflow_liveness(h.workflows, 0, 2 * sim::kHour, app.world.now());
    if (durable) {
      EXPECT_EQ(app.status("s"), "complete");
      EXPECT_EQ(app.sink.of("s", "wake").size(), 1u);
      EXPECT_EQ(live.verdict, props::Verdict::kOk) << live.report();
    } else {
      EXPECT_EQ(app.status("s"), "waiting");
      EXPECT_TRUE(app.sink.of("s", "wake").empty());
      // Its deadline (2 h) is after the end of the run: not decided yet.
      EXPECT_EQ(live.verdict, props::Verdict::kUnknown) << live.report();
      const props::WorkflowLivenessResult late =
          props::check_workflow_liveness(h.workflows, 0, sim::kHour, app.world.now());
      EXPECT_EQ(late.verdict, props::Verdict::kViolated) << late.report();
    }
  }
}

// An event sent before the instance waits for it is kept and delivered at the wait.
TEST(WorkflowsWithJs, AnEventSentBeforeTheWaitIsDelivered) {
  WorkflowApp app;
  ASSERT_EQ(app.request("POST", "/create/e?kind=event&prepareMs=20000"), "200 created");
  ASSERT_EQ(app.request("POST", "/event/e"), "200 ok");  // the prepare step is still running
  EXPECT_TRUE(app.sink.of("e", "wait").empty());
  app.world.run_for(sim::kMinute);
  EXPECT_EQ(app.status("e"), "complete");
  EXPECT_NE(app.request("GET", "/status/e").find("payload e"), std::string::npos);
  EXPECT_EQ(app.sink.of("e", "deliver").size(), 1u);
}

// Errors a run meets, worded as the runtime words them; they reach run() and, uncaught, error
// the instance.
TEST(WorkflowsWithJs, StepErrorsAreWordedAsTheRuntimeWordsThem) {
  const std::map<std::string, std::string> cases = {
      {"step-timeout",
       R"("name":"WorkflowTimeoutError","message":"Execution timed out after 1000ms")"},
      {"event-timeout",
       R"("name":"WorkflowTimeoutError","message":"Execution timed out after 2000ms")"},
      {"past", R"("message":"You can't sleep until a time in the past, time-traveler")"},
      {"bad-name",
       R"("name":"WorkflowFatalError","message":"Step name \"a\u0001b\" exceeds max length (256 chars))"},
  };
  WorkflowApp app;
  for (const auto& [kind, _] : cases) {
    ASSERT_EQ(app.request("POST", "/create/" + kind + "?kind=" + kind), "200 created");
  }
  // Not finished yet: no output (null), no error.
  EXPECT_NE(app.request("GET", "/status/event-timeout").find(R"("output":null)"),
            std::string::npos);
  app.world.run_for(sim::kMinute);
  for (const auto& [kind, error] : cases) {
    EXPECT_EQ(app.status(kind), "errored") << kind;
    const std::string s = app.request("GET", "/status/" + kind);
    EXPECT_NE(s.find(error), std::string::npos) << kind << ": " << s;
  }
}

// Steps may run concurrently (Promise.all); a replay gets both results back.
TEST(WorkflowsWithJs, ParallelStepsRunOnceAndReplay) {
  WorkflowApp app;
  ASSERT_EQ(app.request("POST", "/create/par?kind=parallel"), "200 created");
  app.world.run_for(5 * sim::kMinute);
  EXPECT_EQ(app.status("par"), "complete");
  EXPECT_NE(app.request("GET", "/status/par").find(R"("output":"LR")"), std::string::npos);
  EXPECT_EQ(app.sink.of("par", "start").size(), 2u);
  EXPECT_EQ(app.sink.of("par", "cached").size(), 3u);  // left, right and the nap, in run 1
}

// A run() that never yields is cut by the CPU limit: each run is lost, and after runs_lost_max
// of them the instance errors. The simulator and the other instances carry on.
TEST(WorkflowsWithJs, ARunThatSpinsCostsItsInstanceOnly) {
  WorkflowApp app([](platform::PlatformConfig& c) { c.workflows.runs_lost_max = 3; });
  ASSERT_EQ(app.request("POST", "/create/spin?kind=spin"), "200 created");
  ASSERT_EQ(app.request("POST", "/create/fine?kind=done"), "200 created");
  app.world.run_for(5 * sim::kMinute);
  EXPECT_EQ(app.sink.of("spin", "run_lost").size(), 3u);
  EXPECT_EQ(app.status("spin"), "errored");
  EXPECT_NE(app.request("GET", "/status/spin").find("runs were lost (ended)"), std::string::npos)
      << app.request("GET", "/status/spin");
  EXPECT_EQ(app.status("fine"), "complete");
}

// The instance API in every status: what each call does, or the error it raises.
TEST(WorkflowsWithJs, InstanceCallsBehaveAsDocumentedInEveryStatus) {
  struct Row {
    const char* setup;   // how the instance gets to the status
    const char* status;  // the status it is in
    const char* op;
    const char* expect;  // the status after the call, or "error" (the call raises)
  };
  const std::vector<Row> rows = {
      {"long", "running", "pause", "waitingForPause"},
      {"long", "running", "resume", "running"},
      {"long", "running", "terminate", "terminated"},
      {"long", "running", "restart", "queued"},
      {"sleep", "waiting", "pause", "paused"},
      {"sleep", "waiting", "resume", "waiting"},
      {"sleep", "waiting", "terminate", "terminated"},
      {"sleep", "waiting", "restart", "queued"},
      {"sleep-paused", "paused", "pause", "paused"},
      {"sleep-paused", "paused", "resume", "waiting"},
      {"sleep-paused", "paused", "terminate", "terminated"},
      {"done", "complete", "pause", "error"},
      {"done", "complete", "resume", "error"},
      {"done", "complete", "terminate", "error"},
      {"done", "complete", "event", "error"},
      {"done", "complete", "restart", "queued"},
      {"throw", "errored", "pause", "error"},
      {"throw", "errored", "terminate", "error"},
      {"throw", "errored", "restart", "queued"},
      {"terminated", "terminated", "resume", "error"},
      {"terminated", "terminated", "event", "error"},
      {"terminated", "terminated", "restart", "queued"},
  };
  for (const Row& row : rows) {
    WorkflowApp app;
    const std::string setup = row.setup;
    const std::string kind = setup == "sleep-paused" ? "sleep"
                             : setup == "terminated" ? "sleep"
                                                     : setup;
    ASSERT_EQ(app.request("POST", "/create/i?kind=" + kind), "200 created");
    app.world.run_for(sim::kSecond);
    if (setup == "sleep-paused") {
      ASSERT_EQ(app.request("POST", "/pause/i"), "200 ok");
    }
    if (setup == "terminated") {
      ASSERT_EQ(app.request("POST", "/terminate/i"), "200 ok");
    }
    ASSERT_EQ(app.status("i"), row.status) << row.setup;
    const std::string answer = app.request("POST", std::string("/") + row.op + "/i");
    const std::string where = std::string(row.status) + " / " + row.op;
    if (std::string(row.expect) == "error") {
      EXPECT_TRUE(answer.starts_with("500 Error: instance.invalid_state"))
          << where << ": " << answer;
      EXPECT_EQ(app.status("i"), row.status) << where;
      continue;
    }
    EXPECT_EQ(answer, "200 ok") << where;
    // The status the call left: the last status event of the instance, or for a restart the
    // first of its new generation ("i~1": queued, then dispatched within the same instant).
    const bool restart = std::string(row.op) == "restart";
    const std::vector<WfEvent> statuses = app.sink.of(restart ? "i~1" : "i", "status");
    ASSERT_FALSE(statuses.empty()) << where;
    EXPECT_EQ((restart ? statuses.front() : statuses.back()).text, row.expect) << where;
    if (restart) {
      EXPECT_EQ(app.sink.of("i", "status").back().text,
                std::string(row.status) == "running" || std::string(row.status) == "waiting"
                    ? "terminated"
                    : row.status)
          << where;
    }
  }
}

TEST(WorkflowsWithJs, CreateAndGetRaiseThePlatformsErrors) {
  WorkflowApp app;
  ASSERT_EQ(app.request("POST", "/create/same?kind=done"), "200 created");
  EXPECT_EQ(app.request("POST", "/create/same?kind=done"), "500 Error: instance.already_exists");
  EXPECT_EQ(app.request("GET", "/status/nobody"), "500 Error: instance.not_found");
  const std::string bad = app.request("POST", "/create/-bad?kind=done");
  EXPECT_EQ(bad, "500 Error: Workflow instance has invalid id");
}

// A PoP that crashes in the middle of a step loses the run; the engine notices when the step's
// lease runs out and runs the instance again elsewhere; the step runs again (at least once) and
// the replay checker accepts it: its result had not been persisted.
TEST(WorkflowsWithJs, APopCrashMidStepRunsTheStepAgain) {
  WorkflowApp app;
  ASSERT_EQ(app.request("POST", "/create/p?kind=long"), "200 created");
  ASSERT_EQ(app.sink.of("p", "run").size(), 1u);
  // Crash both PoPs for a moment: wherever the run is, it is gone.
  for (sim::Node* n : app.deployment->pops()) app.world.crash(*n);
  app.world.run_for(sim::kSecond);
  for (sim::Node* n : app.deployment->pops()) app.world.restart(*n);
  app.world.run_for(30 * sim::kMinute);
  const std::vector<WfEvent> lost = app.sink.of("p", "run_lost");
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_EQ(app.sink.of("p", "start").size(), 2u);
  EXPECT_EQ(app.status("p"), "complete");
  ASSERT_TRUE(app.recorder.status().ok());
  const props::History h = app.recorder.take();
  props::WorkflowReplayInput input;
  for (const auto& [label, rec] : h.workflows.instances) input.instances.push_back(rec.replay);
  const props::WorkflowReplayResult r = props::check_workflow_replay(input);
  EXPECT_EQ(r.verdict, props::Verdict::kOk) << r.report();
}

// workflow-checkout: orders as workflows under engine and PoP crashes and a partition.
TEST(WorkflowsWithJs, CheckoutHoldsOnEverySeedAndEachVariantIsCaught) {
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    RunOutcome o = run_scenario({EDGESIM_SUITE_DIR "/workflow-checkout", seed});
    ASSERT_EQ(o.exit_code, kExitOk) << o.error << " seed " << seed;
    for (const char* name : {"replay", "charged-once", "liveness"}) {
      const PropertyResult* p = find_property(o, name);
      ASSERT_NE(p, nullptr) << name;
      EXPECT_EQ(p->verdict, PropertyResult::Verdict::kOk) << name << " seed " << seed << "\n"
                                                          << p->explanation;
    }
    EXPECT_GE(o.stats["workflow_completed"], 5u) << "seed " << seed;
  }
  const std::map<std::string, std::string> variants = {
      {"charge-outside-step", "charged-once"}, {"nondeterministic-name", "replay"},
      {"cache-steps-off", "replay"},           {"persist-after-ack", "replay"},
      {"volatile-sleep", "liveness"},
  };
  for (const auto& [variant, property] : variants) {
    bool caught = false;
    for (std::uint64_t seed = 1; seed <= 4 && !caught; ++seed) {
      RunOutcome o =
          run_scenario({std::string(EDGESIM_SUITE_DIR "/workflow-checkout@") + variant, seed});
      ASSERT_NE(o.exit_code, kExitBadInput) << o.error;
      const PropertyResult* p = find_property(o, property);
      ASSERT_NE(p, nullptr);
      caught = p->verdict == PropertyResult::Verdict::kViolated;
    }
    EXPECT_TRUE(caught) << variant << " was not caught on seeds 1-4";
  }
}

}  // namespace
}  // namespace scenarios
