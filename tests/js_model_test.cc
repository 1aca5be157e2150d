// A linearizability model written in JS (scenarios/js_model.h), checked against histories.
#include "scenarios/js_model.h"

#include <gtest/gtest.h>

#include "props/linearizability.h"

namespace {

const char kBoundedCounter[] = R"js(
export function init() { return {n: 0}; }
export function step(s, op) {
  if (op.kind === 'read') return {state: s, output: String(s.n)};
  if (op.kind !== 'increment' || s.n >= 2) return {legal: false};
  return {state: {n: s.n + 1}, output: String(s.n + 1)};
}
export function readOnly(op) { return op.kind === 'read'; }
)js";

sim::Operation op(sim::OpId id, std::string kind, std::string output, sim::Time a, sim::Time b) {
  sim::Operation o;
  o.id = id;
  o.client = "c" + std::to_string(id);
  o.object = "x";
  o.kind = std::move(kind);
  o.output = std::move(output);
  o.invoke = a;
  o.complete = b;
  o.status = sim::OpStatus::kOk;
  return o;
}

TEST(JsModel, StepsAndVerdicts) {
  auto m = scenarios::JsModel::load({{"m.js", kBoundedCounter}}, "m.js");
  ASSERT_TRUE(m.ok()) << m.error().message;
  const scenarios::JsModel& model = *m.value();
  EXPECT_EQ(model.init(), R"({"n":0})");
  props::StepResult r = model.step(model.init(), op(1, "increment", "1", 0, 1));
  EXPECT_TRUE(r.legal);
  EXPECT_EQ(r.state, R"({"n":1})");
  EXPECT_EQ(r.output, "1");
  EXPECT_FALSE(model.step(R"({"n":2})", op(1, "increment", "3", 0, 1)).legal);
  EXPECT_TRUE(model.read_only(op(1, "read", "0", 0, 1)));
  EXPECT_FALSE(model.read_only(op(1, "increment", "0", 0, 1)));

  // Two increments then a read of 2: linearizable. A third increment: illegal in every order.
  std::vector<sim::Operation> h = {op(1, "increment", "1", 0, 10), op(2, "increment", "2", 5, 20),
                                   op(3, "read", "2", 30, 40)};
  auto ok = props::check_linearizability(h, model);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->verdict, props::Verdict::kOk);
  h.push_back(op(4, "increment", "3", 50, 60));
  auto bad = props::check_linearizability(h, model);
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->verdict, props::Verdict::kViolated);
}

TEST(JsModel, BadModulesAreErrorsNamingTheFile) {
  auto syntax = scenarios::JsModel::load({{"m.js", "export function init( {"}}, "m.js");
  ASSERT_FALSE(syntax.ok());
  EXPECT_NE(syntax.error().message.find("m.js:1"), std::string::npos) << syntax.error().message;
  auto no_init = scenarios::JsModel::load({{"m.js", "export function step() {}"}}, "m.js");
  ASSERT_FALSE(no_init.ok());
  EXPECT_NE(no_init.error().message.find("init"), std::string::npos);
}

// A step() that runs past the model's CPU limit once aborted the process after the whole run
// (the dead isolate was called again). Now the model records the failure, names the file and the
// function, and answers "illegal" without running again.
TEST(JsModel, AStepPastTheCpuLimitIsAFailureNotACrash) {
  auto m = scenarios::JsModel::load({{"m.js", R"js(
export function init() { return 0; }
export function step(s, op) { if (op.kind === 'spin') for (;;) {} return {state: s, output: ''}; }
)js"}},
                                    "m.js");
  ASSERT_TRUE(m.ok()) << m.error().message;
  const scenarios::JsModel& model = *m.value();
  EXPECT_TRUE(model.step("0", op(1, "read", "", 0, 1)).legal);
  EXPECT_FALSE(model.step("0", op(2, "spin", "", 0, 1)).legal);
  EXPECT_EQ(model.failure().rfind("m.js: step(): exceeded the model's CPU or memory limit", 0), 0u)
      << model.failure();
  EXPECT_FALSE(model.step("0", op(3, "read", "", 0, 1)).legal);  // no call on the dead isolate
  EXPECT_FALSE(model.read_only(op(3, "read", "", 0, 1)));
  auto looping_init =
      scenarios::JsModel::load({{"m.js", "export function init() { for (;;) {} }"}}, "m.js");
  ASSERT_FALSE(looping_init.ok());
  EXPECT_EQ(looping_init.error().message.rfind("m.js: init(): exceeded", 0), 0u)
      << looping_init.error().message;
}

}  // namespace
