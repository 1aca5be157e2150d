// Tests of the wrangler.jsonc parser and of JsoncIndex, the key-position index behind its errors.
#include "scenarios/spec/wrangler.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <nlohmann/json.hpp>

#include "scenarios/spec/jsonc.h"
#include "scenarios/spec/util.h"
#include "sim/rng.h"

namespace scenarios::spec {
namespace {

std::string error_of(std::string_view text) {
  auto parsed = parse_wrangler(text, "wrangler.jsonc");
  if (parsed.ok()) return "(parsed)";
  return parsed.error().message;
}

TEST(Wrangler, ParsesEverySupportedKey) {
  const char* text = R"({
    // Comments are fine.
    /* So are block comments. */
    "$schema": "node_modules/wrangler/config-schema.json",
    "name": "shop",
    "main": "src/index.js",
    "compatibility_date": "2025-04-01",
    "compatibility_flags": ["nodejs_compat"],
    "vars": { "MODE": "test", "LIMITS": { "max": 3 }, "ON": true },
    "kv_namespaces": [{ "binding": "FLAGS", "id": "flags-id" }, { "binding": "CACHE" }],
    "durable_objects": {
      "bindings": [
        { "name": "CART", "class_name": "Cart" },
        { "name": "LEDGER", "class_name": "Ledger", "script_name": "ledger" }
      ]
    },
    "migrations": [
      { "tag": "v1", "new_classes": ["Basket"] },
      { "tag": "v2", "renamed_classes": [{ "from": "Basket", "to": "Cart" }],
        "new_sqlite_classes": ["Audit"] },
      { "tag": "v3", "deleted_classes": ["Audit"] }
    ],
    "queues": {
      "producers": [{ "binding": "ORDERS", "queue": "orders", "delivery_delay": 2 }],
      "consumers": [{ "queue": "orders", "max_batch_size": 5, "max_batch_timeout": 1.5,
                      "max_retries": 2, "dead_letter_queue": "orders-dlq", "retry_delay": 10,
                      "max_concurrency": 4 }]
    },
    "d1_databases": [{ "binding": "DB", "database_name": "shop", "database_id": "abc",
                       "migrations_dir": "migrations" }],
    "r2_buckets": [{ "binding": "IMAGES", "bucket_name": "images" }],
    "workflows": [{ "binding": "CHECKOUT", "name": "checkout", "class_name": "Checkout" }],
    "triggers": { "crons": ["*/5 * * * *", "0 0 L * *", "0 12 * * MON#2"] },
    "limits": { "cpu_ms": 50 }
  })";
  auto parsed = parse_wrangler(text, "wrangler.jsonc");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  const WranglerConfig& c = *parsed;
  EXPECT_EQ(c.name, "shop");
  EXPECT_EQ(c.main, "src/index.js");
  EXPECT_EQ(c.main_where, "wrangler.jsonc:6:5");
  EXPECT_EQ(c.compatibility_flags, std::vector<std::string>{"nodejs_compat"});
  EXPECT_EQ(c.vars.at("MODE"), (WranglerVar{false, "test"}));
  EXPECT_EQ(c.vars.at("LIMITS"), (WranglerVar{true, "{\"max\":3}"}));
  EXPECT_EQ(c.vars.at("ON"), (WranglerVar{true, "true"}));
  EXPECT_EQ(c.kv_namespaces[1], (KvNamespace{"CACHE", "CACHE"}));  // id defaults to the binding
  ASSERT_EQ(c.durable_objects.size(), 2u);
  EXPECT_EQ(c.durable_objects[1].script_name, "ledger");
  EXPECT_EQ(c.durable_objects[0].where, "wrangler.jsonc:13:9");
  EXPECT_EQ(c.durable_object_classes, (std::map<std::string, bool>{{"Cart", false}}));
  EXPECT_EQ(c.migrations[1].renamed_classes,
            (std::vector<std::pair<std::string, std::string>>{{"Basket", "Cart"}}));
  EXPECT_EQ(c.queue_producers[0].delivery_delay, 2 * sim::kSecond);
  const QueueConsumer& q = c.queue_consumers[0];
  EXPECT_EQ(q.max_batch_size, 5);
  EXPECT_EQ(q.max_batch_timeout, 1500 * sim::kMillisecond);
  EXPECT_EQ(q.max_retries, 2);
  EXPECT_EQ(q.dead_letter_queue, "orders-dlq");
  EXPECT_EQ(q.retry_delay, 10 * sim::kSecond);
  EXPECT_EQ(q.max_concurrency, 4);
  EXPECT_EQ(c.d1_databases[0].migrations_dir, "migrations");
  EXPECT_EQ(c.r2_buckets[0].bucket_name, "images");
  EXPECT_EQ(c.workflows[0].class_name, "Checkout");
  EXPECT_EQ(c.crons.size(), 3u);
  EXPECT_EQ(c.cpu_ms, 50);
  EXPECT_EQ(c.ignored_keys, std::vector<std::string>{"$schema"});
  EXPECT_EQ(c.env_names(),
            (std::vector<std::string>{"CACHE", "CART", "CHECKOUT", "DB", "FLAGS", "IMAGES",
                                      "LEDGER", "LIMITS", "MODE", "ON", "ORDERS"}));
}

