#include "props/linearizability.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <functional>

#include "props/test_util.h"

namespace props {
namespace {

using sim::millis;
using sim::OpStatus;

// An operation, field by field.
sim::Operation op(sim::OpId id, std::string client, std::string object, std::string kind,
                  std::string input, std::string output, sim::Time invoke, sim::Time complete,
                  OpStatus status, std::uint64_t effect_seq = 0) {
  sim::Operation o;
  o.id = id;
  o.client = std::move(client);
  o.object = std::move(object);
  o.kind = std::move(kind);
  o.input = std::move(input);
  o.output = std::move(output);
  o.invoke = invoke;
  o.complete = complete;
  o.status = status;
  o.effect_seq = effect_seq;
  return o;
}

const char* const kModels[] = {"register", "counter", "kv", "set", "list"};

// Random generator options for `model`: sizes, concurrency, fault rates and the witness.
test::GenOptions gen_options(const std::string& model) {
  test::GenOptions o;
  o.model = model;
  o.seed = *rc::gen::arbitrary<std::uint64_t>();
  o.clients = *rc::gen::inRange(1, 9);
  // Lists carry their whole content in every state: keep them short.
  o.ops = *rc::gen::inRange(1, model == "list" ? 60 : 250);
  o.keys = *rc::gen::inRange(1, 4);
  o.read_rate = *rc::gen::element(0.2, 0.5, 0.8);
  o.fail_rate = *rc::gen::element(0.0, 0.05, 0.2);
  o.unknown_rate = *rc::gen::element(0.0, 0.03, 0.1);
  o.long_op_rate = *rc::gen::element(0.0, 0.05);
  o.witness = *rc::gen::arbitrary<bool>();
  return o;
}

LinearizabilityResult check(const std::vector<sim::Operation>& ops, const std::string& model,
                            LinearizabilityOptions options = {}) {
  auto m = make_model(model);
  auto r = check_linearizability(ops, *m, options);
  RC_ASSERT(r.ok());
  return std::move(r).value();
}

// ---------------------------------------------------------------------------------------------
// Correct by construction: always accepted.

RC_GTEST_PROP(Linearizability, AcceptsCorrectHistoriesOfEveryModel, ()) {
  std::string model =
      *rc::gen::elementOf(std::vector<std::string>(std::begin(kModels), std::end(kModels)));
  test::GenOptions o = gen_options(model);
  if (model == "register") {
    o.cas_rate = *rc::gen::element(0.0, 0.3);
    o.value_domain = *rc::gen::element(0, 3);
  }
  auto ops = test::make_history(o);
  LinearizabilityResult r = check(ops, model);
  RC_ASSERT(r.verdict == Verdict::kOk);
  for (const PartitionReport& p : r.partitions) {
    RC_ASSERT(p.verdict == Verdict::kOk);
    // With a witness the fast path decides, unless fail/unknown ops make it incomplete.
    if (o.witness && p.method != CheckMethod::kTrivial) {
      RC_ASSERT(p.method == CheckMethod::kWitness);
    }
  }
}

RC_GTEST_PROP(Linearizability, SearchAloneAcceptsCorrectHistories, ()) {
  std::string model =
      *rc::gen::elementOf(std::vector<std::string>{"register", "counter", "kv", "set"});
  test::GenOptions o = gen_options(model);
  o.witness = false;
  auto ops = test::make_history(o);
  LinearizabilityResult r = check(ops, model);
  RC_ASSERT(r.verdict == Verdict::kOk);
  for (const PartitionReport& p : r.partitions) {
    RC_ASSERT(p.method == CheckMethod::kSearch || p.method == CheckMethod::kTrivial);
  }
}

RC_GTEST_PROP(Linearizability, AWrongWitnessFallsBackToTheSearch, ()) {
  test::GenOptions o = gen_options("register");
  o.witness = true;
  o.ops = *rc::gen::inRange(2, 200);
  auto ops = test::make_history(o);
  // Reverse the recorded effect order: usually not a valid linearization any more.
  std::uint64_t top = 0;
  for (const auto& op : ops) top = std::max(top, op.effect_seq);
  for (auto& op : ops) {
    if (op.effect_seq != 0) op.effect_seq = top + 1 - op.effect_seq;
  }
  LinearizabilityResult r = check(ops, "register");
  RC_ASSERT(r.verdict == Verdict::kOk);
}

RC_GTEST_PROP(Linearizability, ASmallMemoCostsWorkNotCorrectness, ()) {
  // A small memo forgets configurations: the search may redo work (and with the steps bound,
  // give up), but it never accepts a bad history nor rejects a good one.
  test::GenOptions o = gen_options("register");
  o.witness = false;
  o.clients = *rc::gen::inRange(1, 5);
  o.ops = *rc::gen::inRange(1, 60);
  auto ops = test::make_history(o);
  LinearizabilityOptions small;
  small.memo_entries_max = *rc::gen::inRange(8, 256);
  small.steps_max = 200'000;
  RC_ASSERT(check(ops, "register", small).verdict != Verdict::kViolated);
  test::TestRng rng(o.seed);
  test::plant_violation(ops, "register", rng);
  Verdict bad = check(ops, "register", small).verdict;
  RC_ASSERT(bad != Verdict::kOk);
  RC_CLASSIFY(bad == Verdict::kUnknown, "gave up");
}

// The definition, searched naively: every order of operations allowed by real time, unknown
// ops optional, no memo and no reductions. Exponential: for a few operations of one partition.
bool brute_force_linearizable(const std::vector<sim::Operation>& history, const Model& model) {
  std::vector<const sim::Operation*> ops;
  for (const auto& op : history) {
    if (op.status != OpStatus::kFail) ops.push_back(&op);
  }
  std::vector<bool> done(ops.size(), false);
  std::function<bool(const std::string&)> extend = [&](const std::string& state) {
    sim::Time deadline = sim::kTimeMax;
    bool pending_ok = false;
    for (std::size_t i = 0; i < ops.size(); ++i) {
      if (!done[i] && ops[i]->status == OpStatus::kOk) {
        deadline = std::min(deadline, ops[i]->complete);
        pending_ok = true;
      }
    }
    if (!pending_ok) return true;
    for (std::size_t i = 0; i < ops.size(); ++i) {
      if (done[i] || ops[i]->invoke > deadline) continue;
      StepResult s = model.step(state, *ops[i]);
      if (!s.legal || (ops[i]->status == OpStatus::kOk && s.output != ops[i]->output)) continue;
      done[i] = true;
      bool found = extend(s.state);
      done[i] = false;
      if (found) return true;
    }
    return false;
  };
  return extend(model.init());
}

RC_GTEST_PROP(Linearizability, AgreesWithTheDefinitionOnSmallHistories, ()) {
  // Random small histories, correct or corrupted: the checker (witness, memo and every search
  // reduction) must agree with the naive search of the definition.
  std::string model =
      *rc::gen::elementOf(std::vector<std::string>(std::begin(kModels), std::end(kModels)));
  test::GenOptions o = gen_options(model);
  o.ops = *rc::gen::inRange(1, 11);
  o.keys = 1;
  o.clients = *rc::gen::inRange(1, 6);
  o.long_op_rate = *rc::gen::element(0.0, 0.3);
  if (model == "register") {
    o.cas_rate = *rc::gen::element(0.0, 0.3);
    o.value_domain = *rc::gen::element(0, 2);
  }
  auto ops = test::make_history(o);
  // Corrupt some outputs: copy another op's output, or swap the witness order.
  int corruptions = *rc::gen::inRange(0, 3);
  test::TestRng rng(o.seed + 1);
  for (int c = 0; c < corruptions; ++c) {
    auto& victim = ops[rng.next() % ops.size()];
    const auto& donor = ops[rng.next() % ops.size()];
    if (victim.status == OpStatus::kOk) victim.output = donor.output;
    auto& other = ops[rng.next() % ops.size()];
    std::swap(victim.effect_seq, other.effect_seq);
  }
  auto m = make_model(model);
  bool expected = brute_force_linearizable(ops, *m);
  LinearizabilityResult r = check(ops, model);
  RC_CLASSIFY(expected, "linearizable");
  RC_ASSERT(r.verdict == (expected ? Verdict::kOk : Verdict::kViolated));
}

RC_GTEST_PROP(Linearizability, TheRealTimeRefutationAgreesWithTheSearch, ()) {
  // Register and kv histories, correct or corrupted, larger than the brute force can take: the
  // refutation (step 3) must never reject what the search alone accepts, nor the reverse.
  std::string model = *rc::gen::element(std::string("register"), std::string("kv"));
  test::GenOptions o = gen_options(model);
  o.ops = *rc::gen::inRange(1, 80);
  o.witness = false;
  if (model == "register") o.value_domain = *rc::gen::element(0, 2, 3);
  auto ops = test::make_history(o);
  int corruptions = *rc::gen::inRange(0, 3);
  test::TestRng rng(o.seed + 7);
  for (int c = 0; c < corruptions; ++c) {
    auto& victim = ops[rng.next() % ops.size()];
    const auto& donor = ops[rng.next() % ops.size()];
    if (victim.status == OpStatus::kOk) victim.output = donor.output;
  }
  LinearizabilityOptions search_only;
  search_only.use_refutation = false;
  LinearizabilityResult with = check(ops, model);
  LinearizabilityResult without = check(ops, model, search_only);
  bool refuted = false;
  for (const auto& p : with.partitions) refuted = refuted || p.method == CheckMethod::kRefuted;
  RC_CLASSIFY(refuted, "refuted");
  RC_ASSERT(with.verdict == without.verdict);
}

RC_GTEST_PROP(Linearizability, TheElementRefutationAgreesWithTheSearch, ()) {
  // Set and list histories, correct or corrupted: the element refutation (step 3) must never
  // reject what the search alone accepts, nor the reverse.
  std::string model = *rc::gen::element(std::string("set"), std::string("list"));
  test::GenOptions o = gen_options(model);
  o.ops = *rc::gen::inRange(1, 60);
  o.witness = false;
  auto ops = test::make_history(o);
  int corruptions = *rc::gen::inRange(0, 3);
  test::TestRng rng(o.seed + 11);
  for (int c = 0; c < corruptions; ++c) {
    auto& victim = ops[rng.next() % ops.size()];
    const auto& donor = ops[rng.next() % ops.size()];
    if (victim.status == OpStatus::kOk && victim.kind == "read") victim.output = donor.output;
  }
  LinearizabilityOptions search_only;
  search_only.use_refutation = false;
  LinearizabilityResult with = check(ops, model);
  LinearizabilityResult without = check(ops, model, search_only);
  bool refuted = false;
  for (const auto& p : with.partitions) refuted = refuted || p.method == CheckMethod::kRefuted;
  RC_CLASSIFY(refuted, "refuted");
  RC_ASSERT(with.verdict == without.verdict);
}

TEST(Linearizability, RefutesALostAddAndAnOutOfOrderAppendWithoutSearching) {
  // add(a) and add(b) are acknowledged; a later read sees only a; a remove of b that begins after
  // the read ended cannot explain it.
  std::vector<sim::Operation> ops(4);
  ops[0] = op(1, "c1", "s", "add", "a", "", millis(0), millis(1), OpStatus::kOk);
  ops[1] = op(2, "c2", "s", "add", "b", "", millis(0), millis(1), OpStatus::kOk);
  ops[2] = op(3, "c3", "s", "read", "", "a", millis(2), millis(3), OpStatus::kOk);
  ops[3] = op(4, "c4", "s", "remove", "b", "", millis(4), millis(5), OpStatus::kOk);
  LinearizabilityResult r = check(ops, "set");
  ASSERT_EQ(r.verdict, Verdict::kViolated);
  EXPECT_EQ(r.partitions[0].method, CheckMethod::kRefuted);
  EXPECT_EQ(r.partitions[0].steps, 0u);
  EXPECT_NE(r.partitions[0].explanation.find("is missing 1 element whose add was acknowledged "
                                             "before it began"),
            std::string::npos)
      << r.partitions[0].explanation;
  // A remove of b that may come before the read ends explains it: the search decides (ok).
  ops[3].invoke = millis(2);
  EXPECT_EQ(check(ops, "set").verdict, Verdict::kOk);

  // A list read that shows y before x, where x's append completed before y's began.
  std::vector<sim::Operation> list(3);
  list[0] = op(1, "c1", "l", "append", "x", "", millis(0), millis(1), OpStatus::kOk);
  list[1] = op(2, "c2", "l", "append", "y", "", millis(2), millis(3), OpStatus::kOk);
  list[2] = op(3, "c3", "l", "read", "", "y,x", millis(4), millis(5), OpStatus::kOk);
  LinearizabilityResult l = check(list, "list");
  ASSERT_EQ(l.verdict, Verdict::kViolated);
  EXPECT_EQ(l.partitions[0].method, CheckMethod::kRefuted);
  EXPECT_NE(l.partitions[0].explanation.find("shows y before x"), std::string::npos)
      << l.partitions[0].explanation;
}

TEST(Linearizability, RefutesAStaleReadByRealTimeOrder) {
  // w(1) completes, then w(2) runs and completes, then a read returns 1.
  std::vector<sim::Operation> ops(3);
  ops[0] = op(1, "a", "r", "write", "1", "", millis(0), millis(1), OpStatus::kOk);
  ops[1] = op(2, "b", "r", "write", "2", "", millis(2), millis(3), OpStatus::kOk);
  ops[2] = op(3, "c", "r", "read", "", "1", millis(4), millis(5), OpStatus::kOk);
  LinearizabilityResult r = check(ops, "register");
  ASSERT_EQ(r.verdict, Verdict::kViolated);
  const PartitionReport& p = r.partitions[0];
  EXPECT_EQ(p.method, CheckMethod::kRefuted);
  EXPECT_EQ(p.blocked_op, 3u);
  EXPECT_EQ(
      p.explanation,
      "read #3 by c returned 1 (began at 0.004000s), but write #1 by a wrote it and completed "
      "at 0.001000s, before write #2 by b (of 2) began at 0.002000s and completed at "
      "0.003000s, before the read began. No linearization can order it (the register "
      "model).");
  ASSERT_EQ(p.timeline.size(), 3u);
  EXPECT_EQ(p.timeline.back(),
            "[0.004000s, 0.005000s] #3 c read -> 1 ok   <- cannot be linearized");
}

TEST(Linearizability, AWriteOfUnknownOutcomeIsNeverRefuted) {
  // The same, but w(1)'s outcome is unknown: it may take effect after w(2), so the read is fine.
  std::vector<sim::Operation> ops(3);
  ops[0] = op(1, "a", "r", "write", "1", "", millis(0), millis(1), OpStatus::kUnknown);
  ops[1] = op(2, "b", "r", "write", "2", "", millis(2), millis(3), OpStatus::kOk);
  ops[2] = op(3, "c", "r", "read", "", "1", millis(4), millis(5), OpStatus::kOk);
  EXPECT_EQ(check(ops, "register").verdict, Verdict::kOk);
  // And a read of a value no write had begun to write by the read's end is refuted.
  ops[0].status = OpStatus::kOk;
  ops[2].output = "3";
  LinearizabilityResult r = check(ops, "register");
  EXPECT_EQ(r.verdict, Verdict::kViolated);
  EXPECT_EQ(r.partitions[0].method, CheckMethod::kRefuted);
  EXPECT_NE(r.partitions[0].explanation.find("no write begun before it ended wrote that value"),
            std::string::npos)
      << r.partitions[0].explanation;
}

// ---------------------------------------------------------------------------------------------
// Planted violations: always rejected, with evidence.

RC_GTEST_PROP(Linearizability, RejectsPlantedViolationsOfEveryModel, ()) {
  std::string model =
      *rc::gen::elementOf(std::vector<std::string>(std::begin(kModels), std::end(kModels)));
  test::GenOptions o = gen_options(model);
  auto ops = test::make_history(o);
  test::TestRng rng(o.seed ^ 0xabcdef);
  sim::OpId bad = test::plant_violation(ops, model, rng);
  LinearizabilityResult r = check(ops, model);
  RC_LOG() << "planted at op " << bad << "\n" << r.report();
  for (const auto& op : ops) RC_LOG() << format_op_line(op) << "\n";
  RC_ASSERT(r.verdict == Verdict::kViolated);
  // The violated partition is the planted op's, and it explains itself.
  const sim::Operation& planted = ops[bad - 1];
  RC_ASSERT(planted.id == bad);
  auto it = std::find_if(r.partitions.begin(), r.partitions.end(),
                         [](const PartitionReport& p) { return p.verdict != Verdict::kOk; });
  RC_ASSERT(it != r.partitions.end());
  RC_ASSERT(it->key == planted.key);
  RC_ASSERT(it->blocked_op != 0u);
  RC_ASSERT(!it->explanation.empty());
  RC_ASSERT(!it->timeline.empty());
  RC_ASSERT(it->longest_prefix.size() < it->ops);
}

RC_GTEST_PROP(Linearizability, ALostIncrementIsCaught, ()) {
  // Drop one completed increment's effect: a later read and the later increments' outputs can
  // no longer all be explained.
  test::GenOptions o = gen_options("counter");
  o.read_rate = 0.3;
  o.fail_rate = 0;
  o.unknown_rate = 0;
  o.keys = 1;
  o.ops = *rc::gen::inRange(2, 200);
  auto ops = test::make_history(o);
  // The increment that took effect first: make every increment/read after it see one less, as
  // if it had been lost (its own output stays).
  auto first = std::min_element(ops.begin(), ops.end(), [](const auto& a, const auto& b) {
    return a.effect_seq < b.effect_seq;
  });
  RC_PRE(first->kind == "increment");
  std::int64_t delta = first->input.empty() ? 1 : std::stoll(first->input);
  bool later_increment = false;
  for (auto& op : ops) {
    if (op.effect_seq > first->effect_seq) {
      op.output = std::to_string(std::stoll(op.output) - delta);
      later_increment = later_increment || op.kind == "increment";
    }
  }
  RC_PRE(later_increment);
  // The first increment returned its delta (it saw 0), and a later increment returned a total
  // without it: whichever of the two goes first, the other saw the wrong value.
  RC_ASSERT(check(ops, "counter").verdict == Verdict::kViolated);
}

TEST(Linearizability, ExplainsAStaleCounterRead) {
  // c1 increments to 4 (#7 completes at 11ms); c3 reads 3 at 12ms, after that.
  std::vector<sim::Operation> ops;
  auto add = [&](std::string client, std::string kind, std::string out, sim::Time from,
                 sim::Time to) {
    sim::Operation op;
    op.id = ops.size() + 1;
    op.client = std::move(client);
    op.object = "counter";
    op.kind = std::move(kind);
    op.output = std::move(out);
    op.invoke = from;
    op.complete = to;
    op.status = OpStatus::kOk;
    ops.push_back(op);
  };
  add("c1", "increment", "1", millis(0), millis(1));    // #1
  add("c2", "read", "1", millis(1.5), millis(2));       // #2
  add("c1", "increment", "2", millis(2), millis(3));    // #3
  add("c2", "read", "2", millis(3.5), millis(4));       // #4
  add("c1", "increment", "3", millis(5), millis(6));    // #5
  add("c2", "read", "3", millis(7), millis(8));         // #6
  add("c1", "increment", "4", millis(10), millis(11));  // #7
  add("c3", "read", "3", millis(12), millis(13));       // #8
  CounterModel model;
  auto r = check_linearizability(ops, model);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->verdict, Verdict::kViolated);
  ASSERT_EQ(r->partitions.size(), 1u);
  const PartitionReport& p = r->partitions[0];
  EXPECT_EQ(p.blocked_op, 8u);
  EXPECT_EQ(p.longest_prefix, (std::vector<sim::OpId>{1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(p.state_after_prefix, "4");
  EXPECT_NE(p.explanation.find("read #8 by c3 returned 3 after increment #7 by c1 completed with "
                               "4; the counter model expects 4 there (it is 1 lower: increments "
                               "that took effect before it are missing)."),
            std::string::npos)
      << p.explanation;
  EXPECT_NE(p.explanation.find("covers 7 of 8 operations"), std::string::npos) << p.explanation;
  // No witness was recorded: the search decided.
  EXPECT_EQ(p.method, CheckMethod::kSearch);
  ASSERT_FALSE(p.timeline.empty());
  EXPECT_EQ(p.timeline.back(),
            "[0.012000s, 0.013000s] #8 c3 read -> 3 ok   <- cannot follow the longest "
            "linearization");
  std::string report = r->report();
  EXPECT_NE(report.find("linearizability: violated"), std::string::npos) << report;
  EXPECT_NE(report.find("#7 c1 increment -> 4 ok   <- last in the longest linearization"),
            std::string::npos)
      << report;
}

// A set read that lost acknowledged adds says which elements are missing, not two lists to diff.
TEST(Linearizability, ExplainsALostAddAsTheMissingElements) {
  std::vector<sim::Operation> ops;
  auto add = [&](std::string kind, std::string in, std::string out, sim::Time from, sim::Time to) {
    sim::Operation op;
    op.id = ops.size() + 1;
    op.client = "c" + std::to_string(op.id);
    op.object = "tags";
    op.kind = std::move(kind);
    op.input = std::move(in);
    op.output = std::move(out);
    op.invoke = from;
    op.complete = to;
    op.status = OpStatus::kOk;
    ops.push_back(op);
  };
  add("add", "a", "", millis(0), millis(1));
  add("add", "b", "", millis(0), millis(1));
  add("add", "c", "", millis(0), millis(1));
  add("read", "", "a,x", millis(2), millis(3));
  SetModel model;
  auto r = check_linearizability(ops, model);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->verdict, Verdict::kViolated);
  ASSERT_EQ(r->partitions.size(), 1u);
  // Decided by the element refutation, which names the difference in the user's terms.
  EXPECT_EQ(r->partitions[0].method, CheckMethod::kRefuted);
  EXPECT_NE(r->partitions[0].explanation.find("is missing 2 elements whose add was acknowledged "
                                              "before it began, with nothing that could have "
                                              "removed them: b, c (lost acknowledged writes)"),
            std::string::npos)
      << r->partitions[0].explanation;
  EXPECT_NE(r->partitions[0].explanation.find("holds x, which no add begun before it ended"),
            std::string::npos)
      << r->partitions[0].explanation;
  // The search, alone, says it with the model's difference.
  LinearizabilityOptions search_only;
  search_only.use_refutation = false;
  auto s = check_linearizability(ops, model, search_only);
  ASSERT_TRUE(s.ok());
  EXPECT_NE(s->partitions[0].explanation.find("(missing: b, c; unexpected: x)"), std::string::npos)
      << s->partitions[0].explanation;
  EXPECT_EQ(model.difference("a,b", "a,b"), "");
  EXPECT_EQ(CounterModel().difference("3", "5"),
            "it is 2 higher: increments were counted that no operation before it explains");
}

TEST(Linearizability, ExplainsWhyTheWitnessWasRejected) {
  // A register: w(1) completes, then w(2) runs; the recorded effect order claims w(2) first.
  std::vector<sim::Operation> ops(3);
  ops[0] = op(1, "a", "r", "write", "1", "", millis(0), millis(1), OpStatus::kOk, 2);
  ops[1] = op(2, "b", "r", "write", "2", "", millis(2), millis(3), OpStatus::kOk, 1);
  ops[2] = op(3, "a", "r", "read", "", "2", millis(4), millis(5), OpStatus::kOk, 3);
  RegisterModel model;
  auto r = check_linearizability(ops, model);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->verdict, Verdict::kOk);  // the search finds w1, w2, read
  const PartitionReport& p = r->partitions[0];
  EXPECT_EQ(p.method, CheckMethod::kSearch);
  EXPECT_EQ(p.witness_note,
            "the recorded effect order puts write #1 by a after write #2 by b, but it completed "
            "at 0.001000s, before write #2 by b was invoked at 0.002000s");
}

TEST(Linearizability, UnknownAndFailedOperations) {
  // A failed write never took effect; an unknown one may have, at any later time.
  std::vector<sim::Operation> ops(4);
  ops[0] = op(1, "a", "r", "write", "x", "", millis(0), millis(1), OpStatus::kFail, 0);
  ops[1] = op(2, "b", "r", "write", "y", "", millis(0), sim::kTimeMax, OpStatus::kUnknown, 0);
  ops[2] = op(3, "c", "r", "read", "", "null", millis(5), millis(6), OpStatus::kOk, 0);
  ops[3] = op(4, "c", "r", "read", "", "y", millis(50), millis(60), OpStatus::kOk, 0);
  RegisterModel model;
  auto r = check_linearizability(ops, model);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->verdict, Verdict::kOk) << r->report();
  EXPECT_EQ(r->partitions[0].ops_dropped, 1u);
  // Reading the failed write's value is impossible.
  ops[3].output = "x";
  r = check_linearizability(ops, model);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->verdict, Verdict::kViolated) << r->report();
  EXPECT_NE(r->partitions[0].explanation.find("read #4 by c returned x"), std::string::npos)
      << r->partitions[0].explanation;
}

