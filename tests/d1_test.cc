// D1 end to end with real JS (needs the platform): a Worker on two PoPs queries env.DB, whose
// primary is in Washington and whose read replica is in London. The API's types, results and
// errors as the runtime gives them; batches; exec; sessions and bookmarks against replica lag;
// durability across primary crashes; and the batch_atomic mutant. The suite scenario
// d1-comments adds crashes and partitions over many seeds.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "platform/deployment.h"
#include "platform/engine_setup.h"
#include "platform/runtime/origin.h"
#include "scenarios/runner.h"
#include "sim/world.h"
#include "tests/pop_client.h"

namespace scenarios {
namespace {

// POST /<case>?session=S  runs cases[<case>](env.DB, session), answers
//                        JSON.stringify({value, bookmark}) or "error: <message>" (status 500).
const char kApp[] = R"js(
const cases = {
  c1: async (db) => {
    await db.prepare('INSERT INTO t (id, v) VALUES (?, ?)').bind(1, 42).run();
    await db.prepare('INSERT INTO t (id, v) VALUES (?, ?)').bind(2, 1.5).run();
    await db.prepare('INSERT INTO t (id, v) VALUES (?, ?)').bind(3, 'text').run();
    await db.prepare('INSERT INTO t (id, v) VALUES (?, ?)').bind(4, true).run();
    await db.prepare('INSERT INTO t (id, v) VALUES (?, ?)').bind(5, null).run();
    await db.prepare('INSERT INTO t (id, v) VALUES (?, ?)').bind(6, new Uint8Array([1, 2, 255]).buffer).run();
    const {results} = await db.prepare('SELECT v, typeof(v) AS t FROM t ORDER BY id').all();
    return results;
  },
  c2: async (db) => {
    const r = await db.prepare('INSERT INTO t (v) VALUES (?), (?)').bind('a', 'b').run();
    return [r.success, r.meta.changes, r.meta.last_row_id, r.meta.served_by_primary, r.meta.served_by,
            r.meta.rows_written];
  },
  c3: async (db) => [
    await db.prepare('SELECT id, v FROM t ORDER BY id').first(),
    await db.prepare('SELECT v FROM t ORDER BY id').first('v'),
    await db.prepare('SELECT v FROM t WHERE id = 99').first(),
    await db.prepare('SELECT id, v FROM t ORDER BY id').raw({columnNames: true})],
  c4: async (db) => db.batch([
    db.prepare('INSERT INTO t (id, v) VALUES (1, ?)').bind('kept?'),
    db.prepare('INSERT INTO t (id, v) VALUES (1, ?)').bind('duplicate')]),
  c5: async (db) => db.exec("INSERT INTO t (v) VALUES ('x')\nINSERT INTO t (v) VALUES ('y')"),
  c6: async (db) => db.exec("INSERT INTO t (v) VALUES ('z')\nBOGUS"),
  c7: async (db, s) => {
    await s.prepare("INSERT INTO t (v) VALUES ('new')").run();
    return s.getBookmark();
  },
  c8: async (db, s) => {
      const r = await s.prepare('SELECT count(*) AS n FROM t').all();
      return [r.results[0].n, r.meta.served_by];
    },
  c9: async (db, s) => {
      const r = await s.prepare('SELECT count(*) AS n FROM t').all();
      return [r.results[0].n, r.meta.served_by];
    },
  c10: async (db, s) => {
    await s.prepare("INSERT INTO t (v) VALUES (1)").run();
    const a = s.getBookmark();
    await s.prepare("INSERT INTO t (v) VALUES (2)").run();
    const b = s.getBookmark();
    return [a < b, a.length];
  },
  c11: async (db) => [
      (await db.prepare('SELECT count(*) AS n FROM t').first('n')),
      (await db.prepare('SELECT count(*) AS n FROM c').first('n'))],
  c12: async (db) => db.prepare('SELECT ?').bind(10n).all(),
  c13: async (db) => db.prepare('SELECT ?').bind(undefined).all(),
  c14: async (db) => db.prepare('SELECT v FROM t').first('nope'),
  c15: async (db) => db.prepare('SELEC 1').all(),
  c16: async (db) => db.prepare('SELECT * FROM missing').all(),
  c17: async (db) => db.prepare('INSERT INTO t (id) VALUES (1)').run(),
  c18: async (db) => (await db.prepare('SELECT count(*) AS n FROM t').first('n')),
  c19: async (db) => db.withSession().getBookmark(),
  c20: async (db) => db.withSession('first-primary').getBookmark(),
  c21: async (db) => (await db.prepare("INSERT INTO t (v) VALUES ('kept')").run()).success,
  c22: async (db) => db.prepare('SELECT v FROM t').first('v'),
  c23: async (db) => db.prepare('SELECT v FROM t').first('v'),
  c24: async (db) => db.batch([
        db.prepare("INSERT INTO t (v) VALUES ('half')"),
        db.prepare("INSERT INTO c (k, n) VALUES ('half', 1)")]),
};
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const session = url.searchParams.has('session')
        ? env.DB.withSession(url.searchParams.get('session')) : null;
    try {
      const value = await cases[url.pathname.slice(1)](env.DB, session);
      return new Response(JSON.stringify({value, bookmark: session?.getBookmark() ?? null}));
    } catch (e) {
      return new Response('error: ' + e.message, {status: 500});
    }
  },
};
)js";

