#include "scenarios/check.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>

#include "platform/services/cron/cron.h"
#include "platform/services/queues/queues.h"
#include "props/broadcast.h"
#include "props/cron_schedule.h"
#include "props/do_single_instance.h"
#include "props/kv_convergence.h"
#include "props/linearizability.h"
#include "props/models.h"
#include "props/queue_delivery.h"
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

// What every checker gets: the scenario, the property being checked and the recorded history.
struct CheckInput {
  const spec::LoadedScenario& scenario;
  const spec::PropertySpec& property;
  const props::History& history;
};

PropertyResult make_result(props::Verdict verdict, std::string explanation) {
  return {.name = {}, .verdict = verdict_of(verdict), .explanation = std::move(explanation)};
}

PropertyResult undecided(std::string why) {
  return make_result(props::Verdict::kUnknown, std::move(why));
}

// A duration parameter of the property, or `fallback` when absent (the loader checked syntax).
sim::Duration duration_param(const spec::PropertySpec& p, const char* key, sim::Duration fallback) {
  auto it = p.params.find(key);
  sim::Duration d = 0;
  if (it != p.params.end() && sim::parse_duration(it->second, &d)) return d;
  return fallback;
}

std::string string_param(const spec::PropertySpec& p, const char* key,
                         const std::string& fallback) {
  auto it = p.params.find(key);
  return it == p.params.end() ? fallback : it->second;
}

std::vector<sim::Operation> ops_of(const spec::PropertySpec& p, const props::History& history) {
  std::vector<sim::Operation> ops;
  for (const sim::Operation& op : history.ops) {
    if (object_matches(p.object, op.object)) ops.push_back(op);
  }
  return ops;
}

// For each violated partition: the faults that fired in the 10 s before its failing operation or
// while it ran (the likely cause), or that none did (then the bug shows without a fault).
std::string faults_near(const props::LinearizabilityResult& r,
                        const std::vector<sim::Operation>& ops, const props::History& h) {
  constexpr sim::Duration kLookback = 10 * sim::kSecond;
  constexpr std::size_t kShownMax = 5;
  std::string out;
  for (const props::PartitionReport& p : r.partitions) {
    if (p.verdict != props::Verdict::kViolated || p.blocked_op == 0) continue;
    auto op = std::find_if(ops.begin(), ops.end(),
                           [&](const sim::Operation& o) { return o.id == p.blocked_op; });
    if (op == ops.end()) continue;
    // An operation of unknown outcome: the faults while it was in flight are the likely cause.
    const sim::Time to = op->complete == sim::kTimeMax ? op->invoke + kLookback : op->complete;
    std::vector<std::string> near;
    for (const props::FaultRecord& f : h.faults) {
      if (f.time < op->invoke - kLookback || f.time > to || f.kind == "fault.quiet") continue;
      // A plan's action reads "at 12s crash host-lhr": its time is said once, below.
      std::string what = f.text;
      if (what.starts_with("at ") && what.find(' ', 3) != std::string::npos) {
        what = what.substr(what.find(' ', 3) + 1);
      }
      near.push_back(what + " at " + sim::format_time(f.time));
    }
    if (near.size() > kShownMax) near.erase(near.begin(), near.end() - kShownMax);
    std::string list;
    for (const std::string& n : near) list += (list.empty() ? "" : "; ") + n;
    out +=
        "  " + p.object + (p.key.empty() ? "" : " key " + p.key) + ": " +
        (near.empty() ? "no fault fired in the 10 s before its failing operation or during it"
                      : "faults in the 10 s before its failing operation or during it: " + list) +
        "\n";
  }
  return out;
}

