#include "platform/objects/object_instance.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "platform/bindings/do_binding.h"
#include "platform/engine_setup.h"
#include "platform/js/engine.h"
#include "platform/runtime/test_trace.h"
#include "sim/world.h"

namespace objects {
namespace {

using namespace ::runtime;   // NOLINT: a test of several layers
using namespace ::bindings;  // NOLINT: a test of several layers

const char kObject[] = R"js(
import {DurableObject} from 'cloudflare:workers';
let constructed = 0;
export class Counter extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.constructed = ++constructed;
    if (env.SLOW_START) {
      ctx.blockConcurrencyWhile(async () => {
        await new Promise((r) => setTimeout(r, 500));
        this.ready = true;
      });
    }
  }
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === '/ready') return new Response(String(this.ready === true));
    if (url.pathname === '/constructed') return new Response(String(this.constructed));
    let n = (await this.ctx.storage.get('n')) ?? 0;
    n++;
    await this.ctx.storage.put('n', n);
    return new Response(String(n));
  }
  async add(by) {
    const n = ((await this.ctx.storage.get('n')) ?? 0) + by;
    await this.ctx.storage.put('n', n);
    return {n, id: this.ctx.id.toString().slice(0, 4), name: this.ctx.id.name};
  }
  async boom() { throw new RangeError('no such thing'); }
  async kv() {
    const s = this.ctx.storage;
    await s.put({'a/1': 1, 'a/2': {x: [2]}, 'b/1': new Map([[1, 'one']]), 'c': 'see'});
    const out = [];
    out.push([...(await s.list({prefix: 'a/'})).keys()].join(','));
    out.push([...(await s.list({reverse: true, limit: 2})).keys()].join(','));
    out.push([...(await s.list({start: 'a/2', end: 'c'})).keys()].join(','));
    out.push(JSON.stringify((await s.get('a/2'))));
    out.push((await s.get('b/1')).get(1));
    out.push(String(await s.delete('c')), String(await s.delete('c')));
    out.push(String(await s.delete(['a/1', 'a/2', 'zz'])));
    await s.transaction(async (txn) => { await txn.put('t', 1); txn.rollback(); });
    out.push(String(await s.get('t')));
    try {
      await s.transaction(async (txn) => { await txn.put('t', 2); throw new Error('undo'); });
    } catch (e) { out.push(e.message); }
    out.push(String(await s.get('t')));
    await s.transaction(async (txn) => { await txn.put('t', 3); });
    out.push(String(await s.get('t')));
    const m = await s.get(['t', 'b/1', 'nope']);
    out.push([...m.keys()].join(','));
    await s.deleteAll();
    out.push(String((await s.list()).size));
    return out.join(' | ');
  }
  sql() {
    const sql = this.ctx.storage.sql;
    sql.exec('CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, name TEXT, data BLOB)');
    const ins = sql.exec('INSERT INTO t (name, data) VALUES (?, ?), (?, ?)', 'ada', new Uint8Array([1, 2]), 'bob', null);
    const out = [String(ins.rowsWritten)];
    out.push(JSON.stringify(sql.exec('SELECT id, name FROM t ORDER BY id').toArray()));
    out.push(sql.exec('SELECT name FROM t WHERE id = ?', 2).one().name);
    out.push(JSON.stringify(sql.exec('SELECT id, name FROM t').raw().toArray()));
    out.push(String(new Uint8Array(sql.exec('SELECT data FROM t WHERE id = 1').one().data)[1]));
    try { sql.exec('SELECT * FROM _cf_KV'); } catch (e) { out.push('denied'); }
    try { sql.exec('BEGIN'); } catch (e) { out.push('no-begin'); }
    try { sql.exec('SELECT * FROM t WHERE id = ?'); } catch (e) { out.push('bindings'); }
    out.push(String(sql.databaseSize > 0));
    return out.join(' | ');
  }
  async setAlarmIn(ms) { await this.ctx.storage.setAlarm(Date.now() + ms); return await this.ctx.storage.getAlarm(); }
  async alarm(info) {
    const n = ((await this.ctx.storage.get('alarms')) ?? 0) + 1;
    await this.ctx.storage.put('alarms', n);
    if (this.env.FAIL_ALARM && info.retryCount < 2) throw new Error('alarm failed');
    await this.ctx.storage.put('lastRetry', info.retryCount);
  }
  async read(key) { return await this.ctx.storage.get(key); }
}
export default {};
)js";

