#include "platform/js/isolate.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <chrono>  // lint: allow-wall-clock (host-time cold-start measurement, test only)
#include <cstdio>

#include "platform/js/engine.h"
#include "platform/js/sim_platform.h"
#include "sim/world.h"

namespace js {
namespace {

struct RecordingHost : IsolateHost {
  std::vector<std::string> lines;
  std::vector<std::pair<std::uint64_t, sim::Duration>> timers;
  std::vector<std::string> uncaught;
  void on_console(std::string_view level, std::string_view text) override {
    lines.push_back(std::string(level) + ": " + std::string(text));
  }
  void on_set_timer(std::uint64_t id, sim::Duration delay) override {
    timers.emplace_back(id, delay);
  }
  void on_clear_timer(std::uint64_t id) override {}
  void on_uncaught(std::string_view where, std::string message, std::string stack) override {
    uncaught.push_back(std::string(where) + ": " + message);
  }
};

class IsolateTest : public ::testing::Test {
 protected:
  void SetUp() override { Engine::init(); }
  std::unique_ptr<Isolate> make(sim::World& w, IsolateConfig config = {}) {
    return Isolate::create(w, config, w.rng("js"), &host_);
  }
  std::string eval(Isolate& iso, std::string_view source) {
    auto r = iso.eval(source);
    return r.ok() ? r.value() : "error: " + r.error().message;
  }
  RecordingHost host_;
};

TEST_F(IsolateTest, EvaluatesWithThePreludeAndConsole) {
  sim::World w(1);
  auto iso = make(w);
  EXPECT_EQ(eval(*iso, "1 + 2"), "3");
  EXPECT_EQ(eval(*iso, "console.log('hi', {a: 1}, [1, 'x']); console.warn(new Map([[1, 2]])); 7"),
            "7");
  EXPECT_EQ(host_.lines,
            (std::vector<std::string>{"log: hi { a: 1 } [ 1, 'x' ]", "warn: Map(1) { 1 => 2 }"}));
  EXPECT_EQ(eval(*iso,
                 "[typeof URL, typeof Headers, typeof TextEncoder, typeof structuredClone,"
                 " typeof crypto.randomUUID, typeof __edgesim_init].join()"),
            "function,function,function,function,function,undefined");
}

TEST_F(IsolateTest, StartsFromTheSnapshot) {
  sim::World w(1);
  ASSERT_NE(Engine::get().snapshot_blob(), nullptr) << Engine::get().snapshot_error();
  EXPECT_TRUE(make(w)->from_snapshot());
  IsolateConfig no_snapshot;
  no_snapshot.use_snapshot = false;
  auto iso = make(w, no_snapshot);
  EXPECT_FALSE(iso->from_snapshot());
  EXPECT_EQ(eval(*iso, "typeof Response.json"), "function");
}

TEST_F(IsolateTest, DateNowIsVirtualAndStandsStillDuringARun) {
  sim::World w(1);
  auto iso = make(w);
  EXPECT_EQ(eval(*iso, "new Date().toISOString()"), "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(eval(*iso,
                 "const t0 = Date.now(); let x = 0; for (let i = 0; i < 3e6; i++) x += i;"
                 " Date.now() - t0"),
            "0");
  EXPECT_EQ(eval(*iso, "performance.now()"), "0");
  w.run_until(sim::millis(1500));
  EXPECT_EQ(eval(*iso, "Date.now() - t0"), "1500");
  EXPECT_EQ(eval(*iso, "performance.now()"), "1500");
  // The host's time zone never shows.
  EXPECT_EQ(eval(*iso, "new Date(0).getTimezoneOffset()"), "0");
}

TEST_F(IsolateTest, NoCodeGenerationFromStrings) {
  sim::World w(1);
  auto iso = make(w);
  EXPECT_EQ(eval(*iso, "try { eval('1'); 'allowed' } catch (e) { e.name }"), "EvalError");
}

std::string draws(std::uint64_t seed) {
  sim::World w(seed);
  RecordingHost host;
  auto iso = Isolate::create(w, {}, w.rng("js/pop/worker/1"), &host);
  auto r = iso->eval(
      "[Math.random(), Math.random(), ...crypto.getRandomValues(new Uint32Array(3)),"
      " crypto.randomUUID()].join()");
  return r.ok() ? r.value() : r.error().message;
}

RC_GTEST_PROP(IsolateRandomness, SameSeedSameValues, (std::uint64_t seed)) {
  Engine::init();
  const std::string a = draws(seed);
  RC_ASSERT(a == draws(seed));
  RC_ASSERT(a != draws(seed + 1));
}

TEST_F(IsolateTest, RandomUuidHasTheV4Shape) {
  sim::World w(3);
  auto iso = make(w);
  EXPECT_EQ(eval(*iso,
                 "/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/"
                 ".test(crypto.randomUUID())"),
            "true");
  EXPECT_EQ(eval(*iso,
                 "let r = []; for (let i = 0; i < 1000; i++) r.push(Math.random());"
                 " r.every(x => x >= 0 && x < 1) && new Set(r).size === 1000"),
            "true");
}

TEST_F(IsolateTest, DeepRecursionOnAFiberIsARangeError) {
  sim::World w(1);
  sim::Node& n = w.add_node("pop", "lhr");
  w.start();
  auto iso = make(w);
  std::string result;
  w.spawn(
      n, "js",
      [&](sim::Task&) {
        result =
            eval(*iso,
                 "function f(n) { return f(n + 1) + 1; }"
                 "try { f(0); 'no error' } catch (e) { e.constructor.name + ': ' + e.message }");
      },
      kJsStackBytes);
  w.run_until_idle();
  EXPECT_EQ(result, "RangeError: Maximum call stack size exceeded");
  EXPECT_FALSE(iso->dead());
}

TEST_F(IsolateTest, RunawayLoopExceedsTheCpuLimit) {
  sim::World w(1);
  IsolateConfig config;
  config.cpu_max = 20 * sim::kMillisecond;
  auto iso = make(w, config);
  RunOutcome outcome = RunOutcome::kOk;
  auto r = iso->eval("console.log('lost'); while (true) {}", &outcome);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(outcome, RunOutcome::kCpuExceeded);
  EXPECT_TRUE(iso->dead());
  EXPECT_TRUE(host_.lines.empty());  // a terminated run leaves no trace
}

TEST_F(IsolateTest, ModuleEvaluationHasTheStartupCpuLimit) {
  // ~20 ms of host CPU: far over a per-request limit of 1 us, well under the startup limit.
  const std::string work = "let x = 0; for (let i = 0; i < 2e7; i++) x = (x + i) % 7;";
  sim::World w(1);
  IsolateConfig config;
  config.cpu_max = sim::kMicrosecond;
  config.startup_cpu_max = 30 * sim::kSecond;
  auto iso = make(w, config);
  ModuleMap m{{"index.js", work + " export default {};"}};
  RunOutcome outcome = RunOutcome::kOk;
  sim::Status s = iso->load(m, "index.js", &outcome);
  EXPECT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(outcome, RunOutcome::kOk);
  // The same work in a later run gets the per-request limit.
  auto r = iso->eval(work, &outcome);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(outcome, RunOutcome::kCpuExceeded);
}

TEST_F(IsolateTest, AllocationBombExceedsTheHeapLimit) {
  sim::World w(1);
  IsolateConfig config;
  config.heap_bytes_max = 32u << 20;
  config.cpu_max = 10 * sim::kSecond;
  auto iso = make(w, config);
  RunOutcome outcome = RunOutcome::kOk;
  auto r =
      iso->eval("const keep = []; while (true) keep.push(new Array(100000).fill({}));", &outcome);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(outcome, RunOutcome::kHeapExceeded);
  EXPECT_TRUE(iso->dead());
  // The process goes on: a new isolate works.
  auto fresh = make(w, config);
  EXPECT_EQ(eval(*fresh, "'alive'"), "alive");
}

TEST_F(IsolateTest, SyntaxErrorNamesFileAndLine) {
  sim::World w(1);
  auto iso = make(w);
  ModuleMap m = {{"src/index.js", "import { x } from './lib/a.js';\nexport default {};\n"},
                 {"src/lib/a.js", "export const x = 1;\nlet y = ;\n"}};
  sim::Status s = iso->load(m, "src/index.js", nullptr);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "src/lib/a.js:2: SyntaxError: Unexpected token ';'");
}

