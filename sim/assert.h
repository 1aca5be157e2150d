// Assertions that stay on in every build. SIM_REQUIRE: the caller broke a contract.
// SIM_ASSERT: this code is wrong. Both print the seed, the virtual time and the node when a World
// is running (see set_assert_context), then abort: an assertion is never recoverable.
#pragma once

namespace sim {

// What a failed assertion prints beside the expression. Installed by the running World.
struct AssertContext {
  virtual ~AssertContext() = default;
  virtual void describe(char* buf, unsigned long size) const = 0;
};
void set_assert_context(const AssertContext* ctx);
const AssertContext* assert_context();

[[noreturn]] void assert_fail(const char* kind, const char* expr, const char* file, int line);

}  // namespace sim

#define SIM_ASSERT(cond) \
  ((cond) ? (void)0 : ::sim::assert_fail("assertion", #cond, __FILE__, __LINE__))
#define SIM_REQUIRE(cond) \
  ((cond) ? (void)0 : ::sim::assert_fail("requirement", #cond, __FILE__, __LINE__))