struct D1App {
  sim::World world{3};
  std::unique_ptr<platform::Deployment> deployment;
  sim::Node* client = nullptr;

  explicit D1App(const std::function<void(platform::PlatformConfig&)>& tune = {}) {
    platform::init_engine();
    platform::DeploymentSpec spec;
    spec.pops = {{"pop-lhr", "lhr"}, {"pop-iad", "iad"}};
    spec.d1 = {{"d1-iad", "iad"}, {"d1-lhr", "lhr"}};
    platform::WorkerSpec w;
    w.name = "app";
    w.modules = {{"index.js", kApp}};
    w.main = "index.js";
    w.compatibility_date = "2025-04-01";
    w.d1_databases = {{"DB",
                       "db",
                       {{"0001_init.sql",
                         "CREATE TABLE t (id INTEGER PRIMARY KEY, v); "
                         "CREATE TABLE c (k TEXT PRIMARY KEY, n INTEGER NOT NULL)"}}}};
    spec.workers = {w};
    spec.config.d1.lag_mean = 2 * sim::kSecond;
    if (tune) tune(spec.config);
    deployment = std::make_unique<platform::Deployment>(world, spec);
    client = &world.add_node("client", "lhr");
    world.start();
    world.run_for(30 * sim::kSecond);  // the migration reaches the replica
  }

  // Runs case `name` of kApp on the PoP `pop`; "status body".
  std::string run(const std::string& name, const std::string& pop = "pop-lhr",
                  const std::string& session = "", bool with_session = false) {
    runtime::HttpRequest r;
    r.method = "POST";
    r.url = "https://app.test/" + name + (with_session ? "?session=" + session : std::string());
    return test::request_until_answered(world, *client, deployment->pop_named(pop), std::move(r),
                                        60 * sim::kSecond);
  }
  sim::Node& node(const char* name) { return *world.find_node(name); }
};

TEST(D1WithJs, ValuesRoundTripWithTheRuntimesTypes) {
  D1App app;
  EXPECT_EQ(
      app.run("c1"),
      R"(200 {"value":[{"v":42,"t":"integer"},{"v":1.5,"t":"real"},{"v":"text","t":"text"},)"
      R"({"v":1,"t":"integer"},{"v":null,"t":"null"},{"v":[1,2,255],"t":"blob"}],"bookmark":null})");
  EXPECT_EQ(app.run("c12"), "500 error: D1_TYPE_ERROR: Type 'bigint' not supported for value '10'");
  EXPECT_EQ(app.run("c13"),
            "500 error: D1_TYPE_ERROR: Type 'undefined' not supported for value 'undefined'");
}

TEST(D1WithJs, FirstRawRunAndTheirErrors) {
  D1App app;
  EXPECT_EQ(app.run("c2"), R"(200 {"value":[true,2,2,true,"d1-iad",2],"bookmark":null})");
  EXPECT_EQ(
      app.run("c3"),
      R"(200 {"value":[{"id":1,"v":"a"},"a",null,[["id","v"],[1,"a"],[2,"b"]]],"bookmark":null})");
  EXPECT_EQ(app.run("c14"), "500 error: D1_COLUMN_NOTFOUND: Column not found (nope)");
  EXPECT_EQ(app.run("c15"), "500 error: D1_ERROR: near \"SELEC\": syntax error: SQLITE_ERROR");
  EXPECT_EQ(app.run("c16"), "500 error: D1_ERROR: no such table: missing: SQLITE_ERROR");
  EXPECT_EQ(app.run("c17"),
            "500 error: D1_ERROR: UNIQUE constraint failed: t.id: SQLITE_CONSTRAINT");
}

TEST(D1WithJs, ABatchIsAllOrNothingAndExecReportsItsLine) {
  D1App app;
  EXPECT_TRUE(app.run("c4").starts_with("500 error: D1_ERROR: UNIQUE constraint failed"));
  EXPECT_EQ(app.run("c18"), R"(200 {"value":0,"bookmark":null})");
  EXPECT_EQ(app.run("c5"), R"(200 {"value":{"count":2,"duration":2},"bookmark":null})");
  EXPECT_EQ(app.run("c6"),
            "500 error: D1_EXEC_ERROR: Error in line 2: BOGUS: near \"BOGUS\": syntax error: "
            "SQLITE_ERROR");
}

