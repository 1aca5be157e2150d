// Tests of the scenario loader: the example folder in testdata/, variants, the round trip through
// files and bundles, and malformed inputs, each checked for the exact file:line:column and message.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>

#include "scenarios/spec/loader.h"
#include "sim/rng.h"

namespace scenarios::spec {
namespace {

const std::filesystem::path kTestdata = EDGESIM_SPEC_TESTDATA;

ScenarioFiles example_files() {
  auto files = collect_files(kTestdata / "do-counter");
  EXPECT_TRUE(files.ok()) << files.error().message;
  return files.ok() ? *files : ScenarioFiles{};
}

// A small valid scenario; tests replace one file or line to break it.
ScenarioFiles mini() {
  return {
      {"scenario.textproto",
       "name: \"mini\"\n"                                        // 1
       "duration: \"10s\"\n"                                     // 2
       "topology {\n"                                            // 3
       "  pop { location: \"lhr\" }\n"                           // 4
       "  pop { location: \"iad\" }\n"                           // 5
       "}\n"                                                     // 6
       "load {\n"                                                // 7
       "  request { path: \"/\" }\n"                             // 8
       "}\n"                                                     // 9
       "property { name: \"ok\" checker: \"http_status\" }\n"},  // 10
      {"wrangler.jsonc",
       "{\n"
       "  \"name\": \"mini\",\n"
       "  \"main\": \"src/index.js\"\n"
       "}\n"},
      {"src/index.js", "export default { fetch() { return new Response('ok'); } };\n"},
  };
}

std::string error_of(const ScenarioFiles& files, std::string_view variant = "") {
  auto loaded = load_scenario_files(files, variant, "x");
  if (loaded.ok()) return "(loaded)";
  EXPECT_EQ(loaded.error().kind, sim::ErrorKind::kInvalid);
  return loaded.error().message;
}

// mini() with line `line` (1-based) of the spec replaced by `text` (which may hold newlines).
ScenarioFiles mini_with_line(int line, const std::string& text) {
  ScenarioFiles files = mini();
  std::string& spec = files["scenario.textproto"];
  std::size_t start = 0;
  for (int i = 1; i < line; ++i) start = spec.find('\n', start) + 1;
  const std::size_t end = spec.find('\n', start);
  spec.replace(start, end - start, text);
  return files;
}

// mini() with lines first..last (1-based, inclusive) replaced by `text`.
ScenarioFiles mini_with_lines(int first, int last, const std::string& text) {
  ScenarioFiles files = mini();
  std::string& spec = files["scenario.textproto"];
  std::size_t start = 0;
  for (int i = 1; i < first; ++i) start = spec.find('\n', start) + 1;
  std::size_t end = start;
  for (int i = first; i <= last; ++i) end = spec.find('\n', end) + 1;
  spec.replace(start, end - start, text);
  return files;
}

ScenarioFiles mini_appending(const std::string& text) {
  ScenarioFiles files = mini();
  files["scenario.textproto"] += text;
  return files;
}

TEST(Loader, LoadsTheExampleFolder) {
  auto loaded = load_scenario_folder(kTestdata / "do-counter");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  const LoadedScenario& s = *loaded;
  EXPECT_EQ(s.source, (kTestdata / "do-counter").generic_string());
  EXPECT_EQ(s.name, "do-counter");
  EXPECT_EQ(s.qualified_name(), "do-counter");
  EXPECT_EQ(s.expected, "pass");
  EXPECT_EQ(s.duration, 60 * sim::kSecond);
  EXPECT_EQ(s.quiet_after, 45 * sim::kSecond);

  // Every source, and nothing else (README.md is documentation, not part of the run).
  std::vector<std::string> paths;
  for (const auto& [path, bytes] : s.files) paths.push_back(path);
  EXPECT_EQ(paths,
            (std::vector<std::string>{"clients/reader.js", "scenario.textproto", "src/index.js",
                                      "src/kv_counter.js", "wrangler.jsonc"}));
  EXPECT_EQ(s.fingerprint.size(), 16u);
  EXPECT_EQ(s.fingerprint, fingerprint_files(s.files));

  // Topology: the PoPs as written, KV by default, DO hosts (one per PoP location) and storage by
  // default (platform/defaults.h).
  ASSERT_EQ(s.topology.pops.size(), 3u);
  EXPECT_EQ(s.topology.pops[1], (NodeSpec{"iad", "iad"}));
  EXPECT_EQ(s.topology.kv_stores, (std::vector<NodeSpec>{{"kv-1", "iad"}}));
  EXPECT_EQ(s.topology.do_hosts,
            (std::vector<NodeSpec>{{"do-1", "lhr"}, {"do-2", "iad"}, {"do-3", "sin"}}));
  EXPECT_TRUE(s.topology.queue_brokers.empty());
  EXPECT_EQ(s.topology.do_storage,
            (std::vector<NodeSpec>{
                {"do-store-fra", "fra"}, {"do-store-ams", "ams"}, {"do-store-ord", "ord"}}));
  EXPECT_EQ(
      s.topology.node_names(),
      (std::vector<std::string>{"do-1", "do-2", "do-3", "do-dir", "do-store-ams", "do-store-fra",
                                "do-store-ord", "iad", "kv-1", "lhr", "sin"}));

  ASSERT_EQ(s.workers.size(), 1u);
  const WorkerSpec& w = s.workers[0];
  EXPECT_EQ(w.name, "do-counter");
  EXPECT_EQ(w.main, "src/index.js");
  EXPECT_EQ(w.config_path, "wrangler.jsonc");
  EXPECT_EQ(w.compatibility_date, "2025-04-01");
  EXPECT_EQ(w.hostnames, std::vector<std::string>{"do-counter.test"});
  EXPECT_EQ(w.config.durable_object_classes, (std::map<std::string, bool>{{"Counter", true}}));
  EXPECT_EQ(w.config.vars.at("LIMITS"), (WranglerVar{true, "{\"max\":10}"}));
  EXPECT_EQ(w.config.ignored_keys, std::vector<std::string>{"$schema"});

  ASSERT_EQ(s.loads.size(), 1u);
  const LoadSpec& l = s.loads[0];
  EXPECT_EQ(l.name, "increments");
  EXPECT_EQ(l.placement.clients, 6);
  EXPECT_TRUE(l.placement.pops.empty());  // nearest
  EXPECT_EQ(l.placement.locations, (std::vector<std::string>{"lhr", "iad", "sin"}));
  EXPECT_EQ(l.placement.worker, "do-counter");
  EXPECT_EQ(l.placement.stop, 40 * sim::kSecond);
  EXPECT_EQ(l.think_time, 50 * sim::kMillisecond);
  EXPECT_EQ(l.timeout, 10 * sim::kSecond);
  ASSERT_EQ(l.requests.size(), 2u);
  EXPECT_EQ(l.requests[0].method, "POST");
  EXPECT_EQ(l.requests[0].weight, 3u);
  ASSERT_TRUE(l.requests[0].record.has_value());
  EXPECT_EQ(l.requests[0].record->kind, "increment");
  EXPECT_EQ(l.requests[1].method, "GET");
  EXPECT_EQ(l.requests[1].record->input.text(), "${body}");

  // The request and record templates work together: the record reads what the request drew.
  sim::Rng rng(7);
  TemplateContext ctx;
  ctx.rng = &rng;
  ctx.url = l.requests[0].url.expand(ctx);
  EXPECT_TRUE(ctx.url == "/counter/a/increment" || ctx.url == "/counter/b/increment") << ctx.url;
  EXPECT_EQ(l.requests[0].record->key.expand(ctx), ctx.url.substr(9, 1));
  EXPECT_EQ(l.requests[0].record->object.expand(ctx), "counter");

  ASSERT_EQ(s.client_scripts.size(), 1u);
  EXPECT_EQ(s.client_scripts[0].name, "reader");
  EXPECT_EQ(s.client_scripts[0].script, "clients/reader.js");
  EXPECT_EQ(s.client_scripts[0].placement.locations, std::vector<std::string>{"syd"});
  EXPECT_EQ(s.client_scripts[0].params, (std::map<std::string, std::string>{{"counter", "a"}}));

  EXPECT_EQ(s.faults.mode, sim::FaultPlan::Mode::kSchedule);
  EXPECT_EQ(s.faults.to_plan().actions().size(), 2u);
  EXPECT_EQ(s.knobs, (std::map<std::string, std::string>{{"kv.propagation_max", "60s"}}));

  ASSERT_EQ(s.properties.size(), 3u);
  EXPECT_EQ(s.properties[0].checker, Checker::kLinearizability);
  EXPECT_EQ(s.properties[0].model.kind, ModelSpec::Kind::kCounter);
  EXPECT_EQ(s.properties[1].checker, Checker::kDoSingleInstance);
  EXPECT_EQ(s.find_property("all-2xx")->params.at("allow"), "2xx");

  ASSERT_EQ(s.variants.size(), 2u);
  EXPECT_EQ(s.variants[0],
            (VariantInfo{"kv-counter",
                         "the same counter in KV: increments are lost and reads go back in time",
                         "counter-linearizable"}));
}

TEST(Loader, VariantReplacesMainAndExpectation) {
  auto loaded = load_scenario_folder(kTestdata / "do-counter", "kv-counter");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->variant, "kv-counter");
  EXPECT_EQ(loaded->qualified_name(), "do-counter@kv-counter");
  EXPECT_EQ(loaded->workers[0].main, "src/kv_counter.js");
  EXPECT_EQ(loaded->expected, "counter-linearizable");
  EXPECT_EQ(loaded->faults.mode, sim::FaultPlan::Mode::kSchedule);  // not replaced
}

TEST(Loader, VariantSetsKnobsOverTheScenarios) {
  auto loaded = load_scenario_folder(kTestdata / "do-counter", "no-fencing");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->workers[0].main, "src/index.js");
  EXPECT_EQ(loaded->knobs, (std::map<std::string, std::string>{{"do.fencing", "off"},
                                                               {"kv.propagation_max", "60s"}}));
  EXPECT_EQ(loaded->faults.mode, sim::FaultPlan::Mode::kSwarm);
  EXPECT_EQ(loaded->expected, "single-instance");
}

