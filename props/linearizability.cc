#include "props/linearizability.h"

#include <algorithm>
#include <functional>
#include <map>
#include <string_view>
#include <utility>

#include "props/memo_cache.h"
#include "sim/assert.h"

namespace props {
namespace {

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::uint64_t hash_state(const std::string& s) { return std::hash<std::string>{}(s); }

MemoKey memo_key(std::uint64_t set_a, std::uint64_t set_b, std::uint64_t state_hash) {
  return MemoKey{set_a ^ state_hash, set_b ^ splitmix64(state_hash ^ 0x5bd1e995ULL)};
}

bool is_ok(const sim::Operation& op) { return op.status == sim::OpStatus::kOk; }

// A value as reports print it: empty strings visible, long ones cut.
std::string show(const std::string& s) {
  constexpr std::size_t kShownBytesMax = 80;
  if (s.empty()) return "\"\"";
  if (s.size() <= kShownBytesMax) return s;
  return s.substr(0, kShownBytesMax) + "...(" + std::to_string(s.size()) + " bytes)";
}

std::string what_it_did(const sim::Operation& op) {
  if (is_ok(op) && !op.output.empty()) return "completed with " + show(op.output);
  if (!op.input.empty()) return "took effect with input " + show(op.input);
  return "took effect";
}

// ---------------------------------------------------------------------------------------------
// The effect witness: replays the recorded effect order, if every ok op has one.

struct WitnessOutcome {
  bool present = false;
  bool accepted = false;
  std::string note;
  std::uint64_t steps = 0;
};

WitnessOutcome check_witness(const Model& model, const std::vector<const sim::Operation*>& ops) {
  WitnessOutcome w;
  std::vector<const sim::Operation*> order;
  for (const sim::Operation* op : ops) {
    if (op->effect_seq != 0) {
      order.push_back(op);
    } else if (is_ok(*op)) {
      return w;  // an ok op without an effect point: no witness
    }
  }
  w.present = true;
  std::sort(order.begin(), order.end(), [](const sim::Operation* a, const sim::Operation* b) {
    return a->effect_seq < b->effect_seq;
  });
  for (std::size_t i = 1; i < order.size(); ++i) {
    if (order[i]->effect_seq == order[i - 1]->effect_seq) {
      w.note = "two operations share effect_seq " + std::to_string(order[i]->effect_seq);
      return w;
    }
  }
  // Earliest effect point consistent with the order so far, and who forced it.
  sim::Time point = INT64_MIN;
  const sim::Operation* forced_by = nullptr;
  std::string state = model.init();
  for (const sim::Operation* op : order) {
    if (op->invoke > point) {
      point = op->invoke;
      forced_by = op;
    }
    if (point > op->complete) {
      w.note = "the recorded effect order puts " + describe_op(*op) + " after " +
               describe_op(*forced_by) + ", but it completed at " + sim::format_time(op->complete) +
               ", before " + describe_op(*forced_by) + " was invoked at " +
               sim::format_time(forced_by->invoke);
      return w;
    }
    StepResult r = model.step(state, *op);
    ++w.steps;
    if (!r.legal) {
      w.note = "replaying the recorded effect order, " + describe_op(*op) + " is not a legal " +
               model.name() + " operation in state " + show(state);
      return w;
    }
    if (is_ok(*op) && r.output != op->output) {
      w.note = "replaying the recorded effect order, " + describe_op(*op) + " returned " +
               show(op->output) + " but the model gives " + show(r.output);
      return w;
    }
    state = std::move(r.state);
  }
  w.accepted = true;
  return w;
}

// ---------------------------------------------------------------------------------------------
// The search.
//
// Operations are nodes 0..n-1, sorted by invoke. Every node not yet linearized sits in one of
// three candidate lists (read-only ok ops, mutating ok ops, mutating unknown ops), each sorted by
// invoke, and every ok node not yet linearized also in the "deadline" list sorted by completion.
// Linearizing a node unlinks it from its lists and backtracking relinks it (dancing links: the
// unlinked node keeps its neighbours, and relinking happens in reverse order), so each move and
// each undo is O(1). The candidates of a configuration are the list entries invoked no later
// than the earliest deadline R: anything invoked after R must come after the op that owns R.
//
// Reductions (each keeps the search complete; see README.md for the arguments):
//   - a read-only ok op whose output matches is taken at once, without alternatives;
//   - unknown ops of one class (same kind and input) are interchangeable: only the earliest
//     invoked one not yet linearized is tried;
//   - a chain of unknown ops must be followed by an ok op that needs each of them: if, without
//     one op c of the chain, that ok op still gives its output and then either the same state
//     (c was absorbed: dropping it is as good, unknown ops are optional) or, with c applied
//     right after it, the same state (they commute: the later placement is explored anyway),
//     this order is skipped;
//   - likewise a chain is not extended by an unknown op that absorbs one of its ops, nor by one
//     that commutes with the chain's last op and has a smaller index (the other order is the
//     canonical one).
// The memo key of a configuration inside such a chain also covers the chain (its start state and
// ops), because what may follow depends on it.

class Search {
 public:
  Search(const Model& model, std::vector<const sim::Operation*> ops,
         const LinearizabilityOptions& options)
      : model_(model), ops_(std::move(ops)), options_(options) {
    std::stable_sort(ops_.begin(), ops_.end(),
                     [](const sim::Operation* a, const sim::Operation* b) {
                       return a->invoke != b->invoke ? a->invoke < b->invoke : a->id < b->id;
                     });
    n_ = static_cast<int>(ops_.size());
    inv_.resize(n_);
    ret_.resize(n_);
    ok_.resize(n_);
    list_.resize(n_);
    z1_.resize(n_);
    z2_.resize(n_);
    linearized_.assign(n_, 0);
    blind_.assign(n_, 0);
    class_prev_.assign(n_, -1);
    next_.assign(n_ + kLists, 0);
    prev_.assign(n_ + kLists, 0);
    for (int l = 0; l < kLists; ++l) next_[n_ + l] = prev_[n_ + l] = n_ + l;
    std::map<std::pair<std::string_view, std::string_view>, int> last_of_class;
    for (int i = 0; i < n_; ++i) {
      const sim::Operation& op = *ops_[i];
      inv_[i] = op.invoke;
      ok_[i] = is_ok(op);
      ret_[i] = ok_[i] ? op.complete : sim::kTimeMax;
      list_[i] = ok_[i] ? (model.read_only(op) ? kReadOnly : kMutatingOk) : kMutatingUnknown;
      if (list_[i] != kReadOnly) {
        blind_[i] = model.blind(op) ? 1 : 0;
        non_blind_left_ += blind_[i] ? 0 : 1;
      }
      z1_[i] = splitmix64(2 * static_cast<std::uint64_t>(i) + 1);
      z2_[i] = splitmix64(2 * static_cast<std::uint64_t>(i) + 2);
      if (!ok_[i]) {
        auto [it, fresh] = last_of_class.try_emplace({op.kind, op.input}, i);
        if (!fresh) {
          class_prev_[i] = it->second;
          it->second = i;
        }
      }
      int head = n_ + list_[i];  // append at the tail: invoke order
      prev_[i] = prev_[head];
      next_[i] = head;
      next_[prev_[head]] = i;
      prev_[head] = i;
    }
    std::vector<int> by_ret;
    for (int i = 0; i < n_; ++i) {
      if (ok_[i]) by_ret.push_back(i);
    }
    std::stable_sort(by_ret.begin(), by_ret.end(), [&](int a, int b) { return ret_[a] < ret_[b]; });
    rnext_.assign(n_ + 1, n_);
    rprev_.assign(n_ + 1, n_);
    int last = n_;
    for (int i : by_ret) {
      rnext_[last] = i;
      rprev_[i] = last;
      last = i;
    }
    rnext_[last] = n_;
    rprev_[n_] = last;
  }

