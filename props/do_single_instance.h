// Durable Object single instance: no two live instances of one object id both commit storage.
//
// Input: activations (object id, instance id, host, epoch, start time) and storage commits
// (object id, instance id, epoch, time). The directory hands out epochs; a new instance of an id
// gets a higher epoch than the one it replaces, and storage is meant to refuse an older epoch
// once a newer one committed (fencing).
//
// The property, per object id, over its commits in time order (ties keep input order):
//   - epochs never go backwards: a commit from epoch e after some instance committed with an
//     epoch newer than e is a split-brain violation (the old instance was still writing after
//     its successor took over);
//   - one epoch, one instance: two distinct instances committing with the same epoch is a
//     violation (the directory handed the same epoch out twice, or fencing compared the wrong
//     thing).
// Also reported (not violations by themselves; a warning in `findings`): commits from an
// instance with no recorded activation, or whose epoch differs from its activation's.
//
// Pure function of the input.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "props/verdict.h"
#include "sim/time.h"

namespace props {

struct DoActivation {
  std::string object_id;
  std::string instance_id;
  std::string host;
  std::uint64_t epoch = 0;
  sim::Time time = 0;  // when the instance started
};

struct DoCommit {
  std::string object_id;
  std::string instance_id;
  std::uint64_t epoch = 0;
  sim::Time time = 0;
};

struct DoSingleInstanceInput {
  std::vector<DoActivation> activations;
  std::vector<DoCommit> commits;
  std::size_t examples_max = 10;
};

struct DoSingleInstanceResult {
  Verdict verdict = Verdict::kOk;
  std::size_t objects = 0;  // object ids with at least one commit
  std::size_t commits = 0;
  std::size_t activations = 0;
  std::size_t stale_epoch_commits = 0;   // commits after a newer epoch committed
  std::size_t shared_epoch_commits = 0;  // commits by a second instance in one epoch
  std::size_t unknown_instance_commits = 0;
  std::vector<std::string> split_brain_objects;  // object ids with a violation, sorted
  // Plain language, violations first, e.g. "object counter-7: instance i2 (host lhr-2, epoch 3,
  // activated at 10.000000s) committed storage at 12.500000s after instance i3 (host iad-1,
  // epoch 4) had committed at 12.100000s: both were live and wrote (split brain)".
  std::vector<std::string> findings;

  std::string report() const;
};

DoSingleInstanceResult check_do_single_instance(const DoSingleInstanceInput& input);

}  // namespace props