TEST(Loader, LoadScenarioSplitsTheVariant) {
  auto loaded = load_scenario((kTestdata / "do-counter").generic_string() + "@kv-counter");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->variant, "kv-counter");
}

TEST(Loader, UnknownVariantListsTheDeclaredOnes) {
  EXPECT_EQ(error_of(example_files(), "kv-countr"),
            "x/scenario.textproto: variant \"kv-countr\" not found (did you mean "
            "\"kv-counter\"?) (variants: kv-counter, no-fencing)");
  EXPECT_EQ(error_of(mini(), "buggy"),
            "x/scenario.textproto: variant \"buggy\" not found (the scenario declares no "
            "variants)");
}

TEST(SplitVariant, SplitsAtTheLastAtAfterTheLastSlash) {
  using P = std::pair<std::string, std::string>;
  EXPECT_EQ(split_variant("scenarios/suite/do-counter@kv-counter"),
            (P{"scenarios/suite/do-counter", "kv-counter"}));
  EXPECT_EQ(split_variant("scenarios/suite/do-counter"), (P{"scenarios/suite/do-counter", ""}));
  EXPECT_EQ(split_variant("a@b/do-counter"), (P{"a@b/do-counter", ""}));
  EXPECT_EQ(split_variant("do-counter@"), (P{"do-counter", ""}));
  EXPECT_EQ(split_variant("x@y@z"), (P{"x@y", "z"}));
}

