// Fuzz target: the fault plan parser (--faults, `schedule`, `schedule_file`, a trace's plan).
// A plan parses to actions whose text parses again to the same plan, or is refused with the
// source and line; never a crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sim/faults.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto plan = sim::FaultPlan::parse(text, "plan.txt");
  if (!plan.ok()) {
    if (plan.error().message.rfind("plan.txt:", 0) != 0) std::abort();
    return 0;
  }
  auto again = sim::FaultPlan::parse(plan->text(), "plan.txt");
  if (!again.ok() || again->actions().size() != plan->actions().size()) std::abort();
  return 0;
}