TEST(Wrangler, DefaultsAreAbsent) {
  auto parsed = parse_wrangler("{}", "w.json");
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed->name.empty());
  EXPECT_EQ(parsed->main_where, "w.json:1:1");
  EXPECT_FALSE(parsed->cpu_ms.has_value());
  // A UTF-8 byte order mark is allowed.
  EXPECT_EQ(error_of("\xEF\xBB\xBF{ \"name\": \"a\" }"), "(parsed)");
}

TEST(Wrangler, UnknownKeyNamesItsLineAndPath) {
  EXPECT_EQ(error_of("{\n"
                     "  \"name\": \"a\",\n"
                     "  \"durable_objects\": {\n"
                     "    \"bindings\": [\n"
                     "      { \"name\": \"C\", \"class_name\": \"Counter\" },\n"
                     "      { \"name\": \"D\",\n"
                     "        \"clas_name\": \"Counter\" }\n"
                     "    ]\n"
                     "  },\n"
                     "  \"migrations\": [{ \"tag\": \"v1\", \"new_classes\": [\"Counter\"] }]\n"
                     "}\n"),
            "wrangler.jsonc:7:9: durable_objects.bindings[1]: unknown key \"clas_name\" (did you "
            "mean \"class_name\"?)\n"
            "wrangler.jsonc:6:7: durable_objects.bindings[1]: missing key \"class_name\"");
  EXPECT_EQ(error_of("{ \"mian\": \"index.js\" }"),
            "wrangler.jsonc:1:3: unknown key \"mian\" (did you mean \"main\"?)");
  EXPECT_EQ(error_of("{ \"env\": {} }"), "wrangler.jsonc:1:3: unknown key \"env\"");
}

TEST(Wrangler, SameKeyNameElsewhereDoesNotConfuseTheLine) {
  // "name" appears at the top, in vars, and in two bindings; the error is about the second
  // binding's "name" on line 6.
  EXPECT_EQ(error_of("{\n"
                     "  \"name\": \"app\",\n"
                     "  \"vars\": { \"name\": \"x\" },\n"
                     "  \"kv_namespaces\": [\n"
                     "    { \"binding\": \"A\" },\n"
                     "    { \"name\": \"B\" }\n"
                     "  ]\n"
                     "}\n"),
            "wrangler.jsonc:6:7: kv_namespaces[1]: unknown key \"name\"\n"
            "wrangler.jsonc:6:5: kv_namespaces[1]: missing key \"binding\"");
}