const char kCaller[] = R"js(
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const stub = env.COUNTER.getByName('c1');
    switch (url.pathname) {
      case '/add': return Response.json(await stub.add(5));
      case '/boom':
        try { await stub.boom(); return new Response('no'); }
        catch (e) { return new Response(`${e.name}|${e.message}|${e.remote}|${e instanceof RangeError}`); }
      case '/missing':
        try { await stub.nothing(); return new Response('no'); }
        catch (e) { return new Response(`${e.name}|${e.message}`); }
      case '/kv': return new Response(await stub.kv());
      case '/sql': return new Response(await stub.sql());
      case '/read': return Response.json(await stub.read(url.searchParams.get('key')));
      case '/alarm': return Response.json(await stub.setAlarmIn(1000));
      case '/fetch': {
        const r = await stub.fetch('https://object/inc', {method: 'POST'});
        return new Response(`${r.status}:${await r.text()}`);
      }
      case '/ids': {
        const a = env.COUNTER.idFromName('c1'), b = env.COUNTER.idFromName('c1');
        const u = env.COUNTER.newUniqueId(), v = env.COUNTER.newUniqueId();
        const s = env.COUNTER.idFromString(a.toString());
        let bad = 'accepted';
        try { env.COUNTER.idFromString('xyz'); } catch (e) { bad = e.name; }
        return new Response([a.equals(b), a.toString().length, a.name, u.toString().length,
            u.equals(v), s.equals(a), bad].join(','));
      }
    }
    return new Response('?', {status: 404});
  },
};
)js";

struct Harness {
  sim::World world{7};
  sim::Node* host = nullptr;
  sim::Node* client = nullptr;
  std::string durable_image;  // what the fake cluster acknowledged last
  int commits = 0;
  sim::Duration commit_delay = 10 * sim::kMillisecond;
  bool fail_commits = false;
  bool lease = true;
  std::unique_ptr<ObjectInstance> instance;

