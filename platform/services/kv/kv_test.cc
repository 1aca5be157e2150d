// Scenario-like tests of Workers KV: four PoPs on four continents, the three central stores, and
// scripts that move virtual time. Times in comments are virtual.
#include "platform/services/kv/kv.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "platform/services/kv/kv_internal.h"
#include "sim/events.h"
#include "sim/faults.h"
#include "sim/history.h"
#include "sim/network.h"
#include "sim/world.h"

namespace services {
namespace {

using sim::kSecond;
using sim::millis;
using sim::seconds;

struct Recorder : sim::EventSink {
  std::vector<std::string> events;  // "<time> <node> <kind> <details>"
  std::vector<std::string> kinds;
  void on_event(const sim::TraceEvent& e) override {
    const std::string kind(sim::event_kind(*e.body));
    events.push_back(std::to_string(e.time) + " " + std::to_string(e.node) + " " + kind + " " +
                     sim::event_details(*e.body));
    kinds.push_back(kind);
  }
  std::size_t count(std::string_view kind) const {
    std::size_t n = 0;
    for (const auto& k : kinds) n += k == kind ? 1 : 0;
    return n;
  }
};

KvConfig fixed_lag(sim::Duration lag) {
  KvConfig c;
  c.propagation_lag = KvLagDistribution::fixed(lag);
  return c;
}

// Four PoPs (weur, wnam, oc, apac) and the central stores kv-iad (primary), kv-fra, kv-sin.
class KvWorld {
 public:
  explicit KvWorld(std::uint64_t seed = 1, KvConfig config = {}) : w(seed), kv(w, config) {
    w.add_sink(&rec);
    for (const char* loc : {"lhr", "sjc", "syd", "nrt"}) {
      sim::Node& n = w.add_node(std::string("pop-") + loc, loc);
      pops[loc] = &n;
      kv.attach(n);
    }
    w.start();
  }
  ~KvWorld() { w.remove_sink(&rec); }

  KvClient& client(const std::string& loc) { return *kv.client(pops.at(loc)->id()); }
  sim::Node& pop(const std::string& loc) { return *pops.at(loc); }

