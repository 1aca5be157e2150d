// main() of platform_tests: V8 starts once per process with the platform's JS extensions
// (platform/engine_setup.h), before any test, whatever order the tests run in; the tests' own
// Engine::init() calls are then no-ops.
#include <gtest/gtest.h>

#include "platform/engine_setup.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  platform::init_engine();
  return RUN_ALL_TESTS();
}
