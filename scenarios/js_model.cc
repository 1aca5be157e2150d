#include "scenarios/js_model.h"

#include <nlohmann/json.hpp>

#include "platform/engine_setup.h"
#include "platform/js/engine.h"

namespace scenarios {

struct JsModel::Host final : js::NullIsolateHost {};

namespace {
std::string op_json(const sim::Operation& op) {
  return nlohmann::json{
      {"kind", op.kind}, {"key", op.key}, {"input", op.input}, {"output", op.output}}
      .dump();
}
}  // namespace

JsModel::~JsModel() = default;

sim::Result<std::unique_ptr<JsModel>> JsModel::load(const js::ModuleMap& modules,
                                                    const std::string& main) {
  platform::init_engine();
  std::unique_ptr<JsModel> m(new JsModel());
  m->main_ = main;
  m->host_ = std::make_unique<Host>();
  m->world_ = std::make_unique<sim::World>(0);
  js::IsolateConfig config;
  config.name = "model";
  config.cpu_max = sim::kSecond;
  m->isolate_ = js::Isolate::create(*m->world_, config, m->world_->rng("model"), m->host_.get());
  js::RunOutcome outcome = js::RunOutcome::kOk;
  sim::Status loaded = m->isolate_->load(modules, main, &outcome);
  if (!loaded.ok()) return loaded.error();
  sim::Result<std::string> init = m->call("init", {});
  if (!init.ok()) {
    if (!m->failure_.empty()) return sim::Error{sim::ErrorKind::kInvalid, m->failure_};
    return sim::Error{sim::ErrorKind::kInvalid, main + ": init(): " + init.error().message};
  }
  m->init_ = init.value();
  m->has_read_only_ = m->call("readOnly", {"{}"}).ok();
  if (!m->failure_.empty()) return sim::Error{sim::ErrorKind::kInvalid, m->failure_};
  return m;
}

sim::Result<std::string> JsModel::call(std::string_view name,
                                       const std::vector<std::string>& args) const {
  if (!failure_.empty()) return sim::Error{sim::ErrorKind::kInvalid, failure_};
  sim::Result<std::string> out = isolate_->call_export(name, args);
  if (isolate_->dead()) {
    failure_ = main_ + ": " + std::string(name) + "(): exceeded the model's CPU or memory limit (" +
               (out.ok() ? std::string("the isolate was terminated") : out.error().message) + ")";
    return sim::Error{sim::ErrorKind::kInvalid, failure_};
  }
  return out;
}

props::StepResult JsModel::step(const std::string& state, const sim::Operation& op) const {
  props::StepResult r;
  sim::Result<std::string> out = call("step", {state, op_json(op)});
  if (!out.ok()) {
    r.legal = false;
    return r;
  }
  const nlohmann::json j = nlohmann::json::parse(out.value(), nullptr, false);
  if (j.is_discarded() || !j.is_object() || (j.contains("legal") && j["legal"] == false)) {
    r.legal = false;
    return r;
  }
  r.state = j.contains("state") ? j["state"].dump() : "null";
  if (j.contains("output")) {
    r.output = j["output"].is_string() ? j["output"].get<std::string>() : j["output"].dump();
  }
  return r;
}

bool JsModel::read_only(const sim::Operation& op) const {
  if (!has_read_only_) return false;
  sim::Result<std::string> out = call("readOnly", {op_json(op)});
  return out.ok() && out.value() == "true";
}

}  // namespace scenarios