  // Runs `body` on a new task of PoP `loc` now, and runs the world until the task has ended.
  template <typename F>
  void run(const std::string& loc, F body) {
    bool done = false;
    w.spawn(pop(loc), "script", [&](sim::Task& t) {
      body(t);
      done = true;
    });
    for (int i = 0; i < 100'000 && !done; ++i) ASSERT_TRUE(w.run_for(millis(1)));
    ASSERT_TRUE(done);
  }
  void advance_to(sim::Time t) { ASSERT_TRUE(w.run_until(t)); }

  // "value", "null", or "error <status>".
  std::string get(const std::string& loc, std::string_view key, KvGetOptions o = {},
                  std::string_view ns = "ns") {
    std::string out;
    run(loc, [&](sim::Task& t) {
      auto r = client(loc).get(t, ns, key, o);
      if (!r.ok()) {
        out = "error " + std::to_string(kv_error_status(r.error()));
      } else {
        out = r.value() ? *r.value() : "null";
      }
    });
    return out;
  }
  // "ok" or "error <status>".
  std::string put(const std::string& loc, std::string_view key, std::string value,
                  KvPutOptions o = {}, std::string_view ns = "ns") {
    std::string out;
    run(loc, [&](sim::Task& t) {
      sim::Status s = client(loc).put(t, ns, key, std::move(value), o);
      out = s.ok() ? "ok" : "error " + std::to_string(kv_error_status(s.error()));
      if (!s.ok()) last_error = s.error();
    });
    return out;
  }
  std::string remove(const std::string& loc, std::string_view key, std::string_view ns = "ns") {
    std::string out;
    run(loc, [&](sim::Task& t) {
      sim::Status s = client(loc).remove(t, ns, key);
      out = s.ok() ? "ok" : "error " + std::to_string(kv_error_status(s.error()));
      if (!s.ok()) last_error = s.error();
    });
    return out;
  }
  sim::Result<KvListResult> list(const std::string& loc, KvListOptions o,
                                 std::string_view ns = "ns") {
    std::optional<sim::Result<KvListResult>> out;
    run(loc, [&](sim::Task& t) { out.emplace(client(loc).list(t, ns, o)); });
    return std::move(*out);
  }
  // The last operation in the history of `kind`.
  const sim::Operation& last_op(std::string_view kind) {
    const auto& ops = w.history().ops();
    for (auto it = ops.rbegin(); it != ops.rend(); ++it) {
      if (it->kind == kind) return *it;
    }
    ADD_FAILURE() << "no op of kind " << kind;
    return ops.front();
  }

  sim::World w;
  KvService kv;
  Recorder rec;
  std::map<std::string, sim::Node*> pops;
  sim::Error last_error{sim::ErrorKind::kInvalid, ""};
};

// Option builders (designated initializers that skip fields trip -Wmissing-field-initializers).
KvPutOptions ttl_opt(std::int64_t seconds_from_now) {
  KvPutOptions o;
  o.expiration_ttl = seconds_from_now;
  return o;
}
KvPutOptions expiration_opt(std::int64_t unix_seconds) {
  KvPutOptions o;
  o.expiration = unix_seconds;
  return o;
}
KvPutOptions metadata_opt(std::string metadata) {
  KvPutOptions o;
  o.metadata = std::move(metadata);
  return o;
}
KvListOptions list_opt(std::string prefix, std::size_t limit = 1000, std::string cursor = "") {
  KvListOptions o;
  o.prefix = std::move(prefix);
  o.limit = limit;
  o.cursor = std::move(cursor);
  return o;
}

std::vector<std::string> names(const KvListResult& r) {
  std::vector<std::string> out;
  for (const auto& k : r.keys) out.push_back(k.name);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Propagation and caching.

TEST(Kv, FarPopReadsStaleInsideTheLagWindowThenConverges) {
  KvWorld k(1, fixed_lag(seconds(30)));
  EXPECT_EQ(k.put("lhr", "k", "v1"), "ok");
  k.advance_to(seconds(5));
  // syd never read k: its miss goes to kv-sin, which holds the write but not for syd until 30 s.
  EXPECT_EQ(k.get("syd", "k"), "null");
  EXPECT_EQ(k.last_op("get").output, "null");
  EXPECT_GE(k.kv.stats().stale_serves, 1u);
  EXPECT_EQ(k.rec.count("kv.read_stale"), 1u);
  k.advance_to(seconds(31));
  EXPECT_EQ(k.get("nrt", "k"), "v1");    // first read there, after the lag
  EXPECT_EQ(k.get("syd", "k"), "null");  // its absence stays cached (from 5 s, for 60 s)
  k.advance_to(seconds(66));
  EXPECT_EQ(k.get("syd", "k"), "v1");
  EXPECT_EQ(k.get("sjc", "k"), "v1");
  // Every PoP but the writer learned of the write through a kv.propagate event at 30 s.
  EXPECT_EQ(k.rec.count("kv.propagate"), 3u);
}

TEST(Kv, DefaultLagStaysWithinSixtySeconds) {
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    KvWorld k(seed);
    EXPECT_EQ(k.put("lhr", "k", "v1"), "ok");
    std::size_t stale = 0;
    for (const char* loc : {"sjc", "syd", "nrt"}) stale += k.get(loc, "early") == "null";
    EXPECT_EQ(k.put("lhr", "early", "e"), "ok");
    for (const char* loc : {"sjc", "syd", "nrt"}) stale += k.get(loc, "k") == "null";
    EXPECT_GE(stale, 4u) << "seed " << seed;  // the 3 misses of "early" plus >= 1 lagging "k"
    k.advance_to(seconds(61));
    // PoPs that read "k" early may still hold its absence; a PoP that never read it sees it.
    EXPECT_EQ(k.get("lhr", "k"), "v1");
    k.advance_to(seconds(125));
    for (const char* loc : {"lhr", "sjc", "syd", "nrt"}) {
      EXPECT_EQ(k.get(loc, "k"), "v1") << loc << " seed " << seed;
      EXPECT_EQ(k.get(loc, "early"), "e") << loc << " seed " << seed;
    }
  }
}

TEST(Kv, WriterPopSeesItsOwnWriteAtOnce) {
  KvWorld k(1, fixed_lag(seconds(30)));
  EXPECT_EQ(k.get("lhr", "k"), "null");  // cached absence
  EXPECT_EQ(k.put("lhr", "k", "v1"), "ok");
  EXPECT_EQ(k.get("lhr", "k"), "v1");
  k.advance_to(seconds(2));
  EXPECT_EQ(k.remove("lhr", "k"), "ok");
  EXPECT_EQ(k.get("lhr", "k"), "null");
  k.advance_to(seconds(4));
  EXPECT_EQ(k.put("lhr", "k", "v2"), "ok");
  EXPECT_EQ(k.get("lhr", "k"), "v2");
  // Still true after the cached copy expired: the writer gets no lag at the central store.
  k.advance_to(seconds(100));
  k.client("lhr").TEST_clear_cache();
  EXPECT_EQ(k.get("lhr", "k"), "v2");
}

TEST(Kv, MutantWithoutLocalReadYourWritesShowsTheWriterItsOldValue) {
  KvConfig c = fixed_lag(seconds(30));
  c.local_read_your_writes = false;
  KvWorld k(1, c);
  EXPECT_EQ(k.get("lhr", "k"), "null");
  EXPECT_EQ(k.put("lhr", "k", "v1"), "ok");
  EXPECT_EQ(k.get("lhr", "k"), "null");  // read-your-writes broken
  k.client("lhr").TEST_clear_cache();
  EXPECT_EQ(k.get("lhr", "k"), "null");  // even uncached: the write has not reached lhr
  k.advance_to(seconds(31));
  k.client("lhr").TEST_clear_cache();
  EXPECT_EQ(k.get("lhr", "k"), "v1");
  EXPECT_EQ(k.rec.count("kv.propagate"), 4u);  // the writer too
}

TEST(Kv, CacheTtlKeepsARecentlyReadKeyStale) {
  KvWorld k(1, fixed_lag(seconds(1)));
  EXPECT_EQ(k.put("lhr", "k", "v1"), "ok");
  k.advance_to(seconds(5));
  EXPECT_EQ(k.get("syd", "k"), "v1");  // cached at syd until ~65 s
  k.advance_to(seconds(10));
  EXPECT_EQ(k.put("lhr", "k", "v2"), "ok");
  k.advance_to(seconds(20));
  EXPECT_EQ(k.get("syd", "k"), "v1");  // stale: propagation took 1 s, the cache holds 60 s
  EXPECT_EQ(k.rec.count("kv.cache_hit"), 1u);
  EXPECT_EQ(k.get("sjc", "k"), "v2");  // no cached copy there
  k.advance_to(seconds(66));
  EXPECT_EQ(k.get("syd", "k"), "v2");

  // A longer cacheTtl keeps it stale longer.
  EXPECT_EQ(k.get("nrt", "k", KvGetOptions{seconds(300)}), "v2");
  k.advance_to(seconds(70));
  EXPECT_EQ(k.put("lhr", "k", "v3"), "ok");
  k.advance_to(seconds(300));
  EXPECT_EQ(k.get("nrt", "k"), "v2");
  k.advance_to(seconds(370));
  EXPECT_EQ(k.get("nrt", "k"), "v3");

  // Below the minimum: 400.
  EXPECT_EQ(k.get("nrt", "k", KvGetOptions{seconds(30)}), "error 400");
  EXPECT_EQ(k.last_op("get").status, sim::OpStatus::kFail);
}

TEST(Kv, MiniflareMinimumCacheTtlIsAKnob) {
  KvConfig c = fixed_lag(seconds(1));
  c.cache_ttl_min = seconds(30);
  KvWorld k(1, c);
  EXPECT_EQ(k.get("syd", "k", KvGetOptions{seconds(30)}), "null");
  EXPECT_EQ(k.put("lhr", "k", "v"), "ok");
  k.advance_to(seconds(20));
  EXPECT_EQ(k.get("syd", "k"), "null");
  k.advance_to(seconds(31));
  EXPECT_EQ(k.get("syd", "k"), "v");
}

TEST(Kv, NegativeLookupsAreCached) {
  KvWorld k(1, fixed_lag(seconds(1)));
  EXPECT_EQ(k.get("syd", "k"), "null");  // absence cached at syd for 60 s
  k.advance_to(seconds(1));
  EXPECT_EQ(k.put("lhr", "k", "v"), "ok");
  k.advance_to(seconds(10));
  EXPECT_EQ(k.get("syd", "k"), "null");
  EXPECT_EQ(k.get("sjc", "k"), "v");
  k.advance_to(seconds(61));
  EXPECT_EQ(k.get("syd", "k"), "v");
}

TEST(Kv, ACrashedPopComesBackWithAColdCache) {
  KvWorld k(1, fixed_lag(seconds(1)));
  EXPECT_EQ(k.put("lhr", "k", "v1"), "ok");
  k.advance_to(seconds(2));
  EXPECT_EQ(k.get("syd", "k"), "v1");
  k.advance_to(seconds(3));
  EXPECT_EQ(k.put("lhr", "k", "v2"), "ok");
  k.advance_to(seconds(5));
  EXPECT_EQ(k.get("syd", "k"), "v1");
  EXPECT_GT(k.client("syd").cache_entries(), 0u);
  k.w.crash(k.pop("syd"));
  EXPECT_EQ(k.client("syd").cache_entries(), 0u);
  k.w.restart(k.pop("syd"));
  EXPECT_EQ(k.get("syd", "k"), "v2");
}

// ---------------------------------------------------------------------------------------------
// Limits.

TEST(Kv, OneWritePerSecondPerKey) {
  KvWorld k(1, fixed_lag(seconds(1)));
  EXPECT_EQ(k.put("lhr", "k", "a"), "ok");
  EXPECT_EQ(k.put("lhr", "k", "b"), "error 429");
  EXPECT_EQ(k.last_error.kind, sim::ErrorKind::kOverloaded);
  EXPECT_NE(k.last_error.message.find("KV PUT failed: 429 Too Many Requests"), std::string::npos);
  EXPECT_EQ(k.last_op("put").status, sim::OpStatus::kFail);
  EXPECT_EQ(k.last_op("put").effect_seq, 0u);
  EXPECT_EQ(k.remove("lhr", "k"), "error 429");  // a delete is a write
  EXPECT_EQ(k.get("lhr", "k"), "a");
  EXPECT_EQ(k.put("lhr", "other", "x"), "ok");  // the limit is per key
  k.advance_to(seconds(1.5));
  EXPECT_EQ(k.put("lhr", "k", "c"), "ok");
  EXPECT_EQ(k.get("lhr", "k"), "c");
  EXPECT_EQ(k.kv.stats().writes_rate_limited, 2u);
  EXPECT_EQ(k.rec.count("kv.rate_limited"), 2u);

  // Two PoPs writing one key at the same instant: the primary takes exactly one.
  k.advance_to(seconds(10));
  std::vector<std::string> outcomes;
  int done = 0;
  for (const char* loc : {"sjc", "nrt"}) {
    k.w.spawn(k.pop(loc), "writer", [&, loc](sim::Task& t) {
      sim::Status s = k.client(loc).put(t, "ns", "race", loc);
      outcomes.push_back(s.ok() ? "ok" : std::to_string(kv_error_status(s.error())));
      ++done;
    });
  }
  k.advance_to(seconds(12));
  ASSERT_EQ(done, 2);
  std::sort(outcomes.begin(), outcomes.end());
  EXPECT_EQ(outcomes, (std::vector<std::string>{"429", "ok"}));
}

TEST(Kv, SizeLimits) {
  KvWorld k(1);
  EXPECT_EQ(k.put("lhr", std::string(513, 'k'), "v"), "error 414");
  EXPECT_EQ(k.last_error.kind, sim::ErrorKind::kInvalid);
  EXPECT_NE(k.last_error.message.find("KV PUT failed: 414 UTF-8 encoded length of 513 exceeds key "
                                      "length limit of 512."),
            std::string::npos);
  EXPECT_EQ(k.get("lhr", std::string(513, 'k')), "error 414");
  EXPECT_EQ(k.put("lhr", std::string(512, 'k'), "v"), "ok");
  EXPECT_EQ(k.put("lhr", "", "v"), "error 400");
  EXPECT_EQ(k.put("lhr", ".", "v"), "error 400");
  EXPECT_EQ(k.get("lhr", ".."), "error 400");

  EXPECT_EQ(k.put("lhr", "big", std::string(25 * 1024 * 1024 + 1, 'x')), "error 413");
  EXPECT_EQ(k.last_error.kind, sim::ErrorKind::kOverloaded);
  // The largest value goes through: the network's datagram limit leaves room for it.
  EXPECT_EQ(k.put("lhr", "big", std::string(25 * 1024 * 1024, 'x')), "ok");
  k.advance_to(seconds(70));
  k.run("syd", [&](sim::Task& t) {
    auto r = k.client("syd").get(t, "ns", "big");
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE(r.value().has_value());
    EXPECT_EQ(r.value()->size(), 25u * 1024 * 1024);
  });
  // Big values are recorded as a size and a hash.
  EXPECT_EQ(k.last_op("get").output.rfind("h:26214400:", 0), 0u);

  EXPECT_EQ(k.put("lhr", "m", "v", metadata_opt(std::string(1025, 'm'))), "error 413");
  EXPECT_NE(k.last_error.message.find("Metadata length of 1025 exceeds limit of 1024."),
            std::string::npos);
  EXPECT_EQ(k.put("lhr", "m", "v", metadata_opt(std::string(1024, 'm'))), "ok");
  // None of the rejected calls reached a store.
  EXPECT_EQ(k.kv.stats().writes_accepted, 3u);
}

TEST(Kv, LimitsAreKnobs) {
  KvConfig c;
  c.value_bytes_max = 1024;
  c.key_bytes_max = 8;
  KvWorld k(1, c);
  EXPECT_EQ(k.put("lhr", "k", std::string(1024, 'x')), "ok");
  EXPECT_EQ(k.put("lhr", "k2", std::string(1025, 'x')), "error 413");
  EXPECT_EQ(k.put("lhr", "123456789", "x"), "error 414");
}

// ---------------------------------------------------------------------------------------------
// Expiration on the virtual clock.

TEST(Kv, ExpirationTtlOnTheVirtualClock) {
  KvWorld k(1, fixed_lag(seconds(1)));
  EXPECT_EQ(k.put("lhr", "k", "v", ttl_opt(60)), "ok");
  k.advance_to(seconds(30));
  EXPECT_EQ(k.get("lhr", "k"), "v");
  EXPECT_EQ(k.get("syd", "k"), "v");
  {
    auto l = k.list("lhr", {});
    ASSERT_TRUE(l.ok());
    ASSERT_EQ(l.value().keys.size(), 1u);
    EXPECT_EQ(l.value().keys[0].expiration, kKvEpochUnixSeconds + 60);
  }
  k.advance_to(seconds(60));
  EXPECT_EQ(k.get("lhr", "k"), "null");  // from lhr's cache: the entry knows its expiry
  EXPECT_EQ(k.get("syd", "k"), "null");
  EXPECT_EQ(k.get("nrt", "k"), "null");  // from the central store
  auto l = k.list("sjc", {});
  ASSERT_TRUE(l.ok());
  EXPECT_TRUE(l.value().keys.empty());

  EXPECT_EQ(k.put("lhr", "short", "v", ttl_opt(59)), "error 400");
  EXPECT_NE(k.last_error.message.find("Invalid expiration_ttl of 59. Expiration TTL must be at "
                                      "least 60."),
            std::string::npos);
}

TEST(Kv, AbsoluteExpiration) {
  KvWorld k(1, fixed_lag(seconds(1)));
  k.advance_to(seconds(10));
  const std::int64_t at = kKvEpochUnixSeconds + 200;
  EXPECT_EQ(k.put("lhr", "k", "v", expiration_opt(at)), "ok");
  k.advance_to(seconds(199));
  EXPECT_EQ(k.get("sjc", "k"), "v");
  k.advance_to(seconds(200));
  EXPECT_EQ(k.get("sjc", "k"), "null");
  EXPECT_EQ(k.get("lhr", "k"), "null");
  // Less than 60 s ahead, or in the past: 400.
  EXPECT_EQ(k.put("lhr", "k2", "v", expiration_opt(kKvEpochUnixSeconds + 250)), "error 400");
  EXPECT_EQ(k.put("lhr", "k2", "v", expiration_opt(1)), "error 400");
  // expirationTtl wins over expiration.
  KvPutOptions both = ttl_opt(60);
  both.expiration = kKvEpochUnixSeconds + 100'000;
  EXPECT_EQ(k.put("lhr", "k3", "v", both), "ok");
  k.advance_to(seconds(261));
  EXPECT_EQ(k.get("lhr", "k3"), "null");
}

// ---------------------------------------------------------------------------------------------
// List.

TEST(Kv, ListWithPrefixLimitAndCursor) {
  KvWorld k(1, fixed_lag(seconds(1)));
  KvPutOptions a2 = ttl_opt(3600);
  a2.metadata = "{\"n\":2}";
  EXPECT_EQ(k.put("lhr", "a/2", "v", a2), "ok");
  for (const char* key : {"a/3", "a/1", "b/1", "a/5", "a/4", "gone"}) {
    EXPECT_EQ(k.put("lhr", key, "v"), "ok");
  }
  k.advance_to(seconds(2));
  EXPECT_EQ(k.remove("lhr", "gone"), "ok");
  k.advance_to(seconds(5));

  auto p1 = k.list("syd", list_opt("a/", 2));
  ASSERT_TRUE(p1.ok());
  EXPECT_EQ(names(p1.value()), (std::vector<std::string>{"a/1", "a/2"}));
  EXPECT_FALSE(p1.value().list_complete);
  ASSERT_FALSE(p1.value().cursor.empty());
  EXPECT_EQ(p1.value().keys[1].metadata, "{\"n\":2}");
  EXPECT_EQ(p1.value().keys[1].expiration, kKvEpochUnixSeconds + 3600);
  EXPECT_FALSE(p1.value().keys[0].metadata.has_value());
  EXPECT_FALSE(p1.value().keys[0].expiration.has_value());
  EXPECT_EQ(k.last_op("list").output, "keys=a/1,a/2 list_complete=false");

  auto p2 = k.list("syd", list_opt("a/", 2, p1.value().cursor));
  ASSERT_TRUE(p2.ok());
  EXPECT_EQ(names(p2.value()), (std::vector<std::string>{"a/3", "a/4"}));
  EXPECT_FALSE(p2.value().list_complete);
  auto p3 = k.list("syd", list_opt("a/", 2, p2.value().cursor));
  ASSERT_TRUE(p3.ok());
  EXPECT_EQ(names(p3.value()), (std::vector<std::string>{"a/5"}));
  EXPECT_TRUE(p3.value().list_complete);
  EXPECT_TRUE(p3.value().cursor.empty());

  auto all = k.list("nrt", {});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(names(all.value()),
            (std::vector<std::string>{"a/1", "a/2", "a/3", "a/4", "a/5", "b/1"}));
  EXPECT_TRUE(all.value().list_complete);
  // Exactly `limit` keys left: complete, no cursor.
  auto b = k.list("nrt", list_opt("b/", 1));
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b.value().list_complete);
  // Another namespace is empty.
  auto other = k.list("nrt", {}, "other");
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(other.value().keys.empty());

