#include "props/linearizability.h"

#include <algorithm>
#include <climits>
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

// The ops that took effect, by effect_seq; empty with `*present` false when some ok op has no
// effect point (then there is no witness).
std::vector<const sim::Operation*> effect_order(const std::vector<const sim::Operation*>& ops,
                                                bool* present) {
  std::vector<const sim::Operation*> order;
  for (const sim::Operation* op : ops) {
    if (op->effect_seq != 0) {
      order.push_back(op);
    } else if (is_ok(*op)) {
      *present = false;
      return {};
    }
  }
  *present = true;
  std::sort(order.begin(), order.end(), [](const sim::Operation* a, const sim::Operation* b) {
    return a->effect_seq < b->effect_seq;
  });
  return order;
}

// Replays `order` (strictly increasing effect_seq), giving each op the earliest effect point
// the order allows; fills w->note on the first op that does not fit.
void replay_effect_order(const Model& model, const std::vector<const sim::Operation*>& order,
                         WitnessOutcome* w) {
  // Earliest effect point consistent with the order so far, and who forced it.
  sim::Time point = INT64_MIN;
  const sim::Operation* forced_by = nullptr;
  std::uint64_t prev_seq = 0;
  std::string state = model.init();
  for (const sim::Operation* op : order) {
    // The replay must follow the recorded effects, or an accepted witness proves nothing.
    SIM_ASSERT(op->effect_seq > prev_seq);
    prev_seq = op->effect_seq;
    if (op->invoke > point) {
      point = op->invoke;
      forced_by = op;
    }
    if (point > op->complete) {
      w->note = "the recorded effect order puts " + describe_op(*op) + " after " +
                describe_op(*forced_by) + ", but it completed at " +
                sim::format_time(op->complete) + ", before " + describe_op(*forced_by) +
                " was invoked at " + sim::format_time(forced_by->invoke);
      return;
    }
    StepResult r = model.step(state, *op);
    ++w->steps;
    if (!r.legal) {
      w->note = "replaying the recorded effect order, " + describe_op(*op) + " is not a legal " +
                model.name() + " operation in state " + show(state);
      return;
    }
    if (is_ok(*op) && r.output != op->output) {
      w->note = "replaying the recorded effect order, " + describe_op(*op) + " returned " +
                show(op->output) + " but the model gives " + show(r.output);
      return;
    }
    state = std::move(r.state);
  }
  w->accepted = true;
}