  Verdict run(PartitionReport* report);

 private:
  static constexpr int kReadOnly = 0;
  static constexpr int kMutatingOk = 1;
  static constexpr int kMutatingUnknown = 2;
  static constexpr int kLists = 3;
  // Stands for the state in the memo key of a configuration whose state cannot be observed.
  static constexpr std::uint64_t kUnobservableState = 0x9ae16a3b2f90404fULL;
  // Pending reads past the candidates whose viability each configuration checks.
  static constexpr int kLookaheadReads = 4;

  struct Frame {
    int node;
    int list;
    bool forced;             // a read-only op taken without branching
    std::string prev_state;  // empty for read-only frames (the state did not change)
    std::uint64_t prev_state_hash;
    int prev_chain_start;
    std::uint64_t prev_chain_hash;
  };

  void lift(int i) {
    next_[prev_[i]] = next_[i];
    prev_[next_[i]] = prev_[i];
    if (ok_[i]) {
      rnext_[rprev_[i]] = rnext_[i];
      rprev_[rnext_[i]] = rprev_[i];
    }
    linearized_[i] = 1;
    if (list_[i] != kReadOnly && !blind_[i]) --non_blind_left_;
  }
  void unlift(int i) {
    linearized_[i] = 0;
    if (list_[i] != kReadOnly && !blind_[i]) ++non_blind_left_;
    if (ok_[i]) {
      rnext_[rprev_[i]] = i;
      rprev_[rnext_[i]] = i;
    }
    next_[prev_[i]] = i;
    prev_[next_[i]] = i;
  }
  int deadline_op() const { return rnext_[n_] == n_ ? -1 : rnext_[n_]; }
  // True if ok op `node`, taken after the current chain of unknown ops, does not need one of
  // them there.
  bool independent_of_chain(int node, const StepResult& after);
  // True if unknown op `node`, appended to the current chain, makes the chain redundant: it
  // absorbs one of its ops, or commutes with the last one and comes first in the canonical
  // (index) order, so the other order is explored instead.
  bool redundant_extension(int node, const StepResult& after);
  void note_depth();
  void explain(PartitionReport* report) const;