TEST_F(IsolateTest, FailedImportNamesFileAndLine) {
  sim::World w(1);
  auto iso = make(w);
  ModuleMap m = {
      {"index.mjs", "// hello\nimport { x } from './missing.js';\nexport default {};\n"}};
  sim::Status s = iso->load(m, "index.mjs", nullptr);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message,
            "index.mjs:2: Error: No such module \"./missing.js\" (imported from index.mjs)");
  // A missing export is a link error, also with its place.
  auto iso2 = make(w);
  m = {{"index.js", "import { nope } from './a.mjs';\nexport default {};\n"},
       {"a.mjs", "export const x = 1;\n"}};
  s = iso2->load(m, "index.js", nullptr);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message,
            "index.js:1: SyntaxError: The requested module './a.mjs' does not provide an export "
            "named 'nope'");
}

TEST_F(IsolateTest, ThrowAtTopLevelNamesFileAndLine) {
  sim::World w(1);
  auto iso = make(w);
  ModuleMap m = {{"index.js", "import { f } from './a.js';\nf();\nexport default {};\n"},
                 {"a.js", "export function f() {\n  throw new TypeError('boom');\n}\n"}};
  sim::Status s = iso->load(m, "index.js", nullptr);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "a.js:2: TypeError: boom");
  EXPECT_TRUE(host_.uncaught.empty());
}

