// The Durable Object namespace binding, C++ half (do_binding.js is the JS half): a stub's fetch
// or RPC call from JS becomes a DoRequest (objects/object_messages.h), encoded once and sent by
// the DO cluster (services/do) to the object's host, wherever the directory placed it; the reply
// (the Response, the RPC result, or the platform's error with its flags) goes back to JS.
//
// The object's key is "<class>/<id hex>" (services::object_key).
#pragma once

#include <string>

#include "platform/bindings/binding_table.h"
#include "platform/objects/object_messages.h"
#include "platform/services/do/do_cluster.h"

namespace bindings {

class DoBinding final : public Binding {
 public:
  // REQUIRES: `cluster` outlives the binding.
  DoBinding(std::string class_name, services::DoCluster& cluster);
  std::string type() const override { return "durable_object_namespace"; }
  std::string descriptor_fields() const override;
  js::CallReply call(sim::Task& task, const js::CallRequest& request) override;

 private:
  std::string class_name_;
  services::DoCluster& cluster_;
};

// The DoRequest of a JS stub's call (method "fetch" or "rpc", as do_binding.js sends it).
sim::Result<objects::DoRequest> do_request_from_call(const js::CallRequest& call);
// The JS reply for the object's encoded reply, or for the error that kept it from answering: a
// retryable error for a request that surely did not run, an error with `remote`-less platform
// flags otherwise.
js::CallReply call_reply_from_do(objects::DoRequest::Kind kind,
                                 const sim::Result<std::string>& reply);

}  // namespace bindings