TEST(Linearizability, StepsBoundGivesUnknownNotAPass) {
  test::GenOptions o;
  o.model = "register";
  o.ops = 400;
  o.witness = false;
  o.value_domain = 2;
  auto ops = test::make_history(o);
  RegisterModel model;
  LinearizabilityOptions tight;
  tight.steps_max = 10;
  auto r = check_linearizability(ops, model, tight);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->verdict, Verdict::kUnknown);
  EXPECT_NE(r->partitions[0].explanation.find("gave up after 10 model steps"), std::string::npos)
      << r->partitions[0].explanation;
}

TEST(Linearizability, PartitionsByObjectAndKeyInOrder) {
  std::vector<sim::Operation> ops;
  for (int i = 0; i < 6; ++i) {
    sim::Operation op;
    op.id = i + 1;
    op.client = "c";
    op.object = i % 2 == 0 ? "b" : "a";
    op.key = "k" + std::to_string(i % 3);
    op.kind = "put";
    op.input = "v";
    op.invoke = millis(i);
    op.complete = millis(i) + 1;
    op.status = OpStatus::kOk;
    ops.push_back(op);
  }
  KvModel model;
  auto r = check_linearizability(ops, model);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->partitions.size(), 6u);
  std::vector<std::string> seen;
  for (const auto& p : r->partitions) seen.push_back(p.object + "/" + p.key);
  EXPECT_EQ(seen, (std::vector<std::string>{"a/k0", "a/k1", "a/k2", "b/k0", "b/k1", "b/k2"}));
}

