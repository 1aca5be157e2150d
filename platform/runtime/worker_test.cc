#include "platform/runtime/worker.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "platform/engine_setup.h"
#include "platform/js/engine.h"
#include "platform/runtime/test_trace.h"
#include "sim/world.h"

namespace runtime {
namespace {

// Collects trace events as text.
using Trace = runtime::testing::Trace;

const char kApp[] = R"js(
let served = 0;
export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    served++;
    switch (url.pathname) {
      case '/hello':
        console.log('hello', request.method, request.headers.get('x-test'));
        return new Response(`hello ${url.searchParams.get('name')}`, {headers: {'x-served': String(served)}});
      case '/echo':
        return Response.json({method: request.method, body: await request.text()});
      case '/throw':
        throw new TypeError('handler broke');
      case '/immutable':
        try { request.headers.set('x-test', 'changed'); return new Response('mutable'); }
        catch (e) { return new Response(e.constructor.name); }
      case '/loop':
        console.log('about to loop');
        while (true) {}
      case '/recurse': {
        const f = (n) => f(n + 1) + 1;
        try { f(0); } catch (e) { return new Response(e.constructor.name); }
        return new Response('no error');
      }
      case '/bomb': {
        const keep = [];
        while (true) keep.push(new Array(100000).fill({}));
      }
      case '/sleep': {
        const t0 = Date.now();
        await new Promise((resolve) => setTimeout(resolve, 100));
        return new Response(String(Date.now() - t0));
      }
      case '/random':
        return new Response([Math.random(), crypto.randomUUID(), Date.now()].join(' '));
      case '/never':
        return new Promise(() => {});
      case '/slow':  // answers, but after the response timeout (30 s)
        await new Promise((resolve) => setTimeout(resolve, 60000));
        return new Response('late');
      case '/notresponse':
        return 'a string';
    }
    return new Response('not found', {status: 404});
  },
};
)js";

class WorkerTest : public ::testing::Test {
 protected:
  void SetUp() override { platform::init_engine(); }

  WorkerConfig config() {
    WorkerConfig c;
    c.name = "app";
    c.modules = {{"src/index.js", kApp}};
    c.main = "src/index.js";
    c.isolate.cpu_max = 50 * sim::kMillisecond;
    c.isolate.heap_bytes_max = 64u << 20;
    c.response_timeout = 10 * sim::kSecond;
    return c;
  }

  // Sends `paths` one after another from a client task; returns "status body" (or the error).
  std::vector<std::string> serve(sim::World& w, Worker& worker, std::vector<std::string> paths) {
    std::vector<std::string> out;
    sim::Node& client = *w.find_node("client");
    w.spawn(client, "client", [&](sim::Task& task) {
      for (const auto& p : paths) {
        HttpRequest req;
        req.url = "https://app.test" + p;
        req.headers.emplace_back("X-Test", "yes");
        if (p == "/echo") {
          req.method = "POST";
          req.body = "payload";
        }
        auto r = worker.fetch(task, req);
        out.push_back(r.ok() ? std::to_string(r->status) + " " + r->body
                             : "error " + r.error().to_string());
      }
    });
    w.run_until_idle();
    return out;
  }
};

TEST_F(WorkerTest, FetchHandlerReturnsAResponse) {
  sim::World w(1);
  Trace trace;
  w.add_sink(&trace);
  sim::Node& pop = w.add_node("lhr", "lhr");
  w.add_node("client", "lhr");
  w.start();
  Worker worker(w, pop, config());
  auto out = serve(w, worker, {"/hello?name=ada", "/hello?name=bob", "/echo", "/missing"});
  EXPECT_EQ(out, (std::vector<std::string>{"200 hello ada", "200 hello bob",
                                           "200 {\"method\":\"POST\",\"body\":\"payload\"}",
                                           "404 not found"}));
  EXPECT_EQ(worker.isolates_created(), 1u);  // one cold start, then warm
  EXPECT_EQ(trace.of_kind("js.cold_start").size(), 1u);
  EXPECT_EQ(trace.of_kind("js.console"),
            (std::vector<std::string>{"0 js.console worker=app level=log text=hello GET yes",
                                      "0 js.console worker=app level=log text=hello GET yes"}));
}

