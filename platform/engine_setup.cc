#include "platform/engine_setup.h"

#include "platform/bindings/binding_table.h"
#include "platform/objects/object_host.h"
#include "platform/runtime/worker.h"

namespace platform {

std::vector<js::Extension> js_extensions() {
  std::vector<js::Extension> all;
  for (auto part : {runtime::js_extensions, objects::js_extensions, bindings::js_extensions}) {
    for (js::Extension& e : part()) all.push_back(std::move(e));
  }
  return all;
}

void init_engine(js::EngineOptions options) {
  options.extensions = js_extensions();
  js::Engine::init(options);
}

}  // namespace platform