PropertyResult check_linearizable(const CheckInput& in) {
  const spec::PropertySpec& p = in.property;
  std::unique_ptr<props::Model> model;
  if (p.model.kind == spec::ModelSpec::Kind::kJs) {
    sim::Result<std::unique_ptr<JsModel>> js_model =
        JsModel::load(in.scenario.files, p.model.js_path);
    if (!js_model.ok()) {
      PropertyResult bad = undecided(js_model.error().message);
      bad.bad_input = true;
      return bad;
    }
    model = std::move(js_model.value());
  } else {
    model = props::make_model(model_name(p.model.kind));
  }
  std::vector<sim::Operation> ops = ops_of(p, in.history);
  // A filter that matches nothing checked nothing: not a pass (a misspelt object, say).
  if (ops.empty() && !p.object.empty()) {
    return undecided("no recorded operation is on object \"" + p.object + "\"");
  }
  for (sim::Operation& op : ops) {
    if (op.status == sim::OpStatus::kPending) op.status = sim::OpStatus::kUnknown;
  }
  props::LinearizabilityOptions options;
  if (auto it = p.params.find("steps_max"); it != p.params.end()) {
    options.steps_max = static_cast<std::uint64_t>(std::atoll(it->second.c_str()));
  }
  auto r = props::check_linearizability(ops, *model, options);
  if (const auto* js = dynamic_cast<const JsModel*>(model.get()); js && !js->failure().empty()) {
    // Its verdicts after the failure mean nothing.
    PropertyResult bad = undecided(js->failure());
    bad.bad_input = true;
    return bad;
  }
  if (!r.ok()) return undecided(r.error().message);
  if (r->verdict == props::Verdict::kViolated) {
    std::string report = r->report();
    if (!report.empty() && report.back() != '\n') report += "\n";
    report += faults_near(*r, ops, in.history);
    report.pop_back();
    return make_result(r->verdict, report);
  }
  if (r->verdict != props::Verdict::kOk) return make_result(r->verdict, r->report());
  return make_result(r->verdict, std::to_string(ops.size()) + " operations linearizable (" +
                                     model->name() + " model)");
}

PropertyResult check_single_instance(const CheckInput& in) {
  props::DoSingleInstanceInput input;
  input.activations = in.history.do_activations;
  input.commits = in.history.do_commits;
  props::DoSingleInstanceResult r = props::check_do_single_instance(input);
  return make_result(r.verdict, r.report());
}

PropertyResult check_kv(const CheckInput& in) {
  const spec::PropertySpec& p = in.property;
  props::KvConvergenceInput input;
  input.bound = duration_param(p, "staleness_max", input.bound);
  input.check_monotonic_reads = string_param(p, "monotonic_reads", "false") == "true";
  const std::string ns = string_param(p, "namespace", "");
  const std::string only = ns.empty() ? "" : "kv:" + ns;
  input.healed = in.scenario.quiet_after;
  for (const sim::Operation& op : in.history.ops) {
    if (!op.object.starts_with("kv:") || op.status != sim::OpStatus::kOk) continue;
    if (!only.empty() && op.object != only) continue;
    const std::string location = in.history.location_of(op.node);
    const std::string name = op.object.substr(3);
    if (op.kind == "put") {
      input.writes.push_back({name, op.key, op.input, op.complete, location});
    } else if (op.kind == "delete") {
      input.writes.push_back({name, op.key, std::nullopt, op.complete, location});
    } else if (op.kind == "get") {
      std::optional<std::string> v;
      if (op.output != "null") v = op.output;
      input.reads.push_back({name, op.key, v, op.complete, location});
    }
  }
  props::KvConvergenceResult r = props::check_kv_convergence(input);
  return make_result(r.verdict, r.report());
}

// allow: "2xx", "2xx,404", "200-299" (syntax checked by the loader).
bool status_allowed(const std::string& allow, int status) {
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
}

// Default 2xx. No response at all (status 0: a timeout, a refused connection) is never allowed.
PropertyResult check_statuses(const CheckInput& in) {
  const spec::PropertySpec& p = in.property;
  const std::string allow = string_param(p, "allow", "2xx");
  std::map<int, std::uint64_t> counts;
  if (auto it = p.params.find("load"); it != p.params.end()) {
    auto l = in.history.load_statuses.find(it->second);
    if (l != in.history.load_statuses.end()) counts = l->second;
  } else {
    for (const auto& [load, statuses] : in.history.load_statuses) {
      for (const auto& [status, n] : statuses) counts[status] += n;
    }
  }
  std::uint64_t bad = 0;
  std::uint64_t total = 0;
  std::string examples;
  for (const auto& [status, n] : counts) {
    total += n;
    if (status != 0 && status_allowed(allow, status)) continue;
    bad += n;
    examples += (examples.empty() ? "" : ", ") + std::to_string(n) + " x " +
                (status == 0 ? std::string("no response") : std::to_string(status));
  }
  return make_result(bad > 0 ? props::Verdict::kViolated : props::Verdict::kOk,
                     std::to_string(bad) + " of " + std::to_string(total) +
                         " responses had a status outside " + allow +
                         (examples.empty() ? "" : " (" + examples + ")"));
}

