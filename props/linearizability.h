// Linearizability of a recorded history against a sequential Model (props/models.h).
//
// A history is linearizable when every operation can be given a point in time inside its
// [invoke, complete] interval such that applying the operations one by one, in the order of
// their points, to the model gives every output that was recorded. Per status:
//   ok       took effect exactly once inside its interval; its output is checked;
//   fail     surely had no effect: dropped;
//   unknown  (and pending) may take effect at any time after its invoke, or never; its output is
//            not checked. Unknown read-only operations are dropped: they cannot matter.
// Real-time order is strict: A precedes B only if A.complete < B.invoke. Operations that meet at
// one virtual instant count as concurrent (the scheduler orders same-instant events by a seeded
// draw, so either order could have happened).
//
// How it is checked, per partition:
//   1. P-compositionality: the history is split by (object, model.partition_key(op)); each part
//      is checked on its own and the history is linearizable iff every part is.
//   2. The effect witness, O(n log n): when every ok operation of the part has an effect_seq
//      (the order in which the simulator really applied it), the ops with an effect_seq are
//      replayed in that order; if each effect point fits inside its interval monotonically and
//      the model reproduces every output, the part is linearizable. Unknown ops without an
//      effect_seq are taken to have had no effect.
//   3. A refutation by real-time order, O(n log n), for the register and kv models (every
//      operation a read or a blind write): a read is impossible when every write that could have
//      supplied its value (and the initial state) was surely overwritten by another value before
//      the read began (the source completed before the overwriting write began, which completed
//      before the read began), or when no write begun before the read ended wrote it. Such a
//      read proves the part violated at once, so a bad history costs what a good one does. Reads
//      with more than 8 candidate sources are left to the search. Sound only; never accepts.
//      For the set and list models, the same idea per element: a read that is missing an element
//      whose add (append) was acknowledged before the read began, with no remove begun before
//      the read ended; a read holding an element (a list: more copies of it) than the adds begun
//      before it ended explain; a list read showing y before x where x's only append completed
//      before y's only append began. The report names the missing and unexpected elements.
//   4. Otherwise, a Wing & Gong search with Lowe's memoization (just-in-time linearization):
//      depth-first over "linearize one of the operations invoked before the earliest pending
//      completion", memoizing failed (linearized set, state) configurations. The set is hashed
//      incrementally (two 64-bit Zobrist hashes: one XOR per step); the memo is an LRU set of
//      128-bit fingerprints bounded by `memo_entries_max`. A read-only op whose output matches
//      is linearized at once without branching (it commutes forward). Past `steps_max` model
//      steps the part's verdict is kUnknown, never a silent pass.
//
// Fingerprints: two distinct configurations share a fingerprint with probability about 2^-128
// per pair; such a collision could only make the search skip a configuration (a false
// violation), never accept a bad history.
//
// Evidence for a violation: the longest partial linearization the search found, the operation
// that cannot follow it, one plain sentence ("read #12 by c3 returned 3 after increment #7 by c1
// completed with 4; the model expects 4 there"), and a timeline of the operations around it.
//
// Single-threaded; no hidden state. The result is a pure function of (history, model, options).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "props/models.h"
#include "props/verdict.h"
#include "sim/history.h"
#include "sim/result.h"

namespace props {

struct LinearizabilityOptions {
  // Try the recorded effect order first (step 2 above).
  bool use_witness = true;
  // Try the real-time refutation before the search (step 3 above).
  bool use_refutation = true;
  // Model steps the search may take per partition before answering kUnknown.
  std::uint64_t steps_max = 200'000'000;
  // Memoized configurations per partition (about 32 bytes each).
  std::size_t memo_entries_max = std::size_t{8} << 20;
  // Stop after the first violated partition (the others are reported as not checked: kUnknown).
  bool stop_at_first_violation = false;
  // Lines of the failing window's timeline.
  std::size_t timeline_ops_max = 24;
};

enum class CheckMethod {
  kTrivial,  // nothing to order (no ok operation left after dropping)
  kWitness,  // the recorded effect order was a valid linearization
  kSearch,   // the search decided (or gave up)
  kSkipped,  // not checked (stop_at_first_violation)
  kRefuted,  // a read that real-time order alone rules out (register, kv, set, list; see above)
};
const char* check_method_name(CheckMethod m);

// One (object, partition key) part of the history.
struct PartitionReport {
  std::string object;
  std::string key;  // model.partition_key() of its operations
  Verdict verdict = Verdict::kOk;
  CheckMethod method = CheckMethod::kTrivial;
  std::size_t ops = 0;          // operations checked
  std::size_t ops_dropped = 0;  // failed ops, and unknown read-only ops
  // Why the effect witness was not accepted ("" when it was, or when there was none).
  std::string witness_note;
  std::uint64_t steps = 0;  // model steps (witness replay plus search)
  std::size_t memo_entries_peak = 0;
  std::uint64_t memo_evictions = 0;

  // Evidence, when verdict != kOk (for kUnknown: how far the search got).
  std::vector<sim::OpId> longest_prefix;  // op ids, in linearization order
  std::string state_after_prefix;
  sim::OpId blocked_op = 0;           // the operation that cannot follow the prefix
  std::string explanation;            // plain language, one or two sentences
  std::vector<std::string> timeline;  // the failing window, one operation per line
};

struct LinearizabilityResult {
  Verdict verdict = Verdict::kOk;
  std::vector<PartitionReport> partitions;  // ordered by (object, key)
  std::size_t ops = 0;                      // operations in the input
  std::uint64_t steps = 0;                  // model steps, all partitions

  std::size_t count(Verdict v) const;
  // Several lines: the verdict, then every partition that is not ok (at most
  // `partitions_max` of them) with its explanation and timeline.
  std::string report(std::size_t partitions_max = 5) const;
};

// Checks the whole history against one model.
// Errors (kInvalid) for a malformed history: an ok or fail operation without a finite
// completion, or one that completes before it was invoked.
sim::Result<LinearizabilityResult> check_linearizability(
    const std::vector<sim::Operation>& history, const Model& model,
    const LinearizabilityOptions& options = {});

// Several objects, each with its model: `model_for(object)` returns the model (owned by the
// caller, alive during the call) or nullptr to skip that object's operations.
using ModelFor = std::function<const Model*(const std::string& object)>;
sim::Result<LinearizabilityResult> check_linearizability(
    const std::vector<sim::Operation>& history, const ModelFor& model_for,
    const LinearizabilityOptions& options = {});

// "read #12 by c3": how reports name an operation.
std::string describe_op(const sim::Operation& op);
// "[0.010000s, 0.012000s] #7 c1 increment 1 -> 4 ok"; unknown completions print "?".
std::string format_op_line(const sim::Operation& op);

}  // namespace props
