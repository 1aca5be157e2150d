// The Workers KV binding, C++ half (kv_binding.js is the JS half: KVNamespace with get,
// getWithMetadata, put, delete, list): a call's JSON arguments and value bytes are served by the
// PoP's services::KvClient. Errors become JS Errors with the platform's messages ("KV PUT failed:
// 429 Too Many Requests"). The caller's history records are the KvClient's (object
// "kv:<namespace>").
#pragma once

#include <string>
#include <string_view>

#include "platform/bindings/binding_table.h"
#include "platform/services/kv/kv.h"

namespace bindings {

class KvBinding final : public Binding {
 public:
  // REQUIRES: `client` outlives the binding.
  KvBinding(std::string namespace_id, services::KvClient& client)
      : namespace_id_(std::move(namespace_id)), client_(client) {}
  std::string type() const override { return "kv_namespace"; }
  js::CallReply call(sim::Task& task, const js::CallRequest& request) override;

 private:
  std::string namespace_id_;
  services::KvClient& client_;
};

// One KV call on namespace `ns` (methods get, put, delete, list). Suspends (a task of the PoP).
// Throws TaskCancelled.
js::CallReply kv_call(sim::Task& task, services::KvClient& client, std::string_view ns,
                      const js::CallRequest& call);

}  // namespace bindings