TEST_F(IsolateTest, RelativeImportsAndBuiltInModules) {
  sim::World w(1);
  auto iso = make(w);
  ModuleMap m = {
      {"src/index.js",
       "import { greet } from './util/greet';\n"
       "import { DurableObject } from 'cloudflare:workers';\n"
       "import { NonRetryableError } from 'cloudflare:workflows';\n"
       "globalThis.out = greet('x') + (typeof DurableObject) + new NonRetryableError('n').name;\n"
       "export default {};\n"},
      {"src/util/greet.js",
       "import { suffix } from '../suffix.mjs';\n"
       "export const greet = (n) => 'hi ' + n + suffix;\n"},
      {"src/suffix.mjs", "export const suffix = '!';\n"}};
  sim::Status s = iso->load(m, "src/index.js", nullptr);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(eval(*iso, "out"), "hi x!functionNonRetryableError");
}

TEST_F(IsolateTest, TimersGoToTheHost) {
  sim::World w(1);
  auto iso = make(w);
  EXPECT_EQ(eval(*iso, "const a = setTimeout(() => console.log('fired'), 250); typeof a"),
            "number");
  ASSERT_EQ(host_.timers.size(), 1u);
  EXPECT_EQ(host_.timers[0].second, 250 * sim::kMillisecond);
  EXPECT_EQ(iso->fire_timer(host_.timers[0].first), RunOutcome::kOk);
  EXPECT_EQ(host_.lines, std::vector<std::string>{"log: fired"});
  EXPECT_EQ(iso->fire_timer(host_.timers[0].first), RunOutcome::kOk);  // once only
  EXPECT_EQ(host_.lines.size(), 1u);
}

TEST_F(IsolateTest, UnhandledRejectionsAreReported) {
  sim::World w(1);
  auto iso = make(w);
  eval(*iso,
       "Promise.reject(new Error('nobody')); const p = Promise.reject(1); p.catch(() => {});");
  EXPECT_EQ(host_.uncaught, std::vector<std::string>{"unhandledrejection: Error: nobody"});
}

// Cold start, host time: creating an isolate and its context (the prelude included) up to the
// end of a first run; disposal is reported apart. Min and median, since the host is shared.
TEST_F(IsolateTest, MeasureColdStart) {
  using Clock = std::chrono::steady_clock;  // lint: allow-wall-clock
  auto ms = [](Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
  };
  sim::World w(1);
  for (bool snapshot : {true, false}) {
    IsolateConfig config;
    config.use_snapshot = snapshot;
    make(w, config);  // warm up
    std::vector<double> start, dispose;
    for (int i = 0; i < 25; ++i) {
      const auto t0 = Clock::now();
      auto iso = make(w, config);
      ASSERT_EQ(eval(*iso, "1"), "1");
      const auto t1 = Clock::now();
      iso.reset();
      const auto t2 = Clock::now();
      start.push_back(ms(t0, t1));
      dispose.push_back(ms(t1, t2));
    }
    std::sort(start.begin(), start.end());
    std::sort(dispose.begin(), dispose.end());
    std::printf("cold start %s snapshot: min %.2f ms, median %.2f ms; dispose median %.2f ms\n",
                snapshot ? "with" : "without", start.front(), start[start.size() / 2],
                dispose[dispose.size() / 2]);
  }
}

// ---- Web API conformance (a first slice; the suite grows in platform/js/conformance) ----------

struct Case {
  const char* name;
  const char* source;
  const char* expected;
};

