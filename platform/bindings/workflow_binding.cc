#include "platform/bindings/workflow_binding.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <utility>

namespace bindings {

namespace {

using json = nlohmann::json;

// JSON arguments -> message fields. Numbers in milliseconds ("delayMs") become simulated
// durations ("delay"); "untilMs" (Unix ms) a simulated time ("until").
services::WorkflowMessage message(const std::string& op, const js::CallRequest& request) {
  services::WorkflowMessage m{op, {}, request.bytes};
  const json args = json::parse(request.json, nullptr, /*allow_exceptions=*/false);
  if (!args.is_object()) return m;
  for (const auto& [key, value] : args.items()) {
    if (key.ends_with("Ms") && value.is_number()) {
      const double ms = value.get<double>();
      if (!std::isfinite(ms)) continue;
      const std::string name = key.substr(0, key.size() - 2);
      const double base = name == "until" ? js::kUnixMsAtTimeZero : 0.0;
      m.set(name, static_cast<std::int64_t>(std::llround((ms - base) * 1e6)));
    } else if (value.is_string()) {
      m.set(key, value.get<std::string>());
    } else if (value.is_number()) {
      m.set(key, static_cast<std::int64_t>(std::llround(value.get<double>())));
    } else if (value.is_boolean()) {
      m.set(key, std::int64_t{value.get<bool>() ? 1 : 0});
    }
  }
  return m;
}

// The engine's answer -> the JS reply: fields as JSON ("timeout" and "at" also in ms), the
// clone as bytes; an "error" answer an Error.
js::CallReply reply(sim::Result<services::WorkflowMessage> result) {
  if (!result.ok()) {
    js::CallReply out = js::CallReply::failure(
        "Error", "the workflow engine did not answer (" + result.error().message + ")");
    out.retryable = true;
    return out;
  }
  const services::WorkflowMessage* r = &result.value();
  if (r->op == "error") return js::CallReply::failure(r->get("name"), r->get("message"));
  json fields = json::object();
  for (const auto& [key, value] : r->fields) fields[key] = value;
  if (r->fields.contains("timeout")) {
    fields["timeoutMs"] = static_cast<double>(r->num("timeout")) / 1e6;
  }
  if (r->fields.contains("at")) fields["atMs"] = js::unix_ms(r->num("at"));
  if (r->fields.contains("attempt")) fields["attempt"] = r->num("attempt");
  if (r->fields.contains("ok")) fields["ok"] = r->num("ok") != 0;
  js::CallReply out;
  out.json = fields.dump();
  out.bytes = r->bytes;
  out.has_bytes = !r->bytes.empty();
  return out;
}

}  // namespace

js::CallReply WorkflowBinding::call(sim::Task& task, const js::CallRequest& request) {
  static const char* const kOps[] = {"create", "get",       "status",  "pause",
                                     "resume", "terminate", "restart", "send_event"};
  for (const char* op : kOps) {
    if (request.method == op) return reply(service_.call(task, workflow_, message(op, request)));
  }
  return js::CallReply::failure("TypeError", "Workflow: unknown method " + request.method);
}

js::CallReply WorkflowStepBinding::call(sim::Task& task, const js::CallRequest& request) {
  if (request.method != "begin" && request.method != "commit" && request.method != "finish") {
    return js::CallReply::failure("TypeError", "WorkflowStep: unknown method " + request.method);
  }
  services::WorkflowMessage m = message(request.method, request);
  const std::string workflow = m.get("workflow");
  if (!service_.has_workflow(workflow)) {
    return js::CallReply::failure("Error", "no workflow \"" + workflow + "\"");
  }
  return reply(service_.call(task, workflow, m));
}

}  // namespace bindings
