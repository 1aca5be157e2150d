// Durable Objects end to end: Worker code at PoPs calls a counter object through env.COUNTER;
// the DO cluster places it on a host, replicates its storage and moves it under partitions and
// crashes. The counter must never lose an acknowledged increment with the reference platform,
// and must lose some with the split-brain mutant (do.fencing=off).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "platform/bindings/binding_table.h"
#include "platform/bindings/do_binding.h"
#include "platform/engine_setup.h"
#include "platform/js/engine.h"
#include "platform/objects/object_host.h"
#include "sim/faults.h"
#include "sim/history.h"
#include "sim/world.h"

namespace bindings {
namespace {

using namespace ::runtime;  // NOLINT: a test of several layers
using namespace ::objects;  // NOLINT: a test of several layers

const char kPopScript[] = R"js(
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const stub = env.COUNTER.getByName(url.searchParams.get('name') ?? 'hits');
    try {
      const r = await stub.fetch(`https://counter${url.pathname}`, {method: 'POST'});
      return new Response(await r.text(), {status: r.status});
    } catch (e) {
      return new Response(e.message, {status: 503});
    }
  },
};
)js";

const char kObjectScript[] = R"js(
import {DurableObject} from 'cloudflare:workers';
export class Counter extends DurableObject {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    let n = (await this.ctx.storage.get('n')) ?? 0;
    if (path === '/inc') {
      n++;
      await this.ctx.storage.put('n', n);
    }
    return new Response(String(n));
  }
}
export default {};
)js";

struct Outcome {
  std::vector<long> acked;  // values returned by acknowledged increments
  int unknown = 0;
  long final_value = -1;
  // The read of final_value, against the increments: the largest value acknowledged before it
  // began, and how many increments began before it ended.
  long acked_before_read = 0;
  long invoked_before_read_end = 0;
  std::uint64_t activations = 0;
};

