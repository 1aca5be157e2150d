// Folder scenarios: a scenario folder (scenarios/spec/README.md) run on the whole platform —
// PoPs running the scenario's Workers (runtime::Pop), the Durable Object cluster and hosts, the
// KV service, origins, and client nodes that drive the declared HTTP loads and record the
// operations the properties check.
//
// What a run builds, from the LoadedScenario:
//  - one node per PoP, DO host, DO storage node (plus a DO directory, "do-dir", at the first
//    storage node's location) and origin; KV central stores per topology.kv_store (or KV's
//    defaults); one client node per client of each load, at its locations in turn;
//  - every Worker deployed at every PoP; its env holds its vars and bindings (DO namespaces, KV);
//    a DO class runs the script of the Worker that defines it, on the DO hosts;
//  - clients send their load's requests over the simulated network to their PoP (the nearest, or
//    those named), and record each request that has a `record` as a history operation: ok with
//    the recorded output for a 2xx, fail for a status in fail_status (or a refused connection),
//    unknown otherwise (a timeout, a 5xx: it may have taken effect).
// Client scripts (ClientScript) run as Workers on their client nodes, started at `start`:
// ctx.fetch goes over the network to the client's PoP, ctx.op records into the history.
// Checks (PropertySpec): linearizability (built-in models), do_single_instance, kv_convergence,
// http_status; linearizability takes built-in models or one written in JS (js_model.h).
// queue_delivery and workflow_replay report "unknown" (no queues or workflows in the platform yet).
//
// Knobs: "do.*" (services::DoClusterConfig::set_knob, plus do.output_gate on|off),
// "kv.local_read_your_writes" on|off, "kv.propagation_max" (a duration), "kv.cache_ttl_min".
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
