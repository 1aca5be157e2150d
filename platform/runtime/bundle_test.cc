// Code as people ship it: a Hono app bundled by esbuild (at build time, see
// platform/CMakeLists.txt) and a plain multi-module Worker, each serving requests inside a
// simulation, deterministically.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "platform/engine_setup.h"
#include "platform/js/engine.h"
#include "platform/runtime/worker.h"
#include "sim/world.h"
#include "traces/hash_sink.h"

namespace runtime {
namespace {

// The esbuild output, or "" when the build could not make it.
std::string read_bundle() {
  std::ifstream in(EDGESIM_HONO_BUNDLE, std::ios::binary);
  if (!in) return "";
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Request {
  std::string method;
  std::string path;
  std::string body;
};

struct Served {
  std::vector<std::string> responses;  // "status [header=value ...] body"
  std::uint64_t trace_hash = 0;
  std::uint64_t trace_events = 0;
};

// Serves `requests` from one client, 5 ms apart, through `config` on one PoP.
Served serve(std::uint64_t seed, const WorkerConfig& config, const std::vector<Request>& requests,
             const std::vector<std::string>& show_headers) {
  sim::World w(seed);
  traces::HashSink hash;
  w.add_sink(&hash);
  sim::Node& pop = w.add_node("lhr", "lhr");
  sim::Node& client = w.add_node("client", "lhr");
  w.start();
  Worker worker(w, pop, config);
  Served out;
  w.spawn(client, "client", [&](sim::Task& task) {
    for (const Request& r : requests) {
      HttpRequest req;
      req.method = r.method;
      req.url = "https://app.test" + r.path;
      req.body = r.body;
      if (!r.body.empty()) req.headers.emplace_back("content-type", "text/plain");
      auto res = worker.fetch(task, req);
      if (!res.ok()) {
        out.responses.push_back("error " + res.error().to_string());
        continue;
      }
      std::string line = std::to_string(res->status);
      for (const auto& h : show_headers) line += " " + h + "=" + res->header(h);
      out.responses.push_back(line + " " + res->body);
      task.sleep(5 * sim::kMillisecond);
    }
  });
  w.run_until_idle();
  out.trace_hash = hash.value();
  out.trace_events = hash.count();
  return out;
}

class BundleTest : public ::testing::Test {
 protected:
  void SetUp() override { platform::init_engine(); }
};

TEST_F(BundleTest, HonoAppBundledByEsbuildServesItsRoutes) {
  const std::string bundle = read_bundle();
  ASSERT_FALSE(bundle.empty())
      << "the esbuild bundle of platform/testdata/hono_app is missing at " EDGESIM_HONO_BUNDLE
         ": run scripts/npm_deps.sh, then re-run cmake and build platform_tests";
  WorkerConfig c;
  c.name = "hono";
  c.modules = {{"index.js", bundle}};
  c.main = "index.js";
  c.env = {{"GREETING", BindingValue::text("bonjour")}};
  const std::vector<Request> requests = {
      {"GET", "/", ""},
      {"GET", "/users/42?tag=a&tag=b", ""},
      {"POST", "/echo", "ping pong"},
      {"GET", "/env", ""},
      {"GET", "/boom", ""},
      {"GET", "/nowhere", ""},
      {"DELETE", "/users/1", ""},
  };
  const Served a = serve(11, c, requests, {"content-type", "x-powered-by"});
  EXPECT_EQ(a.responses,
            (std::vector<std::string>{
                // c.text() with no headers set yet is a plain new Response(text).
                "200 content-type=text/plain;charset=UTF-8 x-powered-by=hono-on-edgesim Hello from "
                "Hono!",
                "200 content-type=application/json x-powered-by=hono-on-edgesim "
                R"({"id":42,"name":"user-42","tags":["a","b"]})",
                "200 content-type=application/json x-powered-by=hono-on-edgesim "
                R"({"length":9,"body":"ping pong","type":"text/plain"})",
                "200 content-type=text/plain;charset=UTF-8 x-powered-by=hono-on-edgesim "
                "greeting=bonjour",
                "500 content-type=text/plain; charset=UTF-8 x-powered-by=hono-on-edgesim caught: "
                "route failed",
                "404 content-type=application/json x-powered-by=hono-on-edgesim "
                R"({"error":"not found","path":"/nowhere"})",
                "404 content-type=application/json x-powered-by=hono-on-edgesim "
                R"({"error":"not found","path":"/users/1"})",
            }));
  // Same seed, same responses and the same trace; one cold start for all requests.
  const Served b = serve(11, c, requests, {"content-type", "x-powered-by"});
  EXPECT_EQ(a.responses, b.responses);
  EXPECT_EQ(a.trace_hash, b.trace_hash);
  EXPECT_EQ(a.trace_events, b.trace_events);
  EXPECT_GT(a.trace_events, 0u);
}

const char kPlainIndex[] = R"js(
import { render } from './lib/render.js';
import page from './static/page.html';
import robots from './static/robots.txt';
import config from './config.json';

let hits = 0;
export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    hits++;
    if (url.pathname === '/robots.txt') return new Response(robots);
    if (url.pathname === '/lazy') {
      const { shout } = await import('./lib/shout.js');
      return new Response(shout(env.NAME));
    }
    if (url.pathname === '/id') return new Response(crypto.randomUUID());
    return new Response(render(page, {name: env.NAME, hits, site: config.site}),
                        {headers: {'content-type': 'text/html;charset=UTF-8'}});
  },
};
)js";

TEST_F(BundleTest, PlainModuleWorkerServes) {
  WorkerConfig c;
  c.name = "plain";
  c.modules = {
      {"src/index.js", kPlainIndex},
      {"src/lib/render.js",
       "export const render = (t, vars) => t.replace(/{{(\\w+)}}/g, (_, k) => String(vars[k]));\n"},
      {"src/lib/shout.js", "export const shout = (s) => s.toUpperCase() + '!';\n"},
      {"src/static/page.html", "<p>{{name}} #{{hits}} on {{site}}</p>"},
      {"src/static/robots.txt", "User-agent: *\nDisallow:\n"},
      {"src/config.json", R"({"site": "edgesim"})"},
  };
  c.main = "src/index.js";
  c.env = {{"NAME", BindingValue::text("ada")}};
  const std::vector<Request> requests = {
      {"GET", "/", ""}, {"GET", "/robots.txt", ""}, {"GET", "/lazy", ""},
      {"GET", "/", ""}, {"GET", "/id", ""},
  };
  const Served a = serve(5, c, requests, {"content-type"});
  ASSERT_EQ(a.responses.size(), 5u);
  EXPECT_EQ(a.responses[0], "200 content-type=text/html;charset=UTF-8 <p>ada #1 on edgesim</p>");
  EXPECT_EQ(a.responses[1], "200 content-type=text/plain;charset=UTF-8 User-agent: *\nDisallow:\n");
  EXPECT_EQ(a.responses[2], "200 content-type=text/plain;charset=UTF-8 ADA!");
  EXPECT_EQ(a.responses[3], "200 content-type=text/html;charset=UTF-8 <p>ada #4 on edgesim</p>");
  const Served b = serve(5, c, requests, {"content-type"});
  EXPECT_EQ(a.responses, b.responses);
  EXPECT_EQ(a.trace_hash, b.trace_hash);
  const Served other = serve(6, c, requests, {"content-type"});
  EXPECT_NE(a.responses[4], other.responses[4]);  // randomUUID follows the seed
}

}  // namespace
}  // namespace runtime
