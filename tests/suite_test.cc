// Scenario folders run end to end (needs the platform): the do-chat suite scenario over
// hibernatable WebSockets, and the http_status checker's parameters.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "scenarios/runner.h"

namespace scenarios {
namespace {

TEST(SuiteChat, BroadcastHoldsAcrossHibernationAndACrash) {
  for (std::uint64_t seed : {1, 2, 3}) {
    RunOutcome o = run_scenario({EDGESIM_SUITE_DIR "/do-chat", seed});
    ASSERT_EQ(o.exit_code, kExitOk) << o.error << " seed " << seed;
    const PropertyResult* b = find_property(o, "broadcast");
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->verdict, PropertyResult::Verdict::kOk) << b->explanation;
    // The room hibernated in the silences, so the broadcasts after them crossed a hibernation.
    EXPECT_GE(o.stats["do_hibernations"], 1u) << "seed " << seed;
  }
}

TEST(SuiteChat, MembersKeptInMemoryAreCaught) {
  RunOutcome o = run_scenario({EDGESIM_SUITE_DIR "/do-chat@in-memory", 1});
  EXPECT_EQ(o.exit_code, kExitViolated);
  const PropertyResult* b = find_property(o, "broadcast");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->verdict, PropertyResult::Verdict::kViolated);
  EXPECT_NE(b->explanation.find("never reached"), std::string::npos) << b->explanation;
}

// A folder whose Worker answers 404 on /missing; two loads.
std::string write_status_scenario(const std::string& properties) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("edgesim-status-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "src");
  std::ofstream(dir / "scenario.textproto")
      << "name: \"status\"\n"
         "duration: \"5s\"\n"
         "topology { pop { location: \"lhr\" } }\n"
         "load { name: \"good\" request { path: \"/\" } }\n"
         "load { name: \"bad\" request { path: \"/missing\" } }\n"
      << properties;
  std::ofstream(dir / "wrangler.jsonc") << "{ \"name\": \"status\", \"main\": \"src/index.js\" }\n";
  std::ofstream(dir / "src/index.js")
      << "export default { fetch(r) { return new Response('x', "
         "{status: new URL(r.url).pathname === '/missing' ? 404 : 200}); } };\n";
  return dir.string();
}

TEST(FolderChecks, HttpStatusHonoursAllowAndLoad) {
  const std::string dir = write_status_scenario(
      "property { name: \"all-2xx\" checker: \"http_status\" }\n"
      "property { name: \"with-404\" checker: \"http_status\" params { key: \"allow\" value: "
      "\"2xx,404\" } }\n"
      "property { name: \"good-load\" checker: \"http_status\" params { key: \"load\" value: "
      "\"good\" } }\n"
      "property { name: \"bad-load\" checker: \"http_status\" params { key: \"load\" value: "
      "\"bad\" } params { key: \"allow\" value: \"200-299\" } }\n");
  RunOutcome o = run_scenario({dir, 1});
  std::filesystem::remove_all(dir);
  ASSERT_NE(o.exit_code, kExitBadInput) << o.error;
  ASSERT_EQ(o.properties.size(), 4u);
  EXPECT_EQ(find_property(o, "all-2xx")->verdict, PropertyResult::Verdict::kViolated);
  EXPECT_NE(find_property(o, "all-2xx")->explanation.find("x 404"), std::string::npos)
      << find_property(o, "all-2xx")->explanation;
  EXPECT_EQ(find_property(o, "with-404")->verdict, PropertyResult::Verdict::kOk)
      << find_property(o, "with-404")->explanation;
  EXPECT_EQ(find_property(o, "good-load")->verdict, PropertyResult::Verdict::kOk)
      << find_property(o, "good-load")->explanation;
  EXPECT_EQ(find_property(o, "bad-load")->verdict, PropertyResult::Verdict::kViolated);
}

// `edgesim check TRACE` decides from the trace alone what the run decided: for every shipped
// scenario and variant, the same verdict and the same explanation for every property. (The
// checkers read only the History the events make, so a difference means an event lost data.)
// A linearizability property's steps_max bounds the search: past it the verdict is unknown
// (exit 4), never a pass, even on a history that is linearizable. An object filter that matches
// no operation is unknown too.
TEST(Verdicts, ABoundedOrEmptyLinearizabilityCheckIsUnknown) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("edgesim-bounded-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::copy(EDGESIM_SUITE_DIR "/do-counter", dir,
                        std::filesystem::copy_options::recursive);
  std::ofstream(dir / "scenario.textproto", std::ios::app)
      << "property { name: \"bounded\" checker: \"linearizability\" model: \"counter\"\n"
         "  object: \"counter\" params { key: \"steps_max\" value: \"1\" } }\n"
         "property { name: \"misspelt\" checker: \"linearizability\" model: \"counter\"\n"
         "  object: \"counters\" }\n";
  RunOutcome o = run_scenario({dir.string(), 1});
  EXPECT_EQ(o.exit_code, kExitUndecided) << o.error;
  EXPECT_EQ(o.verdict, "unknown");
  ASSERT_NE(find_property(o, "bounded"), nullptr);
  EXPECT_EQ(find_property(o, "bounded")->verdict, PropertyResult::Verdict::kUnknown);
  EXPECT_NE(find_property(o, "bounded")->explanation.find("steps_max"), std::string::npos)
      << find_property(o, "bounded")->explanation;
  ASSERT_NE(find_property(o, "misspelt"), nullptr);
  EXPECT_EQ(find_property(o, "misspelt")->verdict, PropertyResult::Verdict::kUnknown);
  EXPECT_EQ(find_property(o, "counter-linearizable")->verdict, PropertyResult::Verdict::kOk);
  std::filesystem::remove_all(dir);
}