TEST_F(WorkerTest, IncomingRequestHeadersAreImmutable) {
  sim::World w(1);
  sim::Node& pop = w.add_node("lhr", "lhr");
  w.add_node("client", "lhr");
  w.start();
  Worker worker(w, pop, config());
  EXPECT_EQ(serve(w, worker, {"/immutable"}), (std::vector<std::string>{"200 TypeError"}));
}

TEST_F(WorkerTest, ThrowingHandlerGives500AndLaterRequestsAreServed) {
  sim::World w(1);
  Trace trace;
  w.add_sink(&trace);
  sim::Node& pop = w.add_node("lhr", "lhr");
  w.add_node("client", "lhr");
  w.start();
  Worker worker(w, pop, config());
  auto out = serve(w, worker, {"/throw", "/notresponse", "/hello?name=x"});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0], "500 worker threw exception: TypeError: handler broke");
  EXPECT_EQ(out[1].substr(0, 48), "500 worker threw exception: TypeError: Incorrect");
  EXPECT_EQ(out[2], "200 hello x");
  auto ex = trace.of_kind("js.exception");
  ASSERT_EQ(ex.size(), 2u);
  EXPECT_NE(ex[0].find("TypeError: handler broke\\n    at Object.fetch (src/index.js:"),
            std::string::npos)
      << ex[0];
  EXPECT_EQ(worker.isolates_created(), 1u);  // an exception does not recycle the isolate
}

TEST_F(WorkerTest, RunawayLoopFailsThatRequestOnly) {
  sim::World w(1);
  Trace trace;
  w.add_sink(&trace);
  sim::Node& pop = w.add_node("lhr", "lhr");
  w.add_node("client", "lhr");
  w.start();
  Worker worker(w, pop, config());
  auto out = serve(w, worker, {"/hello?name=a", "/loop", "/hello?name=b"});
  EXPECT_EQ(out, (std::vector<std::string>{"200 hello a", "503 worker exceeded CPU limit",
                                           "200 hello b"}));
  EXPECT_EQ(worker.isolates_created(), 2u);  // recycled
  EXPECT_EQ(trace.of_kind("js.limit").size(), 1u);
  // The terminated run's console output is discarded: only the two hellos remain.
  EXPECT_EQ(trace.of_kind("js.console").size(), 2u);
}

TEST_F(WorkerTest, InfiniteRecursionIsARangeErrorInJs) {
  sim::World w(1);
  sim::Node& pop = w.add_node("lhr", "lhr");
  w.add_node("client", "lhr");
  w.start();
  Worker worker(w, pop, config());
  EXPECT_EQ(serve(w, worker, {"/recurse", "/hello?name=c"}),
            (std::vector<std::string>{"200 RangeError", "200 hello c"}));
  EXPECT_EQ(worker.isolates_created(), 1u);
}

TEST_F(WorkerTest, AllocationBombRecyclesTheIsolate) {
  sim::World w(1);
  sim::Node& pop = w.add_node("lhr", "lhr");
  w.add_node("client", "lhr");
  w.start();
  WorkerConfig c = config();
  c.isolate.cpu_max = 10 * sim::kSecond;  // the heap limit must hit first
  Worker worker(w, pop, c);
  EXPECT_EQ(
      serve(w, worker, {"/hello?name=a", "/bomb", "/hello?name=b"}),
      (std::vector<std::string>{"200 hello a", "503 worker exceeded memory limit", "200 hello b"}));
  EXPECT_EQ(worker.isolates_created(), 2u);
}

TEST_F(WorkerTest, SetTimeoutMovesVirtualTime) {
  sim::World w(1);
  sim::Node& pop = w.add_node("lhr", "lhr");
  w.add_node("client", "lhr");
  w.start();
  Worker worker(w, pop, config());
  EXPECT_EQ(serve(w, worker, {"/sleep"}), (std::vector<std::string>{"200 100"}));
  EXPECT_EQ(w.now(), 100 * sim::kMillisecond);
  EXPECT_EQ(worker.pending_timers(), 0u);
}