TEST(Loader, RebuildsFromFilesAndFromABundle) {
  for (const std::string variant : {"", "kv-counter", "no-fencing"}) {
    auto loaded = load_scenario_folder(kTestdata / "do-counter", variant);
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
    auto again = load_scenario_files(loaded->files, loaded->variant, loaded->source);
    ASSERT_TRUE(again.ok()) << again.error().message;
    EXPECT_TRUE(*again == *loaded);
    const std::string bytes = serialize_scenario(*loaded);
    auto back = deserialize_scenario(bytes);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_TRUE(*back == *loaded);
    EXPECT_EQ(serialize_scenario(*back), bytes);  // deterministic
  }
  auto bad = deserialize_scenario("\xff\xff\xff");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "scenario bundle: not a valid edgesim.scenario.Bundle");
}

TEST(Loader, FingerprintSeesEveryByte) {
  ScenarioFiles files = mini();
  const std::string base = fingerprint_files(files);
  EXPECT_EQ(base, fingerprint_files(mini()));
  files["src/index.js"] += " ";
  EXPECT_NE(fingerprint_files(files), base);
  files = mini();
  files["src/other.js"] = "";
  EXPECT_NE(fingerprint_files(files), base);
  // Moving bytes from a path into the content is a different scenario too.
  EXPECT_NE(fingerprint_files({{"ab", "c"}}), fingerprint_files({{"a", "bc"}}));
}

TEST(Loader, CollectFilesSkipsDependenciesAndHiddenFoldersAndAddsReferencedFiles) {
  const auto dir = std::filesystem::temp_directory_path() / "edgesim_spec_collect_test";
  std::filesystem::remove_all(dir);
  for (const char* sub : {"src", "node_modules/lib", ".git", "docs"}) {
    std::filesystem::create_directories(dir / sub);
  }
  ScenarioFiles files = mini_appending("faults { schedule_file: \"plans/split.plan\" }\n");
  files["node_modules/lib/index.js"] = "export default 1;";
  files[".git/config.json"] = "{}";
  files["docs/notes.md"] = "notes";
  files["README.md"] = "readme";
  files["plans/split.plan"] = "at 1s partition {lhr} | {iad}\nat 2s heal\n";
  std::filesystem::create_directories(dir / "plans");
  for (const auto& [path, bytes] : files) std::ofstream(dir / path, std::ios::binary) << bytes;

  auto collected = collect_files(dir);
  ASSERT_TRUE(collected.ok()) << collected.error().message;
  std::vector<std::string> paths;
  for (const auto& [path, bytes] : *collected) paths.push_back(path);
  EXPECT_EQ(paths, (std::vector<std::string>{"plans/split.plan", "scenario.textproto",
                                             "src/index.js", "wrangler.jsonc"}));
  auto loaded = load_scenario_folder(dir);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->faults.source, dir.generic_string() + "/plans/split.plan");
  std::filesystem::remove_all(dir);

  auto missing = load_scenario_folder(dir);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message,
            dir.generic_string() + ": not a scenario folder (no such directory)");
}

// A scenario reads only its own files: a link that leaves the folder is refused (a body_file or
// schedule_file would be served by the origin and stored in every trace), and a scenario.textproto
// that is a link is read through it when it stays inside (it aborted before).
TEST(Loader, LinksThatLeaveTheFolderAreRefused) {
  const auto dir = std::filesystem::temp_directory_path() / "edgesim_spec_link_test";
  const auto outside = std::filesystem::temp_directory_path() / "edgesim_spec_link_outside";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "src");
  std::ofstream(outside) << "secret";
  ScenarioFiles files = mini_appending("faults { schedule_file: \"plan.txt\" }\n");
  for (const auto& [path, bytes] : files) std::ofstream(dir / path, std::ios::binary) << bytes;
  std::filesystem::create_symlink(outside, dir / "plan.txt");
  auto plan = collect_files(dir);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.error().message,
            dir.generic_string() +
                "/plan.txt: leaves the scenario folder (through a link or '..'); a scenario reads "
                "only its own files");
  // The spec itself as a link: inside the folder it is read; outside it is refused.
  std::filesystem::remove(dir / "plan.txt");
  std::ofstream(dir / "plan.txt") << "at 1s heal\n";
  std::filesystem::rename(dir / "scenario.textproto", dir / "spec.real");
  std::filesystem::create_symlink("spec.real", dir / "scenario.textproto");
  EXPECT_TRUE(collect_files(dir).ok());
  std::filesystem::remove(dir / "scenario.textproto");
  std::filesystem::create_symlink(outside, dir / "scenario.textproto");
  auto spec = collect_files(dir);
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.error().message.find("scenario.textproto: leaves the scenario folder"),
            std::string::npos)
      << spec.error().message;
  std::filesystem::remove_all(dir);
  std::filesystem::remove(outside);
}

