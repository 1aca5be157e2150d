// KV through JS: Worker code at PoPs uses env.FLAGS (get/put/delete/list); the KV service
// propagates writes with a lag, so a far PoP reads stale values inside the lag window.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "platform/bindings/binding_table.h"
#include "platform/bindings/kv_binding.h"
#include "platform/engine_setup.h"
#include "platform/js/engine.h"
#include "sim/world.h"

namespace bindings {
namespace {

using namespace ::runtime;  // NOLINT: a test of several layers

const char kFlagsScript[] = R"js(
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const key = url.searchParams.get('key') ?? 'flag';
    try {
      switch (url.pathname) {
        case '/put':
          await env.FLAGS.put(key, url.searchParams.get('value'), {metadata: {by: 'test'}});
          return new Response('ok');
        case '/get':
          return new Response(String(await env.FLAGS.get(key)));
        case '/json': {
          await env.FLAGS.put(key, JSON.stringify({on: true}));
          const v = await env.FLAGS.get(key, 'json');
          const m = await env.FLAGS.getWithMetadata(key, {type: 'arrayBuffer'});
          return new Response(`${v.on} ${m.value.byteLength} ${JSON.stringify(m.metadata)}`);
        }
        case '/list': {
          const r = await env.FLAGS.list({prefix: url.searchParams.get('prefix') ?? ''});
          return new Response(r.keys.map((k) => k.name).join(',') + ' ' + r.list_complete);
        }
        case '/delete':
          await env.FLAGS.delete(key);
          return new Response('deleted');
      }
    } catch (e) {
      return new Response(e.message, {status: 500});
    }
    return new Response('?', {status: 404});
  },
};
)js";

struct KvWorld {
  sim::World world{11};
  std::unique_ptr<services::KvService> kv;
  std::vector<sim::Node*> pops;
  std::vector<std::unique_ptr<BindingTable>> services;
  std::vector<std::unique_ptr<runtime::Worker>> workers;

  explicit KvWorld(services::KvConfig config = {}) {
    platform::init_engine();
    pops = {&world.add_node("pop-lhr", "lhr"), &world.add_node("pop-sin", "sin")};
    config.propagation_lag = services::KvLagDistribution::fixed(30 * sim::kSecond);
    kv = std::make_unique<services::KvService>(world, config);
    for (sim::Node* p : pops) {
      auto table = std::make_unique<BindingTable>();
      table->add("FLAGS", std::make_unique<KvBinding>("flags-ns", kv->attach(*p)));
      services.push_back(std::move(table));
      runtime::WorkerConfig c;
      c.name = "app";
      c.modules = {{"index.js", kFlagsScript}};
      c.main = "index.js";
      c.env = services.back()->env();
      c.services = services.back().get();
      workers.push_back(std::make_unique<runtime::Worker>(world, *p, c));
    }
    world.start();
  }
  // GETs `paths` one after another at PoP `i`, without letting time run on in between (the world
  // runs until idle only after the last one, so propagation does not catch up meanwhile).
  std::vector<std::string> seq(std::size_t i, std::vector<std::string> paths) {
    std::vector<std::string> out;
    world.spawn(*pops[i], "client", [&](sim::Task& task) {
      for (const auto& path : paths) {
        runtime::HttpRequest req;
        req.url = "https://app.test" + path;
        auto r = workers[i]->fetch(task, req);
        out.push_back(r.ok() ? std::to_string(r->status) + " " + r->body
                             : "error " + r.error().message);
      }
    });
    world.run_until_idle();
    return out;
  }
  // GET `path` at PoP `i` at virtual time `at` (or now); returns "status body".
  std::string get(std::size_t i, const std::string& path, sim::Time at = 0) {
    std::string out;
    world.spawn(*pops[i], "client", [&](sim::Task& task) {
      if (at > task.now()) task.sleep_until(at);
      runtime::HttpRequest req;
      req.url = "https://app.test" + path;
      auto r = workers[i]->fetch(task, req);
      out = r.ok() ? std::to_string(r->status) + " " + r->body : "error " + r.error().message;
    });
    world.run_until_idle();
    return out;
  }
};

TEST(KvEndToEnd, FarPopReadsStaleInsideTheLagWindowThenConverges) {
  KvWorld w;
  EXPECT_EQ(w.get(1, "/get"), "200 null");  // sin caches the absence (negative lookup)
  EXPECT_EQ(w.get(0, "/put?value=on"), "200 ok");
  EXPECT_EQ(w.get(0, "/get"), "200 on");    // the writer's PoP reads its write at once
  EXPECT_EQ(w.get(1, "/get"), "200 null");  // stale at sin: lag and its cached absence
  // After the lag and the cache TTL (60 s from the first read), sin converges.
  EXPECT_EQ(w.get(1, "/get", 2 * sim::kMinute), "200 on");
}

TEST(KvEndToEnd, ValuesMetadataListAndDelete) {
  KvWorld w;
  EXPECT_EQ(w.get(0, "/json?key=cfg"), "200 true 11 null");
  EXPECT_EQ(w.get(0, "/put?key=a1&value=x", 2 * sim::kSecond), "200 ok");
  EXPECT_EQ(w.get(0, "/put?key=a2&value=y", 3 * sim::kSecond), "200 ok");
  EXPECT_EQ(w.get(0, "/list?prefix=a", 4 * sim::kSecond), "200 a1,a2 true");
  EXPECT_EQ(w.get(0, "/delete?key=a1", 5 * sim::kSecond), "200 deleted");
  EXPECT_EQ(w.get(0, "/get?key=a1"), "200 null");
}

TEST(KvEndToEnd, OneWritePerSecondPerKey) {
  KvWorld w;
  auto out = w.seq(0, {"/put?value=1", "/put?value=2"});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], "200 ok");
  EXPECT_EQ(out[1].substr(0, 4), "500 ") << out[1];
  EXPECT_NE(out[1].find("429"), std::string::npos) << out[1];
}

TEST(KvEndToEnd, WithoutLocalReadYourWritesTheWriterReadsStale) {
  services::KvConfig c;
  c.local_read_your_writes = false;
  KvWorld w(c);
  EXPECT_EQ(w.seq(0, {"/put?value=on", "/get"}), (std::vector<std::string>{"200 ok", "200 null"}));
}

}  // namespace
}  // namespace bindings
