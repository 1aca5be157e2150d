// runtime::BindingServices: the runtime::Services of a Worker on a PoP (or of a Durable Object
// on its host): routes the calls of its service bindings to the platform's services.
//  - "do:<binding>": a Durable Object stub's fetch or RPC. The binding names a class (its
//    namespace); the object's key is "<class>/<id hex>". The call goes to `objects` (the DO
//    cluster's caller side), which finds the object's host, activating it if needed.
//  - "kv:<binding>": a KV namespace method, handed to `kv` with the namespace id.
// Values of bindings are plain descriptors (see js::BindingValue::service); make_env() builds
// them from the declared bindings.
//
// Single-threaded; the route functions suspend (they are called on a task of the Worker's node).
#pragma once

#include <functional>
#include <map>
#include <string>

#include "platform/runtime/worker.h"

namespace runtime {

struct BindingRoutes {
  // Sends an encoded DoRequest (do_wire.h) to the object `key`; returns the encoded reply.
  std::function<sim::Result<std::string>(sim::Task&, const std::string& key, std::string request)>
      objects;
  // Serves one KV call (method "get", "put", "delete", "list"; see the prelude's KVNamespace)
  // on namespace `namespace_id`.
  std::function<js::CallReply(sim::Task&, const std::string& namespace_id,
                              const js::CallRequest& call)>
      kv;
};

class BindingServices final : public Services {
 public:
  // do_classes: binding name -> class name; kv_namespaces: binding name -> namespace id.
  BindingServices(std::map<std::string, std::string> do_classes,
                  std::map<std::string, std::string> kv_namespaces, BindingRoutes routes)
      : do_classes_(std::move(do_classes)),
        kv_namespaces_(std::move(kv_namespaces)),
        routes_(std::move(routes)) {}

  js::CallReply call(sim::Task& task, const js::CallRequest& request) override;

  // The env entries for these bindings (merge them with the vars).
  std::map<std::string, BindingValue> env() const;

 private:
  std::map<std::string, std::string> do_classes_;
  std::map<std::string, std::string> kv_namespaces_;
  BindingRoutes routes_;
};

}  // namespace runtime