  explicit Harness(ObjectInstanceConfig config = {},
                   std::map<std::string, runtime::BindingValue> env = {}) {
    platform::init_engine();
    host = &world.add_node("host", "lhr");
    client = &world.add_node("client", "lhr");
    world.start();
    make(std::move(config), std::move(env));
  }
  void make(ObjectInstanceConfig config = {},
            std::map<std::string, runtime::BindingValue> env = {}) {
    instance.reset();
    config.worker.modules = {{"index.js", kObject}};
    config.worker.main = "index.js";
    config.worker.env = std::move(env);
    config.worker.response_timeout = 5 * sim::kSecond;
    config.class_name = "Counter";
    config.id_hex = std::string(64, 'a');
    config.name = "c1";
    auto storage = ObjectStorage::open(durable_image);
    EXPECT_TRUE(storage.ok());
    instance = std::make_unique<ObjectInstance>(
        world, *host, std::move(config), std::move(storage.value()),
        [this](sim::Task& task, std::string image, std::optional<double>) -> sim::Status {
          task.sleep(commit_delay);
          if (fail_commits) return sim::Error{sim::ErrorKind::kIo, "quorum unreachable"};
          durable_image = std::move(image);
          ++commits;
          return sim::Status::Ok();
        },
        [this] { return lease; });
  }
  // Sends a fetch; returns "status body @ms" or "error ...".
  std::string fetch(const std::string& path) {
    std::string out;
    world.spawn(*client, "client", [&](sim::Task& task) {
      DoRequest r;
      r.kind = DoRequest::Kind::kFetch;
      r.id_hex = std::string(64, 'a');
      r.request.url = "https://do.test" + path;
      const sim::Time t0 = task.now();
      auto reply = instance->handle(task, encode_do_request(r));
      if (!reply.ok()) {
        out = "error " + reply.error().message;
        return;
      }
      auto decoded = decode_do_reply(DoRequest::Kind::kFetch, *reply);
      out = std::to_string(decoded->response.status) + " " + decoded->response.body + " @" +
            std::to_string((task.now() - t0) / sim::kMillisecond);
    });
    world.run_until_idle();
    return out;
  }
  // A caller Worker on the client node whose env.COUNTER reaches the instance.
  struct ToInstance : runtime::Services {
    Harness* h;
    js::CallReply call(sim::Task& task, const js::CallRequest& request) override {
      auto r = do_request_from_call(request);
      if (!r.ok()) return js::CallReply::failure("Error", r.error().message);
      return call_reply_from_do(r->kind, h->instance->handle(task, encode_do_request(*r)));
    }
  };
  ToInstance services;
  std::unique_ptr<runtime::Worker> caller;
  std::string call(const std::string& path) {
    if (caller == nullptr) {
      services.h = this;
      runtime::WorkerConfig c;
      c.name = "caller";
      c.modules = {{"caller.js", kCaller}};
      c.main = "caller.js";
      c.env["COUNTER"] = runtime::BindingValue::service(
          R"({"type":"durable_object_namespace","class_name":"Counter","target":16})");
      c.services = &services;
      caller = std::make_unique<runtime::Worker>(world, *client, std::move(c));
    }
    std::string out;
    world.spawn(*client, "client", [&](sim::Task& task) {
      runtime::HttpRequest r;
      r.url = "https://app.test" + path;
      auto reply = caller->fetch(task, r);
      out = reply.ok() ? std::to_string(reply->status) + " " + reply->body
                       : "error " + reply.error().message;
    });
    world.run_until_idle();
    return out;
  }
};

TEST(ObjectInstanceTest, ResponsesWaitForTheirWritesToBeDurable) {
  Harness h;
  EXPECT_EQ(h.fetch("/inc"), "200 1 @10");  // held by the output gate for the commit
  EXPECT_EQ(h.fetch("/inc"), "200 2 @10");
  EXPECT_EQ(h.commits, 2);
  EXPECT_EQ(h.fetch("/constructed"), "200 1 @0");  // no writes: leaves at once
}

TEST(ObjectInstanceTest, WithoutTheOutputGateResponsesLeaveBeforeTheWrite) {
  ObjectInstanceConfig c;
  c.output_gate = false;
  Harness h(c);
  EXPECT_EQ(h.fetch("/inc"), "200 1 @0");
}

TEST(ObjectInstanceTest, AFailedCommitDropsTheResponseAndBreaksTheInstance) {
  Harness h;
  EXPECT_EQ(h.fetch("/inc"), "200 1 @10");
  h.fail_commits = true;
  EXPECT_EQ(h.fetch("/inc").substr(0, 3), "503");
  EXPECT_TRUE(h.instance->broken());
  EXPECT_EQ(h.fetch("/inc").substr(0, 5), "error");
  // A new instance recovers the last acknowledged image: the failed increment is gone.
  h.fail_commits = false;
  h.make();
  EXPECT_EQ(h.fetch("/inc"), "200 2 @10");
  EXPECT_EQ(h.fetch("/constructed"), "200 1 @0");  // a new isolate: the constructor ran anew
}

