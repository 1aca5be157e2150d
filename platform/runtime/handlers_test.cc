// Handlers of a Worker in a simulation: env, entrypoint classes, scheduled(), ctx.waitUntil and
// its cancellation, ctx.passThroughOnException.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "platform/engine_setup.h"
#include "platform/js/engine.h"
#include "platform/runtime/origin.h"
#include "platform/runtime/test_trace.h"
#include "platform/runtime/worker.h"
#include "sim/world.h"

namespace runtime {
namespace {

struct Trace : runtime::testing::Trace {
  Trace() : runtime::testing::Trace(TimeUnit::kMilliseconds) {}
};

const char kApp[] = R"js(
import { env as importedEnv, WorkerEntrypoint } from 'cloudflare:workers';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export default {
  async fetch(request, env, ctx) {
    const path = new URL(request.url).pathname;
    switch (path) {
      case '/env':
        return Response.json({var: env.MY_VAR, limit: env.CONFIG.limit, same: env === importedEnv,
                              keys: Object.keys(env)});
      case '/wait-until':
        ctx.waitUntil(sleep(1000).then(() => console.log('background done at', Date.now() % 100000)));
        return new Response('sent');
      case '/wait-until-forever': {
        let n = 0;
        setInterval(() => console.log('tick', ++n), 7000);
        ctx.waitUntil(sleep(60000).then(() => console.log('never printed')));
        return new Response('sent');
      }
      case '/wait-until-rejects':
        ctx.waitUntil(sleep(5).then(() => { throw new Error('background failed'); }));
        return new Response('sent');
      case '/unawaited-timer':
        setTimeout(() => console.log('never printed either'), 10);
        return new Response('sent');
      case '/background-fetch':
        ctx.waitUntil(fetch('https://origin.test/data').then((r) => r.text())
            .then((t) => console.log('background got', t)));
        return new Response('sent');
      case '/pass-through':
        ctx.passThroughOnException();
        throw new Error('broken');
    }
    return new Response('not found', {status: 404});
  },

  async scheduled(controller, env, ctx) {
    console.log('cron', controller.cron, controller.scheduledTime, controller.type, env.MY_VAR);
    if (controller.cron === 'fail') {
      controller.noRetry();
      throw new Error('cron failed');
    }
    if (controller.cron === 'background') {
      ctx.waitUntil(sleep(2000).then(() => console.log('cron background done')));
    }
    if (controller.cron === 'background-fails') {
      ctx.waitUntil(Promise.reject(new TypeError('bad background')));
    }
  },
};

export class Admin extends WorkerEntrypoint {
  fetch(request) {
    return new Response(`admin ${this.env.MY_VAR} ${request.headers.get('x-who')}`);
  }
  scheduled(controller) {
    console.log('admin cron', controller.cron);
  }
}
)js";

class HandlersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    platform::init_engine();
    w_.add_sink(&trace_);
    pop_ = &w_.add_node("lhr", "lhr");
    client_ = &w_.add_node("client", "lhr");
    origin_node_ = &w_.add_node("origin", "lhr");
    w_.start();
    StaticRoute route;
    route.path_prefix = "/";
    route.response.body = "from origin";
    route.delay = 20 * sim::kMillisecond;
    origin_ = Origin::serve_static(w_, *origin_node_, {route});
    origins_.add("app.test", *origin_);
    origins_.add("origin.test", *origin_);
  }

  WorkerConfig config() {
    WorkerConfig c;
    c.name = "app";
    c.modules = {{"src/index.js", kApp}};
    c.main = "src/index.js";
    c.env = {{"MY_VAR", BindingValue::text("hello")},
             {"CONFIG", BindingValue::json(R"({"limit": 3})")}};
    return c;
  }

  // GET `path` at virtual time `at`; returns "status body" and records when the response came.
  std::string get(Worker& worker, const std::string& path, std::string entrypoint = "default") {
    std::string out;
    w_.spawn(*client_, "client", [&](sim::Task& task) {
      HttpRequest req;
      req.url = "https://app.test" + path;
      req.headers.emplace_back("x-who", "ada");
      auto r = worker.fetch(task, req, entrypoint);
      responded_at_ = task.now();
      out = r.ok() ? std::to_string(r->status) + " " + r->body : "error " + r.error().to_string();
    });
    w_.run_until_idle();
    return out;
  }

  sim::Result<ScheduledResult> cron(Worker& worker, std::string expr, sim::Time time,
                                    std::string entrypoint = "default") {
    sim::Result<ScheduledResult> out = sim::Error{sim::ErrorKind::kInvalid, "not run"};
    w_.spawn(*client_, "cron", [&](sim::Task& task) {
      out = worker.scheduled(task, expr, time, entrypoint);
      responded_at_ = task.now();
    });
    w_.run_until_idle();
    return out;
  }

  sim::World w_{7};
  Trace trace_;
  sim::Node* pop_ = nullptr;
  sim::Node* client_ = nullptr;
  sim::Node* origin_node_ = nullptr;
  std::unique_ptr<Origin> origin_;
  Origins origins_{w_};
  sim::Time responded_at_ = 0;
};

