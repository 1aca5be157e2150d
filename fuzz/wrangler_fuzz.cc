// Fuzz target: the wrangler.jsonc reader (JSONC scan, nlohmann parse, every key's validation).
// Bad input is an error naming wrangler.jsonc, never an exception or a crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "scenarios/spec/wrangler.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = scenarios::spec::parse_wrangler(text, "wrangler.jsonc");
  if (!parsed.ok() && parsed.error().message.rfind("wrangler.jsonc", 0) != 0) std::abort();
  return 0;
}