  EXPECT_EQ(kv_error_status(k.list("lhr", list_opt("", 1001)).error()), 400);
  EXPECT_EQ(kv_error_status(k.list("lhr", list_opt("", 0)).error()), 400);
  EXPECT_EQ(kv_error_status(k.list("lhr", list_opt("", 1000, "zz")).error()), 400);
  EXPECT_EQ(k.last_op("list").status, sim::OpStatus::kFail);
}

TEST(Kv, ListSeesWritesOnlyAfterTheyReachThePop) {
  KvWorld k(1, fixed_lag(seconds(30)));
  EXPECT_EQ(k.put("lhr", "x", "v"), "ok");
  k.advance_to(seconds(1));
  auto here = k.list("lhr", {});
  auto far = k.list("syd", {});
  ASSERT_TRUE(here.ok());
  ASSERT_TRUE(far.ok());
  EXPECT_EQ(here.value().keys.size(), 1u);
  EXPECT_EQ(far.value().keys.size(), 0u);
  k.advance_to(seconds(31));
  far = k.list("syd", {});
  ASSERT_TRUE(far.ok());
  EXPECT_EQ(far.value().keys.size(), 1u);
}

// ---------------------------------------------------------------------------------------------
// Faults.

TEST(Kv, CentralStoresUnreachableDuringAPartition) {
  KvWorld k(1, fixed_lag(seconds(1)));
  EXPECT_EQ(k.put("lhr", "cached", "v"), "ok");
  k.advance_to(seconds(2));
  EXPECT_EQ(k.get("syd", "cached"), "v");
  std::vector<sim::NodeId> centrals;
  for (sim::Node* n : k.kv.central_nodes()) centrals.push_back(n->id());
  k.w.net().partition({k.pop("syd").id()}, centrals);

  EXPECT_EQ(k.get("syd", "cached"), "v");  // a fresh cached entry needs no central store
  const sim::Time before = k.w.now();
  EXPECT_EQ(k.get("syd", "uncached"), "error 503");  // a miss does
  EXPECT_GE(k.w.now() - before, 3 * seconds(1));     // one timeout per central store
  EXPECT_LT(k.w.now() - before, 3 * seconds(1) + millis(10));
  EXPECT_EQ(k.last_op("get").status, sim::OpStatus::kFail);
  EXPECT_EQ(k.put("syd", "w", "v"), "error 503");
  EXPECT_EQ(k.last_error.kind, sim::ErrorKind::kTimeout);
  EXPECT_EQ(k.last_op("put").status, sim::OpStatus::kUnknown);  // the request may be in flight
  EXPECT_EQ(kv_error_status(k.list("syd", {}).error()), 503);

  k.w.net().heal();
  EXPECT_EQ(k.get("syd", "uncached"), "null");
  k.advance_to(seconds(20));
  EXPECT_EQ(k.put("syd", "w", "v"), "ok");
}

TEST(Kv, ReadsFailOverToAReplicaWhenThePrimaryIsCutOff) {
  KvWorld k(1, fixed_lag(seconds(1)));
  EXPECT_EQ(k.put("lhr", "k", "v"), "ok");
  k.advance_to(seconds(2));
  k.w.net().partition({k.pop("sjc").id()}, {k.kv.primary().id()});
  EXPECT_EQ(k.get("sjc", "k"), "v");  // kv-iad is sjc's nearest; kv-fra answers after a timeout
  EXPECT_EQ(k.put("sjc", "k2", "v"), "error 503");  // writes need the primary
  k.w.net().heal();
}

TEST(Kv, AReplicaCutOffFromThePrimaryCatchesUpAfterTheHeal) {
  KvWorld k(1, fixed_lag(seconds(1)));
  sim::Node& sin = *k.kv.central_nodes()[2];
  k.w.net().partition({sin.id()}, {k.kv.primary().id()});
  EXPECT_EQ(k.put("lhr", "k", "v"), "ok");
  k.advance_to(seconds(30));
  EXPECT_EQ(k.kv.TEST_applied_seq(2), 0u);
  EXPECT_EQ(k.get("syd", "k"), "null");  // syd reads from kv-sin, which has not got the write
  k.w.net().heal();
  k.advance_to(seconds(35));
  EXPECT_EQ(k.kv.TEST_applied_seq(2), 1u);
  EXPECT_EQ(k.kv.TEST_central_value(2, "ns", "k"), "v");
  EXPECT_EQ(k.get("nrt", "k"), "v");
}

TEST(Kv, CentralStoresKeepTheirDataAcrossCrashes) {
  KvWorld k(1, fixed_lag(seconds(1)));
  EXPECT_EQ(k.put("lhr", "k", "v"), "ok");
  k.advance_to(seconds(2));
  k.w.crash(k.kv.primary());
  EXPECT_EQ(k.put("lhr", "k2", "v"), "error 503");  // refused at once: kUnreachable, no effect
  EXPECT_EQ(k.last_error.kind, sim::ErrorKind::kUnreachable);
  EXPECT_EQ(k.last_op("put").status, sim::OpStatus::kFail);
  EXPECT_EQ(k.get("sjc", "k"), "v");  // kv-iad refuses, kv-fra answers
  k.advance_to(seconds(5));
  k.w.restart(k.kv.primary());
  EXPECT_EQ(k.kv.TEST_central_value(0, "ns", "k"), "v");
  EXPECT_EQ(k.put("lhr", "k2", "v2"), "ok");
  k.advance_to(seconds(10));
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(k.kv.TEST_central_value(i, "ns", "k2"), "v2");
}

TEST(Kv, AWriteInterruptedByAPopCrashIsUnknownAndMayStillApply) {
  KvWorld k(1, fixed_lag(seconds(1)));
  k.w.spawn(k.pop("lhr"), "writer", [&](sim::Task& t) {
    (void)k.client("lhr").put(t, "ns", "k", "v");
    ADD_FAILURE() << "the crash should have unwound the call";
  });
  k.advance_to(millis(10));  // the request is on its way to kv-iad
  k.w.crash(k.pop("lhr"));
  const sim::Operation& put = k.last_op("put");
  EXPECT_EQ(put.status, sim::OpStatus::kUnknown);
  k.advance_to(seconds(3));
  EXPECT_NE(k.w.history().op(put.id).effect_seq, 0u);  // it did take effect
  EXPECT_EQ(k.get("sjc", "k"), "v");
  k.w.restart(k.pop("lhr"));
  EXPECT_EQ(k.get("lhr", "k"), "v");
}

TEST(Kv, CentralStoreNamesAreAKnob) {
  KvConfig c;
  c.central_locations = {"ord", "ord", "ams"};
  c.central_names = {"kv-1", "kv-2", "kv-3"};
  KvWorld k(1, c);
  EXPECT_EQ(k.kv.primary().name(), "kv-1");
  EXPECT_EQ(k.kv.central_nodes()[2]->location().code, "ams");
  EXPECT_EQ(k.put("lhr", "k", "v"), "ok");
  k.advance_to(seconds(2));
  EXPECT_EQ(k.kv.TEST_applied_seq(1), 1u);
  EXPECT_EQ(k.kv.TEST_applied_seq(2), 1u);
}

TEST(Kv, DuplicatedRequestsApplyOnce) {
  KvWorld k(1, fixed_lag(seconds(1)));
  k.w.net().config().duplicate = 1.0;
  EXPECT_EQ(k.put("lhr", "k", "v"), "ok");
  EXPECT_EQ(k.kv.stats().writes_accepted, 1u);
  EXPECT_EQ(k.kv.stats().writes_rate_limited, 0u);
  k.advance_to(seconds(3));
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(k.kv.TEST_applied_seq(i), 1u);
}

TEST(Kv, LagSpikesFromACodeSite) {
  KvConfig c = fixed_lag(seconds(10));
  c.lag_spike_probability = 1.0;
  c.lag_spike_multiplier = 10;
  // The seed decides whether a code site is on in a run (a quarter of runs): find such a seed.
  std::uint64_t seed = 0;
  for (std::uint64_t s = 1; s <= 64 && seed == 0; ++s) {
    KvWorld probe(s, c);
    probe.w.faults().set_sites_enabled(true);
    EXPECT_EQ(probe.put("lhr", "k", "v"), "ok");
    if (probe.kv.stats().lag_spikes > 0) seed = s;
  }
  ASSERT_NE(seed, 0u);
  KvWorld k(seed, c);
  k.w.faults().set_sites_enabled(true);
  EXPECT_EQ(k.put("lhr", "k", "v"), "ok");
  EXPECT_EQ(k.kv.stats().lag_spikes, 3u);
  EXPECT_EQ(k.rec.count("kv.lag_spike"), 3u);
  EXPECT_EQ(k.rec.count("fault.site"), 3u);
  k.advance_to(seconds(50));
  EXPECT_EQ(k.get("syd", "k"), "null");  // 10 s x 10
  k.advance_to(seconds(101));
  EXPECT_EQ(k.get("nrt", "k"), "v");
}

TEST(Kv, LagMultiplierFromAScenario) {
  KvWorld k(1, fixed_lag(seconds(10)));
  k.kv.set_lag_multiplier(3);
  EXPECT_EQ(k.put("lhr", "k", "v"), "ok");
  k.advance_to(seconds(20));
  EXPECT_EQ(k.get("syd", "k"), "null");
  k.advance_to(seconds(31));
  EXPECT_EQ(k.get("nrt", "k"), "v");
}

// ---------------------------------------------------------------------------------------------
// History.

TEST(Kv, HistoryRecordsEveryReadAndWrite) {
  KvWorld k(1, fixed_lag(seconds(1)));
  EXPECT_EQ(k.get("lhr", "k"), "null");
  EXPECT_EQ(k.put("lhr", "k", "hello"), "ok");
  EXPECT_EQ(k.get("lhr", "k"), "hello");
  EXPECT_EQ(k.put("lhr", "k", "again"), "error 429");
  k.advance_to(seconds(2));
  EXPECT_EQ(k.remove("lhr", "k"), "ok");
  EXPECT_EQ(k.put("lhr", "null", "null"), "ok");  // the value "null" is not an absence
  EXPECT_EQ(k.get("lhr", "null"), "null");
  const auto& ops = k.w.history().ops();
  ASSERT_EQ(ops.size(), 7u);
  const sim::Operation& get0 = ops[0];
  EXPECT_EQ(get0.object, "kv:ns");
  EXPECT_EQ(get0.key, "k");
  EXPECT_EQ(get0.kind, "get");
  EXPECT_EQ(get0.output, kKvHistoryAbsent);
  EXPECT_EQ(get0.status, sim::OpStatus::kOk);
  EXPECT_EQ(get0.client.rfind("pop-lhr/t", 0), 0u);
  EXPECT_EQ(ops[1].kind, "put");
  EXPECT_EQ(ops[1].input, "v:hello");
  EXPECT_EQ(ops[1].effect_seq, 1u);
  EXPECT_LT(ops[1].invoke, ops[1].complete);
  EXPECT_EQ(ops[2].output, "v:hello");
  EXPECT_EQ(ops[3].status, sim::OpStatus::kFail);
  EXPECT_EQ(ops[3].effect_seq, 0u);
  EXPECT_EQ(ops[4].kind, "delete");
  EXPECT_EQ(ops[4].effect_seq, 2u);
  EXPECT_EQ(ops[5].input, "v:null");
  EXPECT_EQ(ops[6].output, "v:null");
  EXPECT_EQ(k.w.history().pending(), 0u);
  // Encodings.
  EXPECT_EQ(kv_history_value("abc"), "v:abc");
  EXPECT_EQ(kv_history_value(std::string(300, 'x')).rfind("h:300:", 0), 0u);
  EXPECT_EQ(kv_history_value(std::string(300, 'x')).size(), 6u + 16u);
  EXPECT_EQ(kv_history_escape("a,b c%=\n"), "a%2Cb%20c%25%3D%0A");
}

TEST(Kv, ErrorStatusParsesOnlyKvErrors) {
  EXPECT_EQ(kv_error_status(sim::Error{sim::ErrorKind::kOverloaded, "KV PUT failed: 429 Too"}),
            429);
  EXPECT_EQ(kv_error_status(sim::Error{sim::ErrorKind::kTimeout, "no reply"}), 0);
  EXPECT_EQ(kv_error_status(sim::Error{sim::ErrorKind::kTimeout, "KV GET failed: 5"}), 0);
}

TEST(KvWire, MalformedInputFailsInsteadOfReadingPastTheEnd) {
  kv_internal::WireWriter w;
  w.str("hello");
  std::string s = w.take();
  kv_internal::WireReader ok(s);
  EXPECT_EQ(ok.str(), "hello");
  EXPECT_TRUE(ok.done());
  kv_internal::WireReader cut(std::string_view(s).substr(0, 10));
  EXPECT_EQ(cut.str(), "");
  EXPECT_FALSE(cut.ok());
  kv_internal::WireReader empty("");
  EXPECT_EQ(kv_internal::decode_version(empty), nullptr);
}

// ---------------------------------------------------------------------------------------------
// Determinism.

// A mixed workload: every PoP gets, puts, deletes and lists a few keys for `length`, with the
// default (random) lags. Returns the history and the trace as text.
std::string run_workload(std::uint64_t seed, sim::Duration length, bool mutant = false) {
  KvConfig c;
  c.local_read_your_writes = !mutant;
  KvWorld k(seed, c);
  k.w.faults().set_sites_enabled(true);
  for (auto& [loc, node] : k.pops) {
    KvClient* client = &k.client(loc);
    k.w.spawn(*node, "workload", [&k, client, length, name = node->name()](sim::Task& t) {
      sim::Rng rng = k.w.rng("workload/" + name);
      while (t.now() < length) {
        t.sleep(millis(rng.uniform(10, 2000)));
        const std::string key = "k" + std::to_string(rng.below(6));
        const std::uint64_t dice = rng.below(100);
        if (dice < 55) {
          (void)client->get(t, "ns", key);
        } else if (dice < 85) {
          (void)client->put(t, "ns", key, name + "@" + std::to_string(t.now()));
        } else if (dice < 95) {
          (void)client->remove(t, "ns", key);
        } else {
          (void)client->list(t, "ns", list_opt("", 3));
        }
      }
    });
  }
  EXPECT_TRUE(k.w.run_until(length + 10 * kSecond));
  std::string out;
  for (const auto& op : k.w.history().ops()) {
    out += std::to_string(op.id) + " " + op.client + " " + op.kind + " " + op.key + " " + op.input +
           " -> " + sim::op_status_name(op.status) + " " + op.output + " [" +
           std::to_string(op.invoke) + "," + std::to_string(op.complete) + "] e" +
           std::to_string(op.effect_seq) + "\n";
  }
  for (const auto& e : k.rec.events) out += e + "\n";
  return out;
}

TEST(Kv, SameSeedSameHistoryAndTrace) {
  const std::string a = run_workload(7, seconds(120));
  const std::string b = run_workload(7, seconds(120));
  EXPECT_EQ(a, b);
  EXPECT_NE(a.find("kv.propagate"), std::string::npos);
  EXPECT_NE(a, run_workload(8, seconds(120)));
}

RC_GTEST_PROP(KvProperty, ARunIsAFunctionOfItsSeed, (std::uint64_t seed)) {
  RC_ASSERT(run_workload(seed, seconds(20)) == run_workload(seed, seconds(20)));
}

// Convergence: once writes stop, every PoP reads every key's final value (the primary's) within
// the propagation bound plus cacheTtl, whatever the seed and the interleaving.
RC_GTEST_PROP(KvProperty, EveryPopConvergesWithinLagPlusCacheTtl, (std::uint64_t seed)) {
  KvWorld k(seed);
  const sim::Duration length = seconds(20);
  for (auto& [loc, node] : k.pops) {
    KvClient* client = &k.client(loc);
    k.w.spawn(*node, "workload", [&k, client, length, name = node->name()](sim::Task& t) {
      sim::Rng rng = k.w.rng("conv/" + name);
      while (t.now() < length) {
        t.sleep(millis(rng.uniform(10, 1000)));
        const std::string key = "k" + std::to_string(rng.below(4));
        const std::uint64_t dice = rng.below(10);
        if (dice < 5) {
          (void)client->get(t, "ns", key);
        } else if (dice < 9) {
          (void)client->put(t, "ns", key, name + "@" + std::to_string(t.now()));
        } else {
          (void)client->remove(t, "ns", key);
        }
      }
    });
  }
  // The last write completes by `length` + one round trip; lags are at most 60 s.
  k.advance_to(length + seconds(1) + seconds(60) + seconds(60));
  for (int i = 0; i < 4; ++i) {
    const std::string key = "k" + std::to_string(i);
    const std::string final_value = k.kv.TEST_central_value(0, "ns", key).value_or("null");
    for (const char* loc : {"lhr", "sjc", "syd", "nrt"}) {
      RC_ASSERT(k.get(loc, key) == final_value);
    }
  }
}

// The writing PoP reads its own write while its cache entry lives: checked on a random workload,
// for every get at a PoP that follows that PoP's own successful put of the key by less than a
// second (nothing else can have written the key in between: one write per second per key).
int ryw_violations(std::uint64_t seed, bool mutant) {
  KvConfig c;
  c.local_read_your_writes = !mutant;
  KvWorld k(seed, c);
  int violations = 0;
  for (auto& [loc, node] : k.pops) {
    KvClient* client = &k.client(loc);
    k.w.spawn(*node, "ryw", [&k, client, &violations, name = node->name()](sim::Task& t) {
      sim::Rng rng = k.w.rng("ryw/" + name);
      for (int i = 0; i < 20; ++i) {
        t.sleep(millis(rng.uniform(1000, 3000)));
        const std::string key = "k" + std::to_string(rng.below(3));
        (void)client->get(t, "ns", key);  // warm the cache with the old value
        const std::string value = name + "#" + std::to_string(i);
        if (!client->put(t, "ns", key, value).ok()) continue;
        auto r = client->get(t, "ns", key);
        if (r.ok() && r.value() != value) ++violations;
      }
    });
  }
  EXPECT_TRUE(k.w.run_until(seconds(100)));
  return violations;
}

TEST(Kv, ReadYourWritesHoldsAndTheMutantBreaksIt) {
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    EXPECT_EQ(ryw_violations(seed, false), 0) << "seed " << seed;
    EXPECT_GT(ryw_violations(seed, true), 0) << "seed " << seed;
  }
}

}  // namespace
}  // namespace services
