// The topology: PoPs and service nodes (resolve_topology), origins with their static responses or
// scripts, and the service nodes filled in for what the Workers bind (add_default_services, which
// runs after the Workers are known). Node names are claimed here because fault plans name nodes,
// so no two may share one.

#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "scenarios/spec/loader_internal.h"
#include "scenarios/spec/util.h"

namespace scenarios::spec::loader_internal {
namespace {

void claim_node_name(Resolution& r, const Loc& loc, const std::string& name,
                     const std::string& hint = "") {
  if (!is_valid_name(name)) {
    r.errors.at(loc, "bad node name " + quote(name) + " (letters, digits, '-', '_', '.')");
  } else if (!r.node_names.insert(name).second) {
    r.errors.at(loc, "node name " + quote(name) + " is used twice" + hint);
  }
}

// The nodes of one kind. An unnamed node is named `prefix`-N, or by its location when `prefix`
// is empty (PoPs).
void resolve_nodes(Resolution& r, const Loc& topo, std::string_view field,
                   const google::protobuf::RepeatedPtrField<pb::Node>& in, std::string_view prefix,
                   std::vector<NodeSpec>* out) {
  if (in.size() > kNodesPerKindMax) {
    r.errors.at(topo(field, kNodesPerKindMax),
                "more than " + std::to_string(kNodesPerKindMax) + " nodes of one kind");
    return;
  }
  for (int i = 0; i < in.size(); ++i) {
    const Loc loc = topo(field, i);
    NodeSpec n;
    n.location = location(r, loc("location"), in[i].location());
    n.name = in[i].name();
    const bool defaulted = n.name.empty();
    if (defaulted) {
      n.name = prefix.empty() ? n.location : std::string(prefix) + "-" + std::to_string(i + 1);
    }
    claim_node_name(
        r, defaulted ? loc : loc("name"), n.name,
        defaulted && prefix.empty() ? " (a PoP is named by its location; give `name`)" : "");
    out->push_back(std::move(n));
  }
}

StaticResponse resolve_static_response(Resolution& r, const Loc& loc,
                                       const pb::StaticResponse& in) {
  StaticResponse sr;
  sr.path = in.path();
  if (sr.path.empty() || sr.path[0] != '/' || sr.path.find('*') < sr.path.size() - 1) {
    r.errors.at(loc("path"),
                "expected a path like \"/v1/price\" or a prefix like "
                "\"/static/*\", got " +
                    quote(sr.path));
  }
  sr.method = in.method();
  if (!sr.method.empty()) check_method(r, loc("method"), sr.method);
  sr.status = in.status() == 0 ? 200 : in.status();
  if (sr.status < 100 || sr.status > 599) {
    r.errors.at(loc("status"), "expected an HTTP status from 100 to 599");
  }
  sr.body = in.body();
  if (!in.body_file().empty()) {
    if (!in.body().empty()) r.errors.at(loc("body_file"), "give body or body_file, not both");
    const std::string path = file_ref(r, loc("body_file"), in.body_file(), "file");
    if (!path.empty()) sr.body = r.files.at(path);
  }
  for (const auto& [k, v] : entries(r, loc, "headers", in.headers(), false)) {
    sr.headers.emplace_back(k, v);
  }
  sr.delay = duration(r, loc("delay"), in.delay(), 0);
  return sr;
}

// Origin `index` (0-based): a host outside the platform that answers by static responses or by
// a script.
OriginSpec resolve_origin(Resolution& r, const Loc& loc, const pb::Origin& in, int index) {
  OriginSpec spec;
  spec.name = in.name().empty() ? "origin-" + std::to_string(index + 1) : in.name();
  claim_node_name(r, loc("name"), spec.name);
  spec.location = location(r, loc("location"), in.location());
  spec.hostname = in.hostname();
  check_hostname(r, loc("hostname"), spec.hostname);
  if (!in.script().empty()) {
    spec.script = file_ref(r, loc("script"), in.script(), "script");
    if (!spec.script.empty() && !is_module_path(spec.script)) {
      r.errors.at(loc("script"), "an origin script is a .js or .mjs module");
    }
    if (in.response_size() > 0) {
      r.errors.at(loc("response", 0),
                  "an origin answers by `response` entries or by "
                  "`script`, not both");
    }
  }
  for (int j = 0; j < in.response_size(); ++j) {
    spec.responses.push_back(resolve_static_response(r, loc("response", j), in.response(j)));
  }
  return spec;
}

// Which services some Worker uses.

platform::ServicesUsed services_used(const std::vector<WorkerSpec>& workers) {
  platform::ServicesUsed used;
  for (const auto& w : workers) {
    used.kv |= !w.config.kv_namespaces.empty();
    used.durable_objects |=
        !w.config.durable_objects.empty() || !w.config.durable_object_classes.empty();
    used.queues |= !w.config.queue_producers.empty() || !w.config.queue_consumers.empty();
    used.workflows |= !w.config.workflows.empty();
    used.d1 |= !w.config.d1_databases.empty();
    used.r2 |= !w.config.r2_buckets.empty();
    used.cron |= !w.config.crons.empty();
  }
  return used;
}

// Claims the name of a node the loader adds: the topology may have given it to another node.
void claim_default_node_name(Resolution& r, const std::string& name) {
  if (!r.node_names.insert(name).second) {
    r.errors.at(r.root("topology"), "the default node name " + quote(name) +
                                        " is taken; declare this service's nodes explicitly");
  }
}

}  // namespace

void resolve_topology(Resolution& r) {
  const Loc topo = r.root("topology");
  const pb::Topology& t = r.spec.topology();
  Topology& out = r.out.topology;
  resolve_nodes(r, topo, "pop", t.pop(), "", &out.pops);
  if (t.pop_size() == 0) r.errors.at(topo, "at least one pop is required");
  resolve_nodes(r, topo, "do_host", t.do_host(), "do", &out.do_hosts);
  resolve_nodes(r, topo, "do_storage", t.do_storage(), "do-storage", &out.do_storage);
  resolve_nodes(r, topo, "kv_store", t.kv_store(), "kv", &out.kv_stores);
  resolve_nodes(r, topo, "queue_broker", t.queue_broker(), "queue", &out.queue_brokers);
  resolve_nodes(r, topo, "workflow_engine", t.workflow_engine(), "workflow", &out.workflow_engines);
  resolve_nodes(r, topo, "d1", t.d1(), "d1", &out.d1);
  resolve_nodes(r, topo, "r2", t.r2(), "r2", &out.r2);
  resolve_nodes(r, topo, "cron", t.cron(), "cron", &out.cron);
  if (t.cron_size() > 1) r.errors.at(topo("cron", 1), "one cron scheduler at most");
  for (int i = 0; i < t.origin_size(); ++i) {
    out.origins.push_back(resolve_origin(r, topo("origin", i), t.origin(i), i));
  }
}

void add_default_services(Resolution& r) {
  if (r.out.topology.pops.empty()) return;
  const platform::ServicesUsed used = services_used(r.out.workers);
  Topology& t = r.out.topology;
  // The platform's defaults policy (platform/defaults.h), so the names are known here.
  const std::vector<std::string> added = platform::fill_default_nodes(t.pops, used, &t);
  for (const std::string& name : added) claim_default_node_name(r, name);
}

}  // namespace scenarios::spec::loader_internal