// A linearizability violation names the faults that fired shortly before its failing operation
// (or says none did), so the reader sees the likely cause.
TEST(Verdicts, AViolationNamesTheFaultsBeforeIt) {
  RunOutcome with = run_scenario({EDGESIM_SUITE_DIR "/do-counter@kv-counter", 1,
                                  "at 0.2s crash pop-syd; at 0.4s restart pop-syd"});
  const PropertyResult* p = find_property(with, "counter-linearizable");
  ASSERT_NE(p, nullptr);
  ASSERT_EQ(p->verdict, PropertyResult::Verdict::kViolated);
  EXPECT_NE(p->explanation.find("before its failing operation or during it: crash pop-syd at "
                                "0.200000s; restart pop-syd at 0.400000s"),
            std::string::npos)
      << p->explanation;
  RunOutcome without = run_scenario({EDGESIM_SUITE_DIR "/do-counter@kv-counter", 1, "none"});
  p = find_property(without, "counter-linearizable");
  ASSERT_NE(p, nullptr);
  EXPECT_NE(p->explanation.find("no fault fired in the 10 s before"), std::string::npos)
      << p->explanation;
}

TEST(CheckTrace, GivesTheRunsVerdictsForEveryShippedScenario) {
  sim::Result<std::vector<std::string>> names = expand_scenarios(EDGESIM_SUITE_DIR);
  ASSERT_TRUE(names.ok()) << names.error().message;
  ASSERT_GE(names->size(), 9u);
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("edgesim-check-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  int violated = 0;
  for (const std::string& name : *names) {
    for (std::uint64_t seed : {1, 2}) {
      const std::string trace = (dir / ("t" + std::to_string(seed) + ".trace")).string();
      RunConfig c(name, seed, "", trace);
      RunOutcome run = run_scenario(c);
      ASSERT_TRUE(run.exit_code == kExitOk || run.exit_code == kExitViolated)
          << name << " seed " << seed << ": " << run.error;
      CheckOutcome check = check_trace(trace);
      ASSERT_EQ(check.exit_code, run.exit_code) << name << " seed " << seed << ": " << check.report;
      EXPECT_EQ(check.result.verdict, run.verdict) << name;
      ASSERT_EQ(check.result.properties.size(), run.properties.size()) << name;
      for (std::size_t i = 0; i < run.properties.size(); ++i) {
        const PropertyResult& a = run.properties[i];
        const PropertyResult& b = check.result.properties[i];
        EXPECT_EQ(b.name, a.name) << name;
        EXPECT_EQ(b.verdict, a.verdict) << name << " " << a.name;
        EXPECT_EQ(b.explanation, a.explanation) << name << " " << a.name;
        violated += a.verdict == PropertyResult::Verdict::kViolated ? 1 : 0;
      }
      EXPECT_NE(check.report.find("same verdicts as the run"), std::string::npos) << check.report;
      EXPECT_EQ(check.result.final_hash, run.final_hash) << name;
    }
  }
  std::filesystem::remove_all(dir);
  EXPECT_GT(violated, 0);  // the variants' bugs were caught, and re-caught from the traces
}

// Unknown is never a pass: undecided (exit 4) unless something was violated (exit 1).
TEST(Verdicts, UnknownIsNeverAPass) {
  using V = PropertyResult::Verdict;
  auto settled = [](std::vector<V> verdicts) {
    RunOutcome o;
    for (V v : verdicts) o.properties.push_back({"p", v, ""});
    settle_verdict(o);
    return std::make_pair(o.verdict, o.exit_code);
  };
  EXPECT_EQ(settled({}), std::make_pair(std::string("pass"), kExitOk));
  EXPECT_EQ(settled({V::kOk, V::kOk}), std::make_pair(std::string("pass"), kExitOk));
  EXPECT_EQ(settled({V::kOk, V::kUnknown}), std::make_pair(std::string("unknown"), kExitUndecided));
  EXPECT_EQ(settled({V::kUnknown, V::kViolated}),
            std::make_pair(std::string("fail"), kExitViolated));
}

TEST(CheckTrace, BuiltInScenariosAndDamagedTracesAreBadInput) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("edgesim-check2-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string trace = (dir / "p.trace").string();
  RunOutcome run = run_scenario(RunConfig("pingpong", 1, "", trace));
  ASSERT_EQ(run.exit_code, kExitOk) << run.error;
  CheckOutcome check = check_trace(trace);
  EXPECT_EQ(check.exit_code, kExitBadInput);
  EXPECT_NE(check.report.find("edgesim replay"), std::string::npos) << check.report;
  std::string bytes;
  {
    std::ifstream in(trace, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  std::ofstream(trace, std::ios::binary | std::ios::trunc) << bytes.substr(0, bytes.size() / 2);
  check = check_trace(trace);
  EXPECT_EQ(check.exit_code, kExitBadInput);
  EXPECT_NE(check.report.find("p.trace"), std::string::npos) << check.report;
  EXPECT_EQ(check_trace((dir / "none.trace").string()).exit_code, kExitBadInput);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace scenarios