TEST(Wrangler, TypeErrors) {
  EXPECT_EQ(error_of("{\n  \"main\": 3\n}"),
            "wrangler.jsonc:2:3: main: expected a string, got number");
  EXPECT_EQ(error_of("{ \"kv_namespaces\": {} }"),
            "wrangler.jsonc:1:3: kv_namespaces: expected an array, got object");
  EXPECT_EQ(error_of("{ \"kv_namespaces\": [ 1 ] }"),
            "wrangler.jsonc:1:22: kv_namespaces[0]: expected an object, got number");
  EXPECT_EQ(error_of("{ \"compatibility_flags\": [\"a\", \"\"] }"),
            "wrangler.jsonc:1:32: compatibility_flags[1]: expected a non-empty string, got \"\"");
  EXPECT_EQ(error_of("{ \"compatibility_date\": \"2025-13-01\" }"),
            "wrangler.jsonc:1:3: compatibility_date: expected a date \"YYYY-MM-DD\", got "
            "\"2025-13-01\"");
  for (const char* bad : {"2025-02-30", "2025-04-31", "2023-02-29", "1900-02-29"}) {
    EXPECT_EQ(error_of(std::string("{ \"compatibility_date\": \"") + bad + "\" }"),
              std::string("wrangler.jsonc:1:3: compatibility_date: expected a date \"YYYY-MM-DD\", "
                          "got \"") +
                  bad + "\"");
  }
  EXPECT_EQ(error_of("{ \"compatibility_date\": \"2024-02-29\" }"), "(parsed)");
  EXPECT_EQ(error_of("[]"), "wrangler.jsonc:1:1: expected an object, got array");
  EXPECT_EQ(error_of("{ \"limits\": { \"cpu_ms\": 0 } }"),
            "wrangler.jsonc:1:15: limits.cpu_ms: expected an integer from 1 to 300000, got 0");
}

TEST(Wrangler, QueueSettingsHaveRanges) {
  EXPECT_EQ(error_of("{ \"queues\": { \"consumers\": [{ \"queue\": \"q\", \"max_batch_size\": 101,"
                     " \"max_batch_timeout\": 61, \"max_retries\": 1.5 }] } }"),
            "wrangler.jsonc:1:45: queues.consumers[0].max_batch_size: expected an integer from 1 "
            "to 100, got 101\n"
            "wrangler.jsonc:1:68: queues.consumers[0].max_batch_timeout: expected a number of "
            "seconds from 0 to 60, got 61\n"
            "wrangler.jsonc:1:93: queues.consumers[0].max_retries: expected an integer from 0 to "
            "100, got 1.5");
  EXPECT_EQ(
      error_of("{ \"queues\": { \"consumers\": [{ \"queue\": \"q\" }, { \"queue\": \"q\" }] } }"),
      "wrangler.jsonc:1:49: queues.consumers[1].queue: queue \"q\" already has a consumer");
}

TEST(Wrangler, DurableObjectBindingsNeedAMigratedClass) {
  EXPECT_EQ(error_of("{\n"
                     "  \"durable_objects\": { \"bindings\": [\n"
                     "    { \"name\": \"C\", \"class_name\": \"Countr\" } ] },\n"
                     "  \"migrations\": [ { \"tag\": \"v1\", \"new_classes\": [\"Counter\"] } ]\n"
                     "}"),
            "wrangler.jsonc:3:20: durable_objects.bindings[0].class_name: class \"Countr\" is not "
            "declared by a migration (new_classes or new_sqlite_classes) (did you mean "
            "\"Counter\"?)");
  // A class of another Worker is that Worker's business (the scenario loader checks it).
  EXPECT_EQ(
      error_of("{ \"durable_objects\": { \"bindings\": [\n"
               "  { \"name\": \"C\", \"class_name\": \"Counter\", \"script_name\": \"other\" }"
               " ] } }"),
      "(parsed)");
  EXPECT_EQ(error_of("{ \"migrations\": [ { \"tag\": \"v1\", \"new_classes\": [\"A\"] },\n"
                     "  { \"tag\": \"v1\", \"deleted_classes\": [\"B\"],\n"
                     "    \"renamed_classes\": [{ \"from\": \"A\", \"to\": \"A\" }] } ] }"),
            "wrangler.jsonc:2:5: migrations[1].tag: tag \"v1\" is used by an earlier migration\n"
            "wrangler.jsonc:3:40: migrations[1].renamed_classes[0].to: class \"A\" already exists\n"
            "wrangler.jsonc:2:38: migrations[1].deleted_classes[0]: class \"B\" does not exist");
}

