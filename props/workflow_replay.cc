#include "props/workflow_replay.h"

#include <algorithm>
#include <map>
#include <utility>

#include "sim/assert.h"

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

namespace {

// The three checks of the header, instance by instance.
class ReplayCheck {
 public:
  explicit ReplayCheck(const WorkflowReplayInput& input) : input_(input) {}

  WorkflowReplayResult run();

 private:
  void check_persisted_once(const WorkflowInstance& inst, const std::string& who);
  // One event of a step whose persisted success, if any, is `p`.
  void check_step_event(const WorkflowStepEvent& e, const WorkflowStepEvent* p,
                        const std::string& who);
  void check_deterministic_replay(const WorkflowInstance& inst, const std::string& who);
  void check_same_result(const WorkflowInstance& inst, const std::string& who);
  void add(std::vector<std::string>& to, std::string text) {
    if (to.size() < input_.examples_max) to.push_back(std::move(text));
  }

  const WorkflowReplayInput& input_;
  WorkflowReplayResult r_;
  std::vector<std::string> violations_;
  std::vector<std::string> notes_;
};

WorkflowReplayResult ReplayCheck::run() {
  for (const WorkflowInstance& inst : input_.instances) {
    ++r_.instances;
    r_.runs += inst.runs.size();
    const std::string who = "workflow " + inst.instance_id;
    check_persisted_once(inst, who);
    check_deterministic_replay(inst, who);
    check_same_result(inst, who);
  }
  bool violated = r_.steps_reexecuted > 0 || r_.cache_mismatches > 0 || r_.divergent_runs > 0 ||
                  r_.output_mismatches > 0;
  r_.verdict = violated ? Verdict::kViolated : r_.unfinished > 0 ? Verdict::kUnknown : Verdict::kOk;
  r_.findings = std::move(violations_);
  r_.findings.insert(r_.findings.end(), notes_.begin(), notes_.end());
  return std::move(r_);
}

// 1. Once persisted, never again.
void ReplayCheck::check_persisted_once(const WorkflowInstance& inst, const std::string& who) {
  std::vector<const WorkflowStepEvent*> events;
  for (const WorkflowStepEvent& e : inst.events) events.push_back(&e);
  std::stable_sort(
      events.begin(), events.end(),
      [](const WorkflowStepEvent* a, const WorkflowStepEvent* b) { return a->time < b->time; });
  std::map<std::string, const WorkflowStepEvent*> persisted;
  for (const WorkflowStepEvent* e : events) {
    auto it = persisted.find(e->step);
    const WorkflowStepEvent* p = it == persisted.end() ? nullptr : it->second;
    check_step_event(*e, p, who);
    if (p == nullptr && e->kind == StepEventKind::kSuccess) persisted.emplace(e->step, e);
  }
}

void ReplayCheck::check_step_event(const WorkflowStepEvent& e, const WorkflowStepEvent* p,
                                   const std::string& who) {
  switch (e.kind) {
    case StepEventKind::kStart:
    case StepEventKind::kSuccess:
      if (p == nullptr) return;
      ++r_.steps_reexecuted;
      add(violations_, who + ": step " + e.step + " " +
                           (e.kind == StepEventKind::kStart ? "ran again" : "succeeded again") +
                           " in run " + std::to_string(e.run) + " at " + sim::format_time(e.time) +
                           ", after its result " + quote(p->result) + " was persisted in run " +
                           std::to_string(p->run) + " at " + sim::format_time(p->time));
      return;
    case StepEventKind::kFailure:
      return;
    case StepEventKind::kCachedReturn:
      if (p == nullptr) {
        ++r_.cache_mismatches;
        add(violations_, who + ": run " + std::to_string(e.run) + " got a cached result " +
                             quote(e.result) + " for step " + e.step + " at " +
                             sim::format_time(e.time) + ", but no result had been persisted");
      } else if (p->result != e.result) {
        ++r_.cache_mismatches;
        add(violations_, who + ": run " + std::to_string(e.run) + " got " + quote(e.result) +
                             " back for step " + e.step + " at " + sim::format_time(e.time) +
                             ", but " + quote(p->result) + " was persisted");
      }
      return;
  }
}

// 2. Deterministic replay: every run is a prefix of the first longest one.
void ReplayCheck::check_deterministic_replay(const WorkflowInstance& inst, const std::string& who) {
  std::size_t longest = 0;
  for (std::size_t k = 1; k < inst.runs.size(); ++k) {
    if (inst.runs[k].size() > inst.runs[longest].size()) longest = k;
  }
  for (std::size_t k = 0; k < inst.runs.size(); ++k) {
    const std::vector<std::string>& a = inst.runs[k];
    const std::vector<std::string>& b = inst.runs[longest];
    SIM_ASSERT(a.size() <= b.size());
    auto [ai, bi] = std::mismatch(a.begin(), a.end(), b.begin(), b.end());
    if (ai == a.end()) continue;
    // No run is longer than b, so where a diverges b has a step too.
    SIM_ASSERT(bi != b.end());
    ++r_.divergent_runs;
    std::size_t at = static_cast<std::size_t>(ai - a.begin());
    add(violations_, who + ": run " + std::to_string(k) + " diverged at step " +
                         std::to_string(at) + ": it ran " + *ai + " where run " +
                         std::to_string(longest) + " ran " + *bi + " (run " + std::to_string(k) +
                         ": " + sequence(a, at + 2) + ", run " + std::to_string(longest) + ": " +
                         sequence(b, at + 2) + "); replays must be deterministic");
  }
}

// 3. Same result as without faults.
void ReplayCheck::check_same_result(const WorkflowInstance& inst, const std::string& who) {
  if (!inst.final_output.has_value()) {
    ++r_.unfinished;
    add(notes_, who + " did not finish");
  } else if (!inst.reference_output.has_value()) {
    ++r_.unreferenced;
    add(notes_, who + ": no reference output; the final output was not compared");
  } else if (*inst.final_output != *inst.reference_output) {
    ++r_.output_mismatches;
    add(violations_, who + " finished with " + quote(*inst.final_output) +
                         ", but the fault-free run gave " + quote(*inst.reference_output));
  }
}

}  // namespace