TEST(ObjectInstanceTest, ALapsedLeaseRefusesEventsAndStorage) {
  Harness h;
  EXPECT_EQ(h.fetch("/inc"), "200 1 @10");
  h.lease = false;
  const std::string r = h.fetch("/inc");
  EXPECT_EQ(r.substr(0, 5), "error") << r;
  EXPECT_TRUE(h.instance->broken());
  EXPECT_EQ(h.commits, 1);
}

TEST(ObjectInstanceTest, StubsCallRpcMethodsAndErrorsArriveWithTheirTypes) {
  Harness h;
  EXPECT_EQ(h.call("/add"), R"(200 {"n":5,"id":"aaaa","name":"c1"})");
  EXPECT_EQ(h.call("/add"), R"(200 {"n":10,"id":"aaaa","name":"c1"})");
  EXPECT_EQ(h.call("/boom"), "200 RangeError|no such thing|true|true");
  EXPECT_EQ(h.call("/missing"),
            "200 TypeError|The RPC receiver does not implement the method \"nothing\".");
  EXPECT_EQ(h.call("/fetch"), "200 200:11");
  EXPECT_EQ(h.call("/ids"), "200 true,64,c1,64,false,true,TypeError");
}

TEST(ObjectInstanceTest, StorageKvApi) {
  Harness h;
  EXPECT_EQ(h.call("/kv"),
            "200 a/1,a/2 | c,b/1 | a/2,b/1 | {\"x\":[2]} | one | true | false | 2 | undefined | "
            "undo | undefined | 3 | b/1,t | 0");
}

TEST(ObjectInstanceTest, StorageSqlApi) {
  Harness h;
  EXPECT_EQ(h.call("/sql"),
            "200 2 | [{\"id\":1,\"name\":\"ada\"},{\"id\":2,\"name\":\"bob\"}] | bob | "
            "[[1,\"ada\"],[2,\"bob\"]] | 2 | denied | no-begin | bindings | true");
}

TEST(ObjectInstanceTest, AcknowledgedWritesSurviveInTheImageAndTheConstructorRunsAgain) {
  Harness h;
  EXPECT_EQ(h.call("/add"), R"(200 {"n":5,"id":"aaaa","name":"c1"})");
  h.make();  // as after a crash: only the acknowledged image is left
  EXPECT_EQ(h.call("/read?key=n"), "200 5");
}

TEST(ObjectInstanceTest, AlarmRunsAndItsDeletionIsDurable) {
  Harness h;
  const std::string set = h.call("/alarm");
  ASSERT_EQ(set.substr(0, 4), "200 ");
  ASSERT_TRUE(h.instance->alarm_time().has_value());
  sim::Status status;
  h.world.spawn(*h.host, "alarm", [&](sim::Task& task) { status = h.instance->alarm(task, 0); });
  h.world.run_until_idle();
  EXPECT_TRUE(status.ok()) << status.error().message;
  EXPECT_FALSE(h.instance->alarm_time().has_value());
  h.make();  // the deletion and the handler's writes were committed
  EXPECT_EQ(h.call("/read?key=alarms"), "200 1");
  EXPECT_FALSE(h.instance->alarm_time().has_value());
}

TEST(ObjectInstanceTest, FailingAlarmReportsAnErrorAndKeepsTheAlarm) {
  Harness h({}, {{"FAIL_ALARM", runtime::BindingValue::json("true")}});
  ASSERT_EQ(h.call("/alarm").substr(0, 4), "200 ");
  sim::Status status;
  h.world.spawn(*h.host, "alarm", [&](sim::Task& task) { status = h.instance->alarm(task, 0); });
  h.world.run_until_idle();
  EXPECT_FALSE(status.ok());
  EXPECT_TRUE(h.instance->alarm_time().has_value());
}

TEST(ObjectInstanceTest, BlockConcurrencyWhileInTheConstructorHoldsTheFirstEvents) {
  Harness h({}, {{"SLOW_START", runtime::BindingValue::json("true")}});
  EXPECT_EQ(h.fetch("/ready"), "200 true @500");
}

}  // namespace
}  // namespace objects
