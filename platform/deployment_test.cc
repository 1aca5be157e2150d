#include "platform/deployment.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "platform/runtime/front_door.h"
#include "platform/runtime/origin.h"

namespace platform {
namespace {

// Every knob's default, as `edgesim knobs` prints it, reads back as the same value: what is
// printed can be pasted into a scenario.
TEST(Knobs, EveryDefaultReadsBackAsItself) {
  const PlatformConfig defaults;
  const std::vector<sim::KnobInfo> all = knobs().list(defaults);
  ASSERT_GT(all.size(), 60u);
  for (const sim::KnobInfo& k : all) {
    PlatformConfig c;
    sim::Status s = knobs().set(c, k.name, k.value);
    ASSERT_TRUE(s.ok()) << k.name << "=" << k.value << ": " << s.error().message;
    EXPECT_FALSE(k.doc.empty()) << k.name;
  }
  PlatformConfig c;
  ASSERT_TRUE(knobs().set(c, "do.lease_duration", "5s").ok());
  EXPECT_EQ(c.durable_objects.lease_duration, 5 * sim::kSecond);
  ASSERT_TRUE(knobs().set(c, "do.output_gate", "off").ok());
  EXPECT_FALSE(c.object_hosts.output_gate);
  ASSERT_TRUE(knobs().set(c, "kv.cache_ttl_min", "30s").ok());
  EXPECT_EQ(c.kv.cache_ttl_min, 30 * sim::kSecond);
  ASSERT_TRUE(knobs().set(c, "kv.propagation_lag", "exponential 1s 10s 1m").ok());
  EXPECT_EQ(c.kv.propagation_lag.kind, services::KvLagDistribution::Kind::kExponential);
  ASSERT_TRUE(knobs().set(c, "worker.cpu_max", "1s").ok());
  EXPECT_EQ(c.worker.isolate.cpu_max, sim::kSecond);
}

TEST(Knobs, BadNamesAndValuesAreNamed) {
  PlatformConfig c;
  sim::Status s = knobs().set(c, "do.lease_durations", "5s");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("did you mean \"do.lease_duration\""), std::string::npos)
      << s.error().message;
  s = knobs().set(c, "do.fencing", "maybe");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("do.fencing"), std::string::npos) << s.error().message;
  EXPECT_FALSE(knobs().set(c, "pop.cores", "0").ok());
  EXPECT_FALSE(knobs().set(c, "net.loss", "1.5").ok());
  EXPECT_FALSE(knobs().set(c, "kv.propagation_lag", "uniform 2s 1s").ok());
}

// A deployment built from a spec by hand: two PoPs, two Workers routed by hostname, and the
// defaults for a Durable Object namespace (hosts, storage, the directory).
TEST(Deployment, BuildsFromASpecAndRoutesByHostname) {
  sim::World world(3);
  DeploymentSpec spec;
  spec.pops = {{"pop-lhr", "lhr"}, {"pop-sin", "sin"}};
  WorkerSpec api;
  api.name = "api";
  api.modules = {{"api.js", "export default { fetch(r) { return new Response('api'); } };"}};
  api.main = "api.js";
  api.hostnames = {"api.test"};
  WorkerSpec site;
  site.name = "site";
  site.modules = {
      {"site.js",
       "import {DurableObject} from 'cloudflare:workers';\n"
       "export class Hits extends DurableObject {\n"
       "  async fetch() { const n = (await this.ctx.storage.get('n') ?? 0) + 1;\n"
       "    await this.ctx.storage.put('n', n); return new Response(String(n)); }\n"
       "}\n"
       "export default { fetch(r, env) { return env.HITS.getByName('x').fetch(r); } };"}};
  site.main = "site.js";
  site.hostnames = {"site.test"};
  site.durable_objects = {{"HITS", "Hits", ""}};
  spec.workers = {api, site};
  Deployment d(world, spec);
  for (const char* name :
       {"do-1", "do-2", "do-store-fra", "do-store-ams", "do-store-ord", "do-dir"}) {
    EXPECT_NE(world.find_node(name), nullptr) << name;
  }
  EXPECT_EQ(d.default_hostname(), "api.test");
  EXPECT_EQ(d.nearest_pop(*sim::find_location("cdg")), d.pop_named("pop-lhr"));
  sim::Node& client = world.add_node("client", "lhr");
  world.start();
  std::vector<std::string> bodies;
  world.spawn(client, "client", [&](sim::Task& task) {
    for (const char* url :
         {"https://site.test/", "https://api.test/", "https://SITE.test/", "https://other.test/"}) {
      runtime::HttpRequest r;
      r.url = url;
      auto reply = runtime::http_call(task, d.pop_named("pop-lhr"), r, 30 * sim::kSecond);
      ASSERT_TRUE(reply.ok()) << reply.error().message;
      bodies.push_back(reply->body);
    }
  });
  world.run_for(60 * sim::kSecond);
  // The site's counter, the api, the site again (hostnames ignore case), and the entry Worker
  // (api) for a host no Worker claims.
  EXPECT_EQ(bodies, (std::vector<std::string>{"1", "api", "2", "api"}));
  EXPECT_EQ(d.stats().at("do_activations"), 1u);
}

// Every isolate of a run draws its own randomness: two objects of one class on one host, and an
// object activated again after idle eviction, never repeat each other's crypto.randomUUID() or
// Math.random() (they once did: each activation's isolate restarted the same stream).
TEST(Deployment, ObjectsNeverRepeatEachOthersRandomness) {
  sim::World world(9);
  DeploymentSpec spec;
  spec.pops = {{"pop-lhr", "lhr"}};
  WorkerSpec app;
  app.name = "app";
  app.modules = {{"app.js",
                  "import {DurableObject} from 'cloudflare:workers';\n"
                  "export class Token extends DurableObject {\n"
                  "  fetch() { return new Response(crypto.randomUUID() + ' ' + Math.random()); }\n"
                  "}\n"
                  "export default { fetch(r, env) {\n"
                  "  return env.TOKEN.getByName(new URL(r.url).pathname).fetch(r); } };"}};
  app.main = "app.js";
  app.durable_objects = {{"TOKEN", "Token", ""}};
  spec.workers = {app};
  Deployment d(world, spec);
  sim::Node& client = world.add_node("client", "lhr");
  world.start();
  std::vector<std::string> tokens;
  auto get = [&](const char* path) {
    world.spawn(client, "client", [&, path](sim::Task& task) {
      runtime::HttpRequest r;
      r.url = std::string("https://app.test") + path;
      auto reply = runtime::http_call(task, d.pop_named("pop-lhr"), r, 30 * sim::kSecond);
      ASSERT_TRUE(reply.ok()) << reply.error().message;
      tokens.push_back(reply->body);
    });
  };
  get("/a");
  get("/b");
  world.run_for(10 * sim::kSecond);
  const std::uint64_t activations = d.stats().at("do_activations");
  world.run_for(5 * sim::kMinute);  // both objects are evicted when idle
  get("/a");
  world.run_for(10 * sim::kSecond);
  EXPECT_GT(d.stats().at("do_activations"), activations);  // /a was activated again
  ASSERT_EQ(tokens.size(), 3u);
  const std::set<std::string> distinct(tokens.begin(), tokens.end());
  EXPECT_EQ(distinct.size(), 3u) << tokens[0] << " | " << tokens[1] << " | " << tokens[2];
}

}  // namespace
}  // namespace platform