PropertyResult check_broadcast_delivery(const CheckInput& in) {
  props::BroadcastOptions options;
  options.grace = duration_param(in.property, "grace", options.grace);
  props::BroadcastResult r = props::check_broadcast(ops_of(in.property, in.history), options);
  return make_result(r.verdict, r.report());
}

// A service's config as the scenario's knobs set it ("<prefix><name>"; the loader checked them).
template <typename Config>
Config config_from_knobs(const spec::LoadedScenario& s, std::string_view prefix) {
  Config config;
  for (const auto& [name, value] : s.knobs) {
    if (name.starts_with(prefix)) {
      (void)Config::knobs().set(config, std::string_view(name).substr(prefix.size()), value);
    }
  }
  return config;
}

// The duplicates_max param (queue_delivery, cron_schedule): more duplicates than that violate.
void limit_duplicates(const spec::PropertySpec& p, std::size_t duplicated, const char* what,
                      props::Verdict* verdict, std::string* report) {
  auto it = p.params.find("duplicates_max");
  if (it == p.params.end()) return;
  if (duplicated <= static_cast<std::size_t>(std::atoll(it->second.c_str()))) return;
  *verdict = props::Verdict::kViolated;
  *report += "  " + std::to_string(duplicated) + " " + what + ", more than " + it->second + "\n";
}

// The rules each queue's consumer runs by, from the Workers' configurations (what the platform
// may do with an exhausted message), with the scenario's queue.max_retries knob as the default.
std::map<std::string, props::QueueRules> queue_rules(const spec::LoadedScenario& s) {
  const std::int64_t default_retries =
      config_from_knobs<services::QueueConfig>(s, "queue.").max_retries;
  std::map<std::string, props::QueueRules> out;
  for (const spec::WorkerSpec& w : s.workers) {
    for (const spec::QueueConsumer& c : w.config.queue_consumers) {
      out[c.queue] = {c.max_retries.value_or(default_retries), !c.dead_letter_queue.empty()};
    }
  }
  return out;
}

PropertyResult check_queue(const CheckInput& in) {
  const spec::PropertySpec& p = in.property;
  const std::string only = string_param(p, "queue", "");
  props::QueueHistory h = in.history.queues;
  if (!only.empty()) {
    const auto other = [&only](const auto& r) { return r.queue != only; };
    std::erase_if(h.sends, other);
    std::erase_if(h.deliveries, other);
    std::erase_if(h.acks, other);
    std::erase_if(h.dead_letters, other);
    std::erase_if(h.dispatches, other);
  }
  props::QueueDeliveryOptions options;
  options.require_processing = true;
  options.rules = queue_rules(in.scenario);
  options.deadline = in.scenario.duration - duration_param(p, "settle", 60 * sim::kSecond);
  props::QueueDeliveryResult r = props::check_queue_delivery(h, options);
  props::Verdict verdict = r.verdict;
  std::string report = r.report();
  limit_duplicates(p, r.duplicated, "duplicated deliveries", &verdict, &report);
  const sim::Duration latency_max = duration_param(p, "latency_max", sim::kTimeMax);
  if (r.latency.count > 0 && r.latency.max > latency_max) {
    verdict = props::Verdict::kViolated;
    report += "  a message waited " + sim::format_duration(r.latency.max) +
              " for its first delivery, longer than " + sim::format_duration(latency_max) + "\n";
  }
  if (!report.empty() && report.back() == '\n') report.pop_back();
  return make_result(verdict, report);
}

