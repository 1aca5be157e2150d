// The events a Worker's handlers receive besides an HTTP request, as plain C++ values: a cron
// event, a batch of queue messages, and the events of a Durable Object instance. runtime::Worker
// hands them to its JS half (dispatcher.js) through js::Isolate::dispatch().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "platform/js/http.h"
#include "sim/time.h"

namespace runtime {

// A cron trigger as scheduled(controller, env, ctx) sees it.
struct ScheduledEvent {
  std::string cron;            // controller.cron, e.g. "*/5 * * * *"
  sim::Time scheduled_time{};  // controller.scheduledTime (virtual time; JS sees Unix ms)
};

// A batch of queue messages as queue(batch, env, ctx) sees it.
struct QueueMessage {
  std::string id;
  sim::Time timestamp{};  // message.timestamp (a Date)
  // How the body was serialized: "json" (JSON text), "text", "bytes", or "v8" (a structured
  // clone made by the producer's isolate).
  std::string content_type = "json";
  std::string body;
  int attempts = 1;
};
struct QueueBatch {
  std::string queue;
  std::vector<QueueMessage> messages;
};
// What the handler decided for one message: "ack" or "retry" (with delay_seconds, -1: the
// queue's default). Explicit per-message calls win over ackAll()/retryAll(); the first call
// wins; without calls a message is acked when the handler succeeds and retried when it throws.
struct QueueOutcome {
  std::string id;
  bool ack = true;
  double delay_seconds = -1;
};

// A run of a workflow instance: `new <class_name>(ctx, env).run(event, step)`; the step calls go
// to the binding at `step_target` (bindings::WorkflowStepBinding), tagged with the run.
struct WorkflowRunEvent {
  std::string workflow;
  std::string class_name;
  std::string instance_id;
  std::uint32_t generation = 0;
  std::uint32_t run = 0;
  sim::Time created{};  // event.timestamp (a Date)
  std::string params;   // event.payload, a structured clone
  std::uint32_t step_target = 0;
};

// An event for a Durable Object instance living in a Worker's isolate (created on its first event
// with `new <class_name>(state, env)` from the main module's exports).
struct ActorEvent {
  enum class Kind { kFetch, kRpc, kAlarm, kSocketMessage, kSocketClose };
  Kind kind = Kind::kFetch;
  std::string class_name;
  std::string id_hex;
  std::string name;          // the name of an idFromName() id, else ""
  js::HttpRequest request;   // kFetch
  std::string method;        // kRpc
  std::string args;          // kRpc: structured clone of the argument array
  int retry_count = 0;       // kAlarm
  std::string socket;        // kSocket*: the WebSocket's id (its payload is in `args`)
  bool socket_text = true;   // kSocketMessage: a text frame
  int close_code = 1005;     // kSocketClose
  std::string close_reason;  // kSocketClose
  bool close_clean = true;   // kSocketClose
};

// What dispatcher.js reports about an invocation besides a Response (js::Signal::code); the
// same numbers as its SIGNAL table.
enum class SignalCode : int {
  kException = 1,         // text: "Name: message", stack
  kWaitUntil = 2,         // ctx.waitUntil(promise) was called
  kWaitUntilSettled = 3,  // such a promise settled: ok, or text and stack
  kPassThrough = 4,       // ctx.passThroughOnException()
  kEventDone = 5,         // a non-fetch handler settled: ok, or text and stack
  kNoRetry = 6,           // controller.noRetry()
  kActorReply = 7,        // an RPC settled: ok with bytes (the clone), or text and bytes (error)
  kQueueOutcomes = 8,     // text: JSON [{id, ack, delaySeconds}]
};

}  // namespace runtime