TEST_F(HandlersTest, EnvIsTheHandlerArgumentAndTheCloudflareWorkersExport) {
  Worker worker(w_, *pop_, config());
  EXPECT_EQ(get(worker, "/env"),
            R"(200 {"var":"hello","limit":3,"same":true,"keys":["CONFIG","MY_VAR"]})");
}

TEST_F(HandlersTest, NamedWorkerEntrypointClass) {
  Worker worker(w_, *pop_, config());
  EXPECT_EQ(get(worker, "/", "Admin"), "200 admin hello ada");
  EXPECT_EQ(get(worker, "/", "Nope"),
            "500 worker threw exception: Error: Worker has no entrypoint named \"Nope\".");
}

TEST_F(HandlersTest, DefaultExportClassExtendingWorkerEntrypoint) {
  WorkerConfig c = config();
  c.modules = {{"index.js",
                "import { WorkerEntrypoint } from 'cloudflare:workers';\n"
                "export default class extends WorkerEntrypoint {\n"
                "  async fetch(request) {\n"
                "    this.ctx.waitUntil(Promise.resolve());\n"
                "    return new Response(`${this.env.MY_VAR} ${request.method}`);\n"
                "  }\n"
                "}\n"}};
  c.main = "index.js";
  Worker worker(w_, *pop_, c);
  EXPECT_EQ(get(worker, "/"), "200 hello GET");
  EXPECT_EQ(worker.open_contexts(), 0u);
}

TEST_F(HandlersTest, WaitUntilWorkRunsAfterTheResponse) {
  Worker worker(w_, *pop_, config());
  EXPECT_EQ(get(worker, "/wait-until"), "200 sent");
  EXPECT_EQ(responded_at_, 0);  // the response did not wait for the background work
  EXPECT_EQ(
      trace_.of_kind("js.console"),
      std::vector<std::string>{"1000ms js.console worker=app level=log text=background done at "
                               "1000"});
  EXPECT_EQ(worker.open_contexts(), 0u);
  EXPECT_TRUE(trace_.of_kind("js.cancel").empty());
  EXPECT_TRUE(trace_.of_kind("js.wait_until_cancelled").empty());
}

