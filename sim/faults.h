// Faults: what goes wrong, when. A plan is one of
// - none;
// - swarm: the seed picks which fault kinds are on and how often (swarm testing), and the run
//   prints that choice;
// - an explicit schedule, one action a line (or ';'-separated):
//     at 12.5s partition {lhr} | {iad,fra}     symmetric cut between two groups
//     at 3s partition {lhr} -> {iad}           one-way cut
//     at 1s isolate kv-1        at 20s heal
//     at 4s crash kv-1          at 9s restart kv-1
//     at 4s pause kv-1          at 5s resume kv-1
//     at 2s clog lhr 200ms for 10s
//     at 0s loss 0.05           (also: duplicate P, reorder P)
//     at 0s torn-writes on      (also: sites on|off, code-site faults)
//   '#' starts a comment.
// Faults fire only before the plan's quiet time (an action at or after it is skipped); then the
// injector heals the network, restarts what it crashed, resumes what it paused and resets the
// rates, so checkers can observe recovery. Every fault that fires is a trace event ("fault.*").
//
// Code-site faults (FoundationDB's BUGGIFY): `faults.fire("kv.slow_commit", 0.01)` in platform
// code. Each site is switched on or off once per run, by the seed and the site's name, and only
// when the plan enables sites (swarm does).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/event.h"
#include "sim/result.h"
#include "sim/rng.h"
#include "sim/time.h"

namespace edgesim::ev {
class Fault;
}

namespace sim {

class World;

struct FaultAction {
  enum class Op {
    kPartition,
    kPartitionOneWay,
    kIsolate,
    kHeal,
    kCrash,
    kRestart,
    kPause,
    kResume,
    kClog,
    kLoss,
    kDuplicate,
    kReorder,
    kTornWrites,
    kSites,
  };
  Time at = 0;
  Op op = Op::kHeal;
  std::vector<std::string> a, b;  // node names
  double value = 0;
  Duration extra = 0;
  Duration length = 0;
  int line = 0;
  std::string text;
};

struct SwarmProfile {
  bool partitions = false;
  bool crashes = false;
  bool pauses = false;
  bool clogs = false;
  bool loss = false;
  bool duplicate = false;
  bool reorder = false;
  bool torn_writes = false;
  bool sites = false;
  Duration partition_every = 0;  // mean time between faults of each kind
  Duration crash_every = 0;
  Duration pause_every = 0;
  Duration clog_every = 0;
  double loss_rate = 0;
  double duplicate_rate = 0;
  double reorder_rate = 0;

  static SwarmProfile draw(Rng& rng);
  std::string describe() const;
};

class FaultPlan {
 public:
  enum class Mode { kNone, kSwarm, kSchedule };

  static FaultPlan none() { return FaultPlan(Mode::kNone); }
  static FaultPlan swarm() { return FaultPlan(Mode::kSwarm); }
  // Parses a schedule. Errors name `source` and the line: "plan.txt:3: unknown action 'crsh'".
  static Result<FaultPlan> parse(std::string_view text, std::string_view source = "faults");
  // The CLI form: "none", "swarm", a path to a plan file (a regular file of at most
  // kFileBytesMax), or a plan text.
  static Result<FaultPlan> from_arg(std::string_view arg);
  static constexpr std::size_t kFileBytesMax = std::size_t{1} << 20;

  Mode mode() const { return mode_; }
  const std::vector<FaultAction>& actions() const { return actions_; }
  // The text as parsed, lines and comments kept (a trace stores it, and an action's line is part
  // of its events), so parse(text()) gives an equal plan. "none" and "swarm" for those modes.
  const std::string& text() const { return text_; }
  // The actions on one line, "at 1s crash x; at 2s restart x", for people.
  // Where the plan came from ("plan.txt", "x/scenario.textproto:12:3"); errors name it.
  const std::string& source() const { return source_; }
  const std::string& summary() const { return mode_ == Mode::kSchedule ? summary_ : text_; }

 private:
  explicit FaultPlan(Mode mode) : mode_(mode), text_(mode == Mode::kNone ? "none" : "swarm") {}
  Mode mode_;
  std::vector<FaultAction> actions_;
  std::string text_;
  std::string summary_;
  std::string source_;
};

class Faults {
 public:
  explicit Faults(World& world);

  // Installs a plan for this run. Swarm and scheduled faults fire before `quiet_at` only.
  // Fails (naming the plan line) when an action names an unknown node.
  Status install(const FaultPlan& plan, Time quiet_at);
  const std::optional<SwarmProfile>& swarm_profile() const { return swarm_; }
  // One line: "none", "swarm: partitions every ~8.200s, loss 1.20%", or the plan.
  std::string describe() const;

  // Code-site faults.
  bool fire(std::string_view site, double p);
  void set_sites_enabled(bool on) { sites_on_ = on; }
  bool sites_enabled() const { return sites_on_; }

  bool torn_writes() const { return torn_writes_; }
  void set_torn_writes(bool on) { torn_writes_ = on; }

  std::uint64_t fired() const { return fired_; }

 private:
  struct Site {
    bool enabled = false;
    Rng rng{0};
  };
  void schedule(const FaultAction& action, const std::string& source);
  void apply(const FaultAction& action, const std::string& source);
  void arm_swarm(const char* kind, Duration every);
  void swarm_fault(const std::string& kind);
  void quiet();
  std::vector<NodeId> faultable_up() const;
  // Counts a fault and emits it as the Body field `kind` (&ev::Body::mutable_fault_crash...).
  using FaultKind = ev::Fault* (ev::Body::*)();
  void emit_fault(NodeId node, FaultKind kind, std::string_view by, std::string_view text,
                  Duration length = 0);

  World& world_;
  Rng rng_;
  std::optional<SwarmProfile> swarm_;
  std::string plan_text_ = "none";
  Time quiet_at_ = kTimeMax;
  bool sites_on_ = false;
  bool torn_writes_ = false;
  std::map<std::string, Site, std::less<>> sites_;
  std::vector<NodeId> crashed_by_us_;
  std::vector<NodeId> paused_by_us_;
  std::uint64_t fired_ = 0;
};

}  // namespace sim
