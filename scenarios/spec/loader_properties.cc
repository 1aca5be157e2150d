// Properties: each names a checker, a model (linearizability only), an object filter and params.
// Params are checked against a table of what each checker takes; params that name things (a
// queue, a KV namespace, a class, a workflow, a load) must name one the scenario declares, which
// is why this pass runs after the Workers and loads are resolved.

#include <algorithm>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "scenarios/spec/loader_internal.h"
#include "scenarios/spec/util.h"

namespace scenarios::spec::loader_internal {
namespace {

// Names the properties' params may refer to.
struct Known {
  std::vector<std::string> queues, kv, classes, workflows, loads, cron_workers;
};

Known known_names(const LoadedScenario& out) {
  Known k;
  std::set<std::string> q, kv, cls, wf;
  for (const auto& w : out.workers) {
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
    if (!w.config.crons.empty()) k.cron_workers.push_back(w.name);
  }
  k.queues.assign(q.begin(), q.end());
  k.kv.assign(kv.begin(), kv.end());
  k.classes.assign(cls.begin(), cls.end());
  k.workflows.assign(wf.begin(), wf.end());
  for (const auto& l : out.loads) k.loads.push_back(l.name);
  return k;
}

enum class ParamType { kName, kInt, kDuration, kStatus, kBool };

// A param a checker takes. Listed in the order messages name them.
struct ParamRule {
  Checker checker;
  std::string_view key;
  ParamType type;
  std::vector<std::string> Known::*refs;  // kName: the names it must be one of
  std::string_view what;                  // kName: what the names are, for messages
};

constexpr ParamRule kParamRules[] = {
    {Checker::kLinearizability, "steps_max", ParamType::kInt, nullptr, ""},
    {Checker::kQueueDelivery, "queue", ParamType::kName, &Known::queues, "queue"},
    {Checker::kQueueDelivery, "duplicates_max", ParamType::kInt, nullptr, ""},
    {Checker::kQueueDelivery, "latency_max", ParamType::kDuration, nullptr, ""},
    {Checker::kQueueDelivery, "settle", ParamType::kDuration, nullptr, ""},
    {Checker::kCronSchedule, "worker", ParamType::kName, &Known::cron_workers,
     "Worker with triggers.crons"},
    {Checker::kCronSchedule, "tolerance", ParamType::kDuration, nullptr, ""},
    {Checker::kCronSchedule, "settle", ParamType::kDuration, nullptr, ""},
    {Checker::kCronSchedule, "duplicates_max", ParamType::kInt, nullptr, ""},
    {Checker::kKvConvergence, "namespace", ParamType::kName, &Known::kv, "KV namespace"},
    {Checker::kKvConvergence, "staleness_max", ParamType::kDuration, nullptr, ""},
    {Checker::kKvConvergence, "converge_within", ParamType::kDuration, nullptr, ""},
    {Checker::kKvConvergence, "monotonic_reads", ParamType::kBool, nullptr, ""},
    {Checker::kDoSingleInstance, "class", ParamType::kName, &Known::classes,
     "Durable Object class"},
    {Checker::kWorkflowReplay, "workflow", ParamType::kName, &Known::workflows, "workflow"},
    {Checker::kWorkflowLiveness, "workflow", ParamType::kName, &Known::workflows, "workflow"},
    {Checker::kWorkflowLiveness, "within", ParamType::kDuration, nullptr, ""},
    {Checker::kHttpStatus, "allow", ParamType::kStatus, nullptr, ""},
    {Checker::kHttpStatus, "load", ParamType::kName, &Known::loads, "load"},
    {Checker::kBroadcast, "grace", ParamType::kDuration, nullptr, ""},
};

std::vector<const ParamRule*> param_rules(Checker checker) {
  std::vector<const ParamRule*> rules;
  for (const ParamRule& rule : kParamRules) {
    if (rule.checker == checker) rules.push_back(&rule);
  }
  return rules;
}

// "2xx", "404", "200-299", comma-separated.
bool is_status_list(const std::string& s) {
  std::stringstream ss(s);
  std::string item;
  int n = 0;
  auto code = [](const std::string& c) {
    return c.size() == 3 && c[0] >= '1' && c[0] <= '5' &&
           std::all_of(c.begin() + 1, c.end(), [](char d) { return d >= '0' && d <= '9'; });
  };
  while (std::getline(ss, item, ',')) {
    ++n;
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

void check_reference(Resolution& r, const Loc& loc, const std::string& value,
                     const std::vector<std::string>& known, std::string_view what) {
  if (std::find(known.begin(), known.end(), value) != known.end()) return;
  r.errors.at(loc,
              "no " + std::string(what) + " " + quote(value) + did_you_mean(value, known) +
                  (known.empty() ? " (the scenario has none)" : " (known: " + join(known) + ")"));
}

void check_param_value(Resolution& r, const Loc& at, const ParamRule& rule, const Known& k,
                       const std::string& key, const std::string& value) {
  switch (rule.type) {
    case ParamType::kName:
      check_reference(r, at, value, k.*rule.refs, rule.what);
      break;
    case ParamType::kInt: {
      const bool digits =
          !value.empty() && value.size() <= 9 &&
          std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; });
      if (!digits) r.errors.at(at, quote(key) + " expects a non-negative integer");
      break;
    }
    case ParamType::kDuration: {
      sim::Duration d = 0;
      if (!sim::parse_duration(value, &d)) {
        r.errors.at(
            at, quote(key) + ": bad duration " + quote(value) + " (write e.g. \"60s\", \"250ms\")");
      }
      break;
    }
    case ParamType::kBool:
      if (value != "true" && value != "false") {
        r.errors.at(at, quote(key) + " expects \"true\" or \"false\"");
      }
      break;
    case ParamType::kStatus:
      if (!is_status_list(value)) {
        r.errors.at(
            at, "expected statuses like \"2xx\", \"2xx,404\" or \"200-299\", got " + quote(value));
      }
      break;
  }
}

// Each param by index, to point at the right line.
void check_params(Resolution& r, const Loc& loc, const pb::Property& p, const Known& k,
                  Checker checker) {
  const std::vector<const ParamRule*> rules = param_rules(checker);
  for (int i = 0; i < p.params_size(); ++i) {
    const Loc at = loc("params", i);
    const std::string& key = p.params(i).key();
    const auto it = std::find_if(rules.begin(), rules.end(),
                                 [&](const ParamRule* rule) { return rule->key == key; });
    if (it == rules.end()) {
      std::vector<std::string> keys;
      for (const ParamRule* rule : rules) keys.emplace_back(rule->key);
      r.errors.at(at, "unknown param " + quote(key) + " for checker " + checker_name(checker) +
                          did_you_mean(key, keys) +
                          (keys.empty() ? " (it takes none)" : " (params: " + join(keys) + ")"));
      continue;
    }
    check_param_value(r, at, **it, k, key, p.params(i).value());
  }
}

void resolve_model(Resolution& r, const Loc& loc, const std::string& m, PropertySpec* ps) {
  using Kind = ModelSpec::Kind;
  if (ps->checker != Checker::kLinearizability) {
    if (!m.empty()) r.errors.at(loc, "a model is only used by the linearizability checker");
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
    ps->model.js_path = file_ref(r, loc, m.substr(3), "model module");
    if (!ps->model.js_path.empty() && !is_module_path(ps->model.js_path)) {
      r.errors.at(loc, "a JS model is a .js or .mjs module");
    }
    return;
  }
  std::vector<std::string> names;
  for (const auto& [name, kind] : kModels) names.push_back(name);
  r.errors.at(loc, (m.empty() ? std::string("linearizability needs a model")
                              : "unknown model " + quote(m) + did_you_mean(m, names)) +
                       " (models: register, counter, kv, set, list, or js:PATH)");
}

// Checks that need the rest of the scenario: something for the checker to check.
void check_checker_inputs(Resolution& r, const Loc& loc, Checker checker) {
  if (checker == Checker::kLinearizability && !r.records && r.spec.client_script_size() == 0) {
    r.errors.at(loc("checker"),
                "linearizability needs recorded operations: add `record { "
                "... }` to a load's request, or a client script");
  }
  if (checker == Checker::kHttpStatus && r.spec.load_size() == 0) {
    r.errors.at(loc("checker"), "http_status checks the responses of loads; there is none");
  }
}

// nullopt when the checker is unknown (reported).
std::optional<PropertySpec> resolve_property(Resolution& r, const Loc& loc, const pb::Property& p,
                                             const Known& k, std::set<std::string>* names) {
  PropertySpec ps;
  ps.name = p.name();
  if (!is_valid_name(ps.name)) {
    r.errors.at(loc("name"), ps.name.empty() ? "a property needs a name"
                                             : "bad name " + quote(ps.name) +
                                                   " (letters, digits, '-', '_', '.')");
  } else if (!names->insert(ps.name).second) {
    r.errors.at(loc("name"), "property " + quote(ps.name) + " is declared twice");
  }
  const auto checker = checker_from_name(p.checker());
  if (!checker) {
    r.errors.at(loc("checker"),
                (p.checker().empty() ? std::string("a checker is required")
                                     : "unknown checker " + quote(p.checker()) +
                                           did_you_mean(p.checker(), checker_names())) +
                    " (checkers: " + join(checker_names()) + ")");
    return std::nullopt;
  }
  ps.checker = *checker;
  ps.where = loc("checker").where();
  resolve_model(r, loc("model"), p.model(), &ps);
  ps.object = p.object();
  if (ps.object.find('*') < ps.object.size() - 1) {
    r.errors.at(loc("object"),
                "'*' may only end the object filter (a prefix), got " + quote(ps.object));
  }
  ps.params = entries(r, loc, "params", p.params(), false);
  check_params(r, loc, p, k, ps.checker);
  check_checker_inputs(r, loc, ps.checker);
  return ps;
}

}  // namespace

void resolve_properties(Resolution& r) {
  if (r.spec.property_size() == 0) {
    r.errors.add(r.spec_file +
                 ": at least one property is required (a scenario that checks "
                 "nothing always passes)");
    return;
  }
  const Known k = known_names(r.out);
  std::set<std::string> names;
  for (int i = 0; i < r.spec.property_size(); ++i) {
    if (auto ps = resolve_property(r, r.root("property", i), r.spec.property(i), k, &names)) {
      r.out.properties.push_back(std::move(*ps));
    }
  }
}

}  // namespace scenarios::spec::loader_internal