TEST(Linearizability, ModelPerObjectAndSkippedObjects) {
  std::vector<sim::Operation> ops(2);
  ops[0] = op(1, "a", "ctr", "increment", "", "1", 0, 10, OpStatus::kOk, 0);
  ops[1] = op(2, "a", "other", "frobnicate", "", "?", 0, 10, OpStatus::kOk, 0);
  CounterModel counter;
  auto r = check_linearizability(ops, [&](const std::string& object) -> const Model* {
    return object == "ctr" ? &counter : nullptr;
  });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->verdict, Verdict::kOk);
  EXPECT_EQ(r->partitions.size(), 1u);
  // With a model for it, an unknown kind is illegal and named.
  r = check_linearizability(ops, counter);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->verdict, Verdict::kViolated);
  EXPECT_NE(r->report().find("frobnicate #2 by a (input \"\") is not a legal counter operation"),
            std::string::npos)
      << r->report();
}

TEST(Linearizability, MalformedHistoryIsAnError) {
  std::vector<sim::Operation> ops(1);
  ops[0] = op(1, "a", "r", "read", "", "null", millis(5), millis(1), OpStatus::kOk, 0);
  RegisterModel model;
  auto r = check_linearizability(ops, model);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, sim::ErrorKind::kInvalid);
  EXPECT_NE(r.error().message.find("completes at 0.001000s, before it was invoked"),
            std::string::npos);
}

