// The scenario spec, resolved: what a scenario folder (scenario.textproto, wrangler.jsonc and the
// sources) says, with the selected variant applied, defaults filled in, durations parsed and every
// reference checked. The loader (loader.h) builds it; the runner builds a world from it.
//
// Everything here is a plain value with ==: loading the same files and variant twice gives equal
// values, which is how a trace proves it carries the whole scenario. Field meanings and defaults
// are documented in scenario.proto; this header notes only what the loader adds.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "platform/defaults.h"
#include "scenarios/spec/template.h"
#include "scenarios/spec/wrangler.h"
#include "sim/faults.h"
#include "sim/result.h"
#include "sim/time.h"

namespace scenarios::spec {

// Every file of a scenario by folder-relative path ('/'-separated, no "./"), as bytes. The same
// type as js::ModuleMap, so the Worker's modules are handed to the runtime as they are.
using ScenarioFiles = std::map<std::string, std::string>;

using Headers = std::vector<std::pair<std::string, std::string>>;

// A node: name and IATA location (the platform's type: platform/defaults.h).
using NodeSpec = platform::NodeSpec;

struct StaticResponse {
  std::string path;    // exact, or a prefix ending in '*'
  std::string method;  // empty: any
  int status = 200;
  std::string body;  // body_file already read
  Headers headers;
  sim::Duration delay = 0;
  bool operator==(const StaticResponse&) const = default;
};

struct OriginSpec {
  std::string name;
  std::string hostname;
  std::string location;
  std::vector<StaticResponse> responses;
  std::string script;  // module path; empty when `responses` answer
  bool operator==(const OriginSpec&) const = default;
};

// Service nodes are filled with defaults for the services some Worker binds (scenario.proto,
// message Topology), so the node names a fault plan can use are all known here.
// The service nodes (do_hosts, kv_stores, ...) are platform::ServiceNodes.
struct Topology : platform::ServiceNodes {
  std::vector<NodeSpec> pops;
  std::vector<OriginSpec> origins;

  // Every node name above, and the DO directory's when there is DO storage, sorted.
  std::vector<std::string> node_names() const;
  bool operator==(const Topology&) const = default;
};

struct WorkerSpec {
  std::string name;
  std::string config_path;  // the wrangler file, folder-relative
  std::string main;         // the main module, folder-relative (a key of the files)
  std::string compatibility_date;
  std::vector<std::string> hostnames;  // at least one
  WranglerConfig config;
  bool operator==(const WorkerSpec&) const = default;
};

struct RecordSpec {
  enum class Output { kBody, kStatus, kNone, kJsonPointer, kHeader };
  std::string kind;
  Template object;
  Template key;
  Template input;  // default ${body}
  Output output = Output::kBody;
  std::string output_arg;  // the JSON pointer or the header name
  std::vector<int> fail_status;
  bool operator==(const RecordSpec&) const = default;
};

struct RequestSpec {
  std::string method = "GET";
  Template url;  // path and query, or a full URL
  std::uint32_t weight = 1;
  Template body;
  std::vector<std::pair<std::string, Template>> headers;
  std::optional<RecordSpec> record;
  bool operator==(const RequestSpec&) const = default;
};

// Where a load's or client script's clients are and which PoP each uses.
struct ClientPlacement {
  int clients = 1;
  std::vector<std::string> locations;  // never empty after loading
  std::vector<std::string> pops;       // PoP names; empty: nearest to each client
  std::string worker;                  // never empty after loading
  sim::Duration start = 0;
  sim::Duration stop = 0;  // default: the scenario's duration
  bool operator==(const ClientPlacement&) const = default;
};

struct LoadSpec {
  std::string name;
  ClientPlacement placement;
  double rate = 0;  // > 0: paced by rate; else think_time
  sim::Duration think_time = 0;
  std::uint64_t requests_max = 0;  // 0: no limit
  sim::Duration timeout = 10 * sim::kSecond;
  std::vector<RequestSpec> requests;
  bool operator==(const LoadSpec&) const = default;
};

struct ClientScriptSpec {
  std::string name;
  std::string script;  // module path (a key of the files)
  ClientPlacement placement;
  std::map<std::string, std::string> params;
  bool operator==(const ClientScriptSpec&) const = default;
};

struct FaultSpec {
  sim::FaultPlan::Mode mode = sim::FaultPlan::Mode::kNone;
  std::string plan;    // the schedule's text (kSchedule)
  std::string source;  // where it was written: "…/scenario.textproto:40:3" or "…/faults.txt"
  // The plan. Parsing cannot fail: the loader checked it.
  sim::FaultPlan to_plan() const;
  bool operator==(const FaultSpec&) const = default;
};

enum class Checker {
  kLinearizability,
  kQueueDelivery,
  kKvConvergence,
  kDoSingleInstance,
  kWorkflowReplay,
  kHttpStatus,
  kBroadcast,
  kCronSchedule,
  kWorkflowLiveness,
};
const char* checker_name(Checker c);  // "linearizability", ...
std::optional<Checker> checker_from_name(std::string_view name);
const std::vector<std::string>& checker_names();

struct ModelSpec {
  enum class Kind { kNone, kRegister, kCounter, kKv, kSet, kList, kJs };
  Kind kind = Kind::kNone;
  std::string js_path;  // kJs: the module (a key of the files)
  bool operator==(const ModelSpec&) const = default;
};

struct PropertySpec {
  std::string name;
  Checker checker = Checker::kLinearizability;
  ModelSpec model;
  std::string object;  // empty: every object; "x*": a prefix
  std::map<std::string, std::string> params;
  std::string where;  // "scenario.textproto:31:3": the property's checker, for later errors
  bool operator==(const PropertySpec&) const = default;
};

struct VariantInfo {
  std::string name;
  std::string summary;
  std::string expected;
  bool operator==(const VariantInfo&) const = default;
};

struct LoadedScenario {
  std::string source;       // the folder as named when loading ("scenarios/suite/do-counter")
  std::string variant;      // the selected variant; empty: as written
  ScenarioFiles files;      // every file: with `variant`, all a run needs
  std::string fingerprint;  // of `files` (fingerprint_files)

  std::string name;
  std::string summary;
  std::string expected;  // "pass" or a property's name
  sim::Duration duration = 60 * sim::kSecond;
  sim::Duration quiet_after = 45 * sim::kSecond;
  Topology topology;
  std::vector<WorkerSpec> workers;  // the first is the entry Worker
  std::vector<LoadSpec> loads;
  std::vector<ClientScriptSpec> client_scripts;
  FaultSpec faults;
  std::map<std::string, std::string> knobs;
  std::map<std::string, std::string> knob_where;  // knob -> "scenario.textproto:31:3"
  std::vector<PropertySpec> properties;
  std::vector<VariantInfo> variants;  // all declared, for listings

  // "do-counter" or "do-counter@kv-counter".
  std::string qualified_name() const;
  const WorkerSpec* find_worker(std::string_view name) const;
  const PropertySpec* find_property(std::string_view name) const;

  bool operator==(const LoadedScenario&) const = default;
};

}  // namespace scenarios::spec