TEST(Loader, MiniDefaults) {
  auto loaded = load_scenario_files(mini(), "", "x");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->duration, 10 * sim::kSecond);
  EXPECT_EQ(loaded->quiet_after, 7500 * sim::kMillisecond);  // 3/4 of the duration
  EXPECT_EQ(loaded->workers[0].hostnames, std::vector<std::string>{"mini.test"});
  EXPECT_EQ(loaded->loads[0].name, "load-1");
  EXPECT_EQ(loaded->loads[0].placement.locations, (std::vector<std::string>{"lhr", "iad"}));
  EXPECT_EQ(loaded->loads[0].placement.stop, 10 * sim::kSecond);
  EXPECT_EQ(loaded->faults.mode, sim::FaultPlan::Mode::kNone);
  EXPECT_TRUE(loaded->topology.do_hosts.empty());  // nothing binds a Durable Object
  // Without a source, files are named by their relative paths.
  auto bare = load_scenario_files(mini_with_line(2, "duration: \"x\""));
  ASSERT_FALSE(bare.ok());
  EXPECT_EQ(bare.error().message.substr(0, 24), "scenario.textproto:2:1: ");
}

ScenarioFiles two_workers() {
  return {
      {"scenario.textproto",
       "topology { pop { location: \"lhr\" } }\n"
       "worker { config: \"wrangler.jsonc\" }\n"
       "worker { config: \"ledger/wrangler.jsonc\" hostname: \"ledger.internal\" }\n"
       "variant { name: \"lossy\" worker: \"ledger\" main: \"ledger/src/lossy.js\" }\n"
       "load { request { path: \"/\" } }\n"
       "property { name: \"ok\" checker: \"http_status\" }\n"},
      {"wrangler.jsonc",
       R"({ "name": "api", "main": "src/index.js",
            "durable_objects": { "bindings": [
              { "name": "LEDGER", "class_name": "Ledger", "script_name": "ledger" } ] } })"},
      {"src/index.js", "export default {};"},
      {"ledger/wrangler.jsonc",
       R"({ "name": "ledger", "main": "src/index.js",
            "migrations": [{ "tag": "v1", "new_sqlite_classes": ["Ledger"] }] })"},
      {"ledger/src/index.js", "export class Ledger {}"},
      {"ledger/src/lossy.js", "export class Ledger {}"},
  };
}

TEST(Loader, SeveralWorkers) {
  auto loaded = load_scenario_files(two_workers(), "", "x");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  ASSERT_EQ(loaded->workers.size(), 2u);
  EXPECT_EQ(loaded->workers[0].hostnames, std::vector<std::string>{"api.test"});
  EXPECT_EQ(loaded->workers[1].main, "ledger/src/index.js");  // relative to its wrangler file
  EXPECT_EQ(loaded->workers[1].hostnames, std::vector<std::string>{"ledger.internal"});
  EXPECT_EQ(loaded->loads[0].placement.worker, "api");  // the entry Worker
  EXPECT_EQ(loaded->topology.do_hosts, (std::vector<NodeSpec>{{"do-1", "lhr"}}));

  auto lossy = load_scenario_files(two_workers(), "lossy", "x");
  ASSERT_TRUE(lossy.ok()) << lossy.error().message;
  EXPECT_EQ(lossy->workers[0].main, "src/index.js");
  EXPECT_EQ(lossy->workers[1].main, "ledger/src/lossy.js");

  ScenarioFiles files = two_workers();
  files["ledger/wrangler.jsonc"] = R"({ "name": "ledger", "main": "src/index.js" })";
  EXPECT_EQ(error_of(files),
            "x/wrangler.jsonc:3:15: durable_objects.bindings[0]: class \"Ledger\" is not declared "
            "by a migration of Worker \"ledger\"");
  files["ledger/wrangler.jsonc"] = R"({ "name": "api", "main": "src/index.js" })";
  EXPECT_EQ(error_of(files),
            "x/scenario.textproto:3:1: worker[1]: Worker \"api\" is declared twice\n"
            "x/wrangler.jsonc:3:15: durable_objects.bindings[0]: script_name \"ledger\" is not a "
            "Worker of this scenario\n"
            "x/scenario.textproto:4:25: variant[0].worker: no Worker named \"ledger\"");
}

// --- Malformed specs: exact file:line:column and message. ---

TEST(LoaderErrors, UnknownFieldWithSuggestion) {
  EXPECT_EQ(error_of(mini_with_line(2, "durattion: \"10s\"")),
            "x/scenario.textproto:2:1: unknown field \"durattion\" (did you mean \"duration\"?)");
  EXPECT_EQ(error_of(mini_with_line(4, "  pop { locaton: \"lhr\" }")),
            "x/scenario.textproto:4:9: unknown field \"locaton\" (did you mean \"location\"?)");
  EXPECT_EQ(error_of(mini_with_line(4, "  pop { zone: \"lhr\" }")),
            "x/scenario.textproto:4:9: unknown field \"zone\" (Node has: name, location)");
}

TEST(LoaderErrors, SyntaxErrors) {
  EXPECT_EQ(error_of(mini_with_line(2, "duration \"10s\"")),
            "x/scenario.textproto:2:10: Expected \":\", found \"\"10s\"\"");
  EXPECT_EQ(
      error_of(mini_with_line(2, "duration: \"10s\"\nduration: \"20s\"")),
      "x/scenario.textproto:3:1: Non-repeated field \"duration\" is specified multiple times");
  EXPECT_EQ(error_of(mini_with_line(2, "duration: 10")),
            "x/scenario.textproto:2:11: Expected string, got: 10");
}