TEST_F(HandlersTest, WaitUntilIsCancelled30sAfterTheResponse) {
  Worker worker(w_, *pop_, config());
  EXPECT_EQ(get(worker, "/wait-until-forever"), "200 sent");
  EXPECT_EQ(trace_.of_kind("js.console"),
            (std::vector<std::string>{"7000ms js.console worker=app level=log text=tick 1",
                                      "14000ms js.console worker=app level=log text=tick 2",
                                      "21000ms js.console worker=app level=log text=tick 3",
                                      "28000ms js.console worker=app level=log text=tick 4"}));
  EXPECT_EQ(trace_.of_kind("js.wait_until_cancelled"),
            std::vector<std::string>{
                "30000ms js.wait_until_cancelled worker=app invocation=1 pending=1 after=30.000s"});
  EXPECT_EQ(trace_.of_kind("js.cancel"),
            std::vector<std::string>{
                "30000ms js.cancel worker=app invocation=1 timers=2 reason=waitUntil work "
                "cancelled 30000 ms after the handler finished"});
  EXPECT_EQ(worker.pending_timers(), 0u);
  EXPECT_EQ(worker.open_contexts(), 0u);
  EXPECT_EQ(w_.now(), 30 * sim::kSecond);
}

TEST_F(HandlersTest, WaitUntilLimitIsAKnob) {
  WorkerConfig c = config();
  c.wait_until_max = 5 * sim::kSecond;
  Worker worker(w_, *pop_, c);
  EXPECT_EQ(get(worker, "/wait-until-forever"), "200 sent");
  EXPECT_TRUE(trace_.of_kind("js.console").empty());
  EXPECT_EQ(trace_.of_kind("js.wait_until_cancelled").size(), 1u);
  EXPECT_EQ(w_.now(), 5 * sim::kSecond);
  // The isolate goes on serving.
  EXPECT_EQ(get(worker, "/env").substr(0, 3), "200");
  EXPECT_EQ(worker.isolates_created(), 1u);
}

// scheduled() (and queue(), alarm()) may run for minutes, as on the platform, up to the event
// wall-time limit (15 min): then the invocation ends with a timeout.
const char kSlowCron[] = R"js(
export default {
  async scheduled(controller) {
    const minutes = controller.cron === 'slow' ? 20 : 2;
    await new Promise((resolve) => setTimeout(resolve, minutes * 60 * 1000));
  },
};
)js";

TEST_F(HandlersTest, EventHandlersRunUpToTheEventWallLimit) {
  WorkerConfig c = config();
  c.modules = {{"cron.js", kSlowCron}};
  c.main = "cron.js";
  Worker worker(w_, *pop_, c);
  std::optional<sim::Result<ScheduledResult>> quick;
  w_.spawn(*client_, "cron", [&](sim::Task& task) { quick = worker.scheduled(task, "quick", 0); });
  w_.run_until_idle();
  ASSERT_TRUE(quick.has_value() && quick->ok()) << (quick ? quick->error().message : "no result");
  EXPECT_TRUE((*quick)->ok) << (*quick)->error;
  EXPECT_EQ(w_.now(), 2 * sim::kMinute);
  std::optional<sim::Result<ScheduledResult>> slow;
  const sim::Time start = w_.now();
  w_.spawn(*client_, "cron", [&](sim::Task& task) { slow = worker.scheduled(task, "slow", 0); });
  w_.run_until_idle();
  ASSERT_TRUE(slow.has_value());
  ASSERT_FALSE(slow->ok());
  EXPECT_EQ(slow->error().kind, sim::ErrorKind::kTimeout);
  EXPECT_EQ(w_.now() - start, 15 * sim::kMinute);
}

TEST_F(HandlersTest, RejectedWaitUntilIsReported) {
  Worker worker(w_, *pop_, config());
  EXPECT_EQ(get(worker, "/wait-until-rejects"), "200 sent");
  auto uncaught = trace_.of_kind("js.uncaught");
  ASSERT_EQ(uncaught.size(), 1u);
  EXPECT_EQ(uncaught[0].rfind(
                "5ms js.uncaught worker=app where=waitUntil error=Error: background failed\\n", 0),
            0u)
      << uncaught[0];
  EXPECT_EQ(worker.open_contexts(), 0u);
}

