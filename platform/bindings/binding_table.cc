#include "platform/bindings/binding_table.h"

#include <nlohmann/json.hpp>

#include "platform/objects/object_messages.h"

namespace runtime {

js::CallReply BindingServices::call(sim::Task& task, const js::CallRequest& request) {
  const std::string& target = request.target;
  if (target.starts_with("do:")) {
    auto it = do_classes_.find(target.substr(3));
    if (it == do_classes_.end() || !routes_.objects) {
      return js::CallReply::failure("Error", "no Durable Object binding " + target.substr(3));
    }
    sim::Result<DoRequest> r = do_request_from_call(request);
    if (!r.ok()) return js::CallReply::failure("TypeError", r.error().message);
    const std::string key = it->second + "/" + r->id_hex;
    const DoRequest::Kind kind = r->kind;
    return call_reply_from_do(kind, routes_.objects(task, key, encode_do_request(*r)));
  }
  if (target.starts_with("kv:")) {
    auto it = kv_namespaces_.find(target.substr(3));
    if (it == kv_namespaces_.end() || !routes_.kv) {
      return js::CallReply::failure("Error", "no KV binding " + target.substr(3));
    }
    return routes_.kv(task, it->second, request);
  }
  return js::CallReply::failure("Error", "no such binding: " + target);
}

std::map<std::string, BindingValue> BindingServices::env() const {
  std::map<std::string, BindingValue> env;
  for (const auto& [binding, class_name] : do_classes_) {
    env[binding] = BindingValue::service(
        nlohmann::json{{"type", "durable_object_namespace"}, {"class_name", class_name}}.dump());
  }
  for (const auto& [binding, id] : kv_namespaces_) {
    env[binding] =
        BindingValue::service(nlohmann::json{{"type", "kv_namespace"}, {"id", id}}.dump());
  }
  return env;
}

}  // namespace runtime
