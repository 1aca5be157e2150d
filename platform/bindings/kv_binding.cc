#include "platform/bindings/kv_binding.h"

#include <cmath>
#include <nlohmann/json.hpp>

namespace bindings {

namespace {

using json = nlohmann::json;

js::CallReply failed(const sim::Error& e) { return js::CallReply::failure("Error", e.message); }

js::CallReply value_reply(const services::KvValueWithMetadata& v) {
  js::CallReply r;
  json meta = nullptr;
  if (v.metadata.has_value()) {
    meta = json::parse(*v.metadata, nullptr, /*allow_exceptions=*/false);
    if (meta.is_discarded()) meta = *v.metadata;
  }
  r.json = json{{"found", v.value.has_value()}, {"metadata", meta}}.dump();
  if (v.value.has_value()) {
    r.bytes = *v.value;
    r.has_bytes = true;
  }
  return r;
}

std::optional<std::int64_t> seconds(const json& args, const char* name) {
  if (!args.contains(name) || !args[name].is_number()) return std::nullopt;
  return static_cast<std::int64_t>(std::floor(args[name].get<double>()));
}

}  // namespace

js::CallReply kv_call(sim::Task& task, services::KvClient& client, std::string_view ns,
                      const js::CallRequest& call) {
  const json args = json::parse(call.json, nullptr, /*allow_exceptions=*/false);
  if (args.is_discarded() || !args.is_object()) {
    return js::CallReply::failure("TypeError", "KV: malformed arguments");
  }
  const std::string key = args.value("key", "");
  if (call.method == "get") {
    services::KvGetOptions options;
    if (args.contains("cacheTtl") && args["cacheTtl"].is_number()) {
      options.cache_ttl = static_cast<sim::Duration>(args["cacheTtl"].get<double>() * sim::kSecond);
    }
    sim::Result<services::KvValueWithMetadata> r = client.get_with_metadata(task, ns, key, options);
    if (!r.ok()) return failed(r.error());
    return value_reply(r.value());
  }
  if (call.method == "put") {
    services::KvPutOptions options;
    options.expiration = seconds(args, "expiration");
    options.expiration_ttl = seconds(args, "expirationTtl");
    if (args.contains("metadata")) options.metadata = args["metadata"].dump();
    sim::Status s = client.put(task, ns, key, call.bytes, options);
    if (!s.ok()) return failed(s.error());
    return js::CallReply{};
  }
  if (call.method == "delete") {
    sim::Status s = client.remove(task, ns, key);
    if (!s.ok()) return failed(s.error());
    return js::CallReply{};
  }
  if (call.method == "list") {
    services::KvListOptions options;
    options.prefix = args.value("prefix", "");
    if (args.contains("limit") && args["limit"].is_number()) {
      const double limit = args["limit"].get<double>();
      options.limit = limit < 0 ? 0 : static_cast<std::size_t>(limit);
    }
    options.cursor = args.value("cursor", "");
    sim::Result<services::KvListResult> r = client.list(task, ns, options);
    if (!r.ok()) return failed(r.error());
    json keys = json::array();
    for (const services::KvListKey& k : r->keys) {
      json entry = {{"name", k.name}};
      if (k.expiration.has_value()) entry["expiration"] = *k.expiration;
      if (k.metadata.has_value()) {
        json meta = json::parse(*k.metadata, nullptr, /*allow_exceptions=*/false);
        entry["metadata"] = meta.is_discarded() ? json(*k.metadata) : meta;
      }
      keys.push_back(std::move(entry));
    }
    json out = {{"keys", keys}, {"list_complete", r->list_complete}};
    if (!r->list_complete) out["cursor"] = r->cursor;
    js::CallReply reply;
    reply.json = out.dump();
    return reply;
  }
  return js::CallReply::failure("TypeError", "KV: unknown method " + call.method);
}

}  // namespace bindings

namespace bindings {

js::CallReply KvBinding::call(sim::Task& task, const js::CallRequest& request) {
  return kv_call(task, client_, namespace_id_, request);
}

}  // namespace bindings
