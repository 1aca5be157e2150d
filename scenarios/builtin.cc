#include <algorithm>

#include "scenarios/scenario.h"

namespace scenarios {

std::unique_ptr<ScenarioRun> make_pingpong(bool synced, sim::Time quiet_at);

const char* verdict_name(PropertyResult::Verdict v) {
  switch (v) {
    case PropertyResult::Verdict::kOk:
      return "ok";
    case PropertyResult::Verdict::kViolated:
      return "violated";
    case PropertyResult::Verdict::kUnknown:
      return "unknown";
  }
  return "?";
}

const std::vector<ScenarioInfo>& builtin_scenarios() {
  static const std::vector<ScenarioInfo> all = [] {
    std::vector<ScenarioInfo> v;
    ScenarioInfo pp;
    pp.name = "pingpong";
    pp.summary = "5 PoPs ping each other over RPC; each ping is logged in SQLite before its ack";
    pp.expected = "pass";
    pp.default_faults = "swarm";  // the kernel demo: the seed draws the faults
    pp.make = [q = pp.quiet_after] { return make_pingpong(true, q); };
    v.push_back(pp);
    ScenarioInfo bad = pp;
    bad.name = "pingpong-unsynced";
    bad.summary = "the same, but the ledger never syncs: a crash loses acknowledged pings";
    bad.expected = "acked-pings-durable";
    bad.make = [q = bad.quiet_after] { return make_pingpong(false, q); };
    v.push_back(bad);
    std::sort(v.begin(), v.end(),
              [](const ScenarioInfo& a, const ScenarioInfo& b) { return a.name < b.name; });
    return v;
  }();
  return all;
}

const ScenarioInfo* find_builtin(const std::string& name) {
  for (const auto& s : builtin_scenarios()) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

}  // namespace scenarios
