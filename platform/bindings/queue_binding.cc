#include "platform/bindings/queue_binding.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

namespace bindings {

namespace {

using json = nlohmann::json;

// The dates from which the runtime changed its queue behaviour (compatibility flags).
constexpr char kJsonMessagesDate[] = "2024-03-18";  // queues_json_messages
constexpr char kErrorCodesDate[] = "2026-03-12";    // queue_expose_error_codes

bool on_or_after(const std::string& date, const char* flag_date) {
  return !date.empty() && date >= flag_date;
}

std::optional<services::QueueContentType> content_type(const std::string& name) {
  if (name == "json") return services::QueueContentType::kJson;
  if (name == "text") return services::QueueContentType::kText;
  if (name == "bytes") return services::QueueContentType::kBytes;
  if (name == "v8") return services::QueueContentType::kV8;
  return std::nullopt;
}

// "message length of ... (10204)" -> the cause alone.
std::string cause_of(const std::string& message) {
  const std::size_t open = message.rfind(" (");
  if (open != std::string::npos && message.ends_with(")")) return message.substr(0, open);
  return message;
}

}  // namespace

std::string QueueBinding::descriptor_fields() const {
  const char* type = on_or_after(compatibility_date_, kJsonMessagesDate) ? "json" : "v8";
  return "\"queue\":" + json(queue_).dump() + ",\"defaultContentType\":\"" + type + "\"";
}

js::CallReply QueueBinding::call(sim::Task& task, const js::CallRequest& request) {
  if (request.method != "send" && request.method != "sendBatch") {
    return js::CallReply::failure("TypeError", "Queue: unknown method " + request.method);
  }
  // {"messages": [{"type": "json", "size": 12, "delay": 5}, ...]}; the bodies, concatenated,
  // are the call's bytes.
  const json args = json::parse(request.json, nullptr, /*allow_exceptions=*/false);
  if (args.is_discarded() || !args.contains("messages") || !args["messages"].is_array()) {
    return js::CallReply::failure("TypeError", "Queue: malformed arguments");
  }
  std::vector<services::QueueSendMessage> messages;
  std::size_t at = 0;
  for (const json& m : args["messages"]) {
    const auto type = content_type(m.value("type", ""));
    const std::size_t size = m.value("size", std::size_t{0});
    if (!type || at + size > request.bytes.size()) {
      return js::CallReply::failure("TypeError", "Queue: malformed arguments");
    }
    services::QueueSendMessage out{request.bytes.substr(at, size), *type, std::nullopt};
    at += size;
    if (m.contains("delay") && m["delay"].is_number()) {
      out.delay = static_cast<sim::Duration>(m["delay"].get<double>()) * sim::kSecond;
    }
    messages.push_back(std::move(out));
  }
  sim::Result<services::QueueMetrics> r = producer_.send(task, queue_, std::move(messages));
  if (!r.ok()) {
    const bool codes = on_or_after(compatibility_date_, kErrorCodesDate);
    const std::string& message = r.error().message;
    const bool has_code = cause_of(message) != message;
    if (codes) {
      return js::CallReply::failure("Error", has_code ? message : "Unknown Internal Error (15000)");
    }
    return js::CallReply::failure("Error",
                                  "Queue " + request.method + " failed: " + cause_of(message));
  }
  json metrics = {{"backlogCount", r->backlog_count}, {"backlogBytes", r->backlog_bytes}};
  if (r->oldest_message_timestamp.has_value()) {
    metrics["oldestMessageTimestamp"] = js::unix_ms(*r->oldest_message_timestamp);
  }
  js::CallReply reply;
  reply.json = json{{"metrics", metrics}}.dump();
  return reply;
}

}  // namespace bindings
