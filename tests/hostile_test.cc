// Hostile and broken input (needs the platform): a Worker that misbehaves costs its own request,
// never the simulator; the run stays deterministic (its trace replays); traces are untrusted.
//
// Each Worker case is a scenario folder written to a temp directory: one client sends a single
// hostile request at t=0, another sends five ordinary requests from t=12s. The properties say that
// every ordinary request was answered 2xx and that the hostile one was answered (2xx or 5xx, not
// left to time out); the hostile request's error must name what happened.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "scenarios/runner.h"
#include "sim/events.h"
#include "traces/trace_file.h"
#include "traces/writer.h"

namespace scenarios {
namespace {

namespace fs = std::filesystem;

class TempFolder {
 public:
  explicit TempFolder(const std::string& name)
      : path_(fs::temp_directory_path() /
              ("edgesim-hostile-" + std::to_string(::getpid()) + "-" + name)) {
    fs::remove_all(path_);
    fs::create_directories(path_ / "src");
  }
  ~TempFolder() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }
  void write(const std::string& rel, const std::string& text) const {
    std::ofstream(path_ / rel, std::ios::binary) << text;
  }

 private:
  fs::path path_;
};

// The js.exception and js.uncaught texts of a run.
class ErrorTexts : public sim::EventSink {
 public:
  void on_event(const sim::TraceEvent& e) override {
    if (e.body->has_js_exception()) texts.push_back(e.body->js_exception().text());
    if (e.body->has_js_uncaught()) texts.push_back(e.body->js_uncaught().error());
    if (e.body->has_js_limit()) texts.push_back(e.body->js_limit().text());
  }
  bool mentions(const std::string& part) const {
    for (const std::string& t : texts) {
      if (t.find(part) != std::string::npos) return true;
    }
    return false;
  }
  std::string all() const {
    std::string out;
    for (const std::string& t : texts) out += t.substr(0, 300) + "\n";
    return out;
  }
  std::vector<std::string> texts;
};

void write_worker_case(const TempFolder& dir, const std::string& evil) {
  dir.write("wrangler.jsonc", R"({ "name": "h", "main": "src/index.js",
  "compatibility_date": "2025-04-01",
  "durable_objects": { "bindings": [{ "name": "OBJ", "class_name": "Obj" }] },
  "migrations": [{ "tag": "v1", "new_sqlite_classes": ["Obj"] }] })");
  // The ordinary path uses only what it captured before any request ran.
  dir.write("src/index.js", R"(import { DurableObject } from "cloudflare:workers";
const R = Response;
export class Obj extends DurableObject {
  async hello() { return "hi"; }
}
async function evil(request, env, ctx) {
)" + evil + R"(
}
export default {
  async fetch(request, env, ctx) {
    if (request.url.endsWith("/evil")) return evil(request, env, ctx);
    return new R("ok " + (await env.OBJ.getByName("x").hello()));
  },
};
)");
  dir.write("scenario.textproto", R"(name: "hostile"
duration: "20s"
topology {
  pop { name: "pop-lhr" location: "lhr" }
  do_host { name: "host-lhr" location: "lhr" }
  do_storage { name: "store-fra" location: "fra" }
}
worker { config: "wrangler.jsonc" }
load { name: "evil" location: "lhr" requests_max: 1 request { path: "/evil" } }
load { name: "good" location: "lhr" start: "12s" think_time: "100ms" requests_max: 5
       request { path: "/" } }
property { name: "good" checker: "http_status" params { key: "load" value: "good" } }
property { name: "evil-answered" checker: "http_status"
           params { key: "load" value: "evil" } params { key: "allow" value: "2xx,5xx" } }
)");
}

