// Internal to the scenario loader (loader*.cc): what its files share. Not part of the public API
// (see loader.h).
//
// loader.cc parses scenario.textproto and hands it to resolve() (loader_resolver.cc), which runs
// one pass per topic over a Resolution. The passes run in a fixed order because later ones read
// what earlier ones resolved (client placement needs the PoPs and the Workers, properties need the
// loads), and because the order of the error lines is part of the output. Each topic has a file:
//   loader_resolver.cc    resolve(), the scenario's header, the checks every pass shares
//   loader_variants.cc    choosing the variant; `expected`; checks of the unselected variants
//   loader_topology.cc    PoPs, service nodes, origins; default service nodes
//   loader_workers.cc     Workers and their wrangler files; checks across Workers
//   loader_clients.cc     client placement and group names (shared by loads and client scripts)
//   loader_loads.cc       HTTP loads, their requests and the operations they record
//   loader_faults.cc      fault plans and knobs
//   loader_properties.cc  properties: checkers, models, params
//   loader_text_errors.cc the protobuf text parser's errors, made plain
#pragma once

#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/repeated_ptr_field.h>
#include <google/protobuf/text_format.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "scenarios/spec/loader.h"
#include "scenarios/spec/scenario.pb.h"
#include "scenarios/spec/spec.h"
#include "sim/result.h"
#include "sim/time.h"

namespace scenarios::spec::loader_internal {

namespace pb = edgesim::scenario;

// Limits beyond loader.h's, so that a typo ("clients: 1000000") fails at load, not in the run.
inline constexpr int kClientsMax = 10'000;
inline constexpr int kLoadsMax = 64;
inline constexpr int kRequestsPerLoadMax = 256;
inline constexpr int kWeightMax = 1'000'000;
inline constexpr double kRateMax = 1e6;
inline constexpr int kWorkersMax = 16;
inline constexpr int kNodesPerKindMax = 256;

sim::Error invalid(std::string message);
bool has_suffix(std::string_view s, std::string_view suffix);
// What the runtime loads as an ES module.
bool is_module_path(std::string_view path);

// Collects the text parser's errors as "file:line:column: message", 1-based, with protobuf's
// wording made plain (loader_text_errors.cc).
class TextErrors : public google::protobuf::io::ErrorCollector {
 public:
  TextErrors(std::string file, std::string_view text, std::vector<std::string>* out)
      : file_(std::move(file)), text_(text), out_(out) {}

  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override;
  void AddWarning(int, google::protobuf::io::ColumnNumber, const std::string&) override {}

 private:
  static std::string plain(const std::string& message);
  int field_start(int line, int column, const std::string& message) const;

  std::string file_;
  std::string_view text_;
  std::vector<std::string>* out_;
};

// A place in the parsed text: a field (by path) and where it was written. A field that was not
// written takes its parent's place, so every message points somewhere near.
class Loc {
 public:
  Loc(const std::string* file, const google::protobuf::TextFormat::ParseInfoTree* tree,
      const google::protobuf::Descriptor* desc)
      : file_(file), tree_(tree), desc_(desc) {}

  // The field `name` (index: the element of a repeated field; -1 for a singular one).
  Loc operator()(std::string_view name, int index = -1) const;

  // "file:line:column", or the file alone when nothing above was written.
  std::string where() const;
  const std::string& path() const { return path_; }

 private:
  const std::string* file_;
  const google::protobuf::TextFormat::ParseInfoTree* tree_;
  const google::protobuf::Descriptor* desc_;
  std::string path_;
  int line_ = -1;
  int column_ = -1;
};

// The error lines of one load, in the order found, at most kScenarioErrorsMax of them.
class Errors {
 public:
  void add(std::string line);
  // "where: path: message".
  void at(const Loc& loc, const std::string& message);
  // Adds each line of a multi-line message.
  void add_lines(const std::string& message);
  bool ok() const { return lines_.empty(); }
  sim::Error error() const;

 private:
  std::vector<std::string> lines_;
  bool truncated_ = false;
};

// A resolution in progress, shared by the passes. A pass reads the spec (and the variant that
// select_variant() chose), fills its part of `out` and reports what is wrong into `errors`, so that
// one load reports every problem it can find.
struct Resolution {
  Resolution(const ScenarioFiles& files, std::string source, std::string variant,
             const pb::Scenario& spec, const google::protobuf::TextFormat::ParseInfoTree& tree);
  // `root` points at `spec_file`.
  Resolution(const Resolution&) = delete;
  Resolution& operator=(const Resolution&) = delete;

