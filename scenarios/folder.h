// Folder scenarios: a scenario folder (scenarios/spec/README.md) run on the whole platform. A run
//  - translates the folder into a platform::DeploymentSpec (topology, Workers with their vars and
//    bindings, origins, knobs) and builds it (platform/deployment.h: PoPs with their front doors,
//    the services the Workers bind, the defaults for what the folder leaves out);
//  - adds the clients (clients.h): loads and client scripts, which drive the platform and record
//    history operations;
//  - checks the properties on the History its events recorded (check.h), as `edgesim check` does
//    on a trace.
// What this build does not simulate (a binding kind, a trigger, a compatibility flag, a checker
// with nothing to check) is refused when the folder loads, naming the file, line and key; so is
// a Worker whose modules do not load, and a knob that does not exist.
#pragma once

#include <memory>
#include <string>

#include "scenarios/scenario.h"
#include "scenarios/spec/spec.h"
#include "sim/result.h"

namespace scenarios {

// The scenario as the runner runs it. Errors (kInvalid): a knob or checker this build cannot
// apply, naming it.
sim::Result<ScenarioInfo> folder_scenario(std::shared_ptr<const spec::LoadedScenario> loaded);

}  // namespace scenarios