// A handler that can never answer (nothing in flight could settle its promise) is canceled at
// once with the runtime's error; one that is only slow times out.
TEST_F(WorkerTest, AHandlerThatCanNeverRespondIsCanceledAndASlowOneTimesOut) {
  sim::World w(1);
  sim::Node& pop = w.add_node("lhr", "lhr");
  w.add_node("client", "lhr");
  w.start();
  Worker worker(w, pop, config());
  auto out = serve(w, worker, {"/never", "/slow", "/hello?name=d"});
  EXPECT_EQ(out[0],
            "500 worker threw exception: Error: The Workers runtime canceled this request because "
            "it detected that your Worker's code had hung and would never generate a response.");
  EXPECT_EQ(out[1], "error timeout: worker app sent no response");
  EXPECT_EQ(out[2], "200 hello d");
  EXPECT_EQ(worker.pending_invocations(), 0u);
}

TEST_F(WorkerTest, ScriptThatDoesNotLoadGives503WithThePlace) {
  sim::World w(1);
  sim::Node& pop = w.add_node("lhr", "lhr");
  w.add_node("client", "lhr");
  w.start();
  WorkerConfig c = config();
  c.modules = {{"src/index.js", "export default {\n  fetch() { return new Response(; }\n};\n"}};
  Worker worker(w, pop, c);
  EXPECT_EQ(serve(w, worker, {"/"}),
            (std::vector<std::string>{
                "503 worker failed to load: src/index.js:2: SyntaxError: Unexpected token ';'"}));
}

TEST_F(WorkerTest, NodeCrashDropsTheIsolate) {
  sim::World w(1);
  sim::Node& pop = w.add_node("lhr", "lhr");
  w.add_node("client", "lhr");
  w.start();
  Worker worker(w, pop, config());
  EXPECT_EQ(serve(w, worker, {"/hello?name=a"}), (std::vector<std::string>{"200 hello a"}));
  EXPECT_TRUE(worker.warm());
  w.crash(pop);
  EXPECT_FALSE(worker.warm());
  w.restart(pop);
  EXPECT_EQ(serve(w, worker, {"/hello?name=b"}), (std::vector<std::string>{"200 hello b"}));
  EXPECT_EQ(worker.isolates_created(), 2u);
}

// Same seed: same responses (Math.random, randomUUID, Date.now) and the same trace.
std::pair<std::vector<std::string>, std::vector<std::string>> run_seed(std::uint64_t seed) {
  sim::World w(seed);
  Trace trace;
  w.add_sink(&trace);
  sim::Node& pop = w.add_node("lhr", "lhr");
  sim::Node& client = w.add_node("client", "lhr");
  w.start();
  WorkerConfig c;
  c.name = "app";
  c.modules = {{"src/index.js", kApp}};
  c.main = "src/index.js";
  Worker worker(w, pop, c);
  std::vector<std::string> out;
  for (int i = 0; i < 3; ++i) {
    w.spawn(client, "client", [&, i](sim::Task& task) {
      task.sleep(sim::millis(10 * i));
      HttpRequest req;
      req.url = "https://app.test/" + std::string(i == 1 ? "sleep" : "random");
      auto r = worker.fetch(task, req);
      out.push_back(r.ok() ? r->body : r.error().message);
    });
  }
  w.run_until_idle();
  return {out, trace.events};
}

TEST_F(WorkerTest, SameSeedSameResponsesAndTrace) {
  auto a = run_seed(42);
  auto b = run_seed(42);
  auto c = run_seed(43);
  ASSERT_EQ(a.first.size(), 3u);
  EXPECT_EQ(a.first, b.first);
  EXPECT_EQ(a.second, b.second);
  EXPECT_NE(a.first, c.first);
  // Date.now() is the virtual time of each request: 0 ms and 20 ms after the epoch.
  EXPECT_NE(a.first[0].find(" 1767225600000"), std::string::npos) << a.first[0];
  EXPECT_NE(a.first[1].find(" 1767225600020"), std::string::npos) << a.first[1];
}

}  // namespace
}  // namespace runtime