TEST(LoaderErrors, BadDurations) {
  EXPECT_EQ(error_of(mini_with_line(2, "duration: \"60 s\"")),
            "x/scenario.textproto:2:1: duration: bad duration \"60 s\" (write e.g. \"60s\", "
            "\"250ms\", \"2m\")");
  EXPECT_EQ(error_of(mini_with_line(2, "duration: \"10s\" quiet_after: \"11s\"")),
            "x/scenario.textproto:2:17: quiet_after: 11.000s is after the end of the run "
            "(duration 10.000s)");
  EXPECT_EQ(error_of(mini_with_line(8, "  request { path: \"/\" } stop: \"1m\"")),
            "x/scenario.textproto:8:25: load[0].stop: is after the end of the run (duration "
            "10.000s)");
}

TEST(LoaderErrors, UnknownLocationAndDuplicatePop) {
  EXPECT_EQ(error_of(mini_with_line(5, "  pop { location: \"lhx\" }")),
            "x/scenario.textproto:5:9: topology.pop[1].location: unknown location \"lhx\" (did "
            "you mean \"lax\" or \"lhr\"?) (known: ams arn atl bom cdg dfw fra gru hkg iad jnb lax "
            "lhr mad "
            "nrt ord scl sea sin sjc syd waw)");
  EXPECT_EQ(error_of(mini_with_line(5, "  pop { location: \"lhr\" }")),
            "x/scenario.textproto:5:3: topology.pop[1]: node name \"lhr\" is used twice (a PoP "
            "is named by its location; give `name`)");
  EXPECT_EQ(error_of(mini_with_line(5, "  pop { name: \"lhr-2\" location: \"lhr\" }")), "(loaded)");
  EXPECT_EQ(error_of(mini_with_lines(4, 5, "")),
            "x/scenario.textproto:3:1: topology: at least one pop is required");
}

TEST(LoaderErrors, UnknownCheckerAndModel) {
  EXPECT_EQ(error_of(mini_with_line(10, "property { name: \"ok\" checker: \"http_statu\" }")),
            "x/scenario.textproto:10:23: property[0].checker: unknown checker \"http_statu\" (did "
            "you mean \"http_status\"?) (checkers: linearizability, queue_delivery, "
            "kv_convergence, do_single_instance, workflow_replay, http_status, broadcast, "
            "cron_schedule, workflow_liveness)");
  EXPECT_EQ(error_of(mini_with_line(
                8, "  request { path: \"/\" record { kind: \"read\" object: \"c\" } }")),
            "(loaded)");
  ScenarioFiles lin =
      mini_with_line(8, "  request { path: \"/\" record { kind: \"read\" object: \"c\" } }");
  lin["scenario.textproto"] += "property { name: \"lin\" checker: \"linearizability\" }\n";
  EXPECT_EQ(error_of(lin),
            "x/scenario.textproto:11:1: property[1].model: linearizability needs a model "
            "(models: register, counter, kv, set, list, or js:PATH)");
  lin["scenario.textproto"].replace(lin["scenario.textproto"].rfind(" }"), 2,
                                    " model: \"js:models/counter.js\" }");
  EXPECT_EQ(error_of(lin),
            "x/scenario.textproto:11:51: property[1].model: model module "
            "\"models/counter.js\" not found in the scenario folder");
  lin["models/counter.js"] = "export default {};";
  EXPECT_EQ(error_of(lin), "(loaded)");
}

TEST(LoaderErrors, LinearizabilityWithoutRecordsIsAnError) {
  EXPECT_EQ(error_of(mini_appending(
                "property { name: \"lin\" checker: \"linearizability\" model: \"counter\" }\n")),
            "x/scenario.textproto:11:24: property[1].checker: linearizability needs recorded "
            "operations: add `record { ... }` to a load's request, or a client script");
}

TEST(LoaderErrors, PropertyParams) {
  EXPECT_EQ(error_of(mini_with_line(10,
                                    "property { name: \"ok\" checker: \"http_status\" "
                                    "params { key: \"alow\" value: \"2xx\" } }")),
            "x/scenario.textproto:10:46: property[0].params[0]: unknown param \"alow\" for checker "
            "http_status (did you mean \"allow\"?) (params: allow, load)");
  EXPECT_EQ(error_of(mini_with_line(10,
                                    "property { name: \"ok\" checker: \"http_status\" "
                                    "params { key: \"allow\" value: \"2xx,\" } }")),
            "x/scenario.textproto:10:46: property[0].params[0]: expected statuses like \"2xx\", "
            "\"2xx,404\" or \"200-299\", got \"2xx,\"");
  EXPECT_EQ(error_of(mini_with_line(10,
                                    "property { name: \"ok\" checker: \"http_status\" "
                                    "params { key: \"load\" value: \"lod-1\" } }")),
            "x/scenario.textproto:10:46: property[0].params[0]: no load \"lod-1\" (did you mean "
            "\"load-1\"?) (known: load-1)");
  ScenarioFiles q = mini_appending(
      "property { name: \"q\" checker: \"queue_delivery\" params { key: \"queue\" value: \"jobs\" "
      "} }\n");
  EXPECT_EQ(error_of(q),
            "x/scenario.textproto:11:48: property[1].params[0]: no queue \"jobs\" (the scenario "
            "has none)");
}

TEST(LoaderErrors, ExpectedMustNameAProperty) {
  EXPECT_EQ(error_of(mini_with_line(1, "name: \"mini\" expected: \"o\"")),
            "x/scenario.textproto:1:14: expected: expected \"o\" is neither \"pass\" nor a "
            "property (properties: ok)");
  EXPECT_EQ(error_of(mini_with_line(10, "")),
            "x/scenario.textproto: at least one property is required (a scenario that checks "
            "nothing always passes)");
}