// Runs the case with a trace, checks that the simulator survived and only the hostile request
// failed, that the error says `expect`, and that the trace replays identically.
void expect_survives(const std::string& name, const std::string& evil, const std::string& expect) {
  SCOPED_TRACE(name);
  TempFolder dir(name);
  write_worker_case(dir, evil);
  const std::string trace = (dir.path() / "run.trace").string();
  ErrorTexts errors;
  RunOutcome o = run_scenario({dir.path().string(), 1, "", trace}, {&errors});
  ASSERT_EQ(o.exit_code, kExitOk) << o.error << "\n" << errors.all();
  for (const auto& p : o.properties) {
    EXPECT_EQ(p.verdict, PropertyResult::Verdict::kOk) << p.name << ": " << p.explanation;
  }
  // "" where nothing must fail at all (a setter on a prototype that the platform never calls).
  if (expect.empty()) {
    EXPECT_TRUE(errors.texts.empty()) << errors.all();
  } else {
    EXPECT_TRUE(errors.mentions(expect)) << "no error mentions '" << expect << "':\n"
                                         << errors.all();
  }
  ReplayOutcome r = replay_trace(trace);
  EXPECT_EQ(r.exit_code, kExitOk) << r.report;
}

TEST(HostileWorker, ThrownValuesThatFightBack) {
  // The dispatcher's own catch block read these and threw: no answer, and the next request
  // failed with "Invalid URL".
  expect_survives("stack-getter",
                  "const e = new Error('x');\n"
                  "Object.defineProperty(e, 'stack', { get() { throw new Error('no'); } });\n"
                  "throw e;",
                  "Error: x");
  expect_survives("proxy",
                  "throw new Proxy({}, { get() { throw new Error('trap'); },\n"
                  "  getPrototypeOf() { throw new Error('proto trap'); } });",
                  "Uncaught");
  expect_survives("proxy-reject",
                  "return Promise.reject(new Proxy(new Error('p'), {\n"
                  "  get() { throw new Error('trap'); } }));",
                  "Uncaught");
}

TEST(HostileWorker, BlockingAndCodeGenerationFailAsInTheRuntime) {
  // Atomics.wait hung the whole run; WebAssembly compiled from bytes at request time.
  expect_survives("atomics",
                  "Atomics.wait(new Int32Array(new SharedArrayBuffer(16)), 0, 0);\n"
                  "return new Response('woke');",
                  "TypeError: Atomics.wait cannot be called in this context");
  expect_survives(
      "wasm",
      "new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));\n"
      "return new Response('compiled');",
      "CompileError: WebAssembly.Module(): Wasm code generation disallowed by embedder");
}

TEST(HostileWorker, TimersCannotStarveVirtualTime) {
  // A timer re-armed with no delay in waitUntil ended the whole run after 50 M events.
  expect_survives("rearm-wait-until",
                  "ctx.waitUntil(new Promise(() => { function f() { setTimeout(f, 0); } f(); }));\n"
                  "return new Response('armed');",
                  "timers fired 100000 times at one instant");
  expect_survives("rearm-before-answer",
                  "function f() { setTimeout(f, 0); }\nf();\nreturn new Promise(() => {});",
                  "timers fired 100000 times at one instant");
  expect_survives("many-timers", "for (let i = 0; i < 2e6; i++) setTimeout(() => {}, 1e6);",
                  "QuotaExceededError: You have exceeded the number of active timeouts");
}

TEST(HostileWorker, LoopsRecursionAndAllocation) {
  expect_survives("loop", "for (;;) {}", "worker exceeded CPU limit");
  expect_survives("recursion", "function r() { return r() + 1; }\nr();",
                  "RangeError: Maximum call stack size exceeded");
  expect_survives("big-buffer", "new ArrayBuffer(2 ** 40);", "RangeError");
  expect_survives("big-string", "'x'.repeat(2 ** 30);", "RangeError: Invalid string length");
  // One allocation of 1 GiB past the heap limit was a fatal OOM of the whole process.
  expect_survives("big-array", "new Array(2 ** 25).fill(1.5);", "worker exceeded memory limit");
}

// A handler whose promise never settles, with nothing in flight that could settle it, is answered
// at once, as the runtime does (it waited for the client's timeout).
TEST(HostileWorker, AHandlerThatCanNeverAnswerIsCanceled) {
  const std::string hung = "your Worker's code had hung and would never generate a response";
  expect_survives("never", "return new Promise(() => {});", hung);
  expect_survives("never-after-io",
                  "await env.OBJ.getByName('y').hello();\nawait new Promise(() => {});", hung);
  expect_survives("thenable", "return { then() {} };", hung);
}