WitnessOutcome check_witness(const Model& model, const std::vector<const sim::Operation*>& ops) {
  WitnessOutcome w;
  std::vector<const sim::Operation*> order = effect_order(ops, &w.present);
  if (!w.present) return w;
  for (std::size_t i = 1; i < order.size(); ++i) {
    if (order[i]->effect_seq == order[i - 1]->effect_seq) {
      w.note = "two operations share effect_seq " + std::to_string(order[i]->effect_seq);
      return w;
    }
  }
  replay_effect_order(model, order, &w);
  // Acceptance means every op of the order was replayed, none skipped.
  SIM_ASSERT(!w.accepted || w.steps == order.size());
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
//
// Invariants (asserted where they are cheap to see): the stack holds exactly the linearized
// nodes, each once, and each move takes a node invoked no later than the deadline of its
// configuration; an undo restores the state, set hashes and chain context the move saved; the
// trailing chain is all unknown ops; best_ never holds more nodes than the part has.

class Search {
 public:
  Search(const Model& model, std::vector<const sim::Operation*> ops,
         const LinearizabilityOptions& options);

  // Decides the part. Adds its steps and memo figures to `report`, and its evidence unless ok.
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

  // Where the scan of a configuration's candidates stands.
  struct Cursor {
    int list = -1;  // -1: a fresh configuration, nothing tried yet
    int node = 0;
  };

  // What exploring a configuration came to.
  enum class Outcome {
    kOpen,    // undecided so far: go on trying candidates
    kPushed,  // a move was made: explore the child configuration
    kFails,   // no linearization extends this configuration
    kGiveUp,  // steps_max reached, or the model broke its contract
  };

  // Unknown ops by class (kind, input): the latest one added.
  using LastOfClass = std::map<std::pair<std::string_view, std::string_view>, int>;

  // Setup: node i's tables, its candidate list, and its class.
  void add_node(int i, LastOfClass* last_of_class);
  void link_deadlines();

  // The depth-first search, one configuration per iteration.
  Verdict search();
  Outcome enter(sim::Time r);
  Outcome take_matching_read(sim::Time r);
  bool later_read_impossible(sim::Time r) const;
  bool unobservable_seen();
  Outcome try_candidates(sim::Time r, Cursor* at);
  bool try_move(int node, int list);
  bool worth_trying(int node, const StepResult& s);
  bool class_twin_pending(int node) const {
    return class_prev_[node] >= 0 && !linearized_[class_prev_[node]];
  }
  std::uint64_t child_chain(int node, int list) const;
  void push(int node, int list, bool forced, StepResult* s, std::uint64_t h,
            std::uint64_t chain_hash);
  bool backtrack(Cursor* resume);
  Frame pop();

  void lift(int i);
  void unlift(int i);
  int deadline_op() const { return rnext_[n_] == n_ ? -1 : rnext_[n_]; }
  // Replays the current chain without its op at stack index `skip` into `*state`; false if an
  // op of it is illegal there.
  bool replay_chain_without(std::size_t skip, std::string* state);
  // True if ok op `node`, taken after the current chain of unknown ops, does not need one of
  // them there.
  bool independent_of_chain(int node, const StepResult& after);
  // True if unknown op `node`, appended to the current chain, makes the chain redundant: it
  // absorbs one of its ops, or commutes with the last one and comes first in the canonical
  // (index) order, so the other order is explored instead.
  bool redundant_extension(int node, const StepResult& after);
  void note_depth();

  void finish(Verdict verdict, PartitionReport* report);
  void check_linearization() const;
  void explain(PartitionReport* report) const;
  void add_timeline(PartitionReport* report) const;

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
  std::size_t linearized_count_ = 0;  // always stack_.size() between moves
  std::vector<std::uint8_t> blind_;   // mutating ops whose step ignores the state
  int non_blind_left_ = 0;            // mutating ops, not blind, not yet linearized
  std::vector<int> class_prev_;       // unknown ops: the previous op of the same class, or -1
  std::vector<int> next_, prev_;      // candidate lists; sentinels n_ + list
  std::vector<int> rnext_, rprev_;    // deadline list; sentinel n_

  // Search state.
  MemoCache memo_;
  std::vector<Frame> stack_;
  std::string state_;
  std::uint64_t state_hash_ = 0;
  // Zobrist hashes of the linearized set.
  std::uint64_t set_a_ = 0;
  std::uint64_t set_b_ = 0;
  std::uint64_t steps_ = 0;
  int chain_start_ = -1;  // stack index of the first frame of the trailing unknown-op chain
  std::uint64_t chain_hash_ = 0;
  // The deepest configuration seen: best_ holds its ops. best_[0..low_water_) is still equal to
  // the stack's ops (the stack has not been popped below it since).
  std::vector<int> best_;
  std::size_t low_water_ = 0;
  std::string best_state_;
  int best_blocked_ = -1;
  std::string contract_note_;
};

Search::Search(const Model& model, std::vector<const sim::Operation*> ops,
               const LinearizabilityOptions& options)
    : model_(model), ops_(std::move(ops)), options_(options), memo_(options.memo_entries_max) {
  std::stable_sort(ops_.begin(), ops_.end(), [](const sim::Operation* a, const sim::Operation* b) {
    return a->invoke != b->invoke ? a->invoke < b->invoke : a->id < b->id;
  });
  // Nodes and list sentinels are ints.
  SIM_ASSERT(ops_.size() < static_cast<std::size_t>(INT_MAX - kLists));
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
  LastOfClass last_of_class;
  for (int i = 0; i < n_; ++i) add_node(i, &last_of_class);
  link_deadlines();
}

void Search::add_node(int i, LastOfClass* last_of_class) {
  const sim::Operation& op = *ops_[i];
  // check_part drops failed ops and unknown reads; validate() gives every other op a completion
  // no earlier than its invoke.
  SIM_ASSERT(op.status != sim::OpStatus::kFail);
  SIM_ASSERT(is_ok(op) || !model_.read_only(op));
  SIM_ASSERT(!is_ok(op) || op.complete != sim::kTimeMax);
  SIM_ASSERT(!is_ok(op) || op.invoke <= op.complete);
  inv_[i] = op.invoke;
  ok_[i] = is_ok(op);
  ret_[i] = ok_[i] ? op.complete : sim::kTimeMax;
  list_[i] = ok_[i] ? (model_.read_only(op) ? kReadOnly : kMutatingOk) : kMutatingUnknown;
  if (list_[i] != kReadOnly) {
    blind_[i] = model_.blind(op) ? 1 : 0;
    non_blind_left_ += blind_[i] ? 0 : 1;
  }
  z1_[i] = splitmix64(2 * static_cast<std::uint64_t>(i) + 1);
  z2_[i] = splitmix64(2 * static_cast<std::uint64_t>(i) + 2);
  if (!ok_[i]) {
    auto [it, fresh] = last_of_class->try_emplace({op.kind, op.input}, i);
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

void Search::link_deadlines() {
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

void Search::lift(int i) {
  SIM_ASSERT(!linearized_[i]);  // a call is linearized at most once
  next_[prev_[i]] = next_[i];
  prev_[next_[i]] = prev_[i];
  if (ok_[i]) {
    rnext_[rprev_[i]] = rnext_[i];
    rprev_[rnext_[i]] = rprev_[i];
  }
  linearized_[i] = 1;
  ++linearized_count_;
  if (list_[i] != kReadOnly && !blind_[i]) --non_blind_left_;
  SIM_ASSERT(non_blind_left_ >= 0);
}

void Search::unlift(int i) {
  SIM_ASSERT(linearized_[i]);
  // Dancing links undo in reverse order only: i's old neighbours must be adjacent again, with
  // everything lifted after i already back.
  SIM_ASSERT(next_[prev_[i]] == next_[i]);
  SIM_ASSERT(prev_[next_[i]] == prev_[i]);
  SIM_ASSERT(!ok_[i] || rnext_[rprev_[i]] == rnext_[i]);
  SIM_ASSERT(!ok_[i] || rprev_[rnext_[i]] == rprev_[i]);
  linearized_[i] = 0;
  --linearized_count_;
  if (list_[i] != kReadOnly && !blind_[i]) ++non_blind_left_;
  if (ok_[i]) {
    rnext_[rprev_[i]] = i;
    rprev_[rnext_[i]] = i;
  }
  next_[prev_[i]] = i;
  prev_[next_[i]] = i;
}

void Search::note_depth() {
  std::size_t depth = stack_.size();
  if (depth <= best_.size() && !(depth == 0 && best_blocked_ < 0)) return;
  SIM_ASSERT(low_water_ <= best_.size());
  SIM_ASSERT(low_water_ <= depth);
  // best_ and the stack agree below the low-water mark; checking its top entry is O(1).
  SIM_ASSERT(low_water_ == 0 || best_[low_water_ - 1] == stack_[low_water_ - 1].node);
  best_.resize(std::min(low_water_, best_.size()));
  for (std::size_t j = best_.size(); j < depth; ++j) best_.push_back(stack_[j].node);
  low_water_ = depth;
  best_state_ = state_;
  best_blocked_ = deadline_op();
  SIM_ASSERT(best_.size() <= static_cast<std::size_t>(n_));
}

bool Search::replay_chain_without(std::size_t skip, std::string* state) {
  SIM_ASSERT(chain_start_ >= 0);
  *state = stack_[chain_start_].prev_state;
  for (std::size_t j = chain_start_; j < stack_.size(); ++j) {
    SIM_ASSERT(stack_[j].list == kMutatingUnknown);
    if (j == skip) continue;
    ++steps_;
    StepResult r = model_.step(*state, *ops_[stack_[j].node]);
    if (!r.legal) return false;
    *state = std::move(r.state);
  }
  return true;
}

bool Search::independent_of_chain(int node, const StepResult& after) {
  SIM_ASSERT(ok_[node]);
  // For each op c of the chain: replay the chain without c, then `node`. If `node` still
  // returns its output and, with c dropped (absorbed) or applied right after `node` (commutes),
  // the state is the same, c is not needed here.
  const sim::Operation& op = *ops_[node];
  std::string s;
  for (std::size_t skip = chain_start_; skip < stack_.size(); ++skip) {
    if (!replay_chain_without(skip, &s)) continue;
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
  SIM_ASSERT(!ok_[node]);
  const sim::Operation& op = *ops_[node];
  const Frame& last = stack_.back();
  if (node < last.node) {
    ++steps_;
    StepResult first = model_.step(last.prev_state, op);
    if (first.legal) {
      ++steps_;
      StepResult second = model_.step(first.state, *ops_[last.node]);
      if (second.legal && second.state == after.state) return true;  // commutes
    }
  }
  std::string s;
  for (std::size_t skip = chain_start_; skip < stack_.size(); ++skip) {
    if (!replay_chain_without(skip, &s)) continue;
    ++steps_;
    StepResult r = model_.step(s, op);
    if (r.legal && r.state == after.state) return true;  // absorbs stack_[skip]
  }
  return false;
}

Verdict Search::run(PartitionReport* report) {
  Verdict verdict = search();
  finish(verdict, report);
  return verdict;
}

Verdict Search::search() {
  state_ = model_.init();
  state_hash_ = hash_state(state_);
  note_depth();
  Cursor at;
  while (true) {
    int deadline = deadline_op();
    if (deadline < 0) return Verdict::kOk;  // every ok op is linearized
    sim::Time r = ret_[deadline];
    Outcome outcome = Outcome::kOpen;
    if (at.list < 0) {
      outcome = enter(r);
      at = Cursor{kMutatingOk, next_[n_ + kMutatingOk]};
    }
    if (outcome == Outcome::kOpen) outcome = try_candidates(r, &at);
    if (outcome == Outcome::kGiveUp) return Verdict::kUnknown;
    if (outcome == Outcome::kPushed) {
      at = Cursor{};
      if (stack_.size() > best_.size()) note_depth();
      continue;
    }
    if (!backtrack(&at)) return Verdict::kViolated;
  }
}

// The checks a configuration gets once, before its candidates: a forced read, and cheap proofs
// that it fails.
Search::Outcome Search::enter(sim::Time r) {
  Outcome outcome = take_matching_read(r);
  if (outcome != Outcome::kOpen) return outcome;
  if (later_read_impossible(r)) return Outcome::kFails;
  if (non_blind_left_ == 0 && unobservable_seen()) return Outcome::kFails;
  return Outcome::kOpen;
}

// A read-only op whose output matches now commutes to the front of any linearization that
// exists from here: take it, without alternatives. Not memoized: the child's fate is its
// parent's, and the parent is.
Search::Outcome Search::take_matching_read(sim::Time r) {
  for (int i = next_[n_ + kReadOnly]; i != n_ + kReadOnly && inv_[i] <= r; i = next_[i]) {
    if (steps_ >= options_.steps_max) return Outcome::kGiveUp;
    ++steps_;
    StepResult s = model_.step(state_, *ops_[i]);
    if (!s.legal || s.output != ops_[i]->output) {
      // A read that can never be explained from here fails the configuration.
      if (!model_.viable(state_, *ops_[i])) return Outcome::kFails;
      continue;
    }
    if (s.state != state_) {
      contract_note_ = "the " + model_.name() + " model says " + describe_op(*ops_[i]) +
                       " is read-only, but step() changed the state from " + show(state_) + " to " +
                       show(s.state);
      return Outcome::kGiveUp;
    }
    push(i, kReadOnly, true, &s, state_hash_, 0);
    return Outcome::kPushed;
  }
  return Outcome::kOpen;
}

// Reads invoked after R come after everything linearized so far: a few of them can already
// rule this configuration out.
bool Search::later_read_impossible(sim::Time r) const {
  int looked = 0;
  for (int i = next_[n_ + kReadOnly]; i != n_ + kReadOnly && looked < kLookaheadReads;
       i = next_[i]) {
    if (inv_[i] <= r) continue;
    ++looked;
    if (!model_.viable(state_, *ops_[i])) return true;
  }
  return false;
}

// No pending read matches this state and nothing is left but reads and blind ops: the state can
// never be observed, so every such state behaves alike. They are memoized as one.
bool Search::unobservable_seen() {
  SIM_ASSERT(non_blind_left_ == 0);
  return !memo_.insert(memo_key(set_a_, set_b_, kUnobservableState ^ chain_hash_));
}

// Tries the candidates from `*at` on, in list order; each try advances `*at`.
Search::Outcome Search::try_candidates(sim::Time r, Cursor* at) {
  while (at->list < kLists) {
    int node = at->node;
    if (node == n_ + at->list || inv_[node] > r) {
      ++at->list;
      if (at->list < kLists) at->node = next_[n_ + at->list];
      continue;
    }
    SIM_ASSERT(!linearized_[node]);  // the lists hold only nodes not yet linearized
    if (steps_ >= options_.steps_max) return Outcome::kGiveUp;
    at->node = next_[node];
    // An earlier op of its class is still available: that one stands for both.
    if (at->list == kMutatingUnknown && class_twin_pending(node)) continue;
    if (try_move(node, at->list)) return Outcome::kPushed;
  }
  return Outcome::kFails;
}

// Linearizes `node` next if the model allows it and the child configuration is not known to
// fail.
bool Search::try_move(int node, int list) {
  ++steps_;
  StepResult s = model_.step(state_, *ops_[node]);
  if (!worth_trying(node, s)) return false;
  std::uint64_t h = hash_state(s.state);
  std::uint64_t chain = child_chain(node, list);
  MemoKey key = memo_key(set_a_ ^ z1_[node], set_b_ ^ z2_[node], h ^ chain);
  if (!memo_.insert(key)) return false;
  push(node, list, false, &s, h, chain);
  // The key memoized is the key of the configuration the move reached.
  SIM_ASSERT(memo_key(set_a_, set_b_, state_hash_ ^ chain_hash_) == key);
  return true;
}

bool Search::worth_trying(int node, const StepResult& s) {
  bool useful = s.legal && (!ok_[node] || s.output == ops_[node]->output);
  if (!useful || chain_start_ < 0) return useful;
  return ok_[node] ? !independent_of_chain(node, s) : !redundant_extension(node, s);
}

// The chain context a child configuration will have.
std::uint64_t Search::child_chain(int node, int list) const {
  if (list != kMutatingUnknown) return 0;
  std::uint64_t base =
      chain_start_ < 0 ? splitmix64(state_hash_ ^ 0x632be59bd9b4e019ULL) : chain_hash_;
  return splitmix64(base ^ static_cast<std::uint64_t>(node));
}

void Search::push(int node, int list, bool forced, StepResult* s, std::uint64_t h,
                  std::uint64_t chain_hash) {
  // Real-time order: the op was invoked no later than the earliest pending completion.
  int deadline = deadline_op();
  SIM_ASSERT(deadline >= 0);
  SIM_ASSERT(inv_[node] <= ret_[deadline]);
  stack_.push_back(
      Frame{node, list, forced, std::string(), state_hash_, chain_start_, chain_hash_});
  if (list != kReadOnly) {
    stack_.back().prev_state = std::move(state_);
    state_ = std::move(s->state);
    state_hash_ = h;
  }
  if (list == kMutatingUnknown && chain_start_ < 0) {
    chain_start_ = static_cast<int>(stack_.size()) - 1;
  } else if (list != kMutatingUnknown) {
    chain_start_ = -1;
  }
  chain_hash_ = chain_hash;
  lift(node);
  set_a_ ^= z1_[node];
  set_b_ ^= z2_[node];
  // The linearized set grew by exactly this node.
  SIM_ASSERT(linearized_count_ == stack_.size());
  SIM_ASSERT(chain_start_ < 0 || stack_[chain_start_].list == kMutatingUnknown);
}

// Undoes moves until one has an untried alternative, where `*resume` then points. False when
// none is left: the part has no linearization.
bool Search::backtrack(Cursor* resume) {
  while (!stack_.empty()) {
    Frame f = pop();
    if (f.forced) continue;
    *resume = Cursor{f.list, next_[f.node]};
    return true;
  }
  return false;
}

Search::Frame Search::pop() {
  Frame f = std::move(stack_.back());
  stack_.pop_back();
  low_water_ = std::min(low_water_, stack_.size());
  unlift(f.node);
  set_a_ ^= z1_[f.node];
  set_b_ ^= z2_[f.node];
  if (f.list != kReadOnly) {
    state_ = std::move(f.prev_state);
    state_hash_ = f.prev_state_hash;
    SIM_ASSERT(hash_state(state_) == state_hash_);  // the state restored is the one saved
  } else {
    SIM_ASSERT(f.prev_state_hash == state_hash_);  // everything above the read was undone
  }
  chain_start_ = f.prev_chain_start;
  chain_hash_ = f.prev_chain_hash;
  SIM_ASSERT(linearized_count_ == stack_.size());
  SIM_ASSERT(chain_start_ < static_cast<int>(stack_.size()));
  if (stack_.empty()) {
    // Back at the root: the set hashes are the empty set's again.
    SIM_ASSERT(set_a_ == 0);
    SIM_ASSERT(set_b_ == 0);
  }
  return f;
}

void Search::finish(Verdict verdict, PartitionReport* report) {
  if (verdict == Verdict::kOk) check_linearization();
  if (verdict == Verdict::kViolated) SIM_ASSERT(stack_.empty());  // every order was tried
  if (verdict == Verdict::kUnknown) {
    SIM_ASSERT(steps_ >= options_.steps_max || !contract_note_.empty());
  }
  report->steps += steps_;
  report->memo_entries_peak = memo_.size();
  report->memo_evictions = memo_.evictions();
  SIM_ASSERT(memo_.size() <= options_.memo_entries_max);
  if (verdict != Verdict::kOk) explain(report);
  if (verdict == Verdict::kUnknown && contract_note_.empty()) {
    report->explanation = "gave up after " + std::to_string(steps_) + " model steps (steps_max); " +
                          report->explanation;
  } else if (verdict == Verdict::kUnknown) {
    report->explanation = contract_note_;
  }
}

// An ok verdict rests on the stack: it must hold every ok op, in an order that respects real
// time (nothing placed after an op completed before that op was invoked). O(n), once.
void Search::check_linearization() const {
  for (int i = 0; i < n_; ++i) SIM_ASSERT(!ok_[i] || linearized_[i]);
  sim::Time earliest_later_ret = sim::kTimeMax;
  for (auto it = stack_.rbegin(); it != stack_.rend(); ++it) {
    SIM_ASSERT(inv_[it->node] <= earliest_later_ret);
    earliest_later_ret = std::min(earliest_later_ret, ret_[it->node]);
  }
}

void Search::explain(PartitionReport* report) const {
  SIM_ASSERT(best_.size() <= static_cast<std::size_t>(n_));
  for (int i : best_) report->longest_prefix.push_back(ops_[i]->id);
  report->state_after_prefix = best_state_;
  if (best_blocked_ < 0) return;
  // The blocked op is pending after the prefix, so it cannot be part of it. O(n), once.
  SIM_ASSERT(std::find(best_.begin(), best_.end(), best_blocked_) == best_.end());
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
           model_.name() + " model expects " + show(s.output) + " there";
    const std::string diff = model_.difference(s.output, blocked.output);
    text += diff.empty() ? "." : " (" + diff + ").";
  }
  text +=
      " No order of the operations concurrent with it explains that: the longest valid "
      "linearization covers " +
      std::to_string(best_.size()) + " of " + std::to_string(n_) +
      " operations (state after it: " + show(best_state_) + ").";
  report->explanation = text;
  add_timeline(report);
}

// The failing window: ops overlapping the blocked one, and the tail of the prefix.
void Search::add_timeline(PartitionReport* report) const {
  const sim::Operation& blocked = *ops_[best_blocked_];
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

bool by_invoke_then_id(const sim::Operation* a, const sim::Operation* b) {
  return a->invoke != b->invoke ? a->invoke < b->invoke : a->id < b->id;
}

// A refuted read's report: the verdict, the explanation, and the timeline of the read and the
// operations the explanation names, by invocation.
void report_refuted(const sim::Operation& r, std::string explanation,
                    std::vector<const sim::Operation*> shown, const std::string& model,
                    PartitionReport* report) {
  report->verdict = Verdict::kViolated;
  report->method = CheckMethod::kRefuted;
  report->blocked_op = r.id;
  report->explanation =
      std::move(explanation) + " No linearization can order it (the " + model + " model).";
  shown.push_back(&r);
  std::sort(shown.begin(), shown.end(), by_invoke_then_id);
  shown.erase(std::unique(shown.begin(), shown.end()), shown.end());
  for (const sim::Operation* op : shown) {
    std::string line = format_op_line(*op);
    if (op == &r) line += "   <- cannot be linearized";
    report->timeline.push_back(std::move(line));
  }
}

// Step 3 of the header: a read that real-time order rules out, for models whose operations are
// all reads or blind writes with equality reads (register, kv).
class RealTimeRefutation {
 public:
  explicit RealTimeRefutation(const Model& model)
      : model_(model), name_(model.name()), init_(model.init()) {}

  // Fills `report` and returns true when some read of `ops` is impossible.
  bool refute(const std::vector<const sim::Operation*>& ops, PartitionReport* report);

 private:
  // Reads with more candidate sources are left to the search.
  static constexpr std::size_t kSourcesMax = 8;

  struct Write {
    const sim::Operation* op;
    std::string value;
  };
  // Over a prefix of ok_writes_: the latest-invoked write (`first`) and the latest-invoked one
  // whose value differs from first's (`second`).
  struct Best {
    const Write* first = nullptr;
    const Write* second = nullptr;
  };

  bool collect(const std::vector<const sim::Operation*>& ops);
  void index_overwrites();
  const Write* latest_overwrite(sim::Time t, const std::string& v) const;
  std::vector<const Write*> sources_of(const sim::Operation& r) const;
  bool impossible(const sim::Operation& r, bool from_init, const std::vector<const Write*>& sources,
                  std::string* why) const;
  void report_read(const sim::Operation& r, const std::vector<const Write*>& sources,
                   const std::string& why, PartitionReport* report) const;

  const Model& model_;
  const std::string name_;
  const std::string init_;
  std::map<std::string, std::vector<Write>> by_value_;
  std::vector<Write> ok_writes_;  // by completion, once indexed
  std::vector<Best> prefix_;      // prefix_[i]: over ok_writes_[0..i]
  std::vector<const sim::Operation*> reads_;
};

bool RealTimeRefutation::refute(const std::vector<const sim::Operation*>& ops,
                                PartitionReport* report) {
  if (name_ != "register" && name_ != "kv") return false;
  if (!collect(ops) || reads_.empty()) return false;
  index_overwrites();
  std::sort(reads_.begin(), reads_.end(), by_invoke_then_id);
  for (const sim::Operation* r : reads_) {
    bool from_init = model_.step(init_, *r).output == r->output;
    std::vector<const Write*> sources = sources_of(*r);
    if (sources.size() + (from_init ? 1 : 0) > kSourcesMax) continue;
    std::string why;
    if (!impossible(*r, from_init, sources, &why)) continue;
    report_read(*r, sources, why, report);
    return true;
  }
  return false;
}

// Sorts the ops into ok reads and writes by value; false if some op is neither a read nor a
// blind write (e.g. a compare-and-set), or is illegal.
bool RealTimeRefutation::collect(const std::vector<const sim::Operation*>& ops) {
  for (const sim::Operation* op : ops) {
    if (model_.read_only(*op)) {
      if (is_ok(*op)) reads_.push_back(op);
    } else if (model_.blind(*op)) {
      StepResult s = model_.step(init_, *op);
      if (!s.legal) return false;
      Write w{op, s.state};
      by_value_[s.state].push_back(w);
      if (is_ok(*op)) ok_writes_.push_back(std::move(w));
    } else {
      return false;
    }
  }
  return true;
}

// Ok writes by completion, and per prefix the Best pair: the latest-invoked write with a value
// other than v is then first (if its value is not v) or second.
void RealTimeRefutation::index_overwrites() {
  std::sort(ok_writes_.begin(), ok_writes_.end(),
            [](const Write& a, const Write& b) { return a.op->complete < b.op->complete; });
  prefix_.resize(ok_writes_.size());
  Best cur;
  for (std::size_t i = 0; i < ok_writes_.size(); ++i) {
    const Write* w = &ok_writes_[i];
    if (cur.first == nullptr || w->op->invoke > cur.first->op->invoke) {
      // Everything older with a value other than w's: the old first (if it differs) is the
      // latest of them; else the old second (its value differs from first's, which is w's).
      if (cur.first != nullptr && cur.first->value != w->value) cur.second = cur.first;
      cur.first = w;
    } else if (w->value != cur.first->value &&
               (cur.second == nullptr || w->op->invoke > cur.second->op->invoke)) {
      cur.second = w;
    }
    SIM_ASSERT(cur.second == nullptr || cur.second->value != cur.first->value);
    prefix_[i] = cur;
  }
}

// The latest-invoked ok write with a value other than `v` among those completed before `t`.
const RealTimeRefutation::Write* RealTimeRefutation::latest_overwrite(sim::Time t,
                                                                      const std::string& v) const {
  auto end = std::lower_bound(ok_writes_.begin(), ok_writes_.end(), t,
                              [](const Write& w, sim::Time x) { return w.op->complete < x; });
  if (end == ok_writes_.begin()) return nullptr;
  const Best& b = prefix_[static_cast<std::size_t>(end - ok_writes_.begin()) - 1];
  const Write* over = b.first->value != v ? b.first : b.second;
  SIM_ASSERT(over == nullptr || over->value != v);
  SIM_ASSERT(over == nullptr || over->op->complete < t);
  return over;
}

// The writes begun before `r` ended whose value `r` returns.
std::vector<const RealTimeRefutation::Write*> RealTimeRefutation::sources_of(
    const sim::Operation& r) const {
  std::vector<const Write*> sources;
  std::vector<std::string> spellings = {r.output};
  if (r.output.empty()) spellings.push_back("null");
  for (const std::string& v : spellings) {
    auto it = by_value_.find(v);
    if (it == by_value_.end()) continue;
    for (const Write& w : it->second) {
      if (w.op->invoke > r.complete) continue;  // begun after the read ended
      if (model_.step(w.value, r).output != r.output) continue;
      sources.push_back(&w);
    }
  }
  return sources;
}

// True if every source of `r` (and the initial state, if it gives r's output) was overwritten
// by a later write that completed before `r` began; `*why` then says how.
bool RealTimeRefutation::impossible(const sim::Operation& r, bool from_init,
                                    const std::vector<const Write*>& sources,
                                    std::string* why) const {
  if (from_init) {
    const Write* over = latest_overwrite(r.invoke, init_);
    if (over == nullptr) return false;
    *why += "the initial value was overwritten by " + describe_op(*over->op) + " (of " +
            show(over->value) + "), which completed at " + sim::format_time(over->op->complete);
  }
  for (const Write* w : sources) {
    const Write* over = latest_overwrite(r.invoke, w->value);
    // A write of unknown outcome may take effect at any time after its invoke.
    if (over == nullptr || !is_ok(*w->op) || !(w->op->complete < over->op->invoke)) return false;
    if (!why->empty()) *why += "; ";
    *why += describe_op(*w->op) + " wrote it and completed at " +
            sim::format_time(w->op->complete) + ", before " + describe_op(*over->op) + " (of " +
            show(over->value) + ") began at " + sim::format_time(over->op->invoke) +
            " and completed at " + sim::format_time(over->op->complete);
  }
  return true;
}

void RealTimeRefutation::report_read(const sim::Operation& r,
                                     const std::vector<const Write*>& sources,
                                     const std::string& why, PartitionReport* report) const {
  std::string explanation = describe_op(r) + " returned " + show(r.output) + " (began at " +
                            sim::format_time(r.invoke) + "), but ";
  explanation += why.empty() ? "no write begun before it ended wrote that value."
                             : why + ", before the read began.";
  std::vector<const sim::Operation*> shown;
  for (const Write* w : sources) shown.push_back(w->op);
  if (const Write* over = latest_overwrite(r.invoke, r.output)) shown.push_back(over->op);
  report_refuted(r, std::move(explanation), std::move(shown), name_, report);
}

// Step 3 for the collection models (set, list): a read that is missing an element whose add
// was acknowledged before the read began (with nothing that could have removed it), or that
// holds an element no add begun before the read ended could have put there, or (list) that
// shows two appends in the opposite order of their real-time order. Each element's ops are
// indexed once; a read costs the size of its output plus the elements with an acknowledged
// add. Sound only; never accepts.
class ElementRefutation {
 public:
  explicit ElementRefutation(const Model& model) : name_(model.name()) {}

  bool refute(const std::vector<const sim::Operation*>& ops, PartitionReport* report);

 private:
  static constexpr std::size_t kNamedMax = 10;
  struct Element {
    std::vector<const sim::Operation*> adds;      // add/append, any status but fail
    std::vector<const sim::Operation*> removes;   // remove, any status but fail
    sim::Time first_ok_complete = sim::kTimeMax;  // the earliest acknowledged add's completion
    const sim::Operation* first_ok = nullptr;
  };
  static std::vector<std::string> items(const std::string& output);
  bool check_read(const sim::Operation& r, PartitionReport* report) const;
  bool check_order(const sim::Operation& r, const std::vector<std::string>& seen,
                   PartitionReport* report) const;

  const std::string name_;
  std::map<std::string, Element> elements_;
  std::vector<const sim::Operation*> reads_;
};

std::vector<std::string> ElementRefutation::items(const std::string& output) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at <= output.size()) {
    const std::size_t comma = std::min(output.find(',', at), output.size());
    if (comma > at) out.push_back(output.substr(at, comma - at));
    at = comma + 1;
  }
  return out;
}

bool ElementRefutation::refute(const std::vector<const sim::Operation*>& ops,
                               PartitionReport* report) {
  if (name_ != "set" && name_ != "list") return false;
  for (const sim::Operation* op : ops) {
    if (op->kind == "read") {
      if (is_ok(*op)) reads_.push_back(op);
    } else if (op->kind == "add" || op->kind == "append") {
      Element& e = elements_[op->input];
      e.adds.push_back(op);
      if (is_ok(*op) && op->complete < e.first_ok_complete) {
        e.first_ok_complete = op->complete;
        e.first_ok = op;
      }
    } else if (op->kind == "remove") {
      elements_[op->input].removes.push_back(op);
    } else if (op->kind != "contains") {
      return false;  // an unknown kind: the search names it
    }
  }
  std::sort(reads_.begin(), reads_.end(), by_invoke_then_id);
  for (const sim::Operation* r : reads_) {
    if (check_read(*r, report)) return true;
  }
  return false;
}

bool ElementRefutation::check_read(const sim::Operation& r, PartitionReport* report) const {
  const std::vector<std::string> seen = items(r.output);
  std::map<std::string, std::size_t> count;
  for (const std::string& x : seen) ++count[x];
  std::vector<const sim::Operation*> shown;
  std::vector<std::string> missing, unexpected;
  for (const auto& [x, e] : elements_) {
    if (count.contains(x) || e.first_ok == nullptr || !(e.first_ok_complete < r.invoke)) continue;
    // Acknowledged before the read began: present unless a remove may come between.
    const bool removable =
        std::any_of(e.removes.begin(), e.removes.end(),
                    [&](const sim::Operation* m) { return m->invoke <= r.complete; });
    if (removable) continue;
    missing.push_back(x);
    if (shown.size() < kNamedMax) shown.push_back(e.first_ok);
  }
  for (const auto& [x, n] : count) {
    auto it = elements_.find(x);
    std::size_t possible = 0;  // adds begun before the read ended
    if (it != elements_.end()) {
      for (const sim::Operation* a : it->second.adds) possible += a->invoke <= r.complete ? 1 : 0;
    }
    // A set shows an element once however often it was added; a list once per append.
    if (possible == 0 || (name_ == "list" && n > possible)) unexpected.push_back(x);
  }
  if (missing.empty() && unexpected.empty()) {
    return name_ == "list" && check_order(r, seen, report);
  }
  auto named = [](const std::vector<std::string>& xs) {
    std::string out;
    for (std::size_t i = 0; i < xs.size() && i < kNamedMax; ++i)
      out += (i ? ", " : "") + show(xs[i]);
    if (xs.size() > kNamedMax) out += " and " + std::to_string(xs.size() - kNamedMax) + " more";
    return out;
  };
  std::string why = describe_op(r) + " (began at " + sim::format_time(r.invoke) + ")";
  if (!missing.empty()) {
    why += " is missing " + std::to_string(missing.size()) + " element" +
           (missing.size() == 1 ? "" : "s") + " whose " + (name_ == "list" ? "append" : "add") +
           " was acknowledged before it began, with nothing that could have removed " +
           (missing.size() == 1 ? "it" : "them") + ": " + named(missing) +
           " (lost acknowledged writes)";
  }
  if (!unexpected.empty()) {
    why += std::string(missing.empty() ? "" : "; and it") + " holds " + named(unexpected) +
           ", which no " + (name_ == "list" ? "append" : "add") +
           " begun before it ended could have put there";
  }
  report_refuted(r, why + ".", shown, name_, report);
  return true;
}

// A list read must show every two elements in an order their appends allow: x before y is
// impossible when y's (only) append completed before x's (only) append began.
bool ElementRefutation::check_order(const sim::Operation& r, const std::vector<std::string>& seen,
                                    PartitionReport* report) const {
  const sim::Operation* latest_begun = nullptr;  // over the prefix: the latest-invoked append
  for (const std::string& x : seen) {
    auto it = elements_.find(x);
    if (it == elements_.end() || it->second.adds.size() != 1) return false;
    const sim::Operation* a = it->second.adds.front();
    if (latest_begun != nullptr && is_ok(*a) && a->complete < latest_begun->invoke) {
      report_refuted(r,
                     describe_op(r) + " shows " + show(latest_begun->input) + " before " + show(x) +
                         ", but " + describe_op(*a) + " completed at " +
                         sim::format_time(a->complete) + ", before " + describe_op(*latest_begun) +
                         " began at " + sim::format_time(latest_begun->invoke) + ".",
                     {a, latest_begun}, name_, report);
      return true;
    }
    if (latest_begun == nullptr || a->invoke > latest_begun->invoke) latest_begun = a;
  }
  return false;
}

// Drops what cannot matter: failed ops, and unknown read-only ops. Counts them in `report`.
std::vector<const sim::Operation*> relevant_ops(const Model& model,
                                                const std::vector<const sim::Operation*>& ops,
                                                PartitionReport* report) {
  std::vector<const sim::Operation*> kept;
  for (const sim::Operation* op : ops) {
    bool drop = op->status == sim::OpStatus::kFail || (!is_ok(*op) && model.read_only(*op));
    if (drop) {
      ++report->ops_dropped;
      continue;
    }
    kept.push_back(op);
  }
  report->ops = kept.size();
  return kept;
}

// Steps 2 to 4 of the header, cheapest first, on the kept ops of one part.
void decide(const Model& model, std::vector<const sim::Operation*> kept,
            const LinearizabilityOptions& options, PartitionReport* report) {
  bool any_ok =
      std::any_of(kept.begin(), kept.end(), [](const sim::Operation* op) { return is_ok(*op); });
  if (!any_ok) {
    report->method = CheckMethod::kTrivial;  // unknown ops alone may all never take effect
    return;
  }
  if (options.use_witness) {
    WitnessOutcome w = check_witness(model, kept);
    report->steps += w.steps;
    if (w.accepted) {
      report->method = CheckMethod::kWitness;
      return;
    }
    report->witness_note = w.note;
  }
  if (options.use_refutation && (RealTimeRefutation(model).refute(kept, report) ||
                                 ElementRefutation(model).refute(kept, report))) {
    return;
  }
  report->method = CheckMethod::kSearch;
  Search search(model, std::move(kept), options);
  report->verdict = search.run(report);
}

PartitionReport check_part(const std::string& object, const std::string& key, const Part& part,
                           const LinearizabilityOptions& options) {
  PartitionReport report;
  report.object = object;
  report.key = key;
  decide(*part.model, relevant_ops(*part.model, part.ops, &report), options, &report);
  SIM_ASSERT(report.ops + report.ops_dropped == part.ops.size());
  // Only the search may fail to decide, and every verdict but ok carries its reason.
  SIM_ASSERT(report.verdict != Verdict::kUnknown || report.method == CheckMethod::kSearch);
  SIM_ASSERT(report.verdict == Verdict::kOk || !report.explanation.empty());
  if (report.method == CheckMethod::kTrivial || report.method == CheckMethod::kWitness) {
    SIM_ASSERT(report.verdict == Verdict::kOk);
  }
  if (report.method == CheckMethod::kRefuted) SIM_ASSERT(report.verdict == Verdict::kViolated);
  return report;
}

// The verdict of the whole history from its partitions' (header of verdict.h): violated wins
// over unknown, unknown over ok.
Verdict combined(const LinearizabilityResult& result) {
  if (result.count(Verdict::kViolated) > 0) return Verdict::kViolated;
  if (result.count(Verdict::kUnknown) > 0) return Verdict::kUnknown;
  return Verdict::kOk;
}

PartitionReport skipped_part(const std::string& object, const std::string& key, const Part& part) {
  PartitionReport report;
  report.object = object;
  report.key = key;
  report.ops = part.ops.size();
  report.verdict = Verdict::kUnknown;
  report.method = CheckMethod::kSkipped;
  report.explanation = "not checked: an earlier partition was violated";
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
  SIM_REQUIRE(model_for != nullptr);
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
    PartitionReport report = stop ? skipped_part(where.first, where.second, part)
                                  : check_part(where.first, where.second, part, options);
    result.steps += report.steps;
    result.verdict = worst(result.verdict, report.verdict);
    stop = stop || (options.stop_at_first_violation && report.verdict == Verdict::kViolated);
    result.partitions.push_back(std::move(report));
  }
  // The history is linearizable iff every part is (P-compositionality); unknown is never ok.
  SIM_ASSERT(result.verdict == combined(result));
  return result;
}

sim::Result<LinearizabilityResult> check_linearizability(const std::vector<sim::Operation>& history,
                                                         const Model& model,
                                                         const LinearizabilityOptions& options) {
  return check_linearizability(
      history, [&model](const std::string&) { return &model; }, options);
}

}  // namespace props
