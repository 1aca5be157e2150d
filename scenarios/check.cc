#include "scenarios/check.h"

#include <cstdlib>
#include <map>
#include <memory>
#include <string>

#include "props/broadcast.h"
#include "props/do_single_instance.h"
#include "props/kv_convergence.h"
#include "props/linearizability.h"
#include "props/models.h"
#include "scenarios/js_model.h"

namespace scenarios {

namespace {

bool object_matches(const std::string& pattern, const std::string& object) {
  if (pattern.empty()) return !object.starts_with("kv:");
  if (pattern.ends_with("*")) return object.starts_with(pattern.substr(0, pattern.size() - 1));
  return object == pattern;
}

const char* model_name(spec::ModelSpec::Kind kind) {
  switch (kind) {
    case spec::ModelSpec::Kind::kRegister:
      return "register";
    case spec::ModelSpec::Kind::kCounter:
      return "counter";
    case spec::ModelSpec::Kind::kKv:
      return "kv";
    case spec::ModelSpec::Kind::kSet:
      return "set";
    case spec::ModelSpec::Kind::kList:
      return "list";
    default:
      return "";
  }
}

PropertyResult::Verdict verdict_of(props::Verdict v) {
  switch (v) {
    case props::Verdict::kOk:
      return PropertyResult::Verdict::kOk;
    case props::Verdict::kViolated:
      return PropertyResult::Verdict::kViolated;
    case props::Verdict::kUnknown:
      break;
  }
  return PropertyResult::Verdict::kUnknown;
}

PropertyResult check_property(const spec::LoadedScenario& s, const props::History& history,
                              const spec::PropertySpec& p) {
  PropertyResult out;
  out.name = p.name;
  switch (p.checker) {
    case spec::Checker::kLinearizability: {
      std::unique_ptr<props::Model> model;
      if (p.model.kind == spec::ModelSpec::Kind::kJs) {
        sim::Result<std::unique_ptr<JsModel>> js_model = JsModel::load(s.files, p.model.js_path);
        if (!js_model.ok()) {
          out.verdict = PropertyResult::Verdict::kUnknown;
          out.explanation = js_model.error().message;
          return out;
        }
        model = std::move(js_model.value());
      } else {
        model = props::make_model(model_name(p.model.kind));
      }
      const std::string name = model->name();
      std::vector<sim::Operation> ops;
      for (const sim::Operation& op : history.ops) {
        if (!object_matches(p.object, op.object)) continue;
        sim::Operation copy = op;
        if (copy.status == sim::OpStatus::kPending) copy.status = sim::OpStatus::kUnknown;
        ops.push_back(std::move(copy));
      }
      auto r = props::check_linearizability(ops, *model);
      if (!r.ok()) {
        out.verdict = PropertyResult::Verdict::kUnknown;
        out.explanation = r.error().message;
        return out;
      }
      out.verdict = verdict_of(r->verdict);
      out.explanation =
          r->verdict == props::Verdict::kOk
              ? std::to_string(ops.size()) + " operations linearizable (" + name + " model)"
              : r->report();
      return out;
    }
    case spec::Checker::kDoSingleInstance: {
      props::DoSingleInstanceInput in;
      in.activations = history.do_activations;
      in.commits = history.do_commits;
      props::DoSingleInstanceResult r = props::check_do_single_instance(in);
      out.verdict = verdict_of(r.verdict);
      out.explanation = r.report();
      return out;
    }
    case spec::Checker::kKvConvergence: {
      props::KvConvergenceInput in;
      auto it = p.params.find("staleness_max");
      if (it != p.params.end()) {
        sim::Duration d = 0;
        if (sim::parse_duration(it->second, &d)) in.bound = d;
      }
      in.check_monotonic_reads =
          p.params.count("monotonic_reads") != 0 && p.params.at("monotonic_reads") == "true";
      const std::string only_ns =
          p.params.count("namespace") != 0 ? "kv:" + p.params.at("namespace") : "";
      in.healed = s.quiet_after;
      for (const sim::Operation& op : history.ops) {
        if (!op.object.starts_with("kv:") || op.status != sim::OpStatus::kOk) continue;
        if (!only_ns.empty() && op.object != only_ns) continue;
        const std::string location = history.location_of(op.node);
        if (op.kind == "put") {
          in.writes.push_back({op.object.substr(3), op.key, op.input, op.complete, location});
        } else if (op.kind == "delete") {
          in.writes.push_back({op.object.substr(3), op.key, std::nullopt, op.complete, location});
        } else if (op.kind == "get") {
          std::optional<std::string> v;
          if (op.output != "null") v = op.output;
          in.reads.push_back({op.object.substr(3), op.key, v, op.complete, location});
        }
      }
      props::KvConvergenceResult r = props::check_kv_convergence(in);
      out.verdict = verdict_of(r.verdict);
      out.explanation = r.report();
      return out;
    }
    case spec::Checker::kHttpStatus: {
      // allow: "2xx", "2xx,404", "200-299" (checked by the loader); default 2xx. No response at
      // all (status 0: a timeout, a refused connection) is never allowed.
      const std::string allow = p.params.count("allow") != 0 ? p.params.at("allow") : "2xx";
      auto allowed = [&allow](int status) {
        std::size_t at = 0;
        while (at <= allow.size()) {
          std::size_t end = allow.find(',', at);
          if (end == std::string::npos) end = allow.size();
          const std::string item = allow.substr(at, end - at);
          at = end + 1;
          if (item.size() == 3 && item.substr(1) == "xx") {
            if (status / 100 == item[0] - '0') return true;
            continue;
          }
          const std::size_t dash = item.find('-');
          const int lo = std::atoi(item.substr(0, dash).c_str());
          const int hi = dash == std::string::npos ? lo : std::atoi(item.substr(dash + 1).c_str());
          if (status >= lo && status <= hi) return true;
        }
        return false;
      };
      std::map<int, std::uint64_t> counts;
      if (auto it = p.params.find("load"); it != p.params.end()) {
        auto l = history.load_statuses.find(it->second);
        if (l != history.load_statuses.end()) counts = l->second;
      } else {
        for (const auto& [load, statuses] : history.load_statuses) {
          for (const auto& [status, n] : statuses) counts[status] += n;
        }
      }
      std::uint64_t bad = 0;
      std::uint64_t total = 0;
      std::string examples;
      for (const auto& [status, n] : counts) {
        total += n;
        if (status != 0 && allowed(status)) continue;
        bad += n;
        examples += (examples.empty() ? "" : ", ") + std::to_string(n) + " x " +
                    (status == 0 ? std::string("no response") : std::to_string(status));
      }
      out.verdict = bad > 0 ? PropertyResult::Verdict::kViolated : PropertyResult::Verdict::kOk;
      out.explanation = std::to_string(bad) + " of " + std::to_string(total) +
                        " responses had a status outside " + allow +
                        (examples.empty() ? "" : " (" + examples + ")");
      return out;
    }
    case spec::Checker::kBroadcast: {
      props::BroadcastOptions options;
      if (auto it = p.params.find("grace"); it != p.params.end()) {
        sim::Duration d = 0;
        if (sim::parse_duration(it->second, &d)) options.grace = d;
      }
      std::vector<sim::Operation> ops;
      for (const sim::Operation& op : history.ops) {
        if (object_matches(p.object, op.object)) ops.push_back(op);
      }
      props::BroadcastResult r = props::check_broadcast(ops, options);
      out.verdict = verdict_of(r.verdict);
      out.explanation = r.report();
      return out;
    }
    case spec::Checker::kQueueDelivery:
    case spec::Checker::kWorkflowReplay:
      break;
  }
  out.verdict = PropertyResult::Verdict::kUnknown;
  out.explanation = std::string(spec::checker_name(p.checker)) + ": not supported in this build";
  return out;
}

}  // namespace

std::vector<PropertyResult> check_properties(const spec::LoadedScenario& s,
                                             const props::History& history) {
  std::vector<PropertyResult> out;
  for (const spec::PropertySpec& p : s.properties) out.push_back(check_property(s, history, p));
  return out;
}

}  // namespace scenarios
