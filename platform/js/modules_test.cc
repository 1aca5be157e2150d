// Module types (Text, Data, JSON), dynamic import(), the built-in modules and env, at the level of
// js::Isolate.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "platform/js/engine.h"
#include "platform/js/isolate.h"
#include "sim/world.h"

namespace js {
namespace {

struct Host : IsolateHost {
  std::vector<std::string> lines;
  std::vector<std::string> responses;
  std::vector<std::string> uncaught;
  void on_console(std::string_view level, std::string_view text) override {
    lines.push_back(std::string(text));
  }
  void on_set_timer(std::uint64_t id, sim::Duration delay) override {}
  void on_clear_timer(std::uint64_t id) override {}
  void on_response(std::uint64_t invocation, HttpResponse response) override {
    responses.push_back(std::to_string(response.status) + " " + response.body);
  }
  // runtime/dispatcher.js's exception signal (runtime::SignalCode::kException).
  void on_signal(std::uint64_t invocation, Signal signal) override {
    if (signal.code == 1) responses.push_back("exception " + signal.text);
  }
  void on_uncaught(std::string_view where, std::string message, std::string stack) override {
    uncaught.push_back(std::string(where) + ": " + message);
  }
};

class ModulesTest : public ::testing::Test {
 protected:
  void SetUp() override { Engine::init(); }
  std::unique_ptr<Isolate> make(sim::World& w) {
    return Isolate::create(w, IsolateConfig{}, w.rng("js"), &host_);
  }
  std::string eval(Isolate& iso, std::string_view source) {
    auto r = iso.eval(source);
    return r.ok() ? r.value() : "error: " + r.error().message;
  }
  std::string load_error(const ModuleMap& m, std::string_view main, const Env& env = {}) {
    sim::World w(1);
    auto iso = make(w);
    sim::Status s = iso->load(m, main, nullptr, env);
    return s.ok() ? "ok" : s.error().message;
  }
  Host host_;
};

TEST_F(ModulesTest, TextDataAndJsonModules) {
  sim::World w(1);
  auto iso = make(w);
  ModuleMap m = {
      {"src/index.js",
       "import page from './static/page.html';\n"
       "import notes from './notes.txt';\n"
       "import blob from './blob.bin';\n"
       "import data from '../data.json';\n"
       "const bytes = new Uint8Array(blob);\n"
       "globalThis.out = [typeof page, page.length, page.trim(), notes,\n"
       "  blob instanceof ArrayBuffer, blob.byteLength, bytes[0], bytes[1], bytes[3],\n"
       "  data.name, data.list.join('+'), data.nested.ok].join('|');\n"
       "export default {};\n"},
      {"src/static/page.html", "<h1>héllo</h1>\n"},
      {"src/notes.txt", "line 1\nline 2"},
      {"src/blob.bin", std::string("\x00\xff\x10\x80", 4)},
      {"data.json", R"({"name": "edge", "list": [1, 2, 3], "nested": {"ok": true}})"},
  };
  sim::Status s = iso->load(m, "src/index.js", nullptr);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(eval(*iso, "out"),
            "string|15|<h1>héllo</h1>|line 1\nline 2|true|4|0|255|128|edge|1+2+3|true");
}

TEST_F(ModulesTest, DataModulesAreSharedAndTextModulesHaveOnlyADefault) {
  sim::World w(1);
  auto iso = make(w);
  ModuleMap m = {
      {"index.js",
       "import a from './x.bin';\nimport * as ns from './t.txt';\nimport { b } from './b.js';\n"
       "globalThis.out = (a === b) + ' ' + Object.keys(ns).join();\nexport default {};\n"},
      {"b.js", "import b from './x.bin';\nexport { b };\n"},
      {"x.bin", "xyz"},
      {"t.txt", "t"},
  };
  ASSERT_TRUE(iso->load(m, "index.js", nullptr).ok());
  EXPECT_EQ(eval(*iso, "out"), "true default");
  // A named import of a text module is a link error that names the place.
  EXPECT_EQ(load_error({{"index.js", "import { x } from './t.txt';\nexport default {};\n"},
                        {"t.txt", "t"}},
                       "index.js"),
            "index.js:1: SyntaxError: The requested module './t.txt' does not provide an export "
            "named 'x'");
}

TEST_F(ModulesTest, JsonSyntaxErrorNamesFileAndLine) {
  EXPECT_EQ(load_error({{"index.js", "import c from './conf.json';\nexport default {};\n"},
                        {"conf.json", "{\n  \"a\": 1,\n  \"b\": }\n"}},
                       "index.js"),
            "conf.json:3: SyntaxError: Unexpected token } in JSON at position 19");
}

TEST_F(ModulesTest, DynamicImportOfModulesInTheMap) {
  sim::World w(1);
  auto iso = make(w);
  ModuleMap m = {
      {"src/index.js",
       "const lazy = await import('./lazy.js');\n"
       "const text = (await import('./t.txt')).default;\n"
       "const {WorkerEntrypoint} = await import('cloudflare:workers');\n"
       "globalThis.out = lazy.value + ' ' + text + ' ' + typeof WorkerEntrypoint;\n"
       "globalThis.later = (p) => import(p);\n"
       "export default {};\n"},
      {"src/lazy.js", "import { part } from './part.mjs';\nexport const value = 'lazy' + part;\n"},
      {"src/part.mjs", "export const part = '!';\n"},
      {"src/t.txt", "text"},
      {"src/bad.js", "export const x = ;\n"},
      {"src/throws.js", "throw new RangeError('at import');\n"},
  };
  sim::Status s = iso->load(m, "src/index.js", nullptr);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(eval(*iso, "out"), "lazy! text function");
  // Later imports, from a run that is not the load: the same module instances, and errors as
  // rejections that say what and where.
  eval(*iso,
       "globalThis.r = [];\n"
       "Promise.all([\n"
       "  import('./src/lazy.js').then((m) => { r[0] = 'same:' + (m.value === 'lazy!'); }),\n"
       "  import('./src/nope.js').catch((e) => { r[1] = e.message; }),\n"
       "  import('./src/bad.js').catch((e) => { r[2] = e.message; }),\n"
       "  import('./src/throws.js').catch((e) => { r[3] = e.name + ': ' + e.message; }),\n"
       "]);");
  EXPECT_EQ(eval(*iso, "r.join('\\n')"),
            "same:true\n"
            "No such module \"./src/nope.js\" (imported from eval.js)\n"
            "src/bad.js:1: SyntaxError: Unexpected token ';'\n"
            "RangeError: at import");
  EXPECT_TRUE(host_.uncaught.empty());
}

TEST_F(ModulesTest, BuiltInModulesAndEnv) {
  sim::World w(1);
  auto iso = make(w);
  ModuleMap m = {
      {"index.js",
       "import { env, WorkerEntrypoint, DurableObject, WorkflowEntrypoint, RpcTarget }\n"
       "  from 'cloudflare:workers';\n"
       "import { NonRetryableError } from 'cloudflare:workflows';\n"
       "const top = env.GREETING;\n"  // env is ready at top level
       "class E extends WorkerEntrypoint {}\n"
       "class D extends DurableObject {}\n"
       "class W extends WorkflowEntrypoint {}\n"
       "const e = new E('ctx', 'env'), d = new D('state', env), wf = new W('c', 'e');\n"
       "const n = new NonRetryableError('stop');\n"
       "const n2 = new NonRetryableError('stop', 'Custom');\n"
       "globalThis.out = [top, env.CONFIG.limit, env.CONFIG.regions.join(), e.ctx, e.env,\n"
       "  d.ctx, d.env === env, wf.ctx + wf.env, typeof RpcTarget, n instanceof Error,\n"
       "  n.name, n.message, n2.name, Object.keys(env).join()].join('|');\n"
       "export default {};\n"},
  };
  Env env = {{"GREETING", BindingValue::text("hi")},
             {"CONFIG", BindingValue::json(R"({"limit": 5, "regions": ["eu", "us"]})")}};
  sim::Status s = iso->load(m, "index.js", nullptr, env);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(eval(*iso, "out"),
            "hi|5|eu,us|ctx|env|state|true|ce|function|true|NonRetryableError|stop|Custom|"
            "CONFIG,GREETING");
}

TEST_F(ModulesTest, BadJsonVarFailsTheLoad) {
  EXPECT_EQ(load_error({{"index.js", "export default {};\n"}}, "index.js",
                       {{"BROKEN", BindingValue::json("{nope")}}),
            "TypeError: env.BROKEN: invalid JSON (Unexpected token n in JSON at position 1)");
}

TEST_F(ModulesTest, UnknownBuiltInIsAFailedImport) {
  EXPECT_EQ(
      load_error({{"index.js", "import { connect } from 'cloudflare:sockets';\n"}}, "index.js"),
      "index.js:1: Error: No such module \"cloudflare:sockets\" (imported from index.js)");
}

TEST_F(ModulesTest, NamedEntrypointsAndClassHandlers) {
  sim::World w(1);
  auto iso = make(w);
  ModuleMap m = {
      {"index.js",
       "import { WorkerEntrypoint } from 'cloudflare:workers';\n"
       "export default class extends WorkerEntrypoint {\n"
       "  fetch(request) { return new Response('class ' + this.env.V + ' ' + request.method +\n"
       "      ' ' + typeof this.ctx.waitUntil + ' ' + arguments.length); }\n"
       "}\n"
       "export class Admin extends WorkerEntrypoint {\n"
       "  async fetch(request) { return new Response('admin ' + new URL(request.url).pathname); }\n"
       "}\n"
       "export const api = { fetch(request, env, ctx) { return new Response('api ' + env.V); } };\n"
       "export class Plain { fetch() { return new Response('plain'); } }\n"
       "export const fn = Object.assign(() => {}, {fetch: () => new Response('fn')});\n"},
  };
  ASSERT_TRUE(iso->load(m, "index.js", nullptr, {{"V", BindingValue::text("v1")}}).ok());
  // The runtime's "fetch" entry point (runtime/dispatcher.js): (invocation, entrypoint, method,
  // url, headers, body).
  auto fetch = [&](double id, const char* entrypoint) {
    return iso->dispatch("fetch", {Arg::number(id), Arg::string(entrypoint), Arg::string("GET"),
                                   Arg::string("https://x.test/p"), Arg::list({}), Arg::null()});
  };
  EXPECT_EQ(fetch(1, "default"), RunOutcome::kOk);
  EXPECT_EQ(fetch(2, "Admin"), RunOutcome::kOk);
  EXPECT_EQ(fetch(3, "api"), RunOutcome::kOk);
  EXPECT_EQ(fetch(4, "missing"), RunOutcome::kOk);
  EXPECT_EQ(fetch(5, "Plain"), RunOutcome::kOk);
  EXPECT_EQ(fetch(6, "fn"), RunOutcome::kOk);  // a function with a fetch() property
  EXPECT_EQ(host_.responses,
            (std::vector<std::string>{
                "200 class v1 GET function 1", "200 admin /p", "200 api v1",
                "exception Error: Worker has no entrypoint named \"missing\".",
                "exception TypeError: Entrypoint \"Plain\" is a class that does not extend "
                "WorkerEntrypoint.",
                "200 fn"}));
}

}  // namespace
}  // namespace js
