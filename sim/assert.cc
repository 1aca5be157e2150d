#include "sim/assert.h"

#include <cstdio>
#include <cstdlib>

namespace sim {

namespace {
const AssertContext* g_assert_ctx = nullptr;  // only for messages; set by the running World
}

void set_assert_context(const AssertContext* ctx) { g_assert_ctx = ctx; }
const AssertContext* assert_context() { return g_assert_ctx; }

void assert_fail(const char* kind, const char* expr, const char* file, int line) {
  char where[512] = "";
  if (g_assert_ctx != nullptr) g_assert_ctx->describe(where, sizeof where);
  std::fprintf(stderr, "edgesim: %s failed: %s\n  at %s:%d\n%s%s", kind, expr, file, line,
               where[0] ? "  " : "", where);
  std::fflush(stderr);
  std::abort();
}

}  // namespace sim