// Three PoPs, two DO hosts, three storage nodes, a directory; a client at each PoP increments.
// `sin_start`: when the client at pop-sin begins (a late caller has no cached host: it asks the
// directory).
Outcome run_counter(std::uint64_t seed, const sim::FaultPlan& plan, bool fencing,
                    int increments_per_client = 12, sim::Duration sin_start = sim::kSecond) {
  platform::init_engine();
  sim::World world(seed);
  services::DoClusterConfig dc;
  dc.fencing = fencing;
  services::DoCluster cluster(world, dc);
  std::vector<sim::Node*> pops = {&world.add_node("pop-lhr", "lhr"),
                                  &world.add_node("pop-iad", "iad"),
                                  &world.add_node("pop-sin", "sin")};
  sim::Node& dir = world.add_node("dir", "iad");
  std::vector<sim::Node*> hosts = {&world.add_node("host-lhr", "lhr"),
                                   &world.add_node("host-sin", "sin")};
  std::vector<sim::Node*> stores = {&world.add_node("store-fra", "fra"),
                                    &world.add_node("store-ams", "ams"),
                                    &world.add_node("store-ord", "ord")};
  runtime::WorkerConfig object;
  object.name = "counter";
  object.modules = {{"object.js", kObjectScript}};
  object.main = "object.js";
  std::vector<std::unique_ptr<DoHost>> executors;
  cluster.add_directory(dir);
  for (sim::Node* s : stores) cluster.add_storage(*s);
  for (sim::Node* h : hosts) {
    DoHostConfig hc;
    hc.classes["Counter"] = object;
    executors.push_back(std::make_unique<DoHost>(world, *h, hc));
    cluster.add_host(*h, *executors.back());
  }
  BindingTable services;
  services.add("COUNTER", std::make_unique<DoBinding>("Counter", cluster));
  std::vector<std::unique_ptr<runtime::Worker>> workers;
  for (sim::Node* p : pops) {
    runtime::WorkerConfig c;
    c.name = "app";
    c.modules = {{"index.js", kPopScript}};
    c.main = "index.js";
    c.env = services.env();
    c.services = &services;
    c.response_timeout = 60 * sim::kSecond;
    workers.push_back(std::make_unique<runtime::Worker>(world, *p, c));
  }
  world.start();
  const sim::Time quiet = 40 * sim::kSecond;
  EXPECT_TRUE(world.faults().install(plan, quiet).ok());

  Outcome out;
  for (std::size_t i = 0; i < pops.size(); ++i) {
    runtime::Worker* worker = workers[i].get();
    const std::string client = "client-" + pops[i]->name();
    world.spawn(*pops[i], client, [&, i, worker, client](sim::Task& task) {
      sim::Rng rng = world.rng(client);
      // pop-lhr calls first, so the object is placed on host-lhr (near it).
      if (i > 0) task.sleep(i == 2 ? sin_start : sim::kSecond);
      for (int k = 0; k < increments_per_client; ++k) {
        if (i > 0 || k > 0) task.sleep(rng.uniform_int(0, 3000) * sim::kMillisecond);
        const sim::OpId op =
            world.history().invoke(task.node().id(), client, "hits", "", "increment", "1");
        runtime::HttpRequest req;
        req.url = "https://app.test/inc";
        auto r = worker->fetch(task, req);
        if (r.ok() && r->status == 200) {
          world.history().complete(op, sim::OpStatus::kOk, r->body);
          out.acked.push_back(std::stol(r->body));
        } else {
          world.history().complete(op, sim::OpStatus::kUnknown, "");
          ++out.unknown;
        }
      }
    });
  }
  world.run_until(quiet + 30 * sim::kSecond);
  // After the faults: read the final value from the first PoP.
  world.spawn(*pops[0], "reader", [&](sim::Task& task) {
    for (int attempt = 0; attempt < 5 && out.final_value < 0; ++attempt) {
      runtime::HttpRequest req;
      req.url = "https://app.test/get";
      const sim::Time begin = task.now();
      auto r = workers[0]->fetch(task, req);
      if (r.ok() && r->status == 200) {
        out.final_value = std::stol(r->body);
        for (const auto& op : world.history().ops()) {
          if (op.status == sim::OpStatus::kOk && op.complete < begin) {
            out.acked_before_read = std::max(out.acked_before_read, std::stol(op.output));
          }
          if (op.invoke <= task.now()) ++out.invoked_before_read_end;
        }
      } else {
        task.sleep(5 * sim::kSecond);
      }
    }
  });
  world.run_until(quiet + 90 * sim::kSecond);
  out.activations = cluster.stats().activations;
  // Increments whose client died with its PoP: their outcome is unknown too.
  out.unknown += static_cast<int>(world.history().pending());
  if (std::getenv("EDGESIM_DO_DEBUG") != nullptr) {
    for (const auto& a : cluster.activations()) {
      std::printf("activation instance=%llu host=%s epoch=%llu start=%s end=%s (%s)\n",
                  (unsigned long long)a.instance, a.host.c_str(), (unsigned long long)a.epoch,
                  sim::format_time(a.start).c_str(), sim::format_time(a.end).c_str(),
                  a.end_reason.c_str());
    }
    for (const auto& op : world.history().ops()) {
      std::printf("op %llu %s %s..%s %s %s\n", (unsigned long long)op.id, op.client.c_str(),
                  sim::format_time(op.invoke).c_str(), sim::format_time(op.complete).c_str(),
                  sim::op_status_name(op.status), op.output.c_str());
    }
    std::printf("final %ld; faults: %s\n", out.final_value, world.faults().describe().c_str());
  }
  return out;
}

