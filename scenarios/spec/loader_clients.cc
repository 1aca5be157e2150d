// Client groups: what loads and client scripts share (where their clients are, which PoP and
// Worker they call, when they run; unique group names), and client scripts themselves. The loads
// are in loader_loads.cc.

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "scenarios/spec/loader_internal.h"
#include "scenarios/spec/util.h"

namespace scenarios::spec::loader_internal {
namespace {

// The PoPs named, into p->pops; "nearest" (alone) leaves them empty.
void resolve_pops(Resolution& r, const Loc& loc,
                  const google::protobuf::RepeatedPtrField<std::string>& pops, ClientPlacement* p) {
  const std::vector<NodeSpec>& declared = r.out.topology.pops;
  std::vector<std::string> pop_names;
  for (const auto& pop : declared) pop_names.push_back(pop.name);
  for (int i = 0; i < pops.size(); ++i) {
    if (pops[i] == "nearest") {
      if (pops.size() > 1) r.errors.at(loc("pop", i), "\"nearest\" stands alone");
      continue;
    }
    const auto it = std::find_if(declared.begin(), declared.end(),
                                 [&](const NodeSpec& n) { return n.name == pops[i]; });
    if (it == declared.end()) {
      r.errors.at(loc("pop", i), "no PoP named " + quote(pops[i]) +
                                     did_you_mean(pops[i], pop_names) +
                                     " (PoPs: " + join(pop_names) + "; or \"nearest\")");
      continue;
    }
    p->pops.push_back(pops[i]);
  }
}

// Where the clients are when no location is written: where the PoPs they use are, in the order
// they are assigned.
std::vector<std::string> default_locations(const Resolution& r, const ClientPlacement& p) {
  std::vector<std::string> locations;
  for (const auto& pop : r.out.topology.pops) {
    if (p.pops.empty()) locations.push_back(pop.location);
  }
  for (const auto& name : p.pops) {
    for (const auto& pop : r.out.topology.pops) {
      if (pop.name == name) locations.push_back(pop.location);
    }
  }
  return locations;
}

// The Worker named, else the entry Worker.
void resolve_client_worker(Resolution& r, const Loc& loc, const std::string& worker,
                           ClientPlacement* p) {
  p->worker = worker;
  if (p->worker.empty() && !r.out.workers.empty()) p->worker = r.out.workers.front().name;
  if (!worker.empty() && r.out.find_worker(worker) == nullptr) {
    std::vector<std::string> names;
    for (const auto& w : r.out.workers) names.push_back(w.name);
    r.errors.at(loc("worker"), "no Worker named " + quote(worker) + did_you_mean(worker, names));
  }
}

ClientScriptSpec resolve_client_script(Resolution& r, const Loc& loc, const pb::ClientScript& c) {
  ClientScriptSpec cs;
  if (c.script().empty()) {
    r.errors.at(loc("script"), "a script (.js or .mjs module) is required");
  } else {
    cs.script = file_ref(r, loc("script"), c.script(), "script");
    if (!cs.script.empty() && !is_module_path(cs.script)) {
      r.errors.at(loc("script"), "a client script is a .js or .mjs module");
    }
  }
  cs.name = c.name();
  if (cs.name.empty()) {
    const std::string base = c.script().substr(c.script().find_last_of('/') + 1);
    cs.name = base.substr(0, base.find('.'));
  }
  claim_group_name(r, loc("name"), cs.name);
  cs.placement = resolve_placement(r, loc, c.clients(), c.location(), c.pop(), c.worker(),
                                   c.start(), c.stop());
  cs.params = entries(r, loc, "params", c.params(), false);
  return cs;
}

}  // namespace

ClientPlacement resolve_placement(Resolution& r, const Loc& loc, int clients,
                                  const google::protobuf::RepeatedPtrField<std::string>& locations,
                                  const google::protobuf::RepeatedPtrField<std::string>& pops,
                                  const std::string& worker, const std::string& start,
                                  const std::string& stop) {
  ClientPlacement p;
  p.clients = clients == 0 ? 1 : clients;
  if (p.clients < 0 || p.clients > kClientsMax) {
    r.errors.at(loc("clients"), "expected from 1 to " + std::to_string(kClientsMax) + " clients");
    p.clients = 1;
  }
  resolve_pops(r, loc, pops, &p);
  for (int i = 0; i < locations.size(); ++i) {
    p.locations.push_back(location(r, loc("location", i), locations[i]));
  }
  if (p.locations.empty()) p.locations = default_locations(r, p);
  resolve_client_worker(r, loc, worker, &p);
  const sim::Duration end = r.out.duration;
  p.start = duration(r, loc("start"), start, 0);
  p.stop = duration(r, loc("stop"), stop, end);
  if (p.stop > end) {
    r.errors.at(loc("stop"),
                "is after the end of the run (duration " + sim::format_duration(end) + ")");
  } else if (p.start >= p.stop) {
    r.errors.at(loc("start"), "must be before stop (" + sim::format_duration(p.stop) + ")");
  }
  return p;
}

void claim_group_name(Resolution& r, const Loc& loc, const std::string& name) {
  if (!is_valid_name(name)) {
    r.errors.at(loc, "bad name " + quote(name) + " (letters, digits, '-', '_', '.')");
  } else if (!r.group_names.insert(name).second) {
    r.errors.at(loc, "a load or client script named " + quote(name) + " already exists");
  }
}

void resolve_clients(Resolution& r) {
  if (r.spec.load_size() > kLoadsMax) {
    r.errors.at(r.root("load", kLoadsMax), "more than " + std::to_string(kLoadsMax) + " loads");
    return;
  }
  resolve_loads(r);
  for (int i = 0; i < r.spec.client_script_size(); ++i) {
    r.out.client_scripts.push_back(
        resolve_client_script(r, r.root("client_script", i), r.spec.client_script(i)));
  }
}

}  // namespace scenarios::spec::loader_internal
