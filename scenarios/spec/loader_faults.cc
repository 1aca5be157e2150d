// What a run perturbs: the fault plan (a profile, a schedule written inline, or a schedule file,
// parsed here so that a bad plan fails at load) and the knobs of the platform. For both, the
// selected variant's replace or override the scenario's.

#include <string>

#include "scenarios/spec/loader_internal.h"
#include "scenarios/spec/util.h"
#include "sim/faults.h"

namespace scenarios::spec::loader_internal {

void resolve_fault_plan(Resolution& r, const Loc& loc, const pb::Faults& f, FaultSpec* out) {
  switch (f.plan_case()) {
    case pb::Faults::PLAN_NOT_SET:
      out->mode = sim::FaultPlan::Mode::kNone;
      break;
    case pb::Faults::kProfile:
      if (f.profile() == "none") {
        out->mode = sim::FaultPlan::Mode::kNone;
      } else if (f.profile() == "swarm") {
        out->mode = sim::FaultPlan::Mode::kSwarm;
      } else {
        r.errors.at(loc("profile"), "expected \"none\" or \"swarm\", got " + quote(f.profile()) +
                                        " (an explicit plan goes in `schedule` or "
                                        "`schedule_file`)");
      }
      break;
    case pb::Faults::kSchedule: {
      out->mode = sim::FaultPlan::Mode::kSchedule;
      out->plan = f.schedule();
      out->source = loc("schedule").where();
      auto plan = sim::FaultPlan::parse(out->plan, loc("schedule").path());
      if (!plan.ok()) r.errors.add(out->source + ": " + plan.error().message);
      break;
    }
    case pb::Faults::kScheduleFile: {
      out->mode = sim::FaultPlan::Mode::kSchedule;
      const std::string path = file_ref(r, loc("schedule_file"), f.schedule_file(), "file");
      if (path.empty()) break;
      out->plan = r.files.at(path);
      out->source = display(r, path);
      auto plan = sim::FaultPlan::parse(out->plan, out->source);
      if (!plan.ok()) r.errors.add(plan.error().message);
      break;
    }
  }
}

void resolve_faults(Resolution& r) {
  FaultSpec base;
  resolve_fault_plan(r, r.root("faults"), r.spec.faults(), &base);
  r.out.faults = base;
  if (r.variant != nullptr && r.variant->has_faults()) {
    FaultSpec v;
    resolve_fault_plan(r, (*r.variant_loc)("faults"), r.variant->faults(), &v);
    r.out.faults = v;
  }
}

namespace {
// Where each knob of `es` is written, for the errors the platform finds in it later.
void note_knob_places(const Loc& loc, const google::protobuf::RepeatedPtrField<pb::Entry>& es,
                      std::map<std::string, std::string>* where) {
  for (int i = 0; i < es.size(); ++i) (*where)[es[i].key()] = loc("knobs", i).where();
}
}  // namespace

void resolve_knobs(Resolution& r) {
  r.out.knobs = entries(r, r.root, "knobs", r.spec.knobs(), true);
  note_knob_places(r.root, r.spec.knobs(), &r.out.knob_where);
  if (r.variant != nullptr) {
    for (auto& [k, v] : entries(r, *r.variant_loc, "knobs", r.variant->knobs(), true)) {
      r.out.knobs[k] = v;
    }
    note_knob_places(*r.variant_loc, r.variant->knobs(), &r.out.knob_where);
  }
}

}  // namespace scenarios::spec::loader_internal