// Each Worker's schedules with the minutes they must fire in (0, duration - settle], and the
// retries the platform promises. The default settle is the longest a firing may take to end
// (every attempt timing out, with its retry delays), from the scenario's cron.* knobs: a
// scheduled time still being retried when the run ends is not judged.
PropertyResult check_cron(const CheckInput& in) {
  const spec::PropertySpec& p = in.property;
  const std::string only = string_param(p, "worker", "");
  const auto cron = config_from_knobs<services::CronConfig>(in.scenario, "cron.");
  const std::int64_t retries_max = cron.retries_max;
  const sim::Duration longest =
      (retries_max + 1) * (cron.run_timeout + cron.retry_delay) + cron.delay_max;
  const sim::Time window_end = in.scenario.duration - duration_param(p, "settle", longest);
  std::vector<props::CronExpectation> expected;
  for (const spec::WorkerSpec& w : in.scenario.workers) {
    if (!only.empty() && w.name != only) continue;
    for (const std::string& text : w.config.crons) {
      sim::Result<services::CronExpr> expr = services::CronExpr::parse(text);
      SIM_ASSERT(expr.ok());  // the loader checked it
      expected.push_back(
          {w.name, text, services::cron_times(*expr, 0, window_end), retries_max, window_end});
    }
  }
  props::CronHistory h = in.history.cron;
  if (!only.empty())
    std::erase_if(h.runs, [&](const props::CronRun& r) { return r.worker != only; });
  props::CronScheduleOptions options;
  options.tolerance = duration_param(p, "tolerance", options.tolerance);
  props::CronScheduleResult r = props::check_cron_schedule(h, expected, options);
  props::Verdict verdict = r.verdict;
  std::string report = r.report();
  limit_duplicates(p, r.duplicated, "scheduled times ran more than once", &verdict, &report);
  if (!report.empty() && report.back() == '\n') report.pop_back();
  return make_result(verdict, report);
}

// The instances of the property's workflow (param "workflow"; default: every one).
props::WorkflowHistory workflow_history(const CheckInput& in) {
  const std::string only = string_param(in.property, "workflow", "");
  props::WorkflowHistory h = in.history.workflows;
  if (!only.empty()) {
    std::erase_if(h.instances, [&](const auto& kv) { return kv.second.workflow != only; });
  }
  return h;
}

PropertyResult check_replay(const CheckInput& in) {
  props::WorkflowReplayInput input;
  for (auto& [label, rec] : workflow_history(in).instances) {
    input.instances.push_back(std::move(rec.replay));
  }
  props::WorkflowReplayResult r = props::check_workflow_replay(input);
  std::string report = r.report();
  if (!report.empty() && report.back() == '\n') report.pop_back();
  return make_result(r.verdict, report);
}

PropertyResult check_liveness(const CheckInput& in) {
  const sim::Duration within = duration_param(in.property, "within", sim::kHour);
  props::WorkflowLivenessResult r = props::check_workflow_liveness(
      workflow_history(in), in.scenario.quiet_after, within, in.scenario.duration);
  std::string report = r.report();
  if (!report.empty() && report.back() == '\n') report.pop_back();
  return make_result(r.verdict, report);
}

using CheckFn = PropertyResult (*)(const CheckInput&);

// The checkers this build has; a checker missing here is refused by the loader.
CheckFn checker_for(spec::Checker checker) {
  switch (checker) {
    case spec::Checker::kLinearizability:
      return &check_linearizable;
    case spec::Checker::kDoSingleInstance:
      return &check_single_instance;
    case spec::Checker::kKvConvergence:
      return &check_kv;
    case spec::Checker::kHttpStatus:
      return &check_statuses;
    case spec::Checker::kBroadcast:
      return &check_broadcast_delivery;
    case spec::Checker::kQueueDelivery:
      return &check_queue;
    case spec::Checker::kCronSchedule:
      return &check_cron;
    case spec::Checker::kWorkflowReplay:
      return &check_replay;
    case spec::Checker::kWorkflowLiveness:
      return &check_liveness;
  }
  return nullptr;
}

PropertyResult check_property(const spec::LoadedScenario& s, const props::History& history,
                              const spec::PropertySpec& p) {
  CheckFn fn = checker_for(p.checker);
  PropertyResult out =
      fn != nullptr
          ? fn(CheckInput{s, p, history})
          : undecided(std::string(spec::checker_name(p.checker)) + ": not supported in this build");
  out.name = p.name;
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