// Lost increments: two acknowledged increments saw the same value, or the final value is below
// an acknowledged one.
std::string lost_increments(const Outcome& o) {
  std::set<long> seen;
  for (long v : o.acked) {
    if (!seen.insert(v).second) return "two increments both returned " + std::to_string(v);
  }
  if (o.final_value < o.acked_before_read) {
    return "a read returned " + std::to_string(o.final_value) + " after an increment returned " +
           std::to_string(o.acked_before_read);
  }
  if (o.final_value > o.invoked_before_read_end) {
    return "a read returned " + std::to_string(o.final_value) + " though only " +
           std::to_string(o.invoked_before_read_end) + " increments had begun";
  }
  return "";
}

TEST(DurableObjectsEndToEnd, CounterServesAllPopsWithoutFaults) {
  Outcome o = run_counter(1, sim::FaultPlan::none(), true);
  EXPECT_EQ(o.unknown, 0);
  EXPECT_EQ(o.acked.size(), 36u);
  EXPECT_EQ(o.final_value, 36);
  EXPECT_EQ(lost_increments(o), "");
  EXPECT_EQ(o.activations, 1u);  // one instance served every PoP
}

TEST(DurableObjectsEndToEnd, HostCrashLosesNoAcknowledgedIncrement) {
  auto plan = sim::FaultPlan::parse(
      "at 8s crash host-lhr; at 8s crash host-sin; at 14s restart host-lhr; at 14s restart "
      "host-sin");
  ASSERT_TRUE(plan.ok());
  Outcome o = run_counter(3, *plan, true);
  EXPECT_EQ(lost_increments(o), "");
  EXPECT_GE(o.final_value, static_cast<long>(o.acked.size()));
  EXPECT_GE(o.activations, 2u);  // the object was recovered after the crash
}

TEST(DurableObjectsEndToEnd, NoLostIncrementUnderSwarmFaults) {
  int faulty_runs = 0;
  for (std::uint64_t seed = 1; seed <= 12; ++seed) {
    Outcome o = run_counter(seed, sim::FaultPlan::swarm(), true, 8);
    EXPECT_EQ(lost_increments(o), "") << "seed " << seed;
    EXPECT_GE(o.final_value, 0) << "seed " << seed;
    if (o.unknown > 0 || o.activations > 1) ++faulty_runs;
  }
  EXPECT_GT(faulty_runs, 0);  // the faults did bite somewhere
}

// The directory loses touch with the host of the object (host-lhr, placed near the first
// caller); a PoP that calls for the first time after the lease lapsed (pop-sin, at 18 s) is sent
// to a new host. With fencing the old instance stops at its lease; without it, both serve.
const char kSplitBrainPlan[] =
    "at 3s partition {host-lhr} | {dir,pop-sin,host-sin}\n"
    "at 30s heal\n";

TEST(DurableObjectsEndToEnd, PartitionedHostStopsAtItsLease) {
  auto plan = sim::FaultPlan::parse(kSplitBrainPlan);
  ASSERT_TRUE(plan.ok());
  for (std::uint64_t seed = 1; seed <= 6; ++seed) {
    Outcome o = run_counter(seed, *plan, true, 12, 18 * sim::kSecond);
    EXPECT_EQ(lost_increments(o), "") << "seed " << seed;
    EXPECT_GE(o.activations, 2u) << "seed " << seed;  // the object moved
  }
}

TEST(DurableObjectsEndToEnd, WithoutFencingAPartitionCausesSplitBrain) {
  auto plan = sim::FaultPlan::parse(kSplitBrainPlan);
  ASSERT_TRUE(plan.ok());
  int caught = 0;
  std::string example;
  for (std::uint64_t seed = 1; seed <= 6; ++seed) {
    Outcome o = run_counter(seed, *plan, false, 12, 18 * sim::kSecond);
    const std::string lost = lost_increments(o);
    if (!lost.empty()) {
      ++caught;
      example = "seed " + std::to_string(seed) + ": " + lost;
    }
  }
  EXPECT_GT(caught, 0);
  std::printf("do.fencing=off: lost increments in %d of 6 seeds (%s)\n", caught, example.c_str());
}

}  // namespace
}  // namespace bindings
