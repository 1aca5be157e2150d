// resolve(): the Resolver, which builds a LoadedScenario from the parsed spec and the files and
// collects every error it finds. Also what the loader's files share: Loc and Errors.

#include <google/protobuf/descriptor.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "scenarios/spec/loader_internal.h"
#include "scenarios/spec/util.h"
#include "scenarios/spec/wrangler.h"
#include "sim/assert.h"
#include "sim/location.h"

namespace scenarios::spec::loader_internal {

sim::Error invalid(std::string message) {
  return sim::Error{sim::ErrorKind::kInvalid, std::move(message)};
}

bool has_suffix(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool is_module_path(std::string_view path) {
  return has_suffix(path, ".js") || has_suffix(path, ".mjs");
}

Loc Loc::operator()(std::string_view name, int index) const {
  const google::protobuf::FieldDescriptor* fd = desc_->FindFieldByName(std::string(name));
  SIM_ASSERT(fd != nullptr);
  SIM_ASSERT(fd->is_repeated() == (index >= 0));
  Loc child = *this;
  child.path_ = path_.empty() ? std::string(name) : path_ + "." + std::string(name);
  if (index >= 0) child.path_ += "[" + std::to_string(index) + "]";
  child.tree_ = nullptr;
  child.desc_ = fd->message_type();
  if (tree_ != nullptr) {
    const auto at = tree_->GetLocation(fd, index);
    if (at.line >= 0) {
      child.line_ = at.line + 1;
      child.column_ = at.column + 1;
    }
    if (fd->message_type() != nullptr) child.tree_ = tree_->GetTreeForNested(fd, index);
  }
  return child;
}

std::string Loc::where() const {
  if (line_ < 0) return *file_;
  return *file_ + ":" + std::to_string(line_) + ":" + std::to_string(column_);
}

void Errors::add(std::string line) {
  if (static_cast<int>(lines_.size()) < kScenarioErrorsMax) {
    lines_.push_back(std::move(line));
  } else {
    truncated_ = true;
  }
}

void Errors::at(const Loc& loc, const std::string& message) {
  add(loc.where() + ": " + (loc.path().empty() ? "" : loc.path() + ": ") + message);
}

void Errors::add_lines(const std::string& message) {
  std::size_t i = 0;
  while (i <= message.size()) {
    std::size_t nl = message.find('\n', i);
    if (nl == std::string::npos) nl = message.size();
    if (nl > i) add(message.substr(i, nl - i));
    i = nl + 1;
  }
}

sim::Error Errors::error() const {
  std::string out = join(lines_, "\n");
  if (truncated_) out += "\n(more errors not shown)";
  return invalid(out);
}

namespace {

using google::protobuf::TextFormat;

std::string location_list() {
  std::vector<std::string> codes;
  for (const auto& l : sim::known_locations()) codes.push_back(l.code);
  return join(codes, " ");
}

std::vector<std::string> location_codes() {
  std::vector<std::string> codes;
  for (const auto& l : sim::known_locations()) codes.push_back(l.code);
  return codes;
}

// Builds a LoadedScenario from the parsed spec and the files. Collects every error it finds.
class Resolver {
 public:
  Resolver(const ScenarioFiles& files, std::string source, std::string variant,
           const pb::Scenario& spec, const TextFormat::ParseInfoTree& tree)
      : files_(files),
        source_(std::move(source)),
        spec_file_(display(std::string(kSpecFile))),
        spec_(spec),
        root_(&spec_file_, &tree, pb::Scenario::descriptor()) {
    out_.source = source_;
    out_.variant = std::move(variant);
    out_.files = files;
    out_.fingerprint = fingerprint_files(files);
  }

  sim::Result<LoadedScenario> run() {
    select_variant();
    if (!errors_.ok()) return errors_.error();
    header();
    topology();
    workers();
    service_defaults();
    clients();
    faults();
    knobs();
    properties();
    expectations();
    if (!errors_.ok()) return errors_.error();
    return std::move(out_);
  }

 private:
  std::string display(const std::string& rel) const {
    return source_.empty() ? rel : source_ + "/" + rel;
  }

  sim::Duration duration(const Loc& loc, const std::string& text, sim::Duration fallback) {
    if (text.empty()) return fallback;
    sim::Duration d = 0;
    if (!sim::parse_duration(text, &d) || d < 0) {
      errors_.at(loc, "bad duration " + quote(text) + " (write e.g. \"60s\", \"250ms\", \"2m\")");
      return fallback;
    }
    return d;
  }

  // A folder-relative path written in the spec, checked to name a file of the scenario.
  std::string file_ref(const Loc& loc, const std::string& written, std::string_view what) {
    const auto path = normalize_path("", written);
    if (!path) {
      errors_.at(loc, "bad path " + quote(written) +
                          " (relative to the scenario folder, '/'-separated, inside it)");
      return "";
    }
    if (files_.count(*path) == 0) {
      errors_.at(loc, std::string(what) + " " + quote(*path) + " not found in the scenario folder");
      return "";
    }
    return *path;
  }

  std::string location(const Loc& loc, const std::string& code) {
    if (code.empty()) {
      errors_.at(loc, "a location (IATA code) is required");
    } else if (!sim::find_location(code)) {
      errors_.at(loc, "unknown location " + quote(code) + did_you_mean(code, location_codes()) +
                          " (known: " + location_list() + ")");
    }
    return code;
  }

  std::map<std::string, std::string> entries(
      const Loc& loc, std::string_view field,
      const google::protobuf::RepeatedPtrField<pb::Entry>& es, bool knob_keys) {
    std::map<std::string, std::string> out;
    for (int i = 0; i < es.size(); ++i) {
      const Loc at = loc(field, i);
      const std::string& key = es[i].key();
      if (key.empty()) {
        errors_.at(at, "an entry needs a key");
        continue;
      }
      if (knob_keys && !std::all_of(key.begin(), key.end(), [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
                   c == '-';
          })) {
        errors_.at(at, "bad knob name " + quote(key) +
                           " (lowercase letters, digits, '_', '-' and '.', like \"do.fencing\")");
        continue;
      }
      if (!out.emplace(key, es[i].value()).second) {
        errors_.at(at, "key " + quote(key) + " is given twice");
      }
    }
    return out;
  }

  void select_variant() {
    std::set<std::string> names;
    for (int i = 0; i < spec_.variant_size(); ++i) {
      const pb::Variant& v = spec_.variant(i);
      const Loc loc = root_("variant", i);
      if (!is_valid_name(v.name())) {
        errors_.at(loc("name"), v.name().empty() ? "a variant needs a name"
                                                 : "bad name " + quote(v.name()) +
                                                       " (letters, digits, '-', '_', '.')");
      } else if (!names.insert(v.name()).second) {
        errors_.at(loc("name"), "variant " + quote(v.name()) + " is declared twice");
      }
      if (out_.variant == v.name()) {
        variant_ = &v;
        variant_loc_.emplace(loc);
      }
    }
    if (!out_.variant.empty() && variant_ == nullptr && errors_.ok()) {
      std::vector<std::string> declared(names.begin(), names.end());
      errors_.add(spec_file_ + ": variant " + quote(out_.variant) + " not found" +
                  did_you_mean(out_.variant, declared) +
                  (declared.empty() ? " (the scenario declares no variants)"
                                    : " (variants: " + join(declared) + ")"));
    }
  }

  void header() {
    out_.name = spec_.name();
    if (out_.name.empty()) {
      const std::size_t slash = source_.find_last_of('/');
      out_.name = slash == std::string::npos ? source_ : source_.substr(slash + 1);
      if (out_.name.empty() || out_.name == "." || out_.name == "..") out_.name = "scenario";
    }
    if (!is_valid_name(out_.name)) {
      errors_.at(root_("name"),
                 "bad name " + quote(out_.name) + " (letters, digits, '-', '_', '.')");
    }
    out_.summary = spec_.summary();
    const std::string base_expected = spec_.expected().empty() ? "pass" : spec_.expected();
    out_.expected = base_expected;
    if (variant_ != nullptr) {
      if (!variant_->summary().empty()) out_.summary = variant_->summary();
      if (!variant_->expected().empty()) out_.expected = variant_->expected();
    }
    for (const auto& v : spec_.variant()) {
      out_.variants.push_back({v.name(), v.summary().empty() ? spec_.summary() : v.summary(),
                               v.expected().empty() ? base_expected : v.expected()});
    }
    out_.duration = duration(root_("duration"), spec_.duration(), 60 * sim::kSecond);
    if (out_.duration <= 0) {
      errors_.at(root_("duration"), "must be positive");
      out_.duration = 60 * sim::kSecond;
    }
    out_.quiet_after = duration(root_("quiet_after"), spec_.quiet_after(), out_.duration / 4 * 3);
    if (out_.quiet_after > out_.duration) {
      errors_.at(root_("quiet_after"), sim::format_duration(out_.quiet_after) +
                                           " is after the end of the run (duration " +
                                           sim::format_duration(out_.duration) + ")");
    }
  }

  void nodes(const Loc& topo, std::string_view field,
             const google::protobuf::RepeatedPtrField<pb::Node>& in, std::string_view prefix,
             std::vector<NodeSpec>* out) {
    if (in.size() > kNodesPerKindMax) {
      errors_.at(topo(field, kNodesPerKindMax),
                 "more than " + std::to_string(kNodesPerKindMax) + " nodes of one kind");
      return;
    }
    for (int i = 0; i < in.size(); ++i) {
      const Loc loc = topo(field, i);
      NodeSpec n;
      n.location = location(loc("location"), in[i].location());
      n.name = in[i].name();
      const bool defaulted = n.name.empty();
      if (defaulted) {
        n.name = prefix.empty() ? n.location : std::string(prefix) + "-" + std::to_string(i + 1);
      }
      node_name(
          defaulted ? loc : loc("name"), n.name,
          defaulted && prefix.empty() ? " (a PoP is named by its location; give `name`)" : "");
      out->push_back(std::move(n));
    }
  }

  void node_name(const Loc& loc, const std::string& name, const std::string& hint = "") {
    if (!is_valid_name(name)) {
      errors_.at(loc, "bad node name " + quote(name) + " (letters, digits, '-', '_', '.')");
    } else if (!node_names_.insert(name).second) {
      errors_.at(loc, "node name " + quote(name) + " is used twice" + hint);
    }
  }

  void topology() {
    const Loc topo = root_("topology");
    const pb::Topology& t = spec_.topology();
    Topology& out = out_.topology;
    nodes(topo, "pop", t.pop(), "", &out.pops);
    if (t.pop_size() == 0) errors_.at(topo, "at least one pop is required");
    nodes(topo, "do_host", t.do_host(), "do", &out.do_hosts);
    nodes(topo, "do_storage", t.do_storage(), "do-storage", &out.do_storage);
    nodes(topo, "kv_store", t.kv_store(), "kv", &out.kv_stores);
    nodes(topo, "queue_broker", t.queue_broker(), "queue", &out.queue_brokers);
    nodes(topo, "workflow_engine", t.workflow_engine(), "workflow", &out.workflow_engines);
    nodes(topo, "d1", t.d1(), "d1", &out.d1);
    nodes(topo, "r2", t.r2(), "r2", &out.r2);
    for (int i = 0; i < t.origin_size(); ++i) {
      const pb::Origin& o = t.origin(i);
      const Loc loc = topo("origin", i);
      OriginSpec spec;
      spec.name = o.name().empty() ? "origin-" + std::to_string(i + 1) : o.name();
      node_name(loc("name"), spec.name);
      spec.location = location(loc("location"), o.location());
      spec.hostname = o.hostname();
      hostname(loc("hostname"), spec.hostname);
      if (!o.script().empty()) {
        spec.script = file_ref(loc("script"), o.script(), "script");
        if (!spec.script.empty() && !is_module_path(spec.script)) {
          errors_.at(loc("script"), "an origin script is a .js or .mjs module");
        }
        if (o.response_size() > 0) {
          errors_.at(loc("response", 0),
                     "an origin answers by `response` entries or by "
                     "`script`, not both");
        }
      }
      for (int j = 0; j < o.response_size(); ++j) {
        const pb::StaticResponse& r = o.response(j);
        const Loc rl = loc("response", j);
        StaticResponse sr;
        sr.path = r.path();
        if (sr.path.empty() || sr.path[0] != '/' || sr.path.find('*') < sr.path.size() - 1) {
          errors_.at(rl("path"),
                     "expected a path like \"/v1/price\" or a prefix like "
                     "\"/static/*\", got " +
                         quote(sr.path));
        }
        sr.method = r.method();
        if (!sr.method.empty()) method(rl("method"), sr.method);
        sr.status = r.status() == 0 ? 200 : r.status();
        if (sr.status < 100 || sr.status > 599) {
          errors_.at(rl("status"), "expected an HTTP status from 100 to 599");
        }
        sr.body = r.body();
        if (!r.body_file().empty()) {
          if (!r.body().empty()) errors_.at(rl("body_file"), "give body or body_file, not both");
          const std::string path = file_ref(rl("body_file"), r.body_file(), "file");
          if (!path.empty()) sr.body = files_.at(path);
        }
        for (const auto& [k, v] : entries(rl, "headers", r.headers(), false)) {
          sr.headers.emplace_back(k, v);
        }
        sr.delay = duration(rl("delay"), r.delay(), 0);
        spec.responses.push_back(std::move(sr));
      }
      out.origins.push_back(std::move(spec));
    }
  }

  void hostname(const Loc& loc, const std::string& host) {
    const bool ok =
        !host.empty() && host.size() <= 253 && host.front() != '.' && host.back() != '.' &&
        host.find("..") == std::string::npos && std::all_of(host.begin(), host.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
        });
    if (!ok) {
      errors_.at(loc, host.empty() ? "a hostname is required"
                                   : "bad hostname " + quote(host) +
                                         " (lowercase letters, digits, '-' and '.')");
    } else if (!hostnames_.insert(host).second) {
      errors_.at(loc, "hostname " + quote(host) + " is served twice");
    }
  }

  void method(const Loc& loc, const std::string& m) {
    const bool ok = !m.empty() && m.size() <= 16 &&
                    std::all_of(m.begin(), m.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
    if (!ok) errors_.at(loc, "bad HTTP method " + quote(m) + " (uppercase, like \"POST\")");
  }

  // Reads and parses one wrangler file; nullopt after reporting why not.
  std::optional<WranglerConfig> wrangler(const Loc& loc, const std::string& written) {
    const std::string path =
        file_ref(loc, written.empty() ? "wrangler.jsonc" : written, "wrangler configuration");
    if (path.empty()) return std::nullopt;
    if (!has_suffix(path, ".jsonc") && !has_suffix(path, ".json")) {
      errors_.at(loc,
                 "a wrangler configuration is a .jsonc or .json file (wrangler.toml is not "
                 "supported)");
      return std::nullopt;
    }
    auto parsed = parse_wrangler(files_.at(path), display(path));
    if (!parsed.ok()) {
      errors_.add_lines(parsed.error().message);
      return std::nullopt;
    }
    return std::move(parsed).value();
  }

  void workers() {
    const int count = std::max(1, spec_.worker_size());
    if (count > kWorkersMax) {
      errors_.at(root_("worker", kWorkersMax),
                 "more than " + std::to_string(kWorkersMax) + " Workers");
      return;
    }
    // Pass 1: each Worker as written, to learn the names a variant may refer to.
    struct Draft {
      pb::Worker w;  // the implicit Worker when the spec declares none
      bool declared = false;
      std::optional<Loc> loc;
      std::optional<Loc> config_loc;
      std::string config_written;
      std::optional<WranglerConfig> config;
      std::string name;
    };
    std::vector<Draft> drafts(static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) {
      Draft& d = drafts[static_cast<std::size_t>(i)];
      d.declared = spec_.worker_size() > 0;
      if (d.declared) d.w = spec_.worker(i);
      d.loc.emplace(d.declared ? root_("worker", i) : root_);
      d.config_loc.emplace(d.declared ? (*d.loc)("config") : root_);
      d.config_written = d.w.config().empty() ? "wrangler.jsonc" : d.w.config();
      d.config = wrangler(*d.config_loc, d.config_written);
      d.name = d.w.name().empty() && d.config ? d.config->name : d.w.name();
    }
    // The variant's Worker: by name, or the entry Worker.
    int target = -1;
    if (variant_ != nullptr) {
      if (variant_->worker().empty()) {
        target = 0;
      } else {
        std::vector<std::string> names;
        for (int i = 0; i < count; ++i) {
          names.push_back(drafts[static_cast<std::size_t>(i)].name);
          if (drafts[static_cast<std::size_t>(i)].name == variant_->worker()) target = i;
        }
        if (target < 0) {
          errors_.at((*variant_loc_)("worker"), "no Worker named " + quote(variant_->worker()) +
                                                    did_you_mean(variant_->worker(), names));
        }
      }
      if (target >= 0 && !variant_->config().empty()) {
        Draft& d = drafts[static_cast<std::size_t>(target)];
        d.config_loc.emplace((*variant_loc_)("config"));
        d.config_written = variant_->config();
        d.config = wrangler(*d.config_loc, d.config_written);
      }
    }
    // Pass 2: resolve.
    std::set<std::string> names;
    for (int i = 0; i < count; ++i) {
      Draft& d = drafts[static_cast<std::size_t>(i)];
      if (!d.config) continue;
      const Loc& loc = *d.loc;
      WorkerSpec ws;
      ws.config_path = normalize_path("", d.config_written).value_or(d.config_written);
      ws.name = d.w.name().empty() ? d.config->name : d.w.name();
      if (ws.name.empty()) {
        errors_.add(d.config->file + ": missing key \"name\" (or name the Worker in " + spec_file_ +
                    ")");
      } else if (d.declared && !d.w.name().empty() && !is_valid_name(ws.name)) {
        errors_.at(loc("name"), "bad Worker name " + quote(ws.name));
      } else if (!names.insert(ws.name).second) {
        errors_.at(d.w.name().empty() ? loc : loc("name"),
                   "Worker " + quote(ws.name) + " is declared twice");
      }
      // main: the variant's or the spec's (folder-relative), or wrangler's (relative to the
      // configuration's directory, and reported there).
      std::string written;
      std::optional<std::string> main;
      std::optional<Loc> main_loc;
      std::string main_where;
      if (i == target && !variant_->main().empty()) {
        written = variant_->main();
        main = normalize_path("", written);
        main_loc.emplace((*variant_loc_)("main"));
      } else if (!d.w.main().empty()) {
        written = d.w.main();
        main = normalize_path("", written);
        main_loc.emplace(loc("main"));
      } else {
        written = d.config->main;
        main = normalize_path(parent_dir(ws.config_path), written);
        main_where = d.config->main_where + ": main";
      }
      auto main_error = [&](const std::string& message) {
        main_loc ? errors_.at(*main_loc, message) : errors_.add(main_where + ": " + message);
      };
      if (written.empty()) {
        errors_.add(d.config->file + ": missing key \"main\" (the Worker's main module)");
      } else if (!main) {
        main_error("bad module path " + quote(written));
      } else if (files_.count(*main) == 0) {
        main_error("main module " + quote(*main) + " not found in the scenario folder");
      } else if (!is_module_path(*main)) {
        main_error("the main module must be an ES module (.js or .mjs), got " + quote(*main));
      } else {
        ws.main = *main;
      }
      ws.compatibility_date = d.w.compatibility_date().empty() ? d.config->compatibility_date
                                                               : d.w.compatibility_date();
      for (int h = 0; h < d.w.hostname_size(); ++h) {
        hostname(loc("hostname", h), d.w.hostname(h));
        ws.hostnames.push_back(d.w.hostname(h));
      }
      if (ws.hostnames.empty() && !ws.name.empty()) {
        std::string host = ws.name + ".test";
        std::transform(host.begin(), host.end(), host.begin(), [](char c) {
          return c >= 'A' && c <= 'Z' ? char(c + 32) : c == '_' ? '-' : c;
        });
        hostname(d.w.name().empty() ? loc : loc("name"), host);
        ws.hostnames.push_back(host);
      }
      ws.config = std::move(*d.config);
      out_.workers.push_back(std::move(ws));
    }
    cross_worker_checks();
  }

  void cross_worker_checks() {
    std::map<std::string, std::string> consumers;  // queue -> where its consumer is
    for (const auto& w : out_.workers) {
      const auto& dos = w.config.durable_objects;
      for (std::size_t i = 0; i < dos.size(); ++i) {
        const auto& b = dos[i];
        const std::string at = b.where + ": durable_objects.bindings[" + std::to_string(i) + "]: ";
        if (b.script_name.empty() || b.script_name == w.name) continue;
        const WorkerSpec* owner = out_.find_worker(b.script_name);
        if (owner == nullptr) {
          errors_.add(at + "script_name " + quote(b.script_name) +
                      " is not a Worker of this scenario");
        } else if (owner->config.durable_object_classes.count(b.class_name) == 0) {
          errors_.add(at + "class " + quote(b.class_name) +
                      " is not declared by a migration of Worker " + quote(owner->name));
        }
      }
      const auto& wfs = w.config.workflows;
      for (std::size_t i = 0; i < wfs.size(); ++i) {
        if (!wfs[i].script_name.empty() && out_.find_worker(wfs[i].script_name) == nullptr) {
          errors_.add(wfs[i].where + ": workflows[" + std::to_string(i) + "]: script_name " +
                      quote(wfs[i].script_name) + " is not a Worker of this scenario");
        }
      }
      const auto& cons = w.config.queue_consumers;
      for (std::size_t i = 0; i < cons.size(); ++i) {
        auto [it, fresh] = consumers.emplace(cons[i].queue, cons[i].where);
        if (!fresh) {
          errors_.add(cons[i].where + ": queues.consumers[" + std::to_string(i) + "]: queue " +
                      quote(cons[i].queue) + " already has a consumer (" + it->second + ")");
        }
      }
    }
  }

  // Service nodes for the services some Worker uses, when the topology names none.
  void service_defaults() {
    if (out_.topology.pops.empty()) return;
    bool kv = false, dobj = false, queues = false, workflows = false, d1 = false, r2 = false;
    for (const auto& w : out_.workers) {
      kv |= !w.config.kv_namespaces.empty();
      dobj |= !w.config.durable_objects.empty() || !w.config.durable_object_classes.empty();
      queues |= !w.config.queue_producers.empty() || !w.config.queue_consumers.empty();
      workflows |= !w.config.workflows.empty();
      d1 |= !w.config.d1_databases.empty();
      r2 |= !w.config.r2_buckets.empty();
    }
    Topology& t = out_.topology;
    const std::string first = t.pops.front().location;
    auto claim = [&](const std::string& name) {
      if (!node_names_.insert(name).second) {
        errors_.at(root_("topology"), "the default node name " + quote(name) +
                                          " is taken; declare this service's nodes explicitly");
      }
    };
    auto one = [&](bool used, std::vector<NodeSpec>* list, const std::string& name) {
      if (!used || !list->empty()) return;
      list->push_back({name, first});
      claim(name);
    };
    if (dobj && t.do_hosts.empty()) {
      // One host per distinct PoP location: placement near the caller has somewhere to go.
      std::set<std::string> seen;
      for (const auto& pop : t.pops) {
        if (!seen.insert(pop.location).second) continue;
        const std::string name = "do-" + std::to_string(t.do_hosts.size() + 1);
        t.do_hosts.push_back({name, pop.location});
        claim(name);
      }
    }
    one(kv, &t.kv_stores, "kv-1");
    one(queues, &t.queue_brokers, "queue-1");
    one(workflows, &t.workflow_engines, "workflow-1");
    one(d1, &t.d1, "d1-1");
    one(r2, &t.r2, "r2-1");
  }

  ClientPlacement placement(const Loc& loc, int clients,
                            const google::protobuf::RepeatedPtrField<std::string>& locations,
                            const google::protobuf::RepeatedPtrField<std::string>& pops,
                            const std::string& worker, const std::string& start,
                            const std::string& stop) {
    ClientPlacement p;
    p.clients = clients == 0 ? 1 : clients;
    if (p.clients < 0 || p.clients > kClientsMax) {
      errors_.at(loc("clients"), "expected from 1 to " + std::to_string(kClientsMax) + " clients");
      p.clients = 1;
    }
    std::vector<std::string> pop_names;
    for (const auto& pop : out_.topology.pops) pop_names.push_back(pop.name);
    for (int i = 0; i < pops.size(); ++i) {
      if (pops[i] == "nearest") {
        if (pops.size() > 1) errors_.at(loc("pop", i), "\"nearest\" stands alone");
        continue;
      }
      const auto it = std::find_if(out_.topology.pops.begin(), out_.topology.pops.end(),
                                   [&](const NodeSpec& n) { return n.name == pops[i]; });
      if (it == out_.topology.pops.end()) {
        errors_.at(loc("pop", i), "no PoP named " + quote(pops[i]) +
                                      did_you_mean(pops[i], pop_names) +
                                      " (PoPs: " + join(pop_names) + "; or \"nearest\")");
        continue;
      }
      p.pops.push_back(pops[i]);
    }
    for (int i = 0; i < locations.size(); ++i) {
      p.locations.push_back(location(loc("location", i), locations[i]));
    }
    if (p.locations.empty()) {
      // Default: where the PoPs they use are, in the order they are assigned.
      for (const auto& pop : out_.topology.pops) {
        if (p.pops.empty()) p.locations.push_back(pop.location);
      }
      for (const auto& name : p.pops) {
        for (const auto& pop : out_.topology.pops) {
          if (pop.name == name) p.locations.push_back(pop.location);
        }
      }
    }
    p.worker = worker;
    if (p.worker.empty() && !out_.workers.empty()) p.worker = out_.workers.front().name;
    if (!worker.empty() && out_.find_worker(worker) == nullptr) {
      std::vector<std::string> names;
      for (const auto& w : out_.workers) names.push_back(w.name);
      errors_.at(loc("worker"), "no Worker named " + quote(worker) + did_you_mean(worker, names));
    }
    p.start = duration(loc("start"), start, 0);
    p.stop = duration(loc("stop"), stop, out_.duration);
    if (p.stop > out_.duration) {
      errors_.at(loc("stop"), "is after the end of the run (duration " +
                                  sim::format_duration(out_.duration) + ")");
    } else if (p.start >= p.stop) {
      errors_.at(loc("start"), "must be before stop (" + sim::format_duration(p.stop) + ")");
    }
    return p;
  }

  std::optional<Template> tmpl(const Loc& loc, const std::string& text, Template::Use use) {
    auto t = Template::parse(text, use);
    if (!t.ok()) {
      errors_.at(loc, t.error().message);
      return std::nullopt;
    }
    return std::move(t).value();
  }

  void group_name(const Loc& loc, const std::string& name) {
    if (!is_valid_name(name)) {
      errors_.at(loc, "bad name " + quote(name) + " (letters, digits, '-', '_', '.')");
    } else if (!group_names_.insert(name).second) {
      errors_.at(loc, "a load or client script named " + quote(name) + " already exists");
    }
  }

  void clients() {
    if (spec_.load_size() > kLoadsMax) {
      errors_.at(root_("load", kLoadsMax), "more than " + std::to_string(kLoadsMax) + " loads");
      return;
    }
    for (int i = 0; i < spec_.load_size(); ++i) {
      const pb::HttpLoad& l = spec_.load(i);
      const Loc loc = root_("load", i);
      LoadSpec load;
      load.name = l.name().empty() ? "load-" + std::to_string(i + 1) : l.name();
      group_name(loc("name"), load.name);
      load.placement =
          placement(loc, l.clients(), l.location(), l.pop(), l.worker(), l.start(), l.stop());
      load.rate = l.rate();
      if (!std::isfinite(load.rate) || load.rate < 0 || load.rate > kRateMax) {
        errors_.at(loc("rate"), "expected requests per second from 0 to 1e6");
        load.rate = 0;
      }
      load.think_time = duration(loc("think_time"), l.think_time(), 0);
      if (load.rate > 0 && !l.think_time().empty()) {
        errors_.at(loc("think_time"), "give rate or think_time, not both");
      }
      if (l.requests_max() < 0) errors_.at(loc("requests_max"), "must not be negative");
      load.requests_max = static_cast<std::uint64_t>(std::max(0, l.requests_max()));
      load.timeout = duration(loc("timeout"), l.timeout(), 10 * sim::kSecond);
      if (load.timeout <= 0) errors_.at(loc("timeout"), "must be positive");
      if (l.request_size() == 0) errors_.at(loc, "at least one request is required");
      if (l.request_size() > kRequestsPerLoadMax) {
        errors_.at(loc("request", kRequestsPerLoadMax),
                   "more than " + std::to_string(kRequestsPerLoadMax) + " requests");
        continue;
      }
      for (int j = 0; j < l.request_size(); ++j) {
        if (auto r = request(loc("request", j), l.request(j))) load.requests.push_back(*r);
      }
      out_.loads.push_back(std::move(load));
    }
    for (int i = 0; i < spec_.client_script_size(); ++i) {
      const pb::ClientScript& c = spec_.client_script(i);
      const Loc loc = root_("client_script", i);
      ClientScriptSpec cs;
      if (c.script().empty()) {
        errors_.at(loc("script"), "a script (.js or .mjs module) is required");
      } else {
        cs.script = file_ref(loc("script"), c.script(), "script");
        if (!cs.script.empty() && !is_module_path(cs.script)) {
          errors_.at(loc("script"), "a client script is a .js or .mjs module");
        }
      }
      cs.name = c.name();
      if (cs.name.empty()) {
        const std::string base = c.script().substr(c.script().find_last_of('/') + 1);
        cs.name = base.substr(0, base.find('.'));
      }
      group_name(loc("name"), cs.name);
      cs.placement =
          placement(loc, c.clients(), c.location(), c.pop(), c.worker(), c.start(), c.stop());
      cs.params = entries(loc, "params", c.params(), false);
      out_.client_scripts.push_back(std::move(cs));
    }
  }

  std::optional<RequestSpec> request(const Loc& loc, const pb::Request& r) {
    RequestSpec out;
    if (!r.method().empty()) {
      method(loc("method"), r.method());
      out.method = r.method();
    }
    if (r.path().empty()) {
      errors_.at(loc("path"), "a path (\"/increment\") or URL is required");
    } else if (r.path()[0] != '/' && r.path().rfind("https://", 0) != 0 &&
               r.path().rfind("http://", 0) != 0) {
      errors_.at(loc("path"),
                 "expected a path starting with '/' or an http(s):// URL, got " + quote(r.path()));
    }
    auto url = tmpl(loc("path"), r.path(), Template::Use::kRequest);
    auto body = tmpl(loc("body"), r.body(), Template::Use::kRequest);
    if (!r.body().empty() && (out.method == "GET" || out.method == "HEAD")) {
      errors_.at(loc("body"), "a " + out.method + " request cannot have a body (set method)");
    }
    if (r.weight() < 0 || r.weight() > kWeightMax) {
      errors_.at(loc("weight"), "expected a weight from 1 to " + std::to_string(kWeightMax));
    }
    out.weight = r.weight() <= 0 ? 1 : static_cast<std::uint32_t>(r.weight());
    for (int h = 0; h < r.headers_size(); ++h) {
      const Loc hl = loc("headers", h);
      if (r.headers(h).key().empty()) {
        errors_.at(hl, "a header needs a name");
        continue;
      }
      if (auto v = tmpl(hl, r.headers(h).value(), Template::Use::kRequest)) {
        out.headers.emplace_back(r.headers(h).key(), *v);
      }
    }
    if (r.has_record()) {
      const Loc rl = loc("record");
      const pb::Record& rec = r.record();
      RecordSpec rs;
      rs.kind = rec.kind();
      if (rs.kind.empty()) errors_.at(rl("kind"), "an operation kind (\"increment\") is required");
      if (rec.object().empty()) {
        errors_.at(rl("object"), "the object operated on (\"counter\") is required");
      }
      auto object = tmpl(rl("object"), rec.object(), Template::Use::kRecord);
      auto key = tmpl(rl("key"), rec.key(), Template::Use::kRecord);
      auto input =
          tmpl(rl("input"), rec.input().empty() ? "${body}" : rec.input(), Template::Use::kRecord);
      if (object) rs.object = *object;
      if (key) rs.key = *key;
      if (input) rs.input = *input;
      const std::string& o = rec.output();
      if (o.empty() || o == "body") {
        rs.output = RecordSpec::Output::kBody;
      } else if (o == "status") {
        rs.output = RecordSpec::Output::kStatus;
      } else if (o == "none") {
        rs.output = RecordSpec::Output::kNone;
      } else if (o.rfind("json:", 0) == 0 && (o.size() == 5 || o[5] == '/')) {
        rs.output = RecordSpec::Output::kJsonPointer;
        rs.output_arg = o.substr(5);
      } else if (o.rfind("header:", 0) == 0 && o.size() > 7) {
        rs.output = RecordSpec::Output::kHeader;
        rs.output_arg = o.substr(7);
      } else {
        errors_.at(rl("output"),
                   "expected \"body\", \"status\", \"none\", \"json:/pointer\" or "
                   "\"header:NAME\", got " +
                       quote(o));
      }
      for (int k = 0; k < rec.fail_status_size(); ++k) {
        if (rec.fail_status(k) < 100 || rec.fail_status(k) > 599) {
          errors_.at(rl("fail_status", k), "expected an HTTP status from 100 to 599");
        }
        rs.fail_status.push_back(rec.fail_status(k));
      }
      out.record = std::move(rs);
      records_ = true;
    }
    if (!url || !body) return std::nullopt;
    out.url = *url;
    out.body = *body;
    return out;
  }

  void faults_of(const Loc& loc, const pb::Faults& f, FaultSpec* out) {
    switch (f.plan_case()) {
      case pb::Faults::PLAN_NOT_SET:
        out->mode = sim::FaultPlan::Mode::kNone;
        break;
      case pb::Faults::kProfile:
        if (f.profile() == "none") {
          out->mode = sim::FaultPlan::Mode::kNone;
        } else if (f.profile() == "swarm") {
          out->mode = sim::FaultPlan::Mode::kSwarm;
        } else {
          errors_.at(loc("profile"), "expected \"none\" or \"swarm\", got " + quote(f.profile()) +
                                         " (an explicit plan goes in `schedule` or "
                                         "`schedule_file`)");
        }
        break;
      case pb::Faults::kSchedule: {
        out->mode = sim::FaultPlan::Mode::kSchedule;
        out->plan = f.schedule();
        out->source = loc("schedule").where();
        auto plan = sim::FaultPlan::parse(out->plan, loc("schedule").path());
        if (!plan.ok()) errors_.add(out->source + ": " + plan.error().message);
        break;
      }
      case pb::Faults::kScheduleFile: {
        out->mode = sim::FaultPlan::Mode::kSchedule;
        const std::string path = file_ref(loc("schedule_file"), f.schedule_file(), "file");
        if (path.empty()) break;
        out->plan = files_.at(path);
        out->source = display(path);
        auto plan = sim::FaultPlan::parse(out->plan, out->source);
        if (!plan.ok()) errors_.add(plan.error().message);
        break;
      }
    }
  }

  void faults() {
    FaultSpec base;
    faults_of(root_("faults"), spec_.faults(), &base);
    out_.faults = base;
    if (variant_ != nullptr && variant_->has_faults()) {
      FaultSpec v;
      faults_of((*variant_loc_)("faults"), variant_->faults(), &v);
      out_.faults = v;
    }
  }

  void knobs() {
    out_.knobs = entries(root_, "knobs", spec_.knobs(), true);
    if (variant_ != nullptr) {
      for (auto& [k, v] : entries(*variant_loc_, "knobs", variant_->knobs(), true)) {
        out_.knobs[k] = v;
      }
    }
  }

  // Names the properties' params may refer to.
  struct Known {
    std::vector<std::string> queues, kv, classes, workflows, loads;
  };
  Known known() const {
    Known k;
    std::set<std::string> q, kv, cls, wf;
    for (const auto& w : out_.workers) {
      for (const auto& p : w.config.queue_producers) q.insert(p.queue);
      for (const auto& c : w.config.queue_consumers) {
        q.insert(c.queue);
        if (!c.dead_letter_queue.empty()) q.insert(c.dead_letter_queue);
      }
      for (const auto& n : w.config.kv_namespaces) {
        kv.insert(n.binding);
        kv.insert(n.id);
      }
      for (const auto& [c, sqlite] : w.config.durable_object_classes) cls.insert(c);
      for (const auto& f : w.config.workflows) wf.insert(f.name);
    }
    k.queues.assign(q.begin(), q.end());
    k.kv.assign(kv.begin(), kv.end());
    k.classes.assign(cls.begin(), cls.end());
    k.workflows.assign(wf.begin(), wf.end());
    for (const auto& l : out_.loads) k.loads.push_back(l.name);
    return k;
  }

  void reference(const Loc& loc, const std::string& value, const std::vector<std::string>& known,
                 std::string_view what) {
    if (std::find(known.begin(), known.end(), value) != known.end()) return;
    errors_.at(loc,
               "no " + std::string(what) + " " + quote(value) + did_you_mean(value, known) +
                   (known.empty() ? " (the scenario has none)" : " (known: " + join(known) + ")"));
  }

  static bool status_list(const std::string& s) {
    // "2xx", "404", "200-299", comma-separated.
    std::stringstream ss(s);
    std::string item;
    int n = 0;
    while (std::getline(ss, item, ',')) {
      ++n;
      auto code = [](const std::string& c) {
        return c.size() == 3 && c[0] >= '1' && c[0] <= '5' &&
               std::all_of(c.begin() + 1, c.end(), [](char d) { return d >= '0' && d <= '9'; });
      };
      if (item.size() == 3 && item[0] >= '1' && item[0] <= '5' && item.substr(1) == "xx") continue;
      const std::size_t dash = item.find('-');
      if (dash == std::string::npos ? code(item)
                                    : code(item.substr(0, dash)) && code(item.substr(dash + 1)) &&
                                          item.substr(0, dash) <= item.substr(dash + 1)) {
        continue;
      }
      return false;
    }
    return n > 0 && s.back() != ',';
  }

  void properties() {
    if (spec_.property_size() == 0) {
      errors_.add(spec_file_ +
                  ": at least one property is required (a scenario that checks "
                  "nothing always passes)");
      return;
    }
    const Known k = known();
    std::set<std::string> names;
    for (int i = 0; i < spec_.property_size(); ++i) {
      const pb::Property& p = spec_.property(i);
      const Loc loc = root_("property", i);
      PropertySpec ps;
      ps.name = p.name();
      if (!is_valid_name(ps.name)) {
        errors_.at(loc("name"), ps.name.empty() ? "a property needs a name"
                                                : "bad name " + quote(ps.name) +
                                                      " (letters, digits, '-', '_', '.')");
      } else if (!names.insert(ps.name).second) {
        errors_.at(loc("name"), "property " + quote(ps.name) + " is declared twice");
      }
      const auto checker = checker_from_name(p.checker());
      if (!checker) {
        errors_.at(loc("checker"),
                   (p.checker().empty() ? std::string("a checker is required")
                                        : "unknown checker " + quote(p.checker()) +
                                              did_you_mean(p.checker(), checker_names())) +
                       " (checkers: " + join(checker_names()) + ")");
        continue;
      }
      ps.checker = *checker;
      ps.where = loc("checker").where();
      model(loc("model"), p.model(), &ps);
      ps.object = p.object();
      if (ps.object.find('*') < ps.object.size() - 1) {
        errors_.at(loc("object"),
                   "'*' may only end the object filter (a prefix), got " + quote(ps.object));
      }
      ps.params = entries(loc, "params", p.params(), false);
      params(loc, p, k, &ps);
      if (ps.checker == Checker::kLinearizability && !records_ && spec_.client_script_size() == 0) {
        errors_.at(loc("checker"),
                   "linearizability needs recorded operations: add `record { "
                   "... }` to a load's request, or a client script");
      }
      if (ps.checker == Checker::kHttpStatus && spec_.load_size() == 0) {
        errors_.at(loc("checker"), "http_status checks the responses of loads; there is none");
      }
      out_.properties.push_back(std::move(ps));
    }
  }

  void model(const Loc& loc, const std::string& m, PropertySpec* ps) {
    using Kind = ModelSpec::Kind;
    if (ps->checker != Checker::kLinearizability) {
      if (!m.empty()) errors_.at(loc, "a model is only used by the linearizability checker");
      return;
    }
    static const std::vector<std::pair<std::string, Kind>> kModels = {
        {"register", Kind::kRegister}, {"counter", Kind::kCounter}, {"kv", Kind::kKv},
        {"set", Kind::kSet},           {"list", Kind::kList},
    };
    for (const auto& [name, kind] : kModels) {
      if (m == name) {
        ps->model.kind = kind;
        return;
      }
    }
    if (m.rfind("js:", 0) == 0) {
      ps->model.kind = Kind::kJs;
      ps->model.js_path = file_ref(loc, m.substr(3), "model module");
      if (!ps->model.js_path.empty() && !is_module_path(ps->model.js_path)) {
        errors_.at(loc, "a JS model is a .js or .mjs module");
      }
      return;
    }
    std::vector<std::string> names;
    for (const auto& [name, kind] : kModels) names.push_back(name);
    errors_.at(loc, (m.empty() ? std::string("linearizability needs a model")
                               : "unknown model " + quote(m) + did_you_mean(m, names)) +
                        " (models: register, counter, kv, set, list, or js:PATH)");
  }

  void params(const Loc& loc, const pb::Property& p, const Known& k, PropertySpec* ps) {
    enum class Type { kName, kInt, kDuration, kStatus, kBool };
    struct Param {
      std::string_view key;
      Type type;
      const std::vector<std::string>* refs;  // for kName: the names it must be one of
      std::string_view what;
    };
    std::vector<Param> allowed;
    switch (ps->checker) {
      case Checker::kLinearizability:
        break;
      case Checker::kQueueDelivery:
        allowed = {{"queue", Type::kName, &k.queues, "queue"},
                   {"duplicates_max", Type::kInt, nullptr, ""},
                   {"latency_max", Type::kDuration, nullptr, ""}};
        break;
      case Checker::kKvConvergence:
        allowed = {{"namespace", Type::kName, &k.kv, "KV namespace"},
                   {"staleness_max", Type::kDuration, nullptr, ""},
                   {"converge_within", Type::kDuration, nullptr, ""},
                   {"monotonic_reads", Type::kBool, nullptr, ""}};
        break;
      case Checker::kDoSingleInstance:
        allowed = {{"class", Type::kName, &k.classes, "Durable Object class"}};
        break;
      case Checker::kWorkflowReplay:
        allowed = {{"workflow", Type::kName, &k.workflows, "workflow"}};
        break;
      case Checker::kHttpStatus:
        allowed = {{"allow", Type::kStatus, nullptr, ""}, {"load", Type::kName, &k.loads, "load"}};
        break;
      case Checker::kBroadcast:
        allowed = {{"grace", Type::kDuration, nullptr, ""}};
        break;
    }
    // Entries by index, to point at the right line.
    for (int i = 0; i < p.params_size(); ++i) {
      const Loc at = loc("params", i);
      const std::string& key = p.params(i).key();
      const std::string& value = p.params(i).value();
      const auto it = std::find_if(allowed.begin(), allowed.end(),
                                   [&](const Param& a) { return a.key == key; });
      if (it == allowed.end()) {
        std::vector<std::string> keys;
        for (const auto& a : allowed) keys.emplace_back(a.key);
        errors_.at(at, "unknown param " + quote(key) + " for checker " + checker_name(ps->checker) +
                           did_you_mean(key, keys) +
                           (keys.empty() ? " (it takes none)" : " (params: " + join(keys) + ")"));
        continue;
      }
      switch (it->type) {
        case Type::kName:
          reference(at, value, *it->refs, it->what);
          break;
        case Type::kInt: {
          const bool digits =
              !value.empty() && value.size() <= 9 &&
              std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; });
          if (!digits) errors_.at(at, quote(key) + " expects a non-negative integer");
          break;
        }
        case Type::kDuration: {
          sim::Duration d = 0;
          if (!sim::parse_duration(value, &d)) {
            errors_.at(at, quote(key) + ": bad duration " + quote(value) +
                               " (write e.g. \"60s\", \"250ms\")");
          }
          break;
        }
        case Type::kBool:
          if (value != "true" && value != "false") {
            errors_.at(at, quote(key) + " expects \"true\" or \"false\"");
          }
          break;
        case Type::kStatus:
          if (!status_list(value)) {
            errors_.at(at, "expected statuses like \"2xx\", \"2xx,404\" or \"200-299\", got " +
                               quote(value));
          }
          break;
      }
    }
  }

  void expectations() {
    auto check = [&](const Loc& loc, const std::string& expected) {
      if (expected.empty() || expected == "pass") return;
      std::vector<std::string> names;
      for (const auto& p : spec_.property()) names.push_back(p.name());
      if (std::find(names.begin(), names.end(), expected) == names.end()) {
        errors_.at(loc, "expected " + quote(expected) + " is neither \"pass\" nor a property" +
                            did_you_mean(expected, names) + " (properties: " + join(names) + ")");
      }
    };
    check(root_("expected"), spec_.expected());
    for (int i = 0; i < spec_.variant_size(); ++i) {
      check(root_("variant", i)("expected"), spec_.variant(i).expected());
    }
    // Unselected variants are checked for what can be checked without applying them, so that a
    // suite finds a broken variant before someone runs it.
    for (int i = 0; i < spec_.variant_size(); ++i) {
      const pb::Variant& v = spec_.variant(i);
      if (&v == variant_) continue;
      const Loc loc = root_("variant", i);
      if (!v.main().empty()) {
        const std::string path = file_ref(loc("main"), v.main(), "main module");
        if (!path.empty() && !is_module_path(path)) {
          errors_.at(loc("main"), "the main module must be an ES module (.js or .mjs)");
        }
      }
      if (!v.config().empty()) (void)file_ref(loc("config"), v.config(), "wrangler configuration");
      (void)entries(loc, "knobs", v.knobs(), true);
      if (v.has_faults()) {
        FaultSpec ignored;
        faults_of(loc("faults"), v.faults(), &ignored);
      }
      if (!v.worker().empty() && out_.find_worker(v.worker()) == nullptr) {
        errors_.at(loc("worker"), "no Worker named " + quote(v.worker()));
      }
    }
  }

  const ScenarioFiles& files_;
  const std::string source_;
  const std::string spec_file_;
  const pb::Scenario& spec_;
  const Loc root_;
  const pb::Variant* variant_ = nullptr;
  std::optional<Loc> variant_loc_;
  Errors errors_;
  LoadedScenario out_;
  std::set<std::string> node_names_;
  std::set<std::string> hostnames_;
  std::set<std::string> group_names_;
  bool records_ = false;
};

}  // namespace

sim::Result<LoadedScenario> resolve(const ScenarioFiles& files, std::string source,
                                    std::string variant, const pb::Scenario& spec,
                                    const TextFormat::ParseInfoTree& tree) {
  return Resolver(files, std::move(source), std::move(variant), spec, tree).run();
}

}  // namespace scenarios::spec::loader_internal
