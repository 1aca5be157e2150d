// Fuzz target: the cron expression parser and its next-firing search. An expression either is
// refused with a message or gives firings that are strictly increasing and that it matches.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "platform/services/cron/cron_expr.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto expr = services::CronExpr::parse(text);
  if (!expr.ok()) {
    if (expr.error().message.empty()) std::abort();
    return 0;
  }
  // From 2026-01-01 (Unix minute 29,454,720), a few firings.
  std::int64_t at = 29'454'720;
  for (int i = 0; i < 4; ++i) {
    std::optional<std::int64_t> next = expr->next_after(at);
    if (!next) break;
    if (*next <= at || !expr->matches(*next)) std::abort();
    at = *next;
  }
  return 0;
}