TEST(Wrangler, BindingNamesAreIdentifiersAndUnique) {
  EXPECT_EQ(error_of("{\n"
                     "  \"vars\": { \"FLAGS\": \"x\" },\n"
                     "  \"kv_namespaces\": [ { \"binding\": \"FLAGS\" },\n"
                     "                     { \"binding\": \"my-kv\" },\n"
                     "                     { \"binding\": \"delete\" } ]\n"
                     "}"),
            "wrangler.jsonc:3:24: kv_namespaces[0].binding: \"FLAGS\" is already bound by "
            "vars.FLAGS\n"
            "wrangler.jsonc:4:24: kv_namespaces[1].binding: \"my-kv\" is not a valid JavaScript "
            "identifier\n"
            "wrangler.jsonc:5:24: kv_namespaces[2].binding: \"delete\" is not a valid JavaScript "
            "identifier");
}

TEST(Wrangler, SyntaxErrorsHaveLineAndColumn) {
  EXPECT_EQ(error_of("{\n  \"name\": \"a\",\n  \"main\": \"b\",\n}\n"),
            "wrangler.jsonc:3:14: trailing comma before '}' (JSON allows none)");
  EXPECT_EQ(error_of("{ \"crons\": [\"a\",\n ] }"),
            "wrangler.jsonc:1:16: trailing comma before ']' (JSON allows none)");
  EXPECT_EQ(error_of("{\n  \"name\": nope\n}"),
            "wrangler.jsonc:2:12: syntax error while parsing value - invalid literal");
  EXPECT_EQ(error_of("{ \"name\": \"a\"\n"),
            "wrangler.jsonc:2:1: syntax error while parsing object - unexpected end of input; "
            "expected '}'");
  EXPECT_EQ(error_of("{ \"name\": \"a\", \"name\": \"b\" }"),
            "wrangler.jsonc:1:16: duplicate key \"name\"");
  EXPECT_EQ(error_of(std::string(100, '[') + std::string(100, ']')),
            "wrangler.jsonc:1:65: nested deeper than 64 levels");
  EXPECT_EQ(error_of("/* unterminated"),
            "wrangler.jsonc:1:16: syntax error while parsing value - invalid comment; missing "
            "closing '*/'");
  // A number that overflows a double is an error at its place, never an uncaught exception.
  EXPECT_EQ(error_of("{\n  \"limits\": { \"cpu_ms\": 1e400 }\n}"),
            "wrangler.jsonc:2:25: the number 1e400 is out of range");
  EXPECT_EQ(error_of("[-1e999]"), "wrangler.jsonc:1:2: the number -1e999 is out of range");
}

// The loader checks crons with the platform's parser (platform/services/cron/cron_expr_test.cc
// has its laws); here, that its errors reach the user with the key.
TEST(Wrangler, Crons) {
  for (const char* ok : {"*/5 * * * *", "0 0 L * *", "0 12 15W * *", "0 12 * JAN-MAR MON-FRI",
                         "0 12 * * 5L", "0,30 1-5/2 * * *", "0 12 * * MON#2"}) {
    EXPECT_EQ(check_cron(ok), "") << ok;
  }
  auto has = [](const std::string& error, std::initializer_list<const char*> parts) {
    for (const char* p : parts) {
      if (error.find(p) == std::string::npos) return false;
    }
    return true;
  };
  EXPECT_TRUE(has(check_cron("* * * *"), {"cron \"* * * *\": ", "needs 5 fields"}))
      << check_cron("* * * *");
  EXPECT_TRUE(has(check_cron("60 * * * *"), {"minute", "\"60\""})) << check_cron("60 * * * *");
  EXPECT_TRUE(has(check_cron("0 0 * FOO *"), {"month", "\"FOO\""})) << check_cron("0 0 * FOO *");
  EXPECT_TRUE(has(check_cron("0 0 * * MON#6"), {"day-of-week", "MON#6"}))
      << check_cron("0 0 * * MON#6");
  // Cloudflare's parser has no '?', and a schedule that never fires is refused.
  EXPECT_NE(check_cron("0 12 15W * ?"), "");
  EXPECT_TRUE(has(check_cron("0 0 30 2 *"), {"never"})) << check_cron("0 0 30 2 *");
  const std::string e = error_of("{ \"triggers\": { \"crons\": [\"* * *\"] } }");
  EXPECT_TRUE(e.starts_with("wrangler.jsonc:1:27: triggers.crons[0]: cron \"* * *\": ")) << e;
  EXPECT_EQ(error_of("{ \"triggers\": { \"crons\": [\"0 * * * *\", \"0 * * * *\"] } }"),
            "wrangler.jsonc:1:40: triggers.crons[1]: cron \"0 * * * *\" is listed twice");
}

