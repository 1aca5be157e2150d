#include "props/workflow_replay.h"

#include <algorithm>
#include <map>
#include <utility>

namespace props {
namespace {

std::string quote(const std::string& s) {
  constexpr std::size_t kShownBytesMax = 80;
  if (s.size() <= kShownBytesMax) return "\"" + s + "\"";
  return "\"" + s.substr(0, kShownBytesMax) + "...\" (" + std::to_string(s.size()) + " bytes)";
}

std::string sequence(const std::vector<std::string>& steps, std::size_t upto) {
  std::string out = "[";
  for (std::size_t i = 0; i < steps.size() && i < upto; ++i) {
    if (i > 0) out += ", ";
    out += steps[i];
  }
  if (steps.size() > upto) out += ", ...";
  return out + "]";
}

}  // namespace

const char* step_event_kind_name(StepEventKind k) {
  switch (k) {
    case StepEventKind::kStart:
      return "start";
    case StepEventKind::kSuccess:
      return "success";
    case StepEventKind::kFailure:
      return "failure";
    case StepEventKind::kCachedReturn:
      return "cached-return";
  }
  return "?";
}

WorkflowReplayResult check_workflow_replay(const WorkflowReplayInput& input) {
  WorkflowReplayResult r;
  std::vector<std::string> violations;
  std::vector<std::string> notes;
  auto add = [&](std::vector<std::string>& to, std::string text) {
    if (to.size() < input.examples_max) to.push_back(std::move(text));
  };

  for (const WorkflowInstance& inst : input.instances) {
    ++r.instances;
    r.runs += inst.runs.size();
    const std::string who = "workflow " + inst.instance_id;

    // 1. Once persisted, never again.
    std::vector<const WorkflowStepEvent*> events;
    for (const WorkflowStepEvent& e : inst.events) events.push_back(&e);
    std::stable_sort(
        events.begin(), events.end(),
        [](const WorkflowStepEvent* a, const WorkflowStepEvent* b) { return a->time < b->time; });
    std::map<std::string, const WorkflowStepEvent*> persisted;
    for (const WorkflowStepEvent* e : events) {
      auto it = persisted.find(e->step);
      const WorkflowStepEvent* p = it == persisted.end() ? nullptr : it->second;
      switch (e->kind) {
        case StepEventKind::kStart:
        case StepEventKind::kSuccess:
          if (p != nullptr) {
            ++r.steps_reexecuted;
            add(violations,
                who + ": step " + e->step + " " +
                    (e->kind == StepEventKind::kStart ? "ran again" : "succeeded again") +
                    " in run " + std::to_string(e->run) + " at " + sim::format_time(e->time) +
                    ", after its result " + quote(p->result) + " was persisted in run " +
                    std::to_string(p->run) + " at " + sim::format_time(p->time));
          } else if (e->kind == StepEventKind::kSuccess) {
            persisted.emplace(e->step, e);
          }
          break;
        case StepEventKind::kFailure:
          break;
        case StepEventKind::kCachedReturn:
          if (p == nullptr) {
            ++r.cache_mismatches;
            add(violations, who + ": run " + std::to_string(e->run) + " got a cached result " +
                                quote(e->result) + " for step " + e->step + " at " +
                                sim::format_time(e->time) + ", but no result had been persisted");
          } else if (p->result != e->result) {
            ++r.cache_mismatches;
            add(violations, who + ": run " + std::to_string(e->run) + " got " + quote(e->result) +
                                " back for step " + e->step + " at " + sim::format_time(e->time) +
                                ", but " + quote(p->result) + " was persisted");
          }
          break;
      }
    }

    // 2. Deterministic replay.
    std::size_t longest = 0;
    for (std::size_t k = 1; k < inst.runs.size(); ++k) {
      if (inst.runs[k].size() > inst.runs[longest].size()) longest = k;
    }
    for (std::size_t k = 0; k < inst.runs.size(); ++k) {
      const std::vector<std::string>& a = inst.runs[k];
      const std::vector<std::string>& b = inst.runs[longest];
      auto [ai, bi] = std::mismatch(a.begin(), a.end(), b.begin(), b.end());
      if (ai == a.end()) continue;
      ++r.divergent_runs;
      std::size_t at = static_cast<std::size_t>(ai - a.begin());
      add(violations, who + ": run " + std::to_string(k) + " diverged at step " +
                          std::to_string(at) + ": it ran " + *ai + " where run " +
                          std::to_string(longest) + " ran " + *bi + " (run " + std::to_string(k) +
                          ": " + sequence(a, at + 2) + ", run " + std::to_string(longest) + ": " +
                          sequence(b, at + 2) + "); replays must be deterministic");
    }

    // 3. Same result as without faults.
    if (!inst.final_output.has_value()) {
      ++r.unfinished;
      add(notes, who + " did not finish");
    } else if (!inst.reference_output.has_value()) {
      ++r.unreferenced;
      add(notes, who + ": no reference output; the final output was not compared");
    } else if (*inst.final_output != *inst.reference_output) {
      ++r.output_mismatches;
      add(violations, who + " finished with " + quote(*inst.final_output) +
                          ", but the fault-free run gave " + quote(*inst.reference_output));
    }
  }
  bool violated = r.steps_reexecuted > 0 || r.cache_mismatches > 0 || r.divergent_runs > 0 ||
                  r.output_mismatches > 0;
  r.verdict = violated ? Verdict::kViolated : r.unfinished > 0 ? Verdict::kUnknown : Verdict::kOk;
  r.findings = std::move(violations);
  r.findings.insert(r.findings.end(), notes.begin(), notes.end());
  return r;
}

std::string WorkflowReplayResult::report() const {
  std::string out = std::string("workflow replay: ") + verdict_name(verdict) + "\n";
  out += "  instances " + std::to_string(instances) + ", runs " + std::to_string(runs) +
         ", steps re-executed " + std::to_string(steps_reexecuted) + ", cache mismatches " +
         std::to_string(cache_mismatches) + ", divergent runs " + std::to_string(divergent_runs) +
         ", output mismatches " + std::to_string(output_mismatches) + ", unfinished " +
         std::to_string(unfinished) + "\n";
  for (const std::string& f : findings) out += "  " + f + "\n";
  return out;
}

}  // namespace props