TEST(HostileWorker, OverwrittenGlobals) {
  // The platform's own code captured what it uses before the Worker ran.
  expect_survives("globals",
                  "globalThis.Promise = function () { throw new Error('no promise'); };\n"
                  "globalThis.Response = null;\nglobalThis.JSON = null;\n"
                  "return new Proxy({}, {});",
                  "did not resolve to 'Response'");
  // Setters and getters on prototypes: the platform's code appends and reads with define
  // semantics and null-prototype defaults (the next requests failed with "Invalid URL").
  expect_survives("array-index-setter",
                  "Object.defineProperty(Array.prototype, 0, {\n"
                  "  set() { throw new Error('setter ran'); }, configurable: true });\n"
                  "return new Response('armed');",
                  "");
  expect_survives("object-accessors",
                  "for (const k of ['id', 'body', 'name', 'status', 'headers', 'statusText']) {\n"
                  "  Object.defineProperty(Object.prototype, k, { configurable: true,\n"
                  "    get() { throw new Error('getter ran'); },\n"
                  "    set() { throw new Error('setter ran'); } });\n"
                  "}\nreturn new Response('armed');",
                  "");
}

// Hostility that breaks the Worker itself, in workerd too. A top-level infinite loop: the module
// never loads, which the loader finds before the run (exit 2 naming the file, as a deploy would
// fail). A `then` on Object.prototype: every object becomes a thenable, so a handler's Response
// resolves to something else (500s). The simulator runs on and the trace replays.
TEST(HostileWorker, AWorkerThatBreaksItselfOnlyFailsItsOwnRequests) {
  {
    TempFolder dir("top-level-loop");
    write_worker_case(dir, "return new Response('x');");
    std::ifstream in(dir.path() / "src/index.js");
    std::string js(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>{});
    dir.write("src/index.js", js + "for (;;) {}\n");
    RunOutcome o = run_scenario({dir.path().string(), 1});
    EXPECT_EQ(o.exit_code, kExitBadInput) << o.error;
    EXPECT_NE(o.error.find("src/index.js: loading the Worker exceeded CPU limit"),
              std::string::npos)
        << o.error;
  }
  TempFolder dir("then");
  write_worker_case(dir, "return new Response('x');");
  std::ifstream in(dir.path() / "src/index.js");
  std::string js(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>{});
  dir.write("src/index.js", js + "Object.prototype.then = function (resolve) { resolve(42); };\n");
  const std::string trace = (dir.path() / "run.trace").string();
  ErrorTexts errors;
  RunOutcome o = run_scenario({dir.path().string(), 1, "", trace}, {&errors});
  EXPECT_EQ(o.exit_code, kExitViolated) << o.error;
  EXPECT_EQ(find_property(o, "evil-answered")->verdict, PropertyResult::Verdict::kOk)
      << find_property(o, "evil-answered")->explanation;
  EXPECT_TRUE(errors.mentions("did not resolve to 'Response'")) << errors.all();
  ReplayOutcome r = replay_trace(trace);
  EXPECT_NE(r.report.find("identical"), std::string::npos) << r.report;
}

// A Durable Object waiting on a timer when the run ends: the world's teardown emitted events to
// the finished trace (a segfault with --trace, and a replay that diverged).
TEST(HostileWorker, AnObjectWaitingAtTheEndOfTheRunReplays) {
  TempFolder dir("teardown");
  write_worker_case(dir, "return new Response(String(await env.OBJ.getByName('t').hello()));");
  dir.write("src/index.js", R"(import { DurableObject } from "cloudflare:workers";
export class Obj extends DurableObject {
  async hello() { await new Promise((r) => setTimeout(r, 100)); return 1; }
}
export default {
  async fetch(request, env) { return new Response(String(await env.OBJ.getByName("x").hello())); },
};
)");
  const std::string trace = (dir.path() / "run.trace").string();
  for (std::uint64_t seed : {1, 2, 3}) {
    RunOutcome o = run_scenario({dir.path().string(), seed, "", trace});
    ASSERT_NE(o.exit_code, kExitBadInput) << o.error;
    ASSERT_NE(o.exit_code, kExitInternal) << o.error;
    ReplayOutcome r = replay_trace(trace);
    EXPECT_NE(r.report.find("identical"), std::string::npos) << "seed " << seed << ": " << r.report;
  }
}