TEST_F(HandlersTest, TimersOfAFinishedRequestAreCancelled) {
  Worker worker(w_, *pop_, config());
  EXPECT_EQ(get(worker, "/unawaited-timer"), "200 sent");
  EXPECT_TRUE(trace_.of_kind("js.console").empty());
  EXPECT_EQ(trace_.of_kind("js.cancel"),
            std::vector<std::string>{"0ms js.cancel worker=app invocation=1 timers=1 reason=done"});
  EXPECT_EQ(w_.now(), 0);
}

TEST_F(HandlersTest, PassThroughOnExceptionIsTraced) {
  Worker worker(w_, *pop_, config());
  EXPECT_EQ(get(worker, "/pass-through"),
            "500 worker threw exception: Error: broken (passThroughOnException: no origin)");
  EXPECT_EQ(trace_.of_kind("js.pass_through").size(), 1u);
  EXPECT_EQ(trace_.of_kind("js.exception").size(), 1u);
  // Without the flag: a plain 500 and no pass-through event.
  EXPECT_EQ(get(worker, "/env").substr(0, 3), "200");
  EXPECT_EQ(trace_.of_kind("js.pass_through").size(), 1u);
}

TEST_F(HandlersTest, PassThroughOnExceptionGoesToTheOrigin) {
  WorkerConfig c = config();
  c.origins = &origins_;
  Worker worker(w_, *pop_, c);
  EXPECT_EQ(get(worker, "/pass-through"), "200 from origin");
  EXPECT_EQ(origin_->requests_served(), 1u);
  auto events = trace_.of_kind("js.pass_through");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_NE(events[0].find("invocation=1 text=to the origin"), std::string::npos) << events[0];
}

TEST_F(HandlersTest, OutboundFetchInWaitUntilFinishesAfterTheResponse) {
  WorkerConfig c = config();
  c.origins = &origins_;
  Worker worker(w_, *pop_, c);
  EXPECT_EQ(get(worker, "/background-fetch"), "200 sent");
  EXPECT_EQ(responded_at_, 0);
  auto lines = trace_.of_kind("js.console");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("level=log text=background got from origin"), std::string::npos)
      << lines[0];
  EXPECT_EQ(worker.open_contexts(), 0u);
}

TEST_F(HandlersTest, ScheduledHandlerGetsTheController) {
  Worker worker(w_, *pop_, config());
  auto r = cron(worker, "*/5 * * * *", 300 * sim::kSecond);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_TRUE(r->ok);
  EXPECT_FALSE(r->no_retry);
  // workerd's ScheduledController has cron, scheduledTime and noRetry(), and no `type` (only the
  // service-worker ScheduledEvent has one).
  EXPECT_EQ(trace_.of_kind("js.console"),
            std::vector<std::string>{
                "0ms js.console worker=app level=log text=cron */5 * * * * 1767225900000 undefined "
                "hello"});
}

TEST_F(HandlersTest, ScheduledHandlerThatThrows) {
  Worker worker(w_, *pop_, config());
  auto r = cron(worker, "fail", 0);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->ok);
  EXPECT_TRUE(r->no_retry);
  EXPECT_EQ(r->error, "Error: cron failed");
  auto ex = trace_.of_kind("js.exception");
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_NE(ex[0].find("Error: cron failed\\n    at Object.scheduled (src/index.js:"),
            std::string::npos)
      << ex[0];
}

TEST_F(HandlersTest, ScheduledWaitsForItsWaitUntilWork) {
  Worker worker(w_, *pop_, config());
  auto r = cron(worker, "background", 0);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok);
  EXPECT_EQ(responded_at_, 2 * sim::kSecond);
  r = cron(worker, "background-fails", 0);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->error, "TypeError: bad background");
}