WorkflowReplayResult check_workflow_replay(const WorkflowReplayInput& input) {
  return ReplayCheck(input).run();
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

namespace props {

WorkflowLivenessResult check_workflow_liveness(const WorkflowHistory& history, sim::Time quiet,
                                               sim::Duration within, sim::Time end,
                                               std::size_t examples_max) {
  WorkflowLivenessResult r;
  for (const auto& [label, rec] : history.instances) {
    ++r.instances;
    const sim::Time deadline = std::max(rec.created, quiet) + within;
    if (rec.finished.has_value() && *rec.finished <= deadline) {
      ++r.finished;
      continue;
    }
    if (!rec.finished.has_value() && rec.status == "paused") {
      ++r.paused;  // a user's pause is not the platform's failure to make progress
      continue;
    }
    const std::string who = "workflow " + label + " (created at " + sim::format_time(rec.created) +
                            ", " + (rec.status.empty() ? "no status" : rec.status) + ")";
    if (rec.finished.has_value() || deadline <= end) {
      ++r.late;
      if (r.findings.size() < examples_max) {
        r.findings.push_back(who + " was not finished by " + sim::format_time(deadline) +
                             (rec.finished ? ", it finished at " + sim::format_time(*rec.finished)
                                           : ", and never finished"));
      }
    } else {
      ++r.undecided;
      if (r.findings.size() < examples_max) {
        r.findings.push_back(who + " had not finished when the run ended at " +
                             sim::format_time(end) + ", before its deadline " +
                             sim::format_time(deadline));
      }
    }
  }
  r.verdict = r.late > 0 ? Verdict::kViolated : r.undecided > 0 ? Verdict::kUnknown : Verdict::kOk;
  return r;
}

std::string WorkflowLivenessResult::report() const {
  std::string out = std::string("workflow liveness: ") + verdict_name(verdict) + "\n";
  out += "  instances " + std::to_string(instances) + ", finished in time " +
         std::to_string(finished) + ", late " + std::to_string(late) + ", undecided " +
         std::to_string(undecided) + ", paused " + std::to_string(paused) + "\n";
  for (const std::string& f : findings) out += "  " + f + "\n";
  return out;
}

}  // namespace props