TEST_F(IsolateTest, WebApiConformance) {
  const Case cases[] = {
      {"url parts",
       "const u = new URL('HTTPS://User:pw@Example.COM:443/a/./b/../c?x=1&y=%20#frag');"
       "[u.href, u.protocol, u.username, u.host, u.port, u.pathname, u.search, u.hash,"
       " u.origin].join('|')",
       "https://User:pw@example.com/a/c?x=1&y=%20#frag|https:|User|example.com||/a/c|?x=1&y=%20|"
       "#frag|https://example.com"},
      {"url relative", "new URL('../d/e?q#h', 'http://h.test/a/b/c').href",
       "http://h.test/a/d/e?q#h"},
      {"url relative query", "new URL('?z=2', 'http://h.test/a/b?x=1').href",
       "http://h.test/a/b?z=2"},
      {"url scheme relative", "new URL('//o.test:8080/p', 'https://h.test/').href",
       "https://o.test:8080/p"},
      {"url encodes path", "new URL('http://h.test/a b/ü').pathname", "/a%20b/%C3%BC"},
      {"url invalid", "try { new URL('nope'); 'ok' } catch (e) { e.name }", "TypeError"},
      {"url canParse", "[URL.canParse('http://x'), URL.canParse('/x')].join()", "true,false"},
      {"url searchParams live",
       "const v = new URL('http://h.test/?a=1'); v.searchParams.append('b', 'x y'); v.href",
       "http://h.test/?a=1&b=x+y"},
      {"url non-special",
       "const m = new URL('mailto:someone@example.com'); m.pathname + '|' + m.origin",
       "someone@example.com|null"},
      {"search params",
       "const p = new URLSearchParams('a=1&b=2&a=3&c=%26+'); "
       "[p.get('a'), p.getAll('a').join('/'), p.get('c'), p.has('b'), p.size].join()",
       "1,1/3,& ,true,4"},
      {"search params sort",
       "const s = new URLSearchParams({z: '1', a: '2'}); s.sort(); s.toString()", "a=2&z=1"},
      {"headers",
       "const h = new Headers({'Content-Type': 'text/plain'}); h.append('X-A', '1'); "
       "h.append('x-a', '2');"
       "[h.get('content-type'), h.get('X-A'), [...h.keys()].join('+')].join('|')",
       "text/plain|1, 2|content-type+x-a"},
      {"headers invalid name", "try { new Headers({'a b': '1'}); 'ok' } catch (e) { e.name }",
       "TypeError"},
      {"text encoder",
       "const b = new TextEncoder().encode('héllo €'); b.length + ':' + new "
       "TextDecoder().decode(b)",
       "10:héllo €"},
      {"text decoder fatal",
       "try { new TextDecoder('utf-8', {fatal: true}).decode(new Uint8Array([0xff])); 'ok' }"
       " catch (e) { e.name }",
       "TypeError"},
      {"base64",
       "[btoa('hello'), atob('aGVsbG8='), atob(btoa('\\xff\\x00'))  === '\\xff\\x00'].join()",
       "aGVsbG8=,hello,true"},
      {"btoa rejects", "try { btoa('€'); 'ok' } catch (e) { e.name }", "InvalidCharacterError"},
      {"structuredClone",
       "const o = {m: new Map([[1, {d: new Date(5)}]]), a: [1, 2]}; o.self = o;"
       "const c = structuredClone(o); [c !== o, c.self === c, c.m.get(1).d.getTime(), "
       "c.a[1]].join()",
       "true,true,5,2"},
      {"structuredClone rejects functions",
       "try { structuredClone(() => 1); 'ok' } catch (e) { e.constructor.name }", "DOMException"},
      {"queueMicrotask order",
       "globalThis.order = []; queueMicrotask(() => order.push('micro')); order.push('sync');"
       " 'queued'",
       "queued"},
      {"microtasks ran", "order.join()", "sync,micro"},
      {"response basics",
       "const r = new Response('hi', {status: 201, headers: {'x-y': 'z'}});"
       "[r.status, r.ok, r.headers.get('x-y'), r.headers.get('content-type')].join()",
       "201,true,z,text/plain;charset=UTF-8"},
      {"response status range", "try { new Response('', {status: 99}); 'ok' } catch (e) { e.name }",
       "RangeError"},
      {"response json", "globalThis.rj = Response.json({a: 1}); rj.headers.get('content-type')",
       "application/json"},
      {"request basics",
       "const q = new Request('https://x.test/p', {method: 'post', body: 'abc'});"
       "[q.method, q.url, q.headers.get('content-type')].join()",
       "POST,https://x.test/p,text/plain;charset=UTF-8"},
      {"request get with body",
       "try { new Request('https://x.test', {body: 'x'}); 'ok' } catch (e) { e.name }",
       "TypeError"},
      {"redirect",
       "const rd = Response.redirect('https://x.test/a', 301); rd.status + ' ' + "
       "rd.headers.get('location')",
       "301 https://x.test/a"},
  };
  sim::World w(1);
  auto iso = make(w);
  for (const Case& c : cases) {
    EXPECT_EQ(eval(*iso, c.source), c.expected) << c.name;
  }
  // Bodies are read asynchronously.
  eval(*iso,
       "globalThis.got = []; rj.text().then(t => got.push(t));"
       "new Request('https://x.test', {method: 'PUT', body: new Uint8Array([104, 105])})"
       ".text().then(t => got.push(t));"
       "const once = new Response('z'); once.text().then(() => once.text())"
       ".catch(e => got.push(e.name));");
  EXPECT_EQ(eval(*iso, "got.join('|')"), "{\"a\":1}|hi|TypeError");
}

}  // namespace
}  // namespace js