TEST(Jsonc, IndexesKeysAndElements) {
  const std::string text = "{ \"a\": [1, {\"b\": 2}], \"c/d\": {\"~\": 3} }";
  const JsoncIndex index = JsoncIndex::scan(text);
  EXPECT_EQ(index.offset(""), 0u);
  EXPECT_EQ(index.offset("/a"), 2u);
  EXPECT_EQ(index.offset("/a/0"), 8u);
  EXPECT_EQ(index.offset("/a/1"), 11u);
  EXPECT_EQ(index.offset("/a/1/b"), 12u);
  EXPECT_EQ(index.offset("/c~1d"), 22u);
  EXPECT_EQ(index.offset("/c~1d/~0"), 30u);
  EXPECT_FALSE(index.offset("/x").has_value());
}

// Builds a random JSON document of bounded size.
nlohmann::json random_json(sim::Rng& rng, int depth) {
  const std::uint64_t kind = depth >= 4 ? rng.below(3) : rng.below(5);
  if (kind == 0) return static_cast<std::int64_t>(rng.uniform_int(-1000, 1000));
  if (kind == 1) return "s" + std::to_string(rng.below(10));
  if (kind == 2) return nullptr;
  if (kind == 3) {
    nlohmann::json a = nlohmann::json::array();
    for (std::uint64_t i = rng.below(4); i > 0; --i) a.push_back(random_json(rng, depth + 1));
    return a;
  }
  nlohmann::json o = nlohmann::json::object();
  static const char* kKeys[] = {"name", "a/b", "x~y", "é", "bindings", "q\"uote"};
  for (std::uint64_t i = rng.below(4); i > 0; --i) {
    o[kKeys[rng.below(6)]] = random_json(rng, depth + 1);
  }
  return o;
}

void expect_keys_found(const nlohmann::json& v, const std::string& pointer, const std::string& text,
                       const JsoncIndex& index) {
  if (v.is_object()) {
    for (auto it = v.begin(); it != v.end(); ++it) {
      const std::string child = pointer + "/" + JsoncIndex::escape(it.key());
      const auto off = index.offset(child);
      RC_ASSERT(off.has_value());
      const std::string key_text = nlohmann::json(it.key()).dump();
      RC_ASSERT(text.compare(*off, key_text.size(), key_text) == 0);
      expect_keys_found(*it, child, text, index);
    }
  } else if (v.is_array()) {
    for (std::size_t i = 0; i < v.size(); ++i) {
      const std::string child = pointer + "/" + std::to_string(i);
      const auto off = index.offset(child);
      RC_ASSERT(off.has_value());
      const std::string elem = v[i].dump();
      RC_ASSERT(text.compare(*off, 1, elem, 0, 1) == 0);
      expect_keys_found(v[i], child, text, index);
    }
  }
}

RC_GTEST_PROP(JsoncLaws, EveryKeyOffsetPointsAtThatKey, (std::uint64_t seed, bool compact)) {
  sim::Rng rng(seed);
  nlohmann::json doc = nlohmann::json::object();
  doc["root"] = random_json(rng, 0);
  std::string text = compact ? doc.dump() : doc.dump(2);
  // Comments between tokens do not move anything the index reports.
  if (!compact) {
    std::string commented;
    for (char c : text) {
      commented += c;
      if (c == '\n') commented += "  // comment {\"name\": 1}\n";
    }
    text = commented;
  }
  const JsoncIndex index = JsoncIndex::scan(text);
  RC_ASSERT(!index.syntax_issue().has_value());
  RC_ASSERT(index.duplicate_keys().empty());
  expect_keys_found(doc, "", text, index);
}

RC_GTEST_PROP(WranglerLaws, AnyBytesGiveAValueOrAnErrorNamingTheFile, (std::string text)) {
  auto parsed = parse_wrangler(text, "w.jsonc");
  if (!parsed.ok()) {
    const std::string& m = parsed.error().message;
    RC_ASSERT(m.rfind("w.jsonc:", 0) == 0);
  }
}

}  // namespace
}  // namespace scenarios::spec
