// Fuzz target: the scenario loader over a folder's files. The input is scenario.textproto, or,
// when it holds a NUL byte, scenario.textproto NUL wrangler.jsonc [NUL src/index.js]; the other
// files are a minimal valid Worker. Bad input is an error, never an exception or a crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "scenarios/spec/loader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  scenarios::spec::ScenarioFiles files = {
      {"wrangler.jsonc", R"({ "name": "w", "main": "src/index.js" })"},
      {"src/index.js", "export default { fetch() { return new Response('x'); } };"},
  };
  std::size_t nul = input.find('\0');
  files["scenario.textproto"] = input.substr(0, nul);
  if (nul != std::string::npos) {
    const std::size_t nul2 = input.find('\0', nul + 1);
    files["wrangler.jsonc"] =
        input.substr(nul + 1, nul2 == std::string::npos ? nul2 : nul2 - nul - 1);
    if (nul2 != std::string::npos) files["src/index.js"] = input.substr(nul2 + 1);
  }
  auto loaded = scenarios::spec::load_scenario_files(files, "", "fuzz");
  if (!loaded.ok() && loaded.error().message.empty()) std::abort();
  // A scenario that loads has variants; each of them loads or fails cleanly too.
  if (loaded.ok()) {
    for (const auto& v : loaded->variants) {
      auto variant = scenarios::spec::load_scenario_files(files, v.name, "fuzz");
      if (!variant.ok() && variant.error().message.empty()) std::abort();
    }
  }
  return 0;
}