// A write goes to the primary; a read in London right after it, in a new session, is served
// by the London replica, which has not applied it yet. With the write's bookmark the replica
// waits for it; with the sessions mutant it does not.
TEST(D1WithJs, SessionsGiveReadYourWritesAcrossTheReplicaAndTheMutantDoesNot) {
  for (const bool sessions : {true, false}) {
    D1App app([sessions](platform::PlatformConfig& c) { c.d1.sessions = sessions; });
    const std::string wrote = app.run("c7", "pop-lhr", "first-primary", true);
    ASSERT_TRUE(wrote.starts_with("200 {\"value\":\"")) << wrote;
    const std::string bookmark = wrote.substr(wrote.find("\"bookmark\":\"") + 12, 16);
    const std::string stale = app.run("c8", "pop-lhr", "first-unconstrained", true);
    EXPECT_TRUE(stale.starts_with(R"(200 {"value":[0,"d1-lhr"])")) << stale;
    const std::string fresh = app.run("c9", "pop-lhr", bookmark, true);
    if (sessions) {
      EXPECT_TRUE(fresh.starts_with(R"(200 {"value":[1,)")) << fresh;
      EXPECT_NE(fresh.find("\"bookmark\":\"" + bookmark), std::string::npos) << fresh;
    } else {
      EXPECT_TRUE(fresh.starts_with(R"(200 {"value":[0,"d1-lhr"])")) << fresh;
    }
  }
}

TEST(D1WithJs, WithSessionAndGetBookmarkFollowTheRuntime) {
  D1App app;
  EXPECT_EQ(app.run("c19"), R"(200 {"value":null,"bookmark":null})");
  EXPECT_EQ(app.run("c20"), R"(200 {"value":null,"bookmark":null})");
  // Bookmarks grow with the primary's writes and sort as they grow.
  const std::string r = app.run("c10", "pop-iad", "first-primary", true);
  EXPECT_TRUE(r.starts_with(R"(200 {"value":[true,16])")) << r;
}

// An acknowledged write survives a primary crash; while the primary is down, queries fail.
TEST(D1WithJs, AnAcknowledgedWriteSurvivesAPrimaryCrash) {
  D1App app;
  ASSERT_EQ(app.run("c21"), R"(200 {"value":true,"bookmark":null})");
  app.world.crash(app.node("d1-iad"));
  EXPECT_EQ(app.run("c22"), "500 error: D1_ERROR: Network connection lost.");
  app.world.restart(app.node("d1-iad"));
  app.world.run_for(sim::kSecond);
  EXPECT_EQ(app.run("c23"), R"(200 {"value":"kept","bookmark":null})");
}

// A primary crash in the middle of a batch (statements take 2 s each): with the reference
// platform the batch is whole; with batch_atomic=off its first statement stays without the
// second.
TEST(D1WithJs, APrimaryCrashMidBatchHalfAppliesOnlyWithTheMutant) {
  for (const bool atomic : {true, false}) {
    D1App app([atomic](platform::PlatformConfig& c) {
      c.d1.batch_atomic = atomic;
      c.d1.statement_time = 2 * sim::kSecond;
    });
    auto out = std::make_shared<std::string>();
    app.world.spawn(*app.client, "batch", [&app, out](sim::Task& task) {
      runtime::HttpRequest r;
      r.method = "POST";
      r.body = "";
      r.url = "https://app.test/c24";
      auto reply =
          runtime::http_call(task, app.deployment->pop_named("pop-iad"), r, 60 * sim::kSecond);
      *out = reply.ok() ? std::to_string(reply->status) : "error";
    });
    app.world.run_for(sim::kSecond);  // inside the batch: the first statement ran
    app.world.crash(app.node("d1-iad"));
    app.world.run_for(sim::kSecond);
    app.world.restart(app.node("d1-iad"));
    app.world.run_for(sim::kSecond);
    const std::string state = app.run("c11", "pop-iad");
    // Atomic: the batch committed whole before the crash (its answer was lost with it).
    EXPECT_EQ(state, atomic ? R"(200 {"value":[1,1],"bookmark":null})"
                            : R"(200 {"value":[1,0],"bookmark":null})")
        << "atomic " << atomic;
  }
}

// d1-comments: sessions under crashes and a partition; the variants are caught.
TEST(D1WithJs, CommentsHoldOnEverySeedAndEachVariantIsCaught) {
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    RunOutcome o = run_scenario({EDGESIM_SUITE_DIR "/d1-comments", seed});
    ASSERT_EQ(o.exit_code, kExitOk) << o.error << " seed " << seed;
    EXPECT_GT(o.stats["d1_replica_reads"], 0u);
    EXPECT_GT(o.stats["d1_forwarded"], 0u);
  }
  for (const char* variant : {"no-session", "sessions-off", "batch-not-atomic"}) {
    bool caught = false;
    for (std::uint64_t seed = 1; seed <= 3 && !caught; ++seed) {
      RunOutcome o = run_scenario({std::string(EDGESIM_SUITE_DIR "/d1-comments@") + variant, seed});
      ASSERT_NE(o.exit_code, kExitBadInput) << o.error;
      caught = o.exit_code == kExitViolated;
    }
    EXPECT_TRUE(caught) << variant;
  }
}

}  // namespace
}  // namespace scenarios
