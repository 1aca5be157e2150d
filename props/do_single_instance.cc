#include "props/do_single_instance.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "sim/assert.h"

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

class SingleInstanceCheck {
 public:
  explicit SingleInstanceCheck(const DoSingleInstanceInput& input) : input_(input) {}

  DoSingleInstanceResult run();

 private:
  // Checks the commits of the object of commits[*i], in time order, and moves *i past them.
  void check_object(const std::vector<const DoCommit*>& commits, std::size_t* i);
  // Warns once per instance whose commit does not match its recorded activation.
  void check_activation(const std::string& object, const DoCommit& c,
                        std::set<std::string>* warned);
  void add(std::vector<std::string>& to, std::string text) {
    if (to.size() < input_.examples_max) to.push_back(std::move(text));
  }

  const DoSingleInstanceInput& input_;
  DoSingleInstanceResult r_;
  std::map<InstanceKey, const DoActivation*> acts_;  // the first activation of each instance
  std::vector<std::string> violations_;
  std::vector<std::string> warnings_;
  std::set<std::string> bad_;  // objects with a violation
};

DoSingleInstanceResult SingleInstanceCheck::run() {
  r_.activations = input_.activations.size();
  for (const DoActivation& a : input_.activations) {
    acts_.try_emplace({a.object_id, a.instance_id}, &a);
  }
  std::vector<const DoCommit*> commits;
  for (const DoCommit& c : input_.commits) commits.push_back(&c);
  std::stable_sort(commits.begin(), commits.end(), [](const DoCommit* a, const DoCommit* b) {
    return a->object_id != b->object_id ? a->object_id < b->object_id : a->time < b->time;
  });
  r_.commits = commits.size();
  std::size_t i = 0;
  while (i < commits.size()) check_object(commits, &i);
  SIM_ASSERT(r_.objects <= r_.commits);
  SIM_ASSERT(bad_.size() <= r_.objects);
  r_.split_brain_objects.assign(bad_.begin(), bad_.end());
  r_.verdict = bad_.empty() ? Verdict::kOk : Verdict::kViolated;
  r_.findings = std::move(violations_);
  r_.findings.insert(r_.findings.end(), warnings_.begin(), warnings_.end());
  return std::move(r_);
}

void SingleInstanceCheck::check_object(const std::vector<const DoCommit*>& commits,
                                       std::size_t* i) {
  const std::string& object = commits[*i]->object_id;
  // Objects come in increasing order, so each one is checked once, over all its commits.
  SIM_ASSERT(*i == 0 || commits[*i - 1]->object_id < object);
  ++r_.objects;
  const DoCommit* newest = nullptr;                      // the commit with the highest epoch so far
  std::map<std::uint64_t, const DoCommit*> epoch_owner;  // epoch -> first committing instance
  std::set<std::string> warned;
  for (; *i < commits.size() && commits[*i]->object_id == object; ++*i) {
    const DoCommit& c = *commits[*i];
    // In time order within the object: "after" below means later.
    SIM_ASSERT(newest == nullptr || commits[*i - 1]->time <= c.time);
    InstanceKey k{object, c.instance_id};
    check_activation(object, c, &warned);
    if (newest != nullptr && c.epoch < newest->epoch) {
      ++r_.stale_epoch_commits;
      bad_.insert(object);
      add(violations_, "object " + object + ": " + who(k, acts_, c.epoch) +
                           " committed storage at " + sim::format_time(c.time) + " after " +
                           who({object, newest->instance_id}, acts_, newest->epoch) +
                           " had committed at " + sim::format_time(newest->time) +
                           ": both were live and wrote (split brain); the older instance "
                           "should have been fenced off");
    }
    auto [owner, first] = epoch_owner.try_emplace(c.epoch, &c);
    if (!first && owner->second->instance_id != c.instance_id) {
      ++r_.shared_epoch_commits;
      bad_.insert(object);
      add(violations_, "object " + object + ": " + who(k, acts_, c.epoch) +
                           " committed storage at " + sim::format_time(c.time) + ", and " +
                           who({object, owner->second->instance_id}, acts_, c.epoch) +
                           " had committed in the same epoch at " +
                           sim::format_time(owner->second->time) +
                           ": two instances shared one epoch (split brain)");
    }
    if (newest == nullptr || c.epoch > newest->epoch) newest = &c;
  }
}

void SingleInstanceCheck::check_activation(const std::string& object, const DoCommit& c,
                                           std::set<std::string>* warned) {
  auto act = acts_.find({object, c.instance_id});
  if (act != acts_.end() && act->second->epoch == c.epoch) return;
  ++r_.unknown_instance_commits;
  if (!warned->insert(c.instance_id).second) return;
  add(warnings_, "object " + object + ": instance " + c.instance_id + " committed with epoch " +
                     std::to_string(c.epoch) +
                     (act == acts_.end()
                          ? std::string(" but its activation was not recorded")
                          : " but was activated with epoch " + std::to_string(act->second->epoch)));
}

}  // namespace

DoSingleInstanceResult check_do_single_instance(const DoSingleInstanceInput& input) {
  return SingleInstanceCheck(input).run();
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
