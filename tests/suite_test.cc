// Scenario folders run end to end (needs the platform): the do-chat suite scenario over
// hibernatable WebSockets, and the http_status checker's parameters.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "scenarios/runner.h"

namespace scenarios {
namespace {

const PropertyResult* property(const RunOutcome& o, const std::string& name) {
  for (const PropertyResult& p : o.properties) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

TEST(SuiteChat, BroadcastHoldsAcrossHibernationAndACrash) {
  for (std::uint64_t seed : {1, 2, 3}) {
    RunOutcome o = run_scenario({EDGESIM_SUITE_DIR "/do-chat", seed});
    ASSERT_EQ(o.exit_code, kExitOk) << o.error << " seed " << seed;
    const PropertyResult* b = property(o, "broadcast");
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->verdict, PropertyResult::Verdict::kOk) << b->explanation;
    // The room hibernated in the silences, so the broadcasts after them crossed a hibernation.
    EXPECT_GE(o.stats["do_hibernations"], 1u) << "seed " << seed;
  }
}

TEST(SuiteChat, MembersKeptInMemoryAreCaught) {
  RunOutcome o = run_scenario({EDGESIM_SUITE_DIR "/do-chat@in-memory", 1});
  EXPECT_EQ(o.exit_code, kExitViolated);
  const PropertyResult* b = property(o, "broadcast");
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
  EXPECT_EQ(property(o, "all-2xx")->verdict, PropertyResult::Verdict::kViolated);
  EXPECT_NE(property(o, "all-2xx")->explanation.find("x 404"), std::string::npos)
      << property(o, "all-2xx")->explanation;
  EXPECT_EQ(property(o, "with-404")->verdict, PropertyResult::Verdict::kOk)
      << property(o, "with-404")->explanation;
  EXPECT_EQ(property(o, "good-load")->verdict, PropertyResult::Verdict::kOk)
      << property(o, "good-load")->explanation;
  EXPECT_EQ(property(o, "bad-load")->verdict, PropertyResult::Verdict::kViolated);
}

}  // namespace
}  // namespace scenarios
