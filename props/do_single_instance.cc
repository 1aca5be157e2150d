#include "props/do_single_instance.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

namespace props {
namespace {

using InstanceKey = std::pair<std::string, std::string>;  // (object id, instance id)

std::string who(const InstanceKey& k, const std::map<InstanceKey, const DoActivation*>& acts,
                std::uint64_t epoch) {
  auto it = acts.find(k);
  std::string s = "instance " + k.second + " (";
  if (it != acts.end()) s += "host " + it->second->host + ", ";
  s += "epoch " + std::to_string(epoch);
  if (it != acts.end()) s += ", activated at " + sim::format_time(it->second->time);
  return s + ")";
}

}  // namespace

DoSingleInstanceResult check_do_single_instance(const DoSingleInstanceInput& input) {
  DoSingleInstanceResult r;
  r.activations = input.activations.size();
  std::map<InstanceKey, const DoActivation*> acts;
  for (const DoActivation& a : input.activations) {
    acts.try_emplace({a.object_id, a.instance_id}, &a);
  }
  std::vector<const DoCommit*> commits;
  for (const DoCommit& c : input.commits) commits.push_back(&c);
  std::stable_sort(commits.begin(), commits.end(), [](const DoCommit* a, const DoCommit* b) {
    return a->object_id != b->object_id ? a->object_id < b->object_id : a->time < b->time;
  });
  r.commits = commits.size();

  std::vector<std::string> violations;
  std::vector<std::string> warnings;
  auto add = [&](std::vector<std::string>& to, std::string text) {
    if (to.size() < input.examples_max) to.push_back(std::move(text));
  };
  std::set<std::string> bad;
  std::size_t i = 0;
  while (i < commits.size()) {
    const std::string& object = commits[i]->object_id;
    ++r.objects;
    const DoCommit* newest = nullptr;  // the commit with the highest epoch so far
    std::map<std::uint64_t, const DoCommit*> epoch_owner;  // epoch -> first committing instance
    std::set<std::string> warned;
    for (; i < commits.size() && commits[i]->object_id == object; ++i) {
      const DoCommit& c = *commits[i];
      InstanceKey k{object, c.instance_id};
      auto act = acts.find(k);
      if (act == acts.end() || act->second->epoch != c.epoch) {
        ++r.unknown_instance_commits;
        if (warned.insert(c.instance_id).second) {
          add(warnings, "object " + object + ": instance " + c.instance_id +
                            " committed with epoch " + std::to_string(c.epoch) +
                            (act == acts.end() ? std::string(" but its activation was not recorded")
                                               : " but was activated with epoch " +
                                                     std::to_string(act->second->epoch)));
        }
      }
      if (newest != nullptr && c.epoch < newest->epoch) {
        ++r.stale_epoch_commits;
        bad.insert(object);
        add(violations, "object " + object + ": " + who(k, acts, c.epoch) +
                            " committed storage at " + sim::format_time(c.time) + " after " +
                            who({object, newest->instance_id}, acts, newest->epoch) +
                            " had committed at " + sim::format_time(newest->time) +
                            ": both were live and wrote (split brain); the older instance "
                            "should have been fenced off");
      }
      auto [owner, first] = epoch_owner.try_emplace(c.epoch, &c);
      if (!first && owner->second->instance_id != c.instance_id) {
        ++r.shared_epoch_commits;
        bad.insert(object);
        add(violations, "object " + object + ": " + who(k, acts, c.epoch) +
                            " committed storage at " + sim::format_time(c.time) + ", and " +
                            who({object, owner->second->instance_id}, acts, c.epoch) +
                            " had committed in the same epoch at " +
                            sim::format_time(owner->second->time) +
                            ": two instances shared one epoch (split brain)");
      }
      if (newest == nullptr || c.epoch > newest->epoch) newest = &c;
    }
  }
  r.split_brain_objects.assign(bad.begin(), bad.end());
  r.verdict = bad.empty() ? Verdict::kOk : Verdict::kViolated;
  r.findings = std::move(violations);
  r.findings.insert(r.findings.end(), warnings.begin(), warnings.end());
  return r;
}

std::string DoSingleInstanceResult::report() const {
  std::string out = std::string("do single instance: ") + verdict_name(verdict) + "\n";
  out += "  objects " + std::to_string(objects) + ", commits " + std::to_string(commits) +
         ", activations " + std::to_string(activations) + ", stale-epoch commits " +
         std::to_string(stale_epoch_commits) + ", shared-epoch commits " +
         std::to_string(shared_epoch_commits) + ", commits by unrecorded instances " +
         std::to_string(unknown_instance_commits) + "\n";
  for (const std::string& f : findings) out += "  " + f + "\n";
  return out;
}

}  // namespace props
