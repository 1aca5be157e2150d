// Starting V8 for the platform: js::Engine with the platform's own JS, the extensions that the
// layers above js/ bring (runtime/dispatcher.js, the JS halves of objects/ and bindings/), in
// layer order. Every program that runs Workers calls init_engine() before making any (the
// scenario runner, benchmarks, the tests' main).
#pragma once

#include <vector>

#include "platform/js/engine.h"

namespace platform {

// The platform's JS extensions, in the order the engine runs them.
std::vector<js::Extension> js_extensions();

// js::Engine::init with `options` plus the platform's extensions. Idempotent.
void init_engine(js::EngineOptions options = {});

}  // namespace platform