TEST(LoaderErrors, MissingMainModule) {
  ScenarioFiles files = mini();
  files.erase("src/index.js");
  EXPECT_EQ(error_of(files),
            "x/wrangler.jsonc:3:3: main: main module \"src/index.js\" not found in the scenario "
            "folder");
  files = mini();
  files["wrangler.jsonc"] = "{ \"name\": \"mini\" }";
  EXPECT_EQ(error_of(files), "x/wrangler.jsonc: missing key \"main\" (the Worker's main module)");
  files = mini_appending("worker { main: \"src/../../index.js\" }\n");
  EXPECT_EQ(error_of(files),
            "x/scenario.textproto:11:10: worker[0].main: bad module path \"src/../../index.js\"");
  files = mini_appending("worker { main: \"src/../src/index.js\" }\n");
  EXPECT_EQ(error_of(files), "(loaded)");
  files = mini();
  files.erase("wrangler.jsonc");
  EXPECT_EQ(error_of(files),
            "x/scenario.textproto: wrangler configuration \"wrangler.jsonc\" not found in the "
            "scenario folder");
  files = mini();
  files.erase("scenario.textproto");
  EXPECT_EQ(error_of(files),
            "x/scenario.textproto: missing (a scenario folder holds scenario.textproto, "
            "wrangler.jsonc and the Worker's sources)");
}

TEST(LoaderErrors, WranglerErrorsNameTheirFileAndKey) {
  ScenarioFiles files = mini();
  files["wrangler.jsonc"] =
      "{\n"
      "  \"name\": \"mini\",\n"
      "  \"main\": \"src/index.js\",\n"
      "  \"durable_objects\": {\n"
      "    \"bindings\": [{ \"name\": \"C\", \"clas_name\": \"Counter\" }]\n"
      "  }\n"
      "}\n";
  EXPECT_EQ(error_of(files),
            "x/wrangler.jsonc:5:33: durable_objects.bindings[0]: unknown key \"clas_name\" (did "
            "you mean \"class_name\"?)\n"
            "x/wrangler.jsonc:5:18: durable_objects.bindings[0]: missing key \"class_name\"");
}

TEST(LoaderErrors, VariantErrorsPointAtTheVariant) {
  ScenarioFiles files = mini_appending(
      "variant { name: \"b\" main: \"src/buggy.js\" }\n"                          // 11
      "variant { name: \"c\" worker: \"nope\" }\n"                                // 12
      "variant { name: \"b\" knobs { key: \"Do.Fencing\" value: \"off\" } }\n");  // 13
  EXPECT_EQ(error_of(files),
            "x/scenario.textproto:13:11: variant[2].name: variant \"b\" is declared twice");
  files["scenario.textproto"].replace(files["scenario.textproto"].rfind("\"b\""), 3, "\"d\"");
  EXPECT_EQ(error_of(files),
            "x/scenario.textproto:11:21: variant[0].main: main module \"src/buggy.js\" not found "
            "in the scenario folder\n"
            "x/scenario.textproto:12:21: variant[1].worker: no Worker named \"nope\"\n"
            "x/scenario.textproto:13:21: variant[2].knobs[0]: bad knob name \"Do.Fencing\" "
            "(lowercase letters, digits, '_', '-' and '.', like \"do.fencing\")");
  files["src/buggy.js"] = "export default {};";
  EXPECT_EQ(error_of(files, "c"),
            "x/scenario.textproto:12:21: variant[1].worker: no Worker named \"nope\"\n"
            "x/scenario.textproto:13:21: variant[2].knobs[0]: bad knob name \"Do.Fencing\" "
            "(lowercase letters, digits, '_', '-' and '.', like \"do.fencing\")");
}

TEST(LoaderErrors, FaultPlans) {
  EXPECT_EQ(error_of(mini_appending("faults { profile: \"swarn\" }\n")),
            "x/scenario.textproto:11:10: faults.profile: expected \"none\" or \"swarm\", got "
            "\"swarn\" (an explicit plan goes in `schedule` or `schedule_file`)");
  EXPECT_EQ(error_of(mini_appending("faults {\n  schedule: \"at 1s heal\\n\"\n"
                                    "            \"at 2s crsh lhr\\n\"\n}\n")),
            "x/scenario.textproto:12:3: faults.schedule:2: unknown action 'crsh' in 'at 2s crsh "
            "lhr'");
  EXPECT_EQ(error_of(mini_appending("faults { schedule_file: \"plan.txt\" }\n")),
            "x/scenario.textproto:11:10: faults.schedule_file: file \"plan.txt\" not found in the "
            "scenario folder");
  ScenarioFiles files = mini_appending("faults { schedule_file: \"plan.txt\" }\n");
  files["plan.txt"] = "# a plan\nat 1s heal\nat x heal\n";
  EXPECT_EQ(error_of(files), "x/plan.txt:3: bad time 'x' in 'at x heal'");
  EXPECT_EQ(error_of(mini_appending("faults { profile: \"none\" schedule: \"at 1s heal\" }\n")),
            "x/scenario.textproto:11:26: Field \"schedule\" is specified along with field "
            "\"profile\", another member of oneof \"plan\"");
}

