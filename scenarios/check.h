// The properties of a scenario folder, checked on a History (props/history.h) and nothing else:
// the same function decides a live run's verdicts and those of `edgesim check TRACE`, so a trace
// re-checked on its own gets the run's verdicts.
//
// Checkers (spec::Checker) and what they read of the History:
//   linearizability     ops of the property's objects, with the built-in or JS model
//   do_single_instance  do_activations, do_commits
//   kv_convergence      the KV ops (objects "kv:<ns>"), where each op's node is
//   http_status         load_statuses
//   broadcast           ops of the property's objects
// An operation still pending at the end counts as unknown (it may take effect any time).
#pragma once

#include <vector>

#include "props/history.h"
#include "scenarios/scenario.h"
#include "scenarios/spec/spec.h"

namespace scenarios {

// One result per property of `s`, in declaration order.
std::vector<PropertyResult> check_properties(const spec::LoadedScenario& s,
                                             const props::History& history);

}  // namespace scenarios