TEST_F(HandlersTest, ScheduledOnANamedEntrypointAndWithoutAHandler) {
  Worker worker(w_, *pop_, config());
  auto r = cron(worker, "0 0 * * *", 0, "Admin");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok);
  EXPECT_EQ(trace_.of_kind("js.console").back(),
            "0ms js.console worker=app level=log text=admin cron 0 0 * * *");
  WorkerConfig c = config();
  c.name = "nocron";
  c.modules = {{"index.js", "export default { fetch() { return new Response('x'); } };\n"}};
  c.main = "index.js";
  Worker plain(w_, *pop_, c);
  r = cron(plain, "* * * * *", 0);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->error, "Error: Handler does not export a scheduled() function.");
  EXPECT_TRUE(r->no_retry);  // as in workerd: a missing handler is not retried
}

TEST_F(HandlersTest, ScheduledOnAScriptThatDoesNotLoad) {
  WorkerConfig c = config();
  c.modules = {{"index.js", "export default {\n  scheduled() { ; }}\n}\n"}};
  c.main = "index.js";
  Worker worker(w_, *pop_, c);
  auto r = cron(worker, "* * * * *", 0);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->error, "worker failed to load: index.js:3: SyntaxError: Unexpected token '}'");
}

}  // namespace
}  // namespace runtime

namespace runtime {
namespace {

const char kQueueApp[] = R"js(
export default {
  async queue(batch, env, ctx) {
    const seen = batch.messages.map((m) => `${m.id}:${JSON.stringify(m.body)}:${m.attempts}:${m.timestamp.getTime() % 100000}`);
    console.log(batch.queue, seen.join(' '));
    for (const m of batch.messages) {
      if (m.body.action === 'ack') m.ack();
      if (m.body.action === 'retry') m.retry({delaySeconds: 30});
      if (m.body.action === 'twice') { m.retry(); m.ack(); }  // the first call wins
    }
    if (batch.messages.some((m) => m.body.all === 'retry')) batch.retryAll({delaySeconds: 5});
    if (batch.messages.some((m) => m.body.throw)) throw new Error('consumer broke');
  },
};
)js";

QueueBatch make_batch(std::vector<std::string> bodies) {
  QueueBatch b;
  b.queue = "jobs";
  int i = 0;
  for (auto& body : bodies) {
    QueueMessage m;
    m.id = "m" + std::to_string(++i);
    m.timestamp = 2 * sim::kSecond;
    m.body = std::move(body);
    m.attempts = i;
    b.messages.push_back(std::move(m));
  }
  return b;
}

std::string outcomes(const ScheduledResult& r) {
  std::string out = r.ok ? "ok" : "failed(" + r.error + ")";
  for (const auto& o : r.outcomes) {
    out += " " + o.id + "=" + (o.ack ? "ack" : "retry");
    if (o.delay_seconds >= 0) out += "/" + std::to_string(static_cast<int>(o.delay_seconds));
  }
  return out;
}

TEST_F(HandlersTest, QueueHandlerAcksByDefaultAndHonoursExplicitCalls) {
  WorkerConfig c = config();
  c.modules = {{"q.js", kQueueApp}};
  c.main = "q.js";
  Worker worker(w_, *pop_, c);
  auto run = [&](std::vector<std::string> bodies) {
    sim::Result<ScheduledResult> out = sim::Error{sim::ErrorKind::kInvalid, "not run"};
    w_.spawn(*client_, "consumer",
             [&](sim::Task& task) { out = worker.queue(task, make_batch(std::move(bodies))); });
    w_.run_until_idle();
    EXPECT_TRUE(out.ok());
    return out.ok() ? outcomes(*out) : out.error().to_string();
  };
  EXPECT_EQ(run({R"({"n":1})", R"({"action":"retry"})", R"({"action":"twice"})"}),
            "ok m1=ack m2=retry/30 m3=retry");
  // Per-message calls win over batch-wide ones.
  EXPECT_EQ(run({R"({"action":"ack"})", R"({"all":"retry"})"}), "ok m1=ack m2=retry/5");
  // A throwing handler retries every message not explicitly acked.
  EXPECT_EQ(run({R"({"action":"ack"})", R"({"throw":true})"}),
            "failed(Error: consumer broke) m1=ack m2=retry");
  EXPECT_EQ(trace_.of_kind("js.console").front(),
            "0ms js.console worker=app level=log text=jobs m1:{\"n\":1}:1:2000 "
            "m2:{\"action\":\"retry\"}:2:2000 m3:{\"action\":\"twice\"}:3:2000");
}

const char kQueueRulesApp[] = R"js(
export default {
  async queue(batch, env, ctx) {
    const kinds = batch.messages.map((m) => `${typeof m.body}:${m.body instanceof Uint8Array ? m.body.length : JSON.stringify(m.body)}`);
    console.log(kinds.join(' '));
    const [a, b] = batch.messages;
    switch (a.body.plan ?? new TextDecoder().decode(new Uint8Array([]))) {
      case 'ackAll-then-throw': batch.ackAll(); throw new Error('late failure');
      case 'retryAll-then-ackAll': batch.retryAll({delaySeconds: 7}); batch.ackAll(); b.retry({delaySeconds: 3}); break;
      case 'retry-twice': a.retry({delaySeconds: 9}); a.retry(); break;
      case 'ack-after-retryAll': batch.retryAll(); a.ack(); break;
    }
  },
};
)js";