TEST(LoaderErrors, LoadsAndTemplates) {
  EXPECT_EQ(error_of(mini_with_line(8, "  request { path: \"/${rand}\" }")),
            "x/scenario.textproto:8:13: load[0].request[0].path: unknown placeholder \"${rand}\" "
            "(known: client, seq, int, choice; write $$ for a literal '$')");
  EXPECT_EQ(error_of(mini_with_line(8, "  request { path: \"/\" body: \"x\" }")),
            "x/scenario.textproto:8:23: load[0].request[0].body: a GET request cannot have a "
            "body (set method)");
  EXPECT_EQ(error_of(mini_with_line(8, "  request { path: \"x\" }")),
            "x/scenario.textproto:8:13: load[0].request[0].path: expected a path starting with "
            "'/' or an http(s):// URL, got \"x\"");
  EXPECT_EQ(error_of(mini_with_line(8,
                                    "  request { path: \"/\" record { kind: \"r\" object: "
                                    "\"${int:1:2}\" } }")),
            "x/scenario.textproto:8:42: load[0].request[0].record.object: ${int:1:2} draws a "
            "random value; record fields only read the request (use ${seg:N}, ${query:NAME}, "
            "${header:NAME} or ${body})");
  EXPECT_EQ(error_of(mini_with_line(8,
                                    "  request { path: \"/\" } pop: \"fra\" rate: 5 "
                                    "think_time: \"1s\"")),
            "x/scenario.textproto:8:25: load[0].pop[0]: no PoP named \"fra\" (PoPs: lhr, iad; or "
            "\"nearest\")\n"
            "x/scenario.textproto:8:44: load[0].think_time: give rate or think_time, not both");
  EXPECT_EQ(error_of(mini_with_line(7, "load { clients: -1")),
            "x/scenario.textproto:7:8: load[0].clients: expected from 1 to 10000 clients");
  EXPECT_EQ(error_of(mini_with_line(8, "")),
            "x/scenario.textproto:7:1: load[0]: at least one request is required");
}

TEST(LoaderErrors, ClientScripts) {
  EXPECT_EQ(error_of(mini_appending("client_script { script: \"clients/r.js\" location: \"xxx\" "
                                    "}\n")),
            "x/scenario.textproto:11:17: client_script[0].script: script \"clients/r.js\" not "
            "found in the scenario folder\n"
            "x/scenario.textproto:11:40: client_script[0].location[0]: unknown location \"xxx\" "
            "(known: ams arn atl bom cdg dfw fra gru hkg iad jnb lax lhr mad nrt ord scl sea sin "
            "sjc syd waw)");
}

TEST(LoaderErrors, Origins) {
  ScenarioFiles files =
      mini_with_line(5,
                     "  pop { location: \"iad\" }\n"
                     "  origin { hostname: \"api.example.com\" location: \"fra\"\n"
                     "           response { path: \"/v1/*\" body_file: \"price.json\" } }\n"
                     "  origin { hostname: \"api.example.com\" location: \"fra\" }");
  EXPECT_EQ(error_of(files),
            "x/scenario.textproto:7:37: topology.origin[0].response[0].body_file: file "
            "\"price.json\" not found in the scenario folder\n"
            "x/scenario.textproto:8:12: topology.origin[1].hostname: hostname \"api.example.com\" "
            "is served twice");
  files["price.json"] = "{\"usd\": 1}";
  files["scenario.textproto"].replace(files["scenario.textproto"].rfind("api."), 4, "cdn.");
  auto loaded = load_scenario_files(files, "", "x");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->topology.origins[0].name, "origin-1");
  EXPECT_EQ(loaded->topology.origins[0].responses[0].body, "{\"usd\": 1}");
  EXPECT_EQ(loaded->topology.origins[1].name, "origin-2");
}

TEST(LoaderErrors, BadFilePathsInAMap) {
  ScenarioFiles files = mini();
  files["./src/x.js"] = "";
  EXPECT_EQ(error_of(files),
            "x: bad file path \"./src/x.js\" (relative, '/'-separated, normalized, UTF-8)");
  files = mini();
  files["src/caf\xe9.js"] = "";
  EXPECT_EQ(error_of(files),
            "x: bad file path \"src/caf\\xe9.js\" (relative, '/'-separated, normalized, UTF-8)");
}

// One problem in each topic: every one is reported, in the order the resolver's passes run
// (header, topology, Workers, loads, client scripts, faults, knobs, properties, expectations,
// unselected variants), whichever file of the loader holds the pass.
TEST(LoaderErrors, EveryTopicIsReportedInPassOrder) {
  ScenarioFiles files = mini();
  files["scenario.textproto"] =
      "name: \"mini\"\n"
      "duration: \"10s\" quiet_after: \"11s\"\n"
      "topology {\n"
      "  pop { name: \"bad name\" location: \"lhr\" }\n"
      "  pop { location: \"iad\" }\n"
      "}\n"
      "worker { hostname: \"Bad_Host\" }\n"
      "load {\n"
      "  request { path: \"x\" }\n"
      "}\n"
      "client_script { script: \"clients/none.js\" }\n"
      "faults { profile: \"swarn\" }\n"
      "knobs { key: \"Do.Fencing\" value: \"off\" }\n"
      "property { name: \"ok\" checker: \"http_status\" params { key: \"allow\" value: \"2xx,\" } "
      "}\n"
      "expected: \"nope\"\n"
      "variant { name: \"v\" main: \"src/none.js\" }\n";
  EXPECT_EQ(error_of(files),
            "x/scenario.textproto:2:17: quiet_after: 11.000s is after the end of the run (duration "
            "10.000s)\n"
            "x/scenario.textproto:4:9: topology.pop[0].name: bad node name \"bad name\" (letters, "
            "digits, '-', '_', '.')\n"
            "x/scenario.textproto:7:10: worker[0].hostname[0]: bad hostname \"Bad_Host\" "
            "(lowercase letters, digits, '-' and '.')\n"
            "x/scenario.textproto:9:13: load[0].request[0].path: expected a path starting with '/' "
            "or an http(s):// URL, got \"x\"\n"
            "x/scenario.textproto:11:17: client_script[0].script: script \"clients/none.js\" not "
            "found in the scenario folder\n"
            "x/scenario.textproto:12:10: faults.profile: expected \"none\" or \"swarm\", got "
            "\"swarn\" (an explicit plan goes in `schedule` or `schedule_file`)\n"
            "x/scenario.textproto:13:1: knobs[0]: bad knob name \"Do.Fencing\" (lowercase letters, "
            "digits, '_', '-' and '.', like \"do.fencing\")\n"
            "x/scenario.textproto:14:46: property[0].params[0]: expected statuses like \"2xx\", "
            "\"2xx,404\" or \"200-299\", got \"2xx,\"\n"
            "x/scenario.textproto:15:1: expected: expected \"nope\" is neither \"pass\" nor a "
            "property (properties: ok)\n"
            "x/scenario.textproto:16:21: variant[0].main: main module \"src/none.js\" not found in "
            "the scenario folder");
}