TEST(Linearizability, OperationsAtOneInstantAreConcurrent) {
  // b's invoke equals a's completion: either order may have happened.
  std::vector<sim::Operation> ops(3);
  ops[0] = op(1, "a", "r", "write", "1", "", 0, 10, OpStatus::kOk, 0);
  ops[1] = op(2, "b", "r", "write", "2", "", 10, 20, OpStatus::kOk, 0);
  ops[2] = op(3, "c", "r", "read", "", "1", 30, 40, OpStatus::kOk, 0);
  RegisterModel model;
  auto r = check_linearizability(ops, model);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->verdict, Verdict::kOk);
  ops[1].invoke = 11;  // now strictly after: w1, w2, read(1) is impossible
  r = check_linearizability(ops, model);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->verdict, Verdict::kViolated);
}

TEST(Linearizability, StopAtFirstViolation) {
  std::vector<sim::Operation> ops(3);
  ops[0] = op(1, "a", "a", "read", "", "7", 0, 10, OpStatus::kOk, 0);
  ops[1] = op(2, "a", "b", "read", "", "7", 0, 10, OpStatus::kOk, 0);
  ops[2] = op(3, "a", "c", "read", "", "null", 0, 10, OpStatus::kOk, 0);
  RegisterModel model;
  LinearizabilityOptions o;
  o.stop_at_first_violation = true;
  auto r = check_linearizability(ops, model, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->verdict, Verdict::kViolated);
  ASSERT_EQ(r->partitions.size(), 3u);
  EXPECT_EQ(r->partitions[1].method, CheckMethod::kSkipped);
  EXPECT_EQ(r->partitions[2].method, CheckMethod::kSkipped);
}

}  // namespace
}  // namespace props