  const ScenarioFiles& files;
  const std::string source;     // how messages name the folder ("": by relative paths alone)
  const std::string spec_file;  // how messages name scenario.textproto
  const pb::Scenario& spec;
  const Loc root;
  const pb::Variant* variant = nullptr;  // null: the scenario as written
  std::optional<Loc> variant_loc;
  Errors errors;
  LoadedScenario out;
  // Names that must be unique across passes.
  std::set<std::string> node_names;   // nodes and origins: what fault plans name
  std::set<std::string> hostnames;    // served by origins and Workers
  std::set<std::string> group_names;  // loads and client scripts
  bool records = false;               // some request records an operation
};

// Builds a LoadedScenario from the parsed spec and the files, or the errors found
// (loader_resolver.cc).
sim::Result<LoadedScenario> resolve(const ScenarioFiles& files, std::string source,
                                    std::string variant, const pb::Scenario& spec,
                                    const google::protobuf::TextFormat::ParseInfoTree& tree);

// ---- Checks every pass shares (loader_resolver.cc). Each reports what is wrong at `loc`. ----

// A folder-relative path as messages show it: under the source folder, when there is one.
std::string display(const Resolution& r, const std::string& rel);
// `text` parsed; `fallback` when it is empty or bad.
sim::Duration duration(Resolution& r, const Loc& loc, const std::string& text,
                       sim::Duration fallback);
// A folder-relative path written in the spec, normalized; "" unless it names a file of the
// scenario. `what` names the file in messages ("script", "main module").
std::string file_ref(Resolution& r, const Loc& loc, const std::string& written,
                     std::string_view what);
// `code` as given, checked to be a known location.
std::string location(Resolution& r, const Loc& loc, const std::string& code);
// The entries of repeated field `field` as a map, keys unique. `knob_keys`: keys must look like
// knob names ("do.fencing").
std::map<std::string, std::string> entries(Resolution& r, const Loc& loc, std::string_view field,
                                           const google::protobuf::RepeatedPtrField<pb::Entry>& es,
                                           bool knob_keys);
// Claims a hostname (of an origin or a Worker): valid, and served once.
void check_hostname(Resolution& r, const Loc& loc, const std::string& host);
void check_method(Resolution& r, const Loc& loc, const std::string& method);

// ---- The passes, in the order resolve() runs them. ----

// loader_variants.cc: finds the selected variant (r.variant) and checks the declared names.
void select_variant(Resolution& r);
// loader_topology.cc: PoPs, service nodes and origins as written.
void resolve_topology(Resolution& r);
// loader_workers.cc: the Workers, their wrangler files, and what one Worker says of another.
void resolve_workers(Resolution& r);
// loader_topology.cc: a node for each service some Worker binds, when the topology names none.
void add_default_services(Resolution& r);
// loader_clients.cc: loads (loader_loads.cc), then client scripts.
void resolve_clients(Resolution& r);
// loader_faults.cc: the fault plan, the variant's replacing the scenario's.
void resolve_faults(Resolution& r);
// loader_faults.cc: knobs, the variant's over the scenario's.
void resolve_knobs(Resolution& r);
// loader_properties.cc.
void resolve_properties(Resolution& r);
// loader_variants.cc: every `expected` names a property; unselected variants are sound.
void check_expectations(Resolution& r);

// ---- Pieces one pass lends another. ----

// loader_clients.cc: where a load's or client script's clients are.
ClientPlacement resolve_placement(Resolution& r, const Loc& loc, int clients,
                                  const google::protobuf::RepeatedPtrField<std::string>& locations,
                                  const google::protobuf::RepeatedPtrField<std::string>& pops,
                                  const std::string& worker, const std::string& start,
                                  const std::string& stop);
// loader_clients.cc: claims the name of a load or client script.
void claim_group_name(Resolution& r, const Loc& loc, const std::string& name);
// loader_loads.cc: every HTTP load (the limit on their number is checked by the caller).
void resolve_loads(Resolution& r);
// loader_faults.cc: one `faults` message (the scenario's or a variant's) into `out`.
void resolve_fault_plan(Resolution& r, const Loc& loc, const pb::Faults& f, FaultSpec* out);

}  // namespace scenarios::spec::loader_internal