  const Model& model_;
  std::vector<const sim::Operation*> ops_;
  const LinearizabilityOptions& options_;
  int n_ = 0;
  std::vector<sim::Time> inv_;
  std::vector<sim::Time> ret_;
  std::vector<std::uint8_t> ok_;
  std::vector<std::uint8_t> list_;
  std::vector<std::uint64_t> z1_;
  std::vector<std::uint64_t> z2_;
  std::vector<std::uint8_t> linearized_;
  std::vector<std::uint8_t> blind_;  // mutating ops whose step ignores the state
  int non_blind_left_ = 0;           // mutating ops, not blind, not yet linearized
  std::vector<int> class_prev_;      // unknown ops: the previous op of the same class, or -1
  std::vector<int> next_, prev_;     // candidate lists; sentinels n_ + list
  std::vector<int> rnext_, rprev_;   // deadline list; sentinel n_

  // Search state.
  std::vector<Frame> stack_;
  std::string state_;
  std::uint64_t steps_ = 0;
  int chain_start_ = -1;  // stack index of the first frame of the trailing unknown-op chain
  std::uint64_t chain_hash_ = 0;
  // The deepest configuration seen: best_[0..best_depth_) are its ops. best_[0..low_water_) is
  // still equal to the stack's ops (the stack has not been popped below it since).
  std::vector<int> best_;
  std::size_t low_water_ = 0;
  std::string best_state_;
  int best_blocked_ = -1;
  std::string contract_note_;
};

void Search::note_depth() {
  std::size_t depth = stack_.size();
  if (depth <= best_.size() && !(depth == 0 && best_blocked_ < 0)) return;
  best_.resize(std::min(low_water_, best_.size()));
  for (std::size_t j = best_.size(); j < depth; ++j) best_.push_back(stack_[j].node);
  low_water_ = depth;
  best_state_ = state_;
  best_blocked_ = deadline_op();
}

bool Search::independent_of_chain(int node, const StepResult& after) {
  // For each op c of the chain: replay the chain without c, then `node`. If `node` still
  // returns its output and, with c dropped (absorbed) or applied right after `node` (commutes),
  // the state is the same, c is not needed here.
  const sim::Operation& op = *ops_[node];
  const std::string& start = stack_[chain_start_].prev_state;
  std::size_t end = stack_.size();
  for (std::size_t skip = chain_start_; skip < end; ++skip) {
    std::string s = start;
    bool legal = true;
    for (std::size_t j = chain_start_; j < end && legal; ++j) {
      if (j == skip) continue;
      ++steps_;
      StepResult r = model_.step(s, *ops_[stack_[j].node]);
      legal = r.legal;
      s = std::move(r.state);
    }
    if (!legal) continue;
    ++steps_;
    StepResult without = model_.step(s, op);
    if (!without.legal || without.output != op.output) continue;
    if (without.state == after.state) return true;  // absorbed
    ++steps_;
    StepResult late = model_.step(without.state, *ops_[stack_[skip].node]);
    if (late.legal && late.state == after.state) return true;  // commutes
  }
  return false;
}

bool Search::redundant_extension(int node, const StepResult& after) {
  const sim::Operation& op = *ops_[node];
  std::size_t end = stack_.size();
  const Frame& last = stack_[end - 1];
  if (node < last.node) {
    ++steps_;
    StepResult first = model_.step(last.prev_state, op);
    if (first.legal) {
      ++steps_;
      StepResult second = model_.step(first.state, *ops_[last.node]);
      if (second.legal && second.state == after.state) return true;  // commutes
    }
  }
  const std::string& start = stack_[chain_start_].prev_state;
  for (std::size_t skip = chain_start_; skip < end; ++skip) {
    std::string s = start;
    bool legal = true;
    for (std::size_t j = chain_start_; j < end && legal; ++j) {
      if (j == skip) continue;
      ++steps_;
      StepResult r = model_.step(s, *ops_[stack_[j].node]);
      legal = r.legal;
      s = std::move(r.state);
    }
    if (!legal) continue;
    ++steps_;
    StepResult r = model_.step(s, op);
    if (r.legal && r.state == after.state) return true;  // absorbs stack_[skip]
  }
  return false;
}

Verdict Search::run(PartitionReport* report) {
  MemoCache memo(options_.memo_entries_max);
  state_ = model_.init();
  std::uint64_t state_hash = hash_state(state_);
  std::uint64_t set_a = 0;
  std::uint64_t set_b = 0;
  // Where to continue scanning candidates after a backtrack; -1: a fresh configuration.
  int resume_list = -1;
  int resume_node = 0;
  note_depth();
  Verdict verdict = Verdict::kViolated;

  auto push = [&](int node, int list, bool forced, StepResult* s, std::uint64_t h,
                  std::uint64_t chain_hash) {
    stack_.push_back(
        Frame{node, list, forced, std::string(), state_hash, chain_start_, chain_hash_});
    if (list != kReadOnly) {
      stack_.back().prev_state = std::move(state_);
      state_ = std::move(s->state);
      state_hash = h;
    }
    if (list == kMutatingUnknown && chain_start_ < 0) {
      chain_start_ = static_cast<int>(stack_.size()) - 1;
    } else if (list != kMutatingUnknown) {
      chain_start_ = -1;
    }
    chain_hash_ = chain_hash;
    lift(node);
    set_a ^= z1_[node];
    set_b ^= z2_[node];
  };
  // The chain context a child configuration will have.
  auto child_chain = [&](int node, int list) -> std::uint64_t {
    if (list != kMutatingUnknown) return 0;
    std::uint64_t base =
        chain_start_ < 0 ? splitmix64(state_hash ^ 0x632be59bd9b4e019ULL) : chain_hash_;
    return splitmix64(base ^ static_cast<std::uint64_t>(node));
  };

  while (true) {
    int deadline = deadline_op();
    if (deadline < 0) {
      verdict = Verdict::kOk;
      break;
    }
    sim::Time r = ret_[deadline];
    bool pushed = false;
    bool config_fails = false;
    bool out_of_steps = false;
    int list = resume_list;
    int node = resume_node;

    if (resume_list < 0) {
      // A read-only op whose output matches now commutes to the front of any linearization
      // that exists from here: take it, without alternatives.
      for (int i = next_[n_ + kReadOnly]; i != n_ + kReadOnly && inv_[i] <= r; i = next_[i]) {
        if (steps_ >= options_.steps_max) {
          out_of_steps = true;
          break;
        }
        ++steps_;
        StepResult s = model_.step(state_, *ops_[i]);
        if (!s.legal || s.output != ops_[i]->output) {
          if (!model_.viable(state_, *ops_[i])) {
            config_fails = true;  // this read can never be explained from here
            break;
          }
          continue;
        }
        if (s.state != state_) {
          contract_note_ = "the " + model_.name() + " model says " + describe_op(*ops_[i]) +
                           " is read-only, but step() changed the state from " + show(state_) +
                           " to " + show(s.state);
          out_of_steps = true;
          break;
        }
        // Not memoized: the child's fate is its parent's, and the parent is.
        push(i, kReadOnly, true, &s, state_hash, 0);
        pushed = true;
        break;
      }
      // Reads invoked after R come after everything linearized so far: a few of them can
      // already rule this configuration out.
      if (!pushed && !config_fails && !out_of_steps) {
        int looked = 0;
        for (int i = next_[n_ + kReadOnly]; i != n_ + kReadOnly && looked < kLookaheadReads;
             i = next_[i]) {
          if (inv_[i] <= r) continue;
          ++looked;
          if (!model_.viable(state_, *ops_[i])) {
            config_fails = true;
            break;
          }
        }
      }
      // No pending read matches this state and nothing left but reads and blind ops: the state
      // can never be observed, so every such state behaves alike. Memoize them as one.
      if (!pushed && !config_fails && !out_of_steps && non_blind_left_ == 0) {
        MemoKey key = memo_key(set_a, set_b, kUnobservableState ^ chain_hash_);
        if (!memo.insert(key)) config_fails = true;
      }
      list = kMutatingOk;
      node = next_[n_ + kMutatingOk];
    }

    while (!pushed && !config_fails && !out_of_steps && list < kLists) {
      if (node == n_ + list || inv_[node] > r) {
        ++list;
        if (list < kLists) node = next_[n_ + list];
        continue;
      }
      if (steps_ >= options_.steps_max) {
        out_of_steps = true;
        break;
      }
      if (list == kMutatingUnknown && class_prev_[node] >= 0 && !linearized_[class_prev_[node]]) {
        node = next_[node];  // an earlier op of its class is still available: use that one
        continue;
      }
      ++steps_;
      const sim::Operation& op = *ops_[node];
      StepResult s = model_.step(state_, op);
      bool useful = s.legal && (!ok_[node] || s.output == op.output);
      if (useful && chain_start_ >= 0) {
        useful = ok_[node] ? !independent_of_chain(node, s) : !redundant_extension(node, s);
      }

      if (useful) {
        std::uint64_t h = hash_state(s.state);
        std::uint64_t chain = child_chain(node, list);
        MemoKey key = memo_key(set_a ^ z1_[node], set_b ^ z2_[node], h ^ chain);
        if (memo.insert(key)) {
          push(node, list, false, &s, h, chain);
          pushed = true;
          break;
        }
      }
      node = next_[node];
    }

    if (out_of_steps) {
      verdict = Verdict::kUnknown;
      break;
    }
    if (pushed) {
      resume_list = -1;
      if (stack_.size() > best_.size()) note_depth();
      continue;
    }
    // This configuration fails: undo moves until one has an untried alternative.
    bool exhausted = true;
    while (!stack_.empty()) {
      Frame f = std::move(stack_.back());
      stack_.pop_back();
      low_water_ = std::min(low_water_, stack_.size());
      unlift(f.node);
      set_a ^= z1_[f.node];
      set_b ^= z2_[f.node];
      if (f.list != kReadOnly) {
        state_ = std::move(f.prev_state);
        state_hash = f.prev_state_hash;
      }
      chain_start_ = f.prev_chain_start;
      chain_hash_ = f.prev_chain_hash;
      if (f.forced) continue;
      resume_list = f.list;
      resume_node = next_[f.node];
      exhausted = false;
      break;
    }
    if (exhausted) {
      verdict = Verdict::kViolated;
      break;
    }
  }

  report->steps += steps_;
  report->memo_entries_peak = memo.size();
  report->memo_evictions = memo.evictions();
  if (verdict != Verdict::kOk) explain(report);
  if (verdict == Verdict::kUnknown && contract_note_.empty()) {
    report->explanation = "gave up after " + std::to_string(steps_) + " model steps (steps_max); " +
                          report->explanation;
  } else if (verdict == Verdict::kUnknown) {
    report->explanation = contract_note_;
  }
  return verdict;
}

void Search::explain(PartitionReport* report) const {
  for (int i : best_) report->longest_prefix.push_back(ops_[i]->id);
  report->state_after_prefix = best_state_;
  if (best_blocked_ < 0) return;
  const sim::Operation& blocked = *ops_[best_blocked_];
  report->blocked_op = blocked.id;

  const sim::Operation* last = nullptr;  // the op that set the state last
  for (auto it = best_.rbegin(); it != best_.rend(); ++it) {
    if (list_[*it] != kReadOnly) {
      last = ops_[*it];
      break;
    }
  }
  std::string after = last != nullptr ? "after " + describe_op(*last) + " " + what_it_did(*last)
                                      : "from the initial state " + show(model_.init());
  StepResult s = model_.step(best_state_, blocked);
  std::string text;
  if (!s.legal) {
    text = describe_op(blocked) + " (input " + show(blocked.input) + ") is not a legal " +
           model_.name() + " operation in state " + show(best_state_) + ", " + after + ".";
  } else {
    text = describe_op(blocked) + " returned " + show(blocked.output) + " " + after + "; the " +
           model_.name() + " model expects " + show(s.output) + " there.";
  }
  text +=
      " No order of the operations concurrent with it explains that: the longest valid "
      "linearization covers " +
      std::to_string(best_.size()) + " of " + std::to_string(n_) +
      " operations (state after it: " + show(best_state_) + ").";
  report->explanation = text;

  // The failing window: ops overlapping the blocked one, and the tail of the prefix.
  sim::Time from = blocked.invoke;
  sim::Time to = blocked.complete;
  std::vector<int> chosen;
  chosen.push_back(best_blocked_);
  std::size_t tail = std::min<std::size_t>(best_.size(), 3);
  for (std::size_t j = best_.size() - tail; j < best_.size(); ++j) chosen.push_back(best_[j]);
  std::vector<std::pair<sim::Time, int>> others;  // (distance to the blocked op's invoke, node)
  for (int i = 0; i < n_; ++i) {
    const sim::Operation& op = *ops_[i];
    bool overlaps = op.invoke <= to && (ok_[i] ? op.complete : sim::kTimeMax) >= from;
    if (!overlaps || i == best_blocked_) continue;
    sim::Time d = op.invoke > from ? op.invoke - from : from - op.invoke;
    others.push_back({d, i});
  }
  std::sort(others.begin(), others.end());
  for (const auto& [d, i] : others) {
    if (chosen.size() >= std::max<std::size_t>(options_.timeline_ops_max, 2)) break;
    if (std::find(chosen.begin(), chosen.end(), i) == chosen.end()) chosen.push_back(i);
  }
  std::sort(chosen.begin(), chosen.end());  // nodes are in invoke order
  chosen.erase(std::unique(chosen.begin(), chosen.end()), chosen.end());
  int last_node = best_.empty() ? -1 : best_.back();
  for (int i : chosen) {
    std::string line = format_op_line(*ops_[i]);
    if (i == best_blocked_) line += "   <- cannot follow the longest linearization";
    if (i == last_node) line += "   <- last in the longest linearization";
    report->timeline.push_back(std::move(line));
  }
}

// ---------------------------------------------------------------------------------------------

struct Part {
  const Model* model = nullptr;
  std::vector<const sim::Operation*> ops;
};

sim::Status validate(const sim::Operation& op) {
  bool done = op.status == sim::OpStatus::kOk || op.status == sim::OpStatus::kFail;
  if (done && op.complete == sim::kTimeMax) {
    return sim::Error{sim::ErrorKind::kInvalid, describe_op(op) + " (op " + std::to_string(op.id) +
                                                    ") is " + sim::op_status_name(op.status) +
                                                    " but has no completion time"};
  }
  if (done && op.complete < op.invoke) {
    return sim::Error{sim::ErrorKind::kInvalid,
                      describe_op(op) + " completes at " + sim::format_time(op.complete) +
                          ", before it was invoked at " + sim::format_time(op.invoke)};
  }
  return sim::Status::Ok();
}

// Step 3 of the header: a read that real-time order rules out, for models whose operations are
// all reads or blind writes with equality reads (register, kv). Fills `report` and returns true
// when it finds one.
bool refute_by_real_time(const Model& model, const std::vector<const sim::Operation*>& ops,
                         PartitionReport* report) {
  const std::string name = model.name();
  if (name != "register" && name != "kv") return false;
  struct Write {
    const sim::Operation* op;
    std::string value;
  };
  std::map<std::string, std::vector<Write>> by_value;
  std::vector<Write> ok_writes;
  std::vector<const sim::Operation*> reads;
  const std::string init = model.init();
  for (const sim::Operation* op : ops) {
    if (model.read_only(*op)) {
      if (is_ok(*op)) reads.push_back(op);
    } else if (model.blind(*op)) {
      StepResult s = model.step(init, *op);
      if (!s.legal) return false;
      Write w{op, s.state};
      by_value[s.state].push_back(w);
      if (is_ok(*op)) ok_writes.push_back(std::move(w));
    } else {
      return false;  // e.g. a compare-and-set: not a blind write
    }
  }
  if (reads.empty()) return false;
  // Ok writes by completion; per prefix, the latest-invoked write (`first`) and the
  // latest-invoked one whose value differs from first's (`second`). The latest-invoked write with
  // a value other than v is then first (if its value is not v) or second.
  std::sort(ok_writes.begin(), ok_writes.end(),
            [](const Write& a, const Write& b) { return a.op->complete < b.op->complete; });
  struct Best {
    const Write* first = nullptr;
    const Write* second = nullptr;
  };
  std::vector<Best> prefix(ok_writes.size());
  Best cur;
  for (std::size_t i = 0; i < ok_writes.size(); ++i) {
    const Write* w = &ok_writes[i];
    if (cur.first == nullptr || w->op->invoke > cur.first->op->invoke) {
      // Everything older with a value other than w's: the old first (if it differs) is the
      // latest of them; else the old second (its value differs from first's, which is w's).
      if (cur.first != nullptr && cur.first->value != w->value) cur.second = cur.first;
      cur.first = w;
    } else if (w->value != cur.first->value &&
               (cur.second == nullptr || w->op->invoke > cur.second->op->invoke)) {
      cur.second = w;
    }
    prefix[i] = cur;
  }
  // The latest-invoked ok write with a value other than `v` among those completed before `t`.
  auto latest_overwrite = [&](sim::Time t, const std::string& v) -> const Write* {
    auto end = std::lower_bound(ok_writes.begin(), ok_writes.end(), t,
                                [](const Write& w, sim::Time x) { return w.op->complete < x; });
    if (end == ok_writes.begin()) return nullptr;
    const Best& b = prefix[static_cast<std::size_t>(end - ok_writes.begin()) - 1];
    return b.first->value != v ? b.first : b.second;
  };
  std::sort(reads.begin(), reads.end(), [](const sim::Operation* a, const sim::Operation* b) {
    return a->invoke != b->invoke ? a->invoke < b->invoke : a->id < b->id;
  });
  for (const sim::Operation* r : reads) {
    std::vector<const Write*> sources;
    bool from_init = model.step(init, *r).output == r->output;
    std::vector<std::string> spellings = {r->output};
    if (r->output.empty()) spellings.push_back("null");
    std::size_t candidates = from_init ? 1 : 0;
    for (const std::string& v : spellings) {
      auto it = by_value.find(v);
      if (it == by_value.end()) continue;
      for (const Write& w : it->second) {
        if (w.op->invoke > r->complete) continue;  // begun after the read ended
        if (model.step(w.value, *r).output != r->output) continue;
        sources.push_back(&w);
        ++candidates;
      }
    }
    if (candidates > 8) continue;
    // Every source must be ruled out by a later overwrite that completed before the read began.
    std::string why;
    bool possible = false;
    if (from_init) {
      const Write* over = latest_overwrite(r->invoke, init);
      if (over == nullptr) {
        possible = true;
      } else {
        why += "the initial value was overwritten by " + describe_op(*over->op) + " (of " +
               show(over->value) + "), which completed at " + sim::format_time(over->op->complete);
      }
    }
    for (const Write* w : sources) {
      if (possible) break;
      const Write* over = latest_overwrite(r->invoke, w->value);
      // A write of unknown outcome may take effect at any time after its invoke.
      if (over == nullptr || !is_ok(*w->op) || !(w->op->complete < over->op->invoke)) {
        possible = true;
        break;
      }
      if (!why.empty()) why += "; ";
      why += describe_op(*w->op) + " wrote it and completed at " +
             sim::format_time(w->op->complete) + ", before " + describe_op(*over->op) + " (of " +
             show(over->value) + ") began at " + sim::format_time(over->op->invoke) +
             " and completed at " + sim::format_time(over->op->complete);
    }
    if (possible) continue;
    report->verdict = Verdict::kViolated;
    report->method = CheckMethod::kRefuted;
    report->blocked_op = r->id;
    report->explanation = describe_op(*r) + " returned " + show(r->output) + " (began at " +
                          sim::format_time(r->invoke) + "), but ";
    report->explanation += why.empty() ? "no write begun before it ended wrote that value."
                                       : why + ", before the read began.";
    report->explanation += " No linearization can order it (the " + name + " model).";
    // The timeline: the read and the operations named above, by invocation.
    std::vector<const sim::Operation*> shown = {r};
    for (const Write* w : sources) shown.push_back(w->op);
    if (const Write* over = latest_overwrite(r->invoke, r->output)) shown.push_back(over->op);
    std::sort(shown.begin(), shown.end(), [](const sim::Operation* a, const sim::Operation* b) {
      return a->invoke != b->invoke ? a->invoke < b->invoke : a->id < b->id;
    });
    shown.erase(std::unique(shown.begin(), shown.end()), shown.end());
    for (const sim::Operation* op : shown) {
      std::string line = format_op_line(*op);
      if (op == r) line += "   <- cannot be linearized";
      report->timeline.push_back(std::move(line));
    }
    return true;
  }
  return false;
}

PartitionReport check_part(const std::string& object, const std::string& key, const Part& part,
                           const LinearizabilityOptions& options) {
  PartitionReport report;
  report.object = object;
  report.key = key;
  const Model& model = *part.model;
  std::vector<const sim::Operation*> kept;
  bool any_ok = false;
  for (const sim::Operation* op : part.ops) {
    bool drop = op->status == sim::OpStatus::kFail || (!is_ok(*op) && model.read_only(*op));
    if (drop) {
      ++report.ops_dropped;
      continue;
    }
    any_ok = any_ok || is_ok(*op);
    kept.push_back(op);
  }
  report.ops = kept.size();
  if (!any_ok) {
    report.method = CheckMethod::kTrivial;  // unknown ops alone may all never take effect
    return report;
  }
  if (options.use_witness) {
    WitnessOutcome w = check_witness(model, kept);
    report.steps += w.steps;
    if (w.accepted) {
      report.method = CheckMethod::kWitness;
      return report;
    }
    report.witness_note = w.note;
  }
  if (options.use_refutation && refute_by_real_time(model, kept, &report)) return report;
  report.method = CheckMethod::kSearch;
  Search search(model, std::move(kept), options);
  report.verdict = search.run(&report);
  return report;
}

}  // namespace

const char* check_method_name(CheckMethod m) {
  switch (m) {
    case CheckMethod::kTrivial:
      return "trivial";
    case CheckMethod::kWitness:
      return "witness";
    case CheckMethod::kSearch:
      return "search";
    case CheckMethod::kSkipped:
      return "skipped";
    case CheckMethod::kRefuted:
      return "refuted";
  }
  return "?";
}

std::string describe_op(const sim::Operation& op) {
  std::string s = (op.kind.empty() ? std::string("op") : op.kind) + " #" + std::to_string(op.id);
  if (!op.client.empty()) s += " by " + op.client;
  return s;
}

std::string format_op_line(const sim::Operation& op) {
  std::string s =
      "[" + sim::format_time(op.invoke) + ", " +
      (op.complete == sim::kTimeMax ? std::string("?") : sim::format_time(op.complete)) + "] #" +
      std::to_string(op.id);
  if (!op.client.empty()) s += " " + op.client;
  s += " " + (op.kind.empty() ? std::string("op") : op.kind);
  if (!op.input.empty()) s += " " + show(op.input);
  if (is_ok(op)) s += " -> " + show(op.output);
  s += std::string(" ") + sim::op_status_name(op.status);
  return s;
}

std::size_t LinearizabilityResult::count(Verdict v) const {
  std::size_t n = 0;
  for (const PartitionReport& p : partitions) n += p.verdict == v ? 1 : 0;
  return n;
}

std::string LinearizabilityResult::report(std::size_t partitions_max) const {
  std::string out = std::string("linearizability: ") + verdict_name(verdict) + " (" +
                    std::to_string(ops) + " operations, " + std::to_string(partitions.size()) +
                    " partitions: " + std::to_string(count(Verdict::kOk)) + " ok, " +
                    std::to_string(count(Verdict::kViolated)) + " violated, " +
                    std::to_string(count(Verdict::kUnknown)) + " unknown)\n";
  std::size_t shown = 0;
  for (const PartitionReport& p : partitions) {
    if (p.verdict == Verdict::kOk) continue;
    if (shown++ == partitions_max) {
      out += "  ...\n";
      break;
    }
    out += "  object " + show(p.object) + " key " + show(p.key) + ": " + verdict_name(p.verdict) +
           " (" + check_method_name(p.method) + ", " + std::to_string(p.ops) + " ops, " +
           std::to_string(p.steps) + " steps)\n";
    if (!p.explanation.empty()) out += "    " + p.explanation + "\n";
    if (!p.witness_note.empty()) out += "    (effect witness not used: " + p.witness_note + ")\n";
    for (const std::string& line : p.timeline) out += "      " + line + "\n";
  }
  return out;
}

sim::Result<LinearizabilityResult> check_linearizability(const std::vector<sim::Operation>& history,
                                                         const ModelFor& model_for,
                                                         const LinearizabilityOptions& options) {
  LinearizabilityResult result;
  result.ops = history.size();
  std::map<std::pair<std::string, std::string>, Part> parts;
  for (const sim::Operation& op : history) {
    sim::Status s = validate(op);
    if (!s.ok()) return s.error();
    const Model* model = model_for(op.object);
    if (model == nullptr) continue;
    Part& part = parts[{op.object, model->partition_key(op)}];
    part.model = model;
    part.ops.push_back(&op);
  }
  bool stop = false;
  for (const auto& [where, part] : parts) {
    PartitionReport report;
    if (stop) {
      report.object = where.first;
      report.key = where.second;
      report.ops = part.ops.size();
      report.verdict = Verdict::kUnknown;
      report.method = CheckMethod::kSkipped;
      report.explanation = "not checked: an earlier partition was violated";
    } else {
      report = check_part(where.first, where.second, part, options);
    }
    result.steps += report.steps;
    result.verdict = worst(result.verdict, report.verdict);
    stop = stop || (options.stop_at_first_violation && report.verdict == Verdict::kViolated);
    result.partitions.push_back(std::move(report));
  }
  return result;
}

sim::Result<LinearizabilityResult> check_linearizability(const std::vector<sim::Operation>& history,
                                                         const Model& model,
                                                         const LinearizabilityOptions& options) {
  return check_linearizability(
      history, [&model](const std::string&) { return &model; }, options);
}

}  // namespace props
