#include "platform/bindings/binding_table.h"

#include <nlohmann/json.hpp>
#include <utility>

#include "sim/assert.h"

namespace bindings {
namespace {

// A binding reads its arguments from the JSON its JS half built; a Worker controls those values,
// so a type the handler did not expect ("soon" for a number) is the caller's TypeError, never an
// exception that escapes into the simulator.
template <typename Call>
js::CallReply guarded(const js::CallRequest& request, Call&& call) {
  try {
    return call();
  } catch (const nlohmann::json::exception& e) {
    std::string what = e.what();
    if (const std::size_t close = what.find("] "); close != std::string::npos) {
      what = what.substr(close + 2);
    }
    return js::CallReply::failure(
        "TypeError", request.method + "(): an argument has the wrong type (" + what + ")");
  }
}

}  // namespace

void BindingTable::add(std::string name, std::unique_ptr<Binding> binding) {
  SIM_REQUIRE(binding != nullptr);
  SIM_REQUIRE(names_.count(name) == 0);
  const auto target = kFirstTarget + static_cast<std::uint32_t>(bindings_.size());
  names_.emplace(std::move(name), target);
  bindings_.push_back(std::move(binding));
}

std::uint32_t BindingTable::add_hidden(std::unique_ptr<Binding> binding) {
  SIM_REQUIRE(binding != nullptr);
  const auto target = kFirstTarget + static_cast<std::uint32_t>(bindings_.size());
  bindings_.push_back(std::move(binding));
  return target;
}

std::map<std::string, js::BindingValue> BindingTable::env() const {
  std::map<std::string, js::BindingValue> env;
  for (const auto& [name, target] : names_) {
    const Binding& b = *route(target);
    const std::string fields = b.descriptor_fields();
    env[name] = js::BindingValue::service("{\"type\":" + nlohmann::json(b.type()).dump() +
                                          ",\"target\":" + std::to_string(target) +
                                          (fields.empty() ? "" : "," + fields) + "}");
  }
  return env;
}

Binding* BindingTable::route(std::uint32_t target) const {
  if (target < kFirstTarget || target - kFirstTarget >= bindings_.size()) return nullptr;
  return bindings_[target - kFirstTarget].get();
}

js::CallReply BindingTable::call(sim::Task& task, const js::CallRequest& request) {
  Binding* b = route(request.target);
  if (b == nullptr) {
    return js::CallReply::failure("Error", "no binding " + std::to_string(request.target));
  }
  return guarded(request, [&] { return b->call(task, request); });
}

js::CallReply BindingTable::call_sync(const js::CallRequest& request) {
  Binding* b = route(request.target);
  if (b == nullptr) {
    return js::CallReply::failure("Error", "no binding " + std::to_string(request.target));
  }
  return guarded(request, [&] { return b->call_sync(request); });
}

}  // namespace bindings
