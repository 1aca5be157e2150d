// The bindings of one Worker on one node (its env.* services) and the route table their calls
// take: bindings::BindingTable is the Worker's runtime::Services. Each binding gets a target
// number when it is added; JS carries it in every call (js::CallRequest::target), so routing is an
// index, not a name to parse.
//
// A binding is one file pair per service in this folder: the C++ half (a Binding: what serves its
// calls, and the descriptor JS builds its object from) and the JS half (the binding type's class,
// registered in the prelude's internal.bindingTypes: do_binding.js, kv_binding.js, ...).
//
// Single-threaded; call() suspends (it runs on a task of the Worker's node).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "platform/js/engine.h"
#include "platform/runtime/worker.h"

namespace bindings {

// The bindings' JS halves (do_binding.js, kv_binding.js, service_binding.js), embedded at build
// time: extensions for js::Engine (platform/engine_setup.h).
std::vector<js::Extension> js_extensions();

class Binding {
 public:
  virtual ~Binding() = default;
  // The binding type JS makes the object from (a key of internal.bindingTypes).
  virtual std::string type() const = 0;
  // More fields of the descriptor, as a JSON object's members ("\"class_name\":\"Counter\""), or
  // "" for none. The table adds "type" and "target".
  virtual std::string descriptor_fields() const { return ""; }
  // A call from JS (host.call). Suspends. Throws TaskCancelled.
  virtual js::CallReply call(sim::Task& task, const js::CallRequest& request) = 0;
  // A call that must answer at once (host.callSync).
  virtual js::CallReply call_sync(const js::CallRequest& request) {
    return js::CallReply::failure("TypeError", "this binding has no synchronous methods");
  }
};

class BindingTable final : public runtime::Services {
 public:
  // Targets below this are the invocation's own services (a Durable Object's storage, ...).
  static constexpr std::uint32_t kFirstTarget = 16;

  // REQUIRES: `name` is not bound yet.
  void add(std::string name, std::unique_ptr<Binding> binding);
  // A binding that is not in env (the platform's own JS reaches it by its target). Returns the
  // target.
  std::uint32_t add_hidden(std::unique_ptr<Binding> binding);
  // The env entries of the bindings: descriptors with their targets (merge them with the vars).
  std::map<std::string, js::BindingValue> env() const;

  js::CallReply call(sim::Task& task, const js::CallRequest& request) override;
  js::CallReply call_sync(const js::CallRequest& request) override;

 private:
  // The binding a target routes to, or nullptr.
  Binding* route(std::uint32_t target) const;

  std::vector<std::unique_ptr<Binding>> bindings_;  // index: target - kFirstTarget
  std::map<std::string, std::uint32_t> names_;      // binding name -> target
};

}  // namespace bindings