// A client script that passes a wrong type to a binding ("soon" as a timeout) ended the whole run
// as an internal error (a JSON accessor threw in C++); now the call rejects with a TypeError.
TEST(HostileScenario, AWrongTypeInABindingCallIsATypeError) {
  TempFolder dir("chat");
  fs::copy(EDGESIM_SUITE_DIR "/do-chat", dir.path(),
           fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  std::ifstream in(dir.path() / "clients/member.js");
  std::string script(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>{});
  const std::string call = "ws.receive()";
  ASSERT_NE(script.find(call), std::string::npos);
  script.replace(script.find(call), call.size(), "ws.receive(\"soon\")");
  dir.write("clients/member.js", script);
  ErrorTexts errors;
  RunOutcome o = run_scenario({dir.path().string(), 1}, {&errors});
  EXPECT_NE(o.exit_code, kExitInternal) << o.error;
  EXPECT_NE(o.exit_code, kExitBadInput) << o.error;
  EXPECT_TRUE(errors.mentions("TypeError: wsReceive(): an argument has the wrong type"))
      << errors.all();
}

// A JS model whose step() exceeds its CPU limit aborted the process after the whole run; now the
// run is bad input naming the model's file and function.
TEST(HostileScenario, AModelPastItsCpuLimitIsBadInput) {
  TempFolder dir("model");
  write_worker_case(dir, "return new Response('x');");
  dir.write("model.js",
            "export function init() { return 0; }\n"
            "export function step(s, op) { for (;;) {} }\n");
  std::ifstream in(dir.path() / "scenario.textproto");
  std::string spec(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>{});
  spec.replace(spec.find("request { path: \"/\" }"), 21,
               "request { path: \"/\" record { kind: \"read\" object: \"c\" } }");
  spec += "property { name: \"lin\" checker: \"linearizability\" model: \"js:model.js\" }\n";
  dir.write("scenario.textproto", spec);
  RunOutcome o = run_scenario({dir.path().string(), 1});
  EXPECT_EQ(o.exit_code, kExitBadInput) << o.error;
  EXPECT_NE(o.error.find("model.js: step(): exceeded the model's CPU or memory limit"),
            std::string::npos)
      << o.error;
}

// A trace is untrusted: replay runs only what it holds.
class HostileTrace : public ::testing::Test {
 protected:
  // Writes a trace with `header` and no events.
  std::string write(const traces::Header& header) {
    const std::string path = (dir_.path() / "hostile.trace").string();
    auto w = traces::TraceWriter::open(path, header, {.sync = false});
    EXPECT_TRUE(w.ok());
    EXPECT_TRUE((*w)->finish({}).ok());
    return path;
  }
  TempFolder dir_{"trace"};
};

TEST_F(HostileTrace, AHostPathAsTheScenarioIsNeverLoaded) {
  // A folder on the disk that is a valid scenario: the trace must not make edgesim run it.
  write_worker_case(dir_, "return new Response('x');");
  traces::Header h;
  h.set_scenario_name(dir_.path().string());
  h.set_fault_plan("none");
  ReplayOutcome r = replay_trace(write(h));
  EXPECT_EQ(r.exit_code, kExitBadInput);
  EXPECT_NE(r.report.find("the trace holds no scenario files"), std::string::npos) << r.report;
}

TEST_F(HostileTrace, TheFaultsOptionIsNeverOpened) {
  // The header's "faults" option named a host file, which replay read (and echoed in errors).
  write_worker_case(dir_, "return new Response('x');");
  traces::Header h;
  h.set_scenario_name("hostile");
  for (const char* rel : {"scenario.textproto", "wrangler.jsonc", "src/index.js"}) {
    std::ifstream in(dir_.path() / rel);
    (*h.mutable_scenario_files())[rel] =
        std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  (*h.mutable_options())["faults"] = "/etc/passwd";
  h.set_fault_plan("/etc/passwd");
  ReplayOutcome r = replay_trace(write(h));
  EXPECT_EQ(r.exit_code, kExitBadInput);
  EXPECT_NE(r.report.find("the trace's fault plan:1"), std::string::npos) << r.report;
  EXPECT_EQ(r.report.find("root:"), std::string::npos) << r.report;
}

}  // namespace
}  // namespace scenarios