TEST(LoaderErrors, AtMostTwentyLinesAreReported) {
  std::string spec = "topology {\n";
  for (int i = 0; i < 25; ++i)
    spec += "  pop { name: \"p " + std::to_string(i) + "\" location: \"lhr\" }\n";
  spec +=
      "}\nload { request { path: \"/\" } }\nproperty { name: \"ok\" checker: \"http_status\" }\n";
  ScenarioFiles files = mini();
  files["scenario.textproto"] = spec;
  const std::string message = error_of(files);
  EXPECT_EQ(std::count(message.begin(), message.end(), '\n'), kScenarioErrorsMax);
  EXPECT_EQ(message.substr(0, message.find('\n')),
            "x/scenario.textproto:2:9: topology.pop[0].name: bad node name \"p 0\" (letters, "
            "digits, '-', '_', '.')");
  EXPECT_EQ(message.substr(message.rfind('\n') + 1), "(more errors not shown)");
}

// --- Properties that hold for every input. ---

// Every line of an error names a file of the scenario ("x/FILE:line:column: " or "x/FILE: ").
void expect_error_names_a_file(const std::string& message, const ScenarioFiles& files) {
  static const std::regex kLine(R"(^x/([^:]+)(:(\d+)(:\d+)?)?: .+$)");
  std::size_t i = 0;
  while (i < message.size()) {
    std::size_t nl = message.find('\n', i);
    if (nl == std::string::npos) nl = message.size();
    const std::string line = message.substr(i, nl - i);
    i = nl + 1;
    if (line == "(more errors not shown)") continue;
    std::smatch m;
    RC_ASSERT(std::regex_match(line, m, kLine));
    RC_ASSERT(files.count(m[1].str()) > 0);
  }
}

// Applies `edits` random byte edits to `text` (replace, insert or delete).
std::string corrupt(std::string text, std::uint64_t seed, int edits) {
  sim::Rng rng(seed);
  static const std::string kBytes = "{}[]\":,#/\\\n *${}0123456789abcxyz_-.@\x01\xff";
  for (int e = 0; e < edits && !text.empty(); ++e) {
    const std::size_t at = rng.below(text.size());
    const char byte =
        rng.bernoulli(0.5) ? kBytes[rng.below(kBytes.size())] : static_cast<char>(rng.below(256));
    switch (rng.below(3)) {
      case 0:
        text[at] = byte;
        break;
      case 1:
        text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), byte);
        break;
      default:
        text.erase(at, 1);
    }
  }
  return text;
}

RC_GTEST_PROP(LoaderLaws, CorruptedSpecNeverCrashesAndErrorsNameAFile,
              (std::uint64_t seed, std::uint8_t edits)) {
  static const ScenarioFiles base = example_files();
  ScenarioFiles files = base;
  files["scenario.textproto"] = corrupt(files["scenario.textproto"], seed, 1 + edits % 8);
  auto loaded = load_scenario_files(files, "", "x");
  if (!loaded.ok()) expect_error_names_a_file(loaded.error().message, files);
}

RC_GTEST_PROP(LoaderLaws, CorruptedWranglerNeverCrashesAndErrorsNameAFile,
              (std::uint64_t seed, std::uint8_t edits)) {
  static const ScenarioFiles base = example_files();
  ScenarioFiles files = base;
  files["wrangler.jsonc"] = corrupt(files["wrangler.jsonc"], seed, 1 + edits % 8);
  auto loaded = load_scenario_files(files, "kv-counter", "x");
  if (!loaded.ok()) expect_error_names_a_file(loaded.error().message, files);
}

RC_GTEST_PROP(LoaderLaws, LoadOfSerializeIsIdentity, (std::uint64_t seed)) {
  static const ScenarioFiles base = example_files();
  sim::Rng rng(seed);
  ScenarioFiles files = base;
  // Extra files of any content (binary included) under generated paths.
  const int extra = static_cast<int>(rng.below(4));
  for (int i = 0; i < extra; ++i) {
    std::string path = "assets/f" + std::to_string(rng.below(100)) + ".bin";
    std::string bytes(rng.below(64), '\0');
    for (auto& b : bytes) b = static_cast<char>(rng.below(256));
    files[path] = bytes;
  }
  const char* variants[] = {"", "kv-counter", "no-fencing"};
  const std::string variant = variants[rng.below(3)];
  auto loaded = load_scenario_files(files, variant, "suite/do-counter");
  RC_ASSERT(loaded.ok());
  auto back = deserialize_scenario(serialize_scenario(*loaded));
  RC_ASSERT(back.ok());
  RC_ASSERT(*back == *loaded);
  RC_ASSERT(back->fingerprint == fingerprint_files(files));
}

}  // namespace
}  // namespace scenarios::spec
