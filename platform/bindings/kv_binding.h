// runtime::kv_call: a KV binding's call from JS (the prelude's KVNamespace: methods get, put,
// delete, list with JSON arguments and raw value bytes) served by the PoP's services::KvClient.
// Errors become JS Errors with the platform's messages ("KV PUT failed: 429 Too Many Requests").
// The caller's history records are the KvClient's (object "kv:<namespace>").
#pragma once

#include <string_view>

#include "platform/js/isolate.h"
#include "platform/services/kv/kv.h"

namespace runtime {

// Suspends (a task of the PoP). Throws TaskCancelled.
js::CallReply kv_call(sim::Task& task, services::KvClient& client, std::string_view ns,
                      const js::CallRequest& call);

}  // namespace runtime
