// scenarios::JsModel: a sequential specification for the linearizability checker written in JS
// (a scenario's property `model: "js:models/queue.js"`). The module exports
//   init()                -> the initial state (any JSON value)
//   step(state, op)       -> {state, output} (op: {kind, key, input, output}), or
//                            {legal: false} when the operation cannot happen in that state
//   readOnly(op)          -> optional: true when step() never changes the state for op
// and runs in an isolate of its own, outside any simulated world (a model is a pure function).
// States are the JSON texts of the values; an output that is not a string is compared as JSON
// text ("7" for 7). An exception in step() makes the operation illegal there. A call that exceeds
// the model's CPU (1 s) or heap limit is a failure of the model: failure() says which file and
// function, every later call answers "illegal" without running, and the scenario is bad input.
#pragma once

#include <memory>
#include <string>

#include "platform/js/isolate.h"
#include "props/models.h"
#include "sim/result.h"
#include "sim/world.h"

namespace scenarios {

class JsModel final : public props::Model {
 public:
  // Loads `main` of `modules`. Errors: a module that does not load (file:line), or no init/step.
  static sim::Result<std::unique_ptr<JsModel>> load(const js::ModuleMap& modules,
                                                    const std::string& main);
  ~JsModel() override;

  std::string name() const override { return "js:" + main_; }
  std::string init() const override { return init_; }
  props::StepResult step(const std::string& state, const sim::Operation& op) const override;
  bool read_only(const sim::Operation& op) const override;
  // Empty, or why the model stopped working ("models/q.js: step(): exceeded its CPU limit").
  const std::string& failure() const { return failure_; }

 private:
  struct Host;
  JsModel() = default;
  std::string main_;
  std::string init_;
  bool has_read_only_ = false;
  std::unique_ptr<Host> host_;
  std::unique_ptr<sim::World> world_;  // the isolate's clock: time 0, never advanced
  std::unique_ptr<js::Isolate> isolate_;
  // Set at the first call that left the isolate dead.
  mutable std::string failure_;
  // Calls `name` unless the model failed; records a failure that killed the isolate.
  sim::Result<std::string> call(std::string_view name, const std::vector<std::string>& args) const;
};

}  // namespace scenarios