// workerd's recording rules, and what the service does with them.
TEST_F(HandlersTest, QueueDecisionsFollowTheRuntimesRules) {
  WorkerConfig c = config();
  c.modules = {{"q.js", kQueueRulesApp}};
  c.main = "q.js";
  Worker worker(w_, *pop_, c);
  auto run = [&](const std::string& plan) {
    QueueBatch b = make_batch({R"({"plan":")" + plan + R"("})", "2"});
    sim::Result<ScheduledResult> out = sim::Error{sim::ErrorKind::kInvalid, "not run"};
    w_.spawn(*client_, "consumer", [&](sim::Task& task) { out = worker.queue(task, b); });
    w_.run_until_idle();
    EXPECT_TRUE(out.ok());
    return out.ok() ? outcomes(*out) : out.error().to_string();
  };
  // ackAll() acks everything even when the handler then throws.
  EXPECT_EQ(run("ackAll-then-throw"), "failed(Error: late failure) m1=ack m2=ack");
  // The first batch-wide call wins; a per-message retry() wins over it.
  EXPECT_EQ(run("retryAll-then-ackAll"), "ok m1=retry/7 m2=retry/3");
  // A repeated retry() replaces the delay (the second has none).
  EXPECT_EQ(run("retry-twice"), "ok m1=retry m2=ack");
  // ack() after retryAll() has no effect.
  EXPECT_EQ(run("ack-after-retryAll"), "ok m1=retry m2=retry");
  bool warned = false;
  for (const std::string& line : trace_.of_kind("js.console")) {
    warned = warned || line.find(
                           "level=warn text=Received a call to ack() on message m1 after "
                           "retryAll() was already called.") != std::string::npos;
  }
  EXPECT_TRUE(warned);
}

TEST_F(HandlersTest, QueueBodiesArriveAsTheirContentTypeSays) {
  WorkerConfig c = config();
  c.modules = {{"q.js", kQueueRulesApp}};
  c.main = "q.js";
  Worker worker(w_, *pop_, c);
  QueueBatch b = make_batch({R"({"plan":"none"})", "hello", std::string("\x01\x02\x03", 3)});
  b.messages[1].content_type = "text";
  b.messages[2].content_type = "bytes";
  sim::Result<ScheduledResult> out = sim::Error{sim::ErrorKind::kInvalid, "not run"};
  w_.spawn(*client_, "consumer", [&](sim::Task& task) { out = worker.queue(task, b); });
  w_.run_until_idle();
  ASSERT_TRUE(out.ok());
  EXPECT_NE(trace_.of_kind("js.console")
                .back()
                .find("text=object:{\"plan\":\"none\"} string:\"hello\" object:3"),
            std::string::npos)
      << trace_.of_kind("js.console").back();
}

}  // namespace
}  // namespace runtime
